# %% [markdown]
# # Lesson 11 — Treatment recommendation
# Predict responses to untried treatments: collaborative, content, hybrid filtering and SVD vs the noise floor.
#
# How will a patient respond to treatments they have not had? Ask the responses of
# similar patients (collaborative filtering), what the treatments are (content
# filtering), both (hybrid), or a low-rank model (matrix factorisation) — and measure each
# against the noise no method can remove.
#
# Articles: 004 §3.2 (rating matrix, similarity, content and hybrid filtering; F13–F16) and
# 002 §3.2, §4.2 (recommendation algorithms, the Surprise snippet S5; F17).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from tinymed.lessons import quick, save_figure
from tinymed.recsys import (
    SVD,
    ArticleHybrid,
    BaselineOnly,
    Columns,
    ContentBased,
    Dataset,
    KNNBaseline,
    KNNBasic,
    KNNWithMeans,
    MeanFilledSVD,
    Reader,
    WeightedHybrid,
    accuracy,
    article_euclidean,
    article_hybrid,
    make_treatment_responses,
)
from tinymed.recsys.model_selection import train_test_split
from tinymed.recsys.similarities import similarity_matrix

# quick mode: fewer patients and treatments, about as many responses per patient (45 and 50)
N_PATIENTS, N_TREATMENTS, DENSITY = (500, 150, 0.3) if quick() else (2000, 300, 0.167)

# %% [markdown]
# ## 1. The data: who responded to what
#
# Real patient–treatment outcome tables are not public, so tinymed *generates* one whose
# truth we know (`make_treatment_responses`): patients with comorbidity profiles,
# treatments with mechanism features, a true response that is low rank plus biases,
# observed with Gaussian noise of known size (sd 0.5 on a 1–5 scale), and — as in a real
# record — **missing not at random**: responses of patients who did well are more often
# recorded. The data are synthetic and carry no clinical meaning.
#
# Article 004 §3.2.1.1 (F13) arranges them in the user–item matrix
#
# $$R = \begin{bmatrix} r_{11} & r_{12} & \dots & r_{1n} \\ \vdots & & & \vdots \\ r_{m1} & r_{m2} & \dots & r_{mn} \end{bmatrix},$$
#
# $r_{ij}$ = response of patient $i$ to treatment $j$ — most entries empty.

# %%
truth = make_treatment_responses(N_PATIENTS, N_TREATMENTS, density=DENSITY, random_state=0)
print(truth.description)
data = truth.to_dataset()
trainset, testset = train_test_split(data, test_size=0.2, random_state=0)
R = trainset.rating_matrix()              # dense, NaN where unobserved
R_sparse = trainset.rating_matrix_csr()   # the same, stored sparse
print(f"R is {R.shape[0]} x {R.shape[1]}, {np.isfinite(R).mean():.1%} observed; "
      f"sparse storage keeps {R_sparse.nnz} of {R.size} entries")
observed_mean = truth.true_response[truth.observed].mean()
print(f"mean true response: observed pairs {observed_mean:.2f}, all pairs {truth.true_response.mean():.2f} "
      "(missing not at random: the record is optimistic)")

# %% [markdown]
# The best possible predictor knows the true response $t_{ui}$ and still misses the noise.
# Its RMSE on the test set is the **irreducible error**: no method can go below it.
#
# It comes out a little *below* the noise sd of 0.5. A recorded response is the truth plus
# noise, clipped to the 1–5 scale: near the ends of the scale the clip cuts the noise
# short (a true 4.8 plus noise 0.9 is recorded as 5, an error of 0.2), so those responses
# sit closer to the truth than the noise sd says. Mid-scale responses are never clipped.

# %%
oracle = truth.oracle_rmse(testset)
print(f"irreducible RMSE on the test set: {oracle:.3f} (noise sd {truth.noise_std})")
true_of_test = np.array([truth.true_rating(u, i) for u, i, _ in testset])
mid_scale = (true_of_test > 2) & (true_of_test < 4)
oracle_mid = truth.oracle_rmse([row for row, mid in zip(testset, mid_scale) if mid])
oracle_ends = truth.oracle_rmse([row for row, mid in zip(testset, mid_scale) if not mid])
print(f"  of true responses in (2, 4): {oracle_mid:.3f}; nearer the ends of the scale: {oracle_ends:.3f}")

# %% [markdown]
# ## 2. Similarity — and why the article's F14 is not one
#
# Article 004 §3.2.1.2 (F14) measures how alike two patients are as
#
# $$\mathrm{sim}(u, v) = 1 - \frac{\sqrt{\sum_{j} (r_{uj} - r_{vj})^2}}{\sqrt{\sum_j r_{uj}^2 \sum_j r_{vj}^2}} .$$
#
# In a rating matrix the sums run over the treatments *both* patients received (their
# co-rated treatments), as for every similarity below: nothing else can be compared. So
# the number of terms changes from pair to pair. The numerator is a distance (units:
# stars); the denominator is the product of two norms (units: stars²). So the value
# changes with the rating scale, and with how many treatments the two patients share:
# for long rows it creeps to 1 whatever the disagreement, and for short rows of small
# ratings it is unbounded below. The standard
# choices are scale-free or bounded: cosine $\frac{\sum r_{uj} r_{vj}}{\sqrt{\sum r_{uj}^2 \sum r_{vj}^2}}$,
# Pearson (cosine of mean-centred ratings), and the mean squared difference
# $\mathrm{msd} = 1 / (1 + \frac1n \sum_j (r_{uj} - r_{vj})^2)$.

# %%
lengths = np.array([1, 2, 5, 10, 20, 50, 100, 200])
f14_disagree = [article_euclidean(np.full(n, 2.0), np.full(n, 4.0)) for n in lengths]   # 2 stars apart
f14_agree = [article_euclidean(np.full(n, 3.0), np.full(n, 3.5)) for n in lengths]      # half a star apart
msd_disagree = 1 / (1 + 2.0**2)
print("F14, patients always 2 stars apart, by number of shared treatments:",
      np.round(f14_disagree, 3))
print("F14 on the same patients rated on a 0.2-1.0 scale instead of 1-5:",
      round(article_euclidean([0.4], [0.8]), 3), "vs", round(article_euclidean([2.0], [4.0]), 3))
print("F14 of one shared treatment rated 0.2 and 1.0:", article_euclidean([0.2], [1.0]))

fig_f14, ax = plt.subplots(figsize=(6, 4))
ax.semilogx(lengths, f14_disagree, "o-", label="F14: 2 stars apart")
ax.semilogx(lengths, f14_agree, "s-", label="F14: half a star apart")
ax.axhline(msd_disagree, color="k", ls="--", label="msd: 2 stars apart (any length)")
ax.set_xlabel("number of co-rated treatments")
ax.set_ylabel("similarity")
ax.set_title("Article F14 depends on the row length, not the agreement")
ax.legend()
save_figure(fig_f14, "11_f14_and_row_length.png", dpi=100)

# %% [markdown]
# The same three similarities on the data: the rating matrix of the 40 patients with the
# most responses (grey: none recorded) and their patient–patient similarity matrices. F14
# calls almost every pair nearly identical; msd and Pearson tell them apart. Used as
# neighbour weights (section 3), F14's nearly equal values make a plain average of the
# neighbours, and predict worse than msd.

# %%
n_show = 40
busiest = np.argsort(-np.isfinite(R).sum(axis=1), kind="stable")[:n_show]
shown = R[busiest]
sims = {name: similarity_matrix(trainset, name)[np.ix_(busiest, busiest)]
        for name in ("article_euclidean", "msd", "pearson")}
fig_r, axes = plt.subplots(1, 4, figsize=(17, 4), layout="constrained")
cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
image = axes[0].imshow(np.ma.masked_invalid(shown), aspect="auto", cmap=cmap, vmin=1, vmax=5,
                       interpolation="nearest")
axes[0].set_title(f"R: the {n_show} busiest patients (grey = missing)")
axes[0].set_xlabel("treatment")
axes[0].set_ylabel("patient")
fig_r.colorbar(image, ax=axes[0], label="response")
for axis, (name, S) in zip(axes[1:], sims.items()):
    image = axis.imshow(S, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    label = "F14 (article)" if name == "article_euclidean" else name
    axis.set_title(f"patient similarity: {label}")
    axis.set_xlabel("patient")
fig_r.colorbar(image, ax=axes[1:], label="similarity")
save_figure(fig_r, "11_rating_matrix_and_similarity.png", dpi=100)
off_diagonal = ~np.eye(n_show, dtype=bool)
spread = {}
for name, S in sims.items():
    values = S[off_diagonal]
    spread[name] = np.percentile(values, 90) - np.percentile(values, 10)
    print(f"{name:<18} off-diagonal similarities: median {np.median(values):.3f}, "
          f"spread (10th-90th percentile) {spread[name]:.3f}")

# %% [markdown]
# ## 3. Collaborative filtering (F17)
#
# To predict patient $u$'s response to treatment $i$, average the responses of the $k$
# patients most similar to $u$ who received $i$, weighted by similarity
# (`KNNBasic`, Surprise's defaults $k=40$, `msd`):
#
# $$\hat r_{ui} = \frac{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)\, r_{vi}}{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)} .$$
#
# `KNNWithMeans` averages deviations from each patient's mean instead; `KNNBaseline`
# deviations from the baseline $\mu + b_u + b_i$ (overall mean, patient and treatment
# offsets). Item-based (`user_based=False`) compares treatments instead of patients.

# %%
results = {}


def evaluate(name, algo):
    start = time.perf_counter()
    algo.fit(trainset)
    predictions = algo.test(testset)
    results[name] = accuracy.rmse(predictions, verbose=False)
    print(f"{name:<34} RMSE {results[name]:.3f}   ({time.perf_counter() - start:.1f} s)")
    return predictions


evaluate("global mean", BaselineOnly(bsl_options={"n_epochs": 0}, verbose=False))  # b_u = b_i = 0
evaluate("baseline mu + b_u + b_i", BaselineOnly(verbose=False))
evaluate("KNNBasic, F14 similarity", KNNBasic(sim_options={"name": "article_euclidean"}, verbose=False))
evaluate("KNNBasic, msd", KNNBasic(verbose=False))
evaluate("KNNWithMeans, pearson", KNNWithMeans(sim_options={"name": "pearson"}, verbose=False))
evaluate("KNNBaseline, item pearson_baseline",
         KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False))

# %% [markdown]
# ## 4. Content filtering (F15)
#
# Article 004 §3.2.2 describes each treatment by a feature vector $f$ (here: mechanism
# class, route, dosing, clearance) and compares treatments with the same formula as F14,
# $\mathrm{sim}(p, q) = 1 - \frac{\sqrt{\sum_i (f_{pi} - f_{qi})^2}}{\sqrt{\sum_i f_{pi}^2 \sum_i f_{qi}^2}}$.
# `ContentBased` predicts from the patient's *own* responses to the most similar
# treatments. It needs no other patient, and it can score a treatment nobody has received.

# %%
features = truth.item_features()
evaluate("content, F15 similarity", ContentBased(features, sim="article_euclidean"))
evaluate("content, cosine", ContentBased(features, sim="cosine"))
content = ContentBased(features, sim="cosine", baseline=True)
evaluate("content, cosine on baseline residuals", content)

# %% [markdown]
# Where content filtering earns its place: a **new treatment**. Hide every response to one
# treatment, then predict them. SVD has never seen it and can only say $\mu + b_u$ (its
# `details` say so); content filtering looks at the patient's responses to treatments of
# the same mechanism.

# %%
new = max(truth.treatments, key=lambda t: sum(i == t for _, i, _ in truth.ratings))
without_new = Dataset.load_from_triples([r for r in truth.ratings if r[1] != new], Reader(rating_scale=(1, 5)))
responses_to_new = [r for r in truth.ratings if r[1] == new]
train_without_new = without_new.build_full_trainset()
svd_cold = SVD(n_factors=10, n_epochs=40, lr_all=0.01, reg_all=0.05, random_state=0).fit(train_without_new)
cold_svd = svd_cold.test(responses_to_new)
cold_content = ContentBased(features, sim="cosine", baseline=True).fit(train_without_new).test(responses_to_new)
print(f"new treatment {new}, {len(responses_to_new)} responses; SVD details: {cold_svd[0].details}")
print(f"RMSE on it: SVD {accuracy.rmse(cold_svd, verbose=False):.3f}, "
      f"content {accuracy.rmse(cold_content, verbose=False):.3f}")

# %% [markdown]
# ## 5. Hybrid filtering (F16)
#
# Article 004 §3.2.3 writes the hybrid as
#
# $$w_u = \frac{\sum_{j=1}^{n} r_{uj}\,\mathrm{sim}(u,v)}{\sum_{j=1}^{n} \mathrm{sim}(u,v)}, \qquad r_{uv} = \sum_{j=1}^{n} w_u\, r_{uj}.$$
#
# $\mathrm{sim}(u,v)$ does not depend on $j$, so it cancels: $w_u = \bar r_u$, and
# $r_{uv} = n\,\bar r_u^2$ — the same for every treatment, growing with the number of
# responses, far off the 1–5 scale. A well-posed hybrid blends a collaborative and a
# content prediction, $\hat r_{ui} = \alpha\,\hat r^{CF}_{ui} + (1-\alpha)\,\hat r^{CB}_{ui}$,
# with $\alpha$ chosen on held-out data.

# %%
w_u, r_uv = article_hybrid([4.0, 2.0, 5.0], sim_uv=0.37)
print(f"F16 for ratings (4, 2, 5), any sim: w_u = {w_u:.3f} (the mean), r_uv = {r_uv:.2f} (= 3 x mean^2)")
evaluate("hybrid, F16 as written", ArticleHybrid())

svd = SVD(n_factors=10, n_epochs=40, lr_all=0.01, reg_all=0.05, random_state=0)
fit_part, valid_part = train_test_split(Dataset.load_from_triples(trainset.build_testset(), data.reader),
                                       test_size=0.2, random_state=1)
blend = WeightedHybrid([svd, ContentBased(features, sim="cosine", baseline=True)]).fit(fit_part)
alphas = np.linspace(0, 1, 6 if quick() else 11)
valid_rmse = [accuracy.rmse(blend.set_weights([a, 1 - a]).test(valid_part), verbose=False) for a in alphas]
alpha = float(alphas[int(np.argmin(valid_rmse))])
print(f"alpha chosen on a validation split: {alpha:.1f}")
evaluate(f"hybrid, {alpha:.1f} SVD + {1 - alpha:.1f} content", blend.set_weights([alpha, 1 - alpha]))

# %% [markdown]
# Whatever $lpha$ the validation picks — even 1.0, all the weight on SVD — the blend
# falls back on content for the new treatment: a component that cannot predict a pair
# drops out of its blend, and if none of the weighted ones can, those that can take over
# (`details` says so).

# %%
blend_cold = WeightedHybrid([SVD(n_factors=10, n_epochs=40, lr_all=0.01, reg_all=0.05, random_state=0),
                             ContentBased(features, sim="cosine", baseline=True)], weights=[alpha, 1 - alpha])
cold_blend = blend_cold.fit(train_without_new).test(responses_to_new)
print(f"blend ({alpha:.1f} SVD) on the new treatment: RMSE {accuracy.rmse(cold_blend, verbose=False):.3f}, "
      f"details {dict((k, v) for k, v in cold_blend[0].details.items() if k != 'components')}")

# %% [markdown]
# ## 6. Matrix factorisation: the article's SVD snippet (S5)
#
# Article 002 §4.2 uses Surprise's `SVD`, which learns
# $\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u$ by stochastic gradient descent on the
# observed ratings only. The snippet runs in tinymed with only its import line changed
# (`Columns` stands in for a pandas DataFrame; with pandas installed use one). It tests on
# the training set, which measures fit, not prediction.

# %%
from tinymed.recsys import Dataset, Reader, SVD, accuracy  # noqa: E402, I001  (S5's import, ported)

patients, treatments, responses = zip(*truth.ratings)
df = Columns(user_id=list(patients), item_id=list(treatments), rating=list(responses))

# 数据预处理 (preprocessing)
data = Dataset.load_from_df(df[['user_id', 'item_id', 'rating']], Reader(rating_scale=(1, 5)))
# 模型构建 (model)
algo = SVD()
# 训练模型 (training)
trainset_full = data.build_full_trainset()
algo.fit(trainset_full)
# 推荐 (recommendation)
predictions = algo.test(trainset_full)
# 评估 (evaluation)
s5_rmse = accuracy.rmse(predictions)

# %% [markdown]
# On held-out data: Surprise's defaults (100 factors, 20 epochs), a smaller tuned model,
# and the closed form — fill the gaps with each treatment's mean and keep the best rank-$k$
# approximation (truncated SVD), which pretends every missing response was average.

# %%
evaluate("SVD, Surprise defaults", SVD(random_state=0))
svd_predictions = evaluate("SVD, 10 factors, 40 epochs", SVD(n_factors=10, n_epochs=40, lr_all=0.01,
                                                              reg_all=0.05, random_state=0))
evaluate("truncated SVD of mean-filled R, k=5", MeanFilledSVD(n_factors=5))

# %% [markdown]
# ## 7. Every method against the noise floor

# %%
names = sorted(results, key=results.get)
fig_floor, ax = plt.subplots(figsize=(8, 6))
ax.barh(names, [results[n] for n in names], color=["C3" if "F1" in n else "C0" for n in names])
ax.axvline(oracle, color="k", ls="--", label=f"irreducible error {oracle:.2f}")
ax.set_xlim(0, max(2.0, max(results.values()) + 0.1))
ax.set_xlabel("test RMSE (lower is better)")
ax.set_title("Treatment response prediction")
ax.legend(loc="lower right")
fig_floor.tight_layout()
save_figure(fig_floor, "11_methods_vs_noise_floor.png", dpi=120)
for name in names:
    print(f"{name:<40} {results[name]:.3f}   {results[name] / oracle:4.2f} x irreducible")

# %% [markdown]
# ## 8. Recommending: the top of each patient's list
#
# A recommender is judged by the top of its ranking too. For each test patient, rank
# their test treatments by prediction; a treatment is *relevant* if the true response is
# at least 3.5. Precision@k: the share of recommended top-$k$ treatments that are
# relevant; recall@k: the share of relevant ones that made it;
# $\mathrm{NDCG@k} = \mathrm{DCG}_k / \mathrm{IDCG}_k$ with
# $\mathrm{DCG}_k = \sum_{p=1}^{k} r_{(p)} / \log_2(p+1)$.

#
# With responses of 1–5 as gains even a random order has a high NDCG (every item gains at
# least 1), so compare with the random line rather than with 1.

# %%
baseline_predictions = BaselineOnly(verbose=False).fit(trainset).test(testset)
shuffled = np.random.default_rng(0).random(len(svd_predictions))
random_order = [p._replace(est=1 + 4 * x) for p, x in zip(svd_predictions, shuffled)]
for name, preds in (("random", random_order), ("baseline", baseline_predictions), ("SVD", svd_predictions)):
    print(f"{name:<9} precision@5 {accuracy.precision_at_k(preds, 5):.3f}  "
          f"recall@5 {accuracy.recall_at_k(preds, 5):.3f}  NDCG@5 {accuracy.ndcg_at_k(preds, 5):.3f}")

patient = testset[0][0]
fitted = SVD(n_factors=10, n_epochs=40, lr_all=0.01, reg_all=0.05, random_state=0).fit(trainset)
tried = {i for i, _ in trainset.ur[trainset.to_inner_uid(patient)]}
candidates = [(patient, trainset.to_raw_iid(i), trainset.global_mean) for i in trainset.all_items() if i not in tried]
top5 = sorted(fitted.test(candidates), key=lambda p: -p.est)[:5]
print(f"top 5 untried treatments for {patient} (prediction / true response):")
for p in top5:
    print(f"  {p.iid}: {p.est:.2f} / {truth.true_rating(patient, p.iid):.2f}")
mean_truth_of_candidates = np.mean([truth.true_rating(patient, i) for _, i, _ in candidates])
print(f"  average true response over all {len(candidates)} untried treatments: {mean_truth_of_candidates:.2f}")

# %% [markdown]
# ## Summary
# - The rating matrix R (F13) is mostly empty; tinymed stores it dense or sparse.
# - F14 as written mixes a distance with a product of norms: it depends on the scale and
#   on the number of shared treatments. Use msd, cosine, Pearson or pearson_baseline.
# - Collaborative filtering uses other patients; content filtering the treatments'
#   features, and so can score a new treatment that collaborative filtering cannot. A
#   blend of the two (not F16 as written, which collapses to $n\bar r_u^2$) with its weight
#   chosen on validation data is never worse than its better part there — and, whatever
#   that weight, falls back on content where SVD has nothing to say.
# - Of the single methods, SVD by SGD on the observed responses comes closest to the
#   irreducible error here; filling the gaps with means first does worse. F14 as neighbour
#   weights does worse than msd.
# - The irreducible error is a little below the noise sd because recorded responses are
#   clipped to the scale, which shortens the noise near its ends.
#
# Exercises: (1) set `missing="mcar"` and compare the baseline's error; (2) give
# `make_treatment_responses` a larger `noise_std` and watch every method's distance to
# the floor shrink; (3) score a brand-new treatment with `ContentBased`.

# %%
assert all(r > oracle - 0.02 for r in results.values()), "nothing beats the irreducible error"
assert results["hybrid, F16 as written"] == max(results.values())
assert results["SVD, 10 factors, 40 epochs"] < results["baseline mu + b_u + b_i"] < results["global mean"]
assert accuracy.ndcg_at_k(svd_predictions, 5) > accuracy.ndcg_at_k(random_order, 5)
assert min(results[f"hybrid, {alpha:.1f} SVD + {1 - alpha:.1f} content"], results["SVD, 10 factors, 40 epochs"]) \
    <= results["content, cosine on baseline residuals"]
assert accuracy.rmse(cold_content, verbose=False) < accuracy.rmse(cold_svd, verbose=False)
assert cold_svd[0].details["was_impossible"]
assert f14_disagree[-1] > 0.95 > msd_disagree, "F14 calls patients 2 stars apart nearly identical"
assert spread["article_euclidean"] < spread["msd"] / 3, "on real rows F14 barely tells patients apart"
assert s5_rmse < results["SVD, Surprise defaults"], "training error is below test error"
assert oracle < truth.noise_std and oracle_ends < oracle_mid, "clipping shortens the noise near the scale's ends"
single = [n for n in results if not n.startswith("hybrid")]
assert min(single, key=results.get) == "SVD, 10 factors, 40 epochs", "SVD by SGD is the best single method"
assert results["SVD, 10 factors, 40 epochs"] < results["truncated SVD of mean-filled R, k=5"]
assert results["KNNBasic, msd"] < results["KNNBasic, F14 similarity"], "F14 weights predict worse than msd"
assert min(valid_rmse) <= min(valid_rmse[0], valid_rmse[-1]), "the validated blend is no worse than either part"
assert abs(accuracy.rmse(cold_blend, verbose=False) - accuracy.rmse(cold_content, verbose=False)) < 1e-12, \
    "on the new treatment the blend is its content part"
assert all(not p.details["was_impossible"] for p in cold_blend)
