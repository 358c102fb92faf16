# %% [markdown]
# # Lesson 07 — Recurrent networks and backpropagation through time
# The article's RNN formula F6 by hand, as tinymed's kernel and as nn.RNN (W, U, b are weight_hh, weight_ih and bias_ih + bias_hh); backpropagation through time; vanishing and exploding gradients; gated cells; early warning from vital signs.
#
# Article 004 §3.1.2 (formula F6) defines a recurrent neural network by two formulas.  The
# hidden layer (§3.1.2.1)
#
# $$h_t = \tanh(W h_{t-1} + U x_t + b)$$
#
# "where $h_t$ is the hidden state vector, $W$ the weight matrix of the hidden layer, $U$ the
# weight matrix of the input layer, $x_t$ the input vector and $b$ the bias", and the output layer
# (§3.1.2.2)
#
# $$y_t = W_{out} h_t + b_{out}.$$
#
# Article 001 §3.1.2 says the same in words: the recurrent layer combines the input of the
# current time step with the hidden state of the previous one.  The hidden state is the network's
# memory: $h_t$ depends on $x_1, \dots, x_t$.  Articles 000, 001 and 004 want it to follow a
# patient's course and predict how a disease progresses; we do that at the end with hourly vital
# signs.  On the way: how the gradient of such a network is computed, and why it fades over long
# distances.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor, backend
from tinymed.data import news2_score, vital_signs
from tinymed.data.vitals import FEATURES, UNITS
from tinymed.gradcheck import check
from tinymed.kernels.reference.rnn import rnn_tanh_backward, rnn_tanh_forward
from tinymed.lessons import quick, save_figure
from tinymed.metrics import roc_auc_score, roc_curve

QUICK = quick()
tinymed.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. F6 three ways
#
# A batch of $N$ sequences of length $T$, each step a vector of $I$ inputs, and a hidden state of
# size $H$.  tinymed keeps time first, as PyTorch does: `x` has shape $(T, N, I)$.  The weights:
# $W$ is $H \times H$, $U$ is $H \times I$, $b$ has $H$ entries, and $h_0 = 0$.
#
# First F6 exactly as printed, one patient and one time step at a time.

# %%
T, N, I, H = 7, 3, 4, 5
x = rng.standard_normal((T, N, I))
W = 0.6 * rng.standard_normal((H, H)) / np.sqrt(H)
U = rng.standard_normal((H, I)) / np.sqrt(I)
b = 0.1 * rng.standard_normal(H)
h0 = np.zeros((N, H))


def f6_by_hand(x, h0, W, U, b):
    """h_t = tanh(W h_{t-1} + U x_t + b) for every sequence n and step t; returns h (T, N, H)."""
    h = np.empty((x.shape[0],) + h0.shape)
    for n in range(x.shape[1]):
        state = h0[n]
        for t in range(x.shape[0]):
            state = np.tanh(W @ state + U @ x[t, n] + b)
            h[t, n] = state
    return h


h_by_hand = f6_by_hand(x, h0, W, U, b)
h_by_hand.shape

# %% [markdown]
# tinymed's reference kernel `rnn_tanh_forward(x, h0, w_ih=U, w_hh=W, b=b)` (in
# `tinymed/kernels/reference/rnn.py`) computes F6 as written; its weights are keyword arguments
# with PyTorch's names, the same for the RNN, LSTM and GRU kernels.  It makes one change that
# matters for speed: $U x_t + b$ does not depend on the previous step, so it is computed for all
# $t$ at once, one matrix product before the loop; only $W h_{t-1}$ has to wait for the previous
# step.  The Numba kernel does the same with the step's arithmetic in one compiled pass.
#
# `nn.RNN` has PyTorch's parameter names, so PyTorch checkpoints load into it.  The article's
# matrices are in it under other names:
#
# | article (F6) | `nn.RNN` / PyTorch | shape |
# |---|---|---|
# | $W$ (hidden → hidden) | `weight_hh_l0` | $(H, H)$ |
# | $U$ (input → hidden) | `weight_ih_l0` | $(H, I)$ |
# | $b$ | `bias_ih_l0 + bias_hh_l0` | $(H,)$ |
#
# PyTorch keeps two biases (for compatibility with NVIDIA's cuDNN); only their sum ever enters
# F6, so we split $b$ at random to show that the split does not matter.  The output layer
# $y_t = W_{out} h_t + b_{out}$ is an ordinary `nn.Linear(H, 2)` applied to every $h_t$.

# %%
results = {"by hand": h_by_hand, "reference kernel": rnn_tanh_forward(x, h0, w_ih=U, w_hh=W, b=b)}
if "numba" in tinymed.available():
    results["numba kernel"] = backend.kernel("rnn_tanh_forward", backend="numba")(x, h0, w_ih=U, w_hh=W, b=b)

rnn = nn.RNN(I, H).double()
b_ih = rng.standard_normal(H)
rnn.load_state_dict({"weight_ih_l0": U, "weight_hh_l0": W, "bias_ih_l0": b_ih, "bias_hh_l0": b - b_ih})
output, h_n = rnn(Tensor(x))
results["nn.RNN"] = output.numpy()

for name, h in results.items():
    print(f"{name:17s} max |h - by hand| = {np.max(np.abs(h - h_by_hand)):.1e}")
    assert np.allclose(h, h_by_hand, rtol=1e-12, atol=1e-12)
assert np.array_equal(h_n.numpy()[0], output.numpy()[-1])  # h_n is the last hidden state

readout = nn.Linear(H, 2).double()
y_t = readout(output).numpy()
W_out, b_out = readout.weight.numpy(), readout.bias.numpy()
assert np.allclose(y_t, np.einsum("oh,tnh->tno", W_out, h_by_hand) + b_out, rtol=1e-12)
print(f"outputs y_t: {y_t.shape} = (T, N, 2)")

# %% [markdown]
# ## 2. Backpropagation through time (BPTT)
#
# Unrolled over time, an RNN is a deep network with one layer per time step, all sharing $W$,
# $U$ and $b$.  Backpropagation (F2, article 000 §3.1.2) goes through it from the last step to the
# first.  Write $a_t = W h_{t-1} + U x_t + b$ for the pre-activation and $dh_t$ for the gradient
# that reaches $h_t$ *directly* from the loss (through $y_t$).  But $h_t$ also influences the loss
# through $h_{t+1}, h_{t+2}, \dots$, so its total gradient $\bar h_t$ collects both:
#
# $$\bar h_t = dh_t + W^\top \delta_{t+1}, \qquad \delta_t = \frac{\partial L}{\partial a_t} = \bar h_t \odot (1 - h_t^2), \qquad \delta_{T+1} = 0$$
#
# ($1 - h^2$ is the derivative of $\tanh$).  Because the weights are shared, their gradients are
# sums over the time steps:
#
# $$\frac{\partial L}{\partial W} = \sum_t \delta_t h_{t-1}^\top, \qquad \frac{\partial L}{\partial U} = \sum_t \delta_t x_t^\top, \qquad \frac{\partial L}{\partial b} = \sum_t \delta_t .$$
#
# As the loss we take a squared error on the outputs, $L = \frac12 \sum_{t,n} \lVert y_t - r_t \rVert^2$
# against random targets $r_t$, so $dh_t = (y_t - r_t) W_{out}$.

# %%
targets = rng.standard_normal(y_t.shape)
dh = (y_t - targets) @ W_out                        # dL/dh_t through y_t only: (T, N, H)


def bptt_by_hand(dh, x, h0, W, h):
    """The recursion above, from t = T down to 1; returns dW, dU, db and dL/dh_0."""
    delta = np.zeros_like(h)
    from_the_future = np.zeros_like(h0)             # W^T delta_{t+1}
    for t in reversed(range(h.shape[0])):
        delta[t] = (dh[t] + from_the_future) * (1 - h[t] ** 2)
        from_the_future = delta[t] @ W              # row vectors: (delta W) = (W^T delta)^T
    h_before = np.concatenate([h0[None], h[:-1]])   # h_{t-1} for every t
    dW = np.einsum("tni,tnj->ij", delta, h_before)
    dU = np.einsum("tni,tnj->ij", delta, x)
    return dW, dU, delta.sum(axis=(0, 1)), from_the_future


dW, dU, db, dh0 = bptt_by_hand(dh, x, h0, W, h_by_hand)

# the same with tinymed's kernel, and with autograd through nn.RNN and the Linear readout
grads = rnn_tanh_backward(dh, x, h0, h_by_hand, w_ih=U, w_hh=W)  # named: grads.dw_hh is dL/dW
kernel_dh0, kernel_dW, kernel_dU, kernel_db = grads.dh0, grads.dw_hh, grads.dw_ih, grads.db
h0_t = Tensor(h0, requires_grad=True)
out, _ = rnn(Tensor(x), h0_t.reshape(1, N, H))
loss = 0.5 * ((readout(out) - Tensor(targets)) ** 2).sum()
loss.backward()
pairs = [("dW", dW, kernel_dW, rnn.weight_hh_l0.grad), ("dU", dU, kernel_dU, rnn.weight_ih_l0.grad),
         ("db", db, kernel_db, rnn.bias_ih_l0.grad), ("dh0", dh0, kernel_dh0, h0_t.grad)]
for name, by_hand, kernel, autograd in pairs:
    autograd = backend.to_numpy(autograd)
    print(f"{name:4s} max |kernel - by hand| = {np.max(np.abs(kernel - by_hand)):.1e}, "
          f"|autograd - by hand| = {np.max(np.abs(autograd - by_hand)):.1e}")
    assert np.allclose(kernel, by_hand, rtol=1e-12, atol=1e-12)
    assert np.allclose(autograd, by_hand, rtol=1e-12, atol=1e-12)
# both PyTorch biases receive the gradient of b: only their sum enters F6
assert np.array_equal(backend.to_numpy(rnn.bias_ih_l0.grad), backend.to_numpy(rnn.bias_hh_l0.grad))

# %% [markdown]
# And the independent check (F2): every element of every gradient against central differences,
# on a small case that also runs backwards in time (`reverse=True`, one half of a bidirectional
# layer).

# %%
small = [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in ((5, 2, 3), (2, 4), (4, 3), (4, 4), (4,))]
report = check(lambda x, h0, U, W, b: F.rnn_tanh(x, h0, U, W, b, reverse=True), *small)
print(report)
assert report.passed

# %% [markdown]
# ## 3. Vanishing and exploding gradients
#
# Unroll the recursion of section 2.  One step's Jacobian is
# $J_s = \partial h_s / \partial h_{s-1} = \operatorname{diag}(1 - h_s^2)\, W$, and the gradient that
# reaches a hidden state $k$ steps before the end has passed through $k$ of them,
#
# $$\frac{\partial L}{\partial h_{T-k}} = \big(J_T\, J_{T-1} \cdots J_{T-k+1}\big)^{\top} \frac{\partial L}{\partial h_T} = J_{T-k+1}^{\top} \cdots J_{T-1}^{\top} J_T^{\top}\, \frac{\partial L}{\partial h_T}.$$
#
# The order matters, because matrices do not commute: by the chain rule
# $\partial h_T / \partial h_{T-k}$ has the *latest* step on the left, $J_T J_{T-1} \cdots J_{T-k+1}$,
# and its transpose applies $J_T^\top$ first -- backpropagation starts at the end and works back,
# exactly as the recursion $\bar h_t = dh_t + W^\top \delta_{t+1}$ of section 2 does.
#
# Each factor has norm at most $\lVert W \rVert$ (because $|1 - h^2| \le 1$).  If the factors are
# below 1 the product shrinks geometrically -- the **vanishing gradient** (Hochreiter 1991; Bengio,
# Simard and Frasconi 1994): the loss can no longer tell the weights how to use an input from long
# ago.  If they are above 1 it can grow geometrically instead -- the **exploding gradient**.
#
# We measure it.  The loss is a fixed linear read-out of the last state, $L = \sum_n v \cdot h_T$;
# for every distance $k$ we start the layer from the state it had $k$ steps before the end (as a
# leaf that requires a gradient), run the last $k$ steps, and read $\lVert \partial L / \partial h_{T-k} \rVert$
# from autograd.  For the tanh RNN the same curve also comes out of `bptt_by_hand` with $dh_t = 0$
# except at $t = T$.

# %%
T_long = 40 if QUICK else 60
N_v, I_v, H_v = 16, 4, 32
x_long = rng.standard_normal((T_long, N_v, I_v))
v = rng.standard_normal(H_v)


def run_layer(kind, layer, x, h, c=None):
    """All hidden states (and LSTM cell states) of a one-layer module's weights on x from (h, c)."""
    weights = (layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)
    if kind == "LSTM":
        return F.lstm(x, h, c, *weights)
    return (F.rnn_tanh if kind == "RNN" else F.gru)(x, h, *weights), None


def gradient_by_distance(kind, layer):
    """Mean over the batch of ||dL/d state_{T-k}||, k = 0..T (for an LSTM the state is (h, c))."""
    zeros = np.zeros((N_v, H_v))
    with tinymed.no_grad():
        h, c = run_layer(kind, layer, Tensor(x_long), Tensor(zeros), Tensor(zeros))
    hs = np.concatenate([zeros[None], h.numpy()])
    cs = np.concatenate([zeros[None], c.numpy()]) if c is not None else None
    norms = [np.linalg.norm(v)]
    for k in range(1, T_long + 1):
        start_h = Tensor(hs[T_long - k], requires_grad=True)
        start_c = Tensor(cs[T_long - k] if cs is not None else zeros, requires_grad=True)
        h_k, _ = run_layer(kind, layer, Tensor(x_long[T_long - k:]), start_h, start_c)
        (h_k[-1] * Tensor(v)).sum().backward()
        grad = backend.to_numpy(start_h.grad)
        if cs is not None:
            grad = np.concatenate([grad, backend.to_numpy(start_c.grad)], axis=1)
        norms.append(np.linalg.norm(grad, axis=1).mean())
    return np.array(norms)


def gate_bias(layer, gate, value):
    """Set the input-side bias of one gate (slice ``gate`` of the stacked gates) to ``value``."""
    layer.bias_ih_l0.data[gate * H_v:(gate + 1) * H_v] = value
    return layer


tinymed.manual_seed(1)
layers = {
    "RNN (PyTorch's init)": ("RNN", nn.RNN(I_v, H_v).double()),
    "RNN, W x 3": ("RNN", nn.RNN(I_v, H_v).double()),
    "GRU (PyTorch's init)": ("GRU", nn.GRU(I_v, H_v).double()),
    "LSTM (PyTorch's init)": ("LSTM", nn.LSTM(I_v, H_v).double()),
    "GRU, update-gate bias +3": ("GRU", gate_bias(nn.GRU(I_v, H_v).double(), 1, 3.0)),
    "LSTM, forget-gate bias +3": ("LSTM", gate_bias(nn.LSTM(I_v, H_v).double(), 1, 3.0)),
}
layers["RNN, W x 3"][1].weight_hh_l0.data[:] *= 3
start = time.perf_counter()
curves = {name: gradient_by_distance(kind, layer) for name, (kind, layer) in layers.items()}
print(f"{len(curves)} curves of {T_long + 1} points in {time.perf_counter() - start:.1f} s")

# the tanh RNN's curve from the BPTT recursion by hand: dh_t = 0 except at the last step
rnn_default = layers["RNN (PyTorch's init)"][1]
W_d = rnn_default.weight_hh_l0.numpy()
with tinymed.no_grad():
    h_d, _ = run_layer("RNN", rnn_default, Tensor(x_long), Tensor(np.zeros((N_v, H_v))))
dh_last = np.zeros((T_long, N_v, H_v))
dh_last[-1] = v
delta = dh_last[-1] * (1 - h_d.numpy()[-1] ** 2)
by_hand = [np.linalg.norm(v)]
for t in range(T_long - 1, 0, -1):
    through_w = delta @ W_d                           # dL/dh_{t}, before the tanh of step t
    by_hand.append(np.linalg.norm(through_w, axis=1).mean())
    delta = through_w * (1 - h_d.numpy()[t - 1] ** 2)
assert np.allclose(by_hand, curves["RNN (PyTorch's init)"][:T_long], rtol=1e-10)

for name, curve in curves.items():
    print(f"{name:26s} ||dL/dh_(T-k)|| / ||dL/dh_T|| at k = 10: {curve[10] / curve[0]:9.2e}, "
          f"k = {T_long}: {curve[-1] / curve[0]:9.2e}")

# %%
fig, ax = plt.subplots(figsize=(7.5, 4.5))
styles = {"RNN": "-", "GRU": "--", "LSTM": "-."}
for name, curve in curves.items():
    ax.semilogy(np.arange(T_long + 1), curve / curve[0], styles[layers[name][0]], lw=2, label=name)
ax.set(xlabel="distance k (time steps before the end)", ylabel=r"$\|\partial L/\partial h_{T-k}\| \,/\, \|\partial L/\partial h_T\|$",
       title="How far back does the gradient reach?")
ax.set_ylim(1e-12, 1e3)
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "07_vanishing_gradients.png", dpi=120)

relative = {name: curve / curve[0] for name, curve in curves.items()}
assert relative["RNN (PyTorch's init)"][20] < 1e-3                # vanishes
assert relative["RNN, W x 3"][-1] > 1                               # explodes instead
assert relative["LSTM (PyTorch's init)"][20] < 1e-3                 # a gate half open does not help
assert relative["LSTM, forget-gate bias +3"][-1] > 1e-2             # the cell state carries it
assert relative["GRU, update-gate bias +3"][-1] > 1e3 * relative["GRU (PyTorch's init)"][-1]

# %% [markdown]
# **Why it vanishes although $\lVert W \rVert > 1$.**  PyTorch's initialisation gives this $W$ a
# norm above 1 (printed below), so the bound $\lVert J_s \rVert \le \lVert W \rVert$ would allow
# the gradient to grow -- yet it vanishes.  A bound is not a rate.  $\lVert W \rVert$ is the
# stretch of the single direction $W$ stretches most; multiplied again and again, a vector keeps
# only the growth $W$ can sustain, which is its **spectral radius** $\rho(W)$, the largest
# $|\lambda|$ of its eigenvalues ($\lVert W^k \rVert^{1/k} \to \rho(W)$, Gelfand's formula).
# A random $H \times H$ matrix with entries of variance $\sigma^2$ has $\rho \approx \sigma\sqrt H$ but
# $\lVert W \rVert \approx 2\sigma\sqrt H$, twice as large.  On top of that every step multiplies by
# the tanh slopes $1 - h_s^2 < 1$.  The measured rate per step is below both.

# %%
W_norm = np.linalg.norm(W_d, 2)
radius = np.abs(np.linalg.eigvals(W_d)).max()
slope = float(np.mean(1 - h_d.numpy() ** 2))
rate = (relative["RNN (PyTorch's init)"][20]) ** (1 / 20)   # mean factor per step over 20 steps
print(f"PyTorch's init: ||W|| = {W_norm:.2f}, spectral radius rho(W) = {radius:.2f}, "
      f"mean tanh slope {slope:.2f}, measured factor per step {rate:.2f}")
assert W_norm > 1 > radius and rate < radius          # the norm allows growth; the gradient shrinks

# %% [markdown]
# ## 4. The fix: gates that can hold the state
#
# The LSTM (Hochreiter and Schmidhuber 1997) and the GRU (Cho et al. 2014) add a path along which
# the state is *copied*, scaled by a gate, instead of squashed through $\tanh(W\,\cdot)$.  In
# PyTorch's equations (which tinymed follows, gate order included, so PyTorch's weights load):
#
# $$\text{LSTM:}\quad c_t = f_t \odot c_{t-1} + i_t \odot g_t, \quad h_t = o_t \odot \tanh(c_t), \qquad \frac{\partial c_t}{\partial c_{t-1}} \ni \operatorname{diag}(f_t)$$
#
# $$\text{GRU:}\quad h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}, \qquad \frac{\partial h_t}{\partial h_{t-1}} \ni \operatorname{diag}(z_t)$$
#
# Each step multiplies the gradient along this path by the forget gate $f_t$ (LSTM) or the update
# gate $z_t$ (GRU), numbers between 0 and 1 that the network *learns*.  Near 1 the gradient
# survives for many steps.  The figure shows the catch: with PyTorch's initialisation every gate
# starts near $\sigma(0) = 0.5$, and $0.5^k$ vanishes as fast as the RNN.  A positive gate bias
# makes the cells remember from the start -- $\sigma(3) \approx 0.95$ -- which is why Keras
# initialises the LSTM's forget-gate bias to 1 (`unit_forget_bias=True`) and why Jozefowicz et al.
# (2015) recommend it.  Gates are not magic; they give training a way to keep the gradient alive.
#
# The opposite problem, exploding gradients (the "W x 3" curve), is usually handled by clipping the
# gradient norm (`tinymed.optim.clip_grad_norm_`).
#
# ## 5. Early warning from vital signs
#
# Ward patients have their vital signs measured every hour or so, and early-warning scores such as
# NEWS2 turn the latest set into points that call a doctor.  Evolving sepsis shows itself
# earlier, as a *trend* against the patient's own baseline: heart rate and breathing creeping up,
# blood pressure and oxygen saturation drifting down.  `tinymed.data.vital_signs` simulates 24
# hourly observations of five vital signs per patient (with day–night rhythm, pain episodes,
# fevers that resolve, probe artefacts, beta-blockers and chronic lung disease as look-alikes);
# label 1 means the patient deteriorates within the next 12 hours.
#
# Three predictors, all fitted on the same training patients and scored on new ones by the area
# under the ROC curve (AUC):
#
# 1. **NEWS2** on the last observation (no fitting; the clinical baseline);
# 2. **logistic regression on the last time step** (the five standardised values);
# 3. a **GRU** reading all 24 hours, its last hidden state into a `Linear(H, 1)`.

# %%
n_train, n_test = (1000, 1000) if QUICK else (3000, 1500)
X_train, y_train = vital_signs(n_train, seed=1)
X_test, y_test = vital_signs(n_test, seed=2)
mean, std = X_train.reshape(-1, 5).mean(axis=0), X_train.reshape(-1, 5).std(axis=0)
Z_train = ((X_train - mean) / std).astype(np.float32)   # standardised with training statistics only
Z_test = ((X_test - mean) / std).astype(np.float32)
print(f"{n_train} training patients ({y_train.mean():.0%} deteriorate), {n_test} test patients")

fig, axes = plt.subplots(1, 5, figsize=(15, 3))
hours = np.arange(X_train.shape[1])
for label, colour in ((0, "tab:blue"), (1, "tab:red")):
    for p in np.flatnonzero(y_train == label)[:6]:
        for j, ax in enumerate(axes):
            ax.plot(hours, X_train[p, :, j], color=colour, alpha=0.6, lw=1)
for j, ax in enumerate(axes):
    ax.set(title=f"{FEATURES[j]} ({UNITS[j]})", xlabel="hour")
axes[0].plot([], [], color="tab:blue", label="stable")
axes[0].plot([], [], color="tab:red", label="deteriorates within 12 h")
axes[0].legend(fontsize=7)
fig.tight_layout()
save_figure(fig, "07_vital_signs.png", dpi=100)

# %%
def fit(model_fn, parameters, inputs, epochs, lr, batch=64, seed=0):
    """Adam on the binary cross-entropy of the logits model_fn(inputs[rows])."""
    opt = tinymed.optim.Adam(parameters, lr=lr)
    order_rng = np.random.default_rng(seed)
    targets = y_train.astype(np.float32)
    for _ in range(epochs):
        order = order_rng.permutation(len(inputs))
        for start in range(0, len(order), batch):
            rows = order[start:start + batch]
            loss = F.binary_cross_entropy_with_logits(model_fn(Tensor(inputs[rows])).reshape(-1), targets[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()


def score(model_fn, inputs):
    with tinymed.no_grad():
        return model_fn(Tensor(inputs)).numpy().ravel()


tinymed.manual_seed(0)
logistic = nn.Linear(5, 1)
fit(logistic, logistic.parameters(), Z_train[:, -1], epochs=20, lr=0.05, batch=256)

H_gru = 32
gru, head = nn.GRU(5, H_gru, batch_first=True), nn.Linear(H_gru, 1)


def gru_model(z):
    states, _ = gru(z)                 # (batch, 24, H): every hidden state
    return head(states[:, -1])         # the last one decides


start = time.perf_counter()
fit(gru_model, list(gru.parameters()) + list(head.parameters()), Z_train, epochs=6 if QUICK else 12, lr=5e-3)
print(f"GRU trained in {time.perf_counter() - start:.1f} s")

scores = {"NEWS2 (last observation)": news2_score(X_test[:, -1]),
          "logistic regression, last time step": score(logistic, Z_test[:, -1]),
          f"GRU({H_gru}) on all 24 hours": score(gru_model, Z_test)}
auc = {name: roc_auc_score(y_test, s) for name, s in scores.items()}
for name, value in auc.items():
    print(f"{name:38s} AUC {value:.3f}")

# %% [markdown]
# How much of the GRU's advantage is the *history*, and how much the recurrent network?  A
# logistic regression on all 24 × 5 numbers at once also sees the history, but needs a weight for
# every hour and cannot take a series of another length.

# %%
flat = nn.Linear(24 * 5, 1)
fit(lambda z: flat(z.reshape(z.shape[0], -1)), flat.parameters(), Z_train, epochs=20, lr=0.01, batch=256)
auc_flat = roc_auc_score(y_test, score(lambda z: flat(z.reshape(z.shape[0], -1)), Z_test))
print(f"logistic regression on all 24 hours       AUC {auc_flat:.3f}")

fig, ax = plt.subplots(figsize=(5, 5))
for name, s in scores.items():
    fpr, tpr, _ = roc_curve(y_test, s)
    ax.plot(fpr, tpr, lw=2, label=f"{name}: {auc[name]:.2f}")
ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
ax.set(xlabel="false positive rate (1 - specificity)", ylabel="true positive rate (sensitivity)",
       title="Deterioration within 12 h: ROC on new patients")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
save_figure(fig, "07_early_warning_roc.png", dpi=120)

auc_last, auc_gru = auc["logistic regression, last time step"], auc[f"GRU({H_gru}) on all 24 hours"]
assert auc_gru > auc_last + 0.04, (auc_gru, auc_last)   # the trend carries what a snapshot lacks
assert auc_flat > auc_last                               # ... and it is the history that helps

# %% [markdown]
# ## Summary
#
# - F6, $h_t = \tanh(W h_{t-1} + U x_t + b)$, by hand, as tinymed's kernel and as `nn.RNN` give the
#   same numbers; $W$ = `weight_hh_l0`, $U$ = `weight_ih_l0`, $b$ = `bias_ih_l0 + bias_hh_l0`; the
#   output $y_t = W_{out} h_t + b_{out}$ is a `Linear` on every hidden state.
# - Backpropagation through time runs the recursion $\bar h_t = dh_t + W^\top \delta_{t+1}$ from the
#   last step to the first and sums the weight gradients over time; by hand, kernel, autograd and
#   finite differences agree.
# - The gradient reaching $k$ steps back is a product of $k$ Jacobians: it vanishes (or explodes)
#   geometrically in a tanh RNN.  LSTM and GRU add a gated copy path whose factor per step is a
#   learned gate; it carries the gradient when the gate is near 1 -- not automatically at
#   initialisation.
# - On vital signs a GRU that reads the whole day predicts deterioration clearly better than a
#   snapshot of the last hour, whether scored by NEWS2 or by a fitted logistic regression.
#
# **Exercises.** (1) In section 3, give the tanh RNN an orthogonal $W$ (`np.linalg.qr` of a random
# matrix) scaled to norm 1: how far does its gradient reach now, and why still not forever?
# (2) Replace the GRU in section 5 by `nn.LSTM` and by `nn.RNN`; compare AUC and training time.
# (3) Shorten the series to the last 6 hours (`Z_train[:, -6:]`): how much AUC does the GRU lose?
