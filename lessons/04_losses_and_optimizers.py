# %% [markdown]
# # Lesson 04 — Losses and optimizers
# MSE and its derivative (the article's is wrong, and the gradient check says so), cross-entropy; GD, SGD, heavy-ball momentum, AdaGrad, RMSprop, Adam and the 1/√t schedule on a 2-D loss surface.
#
# Article 003 §4.1 (formulas F10–F12) builds its "mathematical model" from three parts: a loss,
# an optimizer and a learning rate.
#
# - Loss, mean squared error: $L = \frac{1}{n}\sum_{i=1}^{n} (y_i - \hat y_i)^2$ ($y_i$ the true
#   value, $\hat y_i$ the prediction).
# - Optimizer, gradient descent: $\theta_{t+1} = \theta_t - \alpha \nabla_\theta L(\theta)$.
# - Learning rate: $\alpha = \frac{1}{\sqrt{t}}$, with $t$ the iteration.
#
# §4.2 then derives the gradient of the MSE and adds momentum,
# $\theta_{t+1} = \theta_t - \alpha\nabla_\theta L(\theta) + \beta(\theta_t - \theta_{t-1})$.  Article 001
# §3.2.1–3.2.4 (F9) describes gradient descent, stochastic gradient descent, momentum and adaptive
# learning rates in words.  This lesson runs all of them, and finds one mistake on the way.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn.functional as F
from tinymed import Function, Tensor, optim
from tinymed.gradcheck import check
from tinymed.lessons import save_figure

tinymed.manual_seed(0)

# %% [markdown]
# ## 1. Mean squared error, and the article's derivative
#
# Article 003 §4.2 writes the derivative of the MSE as
#
# $$\nabla_{\hat y_i} L = 2(y_i - \hat y_i)$$
#
# Differentiate $L = \frac{1}{n}\sum_i (y_i - \hat y_i)^2$ with respect to the prediction $\hat y_i$: only
# the $i$-th term depends on it, and the inner derivative of $y_i - \hat y_i$ is $-1$, so
#
# $$\frac{\partial L}{\partial \hat y_i} = \frac{2}{n}(\hat y_i - y_i)$$
#
# The article's version has the **wrong sign** (it is the derivative with respect to $y_i$, or the
# direction *down*hill) and **drops the $1/n$** (it is the derivative of the sum, not of the mean).
# Let us implement it exactly as written, as a tinymed `Function`, and let the gradient check judge.

# %%
class ArticleMSE(Function):
    """MSE with the backward pass of article 003 §4.2, as written: dL/dŷ = 2(y - ŷ)."""

    def forward(self, y_hat, y):
        self.y_hat, self.y = y_hat, y
        return np.mean((y - y_hat) ** 2)

    def backward(self, g):
        return g * 2 * (self.y - self.y_hat), None


rng = np.random.default_rng(0)
n = 5
y_true = rng.normal(size=n)
y_hat = Tensor(rng.normal(size=n), requires_grad=True)

article = check(lambda p: ArticleMSE.apply(p, Tensor(y_true)), y_hat)
correct = check(lambda p: F.mse_loss(p, y_true), y_hat)
print("as written in the article:", article, "\nF.mse_loss:", correct, sep="\n")
assert not article.passed and correct.passed

y_hat.grad = None
ArticleMSE.apply(y_hat, Tensor(y_true)).backward()
article_grad = y_hat.grad.copy()
y_hat.grad = None
F.mse_loss(y_hat, y_true).backward()
print(f"article's gradient / correct gradient = {article_grad / y_hat.grad}  (that is -n = {-n})")
assert np.allclose(article_grad, -n * y_hat.grad)

# %% [markdown]
# The sign error is not cosmetic.  Plug the article's derivative into gradient descent and every
# step goes *uphill*: here a one-parameter model $\hat y_i = \theta x_i$ and five steps.

# %%
x_data = rng.uniform(0.5, 2.5, size=20)
y_data = 1.5 * x_data + rng.normal(0, 0.3, size=20)
losses = {}
for name, loss_fn in (("article", lambda p, t: ArticleMSE.apply(p, Tensor(t))), ("correct", F.mse_loss)):
    theta = Tensor(np.array([0.0]), requires_grad=True)
    sgd = optim.GD([theta], lr=0.01)
    losses[name] = []
    for _ in range(5):
        sgd.zero_grad()
        loss = loss_fn(Tensor(x_data) * theta, y_data)
        loss.backward()
        sgd.step()
        losses[name].append(round(loss.item(), 3))
    print(f"{name:8s} derivative, loss per step: {losses[name]}")
assert losses["article"][-1] > losses["article"][0] and losses["correct"][-1] < losses["correct"][0]

# %% [markdown]
# ## 2. Cross-entropy
#
# For classification (article 003 §4.3 trains its pneumonia model with cross-entropy and SGD) the
# network outputs one score $z_c$ per class, softmax turns them into probabilities, and the loss is
# minus the log-probability of the true class $t$:
#
# $$L = -\log \frac{e^{z_t}}{\sum_c e^{z_c}}, \qquad \frac{\partial L}{\partial z_c} = \mathrm{softmax}(z)_c - [c = t]$$
#
# (averaged over the $N$ examples of a batch).  By hand, with `F.cross_entropy`, and checked:

# %%
logits = rng.normal(size=(4, 3))           # 4 patients, 3 classes: normal, pneumonia, other
targets = np.array([0, 1, 2, 1])
p = np.exp(logits - logits.max(axis=1, keepdims=True))
p /= p.sum(axis=1, keepdims=True)
loss_by_hand = -np.mean(np.log(p[np.arange(4), targets]))
grad_by_hand = (p - np.eye(3)[targets]) / 4

z = Tensor(logits.copy(), requires_grad=True)
loss = F.cross_entropy(z, targets)
loss.backward()
print(f"loss by hand {loss_by_hand:.6f}, F.cross_entropy {loss.item():.6f}; "
      f"max |gradient difference| {np.max(np.abs(z.grad - grad_by_hand)):.1e}")
report = check(lambda z: F.cross_entropy(z, targets), Tensor(logits.copy(), requires_grad=True))
assert abs(loss.item() - loss_by_hand) < 1e-12 and np.allclose(z.grad, grad_by_hand) and report.passed

# %% [markdown]
# Why not MSE on a probability?  With $p = \sigma(z)$ and true label 1, the MSE gradient with
# respect to the score is $2(p - 1)\,p(1 - p)$: when the model is confidently **wrong** ($z \ll 0$),
# $p(1-p) \approx 0$ and it barely learns.  Cross-entropy's gradient is $p - 1 \approx -1$ there.

# %%
scores = np.array([-8.0, -4.0, -2.0, 0.0, 2.0])
grads = {}
for name, loss_fn in (("MSE", lambda s: F.mse_loss(F.sigmoid(s), np.ones(1))),
                      ("cross-entropy", lambda s: F.binary_cross_entropy_with_logits(s, np.ones(1)))):
    grads[name] = []
    for s in scores:
        st = Tensor(np.array([s]), requires_grad=True)
        loss_fn(st).backward()
        grads[name].append(st.grad[0])
    print(f"{name:14s} dL/dz at z = {scores}: {np.round(grads[name], 4)}")
assert abs(grads["cross-entropy"][0]) > 100 * abs(grads["MSE"][0])

# %% [markdown]
# ## 3. A loss surface with two parameters
#
# To *see* optimizers we need a loss of two parameters.  A made-up dose–response study: $n = 200$
# patients received a dose $x_i$ (0.5–2.5 mg/kg) of a blood-pressure drug, and $y_i$ is the fall in
# blood pressure (in units of 10 mmHg).  The model $\hat y_i = w x_i + b$ with the MSE loss gives a
# bowl over $\theta = (w, b)$.  Because the doses are all positive, $w$ and $b$ trade off against each
# other and the bowl is a long, narrow valley: its curvatures (the eigenvalues of the Hessian
# $\frac{2}{n}A^\top A$, $A$ the matrix with rows $(x_i, 1)$) differ by a factor of about 40.  Gradient
# descent is stable only for $\alpha < 2/\lambda_{max}$.

# %%
n = 200
dose = rng.uniform(0.5, 2.5, size=n)
response = 1.5 * dose - 0.5 + rng.normal(0, 0.3, size=n)
A = np.stack([dose, np.ones(n)], axis=1)
theta_best = np.linalg.lstsq(A, response, rcond=None)[0]
curvatures = np.linalg.eigvalsh(2 / n * A.T @ A)
start = np.array([-1.0, 2.0])


def surface_loss(theta):
    return np.mean((A @ theta - response) ** 2)


def surface_grad(theta):
    return 2 / n * A.T @ (A @ theta - response)


print(f"best (w, b) = {theta_best.round(3)}, loss {surface_loss(theta_best):.4f}")
print(f"curvatures {curvatures.round(3)}: ratio {curvatures[1] / curvatures[0]:.0f}, "
      f"stable learning rates below 2/λ_max = {2 / curvatures[1]:.3f}")

# %% [markdown]
# ## 4. Gradient descent and stochastic gradient descent
#
# Gradient descent (F10) uses the gradient of the loss over **all** $n$ patients; stochastic
# gradient descent (article 001 §3.2.2) uses a random mini-batch at each step: a noisy estimate of
# the same gradient, $n/\text{batch}$ times cheaper.  One function runs any tinymed optimizer on
# the surface and records its path.

# %%
def optimize(make_optimizer, steps, batch=None, schedule=None, seed=1):
    """Path of theta = (w, b) under a tinymed optimizer, from `start`, with autograd gradients."""
    theta = Tensor(start.copy(), requires_grad=True)
    opt = make_optimizer([theta])
    lr_schedule = schedule(opt) if schedule else None
    picks = np.random.default_rng(seed)
    path = [theta.numpy()]
    for _ in range(steps):
        rows = picks.choice(n, batch, replace=False) if batch else slice(None)
        opt.zero_grad()
        F.mse_loss(Tensor(A[rows]) @ theta, response[rows]).backward()
        opt.step()
        if lr_schedule:
            lr_schedule.step()
        path.append(theta.numpy())
    return np.array(path)


steps = 100
paths = {
    "GD, α=0.2": optimize(lambda p: optim.GD(p, lr=0.2), steps),
    "SGD, α=0.2, batch 10": optimize(lambda p: optim.SGD(p, lr=0.2), steps, batch=10),
}
for name, path in paths.items():
    print(f"{name:24s} loss after {steps} steps: {surface_loss(path[-1]):.4f}")

# %% [markdown]
# ## 5. Momentum: the article's form and PyTorch's
#
# Gradient descent zig-zags across the valley and crawls along it.  Momentum (article 001 §3.2.3:
# *combine the current update direction with the previous ones, which damps the oscillation*)
# adds a fraction of the last step.  Article 003 §4.2 writes the **heavy-ball** form
#
# $$\theta_{t+1} = \theta_t - \alpha \nabla L(\theta_t) + \beta(\theta_t - \theta_{t-1})$$
#
# PyTorch's `torch.optim.SGD` keeps a **velocity** instead:
# $v_t = \beta v_{t-1} + \nabla L(\theta_t)$, $\theta_{t+1} = \theta_t - \alpha v_t$.  They are the same
# method at a constant $\alpha$: the velocity form gives $\theta_t - \theta_{t-1} = -\alpha v_{t-1}$,
# so $\theta_{t+1} = \theta_t - \alpha\nabla L - \alpha\beta v_{t-1} = \theta_t - \alpha\nabla L + \beta(\theta_t - \theta_{t-1})$.
# `tinymed.optim.SGD(momentum=β)` implements the article's form.  All three, side by side:

# %%
def heavy_ball(alphas, beta):
    thetas = [start.copy(), start - alphas[0] * surface_grad(start)]   # theta_{-1} = theta_0
    for alpha in alphas[1:]:
        t, t_prev = thetas[-1], thetas[-2]
        thetas.append(t - alpha * surface_grad(t) + beta * (t - t_prev))
    return np.array(thetas)


def velocity_form(alphas, beta):
    theta, v, thetas = start.copy(), np.zeros(2), [start.copy()]
    for alpha in alphas:
        v = beta * v + surface_grad(theta)
        theta = theta - alpha * v
        thetas.append(theta)
    return np.array(thetas)


alpha, beta = 0.1, 0.7
constant = np.full(steps, alpha)
path_heavy, path_velocity = heavy_ball(constant, beta), velocity_form(constant, beta)
path_tinymed = optimize(lambda p: optim.SGD(p, lr=alpha, momentum=beta), steps)
print(f"constant α: max |heavy ball - velocity form| = {np.max(np.abs(path_heavy - path_velocity)):.1e}, "
      f"max |heavy ball - optim.SGD| = {np.max(np.abs(path_heavy - path_tinymed)):.1e}")
assert np.max(np.abs(path_heavy - path_velocity)) < 1e-12 and np.max(np.abs(path_heavy - path_tinymed)) < 1e-12

# %% [markdown]
# When $\alpha$ changes from step to step, they part: PyTorch's form rescales the whole remembered
# velocity to the new rate at once, $-\alpha_t\beta v_{t-1} = \beta\frac{\alpha_t}{\alpha_{t-1}}(\theta_t - \theta_{t-1})$,
# while the heavy ball keeps its last step as it was.  With the $1/\sqrt t$ schedule of section 7:

# %%
decaying = alpha / np.sqrt(np.arange(1, steps + 1))
gap = np.max(np.abs(heavy_ball(decaying, beta) - velocity_form(decaying, beta)))
print(f"α_t = α/√t: max |heavy ball - velocity form| = {gap:.2e}")
assert gap > 1e-3

# %% [markdown]
# ## 6. Adaptive learning rates
#
# Article 001 §3.2.4: *adjust the learning rate according to the gradients.*  Each parameter gets its
# own step size, scaled by the history of its own gradients $g$ (all three are `tinymed.optim` classes
# with PyTorch's formulas and defaults):
#
# - **AdaGrad**: $s \leftarrow s + g^2$, $\theta \leftarrow \theta - \alpha\, g / (\sqrt{s} + \epsilon)$: a steep
#   direction quickly gets a small step, but the steps only ever shrink.
# - **RMSprop**: $s \leftarrow \rho s + (1-\rho) g^2$: the same, with a memory that fades.
# - **Adam**: momentum on $g$ and RMSprop on $g^2$, both corrected for starting at zero:
#   $m \leftarrow \beta_1 m + (1-\beta_1) g$, $v \leftarrow \beta_2 v + (1-\beta_2) g^2$,
#   $\theta \leftarrow \theta - \alpha\, \hat m / (\sqrt{\hat v} + \epsilon)$.

# %%
paths.update({
    f"momentum (heavy ball), α={alpha}, β={beta}": path_tinymed,
    "AdaGrad, α=0.8": optimize(lambda p: optim.AdaGrad(p, lr=0.8), steps),
    "RMSprop, α=0.05": optimize(lambda p: optim.RMSprop(p, lr=0.05), steps),
    "Adam, α=0.2": optimize(lambda p: optim.Adam(p, lr=0.2), steps),
})
final = {name: surface_loss(path[-1]) - surface_loss(theta_best) for name, path in paths.items()}
for name, excess in final.items():
    print(f"{name:36s} loss above the minimum after {steps} steps: {excess:.2e}")

corners = np.concatenate(list(paths.values()))
(w_lo, b_lo), (w_hi, b_hi) = corners.min(axis=0) - 0.3, corners.max(axis=0) + 0.3
w_grid, b_grid = np.meshgrid(np.linspace(w_lo, w_hi, 200), np.linspace(b_lo, b_hi, 200))
thetas = np.stack([w_grid.ravel(), b_grid.ravel()])
grid_loss = np.mean((A @ thetas - response[:, None]) ** 2, axis=0).reshape(w_grid.shape)
levels = np.geomspace(grid_loss.min() + 1e-3, grid_loss.max(), 20)
fig, axes = plt.subplots(2, 3, figsize=(13, 8.5), sharex=True, sharey=True)
for ax, (name, path) in zip(axes.ravel(), paths.items()):
    ax.contour(w_grid, b_grid, grid_loss, levels=levels, colors="0.75", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "C3.-", ms=3, lw=0.8)
    ax.plot(*theta_best, "k*", ms=12)
    ax.plot(*start, "ko", ms=5)
    ax.set_title(f"{name}\nloss above minimum: {final[name]:.1e}", fontsize=10)
for ax in axes[1]:
    ax.set_xlabel("w (slope)")
for ax in axes[:, 0]:
    ax.set_ylabel("b (intercept)")
fig.suptitle(f"{steps} steps from the start (dot) towards the minimum (star) of a dose-response MSE")
fig.tight_layout()
save_figure(fig, "04_optimizer_paths.png", dpi=100)

assert final[f"momentum (heavy ball), α={alpha}, β={beta}"] < 0.01 * final["GD, α=0.2"]
assert all(surface_loss(path[-1]) < surface_loss(start) for path in paths.values())

# %% [markdown]
# ## 7. The learning-rate schedule $\alpha = 1/\sqrt{t}$
#
# Article 003 §4.1 (F11) sets $\alpha = 1/\sqrt t$.  `optim.InverseSqrtLR` multiplies the optimizer's
# base rate by $1/\sqrt t$ (with $t = 1, 2, \ldots$), so the article's rule is the base rate 1.  Taken
# literally that would diverge on our surface, whose stable rates are below $2/\lambda_{max} \approx 0.27$:
# the schedule fixes the *shape*, the base rate must still fit the problem.
#
# Why decay at all?  SGD's gradient is noisy, so at a constant rate it never settles: it keeps
# jumping around the minimum at a distance set by the rate.  A decaying rate averages the noise out.

# %%
opt = optim.SGD([Tensor(start.copy(), requires_grad=True)], lr=0.2)
schedule = optim.InverseSqrtLR(opt)
rates = []
for t in range(1, 6):
    rates.append(opt.lr)
    schedule.step()
print("first rates:", np.round(rates, 4))
assert np.allclose(rates, 0.2 / np.sqrt(np.arange(1, 6)))

sgd_steps = 1000  # cheap: a 2-parameter model
noisy = {
    "SGD, constant α = 0.2": optimize(lambda p: optim.SGD(p, lr=0.2), sgd_steps, batch=5),
    "SGD, α = 0.2/√t": optimize(lambda p: optim.SGD(p, lr=0.2), sgd_steps, batch=5, schedule=optim.InverseSqrtLR),
}
fig, ax = plt.subplots(figsize=(7, 4))
tail = {}
for name, path in noisy.items():
    excess = np.array([surface_loss(theta) for theta in path]) - surface_loss(theta_best)
    tail[name] = excess[-sgd_steps // 5 :].mean()
    ax.semilogy(excess, lw=0.8, label=f"{name} (last 20 %: {tail[name]:.1e})")
ax.set(xlabel="step", ylabel="loss above the minimum", title="Mini-batches of 5: constant versus decaying rate")
ax.legend()
fig.tight_layout()
save_figure(fig, "04_schedule.png", dpi=100)
print({name: f"{value:.2e}" for name, value in tail.items()})
assert tail["SGD, α = 0.2/√t"] < 0.5 * tail["SGD, constant α = 0.2"]

# %% [markdown]
# ## Summary
#
# - F12: the MSE's derivative is $\frac{2}{n}(\hat y_i - y_i)$.  The article's $2(y_i - \hat y_i)$ has the wrong
#   sign and drops $1/n$: the gradient check rejects it, and gradient descent with it climbs.
# - Cross-entropy's gradient is $\mathrm{softmax}(z) - \text{one-hot}(t)$, which stays large when the model
#   is confidently wrong.
# - F10: the article's heavy-ball momentum and PyTorch's velocity form take the same path at a constant
#   rate and differ when the rate changes; momentum crosses a narrow valley far faster than GD.
# - F9/F11: adaptive methods scale each parameter's step by its gradient history; a $1/\sqrt t$ decay
#   lets SGD settle despite noisy gradients.
#
# **Exercises.** (1) Fix `ArticleMSE.backward` (sign and $1/n$) until the check passes.  (2) Raise GD's
# rate to 0.27, just above $2/\lambda_{max}$: what happens?  (3) Centre the doses (`dose - dose.mean()`)
# and rerun section 6: why does GD now do as well as momentum?
