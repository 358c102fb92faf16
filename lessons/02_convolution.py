# %% [markdown]
# # Lesson 02 — Convolution
# The article's formula F3 read three ways (as written, as sliding windows, as an im2col matrix product), all equal to F.conv2d; edge filters on a chest film; the backward pass; the fast path.
#
# Article 004 §3.1.1.1 (formula F3) writes the convolution layer as
#
# $$y_{ij} = \sum_{k=1}^{K} x_{ik} * w_{kj} + b_j$$
#
# "where $y_{ij}$ is an element of the output feature map, $x_{ik}$ an element of the input feature
# map, $w_{kj}$ an element of the kernel, $b_j$ the bias and $K$ the size of the kernel."  Article 001
# §3.1.1.1 says the same in words: *apply weights and a bias to the input image and sum, giving the
# output feature map.*
#
# Taken literally, F3 is a matrix product, not a convolution: nothing in it slides.  It becomes
# exactly a convolution once we say what the indices are:
#
# - row $i$ is one **output position** (one pixel of the output map);
# - $x_{ik}$ is entry $k$ of the **window** (the patch of input pixels, over all input channels) under position $i$;
# - column $j$ is one **filter** (output channel), and $w_{kj}$ is its weight for window entry $k$;
# - $K$ is the number of entries in a window: channels × kernel height × kernel width.
#
# **Reading the `*`.**  We read the article's `*` as an ordinary product of two numbers.  That is our
# interpretation -- the article does not say -- and `*` is also the usual sign for the convolution
# operator itself ($f * g$).  We read it as a product for three reasons: the article calls
# $x_{ik}$, $w_{kj}$ and $y_{ij}$ each "an element" of its map or kernel, that is, single numbers,
# and the convolution of two numbers is simply their product; the sum $\sum_k$ already does the
# summing a convolution does, which a convolution sign would do a second time; and the sentence
# before the formula says the kernel extracts features "by sliding and multiplying by the weights"
# (通过滑动和权重的乘积).  Read so, the same weights $w_{kj}$ are used at every position $i$: that
# weight sharing is what makes F3 a convolution.  Section 2 computes F3 as printed, `*` as a
# product, and it matches `F.conv2d`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import chest_phantoms
from tinymed.gradcheck import check
from tinymed.kernels.reference.conv import col2im, im2col
from tinymed.lessons import quick, save_figure

size = 32 if quick() else 64
films, labels = chest_phantoms(8, size=size, seed=3, difficulty="easy")
image = films[np.flatnonzero(labels == 1)[2]].astype(np.float64)   # (1, H, W): one channel
print(f"a chest phantom with an opacity: shape {image.shape}, values in [{image.min():.2f}, {image.max():.2f}]")

# %% [markdown]
# Three 3×3 filters: Sobel for horizontal edges (brightness changing from top to bottom, such as
# the diaphragm and the ribs), Sobel for vertical edges (the heart border, the sides of the chest)
# and a smoothing filter (a weighted average of the neighbourhood).  Their weights have shape
# (out_channels, in_channels, kH, kW) = (3, 1, 3, 3), PyTorch's layout.

# %%
sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=np.float64)
smooth = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=np.float64) / 16
w = np.stack([sobel_y, sobel_y.T, smooth])[:, None]   # (3, 1, 3, 3)
b = np.array([0.1, -0.1, 0.0])
stride, padding = 1, 1
w.shape

# %% [markdown]
# ## 1. Sliding windows
#
# The picture everyone draws: slide the 3×3 window over the (zero-padded) image; at each position
# multiply the window by the filter element by element and add up, plus the bias.  With stride $S$
# and padding $P$ the output has
#
# $$OH = \left\lfloor \frac{H + 2P - KH}{S} \right\rfloor + 1$$
#
# rows (and likewise columns).  Like PyTorch, tinymed does not flip the filter (strictly speaking
# this is cross-correlation; deep learning calls it convolution because learned filters do not care).

# %%
def conv2d_sliding_windows(x, w, b, stride, padding):
    """x (C, H, W), w (K, C, KH, KW), b (K,) -> y (K, OH, OW), one window at a time."""
    C, H, W = x.shape
    K, _, KH, KW = w.shape
    xpad = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - KH) // stride + 1
    OW = (W + 2 * padding - KW) // stride + 1
    y = np.empty((K, OH, OW))
    for j in range(K):
        for oh in range(OH):
            for ow in range(OW):
                window = xpad[:, oh * stride : oh * stride + KH, ow * stride : ow * stride + KW]
                y[j, oh, ow] = np.sum(window * w[j]) + b[j]
    return y


start = time.perf_counter()
y_windows = conv2d_sliding_windows(image, w, b, stride, padding)
t_windows = time.perf_counter() - start
y_windows.shape

# %% [markdown]
# ## 2. F3 as written
#
# Now build the matrix $x_{ik}$ of the article: one row per output position, holding that
# position's window.  This rearrangement is called **im2col** ("image to columns"); tinymed's
# reference kernel `im2col` returns the windows as an array `(N, C, KH, KW, OH, OW)`, which we
# reshape to rows.  The filters become the matrix $w_{kj}$, one column per filter.  Then we
# evaluate F3 exactly as printed: for every $i$ and $j$, a sum over $k$.

# %%
K_out, C_in, KH, KW = w.shape
windows = im2col(image[None], KH, KW, (stride, stride), (padding, padding), (1, 1))  # (1, C, KH, KW, OH, OW)
OH, OW = windows.shape[-2:]
x_ik = windows.reshape(C_in * KH * KW, OH * OW).T    # row i = output position, column k = window entry
w_kj = w.reshape(K_out, C_in * KH * KW).T             # column j = one filter
print(f"x_ik: {x_ik.shape} (positions x window entries), w_kj: {w_kj.shape} (window entries x filters)")


def f3_as_written(x_ik, w_kj, b):
    n_positions, K = x_ik.shape
    y = np.empty((n_positions, w_kj.shape[1]))
    for i in range(n_positions):
        for j in range(w_kj.shape[1]):
            y[i, j] = sum(x_ik[i, k] * w_kj[k, j] for k in range(K)) + b[j]
    return y


start = time.perf_counter()
y_ij = f3_as_written(x_ik, w_kj, b)
t_f3 = time.perf_counter() - start
y_f3 = y_ij.T.reshape(K_out, OH, OW)   # back to feature maps: (filters, OH, OW)

# %% [markdown]
# ## 3. im2col: one matrix product
#
# The double loop over $i, j$ with a sum over $k$ *is* the matrix product $Y = X W + b$, which a
# BLAS library computes far faster than any Python loop.  This is how tinymed's reference kernel
# computes a convolution (`tinymed/kernels/reference/conv.py`), and it is the same formula as a
# dense layer (F1) applied to every window with shared weights.

# %%
start = time.perf_counter()
y_matmul = (x_ik @ w_kj + b).T.reshape(K_out, OH, OW)
t_matmul = time.perf_counter() - start

y_tinymed = F.conv2d(Tensor(image[None]), Tensor(w), Tensor(b), stride=stride, padding=padding).numpy()[0]
for name, y, seconds in (("sliding windows", y_windows, t_windows), ("F3 as written", y_f3, t_f3),
                         ("im2col matmul", y_matmul, t_matmul)):
    print(f"{name:16s} {seconds * 1e3:9.2f} ms   max |y - F.conv2d| = {np.max(np.abs(y - y_tinymed)):.1e}")
    assert np.max(np.abs(y - y_tinymed)) < 1e-12

# %% [markdown]
# The output-size formula, checked on F.conv2d for a few strides and paddings:

# %%
for s, p in ((1, 0), (1, 1), (2, 0), (2, 1), (3, 2)):
    got = F.conv2d(Tensor(image[None]), Tensor(w), stride=s, padding=p).shape[-2:]
    expected = ((size + 2 * p - 3) // s + 1,) * 2
    print(f"stride {s}, padding {p}: {size}x{size} -> {got[0]}x{got[1]}")
    assert got == expected

# %% [markdown]
# ## 4. Feature maps
#
# Each filter turns the film into a map of where its pattern occurs.  A 3×3 Sobel filter on the
# raw film mostly finds the quantum noise, so we first smooth with a 5×5 Gaussian filter (another
# convolution, whose weights are positive and sum to 1) and then apply the two Sobel filters:
# two convolutions stacked, as in a CNN.  Red and blue in a Sobel map are edges of opposite
# direction (dark-to-bright and bright-to-dark); combining the two maps into the edge strength
# $\sqrt{g_x^2 + g_y^2}$ outlines the lungs, the heart, the ribs and the opacity.  No padding
# (`padding=0`) here: zeros around the film would draw an edge along its border.

# %%
g = np.exp(-0.5 * (np.arange(-2, 3) / 1.2) ** 2)
gaussian = (np.outer(g, g) / np.outer(g, g).sum())[None, None]   # (1, 1, 5, 5)
smoothed = F.conv2d(Tensor(image[None]), Tensor(gaussian))
edges = F.conv2d(smoothed, Tensor(w[:2])).numpy()[0]             # (2, H-6, W-6)
maps = [(smoothed.numpy()[0, 0], "smoothed (5x5 Gaussian)", "gray"),
        (edges[0], "horizontal edges (Sobel)", "RdBu_r"),
        (edges[1], "vertical edges (Sobel)", "RdBu_r"),
        (np.hypot(edges[0], edges[1]), "edge strength", "magma")]
fig, axes = plt.subplots(1, 5, figsize=(16, 3.6))
axes[0].imshow(image[0], cmap="gray")
axes[0].set_title("chest phantom (input)")
for ax, (fmap, name, cmap) in zip(axes[1:], maps):
    limit = np.percentile(np.abs(fmap), 99)
    ax.imshow(fmap, cmap=cmap, vmin=-limit if cmap == "RdBu_r" else None, vmax=limit)
    ax.set_title(name, fontsize=10)
for ax in axes:
    ax.axis("off")
fig.tight_layout()
save_figure(fig, "02_feature_maps.png", dpi=100)

# %% [markdown]
# ## 5. The backward pass
#
# Since the forward pass is $Y = XW + b$, its gradients are those of a matrix product
# (given $dY = \partial L/\partial Y$):
#
# $$dW = X^\top dY, \qquad db_j = \sum_i dY_{ij}, \qquad dX = dY\, W^\top$$
#
# $dX$ is the gradient for each *window entry*.  A pixel sits in several windows (nine, for a 3×3
# filter with stride 1), so its gradient is the sum over all windows that contain it.  **col2im**,
# the adjoint of im2col, adds each window entry back onto its pixel.

# %%
rng = np.random.default_rng(0)
dY_maps = rng.standard_normal((K_out, OH, OW))             # an upstream gradient dL/dy
dY = dY_maps.reshape(K_out, OH * OW).T                     # as the matrix dY_ij
dW_by_hand = (x_ik.T @ dY).T.reshape(w.shape)
db_by_hand = dY.sum(axis=0)
dX = dY @ w_kj.T                                           # (positions, window entries)
dx_by_hand = col2im(dX.T.reshape(1, C_in, KH, KW, OH, OW), (1,) + image.shape,
                    (stride, stride), (padding, padding), (1, 1))[0]

x_t, w_t, b_t = (Tensor(a.copy(), requires_grad=True) for a in (image[None], w, b))
F.conv2d(x_t, w_t, b_t, stride=stride, padding=padding).backward(dY_maps[None])
for name, by_hand, auto in (("dx", dx_by_hand, x_t.grad[0]), ("dw", dW_by_hand, w_t.grad),
                            ("db", db_by_hand, b_t.grad)):
    print(f"{name}: max |by hand - autograd| = {np.max(np.abs(by_hand - auto)):.1e}")
    assert np.allclose(by_hand, auto, rtol=1e-12, atol=1e-12)

# %% [markdown]
# How many windows cover each pixel?  Push ones through col2im and count.  With stride 1 the
# inside pixels are in 9 windows; with stride 2 the count alternates between 1, 2 and 4, which is
# one reason strided convolutions can leave checkerboard patterns in their gradients.

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
coverage = {}
for ax, s in zip(axes, (1, 2)):
    oh = (12 + 2 - 3) // s + 1
    coverage[s] = col2im(np.ones((1, 1, 3, 3, oh, oh)), (1, 1, 12, 12), (s, s), (1, 1), (1, 1))[0, 0]
    shown = ax.imshow(coverage[s], cmap="viridis", vmin=0, vmax=9)
    ax.set_title(f"stride {s}, padding 1")
    ax.axis("off")
fig.suptitle("How many 3x3 windows contain each pixel of a 12x12 image")
fig.colorbar(shown, ax=axes, shrink=0.8)
save_figure(fig, "02_window_coverage.png", dpi=100)
assert coverage[1][1:-1, 1:-1].min() == 9 and set(np.unique(coverage[2])) <= {1.0, 2.0, 4.0}

# %% [markdown]
# Finally the gradient check (F2): every element of $dx$, $dw$ and $db$ against central
# differences, on a small case with two images, two input channels, stride 2 and padding 1.

# %%
x_small = Tensor(rng.standard_normal((2, 2, 7, 7)), requires_grad=True)
w_small = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
b_small = Tensor(rng.standard_normal(3), requires_grad=True)
report = check(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), x_small, w_small, b_small)
print(report)
assert report.passed

# %% [markdown]
# ## 6. The fast path: Numba against the reference
#
# The reference kernel is the readable definition.  The `numba` backend runs the same im2col
# scheme as compiled loops around the same BLAS products (`tinymed/kernels/numba/conv.py`).  A
# speed-up means nothing unless the numbers agree, so we print both: the time of a forward plus
# backward pass, and the largest difference from the reference.  (Timings vary from machine to
# machine; the agreement must not.)  The shape is that of a second convolution layer in a small
# CNN: 16 channels in, 32 out, on 32×32 maps, in float32.

# %%
def forward_backward(x, w, b):
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, padding=1)
    y.backward(np.ones(y.shape, dtype=np.float32))
    return y.numpy(), xt.grad, wt.grad


def best_time(fn, repeats):
    fn()  # the first call compiles (numba) or warms the caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


batch = 4 if quick() else 32
xb = rng.standard_normal((batch, 16, 32, 32)).astype(np.float32)
wb = (rng.standard_normal((32, 16, 3, 3)) / 12).astype(np.float32)
bb = np.zeros(32, dtype=np.float32)
results = {}
for name in [n for n in ("numpy", "numba") if n in tinymed.available()]:
    with tinymed.using(name):
        results[name] = (best_time(lambda: forward_backward(xb, wb, bb), 2 if quick() else 5),
                         forward_backward(xb, wb, bb))
reference_time, reference_out = results["numpy"]
print(f"reference (numpy): {reference_time * 1e3:7.1f} ms for forward + backward of {batch} images")
for name, (seconds, outputs) in results.items():
    if name == "numpy":
        continue
    errors = [np.max(np.abs(a - r)) / np.max(np.abs(r)) for a, r in zip(outputs, reference_out)]
    print(f"{name:17s}: {seconds * 1e3:7.1f} ms, {reference_time / seconds:.1f}x the reference's speed; "
          f"max relative difference y {errors[0]:.1e}, dx {errors[1]:.1e}, dw {errors[2]:.1e}")
    assert max(errors) < 1e-5

# %% [markdown]
# ## Summary
#
# - F3, $y_{ij} = \sum_k x_{ik} w_{kj} + b_j$, is a matrix product over windows: row $i$ an output
#   position, $k$ an entry of its window, $j$ a filter.  Sliding windows, the formula as written and
#   one im2col matrix product give the same numbers as `F.conv2d` (to 1e-12 in float64).
# - The backward pass is two more matrix products and col2im, which adds each window's gradient
#   back onto the pixels it came from; the gradient check confirms every element.
# - The fast path is only trusted because it agrees with the reference.
#
# **Exercises.** (1) Make your own 3×3 filter that finds the *left* border of the heart only.
# (2) Change `stride` to 2 at the top and rerun: which outputs change shape, which assertions still
# hold?  (3) In `f3_as_written`, how many multiplications are done for a 64×64 image?  How many
# would a 224×224×3 image with 32 filters need (article 001 §4.1's first layer)?
