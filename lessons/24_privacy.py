# %% [markdown]
# # Lesson 24 — Privacy: de-identified notes, DP-SGD and federated hospitals
# What the articles ask (protect patient data) and what a model's code can do about it: remove identifiers from notes and measure how many slip through; train with differential privacy and report the epsilon; train across hospitals that never share their films.
#
# Every article names privacy as a condition for medical AI: "medical data is sensitive, so data
# security and privacy protection will be key problems" (000 §5; also 003 §8.3, 004 §5).  The
# remedies they name are **data encryption, access control and security audits** (000 §6, A3;
# encryption again in 003 §9.1).  Those are measures of the systems around a model -- disks,
# networks, accounts and logs -- and no model library provides them.  This lesson does three
# things on the model's side:
#
# 1. **De-identification** of clinical notes (names, dates, record numbers, phone numbers), the
#    everyday practice behind the articles' "privacy protection", measured on identifiers we
#    planted ourselves;
# 2. **DP-SGD**, training with *differential privacy*, and
# 3. **federated averaging**, training across hospitals whose images never leave them.
#
# The last two go **beyond the articles**: none of the five describes them.  They are here
# because they are the two methods with which a model itself, rather than the system around it,
# protects the people in its training data.  `tinymed.privacy` uses Opacus's names
# (`PrivacyEngine.make_private`, `GradSampleModule`, `RDPAccountant.get_epsilon`), and the test
# suite checks its epsilon against Opacus's.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn.functional as F
from tinymed import Tensor, metrics, nn, optim
from tinymed.data import DataLoader, chest_phantoms, clinical_corpus, clinical_notes
from tinymed.demo import standardize_images
from tinymed.lessons import quick, save_figure
from tinymed.privacy import (
    GradSampleModule,
    PrivacyEngine,
    RDPAccountant,
    deidentify,
    evaluate,
    federated_averaging,
    find_identifiers,
    plant_identifiers,
)

QUICK = quick()
tinymed.manual_seed(0)

# %% [markdown]
# ## 1. De-identifying clinical notes
#
# tinymed's synthetic admission notes contain no identifiers, which makes them a clean page:
# `plant_identifiers` inserts sentences that do ("patient: Grace Okafor, mrn 40392817.") and
# records where every name, date, record number and phone number went -- an answer key.
# `find_identifiers` is rule-based, as the classic de-identification tools are: patterns for
# dates, numbers and phone numbers, name lists, and the words around a name ("dr", "daughter",
# "next of kin:", "... was seen").  We measure
#
# - **recall**: the share of planted identifiers entirely removed -- the number that matters,
#   since one leaked name is a breach;
# - **precision**: the share of removed spans that really were identifiers (removing "crp 180"
#   would damage the note for research, not leak anything).

# %%
notes = list(clinical_notes(300 if QUICK else 2000, seed=5).X)
texts, answer_key = plant_identifiers(notes, seed=6)
found = [find_identifiers(t) for t in texts]
seen = evaluate(answer_key, found)
print(texts[0], "\n->", deidentify(texts[0], found[0]), "\n")
print(f"{seen['identifiers']} planted identifiers: recall {seen['recall']:.3f}, precision {seen['precision']:.3f}")
print("recall by kind:", {k: round(v, 3) for k, v in seen["recall_by_kind"].items()})

# %% [markdown]
# Those templates are the ones the rules were written against, so the figure is optimistic.  A
# second set of templates, written afterwards and never used to adjust the rules ("pt's aunt
# Eilidh will visit", "bed 4, Quinlan, Maeve"), is the honest test.

# %%
held_out_texts, held_out_key = plant_identifiers(notes, seed=7, held_out=True)
held_out = evaluate(held_out_key, [find_identifiers(t) for t in held_out_texts])
print(f"held-out templates: recall {held_out['recall']:.3f}, precision {held_out['precision']:.3f}")
print("recall by kind:", {k: round(v, 3) for k, v in held_out["recall_by_kind"].items()})
clean = sum(len(find_identifiers(note)) for note in notes)
print(f"spans taken from the {len(notes)} notes before planting: {clean}")

assert seen["recall"] >= 0.99 and seen["precision"] >= 0.99 and clean == 0
assert held_out["recall_by_kind"]["NAME"] < 0.9 <= min(held_out["recall_by_kind"][k] for k in ("DATE", "ID", "PHONE"))
assert held_out["precision"] >= 0.99

# %% [markdown]
# The same rules on `clinical_corpus`'s English discharge summaries, radiology reports and
# progress notes -- capitals, laboratory values with reference ranges ("ref 0.00-0.50"), blood
# pressures -- before and after planting.  (Its Chinese documents would need rules of their own:
# these know no Chinese names or date formats.)

# %%
corpus = clinical_corpus(200 if QUICK else 1000, language="en", seed=8)
corpus_texts, corpus_key = plant_identifiers(list(corpus.X), seed=9)
in_corpus = evaluate(corpus_key, [find_identifiers(t) for t in corpus_texts])
corpus_clean = sum(len(find_identifiers(str(t))) for t in corpus.X)
print(f"clinical corpus: {in_corpus['identifiers']} planted, recall {in_corpus['recall']:.3f}, precision "
      f"{in_corpus['precision']:.3f}; spans taken before planting: {corpus_clean}")
assert in_corpus["recall"] >= 0.99 and in_corpus["precision"] >= 0.99 and corpus_clean == 0

# %% [markdown]
# Numbers in fixed formats are found everywhere; **names are what slips through** when they
# come without a cue the rules know.  Real de-identification adds statistical name recognisers
# and, above all, human review of a sample -- and it is still only one layer: free text can
# identify a patient by a rare diagnosis and a date of admission together.  That is the gap
# differential privacy closes for a trained model.
#
# ## 2. Differential privacy and DP-SGD
#
# A training algorithm $M$ is $(\varepsilon, \delta)$-**differentially private** if for any two
# data sets $D, D'$ that differ in one patient and any set of outcomes $S$
#
# $$P[M(D) \in S] \le e^{\varepsilon}\, P[M(D') \in S] + \delta:$$
#
# whatever one learns from the trained model, one would have learnt almost as well without that
# patient.  DP-SGD (Abadi et al., 2016) makes stochastic gradient descent so:
#
# 1. sample each patient into a batch with probability $q$ (Poisson sampling);
# 2. compute each example's own gradient $g_n$ and **clip** it to norm $C$:
#    $\bar g_n = g_n \min(1, C / \|g_n\|)$ -- no patient can move the model by more than $C$;
# 3. add Gaussian **noise** $\mathcal N(0, \sigma^2 C^2)$ to the sum, divide by the expected batch
#    size, and step;
# 4. count the privacy spent: the **accountant** turns ($\sigma$, $q$, number of steps) into
#    $\varepsilon$ for a chosen $\delta$ (Rényi differential privacy; Mironov et al., 2019).
#
# Step 2 needs one gradient per example, not one per batch.  For a dense layer $y = W x$ the
# gradient of example $n$ is an outer product of two things one backward pass already has -- the
# layer's input $x_n$ and the gradient $\delta_n$ arriving at its output:
# $\nabla_W \ell_n = \delta_n x_n^\top$ (for a convolution the same with the image's patches).
# `GradSampleModule` catches both with hooks.  It must agree with the slow way, one backward per
# example:

# %%
probe = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4 * 4 * 4, 2)).double()
xs, ys = np.random.default_rng(0).standard_normal((6, 1, 8, 8)), np.array([0, 1, 1, 0, 1, 0])
slow = []
for n in range(len(xs)):
    probe.zero_grad()
    F.cross_entropy(probe(Tensor(xs[n:n + 1])), ys[n:n + 1]).backward()
    slow.append(probe[0].weight.grad.copy())
fast = GradSampleModule(probe)
fast.zero_grad()
F.cross_entropy(fast(Tensor(xs)), ys).backward()
difference = np.abs(probe[0].weight.grad_sample - np.stack(slow)).max()
print(f"per-example gradients of the convolution, one pass against six: largest difference {difference:.1e}")
assert difference < 1e-12
fast.remove_hooks()

# %% [markdown]
# Now the pneumonia CNN with DP-SGD at several noise levels.  `PrivacyEngine.make_private` wraps
# the model (per-example gradients), the optimizer (clipping and noise) and the data loader
# (Poisson batches) and counts every step.  Expected batch 100 of 1000 training films ($q = 0.1$),
# $C = 1$, SGD with momentum; $\delta = 10^{-5}$, below one over the number of patients as it
# must be.  $\sigma = 0$ clips but adds no noise: it shows what clipping alone costs
# ($\varepsilon = \infty$, no guarantee).

# %%
N_DP = 1000 if QUICK else 2400
X_dp, y_dp = chest_phantoms(N_DP, size=32, seed=11)
X_dp_test, y_dp_test = chest_phantoms(1000, size=32, seed=12)
X_dp, X_dp_test = standardize_images(X_dp), standardize_images(X_dp_test)
DELTA, EPOCHS_DP = 1e-5, 10 if QUICK else 15


def small_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 16, 2))


def test_accuracy(model, X, y):
    with tinymed.no_grad():
        return metrics.accuracy_score(y, model(Tensor(X)).numpy().argmax(axis=1))


def train_private(sigma):
    tinymed.manual_seed(1)
    model = small_cnn()
    engine = PrivacyEngine()
    private_model, optimizer, loader = engine.make_private(
        module=model, optimizer=optim.SGD(model.parameters(), lr=0.3, momentum=0.9),
        data_loader=DataLoader((X_dp, y_dp), batch_size=100), noise_multiplier=sigma, max_grad_norm=1.0)
    for _ in range(EPOCHS_DP):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            F.cross_entropy(private_model(Tensor(xb)), yb).backward()
            optimizer.step()
    model.eval()
    return engine.get_epsilon(DELTA), test_accuracy(model, X_dp_test, y_dp_test), engine.accountant


runs = {sigma: train_private(sigma) for sigma in (0.0, 0.7, 1.5, 3.0)}
print(" sigma   epsilon   accuracy")
for sigma, (epsilon, accuracy, _) in runs.items():
    print(f"{sigma:6.1f} {epsilon:9.2f} {accuracy:10.3f}")

# %% [markdown]
# The accountant is deterministic: the same schedule gives the same $\varepsilon$ whoever
# computes it (the tests compare with Opacus to 1e-6), and more noise buys a smaller
# $\varepsilon$.  The accuracy pays for it.

# %%
epsilons = [runs[s][0] for s in (0.7, 1.5, 3.0)]
accuracies_dp = [runs[s][1] for s in (0.7, 1.5, 3.0)]
steps = runs[1.5][2].history
replay = RDPAccountant()
replay.history = list(steps)
batches = N_DP // 100
assert steps == [(1.5, 1 / batches, EPOCHS_DP * batches)] and replay.get_epsilon(DELTA) == runs[1.5][0]
assert runs[0.0][0] == np.inf and epsilons[0] > epsilons[1] > epsilons[2] > 0
assert accuracies_dp[0] > accuracies_dp[1] > accuracies_dp[2] and accuracies_dp[0] > 0.85
assert runs[0.0][1] > accuracies_dp[2] + 0.2

fig, ax = plt.subplots(figsize=(6, 4))
finite = [s for s in runs if np.isfinite(runs[s][0])]
ax.plot([runs[s][0] for s in finite], [runs[s][1] for s in finite], "o-", label="DP-SGD")
for s in finite:
    ax.annotate(f"σ = {s}", (runs[s][0], runs[s][1]), xytext=(5, -10), textcoords="offset points", fontsize=8)
ax.axhline(runs[0.0][1], color="grey", ls="--", label="clipping only (ε = ∞)")
ax.set(xlabel=f"ε at δ = {DELTA:g} (smaller is more private)", ylabel="test accuracy",
       title="privacy against accuracy, pneumonia phantoms")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "24_dp_accuracy.png", dpi=120)

# %% [markdown]
# What does an $\varepsilon$ mean?  The odds of any conclusion about whether one patient was in
# the training data change by at most a factor $e^{\varepsilon}$ (and, with probability $\delta$,
# not even that): $\varepsilon$ near 8 is a real but loose bound, $\varepsilon \le 1$ a strong
# one.  Small data sets pay most: the noise added to a batch's sum is the same whatever the number
# of patients, while the signal grows with it.
#
# ## 3. Federated averaging across three hospitals
#
# Three hospitals want one pneumonia model, and none may send its films away.  Their data differ
# as real sites do (*non-IID*): each has its own scanner and image processing (contrast,
# brightness, gamma: `chest_phantoms(..., acquisition=...)`), its own case mix (how subtle the
# opacities are) and its own prevalence (a district hospital sees fewer pneumonias than a chest
# clinic).  **FedAvg** (McMahan et al., 2017): each round every hospital trains the current
# global model on its own films for one epoch and sends back only the weights; the server
# averages them, weighting by the number of films, $\theta \leftarrow \sum_k \frac{n_k}{n}\theta_k$.
#
# We compare it with each hospital training alone and with the forbidden ideal, all films pooled
# in one place.  Every model is tested on every hospital's own test films.  The figure
# `24_sites.png` shows films as each hospital acquires them; before training each film is
# standardised on its own (as in lesson 06), which removes a scanner's overall brightness and
# contrast but not its gamma, nor the case mix.

# %%
SITES = {
    "district (old scanner)": dict(n=400, prevalence=0.2, difficulty="medium",
                                   acquisition={"contrast": (0.4, 0.7), "log_gamma": 0.2}),
    "teaching hospital": dict(n=300, prevalence=0.5, difficulty="hard",
                              acquisition={"contrast": (1.2, 1.6), "brightness": 0.05}),
    "chest clinic": dict(n=300, prevalence=0.7, difficulty="easy", acquisition={"log_gamma": 0.9}),
}
scale = 1 if QUICK else 3
site_train, site_test, as_acquired = {}, {}, {}
for k, (site, s) in enumerate(SITES.items()):
    make = dict(size=32, prevalence=s["prevalence"], difficulty=s["difficulty"], acquisition=s["acquisition"])
    X, y = chest_phantoms(scale * s["n"], seed=100 + k, **make)
    as_acquired[site] = (X, y)
    site_train[site] = (standardize_images(X), y)
    X, y = chest_phantoms(400, seed=200 + k, **make)
    site_test[site] = (standardize_images(X), y)
    labels = site_train[site][1]
    print(f"{site:24s} {len(labels):5d} training films, {labels.mean():.0%} pneumonia")

fig, axes = plt.subplots(2, 3, figsize=(8, 5.4))
for col, (site, (X, y)) in enumerate(as_acquired.items()):
    for row, label in enumerate((0, 1)):
        axes[row, col].imshow(X[np.flatnonzero(y == label)[0], 0], cmap="gray", vmin=0, vmax=1)
        axes[row, col].set_title(f"{site}\n{('normal', 'pneumonia')[label]}", fontsize=8)
        axes[row, col].axis("off")
fig.tight_layout()
save_figure(fig, "24_sites.png", dpi=120)

# %%
LOCAL_EPOCHS, ROUNDS = 8, 16


def site_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 16, 2))


def fit(model, data, epochs):
    """Adam on one site's films (a fresh optimizer: sites share weights, nothing else)."""
    opt = optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(epochs):
        for xb, yb in DataLoader(data, batch_size=32, shuffle=True):
            opt.zero_grad()
            F.cross_entropy(model(Tensor(xb)), yb).backward()
            opt.step()
    model.eval()
    return len(data[1])


def accuracies(model):
    per_site = {site: test_accuracy(model, X, y) for site, (X, y) in site_test.items()}
    return per_site | {"mean": float(np.mean(list(per_site.values())))}


tinymed.manual_seed(2)
start = site_cnn().state_dict()
table = {}
for site, data in site_train.items():
    model = site_cnn()
    model.load_state_dict(start)
    fit(model, data, LOCAL_EPOCHS)
    table[f"{site} alone"] = accuracies(model)
pooled = site_cnn()
pooled.load_state_dict(start)
fit(pooled, tuple(np.concatenate(parts) for parts in zip(*site_train.values())), LOCAL_EPOCHS)
table["all films pooled"] = accuracies(pooled)
federated = site_cnn()
federated.load_state_dict(start)
history = []
federated_averaging(federated, list(site_train.values()), lambda model, data: fit(model, data, 1), ROUNDS,
                    on_round=lambda r, model: history.append(accuracies(model)["mean"]))
table["FedAvg"] = accuracies(federated)

print(f"{'trained on':28s}" + "".join(f"{site[:14]:>16s}" for site in SITES) + f"{'mean':>8s}")
for name, row in table.items():
    print(f"{name:28s}" + "".join(f"{row[site]:16.3f}" for site in SITES) + f"{row['mean']:8.3f}")

# %% [markdown]
# A model trained at one hospital has seen one scanner, one case mix and one prevalence, and
# each has a hospital where it falls short.  FedAvg, which never saw a film leave a hospital,
# beats every hospital alone on average *and* at its worst-served hospital, and comes close to
# pooling the films, the ideal that privacy forbids.  It needs more rounds than pooled training
# needs epochs: each round averages models that have drifted towards their own hospital.  (With
# three times the films -- the full run -- every model improves and the gaps narrow.)

# %%
alone = [table[f"{site} alone"]["mean"] for site in SITES]
assert table["FedAvg"]["mean"] > max(alone)
assert table["FedAvg"]["mean"] <= table["all films pooled"]["mean"] + 0.02
worst = {name: min(row[site] for site in SITES) for name, row in table.items()}
assert worst["FedAvg"] > max(worst[f"{site} alone"] for site in SITES)

fig, (ax_bars, ax_rounds) = plt.subplots(1, 2, figsize=(12, 4.2))
names = list(table)
width = 0.2
for j, site in enumerate(list(SITES) + ["mean"]):
    ax_bars.bar(np.arange(len(names)) + (j - 1.5) * width, [table[n][site] for n in names], width,
                label=site if site != "mean" else "mean of the three")
ax_bars.set_xticks(np.arange(len(names)), [n.replace(" (old scanner)", "").replace(" ", "\n", 1) for n in names],
                   fontsize=7)
ax_bars.set(ylim=(0.4, 1.12), ylabel="test accuracy at each hospital", title="who trained the model")
ax_bars.legend(fontsize=7, loc="upper center", ncol=4)
ax_rounds.plot(range(1, ROUNDS + 1), history, "o-", label="FedAvg after each round")
ax_rounds.axhline(table["all films pooled"]["mean"], color="tab:green", ls="--", label="all films pooled")
ax_rounds.axhline(max(alone), color="tab:red", ls=":", label="best hospital alone")
ax_rounds.set(xlabel="round", ylabel="mean test accuracy over the hospitals", title="federated averaging")
ax_rounds.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "24_federated.png", dpi=120)

# %% [markdown]
# Federated learning keeps the films at home, but the weights it sends are computed from them and
# can leak facts about them; in practice it is combined with DP-SGD at each site and with secure
# aggregation (the server sees only the sum).  And all of it rests on what the articles ask for:
# encrypted storage, access control and audits around the data and the model.
#
# ## Summary
#
# - **De-identification**: rules find numbers in fixed formats almost perfectly; names without a
#   familiar cue slip through -- measure recall on identifiers you planted, with templates the
#   rules were not written against.
# - **DP-SGD**: per-example gradients (one backward pass, from hooks), clipping to $C$, Gaussian
#   noise $\sigma C$, Poisson batches; the accountant reports $\varepsilon$ at $\delta$.  More noise,
#   smaller $\varepsilon$, lower accuracy -- the trade-off is real and must be reported.
# - **FedAvg**: hospitals train in turn on their own data and share weights only; on non-IID sites
#   it beats each hospital alone and approaches pooled training.
# - DP-SGD and federated learning go beyond the articles; encryption, access control and audits
#   (what the articles name) belong to the systems around the model.
#
# **Exercises.** (1) Add ages over 89 (an identifier under HIPAA's Safe Harbor rule) to
# `find_identifiers` and plant some.  (2) Double the DP training set with the same batch size:
# what happens to $q$, to $\varepsilon$ and to the accuracy?  (3) Give FedAvg five local epochs
# per round instead of one: faster or slower to converge on these non-IID sites?  (4) Train the
# chest clinic alone with `prevalence=0.7` and test it at the district hospital (`prevalence=0.2`):
# where should its threshold be?
