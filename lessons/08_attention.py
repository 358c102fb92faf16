# %% [markdown]
# # Lesson 08 — Attention
# The articles' attention formula F7 by hand and as F.scaled_dot_product_attention; why scores are divided by √d; boolean and additive masks give exactly zero weight; a clinical-note classifier whose attention you can read, against bag-of-words.
#
# Article 004 §3.1.3 (formula F7) computes, for a sequence of vectors $h_1, \dots, h_T$, the
# attention weights (§3.1.3.1) and the attention vectors (§3.1.3.2)
#
# $$e_{ij} = \frac{\exp(s(h_i, h_j))}{\sum_{k=1}^{T} \exp(s(h_i, h_k))}, \qquad a_i = \sum_{j=1}^{T} e_{ij}\, h_j$$
#
# "where $e_{ij}$ is the attention weight between elements $i$ and $j$ of the input sequence,
# $h_i$ the vector of element $i$, $T$ the length of the sequence and $s$ the function that computes
# the weights, usually the inner product."  Article 001 §3.1.3 describes the same in words (the
# attention of each position is its similarity to the others, normalised by a softmax), and
# article 000 §3.2.2 says what it is for: to let a model *focus on the key information* in its
# input.
#
# Row $i$ of $e$ is a softmax: weights $\ge 0$ that sum to 1, saying how much position $i$ looks at
# each position $j$; $a_i$ is the correspondingly weighted average of the vectors.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import Tokenizer, clinical_notes
from tinymed.data.notes import DIAGNOSES
from tinymed.lessons import quick, save_figure

QUICK = quick()
tinymed.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. F7 by hand and with tinymed
#
# Six vectors of dimension 4 stand for six words of a sentence.  First the formula exactly as
# printed, with the inner product as $s$.

# %%
T, d = 6, 4
h = rng.standard_normal((T, d))


def f7_by_hand(h):
    """e_ij = exp(h_i . h_j) / sum_k exp(h_i . h_k);  a_i = sum_j e_ij h_j."""
    n = len(h)
    e = np.empty((n, n))
    for i in range(n):
        denominator = sum(np.exp(h[i] @ h[k]) for k in range(n))
        for j in range(n):
            e[i, j] = np.exp(h[i] @ h[j]) / denominator
    a = np.array([sum(e[i, j] * h[j] for j in range(n)) for i in range(n)])
    return e, a


e_by_hand, a_by_hand = f7_by_hand(h)
print("row sums of e:", e_by_hand.sum(axis=1).round(12))

# %% [markdown]
# The standard form (Vaswani et al. 2017), PyTorch's `scaled_dot_product_attention`, gives the
# three roles of $h$ their own vectors -- a query $q_i$ asks, the keys $k_j$ are compared with it,
# the values $v_j$ are averaged -- and divides the scores by $\sqrt d$:
#
# $$P = \operatorname{softmax}_{\text{row}}\!\Big(\frac{Q K^\top}{\sqrt d} + M\Big), \qquad O = P V .$$
#
# With $Q = K = V = H$, no mask $M$ and the scale set to 1 it *is* F7: $P = e$ and $O = a$.
# tinymed's function has PyTorch's signature, plus `return_weights=True` to hand back $P$.

# %%
H_t = Tensor(h)
a_tinymed, e_tinymed = F.scaled_dot_product_attention(H_t, H_t, H_t, scale=1.0, return_weights=True)
print(f"max |e - by hand| = {np.max(np.abs(e_tinymed.numpy() - e_by_hand)):.1e}, "
      f"max |a - by hand| = {np.max(np.abs(a_tinymed.numpy() - a_by_hand)):.1e}")
assert np.allclose(e_tinymed.numpy(), e_by_hand, rtol=1e-12, atol=1e-15)
assert np.allclose(a_tinymed.numpy(), a_by_hand, rtol=1e-12, atol=1e-15)

# %% [markdown]
# ## 2. Why divide by $\sqrt d$?
#
# F7 has no scale, and for short vectors that is fine.  But suppose the components of $q$ and $k$
# are independent with mean 0 and variance 1 (which is roughly what initialisation and layer
# normalisation give).  Then $q \cdot k = \sum_{m=1}^{d} q_m k_m$ is a sum of $d$ independent terms
# of variance 1:
#
# $$\operatorname{Var}(q \cdot k) = d, \qquad \operatorname{Var}\Big(\frac{q \cdot k}{\sqrt d}\Big) = 1 .$$
#
# Unscaled scores spread out like $\sqrt d$, so one of them soon dwarfs the others and the
# softmax puts almost all the weight on it.  A saturated softmax also stops learning: its Jacobian
# $\partial P_j/\partial S_k = P_j(\delta_{jk} - P_k)$ is zero when $P$ is one-hot, so hardly any
# gradient reaches the queries and keys.  We measure all three -- the variance of the scores, the
# largest weight in a row, and the norm of the softmax Jacobian -- for $S = 32$ keys.

# %%
widths = [4, 16, 64, 256, 1024]
n_queries, n_keys = 200, 32
rows = []
for width in widths:
    q = Tensor(rng.standard_normal((n_queries, 1, width)))
    k = Tensor(rng.standard_normal((n_queries, n_keys, width)))
    scores = (q.numpy() @ k.numpy().transpose(0, 2, 1)).ravel()
    row = {"d": width, "var": scores.var()}
    for name, scale in (("unscaled", 1.0), ("scaled", None)):
        _, p = F.scaled_dot_product_attention(q, k, k, scale=scale, return_weights=True)
        p = p.numpy()[:, 0]                                       # (queries, keys)
        jacobian = np.einsum("nj,jk->njk", p, np.eye(n_keys)) - p[:, :, None] * p[:, None, :]
        row[f"max weight {name}"] = p.max(axis=1).mean()
        row[f"|J| {name}"] = np.linalg.norm(jacobian, axis=(1, 2)).mean()
    rows.append(row)
    print(f"d = {width:5d}: Var(q.k) = {row['var']:7.1f};  mean largest weight: unscaled "
          f"{row['max weight unscaled']:.3f}, scaled {row['max weight scaled']:.3f};  mean ||Jacobian||: "
          f"unscaled {row['|J| unscaled']:.4f}, scaled {row['|J| scaled']:.4f}")

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.loglog(widths, [r["var"] for r in rows], "o-", label=r"measured Var$(q \cdot k)$")
left.loglog(widths, widths, "k:", label="d")
left.set(xlabel="dimension d", ylabel="variance of the score", title="Unscaled scores grow with d")
left.legend()
for name, style in (("unscaled", "o-"), ("scaled", "s--")):
    right.semilogx(widths, [r[f"max weight {name}"] for r in rows], style, label=f"largest weight, {name}")
    right.semilogx(widths, [r[f"|J| {name}"] for r in rows], style, alpha=0.5, label=f"softmax Jacobian norm, {name}")
right.axhline(1 / n_keys, color="grey", lw=1, ls=":", label=f"uniform weight 1/{n_keys}")
right.set(xlabel="dimension d", title=r"Without $1/\sqrt{d}$ the softmax saturates")
right.legend(fontsize=7)
fig.tight_layout()
save_figure(fig, "08_scaling.png", dpi=120)

for r in rows:
    assert abs(r["var"] / r["d"] - 1) < 0.15                       # Var(q.k) = d
widest, narrowest = rows[-1], rows[0]
assert widest["max weight unscaled"] > 0.9                            # almost one-hot
assert widest["|J| unscaled"] < 0.5 * widest["|J| scaled"]            # and almost no gradient
assert abs(widest["max weight scaled"] - narrowest["max weight scaled"]) < 0.1   # scaled: the same at any d

# %% [markdown]
# ## 3. Masks
#
# Sequences in a batch have different lengths, so the short ones are padded, and the padding
# must not be looked at.  A **mask** removes keys from a query's softmax.  tinymed follows
# PyTorch's `scaled_dot_product_attention`:
#
# - a **boolean** mask is True where the query *may* attend;
# - a **float** mask is *added* to the scores: 0 keeps a key, $-\infty$ removes it (any other value
#   biases it);
# - `is_causal=True` lets position $i$ see positions $j \le i$ only (for generating text left to right).
#
# Since $e^{-\infty} = 0$, a masked key gets **exactly** zero weight -- not a small number -- and so
# neither its value nor its key can change the output.  (Careful: `nn.MultiheadAttention`, like
# PyTorch's, uses the *opposite* boolean convention for `key_padding_mask` and `attn_mask`:
# True = do **not** attend.)

# %%
lengths = np.array([5, 3, 6])                      # three notes of 5, 3 and 6 words, padded to 6
x = rng.standard_normal((3, 6, d))
may_attend = np.arange(6)[None, None, :] < lengths[:, None, None]   # (3, 1, 6): keys that are real words
additive = np.where(may_attend, 0.0, -np.inf)

out_bool, w_bool = F.scaled_dot_product_attention(Tensor(x), Tensor(x), Tensor(x), may_attend, return_weights=True)
out_float = F.scaled_dot_product_attention(Tensor(x), Tensor(x), Tensor(x), additive)
out_tensor = F.scaled_dot_product_attention(Tensor(x), Tensor(x), Tensor(x), Tensor(may_attend))
x_changed = x.copy()
x_changed[~may_attend[:, 0]] = 1e3                 # change only the padding
out_changed = F.scaled_dot_product_attention(Tensor(x), Tensor(x_changed), Tensor(x_changed), may_attend)

weights = w_bool.numpy()
print("weights of note 2 (3 real words), every query:\n", weights[1].round(3))
assert np.all(weights[~np.broadcast_to(may_attend, weights.shape)] == 0.0)    # exactly zero
assert np.allclose(weights.sum(axis=-1), 1.0)
assert np.array_equal(out_bool.numpy(), out_tensor.numpy())
assert np.allclose(out_bool.numpy(), out_float.numpy(), rtol=1e-14, atol=1e-15)
assert np.array_equal(out_changed.numpy(), out_bool.numpy())                    # padding changes nothing

# the same masking in nn.MultiheadAttention, with its opposite convention
mha = nn.MultiheadAttention(d, 2, batch_first=True).double()
_, w_mha = mha(x, x, x, key_padding_mask=~may_attend[:, 0])
assert np.all(w_mha.numpy()[~np.broadcast_to(may_attend, weights.shape)] == 0.0)

_, w_causal = F.scaled_dot_product_attention(Tensor(x[0]), Tensor(x[0]), Tensor(x[0]), is_causal=True,
                                             return_weights=True)
assert np.all(np.triu(w_causal.numpy(), k=1) == 0.0)                           # no look at the future

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
panels = [(weights[0], "padding mask (5 of 6 real)"), (weights[1], "padding mask (3 of 6 real)"),
          (w_causal.numpy(), "causal mask")]
for ax, (w, title) in zip(axes, panels):
    ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set(title=title, xlabel="key j", ylabel="query i")
fig.suptitle("Attention weights: masked keys get exactly 0")
fig.tight_layout()
save_figure(fig, "08_masks.png", dpi=100)

# %% [markdown]
# ## 4. Reading clinical notes
#
# `tinymed.data.clinical_notes` writes short admission notes, each with one of four diagnoses:
# pneumonia, heart failure, urinary tract infection or stroke.  They are built to defeat keyword
# spotting: symptoms are shared (fever, breathlessness, confusion), other diagnoses appear in the
# past history ("history of heart failure"), and findings of *other* diagnoses are often
# **negated** ("no ankle swelling").

# %%
n_train = 800 if QUICK else 2000
notes_train, y_train = clinical_notes(n_train, seed=1)
notes_test, y_test = clinical_notes(1000, seed=2)
for note, label in zip(notes_train[:3], y_train[:3]):
    print(f"[{DIAGNOSES[label]}] {note}")

tokenizer = Tokenizer(min_freq=2).fit(notes_train)
ids_train, ids_test = tokenizer.encode(list(notes_train)), tokenizer.encode(list(notes_test))
vocab_size = len(tokenizer.vocab)
print(f"{n_train} training notes, vocabulary of {vocab_size} words, up to {ids_train.shape[1]} tokens a note")

# %% [markdown]
# **Baseline: bag of words.**  Count how often each word occurs in a note and fit a softmax
# (multinomial logistic) regression on the counts, with an L2 penalty chosen on a validation part
# of the training notes.  It sees *which* words occur but not their order, so "no ankle swelling"
# is evidence for heart failure, exactly like "ankle swelling".

# %%
def word_counts(ids):
    counts = np.zeros((len(ids), vocab_size), dtype=np.float32)
    np.add.at(counts, (np.repeat(np.arange(len(ids)), ids.shape[1]), ids.ravel()), 1.0)
    counts[:, tokenizer.vocab.pad_idx] = 0
    return counts


def fit_bag_of_words(counts, labels, l2, steps=300):
    tinymed.manual_seed(0)
    model = nn.Linear(vocab_size, len(DIAGNOSES))
    opt = tinymed.optim.Adam(model.parameters(), lr=0.05, weight_decay=l2)
    for _ in range(steps):
        loss = F.cross_entropy(model(Tensor(counts)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def accuracy(model_fn, inputs, labels):
    with tinymed.no_grad():
        return float(np.mean(model_fn(inputs).numpy().argmax(axis=1) == labels))


counts_train, counts_test = word_counts(ids_train), word_counts(ids_test)
split = int(0.8 * n_train)
validation = {}
for l2 in (0.0, 1e-3, 1e-2, 3e-2):
    candidate = fit_bag_of_words(counts_train[:split], y_train[:split], l2)
    validation[l2] = accuracy(lambda c: candidate(Tensor(c)), counts_train[split:], y_train[split:])
best_l2 = max(validation, key=validation.get)
bag_of_words = fit_bag_of_words(counts_train, y_train, best_l2)
acc_bag = accuracy(lambda c: bag_of_words(Tensor(c)), counts_test, y_test)
print("validation accuracy by L2 penalty:", {k: round(v, 3) for k, v in validation.items()})
print(f"bag of words (L2 {best_l2}): test accuracy {acc_bag:.3f}")

# %% [markdown]
# **With attention.**  The model reads the note in order:
#
# 1. each word becomes a vector (`nn.Embedding`);
# 2. a bidirectional GRU (lesson 07) turns it into a vector $h_j$ that also knows the words around
#    it -- so "swelling" after "no" can look different from "swelling" after "with";
# 3. **attention pooling**: one learned query $q$ asks every word how relevant it is,
#    $e_j = \operatorname{softmax}_j(q \cdot h_j / \sqrt{d})$, with the padding masked, and the note
#    is summarised by $a = \sum_j e_j h_j$ -- F7 with a single query;
# 4. a `Linear` layer maps $a$ to the four diagnoses.
#
# The weights $e_j$ are the model's answer to "which words did you use?", and we can plot them.

# %%
class AttentionNoteClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden=32, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.query = nn.Parameter(np.random.default_rng(0).standard_normal(2 * hidden) / np.sqrt(2 * hidden),
                                  dtype=np.float32)
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, ids):
        """Logits (N, classes) and the attention weights (N, length) over the words."""
        states, _ = self.gru(self.embed(ids))                       # (N, L, 2H)
        n, _, width = states.shape
        q = self.query.reshape(1, 1, width) + Tensor(np.zeros((n, 1, width), np.float32))
        may_attend = (ids != 0)[:, None, :]                          # (N, 1, L): real words only
        summary, e = F.scaled_dot_product_attention(q, states, states, may_attend, return_weights=True)
        return self.out(summary.reshape(n, width)), e.numpy()[:, 0]


def trimmed(ids):
    """Drop the columns that are padding in every row of the batch."""
    return ids[:, :max(1, int((ids != 0).sum(axis=1).max()))]


tinymed.manual_seed(0)
model = AttentionNoteClassifier(vocab_size)
opt = tinymed.optim.Adam(model.parameters(), lr=1e-2)
order_rng = np.random.default_rng(0)
start = time.perf_counter()
for epoch in range(4 if QUICK else 6):
    order = order_rng.permutation(n_train)
    for first in range(0, n_train, 32):
        batch = order[first:first + 32]
        logits, _ = model(trimmed(ids_train[batch]))
        loss = F.cross_entropy(logits, y_train[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"epoch {epoch + 1}: last batch loss {loss.item():.3f}  ({time.perf_counter() - start:.1f} s)")
model.eval()
acc_attention = accuracy(lambda ids: model(ids)[0], ids_test, y_test)
print(f"bag of words            test accuracy {acc_bag:.3f}")
print(f"GRU + attention pooling test accuracy {acc_attention:.3f}")
assert acc_attention > acc_bag + 0.03, (acc_attention, acc_bag)

# %% [markdown]
# ## 5. What the model looks at
#
# A heatmap of the attention weights $e_j$ over the words of a few test notes.  Each row sums to 1.

# %%
with tinymed.no_grad():
    test_logits, test_attention = model(ids_test)
predicted = test_logits.numpy().argmax(axis=1)
shown = [i for i in range(40) if predicted[i] == y_test[i]][:5]

fig, axes = plt.subplots(len(shown), 1, figsize=(14, 1.35 * len(shown)))
for ax, i in zip(axes, shown):
    length = int((ids_test[i] != 0).sum())
    words = [tokenizer.vocab.lookup_token(int(t)) for t in ids_test[i, :length]]
    ax.imshow(test_attention[i, :length][None], cmap="Reds", aspect="auto", vmin=0)
    ax.set_xticks(range(length), words, rotation=60, ha="right", fontsize=7)
    ax.set_yticks([])
    ax.set_title(f"{DIAGNOSES[y_test[i]]} (predicted {DIAGNOSES[predicted[i]]})", fontsize=8, loc="left")
fig.suptitle("Attention weights over the words of clinical notes (darker = more weight)", fontsize=10)
fig.tight_layout()
save_figure(fig, "08_note_attention.png", dpi=100)

# %% [markdown]
# Does it ignore what is negated?  Split every test note into its sentences and compare the
# attention per word in sentences that deny something ("no ...", "denies ...", "... not present")
# with the attention per word in the presenting complaint (the first sentence).  Then the notes
# where the two models disagree.

# %%
def attention_per_word_by_sentence(note, weights, token_ids):
    """Mean attention per word of the note's negated sentences and of its first sentence."""
    sentences = [s.strip() for s in note.split(".") if s.strip()]
    position, negated, complaint = 0, [], []
    for n_sentence, sentence in enumerate(sentences):
        count = len(Tokenizer.tokenize(sentence)) + 1                 # the words and the full stop
        share = list(weights[position:position + count])
        is_negated = sentence.startswith(("no ", "denies ")) or sentence.endswith("not present")
        (negated if is_negated else complaint if n_sentence == 0 else []).extend(share)
        position += count
    return (np.mean(negated) if negated else np.nan), np.mean(complaint)


pairs = np.array([attention_per_word_by_sentence(notes_test[i], test_attention[i], ids_test[i])
                  for i in range(len(notes_test))])
negated_mean, complaint_mean = np.nanmean(pairs[:, 0]), np.mean(pairs[:, 1])
print(f"attention per word: presenting complaint {complaint_mean:.4f}, negated findings {negated_mean:.4f}")
assert complaint_mean > 1.5 * negated_mean

bag_predicted = counts_test @ bag_of_words.weight.numpy().T + bag_of_words.bias.numpy()
fixed = np.flatnonzero((predicted == y_test) & (bag_predicted.argmax(axis=1) != y_test))
print(f"\nthe attention model is right and bag of words wrong on {len(fixed)} of {len(y_test)} test notes, e.g.")
for i in fixed[:3]:
    print(f"  [{DIAGNOSES[y_test[i]]}; bag of words said {DIAGNOSES[bag_predicted[i].argmax()]}] {notes_test[i]}")

# %% [markdown]
# ## Summary
#
# - F7's $e_{ij}$ and $a_i$ are `F.scaled_dot_product_attention(H, H, H, scale=1.0)`; the standard
#   form separates queries, keys and values and divides the scores by $\sqrt d$.
# - Without that scale the scores' variance grows like $d$, the softmax saturates onto one key and
#   its Jacobian -- the gradient -- vanishes; with it the weights look the same at any width.
# - Boolean masks (True = may attend) and additive $-\infty$ masks give masked keys exactly zero
#   weight, so padding cannot change the result.  `nn.MultiheadAttention`'s masks mean the opposite
#   (True = ignore).
# - On clinical notes, a model that reads words in context and pools them with attention beats a
#   bag of words, and its weights show where it looked -- less at negated findings than at the
#   presenting complaint.  Attention weights are a view of the model, not a proof of its reasoning:
#   high weight on a word does not by itself mean the word caused the decision.
#
# **Exercises.** (1) Add the word pairs (bigrams) to the bag of words: how close does it get?
# (2) Replace attention pooling by the mean of the GRU states (`states.mean(dim=1)`, padding
# included): what happens to accuracy, and why does the padding now matter?  (3) In section 2,
# repeat the measurement with $S = 256$ keys: at which $d$ does the unscaled softmax saturate now?
