# %% [markdown]
# # Lesson 17 — Pretraining, then fine-tuning
# A BERT learns from unlabelled notes by filling in masked words (masked-language-model pretraining), then learns to diagnose triage notes from 20, 50, 200 or 1,000 labels -- against the same BERT trained from scratch on the labels alone.
#
# Article 000 §2 names BERT among the large models, and article 004 §6 asks what a *pretrained*
# model buys and how to use one (F23).  The answer of BERT (Devlin et al. 2019) is two stages:
#
# 1. **Pretraining**, on text nobody labelled: hide some words and learn to guess them back.  To
#    guess "pyrexia" in "with [MASK], rigors and purulent sputum", a model has to learn which words
#    come up together -- which is much of what a clinician knows about them.
# 2. **Fine-tuning**, on the task, with the few labels there are: start from the pretrained
#    weights, add a small head, train everything a little.
#
# A hospital has an archive of radiology reports and triage notes, and no labels.  A clinician has
# labelled 50 triage notes with the final diagnosis.  Triage notes are written in whatever words
# the nurse chose: a fever is "fever", "pyrexia", "high temperature" or "sweats".  Fifty labels
# cannot show a model every word that matters; the archive shows which words go together.

# %%
import re
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import clinical_corpus
from tinymed.data.clinical_corpus import DIAGNOSES, FINDING_VARIANTS, KINDS
from tinymed.lessons import quick, save_figure
from tinymed.models import BERT, BertConfig, BertForMaskedLM, mask_tokens, weight_decay_groups
from tinymed.optim import AdamW, clip_grad_norm_, get_cosine_schedule_with_warmup
from tinymed.text import BPETokenizer

QUICK = quick()
PRETRAIN_STEPS, BATCH = 4000, 32    # quick mode too: 1,500 steps of 16 notes are not enough to help
LABEL_COUNTS = [20, 50, 200, 1000]
REPEATS = 5 if QUICK else 10        # fine-tuning runs per label count and model, paired by seed
MAX_LENGTH = 64
ARCHIVE = ("radiology report", "triage note")
tinymed.manual_seed(0)

# %% [markdown]
# ## 1. The archive, the task and the words
#
# `clinical_corpus(..., phrasing="varied")` writes each symptom and sign in one of two to five ways
# (`FINDING_VARIANTS`).  The same seed gives the same notes in either phrasing:

# %%
for phrasing in ("plain", "varied"):
    print(clinical_corpus(1, language="en", seed=3, kinds=("triage note",), phrasing=phrasing).X[0], "\n")


def triage_notes(n, seed):
    return clinical_corpus(n, language="en", seed=seed, kinds=("triage note",), phrasing="varied")


pool, test = triage_notes(1000, seed=1), triage_notes(600, seed=2)   # labels are drawn from pool
print(f"{len(pool.X)} labelled triage notes to draw from, {len(test.X)} to test on; "
      f"diagnoses: {', '.join(DIAGNOSES)}")

# %% [markdown]
# How many of the words that describe a new note's symptoms and signs has a model seen with a
# label?  Count those never seen in 20, 50, 200 or 1,000 labelled notes:

# %%
FINDING_WORDS = {word for ways in FINDING_VARIANTS.values() for english, _ in ways for word in english.split()}
FINDING_WORDS -= {"a", "an", "the", "of", "on", "at", "to", "in", "with", "and", "left", "right", "both"}


def finding_words(text):
    return {word for word in text.replace(".", " ").replace(",", " ").split() if word in FINDING_WORDS}


test_words = [finding_words(text) for text in test.X]
unseen = {}
for n in LABEL_COUNTS:
    seen = set().union(*map(finding_words, pool.X[:n]))
    unseen[n] = sum(len(w - seen) for w in test_words) / sum(map(len, test_words))
    print(f"{n:5d} labelled notes: {len(seen):3d} of {len(FINDING_WORDS)} finding words seen; "
          f"{unseen[n]:.0%} of those in a test note were never seen with a label")
assert 0.1 < unseen[50] < 0.35 and unseen[200] == 0     # about a fifth with 50 labels; none from 200

# %% [markdown]
# ## 2. A tokenizer that keeps words whole
#
# BPE (lesson 14), trained on 3,000 notes of every kind, with room for 2,048 tokens: enough merges
# that almost every word of these notes is one token (it runs out of pairs to merge just short of
# 2,000).
# A masked-LM has to guess the hidden *word*: with "py", "re", "x", "ia" as tokens, guessing "x"
# between "re" and "ia" would teach spelling, not medicine.

# %%
start = time.perf_counter()
tokenizer = BPETokenizer.train(list(clinical_corpus(3000, language="en", seed=10, kinds=KINDS,
                                                    phrasing="varied").X), vocab_size=2048)
V = tokenizer.vocab_size
for word in ["pyrexia", "orthopnoea", "haemoptysis", "dysarthria"]:
    print(f"{word!r:15} -> {[tokenizer.id_to_token(i) for i in tokenizer.encode(' ' + word)]}")
print(f"{V} tokens ({time.perf_counter() - start:.1f} s)")
words = {word for text in clinical_corpus(200, language="en", seed=11, kinds=KINDS, phrasing="varied").X
         for word in re.findall(r"[A-Za-z]+", text)}
whole = np.mean([len(tokenizer.encode(" " + word)) == 1 for word in words])
print(f"{whole:.0%} of the {len(words)} words in 200 new notes are one token")
assert whole > 0.9


def encode(texts):
    batch = tokenizer.encode_batch(list(texts), max_length=MAX_LENGTH, add_special_tokens=True)
    return batch["input_ids"], batch["attention_mask"]


# %% [markdown]
# ## 3. Pretraining: guess the hidden words
#
# `mask_tokens` chooses 15 % of the tokens; of those, 80 % become `[MASK]`, 10 % a random token and
# 10 % stay.  With $M$ the chosen positions and $\tilde x$ the corrupted note, the loss is the
# cross-entropy of the original tokens there, and nowhere else:
#
# $$L_{\text{MLM}} = -\frac{1}{|M|} \sum_{i \in M} \log p_\theta\big(x_i \mid \tilde x\big).$$
#
# `BertForMaskedLM(ids, labels=...)` computes the head's logits over the whole vocabulary at every
# position and scores only the chosen ones.  Here the head runs on the chosen positions alone -- the same loss, about a
# sixth of the head's work.  Every step reads fresh notes from the archive, so the model never sees
# one twice.

# %%
config = BertConfig(vocab_size=V, hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=512, max_position_embeddings=MAX_LENGTH, hidden_act="gelu_new",
                    pad_token_id=tokenizer.pad_token_id, num_labels=len(DIAGNOSES))
mlm = BertForMaskedLM(config)
print(f"BERT: {mlm.num_parameters():,} parameters")
SPECIAL = (tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id)


def masked_lm_loss(model, ids, attention_mask, rng):
    inputs, labels = mask_tokens(ids, tokenizer.mask_token_id, V, rng, special_token_ids=SPECIAL)
    hidden, _ = model.bert(inputs, attention_mask)
    chosen = np.flatnonzero(labels.reshape(-1) >= 0)
    logits = model.cls(hidden.reshape(-1, config.hidden_size)[chosen])
    return F.cross_entropy(logits, labels.reshape(-1)[chosen])


optimizer = AdamW(weight_decay_groups(mlm, 0.01), lr=1e-3)
scheduler = get_cosine_schedule_with_warmup(optimizer, min(100, PRETRAIN_STEPS // 10), PRETRAIN_STEPS)
rng, losses, start = np.random.default_rng(0), [], time.perf_counter()
chunk = 50   # steps per batch of fresh notes
for step in range(PRETRAIN_STEPS):
    if step % chunk == 0:
        archive = clinical_corpus(BATCH * chunk, language="en", seed=1000 + step, kinds=ARCHIVE,
                                  phrasing="varied").X
    ids, attention_mask = encode(archive[(step % chunk) * BATCH:(step % chunk + 1) * BATCH])
    mlm.train()
    loss = masked_lm_loss(mlm, ids, attention_mask, rng)
    optimizer.zero_grad()
    loss.backward()
    clip_grad_norm_(mlm.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
    if step % 500 == 0 or step == PRETRAIN_STEPS - 1:
        print(f"step {step:5d}  masked-LM loss {np.mean(losses[-100:]):.3f}  ({time.perf_counter() - start:.0f} s)")
print(f"{PRETRAIN_STEPS * BATCH:,} notes read once each")
assert np.mean(losses[-100:]) < 0.5 * np.mean(losses[:100])

# the head at the chosen positions alone gives BertForMaskedLM's loss, which runs it everywhere
mlm.eval()
with tinymed.no_grad():
    ids, attention_mask = encode(archive[:BATCH])
    inputs, labels = mask_tokens(ids, tokenizer.mask_token_id, V, np.random.default_rng(1), special_token_ids=SPECIAL)
    everywhere, _ = mlm(inputs, attention_mask, labels=labels)
    chosen_only = masked_lm_loss(mlm, ids, attention_mask, np.random.default_rng(1))
assert np.isclose(everywhere.item(), chosen_only.item(), rtol=1e-5)

# %% [markdown]
# What did it learn?  Hide a symptom in a note and look at the five words the model finds likeliest:

# %%
def fill_in(text):
    ids, attention_mask = encode([text])
    position = int(np.flatnonzero(ids[0] == tokenizer.mask_token_id)[0])
    mlm.eval()
    with tinymed.no_grad():
        logits = mlm(ids, attention_mask).numpy()[0, position]
    return [tokenizer.decode([int(i)]).strip() for i in np.argsort(-logits)[:5]]


for text in ["TRIAGE NOTE\n70-year-old man, self-presented, with [MASK], rigors and purulent sputum.",
             "TRIAGE NOTE\n70-year-old man, self-presented, with [MASK], dysuria and loin pain.",
             "TRIAGE NOTE\n70-year-old man, self-presented, with [MASK], orthopnoea and swollen ankles."]:
    print(f"with {text.split('with ')[1]:40} -> {fill_in(text)}")

# %% [markdown]
# Read the guesses with care.  Some fit the diagnosis the other words point to; others are only
# words that are common in every note.  A two-layer model trained for a few minutes has learned
# which words go together roughly, not reliably.  Whether that rough knowledge is worth anything
# is the question of the next section.

# %% [markdown]
# ## 4. Fine-tuning against training from scratch
#
# The classifier is the encoder, the mean of its outputs over the note's tokens, and one linear
# layer to the six diagnoses.  **Pretrained** starts the encoder from the masked-LM's weights;
# **from scratch** from random ones.  Everything else is the same: the labelled notes, the steps
# (AdamW, rate $3 \cdot 10^{-4}$), the seeds.

# %%
class Classifier(nn.Module):
    def __init__(self, pretrained):
        super().__init__()
        self.bert = BERT(config, add_pooling_layer=False)
        if pretrained:
            self.bert.load_state_dict(mlm.bert.state_dict())
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(config.hidden_size, len(DIAGNOSES))

    def forward(self, ids, attention_mask):
        hidden, _ = self.bert(ids, attention_mask)
        weights = (attention_mask / attention_mask.sum(axis=1, keepdims=True)).astype(hidden.dtype)
        weights = Tensor(weights[..., None])       # 1/length on the note's tokens, 0 on padding
        return self.head(self.dropout((hidden * weights).sum(dim=1)))


pool_ids, pool_mask = encode(pool.X)
test_ids, test_mask = encode(test.X)


def fine_tune(n, pretrained, seed):
    tinymed.manual_seed(seed)
    model, rng = Classifier(pretrained), np.random.default_rng(seed)
    optimizer = AdamW(weight_decay_groups(model, 0.01), lr=3e-4)
    labelled = rng.permutation(len(pool.X))[:n]
    for _ in range(min(max(100, 30 * n // 16), 300)):
        b = rng.choice(labelled, 16, replace=False)
        loss = F.cross_entropy(model(pool_ids[b], pool_mask[b]), pool.y[b])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with tinymed.no_grad():
        return float((model(test_ids, test_mask).numpy().argmax(axis=1) == test.y).mean())


start = time.perf_counter()
results = {"pretrained": [], "from scratch": []}
for n in LABEL_COUNTS:
    for name in results:
        results[name].append([fine_tune(n, name == "pretrained", seed) for seed in range(REPEATS)])
    print(f"{n:5d} labels: pretrained {np.mean(results['pretrained'][-1]):.3f}, "
          f"from scratch {np.mean(results['from scratch'][-1]):.3f}  ({time.perf_counter() - start:.0f} s)")

# %% [markdown]
# Each fine-tuning run of the pretrained model has a twin from scratch with the same labelled
# notes, the same batches and the same head: their difference is what pretraining bought in that
# run.  The left panel shows both models' accuracy (mean and spread over the runs), the right one
# every run's difference.

# %%
scores = {name: np.array(results[name]) for name in results}          # (label counts, runs)
gain = scores["pretrained"] - scores["from scratch"]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name, marker in (("pretrained", "o-"), ("from scratch", "s--")):
    left.errorbar(LABEL_COUNTS, scores[name].mean(axis=1), yerr=scores[name].std(axis=1), fmt=marker,
                  capsize=3, label=name)
left.set(xscale="log", xlabel="labelled triage notes", ylabel="test accuracy (6 diagnoses)",
         title="Fine-tuned after masked-LM pretraining, or from scratch")
left.legend()
for k, n in enumerate(LABEL_COUNTS):
    right.scatter(np.full(REPEATS, n) * np.exp(np.linspace(-0.08, 0.08, REPEATS)), gain[k], s=14, color="C0")
right.plot(LABEL_COUNTS, gain.mean(axis=1), "o-", color="C3", label="mean")
right.axhline(0, color="grey", lw=0.8)
right.set(xscale="log", xlabel="labelled triage notes", ylabel="accuracy: pretrained - from scratch",
          title="What pretraining bought, run by run")
right.legend()
fig.tight_layout()
save_figure(fig, "17_pretraining.png")
for n, g in zip(LABEL_COUNTS, gain):
    print(f"{n:5d} labels: pretraining gained {g.mean():+.3f} on average, won {np.sum(g > 0)} of {REPEATS} runs")

# %%
at_50, at_1000 = gain[LABEL_COUNTS.index(50)], gain[LABEL_COUNTS.index(1000)]
assert at_50.mean() > 0.04 and np.mean(at_50 > 0) >= 0.8   # with 50 labels, pretraining wins
assert at_50.mean() > at_1000.mean() + 0.02                 # ... by more than with 1,000
assert all(gain[LABEL_COUNTS.index(n)].mean() < 0.02 for n in (200, 1000))   # the gap closes

# %% [markdown]
# ## Summary
#
# - Masked-LM pretraining turns unlabelled text into a training signal: every note is a set of
#   fill-in-the-blank questions.  To answer them the model learns which words come together.
# - With 50 labels, a fifth of the symptom words in a new note were never seen with a label; the
#   pretrained encoder has seen them in the archive, beside the words the labels did show, and
#   wins.  From 200 labels on, the labels themselves cover every word and the gap closes; in the
#   runs above, the pretrained model even ends slightly behind.
# - The gain is real but not large at this size, and it varies from run to run -- which is why the
#   comparison is paired and repeated: one run alone could have shown almost no gain, or a large one.
# - Pretraining is paid once: the same encoder can be fine-tuned for any task on the same kind
#   of text.
#
# **Exercises.** (1) Pretrain on triage notes alone (`kinds=("triage note",)`): radiology reports
# name the diagnosis beside the symptoms -- how much of the gain came from them?  (2) Fine-tune
# with `phrasing="plain"` labelled notes and test on varied ones: a model trained on one ward's
# words, used on another's.  (3) Freeze the pretrained encoder and train only the head.  (4) With
# 200 labels the pretrained model ends slightly behind: does a higher fine-tuning rate, or more
# steps, close that?
