# %% [markdown]
# # Lesson 03 — Pooling
# Max and average pooling (F4) by hand and with tinymed; where the gradient of a max goes; why ties break the gradient check.
#
# Article 004 §3.1.1.2 (formula F4) writes max pooling as
#
# $$y_j = \max(x_{1j}, x_{2j}, \ldots, x_{nj})$$
#
# "where $y_j$ is an element of the pooled feature map and $x_{ij}$ an element of the input
# feature map."  Read it like F3 in lesson 02: $j$ is one output position, and $x_{1j}, \ldots, x_{nj}$
# are the $n$ input values in its window (for a 2×2 window, $n = 4$).  Article 001 §3.1.1.2
# describes both kinds in words: *pooling divides the input into regions and takes the maximum or
# the average of each region, which shrinks the image and so the computation and the size of the
# model.*  Average pooling is therefore
#
# $$y_j = \frac{1}{n}\sum_{i=1}^{n} x_{ij}$$
#
# Pooling has no weights to learn.  It works on each channel separately.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import chest_phantoms
from tinymed.gradcheck import check
from tinymed.lessons import quick, save_figure

# %% [markdown]
# ## 1. By hand on a 4×4 example
#
# Windows of $k \times k$ pixels, moved by the stride $s$ (by default $s = k$: the windows tile the
# image without overlap).

# %%
def pool_by_hand(x, k, s, reduce):
    """x (H, W) -> y (OH, OW): reduce (np.max or np.mean) over each k x k window."""
    OH, OW = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    y = np.empty((OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            y[oh, ow] = reduce(x[oh * s : oh * s + k, ow * s : ow * s + k])
    return y


x = np.array([[1, 3, 2, 0],
              [5, 4, 1, 1],
              [0, 2, 9, 6],
              [1, 1, 7, 8]], dtype=np.float64)
max_by_hand, avg_by_hand = pool_by_hand(x, 2, 2, np.max), pool_by_hand(x, 2, 2, np.mean)
max_tinymed = F.max_pool2d(Tensor(x[None, None]), 2).numpy()[0, 0]
avg_tinymed = F.avg_pool2d(Tensor(x[None, None]), 2).numpy()[0, 0]
print("max pooling:\n", max_by_hand, "\naverage pooling:\n", avg_by_hand)
assert np.array_equal(max_by_hand, max_tinymed) and np.allclose(avg_by_hand, avg_tinymed, rtol=1e-15)

# %% [markdown]
# ## 2. Pooling a chest film
#
# Each 2×2 pooling halves the width and the height, so the next convolution does a quarter of the
# work.  Max pooling keeps the brightest value of each window, so small bright (dense) structures
# such as an opacity survive several poolings; average pooling blurs them into their neighbourhood.
# (Max pooling also keeps the brightest grains of noise, which is why its films look brighter.)

# %%
size = 32 if quick() else 64
films, labels = chest_phantoms(8, size=size, seed=3, difficulty="easy")
film = films[np.flatnonzero(labels == 1)[2]].astype(np.float64)[None]   # (1, 1, H, W)

fig, axes = plt.subplots(2, 4, figsize=(12, 6.4))
for row, (name, pool) in enumerate((("max", F.max_pool2d), ("average", F.avg_pool2d))):
    level = Tensor(film)
    for col in range(4):
        axes[row, col].imshow(level.numpy()[0, 0], cmap="gray", vmin=0, vmax=1)
        axes[row, col].set_title(f"{name} pooled {col}x: {level.shape[2]}x{level.shape[3]}" if col else
                                 f"input {level.shape[2]}x{level.shape[3]}")
        axes[row, col].axis("off")
        level = pool(level, 2)
fig.tight_layout()
save_figure(fig, "03_pooled_films.png", dpi=100)

# one 2x2 max pooling keeps the film's brightest pixel; average pooling cannot exceed it
assert F.max_pool2d(Tensor(film), 2).numpy().max() == film.max()
assert F.avg_pool2d(Tensor(film), 2).numpy().max() <= film.max()

# %% [markdown]
# ## 3. Where the gradient of a max goes
#
# Only one input of a window decides its maximum, so
#
# $$\frac{\partial y_j}{\partial x_{ij}} = \begin{cases} 1 & \text{if } x_{ij} \text{ is the largest in window } j \\ 0 & \text{otherwise} \end{cases}$$
#
# and backpropagation sends each output's gradient to the winner of its window and nothing to the
# others.  (The forward pass remembers the winners: tinymed's reference kernel returns their
# positions, `argmax`, for the backward kernel.)  Average pooling, in contrast, hands every input
# of the window the same share, $\partial y_j / \partial x_{ij} = 1/n$.

# %%
rng = np.random.default_rng(0)
x8 = rng.permutation(64).reshape(8, 8).astype(np.float64)   # distinct values 0..63
xt_max, xt_avg = Tensor(x8[None, None], requires_grad=True), Tensor(x8[None, None], requires_grad=True)
F.max_pool2d(xt_max, 2).sum().backward()   # dL/dy = 1 for every output
F.avg_pool2d(xt_avg, 2).sum().backward()
grad_max, grad_avg = xt_max.grad[0, 0], xt_avg.grad[0, 0]

windows = grad_max.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(16, 4)   # one row per window
winners = x8.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(16, 4).argmax(axis=1)
assert np.all((windows != 0).sum(axis=1) == 1)               # one input per window gets it ...
assert np.array_equal(windows.argmax(axis=1), winners)        # ... and it is the largest one
assert np.all(grad_avg == 0.25)                                # average: a quarter each
grad_max

# %% [markdown]
# With overlapping windows (3×3, stride 2) one pixel can win several windows, and then its
# gradient is the sum of theirs.  Put a large value where four windows meet:

# %%
x9 = rng.permutation(81).reshape(9, 9).astype(np.float64)
x9[2, 2] = 100.0   # (2, 2) lies in the windows starting at rows 0 and 2, columns 0 and 2
xt_overlap = Tensor(x9[None, None], requires_grad=True)
F.max_pool2d(xt_overlap, 3, stride=2).sum().backward()
grad_overlap = xt_overlap.grad[0, 0]
print(f"gradient at (2, 2): {grad_overlap[2, 2]:.0f}; total gradient {grad_overlap.sum():.0f} "
      f"= number of windows {((9 - 3) // 2 + 1) ** 2}")
assert grad_overlap[2, 2] == 4 and grad_overlap.sum() == 16

# %%
fig, axes = plt.subplots(1, 4, figsize=(15, 4))
panels = ((x8, "input (2x2 windows)", "viridis", 2, None),
          (grad_max, "gradient of max pooling", "Reds", 2, 5),
          (grad_avg, "gradient of average pooling", "Reds", 2, 5),
          (grad_overlap, "gradient of max pooling 3x3, stride 2", "Reds", None, 5))
for ax, (values, title, cmap, grid, vmax) in zip(axes, panels):
    ax.imshow(values, cmap=cmap, vmin=0, vmax=vmax)
    for (r, c), v in np.ndenumerate(values):
        if v or values is x8:
            ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=7)
    if grid:
        for edge in np.arange(grid, values.shape[0], grid) - 0.5:
            ax.axhline(edge, color="k", lw=1.5)
            ax.axvline(edge, color="k", lw=1.5)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
save_figure(fig, "03_max_gradient.png", dpi=100)

# %% [markdown]
# ## 4. Gradient check, and what a tie does to it
#
# The gradient check (F2) compares every element with central differences.  For max pooling we
# draw inputs whose values are at least 0.01 apart: a perturbation of $\epsilon = 10^{-6}$ can then
# never change which input wins.  Padding is included: for max pooling a padded position counts as
# $-\infty$ (it never wins), for average pooling as a zero in the mean (PyTorch's default).

# %%
def distinct_values(shape, rng):
    return (rng.permutation(int(np.prod(shape))) * 0.01 - 1.0).reshape(shape)


for name, pool in (("max_pool2d", F.max_pool2d), ("avg_pool2d", F.avg_pool2d)):
    for kernel, stride, padding in ((2, 2, 0), (3, 2, 1)):
        x = Tensor(distinct_values((2, 2, 6, 6), rng), requires_grad=True)
        report = check(lambda x: pool(x, kernel, stride=stride, padding=padding), x)
        print(f"{name} kernel {kernel} stride {stride} padding {padding}: worst relative error "
              f"{report.max_rel_error:.1e}")
        assert report.passed

# %% [markdown]
# At a **tie** the maximum has no derivative: raising either tied value by $\epsilon$ raises the
# maximum by $\epsilon$, lowering it does not lower the maximum at all (the other value still wins).
# The central difference then reports $\frac{\epsilon - 0}{2\epsilon} = \frac12$ for *both* inputs,
# while the backward pass, like PyTorch's, gives the whole gradient to one of them.  Neither is
# wrong (any split is a valid *subgradient*), but the check fails: that is why tests draw inputs
# away from ties and from the kinks of ReLU.

# %%
tie = np.array([[[[1.0, 1.0], [0.0, 0.5]]]])   # one 2x2 window whose maximum is shared
xt_tie = Tensor(tie.copy(), requires_grad=True)
F.max_pool2d(xt_tie, 2).sum().backward()
eps, numeric = 1e-6, np.zeros_like(tie)
for idx in np.ndindex(tie.shape):
    plus, minus = tie.copy(), tie.copy()
    plus[idx] += eps
    minus[idx] -= eps
    numeric[idx] = (F.max_pool2d(Tensor(plus), 2).item() - F.max_pool2d(Tensor(minus), 2).item()) / (2 * eps)
print("backward pass:     ", xt_tie.grad.ravel())
print("central difference:", numeric.ravel().round(6))
assert np.allclose(numeric.ravel(), [0.5, 0.5, 0.0, 0.0]) and xt_tie.grad.ravel().tolist() == [1, 0, 0, 0]
assert not check(lambda x: F.max_pool2d(x, 2), Tensor(tie, requires_grad=True)).passed

# %% [markdown]
# ## Summary
#
# - F4: max pooling takes the largest value of each window, average pooling the mean; both work on
#   each channel alone, have no weights, and shrink the image (2×2: a quarter of the pixels).
# - Backward, a max passes the gradient only to the winner of each window (a pixel that wins
#   several windows collects several); an average shares it equally.
# - Gradient checks need inputs away from ties: at a tie the max has no derivative.
#
# **Exercises.** (1) Pool the film 4 times with max and with average: in which can you still find
# the opacity?  (2) Make the 4×4 example's windows overlap (`stride=1`): how many outputs, and what
# is the sum of the max-pooling gradient?  (3) Move the tie to `0.5 + 1e-7` and rerun the check.
