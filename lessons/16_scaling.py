# %% [markdown]
# # Lesson 16 — What "large" buys
# A scaling sweep you can run: GPTs of several sizes trained on several amounts of clinical text, the held-out loss against parameters and tokens on log axes, a fitted power law, and what such a fit does and does not show at this size.
#
# The articles call the new models *large* (article 000 §2), and the word carries a claim: that a
# bigger model, trained on more text, is better in a predictable way.  Kaplan et al. (2020) measured
# it for GPT-style models over seven orders of magnitude: the held-out loss fell as a power law of
# the number of parameters $N$, as long as the data did not run out, and as a power law of the
# number of training tokens $D$, as long as the model did not,
#
# $$L(N) \approx \Big(\frac{N_c}{N}\Big)^{\alpha_N}, \qquad L(D) \approx \Big(\frac{D_c}{D}\Big)^{\alpha_D},$$
#
# with $\alpha_N \approx 0.076$ and $\alpha_D \approx 0.095$ for their web text.  Hoffmann et al.
# (2022, "Chinchilla") added the irreducible part, $L = E + A/N^{\alpha} + B/D^{\beta}$, and found
# that for a fixed compute budget parameters and tokens should grow together.  We run the same
# experiment in miniature -- models from a few thousand to a few hundred thousand parameters -- and
# look at what it shows and what it cannot.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
from tinymed import no_grad, optim
from tinymed.data import clinical_corpus
from tinymed.lessons import quick, save_figure
from tinymed.models import GPT, GPTConfig, training_step, weight_decay_groups
from tinymed.text import BPETokenizer

QUICK = quick()

# %% [markdown]
# ## 1. Data: nested training sets
#
# The English notes of lesson 15, tokenized with a 512-token BPE vocabulary.  The training sets
# are nested prefixes of one token stream -- the smaller is part of the larger -- and every model
# is scored on the same held-out notes.

# %%
corpus = clinical_corpus(1500 if QUICK else 4000, language="en", seed=0)
tokenizer = BPETokenizer.train(list(corpus.X[:1000]), vocab_size=512)
EOT = tokenizer.token_to_id("<|endoftext|>")
documents = [tokenizer.encode(text) + [EOT] for text in corpus.X]
held_out = len(documents) // 10
stream, val_ids = np.concatenate(documents[held_out:]), np.concatenate(documents[:held_out])
DATA_SIZES = [10_000, 60_000] if QUICK else [15_000, 60_000, 240_000]
assert DATA_SIZES[-1] <= len(stream)
print(f"{len(stream):,} training tokens available; training sets of {DATA_SIZES} tokens; "
      f"{len(val_ids):,} held-out tokens")

# %% [markdown]
# ## 2. The sweep
#
# Each model is a GPT with the recipe of lesson 15 (AdamW, decay on matrices, warm-up and cosine,
# clipping), trained for the same number of steps on windows of 64 tokens drawn from its training
# set -- a small set is seen many times over, a large one barely once.  We record the held-out loss
# every few steps and keep the best (early stopping: what the model *could* reach on that data),
# and the training loss at that point.

# %%
SIZES = [(1, 16), (1, 32), (2, 64)] if QUICK else [(1, 16), (1, 32), (2, 48), (2, 64), (3, 96)]
STEPS, BATCH, BLOCK = (100, 16, 64) if QUICK else (300, 16, 64)
V = tokenizer.vocab_size
val_batches = [np.stack([val_ids[s:s + BLOCK] for s in np.random.default_rng(i).integers(0, len(val_ids) - BLOCK, 32)])
               for i in range(2 if QUICK else 3)]


def mean_loss(model, batches):
    model.eval()
    with no_grad():
        value = np.mean([model(b, labels=b)[0].item() for b in batches])
    model.train()
    return value


def train(n_layer, n_embd, data_size, seed=0):
    """Best held-out loss over training, the training loss at that point, and the parameter count."""
    tinymed.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=V, n_positions=BLOCK, n_embd=n_embd, n_layer=n_layer,
                          n_head=max(1, n_embd // 16), dropout=0.0))
    opt = optim.AdamW(weight_decay_groups(model, 0.1), lr=1e-2, betas=(0.9, 0.95))
    sched = optim.get_cosine_schedule_with_warmup(opt, STEPS // 10, STEPS)
    data, rng = stream[:data_size], np.random.default_rng(seed)
    best = (np.inf, np.inf)
    for step in range(STEPS):
        batch = np.stack([data[s:s + BLOCK] for s in rng.integers(0, len(data) - BLOCK, BATCH)])
        training_step(model, opt, [batch], lambda m, b: m(b, labels=b)[0], max_grad_norm=1.0, scheduler=sched)
        if step % 25 == 24 or step == STEPS - 1:
            val = mean_loss(model, val_batches)
            if val < best[0]:
                fixed = np.stack([data[s:s + BLOCK] for s in np.random.default_rng(7).integers(0, len(data) - BLOCK, 32)])
                best = (val, mean_loss(model, [fixed]))
    # the embeddings are a lookup table, not computation: count them apart, as Kaplan et al. do
    n_embedding = model.transformer.wte.weight.size + model.transformer.wpe.weight.size
    return best[0], best[1], model.num_parameters() - n_embedding


results = {}
start = time.perf_counter()
for n_layer, n_embd in SIZES:
    for data_size in DATA_SIZES:
        results[(n_layer, n_embd, data_size)] = train(n_layer, n_embd, data_size)
        val, tr, n = results[(n_layer, n_embd, data_size)]
        print(f"{n_layer} layer(s) x {n_embd:3d}: {n:7,} parameters, {data_size:7,} tokens -> "
              f"held out {val:.3f}, train {tr:.3f}")
print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## 3. Loss against parameters and against tokens
#
# Log axes on both, as in the papers: a power law $L = a N^{-\alpha}$ is a straight line of slope
# $-\alpha$ there.

# %%
params = np.array([results[(nl, ne, DATA_SIZES[0])][2] for nl, ne in SIZES])
val = np.array([[results[(nl, ne, d)][0] for d in DATA_SIZES] for nl, ne in SIZES])   # (sizes, data)
train_loss = np.array([[results[(nl, ne, d)][1] for d in DATA_SIZES] for nl, ne in SIZES])

slope, intercept = np.polyfit(np.log(params), np.log(val[:, -1]), 1)
alpha_N = -slope
fitted = np.exp(intercept) * params ** slope
r2 = 1 - np.sum((np.log(val[:, -1]) - np.log(fitted)) ** 2) / np.sum((np.log(val[:, -1]) - np.log(val[:, -1]).mean()) ** 2)
print(f"on the largest training set: L(N) = {np.exp(intercept):.2f} N^-{alpha_N:.3f}  (R^2 in log-log {r2:.3f})")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
for j, d in enumerate(DATA_SIZES):
    left.loglog(params, val[:, j], "o-", label=f"{d:,} training tokens")
grid = np.geomspace(params[0], params[-1], 50)
left.loglog(grid, np.exp(intercept) * grid ** slope, "k--", lw=1, label=fr"fit $L \propto N^{{-{alpha_N:.2f}}}$")
left.set(xlabel="parameters N (without embeddings)", ylabel="held-out loss (nats/token)",
         title="More parameters ...")
left.legend(fontsize=8)
for i, (nl, ne) in enumerate(SIZES):
    right.loglog(DATA_SIZES, val[i], "o-", label=f"{params[i]:,} parameters")
right.set(xlabel="training tokens D", ylabel="held-out loss (nats/token)", title="... and more data")
right.set_xticks(DATA_SIZES, [f"{d:,}" for d in DATA_SIZES])
right.minorticks_off()
right.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "16_scaling.png", dpi=120)

# %%
assert np.all(np.diff(val[:, -1]) < 0), val[:, -1]                   # on the most data, each larger model is better
gain = val[:, 0] - val[:, -1]                                        # what more data gives each model
print("held-out loss gained from more data, smallest to largest model:", np.round(gain, 3))
assert gain[-1] > 0 and gain[-1] > gain[0]                            # the largest model gains, and more than the smallest
assert alpha_N > 0 and r2 > 0.9, (alpha_N, r2)                        # a straight line in log-log fits these points
gap_small, gap_large = (val[-1, 0] - train_loss[-1, 0]), (val[-1, -1] - train_loss[-1, -1])
print(f"largest model: held-out minus training loss {gap_small:.3f} on {DATA_SIZES[0]:,} tokens, "
      f"{gap_large:.3f} on {DATA_SIZES[-1]:,}")
assert gap_small > gap_large                                          # on little data it memorises

# %% [markdown]
# ## 4. What the fit shows, and what it does not
#
# **It shows** the shape the papers report, at a scale you can rerun: on the largest training set
# the held-out loss falls steadily with the number of parameters, close to a straight line on log
# axes.  It also shows why "large" means model *and* data: more text helps the largest model, and
# helps it more than the smallest, whose line is nearly flat -- that one is limited by its size,
# not by its data.  And on the smallest set the largest model's training loss drops well below its
# held-out loss -- it starts to memorise the few notes it has, while a larger set keeps the two
# together.
#
# **It does not show** a law.  Read the exponent with care:
#
# - *A handful of points over one to two decades* of $N$ (Kaplan et al. spanned seven).  Many curves look
#   straight on log axes over so short a range, and the fitted $\alpha$ moves with each run's
#   seed, the learning rate and the step budget.
# - *A fixed number of steps* for every model.  The small models have converged; the large ones
#   have not, so their points are above where they could be -- the fit mixes "how good a model of
#   this size can be" with "how far it got in 300 steps".  The papers trained each model to
#   convergence (or tuned the budget to the size).
# - *No irreducible term.*  These notes are drawn from templates with random choices; no model can
#   predict a random dose, so the loss has a floor $E > 0$ and a pure power law must bend towards
#   it as models grow.  With $L = E + A N^{-\alpha}$ the fitted $\alpha$ would be larger.
# - *Synthetic, repetitive text.*  A small vocabulary of templates is far easier than medicine as
#   written by people; the exponents of web text say nothing about it, and ours say nothing about
#   real clinical notes.
# - *Early stopping on the held-out set itself* picks each run's best point, a mild optimism shared
#   by every run.
#
# What transfers is the method: measure held-out loss over sizes spanning orders of magnitude,
# vary parameters and data separately, fit on log axes, and extrapolate only as far as the data
# justify -- which, here, is not far.
#
# ## Summary
#
# - On the most data, held-out loss falls with model size, close to a power law $L \propto
#   N^{-\alpha}$ (a line on log-log axes); more data helps the largest model more than the
#   smallest, which its size limits.
# - A large model on little data memorises (training loss far below held-out loss): size pays only
#   with data to match, Chinchilla's point.
# - At this size, a fitted exponent summarises a handful of runs under one budget; it is not a
#   prediction for larger models or for real text.
#
# **Exercises.** (1) Train every model for twice the steps: which points move, and what happens to
# $\alpha$? (2) Fit $L = E + A N^{-\alpha}$ (e.g. by trying a grid of $E$ below the smallest loss
# and fitting the rest in log-log): how large is $E$, and how does $\alpha$ change? (3) Plot the
# loss against the compute $C \approx 6ND$ of each run; which size is best for each budget?
