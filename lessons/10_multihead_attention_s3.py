# %% [markdown]
# # Lesson 10 — The article's attention module (S3)
# Snippet S3 of article 001 §4.3 side by side with its tinymed port: what stops it from running, what its extra scaling does, and the same numbers as multi-head attention by hand and as PyTorch.
#
# Article 001 §4.3 ("self-attention mechanism") promises *a self-attention model to predict how a
# disease progresses* and gives this code (formula F7 inside `MultiheadAttention`):
#
# ```python
# import torch
# from torch.nn import Linear, LayerNorm, MultiheadAttention
#
# class Attention(Layer):
#     def __init__(self, d_model, nhead=8, dropout=0.1):
#         super().__init__()
#         self.d_model = d_model
#         self.nhead = nhead
#         self.dropout = dropout
#         self.scaling = d_model ** -0.5
#
#         self.linear1 = Linear(d_model, d_model)
#         self.linear2 = Linear(d_model, d_model)
#         self.dropout1 = Dropout(dropout)
#         self.dropout2 = Dropout(dropout)
#
#         self.multihead_attention = MultiheadAttention(d_model, nhead, dropout=dropout)
#
#     def forward(self, x):
#         x = x * self.scaling
#         x = self.linear1(x)
#         x = self.dropout1(x)
#         x = self.multihead_attention(x, x, x)
#         x = self.linear2(x)
#         x = self.dropout2(x)
#         return x
#
# attention = Attention(d_model=512)
# x = attention(x)
# ```
#
# We run it, fix what has to be fixed, look at what it computes, and check tinymed's port against
# multi-head attention written out by hand and against PyTorch.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import vital_signs
from tinymed.lessons import quick, save_figure
from tinymed.metrics import roc_auc_score

QUICK = quick()
tinymed.manual_seed(0)
rng = np.random.default_rng(0)

ARTICLE_S3 = '''
class Attention(Layer):
    def __init__(self, d_model, nhead=8, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dropout = dropout
        self.scaling = d_model ** -0.5

        self.linear1 = Linear(d_model, d_model)
        self.linear2 = Linear(d_model, d_model)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

        self.multihead_attention = MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(self, x):
        x = x * self.scaling
        x = self.linear1(x)
        x = self.dropout1(x)
        x = self.multihead_attention(x, x, x)
        x = self.linear2(x)
        x = self.dropout2(x)
        return x
'''

# %% [markdown]
# ## 1. Running it as printed
#
# The snippet never defines `x`.  `MultiheadAttention` is built without `batch_first`, so it
# expects *sequence first*: `(L, N, E)` = (time steps, patients, features).  We make 12 time
# steps for 4 patients with `d_model = 512` features, as in the article.  The import line is the
# only change: it brings `Linear, LayerNorm, MultiheadAttention` from `tinymed.nn` instead of
# `torch.nn`.  Then we fix one error at a time and run again.

# %%
L, N, d_model, nhead = 12, 4, 512, 8
x = rng.standard_normal((L, N, d_model)).astype(np.float32)
imported = {"Linear": nn.Linear, "LayerNorm": nn.LayerNorm, "MultiheadAttention": nn.MultiheadAttention}


def run_snippet(code, names):
    """Define the snippet's class in a fresh namespace and apply it to x: its output or the error."""
    namespace = dict(names)
    try:
        exec(code, namespace)
        attention = namespace["Attention"](d_model=512)
        return attention(Tensor(x))
    except Exception as error:  # the point here is to see the error
        return f"{type(error).__name__}: {error}"


fixes = [
    ("as printed", ARTICLE_S3, {}),
    ("+ Layer is nn.Module", ARTICLE_S3, {"Layer": nn.Module}),
    ("+ Dropout imported", ARTICLE_S3, {"Layer": nn.Module, "Dropout": nn.Dropout}),
    ("+ take the output from (output, weights)",
     ARTICLE_S3.replace("x = self.multihead_attention(x, x, x)", "x, _ = self.multihead_attention(x, x, x)"),
     {"Layer": nn.Module, "Dropout": nn.Dropout}),
]
outcomes = []
for step, code, extra in fixes:
    result = run_snippet(code, {**imported, **extra})
    outcomes.append(result)
    shown = f"runs: output {result.shape}" if isinstance(result, Tensor) else result
    print(f"{step:42s} -> {shown}")
FIXED_S3 = fixes[-1][1]
assert [isinstance(o, Tensor) for o in outcomes] == [False, False, False, True]
assert outcomes[0].startswith("NameError") and "Layer" in outcomes[0]
assert outcomes[1].startswith("NameError") and "Dropout" in outcomes[1]
assert outcomes[2].startswith("TypeError") and "tuple" in outcomes[2]
assert outcomes[3].shape == (L, N, d_model)

# %% [markdown]
# Three errors:
#
# 1. **`Layer` is not defined.**  `Layer` is Keras's base class (the article's other snippets use
#    Keras); a PyTorch module derives from `torch.nn.Module`.
# 2. **`Dropout` is not imported.**  The import line brings `LayerNorm`, which is never used, but
#    not `Dropout`, which is.
# 3. **`MultiheadAttention` returns a pair** `(attn_output, attn_weights)`, in PyTorch as in
#    tinymed, so `linear2` receives a tuple.  tinymed's error says so; PyTorch's says
#    `linear(): argument 'input' (position 1) must be Tensor, not tuple`.
#
# ## 2. The port
#
# The same class in tinymed, line by line; the three changed lines are marked.

# %%
class Attention(nn.Module):                                      # article: Attention(Layer)
    def __init__(self, d_model, nhead=8, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dropout = dropout
        self.scaling = d_model ** -0.5

        self.linear1 = nn.Linear(d_model, d_model)
        self.linear2 = nn.Linear(d_model, d_model)
        self.dropout1 = nn.Dropout(dropout)                      # article: Dropout, never imported
        self.dropout2 = nn.Dropout(dropout)

        self.multihead_attention = nn.MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(self, x):
        x = x * self.scaling
        x = self.linear1(x)
        x = self.dropout1(x)
        x, _ = self.multihead_attention(x, x, x)                 # article: x = ... (a tuple)
        x = self.linear2(x)
        x = self.dropout2(x)
        return x


tinymed.manual_seed(0)
attention = Attention(d_model=512)
print(attention)
print(f"{attention.num_parameters():,} parameters")
assert [name for name, _ in attention.named_parameters()] == [
    "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "multihead_attention.in_proj_weight",
    "multihead_attention.in_proj_bias", "multihead_attention.out_proj.weight", "multihead_attention.out_proj.bias"]

# %% [markdown]
# ## 3. What it computes, by hand
#
# `MultiheadAttention(E, h)` is F7 with learned projections, in $h$ heads of $d = E/h$ features
# (here $d = 512/8 = 64$):
#
# $$Q = X W_Q^\top + b_Q, \quad K = X W_K^\top + b_K, \quad V = X W_V^\top + b_V \qquad (W_Q; W_K; W_V \text{ stacked in } \texttt{in\_proj\_weight})$$
#
# $$\text{head}_i = \operatorname{softmax}\Big(\frac{Q_i K_i^\top}{\sqrt d}\Big) V_i, \qquad \text{MHA}(X) = [\text{head}_1, \dots, \text{head}_h]\, W_O^\top + b_O$$
#
# where $Q_i$ are the columns of head $i$.  The whole S3 module is then
# $y = \text{linear}_2(\text{MHA}(\text{linear}_1(x / \sqrt{E})))$, the dropouts being the identity in
# evaluation mode.  Written out in NumPy with the port's weights:

# %%
def softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def s3_by_hand(x, p, d_model, nhead):
    """The S3 module in NumPy from a state dict p; returns the output and each head's weights."""
    L, N, E = x.shape
    d = E // nhead
    x = x * d_model ** -0.5
    x = x @ p["linear1.weight"].T + p["linear1.bias"]
    W, b = p["multihead_attention.in_proj_weight"], p["multihead_attention.in_proj_bias"]
    q, k, v = (x @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i in range(3))

    def heads(t):                                   # (L, N, E) -> (N, heads, L, d)
        return t.reshape(L, N, nhead, d).transpose(1, 2, 0, 3)

    weights = softmax(heads(q) @ heads(k).transpose(0, 1, 3, 2) / np.sqrt(d))
    joined = (weights @ heads(v)).transpose(2, 0, 1, 3).reshape(L, N, E)
    out = joined @ p["multihead_attention.out_proj.weight"].T + p["multihead_attention.out_proj.bias"]
    return out @ p["linear2.weight"].T + p["linear2.bias"], weights


attention.eval()                                    # dropout off
for name, parameter in attention.named_parameters():
    if name.endswith("bias"):                       # PyTorch starts the attention biases at 0: make them matter
        parameter.data[:] = rng.normal(0, 0.1, parameter.shape)
state = {name: value.astype(np.float64) for name, value in attention.state_dict().items()}
y_by_hand, heads_by_hand = s3_by_hand(x.astype(np.float64), state, d_model, nhead)
with tinymed.no_grad():
    y_port = attention(Tensor(x)).numpy()
    _, per_head = attention.multihead_attention(*[attention.linear1(Tensor(x) * attention.scaling)] * 3,
                                                average_attn_weights=False)
error = np.max(np.abs(y_port - y_by_hand)) / np.max(np.abs(y_by_hand))
print(f"port vs by hand: max relative difference {error:.1e} (float32)")
assert error < 1e-5
assert np.allclose(per_head.numpy(), heads_by_hand, atol=1e-6)

# %% [markdown]
# ## 4. The same numbers as PyTorch
#
# Where PyTorch is installed, the *same source text* -- the article's code with the three fixes --
# is executed once more with PyTorch's classes, its weights are copied into the tinymed port
# through `load_state_dict` (PyTorch's parameter names are tinymed's), and outputs, attention
# weights and all gradients are compared.  Without PyTorch this cell says so and moves on.

# %%
try:
    import torch
except ImportError:
    torch = None
    print("PyTorch is not installed: skipping the comparison (pip install 'tinymed[torch]').")

if torch is not None:
    namespace = {"Layer": torch.nn.Module, "Dropout": torch.nn.Dropout, "Linear": torch.nn.Linear,
                 "LayerNorm": torch.nn.LayerNorm, "MultiheadAttention": torch.nn.MultiheadAttention}
    exec(FIXED_S3, namespace)
    torch.manual_seed(0)
    theirs = namespace["Attention"](d_model=512).eval()
    with torch.no_grad():
        for parameter in theirs.parameters():
            if parameter.ndim == 1:
                parameter.normal_(0, 0.1)
    ours = Attention(d_model=512).eval()
    ours.load_state_dict({name: value.detach().numpy() for name, value in theirs.state_dict().items()})

    x_ours, x_theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    upstream = rng.standard_normal(y_ours.shape).astype(np.float32)
    y_ours.backward(upstream)
    y_theirs.backward(torch.tensor(upstream))

    def relative(a, b):
        a, b = tinymed.backend.to_numpy(a), b.detach().numpy()
        return np.max(np.abs(a - b)) / np.max(np.abs(b))

    differences = {"output": relative(y_ours.data, y_theirs), "input gradient": relative(x_ours.grad, x_theirs.grad)}
    for (name, p_ours), (_, p_theirs) in zip(ours.named_parameters(), theirs.named_parameters()):
        differences[f"grad {name}"] = relative(p_ours.grad, p_theirs.grad)
    with torch.no_grad():
        hidden = theirs.linear1(x_theirs * theirs.scaling)
        _, w_theirs = theirs.multihead_attention(hidden, hidden, hidden)
    with tinymed.no_grad():
        hidden_ours = ours.linear1(Tensor(x) * ours.scaling)
        _, w_ours = ours.multihead_attention(hidden_ours, hidden_ours, hidden_ours)
    differences["attention weights"] = relative(w_ours.data, w_theirs)
    for name, value in differences.items():
        print(f"tinymed vs PyTorch {torch.__version__}: {name:45s} max relative difference {value:.1e}")
    assert max(differences.values()) < 1e-4

# %% [markdown]
# ## 5. The extra scaling
#
# `x = x * self.scaling` with `scaling = d_model ** -0.5` looks like the $1/\sqrt{d}$ of scaled
# dot-product attention (lesson 08), but it is not that: it scales the module's *input*, before
# `linear1`, and `MultiheadAttention` divides its scores by $\sqrt{64}$ anyway.  Queries and keys
# are, up to their biases, proportional to the input, so the scores shrink by roughly
# $(1/\sqrt{512})^2 = 1/512$ on top of the usual scale, and at initialisation every query spreads
# its weight almost evenly over all time steps.  Training can undo it -- `linear1` only has to
# learn weights $\sqrt{512} \approx 23$ times larger -- but the factor buys nothing, growing the
# weights takes training time (section 6), and their size is what regularisation penalises.  We
# compare the attention weights of the same freshly initialised module with and without the factor.

# %%
tinymed.manual_seed(1)
fresh = Attention(d_model=512).eval()


def head_weights(module, inputs, scale_input):
    with tinymed.no_grad():
        hidden = module.linear1(Tensor(inputs) * (module.scaling if scale_input else 1.0))
        _, w = module.multihead_attention(hidden, hidden, hidden, average_attn_weights=False)
    return w.numpy()                                   # (N, heads, L, L)


with_factor, without_factor = head_weights(fresh, x, True), head_weights(fresh, x, False)
uniform = 1 / L
for name, w in (("with x * d_model**-0.5", with_factor), ("without it", without_factor)):
    print(f"{name:24s}: largest weight {w.max():.4f}, mean |weight - 1/L| {np.abs(w - uniform).mean():.5f} (1/L = {uniform:.4f})")
assert np.abs(with_factor - uniform).max() < 0.01                  # nearly uniform
assert np.abs(without_factor - uniform).mean() > 10 * np.abs(with_factor - uniform).mean()

fig, axes = plt.subplots(1, 2, figsize=(9, 4))
limit = without_factor[0, 0].max()
for ax, (title, w) in zip(axes, (("article: x * d_model**-0.5", with_factor), ("without the factor", without_factor))):
    shown = ax.imshow(w[0, 0], cmap="viridis", vmin=0, vmax=limit)
    ax.set(title=f"{title}\n(head 1, patient 1, untrained)", xlabel="key (time step)", ylabel="query (time step)")
fig.colorbar(shown, ax=axes, shrink=0.8)
save_figure(fig, "10_s3_scaling.png", dpi=110)

# %% [markdown]
# ## 6. Predicting deterioration with S3
#
# The article wants S3 to predict how a disease progresses.  We give it lesson 07's task:
# 24 hourly vital signs, does the patient deteriorate within 12 hours?  Three things around the
# module are needed that the article leaves out:
#
# - an input layer `Linear(6, d_model)`: five vital signs and the hour ($t/24$), because attention
#   by itself does not know the order of the steps -- permute the time steps and its outputs are
#   permuted the same way (checked below) -- and a trend needs to know which value came first;
# - a read-out: the mean over time of the module's output, then `Linear(d_model, 1)`;
# - a smaller width: `d_model = 32` with 4 heads is plenty for 24 steps of 6 numbers.
#
# We train it twice from the same initial weights, with the article's `x * d_model ** -0.5` and
# without it, and follow the AUC on held-out patients after every other epoch, next to lesson 07's
# logistic regression on the last time step.

# %%
small = Attention(d_model=32, nhead=4).eval()
sequence = rng.standard_normal((10, 2, 32)).astype(np.float32)
shuffled = rng.permutation(10)
with tinymed.no_grad():
    assert np.allclose(small(Tensor(sequence[shuffled])).numpy(), small(Tensor(sequence)).numpy()[shuffled], atol=1e-6)

n_train = 1000 if QUICK else 3000
X_train, y_train = vital_signs(n_train, seed=1)
X_test, y_test = vital_signs(1000, seed=2)
mean, std = X_train.reshape(-1, 5).mean(axis=0), X_train.reshape(-1, 5).std(axis=0)
targets = y_train.astype(np.float32)


def features(X):
    """(24, patients, 6): standardised vital signs and the hour, in S3's sequence-first layout."""
    z = (X - mean) / std
    hour = np.broadcast_to((np.arange(24) / 24)[None, :, None], (len(X), 24, 1))
    return np.concatenate([z, hour], axis=2).transpose(1, 0, 2).astype(np.float32)


F_train, F_test = features(X_train), features(X_test)


def train_s3(article_scaling, epochs):
    """Train input layer + S3 + read-out; returns the held-out AUC after every other epoch."""
    tinymed.manual_seed(0)
    embed, s3, head = nn.Linear(6, 32), Attention(d_model=32, nhead=4, dropout=0.1), nn.Linear(32, 1)
    if not article_scaling:
        s3.scaling = 1.0

    def predict(inputs):
        return head(s3(embed(inputs)).mean(dim=0)).reshape(-1)

    opt = tinymed.optim.Adam(list(embed.parameters()) + list(s3.parameters()) + list(head.parameters()), lr=1e-2)
    batches = np.random.default_rng(0)
    aucs = []
    for epoch in range(epochs):
        s3.train()
        order = batches.permutation(n_train)
        for first in range(0, n_train, 64):
            rows = order[first:first + 64]
            loss = F.binary_cross_entropy_with_logits(predict(Tensor(F_train[:, rows])), targets[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch % 2 == 1:
            s3.eval()
            with tinymed.no_grad():
                aucs.append(roc_auc_score(y_test, predict(Tensor(F_test)).numpy()))
    return np.array(aucs)


epochs = 8 if QUICK else 20
curves = {"S3 as in the article": train_s3(True, epochs), "S3 without x * d_model**-0.5": train_s3(False, epochs)}

last = nn.Linear(5, 1)
opt = tinymed.optim.Adam(last.parameters(), lr=0.05)
for _ in range(200):
    loss = F.binary_cross_entropy_with_logits(last(Tensor(F_train[-1, :, :5])).reshape(-1), targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
with tinymed.no_grad():
    auc_last = roc_auc_score(y_test, last(Tensor(F_test[-1, :, :5])).numpy().ravel())

print(f"logistic regression on the last hour: AUC {auc_last:.3f}")
for name, aucs in curves.items():
    print(f"{name:30s} AUC after epochs 2, 4, ...: {np.round(aucs, 3)}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, aucs in curves.items():
    ax.plot(np.arange(2, epochs + 1, 2), aucs, "o-", label=name)
ax.axhline(auc_last, color="grey", ls=":", label="logistic regression, last hour")
ax.set(xlabel="epoch", ylabel="ROC AUC on held-out patients", title="Deterioration within 12 h, S3 on 24 hours")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "10_s3_vital_signs.png", dpi=110)

article, plain = curves["S3 as in the article"], curves["S3 without x * d_model**-0.5"]
assert plain[-1] > auc_last + 0.04            # S3 reads the trend a snapshot misses
assert plain.mean() > article.mean() + 0.02   # and learns faster without the extra factor

# %% [markdown]
# ## Summary
#
# - S3 as printed stops at three errors: the Keras base class `Layer`, `Dropout` never imported,
#   and `MultiheadAttention`'s `(output, weights)` pair passed on as if it were the output.  With
#   those fixed it runs unchanged in tinymed and in PyTorch.
# - tinymed's port gives the numbers of multi-head attention written out by hand, and PyTorch's
#   outputs, attention weights and gradients for the same weights.
# - `x * d_model ** -0.5` is not the $1/\sqrt{d}$ of attention (which `MultiheadAttention` already
#   applies): it shrinks the scores some 500-fold and flattens the initial attention.
# - Around the module, a task needs an input layer, a read-out, and a way to know the order of the
#   time steps; then S3 reads a day of vital signs better than a snapshot does -- sooner without
#   the extra factor.
#
# **Exercises.** (1) Remove the hour feature in section 6: what happens to the AUC, and why?
# (2) Replace S3 by `nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)`, which adds the residual
# connections and the `LayerNorm` the article imports but never uses; compare.  (3) Print
# `attention.num_parameters()` for `d_model=512`: how much of it is the attention itself?
