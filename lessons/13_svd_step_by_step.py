# %% [markdown]
# # Lesson 13 — SVD step by step
# Matrix factorisation by SGD one update at a time: an epoch by hand, learning curves, Bayesian averaging.
#
# Article 002 §4.2 (snippet S5) recommends with Surprise's `SVD` in five lines. What do those
# lines do? This lesson opens them up: the model, one stochastic-gradient update written
# out, a whole epoch in plain Python that reproduces tinymed (and Surprise) to the last
# bit, then learning curves that show when training helps and when it starts to hurt —
# and, last, a Bayesian version that averages many factorisations instead of trusting one.

# %%
import matplotlib.pyplot as plt
import numpy as np

from tinymed.lessons import quick, save_figure
from tinymed.recsys import BPMF, SVD, BaselineOnly, Dataset, MeanFilledSVD, Reader, accuracy, make_treatment_responses
from tinymed.recsys.model_selection import train_test_split

N_PATIENTS, N_TREATMENTS, DENSITY = (400, 40, 0.25) if quick() else (1000, 100, 0.2)
EPOCHS = 100 if quick() else 150

# %% [markdown]
# ## 1. The model
#
# Each patient $u$ gets a vector $p_u$ of $k$ numbers and each treatment $i$ a vector $q_i$:
# hidden traits (say, how much the patient's kidneys matter, how renally cleared the drug is).
# The predicted response is the overall mean, a patient offset, a treatment offset and the
# match of the two vectors:
#
# $$\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u .$$
#
# "SVD" is a historical name: it is a low-rank factorisation $R \approx \mu + b\mathbf 1^\top +
# \mathbf 1 b^\top + P Q^\top$ fitted to the *observed* entries only, not the singular value
# decomposition of a full matrix. It minimises the squared error plus a penalty $\lambda$ on
# every parameter:
#
# $$\sum_{(u,i)\ \mathrm{observed}} (r_{ui} - \hat r_{ui})^2 + \lambda\,(b_u^2 + b_i^2 + \lVert p_u\rVert^2 + \lVert q_i\rVert^2).$$

# %% [markdown]
# ## 2. One update by hand
#
# Stochastic gradient descent visits one rating at a time. With $e_{ui} = r_{ui} - \hat r_{ui}$
# and learning rate $\gamma$, half the gradient of that rating's term gives
#
# $$b_u \leftarrow b_u + \gamma (e_{ui} - \lambda b_u), \quad b_i \leftarrow b_i + \gamma (e_{ui} - \lambda b_i),$$
# $$p_u \leftarrow p_u + \gamma (e_{ui}\, q_i - \lambda p_u), \quad q_i \leftarrow q_i + \gamma (e_{ui}\, p_u - \lambda q_i),$$
#
# the last one with $p_u$ from *before* its own update. The factors start as small random
# numbers, $\mathcal N(0, 0.1^2)$, users' drawn first, then items'; the biases at 0.
# One patient, one treatment, one rating of 4, two factors:

# %%
one = Dataset.load_from_triples([("ann", "statin", 4.0)], Reader(rating_scale=(1, 5))).build_full_trainset()
gamma, lam = 0.1, 0.5
draws = np.random.RandomState(0).normal(0, 0.1, size=4)
p, q = draws[:2], draws[2:]                   # p_ann, then q_statin
mu = one.global_mean                          # 4.0: the only rating
e = 4.0 - (mu + 0 + 0 + q @ p)
by_hand = {"b_u": gamma * e, "b_i": gamma * e,
           "p_u": p + gamma * (e * q - lam * p), "q_i": q + gamma * (e * p - lam * q)}
svd_one = SVD(n_factors=2, n_epochs=1, lr_all=gamma, reg_all=lam, random_state=0).fit(one)
print(f"error before the update: e = {e:.6f}")
for name, value in by_hand.items():
    attr = {"b_u": svd_one.bu, "b_i": svd_one.bi, "p_u": svd_one.pu, "q_i": svd_one.qi}[name][0]
    print(f"{name}: by hand {np.round(value, 6)}   tinymed {np.round(attr, 6)}")

# %% [markdown]
# ## 3. A whole epoch in plain Python
#
# An *epoch* sweeps every rating once, patient by patient (in the order the ratings came
# within a patient). Here is the whole of Surprise's training loop in plain Python — lists
# of floats, no NumPy — and tinymed's compiled sweep on the same data. They agree exactly,
# not approximately: the same operations in the same order round the same way.

# %%
truth = make_treatment_responses(N_PATIENTS, N_TREATMENTS, density=DENSITY, random_state=1)
print(truth.description)
data = truth.to_dataset()
trainset, testset = train_test_split(data, test_size=0.2, random_state=0)
K, LR, REG = 10, 0.01, 0.05


def one_epoch_in_plain_python(trainset, k, lr, reg, seed):
    """Surprise's SVD update rule, one rating at a time; returns (bu, bi, pu, qi) as lists."""
    rng = np.random.RandomState(seed)
    pu = rng.normal(0, 0.1, (trainset.n_users, k)).tolist()
    qi = rng.normal(0, 0.1, (trainset.n_items, k)).tolist()
    bu, bi = [0.0] * trainset.n_users, [0.0] * trainset.n_items
    mu = trainset.global_mean
    for u, i, r in trainset.all_ratings():   # patient by patient
        dot = 0.0
        for f in range(k):
            dot += qi[i][f] * pu[u][f]
        err = r - (mu + bu[u] + bi[i] + dot)
        bu[u] += lr * (err - reg * bu[u])
        bi[i] += lr * (err - reg * bi[i])
        for f in range(k):
            puf, qif = pu[u][f], qi[i][f]
            pu[u][f] += lr * (err * qif - reg * puf)
            qi[i][f] += lr * (err * puf - reg * qif)
    return bu, bi, pu, qi


bu, bi, pu, qi = one_epoch_in_plain_python(trainset, K, LR, REG, seed=0)
svd_epoch = SVD(n_factors=K, n_epochs=1, lr_all=LR, reg_all=REG, random_state=0).fit(trainset)
epoch_identical = (np.array_equal(svd_epoch.bu, bu) and np.array_equal(svd_epoch.bi, bi)
                   and np.array_equal(svd_epoch.pu, pu) and np.array_equal(svd_epoch.qi, qi))
print(f"{trainset.n_ratings} updates; plain Python and tinymed identical to the last bit: {epoch_identical}")

# %% [markdown]
# ## 4. Learning curves
#
# Train for $e$ epochs and measure the error on the training ratings and on held-out ones.
# Training from the same seed replays the same sweeps, so fitting with `n_epochs=e` for
# growing $e$ traces one run. The **irreducible error** (the noise the data were generated
# with) is the floor for held-out data. Three settings: Surprise's defaults (100 factors,
# $\gamma = 0.005$, $\lambda = 0.02$), the same model with no penalty and a larger step
# ($\lambda = 0$, $\gamma = 0.02$), and a small, more regularised one (10 factors,
# $\gamma = 0.01$, $\lambda = 0.05$).

# %%
oracle = truth.oracle_rmse(testset)
epochs = np.unique(np.geomspace(1, EPOCHS, 10 if quick() else 25).astype(int))
settings = {"Surprise defaults (k=100, lr 0.005, reg 0.02)": dict(),
            "no penalty (k=100, lr 0.02, reg 0)": dict(lr_all=0.02, reg_all=0.0),
            "k=10, lr 0.01, reg 0.05": dict(n_factors=K, lr_all=LR, reg_all=REG)}
curves = {}
for label, options in settings.items():
    train_rmse, test_rmse = [], []
    for n in epochs:
        algo = SVD(n_epochs=int(n), random_state=0, **options).fit(trainset)
        train_rmse.append(accuracy.rmse(algo.test(trainset), verbose=False))
        test_rmse.append(accuracy.rmse(algo.test(testset), verbose=False))
    curves[label] = (np.array(train_rmse), np.array(test_rmse))
    best = int(np.argmin(test_rmse))
    print(f"{label}: best held-out RMSE {test_rmse[best]:.3f} after {epochs[best]} epochs; "
          f"after {epochs[-1]}: train {train_rmse[-1]:.3f}, held-out {test_rmse[-1]:.3f}")
baseline_rmse = accuracy.rmse(BaselineOnly(verbose=False).fit(trainset).test(testset), verbose=False)
print(f"irreducible error {oracle:.3f}; baseline mu + b_u + b_i {baseline_rmse:.3f}")

fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
for (label, (train_rmse, test_rmse)), colour in zip(curves.items(), ("C0", "C3", "C1")):
    ax[0].plot(epochs, train_rmse, "--", color=colour, label=f"train, {label}")
    ax[0].plot(epochs, test_rmse, "-", color=colour, label=f"held-out, {label}")
ax[0].axhline(oracle, color="k", ls=":", label="irreducible error")
ax[0].axhline(baseline_rmse, color="grey", ls="-.", label="baseline (no factors)")
ax[0].set_xscale("log")
ax[0].set_xlabel("epochs")
ax[0].set_ylabel("RMSE")
ax[0].set_title("Learning curves of SVD by SGD")
ax[0].legend(fontsize=7)

# %% [markdown]
# The training error keeps falling. Without a penalty it reaches 0 — the model has
# memorised every training rating, noise included — while its held-out error bottoms out
# early and climbs again (overfitting). The held-out curve says when to stop; the penalty
# $\lambda$ and the number of factors $k$ say how far the model can bend.

# %% [markdown]
# ## 5. The snippet S5, and what "testing on the training set" measures
#
# The article's snippet fits on *all* the data and then tests on the same ratings — which
# measures how well the model remembers, not how well it predicts. With tinymed only the
# import line changes (Surprise itself refuses a Trainset in `test`; tinymed accepts it and
# means all its ratings).

# %%
from tinymed.recsys import Dataset, Reader, SVD, accuracy  # noqa: E402, I001  (S5's import, ported)

full = Dataset.load_from_triples(truth.ratings, Reader(rating_scale=(1, 5)))
algo = SVD(random_state=0)
trainset_full = full.build_full_trainset()
algo.fit(trainset_full)
predictions = algo.test(trainset_full)
s5_rmse = accuracy.rmse(predictions)
held_out = accuracy.rmse(SVD(random_state=0).fit(trainset).test(testset), verbose=False)
print(f"S5's number {s5_rmse:.3f} vs the same model on held-out ratings {held_out:.3f}")

# %% [markdown]
# ## 6. Closed form: the truncated SVD of a filled matrix
#
# The textbook SVD needs a full matrix. Fill every gap with the treatment's mean response,
# then keep the best rank-$k$ approximation (Eckart–Young). It pretends every missing
# response was average — here, where responses are *missing not at random*, that pulls
# predictions the wrong way.

# %%
closed_form = {k: accuracy.rmse(MeanFilledSVD(n_factors=k).fit(trainset).test(testset), verbose=False)
               for k in (1, 3, 10)}
print("truncated SVD of the mean-filled matrix, held-out RMSE by rank:",
      {k: round(v, 3) for k, v in closed_form.items()})

# %% [markdown]
# ## 7. Averaging many factorisations: Bayesian matrix factorisation
#
# SGD returns one set of factors and needs $\gamma$, $\lambda$ and the number of epochs tuned.
# BPMF (Salakhutdinov & Mnih 2008) puts priors on the factors and draws them from the
# posterior by Gibbs sampling: each patient's $p_u$ given the treatments' factors is Gaussian
# (a small linear solve), and so is each $q_i$. The prediction is the *average* of
# $\mu + p_u^\top q_i$ over the draws: each draw fits the training ratings too well (below
# the noise floor) and predicts poorly; their average predicts better than any of them.

# %%
bpmf = BPMF(n_factors=K, n_samples=60 if quick() else 150, burn_in=10, random_state=0).fit(trainset)
bpmf_rmse = accuracy.rmse(bpmf.test(testset), verbose=False)
best_sgd = min(curve[1].min() for curve in curves.values())
print(f"BPMF held-out RMSE {bpmf_rmse:.3f} (best SGD curve point {best_sgd:.3f}, floor {oracle:.3f}); "
      f"sampled noise sd {1 / np.sqrt(np.mean(bpmf.alphas[bpmf.burn_in:])):.3f} (true {truth.noise_std})")

# the kept draws, unstacked: P_mean holds draw s in columns s*k:(s+1)*k, divided by sqrt(S)
kept = bpmf.n_samples - bpmf.burn_in
draws_p = bpmf.P_mean.reshape(trainset.n_users, kept, K) * np.sqrt(kept)
draws_q = bpmf.Q_mean.reshape(trainset.n_items, kept, K) * np.sqrt(kept)
known_pairs = [p for p in bpmf.test(testset) if not p.details["was_impossible"]]  # no cold start
u_in = np.array([trainset.to_inner_uid(p.uid) for p in known_pairs])
i_in = np.array([trainset.to_inner_iid(p.iid) for p in known_pairs])
r_true = np.array([p.r_ui for p in known_pairs])
per_draw = trainset.global_mean + np.einsum("nsk,nsk->ns", draws_p[u_in], draws_q[i_in])
single_rmse = np.sqrt(np.mean((r_true[:, None] - np.clip(per_draw, 1, 5)) ** 2, axis=0))
running = np.cumsum(per_draw, axis=1) / np.arange(1, kept + 1)
averaged_rmse = np.sqrt(np.mean((r_true[:, None] - np.clip(running, 1, 5)) ** 2, axis=0))
print(f"held-out RMSE of a single draw: {single_rmse.mean():.3f} on average; "
      f"of the average of all {kept} draws: {averaged_rmse[-1]:.3f}")
sweeps = np.arange(bpmf.burn_in, bpmf.n_samples)
ax[1].plot(bpmf.train_rmse, color="C2", ls="--", label="train RMSE of each draw")
ax[1].plot(sweeps, single_rmse, color="C2", lw=0.8, label="held-out RMSE of each draw")
ax[1].plot(sweeps, averaged_rmse, color="C2", lw=2, label="held-out RMSE of the average of the draws so far")
ax[1].axhline(oracle, color="k", ls=":", label="irreducible error")
ax[1].axvline(bpmf.burn_in, color="grey", ls="--", label="end of burn-in")
ax[1].set_xlabel("Gibbs sweep")
ax[1].set_ylabel("RMSE")
ax[1].set_title("BPMF: draws, and their average")
ax[1].legend(fontsize=7)
fig.tight_layout()
save_figure(fig, "13_svd_learning_curves.png", dpi=120)

# %% [markdown]
# ## Summary
# - SVD here is $\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u$ fitted by SGD to the observed
#   ratings; each update moves four parameters along their error gradient, less a penalty.
# - The whole algorithm is a dozen lines of plain Python; tinymed's compiled sweep gives the
#   very same numbers, only faster.
# - Learning curves separate remembering (training error) from predicting (held-out
#   error); S5 reports the first.
# - Filling the gaps with means and taking the truncated SVD is worse than fitting the
#   observed entries; averaging posterior draws (BPMF) needs no learning rate or epoch count.
#
# Exercises: (1) set `reg_all=0` and watch the held-out curve; (2) change the order of the
# ratings within a patient in `one_epoch_in_plain_python` — are the results still
# identical? (3) give BPMF a fixed `alpha=2` (the paper's value) and compare.

# %%
assert np.allclose(by_hand["p_u"], svd_one.pu[0], rtol=1e-15) and np.isclose(by_hand["b_u"], svd_one.bu[0])
assert epoch_identical, "one epoch of tinymed's SVD is the plain-Python update rule"
default_train, default_test = curves["Surprise defaults (k=100, lr 0.005, reg 0.02)"]
assert np.all(np.diff(default_train) < 0), "training error only falls"
free_train, free_test = curves["no penalty (k=100, lr 0.02, reg 0)"]
assert free_train[-1] < 0.05 and free_test[-1] > free_test.min() + 0.005, "no penalty: memorises, then overfits"
small_train, small_test = curves["k=10, lr 0.01, reg 0.05"]
assert small_test.min() < baseline_rmse and small_test.min() > oracle - 0.02
assert s5_rmse < held_out, "testing on the training set flatters the model"
assert min(closed_form.values()) > small_test.min()
assert oracle - 0.02 < bpmf_rmse < best_sgd, "averaging posterior draws beats every SGD curve here"
assert averaged_rmse[-1] < single_rmse.min(), "the average of the draws beats every single draw"
