# %% [markdown]
# # Lesson 01 — Gradients and backpropagation
# A neuron learns by gradient descent; backpropagation computes its gradients layer by layer, a gradient check proves them right, and the initial weights decide whether the gradients survive depth.
#
# Article 000 §3.1.1 (formula F1) describes a neural network in words: *each node receives
# inputs, applies a nonlinear transformation and outputs the result; the network learns by
# adjusting its weights to minimise a loss function.*  Written out, one neuron is
#
# $$\hat y = \sigma(z), \qquad z = \sum_i w_i x_i + b, \qquad \sigma(z) = \frac{1}{1 + e^{-z}}$$
#
# Article 000 §3.1.2 and article 001 §3.2.1 (formula F2) add how it learns: *backpropagation
# computes the gradient of the loss and passes the error from the output layer back towards the
# input layer; gradient descent then updates the weights.*  This lesson does all of it by hand,
# then with tinymed's autograd, and finally checks the gradients against finite differences.
#
# The data are real: the Wisconsin breast-cancer set (WDBC, bundled with tinymed), 569 fine-needle
# aspirates of breast masses with 30 measurements of the cell nuclei; label 1 = malignant.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn.functional as F
from tinymed import Function, Tensor
from tinymed.data import load_breast_cancer, train_test_split
from tinymed.gradcheck import check
from tinymed.lessons import quick, save_figure

tinymed.manual_seed(0)
data = load_breast_cancer()
X_raw, y = data.X, data.y.astype(np.float64)
print(data.description.splitlines()[0])
print(f"{len(y)} patients, {int(y.sum())} malignant, {X_raw.shape[1]} features")

# %% [markdown]
# ## 1. One neuron, trained by hand
#
# Two features first, so we can draw the result: the mean radius of the nuclei and the mean
# number of concave points on their outline.  Both are standardised (mean 0, standard deviation 1).
# The loss is the binary cross-entropy over the $n$ patients,
#
# $$L = -\frac{1}{n}\sum_i \left[y_i \log \hat y_i + (1 - y_i)\log(1 - \hat y_i)\right]$$
#
# With $\hat y = \sigma(z)$ the derivative with respect to $z_i$ collapses to
# $\partial L / \partial z_i = (\hat y_i - y_i)/n$, and the chain rule through $z = w \cdot x + b$ gives
#
# $$\frac{\partial L}{\partial w} = \frac{1}{n}\sum_i (\hat y_i - y_i)\, x_i, \qquad \frac{\partial L}{\partial b} = \frac{1}{n}\sum_i (\hat y_i - y_i)$$
#
# Gradient descent (article 003 §4.1, F10) is then $\theta_{t+1} = \theta_t - \alpha \nabla_\theta L(\theta)$.

# %%
def standardise(a):
    return (a - a.mean(axis=0)) / a.std(axis=0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def bce(p, target):
    return float(-np.mean(target * np.log(p) + (1 - target) * np.log(1 - p)))


features = ["radius_mean", "concave_points_mean"]
X2 = standardise(X_raw[:, [data.feature_names.index(f) for f in features]])
n = len(y)

w, b, lr = np.zeros(2), 0.0, 0.5
neuron_losses = []
for t in range(60 if quick() else 300):
    p = sigmoid(X2 @ w + b)               # forward
    neuron_losses.append(bce(p, y))
    dz = (p - y) / n                      # backward: dL/dz
    w -= lr * (X2.T @ dz)                 # dL/dw = sum_i dz_i x_i
    b -= lr * dz.sum()                    # dL/db = sum_i dz_i

neuron_accuracy = float(np.mean((sigmoid(X2 @ w + b) > 0.5) == y))
print(f"loss {neuron_losses[0]:.3f} -> {neuron_losses[-1]:.3f}; training accuracy {neuron_accuracy:.3f}")
print(f"weights {w.round(3)}, bias {b:.3f}")

# %%
fig, (ax_loss, ax_data) = plt.subplots(1, 2, figsize=(10, 4))
ax_loss.plot(neuron_losses)
ax_loss.set(xlabel="gradient-descent step", ylabel="cross-entropy loss", title="One neuron learning")
for label, marker, name in ((0, "o", "benign"), (1, "x", "malignant")):
    ax_data.scatter(*X2[y == label].T, s=10, marker=marker, label=name, alpha=0.6)
xs = np.linspace(X2[:, 0].min(), X2[:, 0].max(), 2)
ax_data.plot(xs, -(w[0] * xs + b) / w[1], "k-", label=r"$\hat y = 0.5$")  # where w.x + b = 0
ax_data.set(xlabel=f"{features[0]} (standardised)", ylabel=f"{features[1]} (standardised)",
            ylim=(X2[:, 1].min() - 0.5, X2[:, 1].max() + 0.5), title="Decision boundary")
ax_data.legend(loc="upper left")
fig.tight_layout()
save_figure(fig, "01_neuron.png", dpi=100)

# %% [markdown]
# ## 2. Backpropagation through two layers, by hand
#
# Now all 30 features and a hidden layer of $H$ tanh units:
#
# $$h = \tanh(X W_1^\top + b_1), \qquad z = h W_2^\top + b_2, \qquad \hat y = \sigma(z)$$
#
# Backpropagation (000 §3.1.2) walks from the loss back to the input.  At each step the gradient
# arriving from above is multiplied by one *local* derivative:
#
# - $dz = (\hat y - y)/n$ (sigmoid and cross-entropy together, as above)
# - $dW_2 = dz^\top h$, $\; db_2 = \sum_i dz_i$
# - $dh = dz\, W_2$ (the error passed back to the hidden layer)
# - $da = dh \odot (1 - h^2)$, because $\tanh'(a) = 1 - \tanh^2(a)$
# - $dW_1 = da^\top X$, $\; db_1 = \sum_i da_i$
#
# Everything is float64, so we can compare to about 1e-15.

# %%
X30 = standardise(X_raw)
H = 8
rng = np.random.default_rng(0)
W1 = rng.normal(0.0, 1.0 / np.sqrt(30), size=(H, 30))
b1 = np.zeros(H)
W2 = rng.normal(0.0, 1.0 / np.sqrt(H), size=(1, H))
b2 = np.zeros(1)


def backprop_by_hand(X, target, W1, b1, W2, b2):
    """Loss and gradients of the two-layer net, the chain rule written out."""
    h = np.tanh(X @ W1.T + b1)
    z = (h @ W2.T + b2)[:, 0]
    p = sigmoid(z)
    dz = ((p - target) / len(target))[:, None]   # (n, 1)
    dW2, db2 = dz.T @ h, dz.sum(axis=0)
    dh = dz @ W2                                  # (n, H)
    da = dh * (1 - h**2)
    dW1, db1 = da.T @ X, da.sum(axis=0)
    return bce(p, target), (dW1, db1, dW2, db2)


hand_loss, hand_grads = backprop_by_hand(X30, y, W1, b1, W2, b2)
hand_loss

# %% [markdown]
# The same network with tinymed: `F.linear` is $x W^\top + b$ (PyTorch's layout), and
# `F.binary_cross_entropy_with_logits` is sigmoid plus cross-entropy in one numerically stable
# step.  `loss.backward()` runs the recorded operations in reverse and fills each parameter's `.grad`.

# %%
def net_loss(X, target, W1, b1, W2, b2):
    h = F.tanh(F.linear(X, W1, b1))
    z = F.linear(h, W2, b2).reshape(-1)
    return F.binary_cross_entropy_with_logits(z, target)


params = [Tensor(a.copy(), requires_grad=True) for a in (W1, b1, W2, b2)]
loss = net_loss(Tensor(X30), y, *params)
loss.backward()
for name, by_hand, p in zip(("W1", "b1", "W2", "b2"), hand_grads, params):
    print(f"d{name}: shape {p.shape}, max |by hand - autograd| = {np.max(np.abs(by_hand - p.grad)):.1e}")
assert abs(loss.item() - hand_loss) < 1e-12
assert all(np.allclose(g, p.grad, rtol=1e-10, atol=1e-14) for g, p in zip(hand_grads, params))

# %% [markdown]
# ## 3. The gradient check: F2, verified
#
# How do we know that *either* set of gradients is right?  Perturb one weight by $\pm\epsilon$
# and watch the loss:
#
# $$\frac{\partial L}{\partial \theta_k} \approx \frac{L(\theta + \epsilon e_k) - L(\theta - \epsilon e_k)}{2\epsilon}$$
#
# The error of this central difference is $O(\epsilon^2)$.  `tinymed.gradcheck.check(fn, *inputs)`
# does it for **every** element of every input and reports the worst relative error
# $|a - n| / \max(|a|, |n|, 1)$.  In float64 a correct backward pass gives about 1e-10; a wrong
# one is off by order 1.  (We use 40 patients: the check costs two forward passes per weight.)

# %%
Xs, ys = Tensor(X30[:40]), y[:40]
params = [Tensor(a.copy(), requires_grad=True) for a in (W1, b1, W2, b2)]
report = check(lambda W1, b1, W2, b2: net_loss(Xs, ys, W1, b1, W2, b2), *params)
print(report)
assert report.passed and report.max_rel_error < 1e-8

# %% [markdown]
# A check that cannot fail proves nothing, so let us break the backward pass on purpose: a tanh
# whose backward forgets the factor $1 - h^2$ (a classic slip).  Every op in tinymed is a
# `Function` with a `forward` and a `backward`, so writing a broken one takes four lines.

# %%
class TanhWithoutDerivative(Function):
    def forward(self, a):
        return np.tanh(a)

    def backward(self, g):
        return (g,)  # wrong: should be g * (1 - tanh(a)**2)


def broken_net_loss(W1, b1, W2, b2):
    h = TanhWithoutDerivative.apply(F.linear(Xs, W1, b1))
    return F.binary_cross_entropy_with_logits(F.linear(h, W2, b2).reshape(-1), ys)


broken = check(broken_net_loss, *params)
print(broken)
assert not broken.passed and broken.max_rel_error > 1e-3

# %% [markdown]
# ### Why $\epsilon = 10^{-6}$, and why float64
#
# The central difference has two errors.  Truncation: the Taylor terms we dropped, about
# $\epsilon^2 |f'''|/6$.  Round-off: the two losses are stored with a relative precision $u$
# (about 1e-16 in float64, 6e-8 in float32), and dividing their difference by $2\epsilon$ magnifies
# it to about $u|f|/\epsilon$.  The total is smallest near $\epsilon \approx u^{1/3}$: around 1e-6
# in float64 (errors of 1e-10 and below), but around 1e-3 in float32, where even the best error,
# about 1e-6 for this one smooth function and far worse for a loss summed over many patients, is
# too coarse to tell a subtle bug from noise.

# %%
def f(x):
    return np.exp(np.sin(x)) * np.tanh(x)


def df(x):
    return np.exp(np.sin(x)) * (np.cos(x) * np.tanh(x) + 1 - np.tanh(x) ** 2)


x0 = 0.7
epsilons = np.logspace(-13, -1, 25 if quick() else 61)
errors = {}
for dtype in (np.float64, np.float32):
    x, exact = dtype(x0), df(x0)
    errors[dtype.__name__] = [
        abs((f(x + dtype(e)) - f(x - dtype(e))) / (2 * dtype(e)) - exact) / abs(exact) for e in epsilons
    ]

fig, ax = plt.subplots(figsize=(6, 4))
for name, errs in errors.items():
    ax.loglog(epsilons, np.maximum(errs, 1e-17), "o-", ms=3, label=name)
ax.axvline(1e-6, color="gray", ls="--", label=r"tinymed's $\epsilon = 10^{-6}$")
ax.set(xlabel=r"$\epsilon$", ylabel="relative error of the central difference",
       title="Truncation (right) versus round-off (left)")
ax.legend()
fig.tight_layout()
save_figure(fig, "01_gradcheck_epsilon.png", dpi=100)

best64 = epsilons[int(np.argmin(errors["float64"]))]
print(f"float64: best epsilon {best64:.0e}, error {min(errors['float64']):.1e}; "
      f"float32: best error {min(errors['float32']):.1e}")
assert 1e-8 <= best64 <= 1e-3 and min(errors["float64"]) < 1e-9
assert min(errors["float32"]) > 1e3 * min(errors["float64"])

# %% [markdown]
# ## 4. Training the two-layer network with autograd
#
# With gradients we trust, training is the loop of article 001 §3.2.1: compute the gradient,
# update the parameters, repeat.  `tinymed.optim.GD` does the update $\theta \leftarrow \theta - \alpha\nabla L$;
# `zero_grad()` clears the gradients, because `backward()` *adds* into `.grad`.  We keep a
# quarter of the patients aside to test on.

# %%
X_train, X_test, y_train, y_test = train_test_split(X30, y, test_size=0.25, random_state=0, stratify=y)
params = [Tensor(a.copy(), requires_grad=True) for a in (W1, b1, W2, b2)]
optimizer = tinymed.optim.GD(params, lr=0.5)
train_losses = []
for epoch in range(100 if quick() else 500):
    optimizer.zero_grad()
    loss = net_loss(Tensor(X_train), y_train, *params)
    loss.backward()
    optimizer.step()
    train_losses.append(loss.item())

with tinymed.no_grad():
    h = F.tanh(F.linear(Tensor(X_test), params[0], params[1]))
    test_logits = F.linear(h, params[2], params[3]).numpy()[:, 0]
test_accuracy = float(np.mean((test_logits > 0) == y_test))
print(f"training loss {train_losses[0]:.3f} -> {train_losses[-1]:.3f}; test accuracy {test_accuracy:.3f} "
      f"({len(y_test)} patients)")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(neuron_losses, label="one neuron, 2 features (section 1)")
ax.plot(train_losses, label=f"2 layers, 30 features, H={H}")
ax.set(xlabel="gradient-descent step", ylabel="training loss", yscale="log", title="Gradient descent")
ax.legend()
fig.tight_layout()
save_figure(fig, "01_training.png", dpi=100)

assert train_losses[-1] < 0.5 * train_losses[0]
assert test_accuracy > 0.9

# %% [markdown]
# ## 5. Where the first weights come from: initialisation
#
# Training starts from random weights, and their *scale* decides whether backpropagation works at
# all.  Section 2 showed why: the gradient reaching a layer is the product of the local derivatives
# of every layer above it, and the forward signal is a product of weight matrices too.  Take a deep
# stack of $L$ layers of width $n$, $h_l = \phi(W_l h_{l-1})$.  If the weights are drawn with
# variance $\operatorname{Var}(w)$, each layer multiplies the variance of the signal by about
# $n \operatorname{Var}(w)$ (times what $\phi$ keeps of it).  Below 1, the signal and the gradient
# fade geometrically with depth; above 1 they grow, or a tanh **saturates** ($|h| \to 1$, where its
# derivative $1 - h^2$ is 0).  The standard schemes choose the variance that keeps the product near
# 1 (`tinymed.nn.init`, with PyTorch's formulas):
#
# - **Xavier/Glorot** (Glorot and Bengio 2010) for tanh and sigmoid:
#   $\operatorname{Var}(w) = 2/(n_{in} + n_{out})$, Keras's default (`glorot_uniform`);
# - **Kaiming/He** (He et al. 2015) for ReLU, which zeroes half its inputs and so halves the
#   variance: $\operatorname{Var}(w) = 2/n_{in}$.  (PyTorch's `nn.Linear` default,
#   $U(\pm 1/\sqrt{n_{in}})$, is a Kaiming variant with a smaller gain.)
#
# We push a batch of 256 random inputs through 12 layers of width 64 under each scheme, record
# the standard deviation of every layer's output, and backpropagate $\sum h_{12}$ to get the
# gradient of every weight matrix.

# %%
from tinymed.nn import init

DEPTH, WIDTH = 12, 64
x_deep = np.random.default_rng(0).standard_normal((256, WIDTH))
schemes = {
    "N(0, 1)": lambda w: init.normal_(w, 0.0, 1.0),
    "N(0, 0.01²)": lambda w: init.normal_(w, 0.0, 0.01),
    "Xavier (Glorot)": lambda w: init.xavier_uniform_(w),
    "Kaiming (He), ReLU": lambda w: init.kaiming_normal_(w, nonlinearity="relu"),
}


def deep_stack(fill, activation):
    """Std of every layer's output (input first), mean |h| of the last, and each weight's gradient norm."""
    tinymed.manual_seed(0)
    weights = [fill(Tensor(np.zeros((WIDTH, WIDTH)), requires_grad=True)) for _ in range(DEPTH)]
    h, stds = Tensor(x_deep), [x_deep.std()]
    for w in weights:
        h = activation(F.linear(h, w))
        stds.append(float(h.numpy().std()))
    h.sum().backward()
    return np.array(stds), float(np.abs(h.numpy()).mean()), np.array([np.linalg.norm(w.grad) for w in weights])


deep = {("tanh", name): deep_stack(schemes[name], F.tanh) for name in ("N(0, 1)", "N(0, 0.01²)", "Xavier (Glorot)")}
deep.update({("ReLU", name): deep_stack(schemes[name], F.relu) for name in ("Xavier (Glorot)", "Kaiming (He), ReLU")})
for (activation, name), (stds, mean_abs, grads) in deep.items():
    print(f"{activation:4s} {name:19s} std of layer 12 {stds[-1]:9.2e}   mean |h| {mean_abs:.2f}   "
          f"gradient norm, layer 1 / layer 12: {grads[0] / grads[-1]:9.2e}")

colours = {"N(0, 1)": "tab:red", "N(0, 0.01²)": "tab:orange", "Xavier (Glorot)": "tab:green",
           "Kaiming (He), ReLU": "tab:purple"}
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, activation in zip(axes, ("tanh", "ReLU")):
    for (act, name), (stds, mean_abs, _) in deep.items():
        if act == activation:
            label = f"{name}: mean |h| {mean_abs:.2f}" + (" (saturated)" if mean_abs > 0.85 else "")
            ax.semilogy(range(DEPTH + 1), stds, "o-", ms=3, color=colours[name], label=label)
    ax.set(title=f"{activation} layers", xlabel="layer")
    ax.legend(fontsize=8)
axes[0].set_ylabel("standard deviation of the layer's output")
fig.suptitle("Initialisation decides whether a signal survives depth")
fig.tight_layout()
save_figure(fig, "01_initialisation.png", dpi=100)

tanh_small, tanh_large, tanh_xavier = (deep[("tanh", n)] for n in ("N(0, 0.01²)", "N(0, 1)", "Xavier (Glorot)"))
relu_xavier, relu_kaiming = deep[("ReLU", "Xavier (Glorot)")], deep[("ReLU", "Kaiming (He), ReLU")]
assert tanh_small[0][-1] < 1e-10                        # too small: the signal vanishes
assert tanh_large[1] > 0.85                             # too large: the tanh units saturate
assert 0.1 < tanh_xavier[0][-1] < 1 and 0.5 < tanh_xavier[2][0] / tanh_xavier[2][-1] < 2  # Xavier keeps both
assert 0.5 < relu_kaiming[0][-1] / relu_kaiming[0][0] < 2   # Kaiming keeps ReLU's signal
assert relu_xavier[0][-1] < 0.05                        # Xavier halves its variance at every ReLU

# %% [markdown]
# ## Summary
#
# - A neuron is a weighted sum and a nonlinearity (F1); learning means moving the weights against
#   the gradient of the loss (F10).
# - Backpropagation (F2) is the chain rule applied from the output back to the input: each layer
#   multiplies the incoming gradient by its own local derivative.  By hand and by autograd they agree
#   to about 1e-16.
# - The gradient check compares every element with a central difference; in float64 a correct
#   gradient agrees to about 1e-10 and a wrong one fails loudly.
# - The scale of the initial weights decides whether signals and gradients survive depth: too small
#   and they vanish, too large and tanh saturates; Xavier (tanh) and Kaiming (ReLU) keep them near 1.
#
# **Exercises.** (1) Delete `* (1 - h**2)` in `backprop_by_hand` and compare with autograd.
# (2) Set the learning rate of section 1 to 5, then to 50: what happens to the loss curve?
# (3) Run the gradient check in float32 (`.astype(np.float32)`): what does `check` say, and why?
# (4) In section 5, initialise the tanh stack with Kaiming instead of Xavier: what happens to the
# gradient norms of the first layers, and why?
