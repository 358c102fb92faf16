# %% [markdown]
# # Lesson 19 — Combining images, text and records
# Late fusion of a chest film, an admission note and a day of vital signs: each modality is a model of its own, a small model weighs their outputs, and together they beat each alone.
#
# Article 004 §5(4) names the integration of several data sources -- images, clinical text and
# records -- as a challenge for AI in medicine, and article 003 §4.3 combines them to diagnose.  A
# clinician does it all the time: the X-ray is equivocal, but the note says "productive cough" and
# the observations show a fever and a climbing respiratory rate.
#
# **Late fusion** keeps one model per modality, each giving a score $s_m(x_m)$ (a logit), and learns
# how much to trust each on data none of them was trained on:
#
# $$p(y = 1 \mid x) = \sigma\Big(b + \sum_{m} w_m\, s_m(x_m)\Big).$$
#
# If the modalities' errors are independent given the label, their evidence adds up: with equal,
# independent logits this is exactly naive Bayes, and the fused model is right more often than any
# single one.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import Tokenizer, chest_phantoms, clinical_notes, vital_signs
from tinymed.lessons import quick, save_figure
from tinymed.metrics import accuracy_score, roc_auc_score
from tinymed.optim import Adam

QUICK = quick()
N = 900 if QUICK else 2400
tinymed.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. A synthetic patient in three modalities
#
# Each patient either has pneumonia ($y = 1$) or not, half and half.  Given $y$, the three views are
# drawn independently from tinymed's generators:
#
# - **image**: a phantom radiograph with an opacity iff $y = 1$, of the "hard" kind (small, often
#   faint opacities), 32 × 32 pixels;
# - **note**: an admission note from `clinical_notes` whose diagnosis is pneumonia iff $y = 1$ (the
#   others are heart failure, urinary tract infection and stroke, which share symptoms with it);
# - **vitals**: 24 hours of `vital_signs` of a patient who deteriorates iff $y = 1$ (pneumonia here
#   is the cause of the deterioration).

# %%
start = time.perf_counter()
y = rng.permutation(np.arange(N) % 2).astype(np.int64)

images, image_labels = chest_phantoms(2 * N, size=32, seed=1, difficulty="hard")
notes, note_labels = clinical_notes(4 * N, seed=2)
series, series_labels = vital_signs(3 * N, seed=3, prevalence=0.5)


def matching(labels, wanted):
    """For each wanted label, a distinct item whose label agrees (1 = pneumonia / opacity / deterioration)."""
    rows = np.empty(len(wanted), dtype=np.int64)
    for value in (0, 1):
        pool = np.flatnonzero(labels == value)
        rows[wanted == value] = rng.permutation(pool)[:np.sum(wanted == value)]
    return rows


image_rows = matching(image_labels, y)
note_rows = matching((note_labels == 0).astype(np.int64), y)  # diagnosis 0 is pneumonia
series_rows = matching(series_labels, y)
X_image = images[image_rows]
X_image = (X_image - X_image.mean(axis=(1, 2, 3), keepdims=True)) / X_image.std(axis=(1, 2, 3), keepdims=True)
X_note, X_vitals = notes[note_rows], series[series_rows]
print(f"{N} patients drawn in {time.perf_counter() - start:.0f} s")
print("note:", X_note[0])
print("vitals at the last hour (HR, SBP, T, SpO2, RR):", X_vitals[0, -1])

# train the single-modality models on one part, the fusion weights on a second, test on a third
part = np.arange(N) % 10
train, fuse, test = part < 6, (part >= 6) & (part < 8), part >= 8

# %% [markdown]
# ## 2. One model per modality
#
# A small CNN for the films, a logistic regression on word counts for the notes, and a logistic
# regression on summaries of the vital signs (the last hour, the day's mean, and the change over the
# last six hours).

# %%
def fit(model, inputs, labels, epochs, lr=3e-3, batch=32):
    optimizer = Adam(model.parameters(), lr=lr)
    order_rng = np.random.default_rng(1)
    for _ in range(epochs):
        order = order_rng.permutation(len(labels))
        for i in range(0, len(labels), batch):
            b = order[i:i + batch]
            loss = F.cross_entropy(model(Tensor(inputs[b])), labels[b])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def logits(model, inputs):
    """s(x) = log p(y=1|x) - log p(y=0|x), the model's evidence for pneumonia."""
    with tinymed.no_grad():
        out = model(Tensor(inputs)).numpy()
    return out[:, 1] - out[:, 0]


cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                    nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 8 * 8, 2))
fit(cnn, X_image[train], y[train], epochs=6 if QUICK else 10)

tokenizer = Tokenizer(min_freq=2).fit(X_note[train])
counts = np.zeros((N, len(tokenizer.vocab)), dtype=np.float32)
for i, ids in enumerate(tokenizer.encode(list(X_note))):
    np.add.at(counts[i], ids[ids != tokenizer.vocab.pad_idx], 1.0)
note_model = fit(nn.Linear(counts.shape[1], 2), counts[train], y[train], epochs=30, lr=1e-2)

summary = np.concatenate([X_vitals[:, -1], X_vitals.mean(axis=1), X_vitals[:, -1] - X_vitals[:, -7]], axis=1)
summary = ((summary - summary[train].mean(axis=0)) / summary[train].std(axis=0)).astype(np.float32)
vitals_model = fit(nn.Linear(summary.shape[1], 2), summary[train], y[train], epochs=40, lr=1e-2)

scores = np.stack([logits(cnn, X_image), logits(note_model, counts), logits(vitals_model, summary)], axis=1).astype(np.float32)
names = ["image", "note", "vitals"]
for m, name in enumerate(names):
    print(f"{name:6s} alone: test AUC {roc_auc_score(y[test], scores[test, m]):.3f}, "
          f"accuracy {accuracy_score(y[test], scores[test, m] > 0):.3f}")
print(f"({time.perf_counter() - start:.0f} s)")

# %% [markdown]
# ## 3. Late fusion
#
# The fusion model is a logistic regression on the three scores, $\sigma(b + w \cdot s)$, fitted on
# patients none of the three models trained on (scores on their own training data are too
# confident).

# %%
fusion = fit(nn.Linear(3, 2), scores[fuse], y[fuse], epochs=200, lr=2e-2)
fused = logits(fusion, scores)
weights = fusion.weight.numpy()
print("fusion weights w (per modality):", (weights[1] - weights[0]).round(2))
results = {name: roc_auc_score(y[test], scores[test, m]) for m, name in enumerate(names)}
results["late fusion"] = roc_auc_score(y[test], fused[test])
accuracies = {name: accuracy_score(y[test], scores[test, m] > 0) for m, name in enumerate(names)}
accuracies["late fusion"] = accuracy_score(y[test], fused[test] > 0)
for name in results:
    print(f"{name:12s} test AUC {results[name]:.3f}, accuracy {accuracies[name]:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.bar(list(results), list(results.values()), color=["C0", "C1", "C2", "C3"])
ax.set(ylim=(0.5, 1.0), ylabel="test ROC AUC", title="Pneumonia from one modality, and from three")
for i, value in enumerate(results.values()):
    ax.text(i, value + 0.01, f"{value:.3f}", ha="center")
fig.tight_layout()
save_figure(fig, "19_multimodal_fusion.png")

# %% [markdown]
# Each modality alone carries real but partial signal; the fused model beats every one of them, on
# AUC and on accuracy, and every modality gets a positive weight: each adds evidence the others lack.

# %%
for name in names:
    assert 0.6 < results[name] < results["late fusion"], name
    assert accuracies[name] < accuracies["late fusion"], name
assert (weights[1] - weights[0] > 0).all()

# %% [markdown]
# ## Summary
#
# - Late fusion trains one model per modality and a small model on their scores, fitted on data the
#   modality models did not see.
# - When the modalities' errors are independent given the label, their evidence adds: the fused
#   model beats the best single modality.
# - Late fusion handles a missing modality easily (drop its term) and lets each model be built and
#   checked on its own; it cannot learn interactions between modalities, which *early* or
#   *intermediate* fusion (joining features inside one network) can, with more data.
#
# **Exercises.** (1) Make the note uninformative (draw notes regardless of $y$): what weight does
# fusion give it?  (2) Fit the fusion weights on the training part instead: what happens and why?
# (3) Replace the bag of words by a `BPETokenizer` from lesson 14 and compare.
