# %% [markdown]
# # Lesson 09 — Sequence to sequence with attention
# The article's encoder-decoder F8 with attention (F7) turns free-text medication orders into a canonical form: teacher forcing in training, greedy decoding, and where the decoder looks.
#
# Article 000 §3.2.1 (formula F8) describes the sequence-to-sequence model: *an encoder encodes
# the input sequence into a fixed-length vector, and a decoder generates the output sequence
# from this vector*; §3.2.2 adds attention, which *computes the relevance between every input
# position and the output position* so that the model can focus on the key parts of the input.
# The article's use case is translation; in medicine the same machinery turns one way of writing
# something into another.  Here: a clinician's free-text medication order,
#
# > give lasix forty milligrams iv twice a day
#
# becomes the canonical order a pharmacy system can check against limits and interactions,
#
# > furosemide 40 mg IV BID
#
# -- generic drug name, dose in mg (grams converted), route and frequency as standard
# abbreviations, and by mouth (PO) when no route is written.
#
# `tinymed.nn.Seq2Seq` is such a model.  With $x_1..x_S$ the order's words and $y_1..y_T$ the
# canonical tokens:
#
# $$h_1..h_S = \text{GRU}_{enc}(\text{embed}(x_1..x_S)), \qquad s_t = \text{GRU}_{dec}(\text{embed}(y_{t-1}),\ s_{t-1}),\quad s_0 = h_S$$
#
# $$\alpha_{tj} = \operatorname{softmax}_j\Big(\frac{s_t \cdot h_j}{\sqrt H}\Big), \qquad c_t = \sum_j \alpha_{tj} h_j \qquad \text{(F7, padding masked)}$$
#
# $$p(y_t \mid y_{<t}, x) = \operatorname{softmax}\big(W_o \tanh(W_c [s_t; c_t] + b_c) + b_o\big)$$
#
# $s_0 = h_S$ is the article's "fixed-length vector"; the context $c_t$ is the attention.

# %%
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
from tinymed.data import Tokenizer, Vocabulary, medication_orders
from tinymed.lessons import quick, save_figure

QUICK = quick()
tinymed.manual_seed(0)

# %% [markdown]
# ## 1. Data and vocabularies
#
# `medication_orders` writes orders the way people type them: brand or generic names, doses in
# mg, milligrams, grams or words ("eight hundred and fifty milligrams"), routes as "po", "p.o.",
# "by mouth", "orally", frequencies as "bd", "twice a day", "every 12 hours", "q12h", in several
# word orders.
#
# The source side is split into words, numbers and punctuation by `Tokenizer`.  The target side
# is already tidy, so each of its five fields is one token ("Q4H" stays one token), with `<eos>`
# at the end.  Both vocabularies start with the special tokens `<pad>` = 0, `<unk>` = 1,
# `<bos>` = 2, `<eos>` = 3, which `Seq2Seq` expects.

# %%
n_train = 2000
orders_train, canonical_train = medication_orders(n_train, seed=1)
orders_test, canonical_test = medication_orders(500, seed=2)
for text, canonical in zip(orders_train[:6], canonical_train[:6]):
    print(f"{text:55s} -> {canonical}")

source = Tokenizer().fit(orders_train)
target = Vocabulary(word for canonical in canonical_train for word in canonical.split())


def encode_targets(canonicals):
    """(n, 6) token ids: the five fields, <eos>, padded with <pad>."""
    ids = np.full((len(canonicals), 6), target.pad_idx, dtype=np.int64)
    for i, canonical in enumerate(canonicals):
        row = [target[word] for word in canonical.split()] + [target.eos_idx]
        ids[i, :len(row)] = row
    return ids


def decode_targets(ids):
    """Canonical strings from generated ids (up to <eos>)."""
    texts = []
    for row in ids:
        words = []
        for i in row:
            if i == target.eos_idx:
                break
            words.append(target.lookup_token(int(i)))
        texts.append(" ".join(words))
    return texts


src_train, tgt_train = source.encode(list(orders_train)), encode_targets(canonical_train)
src_test = source.encode(list(orders_test))
print(f"source vocabulary {len(source.vocab)} tokens, target vocabulary {len(target)} tokens; "
      f"source {src_train.shape}, target {tgt_train.shape}")
assert decode_targets(tgt_train[:50]) == list(canonical_train[:50])

# %% [markdown]
# ## 2. Teacher forcing
#
# The decoder predicts $y_t$ from $y_{<t}$.  In training we know the true $y_{<t}$, so we feed
# those -- the target shifted right by one, with `<bos>` in front -- instead of the model's own,
# still poor, guesses.  This is **teacher forcing**: every step sees correct history, and since
# the inputs are all known in advance, all $T$ steps run in *one* call of the decoder GRU and one
# cross-entropy covers the whole target (padding excluded).  `Seq2Seq.loss(src, tgt)` does the
# shifting.
#
# That one call must give the same predictions as feeding the true tokens one step at a time --
# the decoder is causal, so step $t$ cannot see $y_t, y_{t+1}, \dots$.  We check it on an untrained
# model by decoding ever longer prefixes.

# %%
model = nn.Seq2Seq(len(source.vocab), len(target), embed_dim=32, hidden_size=64)
print(model)
few_src, few_tgt = src_train[:4], tgt_train[:4]
tgt_in = np.concatenate([np.full((4, 1), target.bos_idx), few_tgt[:, :-1]], axis=1)   # <bos> y_1 .. y_{T-1}
with tinymed.no_grad():
    all_at_once = model(few_src, tgt_in).numpy()                                        # (4, T, vocab)
    one_by_one = np.stack([model(few_src, tgt_in[:, :t + 1]).numpy()[:, -1] for t in range(tgt_in.shape[1])], axis=1)
print(f"max |all steps at once - one step at a time| = {np.max(np.abs(all_at_once - one_by_one)):.1e}")
assert np.allclose(all_at_once, one_by_one, rtol=1e-5, atol=1e-6)

# %% [markdown]
# ## 3. Training
#
# Adam on mini-batches of 64 orders.  Next to tinymed's model we train a variant that keeps the
# attention but drops the article's fixed-length vector: its decoder starts from $s_0 = 0$, so
# everything it knows about the order has to come through attention.  Three lines of subclassing
# (overriding the public `encode`).

# %%
class AttentionOnly(nn.Seq2Seq):
    """The same model with s_0 = 0: no summary vector, the decoder must look things up."""

    def encode(self, src):
        states, summary, may_attend = super().encode(src)
        return states, summary * 0.0, may_attend


def train(model, steps, seed=0):
    opt = tinymed.optim.Adam(model.parameters(), lr=1e-2)
    batches = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        rows = batches.integers(0, n_train, 64)
        loss = model.loss(src_train[rows], tgt_train[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    return np.array(losses)


steps = 120 if QUICK else 500
models, losses = {}, {}
for name, cls in (("Seq2Seq (summary + attention)", nn.Seq2Seq), ("attention only (s_0 = 0)", AttentionOnly)):
    tinymed.manual_seed(0)
    models[name] = cls(len(source.vocab), len(target), embed_dim=32, hidden_size=64)
    start = time.perf_counter()
    losses[name] = train(models[name], steps)
    print(f"{name}: {steps} steps in {time.perf_counter() - start:.1f} s, last loss {losses[name][-1]:.4f}")

fig, ax = plt.subplots(figsize=(6, 3.8))
for name, curve in losses.items():
    ax.semilogy(curve, lw=1, label=name)
ax.set(xlabel="training step (batch of 64 orders)", ylabel="cross-entropy per target token",
       title="Teacher-forced training")
ax.legend()
fig.tight_layout()
save_figure(fig, "09_training_loss.png", dpi=120)

# %% [markdown]
# ## 4. Greedy decoding
#
# At test time there is no teacher.  The decoder starts from `<bos>`, takes the most likely token,
# feeds it back in as the next input, and stops at `<eos>` (`Seq2Seq.greedy_decode`).  Greedy is
# not guaranteed to find the most likely *sequence* (beam search keeps several candidates), but
# with one right answer per order it is what we need.  A mistake early on cannot be undone, and in
# training the model never saw its own mistakes -- the price of teacher forcing, called *exposure
# bias*.
#
# We score exact matches of the whole canonical order and the accuracy of each field.

# %%
fields = ("drug", "dose", "unit", "route", "frequency")
decoded = {}
for name, m in models.items():
    tokens, attention = m.greedy_decode(src_test, max_len=7)
    predicted = decode_targets(tokens)
    decoded[name] = (predicted, attention)
    exact = np.mean([p == c for p, c in zip(predicted, canonical_test)])
    per_field = np.mean([[a == b for a, b in zip(p.split() + [""] * 5, c.split())]
                         for p, c in zip(predicted, canonical_test)], axis=0)
    print(f"{name}: exact match {exact:.3f};  " + ", ".join(f"{f} {v:.3f}" for f, v in zip(fields, per_field)))
    assert exact > (0.9 if QUICK else 0.97)

predicted, attention = decoded["Seq2Seq (summary + attention)"]
wrong = [i for i, (p, c) in enumerate(zip(predicted, canonical_test)) if p != c]
print(f"\nSeq2Seq's mistakes ({len(wrong)} of {len(predicted)}):")
for i in wrong[:5]:
    print(f"  {orders_test[i]:50s} -> {predicted[i]:28s} (should be {canonical_test[i]})")

# %% [markdown]
# ## 5. Where does the decoder look?
#
# The attention weights $\alpha_{tj}$ of every generated token over the order's words, as a
# heatmap: one row per output token, one column per source word.

# %%
def source_words(i):
    return [source.vocab.lookup_token(int(t)) for t in src_test[i] if t != source.vocab.pad_idx]


examples = [0, 2, 5]
fig, axes = plt.subplots(2, len(examples), figsize=(5 * len(examples), 7))
for row, (name, (predicted_m, attention_m)) in enumerate(decoded.items()):
    for ax, i in zip(axes[row], examples):
        words = source_words(i)
        out_words = predicted_m[i].split() + ["<eos>"]
        ax.imshow(attention_m[i, :len(out_words), :len(words)], cmap="Blues", vmin=0)
        ax.set_xticks(range(len(words)), words, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(len(out_words)), out_words, fontsize=8)
        ax.set_title(name, fontsize=9)
fig.suptitle("Attention of each generated token (rows) over the words of the order (columns)")
fig.tight_layout()
save_figure(fig, "09_attention_alignment.png", dpi=110)

# %% [markdown]
# In tinymed's model the attention is spread out, especially for the first tokens.  The decoder
# does not need it there: its first state $s_0 = h_S$ already summarises the whole order, because
# the encoder reads left to right and its last state has seen every word.  Without that summary the
# decoder has to *find* each piece, and its attention becomes sharper -- most visibly for the drug
# name, which it now reads off the word that names it.  (A row often lights up on the word *after*
# the one it copies -- the dose on "mg" -- because the encoder state of a word has seen the words
# before it: $h_j$ summarises $x_1..x_j$, not $x_j$ alone.)
#
# We measure both.  The sharpness of a row of weights is its entropy
# $-\sum_j \alpha_{tj} \log \alpha_{tj}$ (0 for a single word, $\log S$ for uniform).  And which words
# name a drug we learn from the training data: a word that occurs in the orders of exactly one
# drug (a brand name, the generic name, or a dose only that drug has).

# %%
words_by_drug = {}
for text, canonical in zip(orders_train, canonical_train):
    words_by_drug.setdefault(canonical.split()[0], set()).update(Tokenizer.tokenize(text))
drugs_per_word = Counter(word for words in words_by_drug.values() for word in words)
naming = {drug: {w for w in words if drugs_per_word[w] == 1} for drug, words in words_by_drug.items()}


def alignment_report(predicted_m, attention_m):
    entropy, on_drug_word = [], []
    for i, canonical in enumerate(canonical_test):
        n_words, n_out = len(source_words(i)), len(canonical.split())
        rows = np.clip(attention_m[i, :n_out, :n_words], 1e-12, 1)
        entropy.append(np.mean(-(rows * np.log(rows)).sum(axis=1) / np.log(max(n_words, 2))))
        looked_at = source_words(i)[int(attention_m[i, 0, :n_words].argmax())]
        on_drug_word.append(looked_at in naming[canonical.split()[0]])
    return np.mean(entropy), np.mean(on_drug_word)


report = {name: alignment_report(*decoded[name]) for name in decoded}
for name, (entropy, on_drug) in report.items():
    print(f"{name:30s} attention entropy (1 = uniform) {entropy:.2f};  writing the drug, it looks "
          f"hardest at a word naming the drug in {on_drug:.0%} of orders")
full, attention_only = report["Seq2Seq (summary + attention)"], report["attention only (s_0 = 0)"]
assert attention_only[0] < full[0]                   # sharper without the summary vector
assert attention_only[1] > 0.4 and attention_only[1] > full[1] + 0.2

# %% [markdown]
# ## Summary
#
# - F8's encoder-decoder, with F7's attention over the encoder states, normalises free-text
#   medication orders almost perfectly after a few hundred steps.
# - Teacher forcing feeds the true previous tokens, so a whole target is trained in one call;
#   that call gives the same predictions as one step at a time.  Greedy decoding feeds back the
#   model's own tokens until `<eos>`.
# - Attention is only as sharp as it needs to be: with the article's fixed-length summary vector
#   the model hardly looks at the source for the first tokens; without it, attention must do the
#   work and lines up output tokens with the words they come from.  Attention maps show what a
#   model *used*, not what a human would have pointed at.
#
# **Exercises.** (1) Add orders with a typo in the drug name ("furosemde"): what does the source
# tokenizer do with them, and what does the model answer?  (2) Decode with `max_len=3`: what comes
# out, and why is it still useful to keep `<eos>` in the targets?  (3) Train F8 exactly as the
# article writes it, without attention: override `encode` to return an all-False mask (a query
# whose keys are all masked gets a zero context).  How far does the fixed-length vector alone get
# on these short orders, and on what kind of input would you expect it to break down?
