# %% [markdown]
# # Lesson 25 — Implicit feedback: recommending from what was prescribed
# ALS and BPR learn from prescriptions alone; top-N metrics on held-out prescriptions reward imitating past practice, the known truth shows what each model learned.
#
# Lessons 11 and 13 predicted *responses*: how well a patient did on a treatment. Most
# records hold less: which treatments a patient was given. That is *implicit* feedback — a
# prescription says the treatment was chosen, not that it worked, and a treatment never
# given is not a bad response, only a missing choice. A recommender must then rank the
# treatments a patient has not had yet, and it is judged by the top of that ranking.
#
# Surprise, the library of lessons 11 and 13, has no implicit-feedback models (its users
# asked, its maintainer declined); tinymed's follow the `implicit` library's names:
# `AlternatingLeastSquares` and `BayesianPersonalizedRanking` in `tinymed.recsys.implicit`.

# %%
import matplotlib.pyplot as plt
import numpy as np

from tinymed.lessons import quick, save_figure
from tinymed.recsys import make_treatment_prescriptions, top_n
from tinymed.recsys.implicit import AlternatingLeastSquares, BayesianPersonalizedRanking
from tinymed.recsys.implicit import evaluation as ev
from tinymed.sparse import CSRMatrix

N_PATIENTS, N_TREATMENTS, DENSITY = (300, 40, 0.2) if quick() else (1000, 60, 0.15)
K = 5  # the length of the list a clinician would read

# %% [markdown]
# ## 1. The data: who was given what — and, here only, what would have worked
#
# `make_treatment_prescriptions` draws the patients and treatments of lesson 11 (the same
# recipe: a low-rank true response $t_{ui}$ from comorbidities and mechanism features) and
# records who was *given* what: a treatment is prescribed more often when it suits the
# patient, and more often when it is popular with prescribers. The data are synthetic and
# carry no clinical meaning; their use is that the truth is known, which no real record
# offers.

# %%
data = make_treatment_prescriptions(N_PATIENTS, N_TREATMENTS, density=DENSITY, random_state=1)
print(data.description)
R = data.prescribed.toarray() > 0
given, not_given = data.true_response[R].mean(), data.true_response[~R].mean()
print(f"mean true response: prescribed pairs {given:.2f}, the others {not_given:.2f}")
print(f"prescriptions per treatment: from {R.sum(axis=0).min()} to {R.sum(axis=0).max()}")

# %% [markdown]
# ## 2. Holding prescriptions out, and the top-N metrics
#
# Hide $K_{out} = 2$ prescriptions of every patient who has more than two; fit on the rest;
# ask each model for its top $k$ treatments among those the patient was not given in the
# training data; count the hidden ones it finds. With $L_k$ the list and $R$ the hidden
# (relevant) treatments, defined once in `tinymed.recsys.top_n`:
#
# * precision@k $= |L_k \cap R| / k$, recall@k $= |L_k \cap R| / |R|$;
# * AP@k $= \frac{1}{\min(k, |R|)} \sum_{p \le k} \mathrm{precision@}p \cdot [\text{item at } p \in R]$,
#   which rewards hits near the top (MAP: its mean over patients);
# * NDCG@k $= \mathrm{DCG@}k / \mathrm{IDCG@}k$, $\mathrm{DCG@}k = \sum_{p \le k} [\text{item at } p \in R] / \log_2(p+1)$.
#
# By hand, for the list a, b, c, d, e and relevant b, d, f:

# %%
listed, relevant = ["a", "b", "c", "d", "e"], {"b", "d", "f"}
by_hand = {"precision": top_n.precision_at_k(listed, relevant, 5), "recall": top_n.recall_at_k(listed, relevant, 5),
           "AP": top_n.average_precision_at_k(listed, relevant, 5), "NDCG": top_n.ndcg_at_k(listed, relevant, 5)}
print({name: round(value, 4) for name, value in by_hand.items()})
expected = {"precision": 2 / 5, "recall": 2 / 3, "AP": (1 / 2 + 2 / 4) / 3,
            "NDCG": (1 / np.log2(3) + 1 / np.log2(5)) / (1 + 1 / np.log2(3) + 1 / np.log2(4))}

train, test = ev.leave_k_out_split(data.prescribed, K=2, random_state=0)
print(f"train: {train.nnz} prescriptions; held out: {test.nnz}, of {np.sum(np.diff(test.indptr) > 0)} patients")

# %% [markdown]
# ## 3. Two yardsticks: the popular treatments, and an oracle
#
# *Popularity* recommends the treatments prescribed most, to everyone. The *oracle* knows
# the true response and recommends each patient's best treatments — what a recommender
# should aim for. Both answer `recommend` as tinymed's models do, so one evaluation serves all.

# %%
class Ranking:
    """Recommends, to patient u, the treatments with the highest ``scores[u]`` it has not had."""

    def __init__(self, scores):
        self.scores = np.broadcast_to(scores, R.shape)

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True):
        lists = []
        for row, u in enumerate(userid):
            had = set(user_items.row(row)[0].tolist())
            lists.append([i for i in np.argsort(-self.scores[u], kind="stable") if i not in had][:N])
        return np.array(lists), None


popularity = Ranking(np.bincount(train.indices, minlength=N_TREATMENTS).astype(float))
oracle = Ranking(data.true_response)

# %% [markdown]
# ## 4. Alternating least squares (Hu, Koren & Volinsky 2008)
#
# Treat *every* pair as data: preference $p_{ui} = 1$ if prescribed, else 0, trusted with
# confidence $c_{ui} = 1 + \alpha r_{ui}$ (a prescription is surer than an absence), and fit
#
# $$\min_{X, Y} \sum_{u, i} c_{ui} (p_{ui} - x_u^\top y_i)^2 + \lambda \Big(\sum_u \lVert x_u\rVert^2 + \sum_i \lVert y_i\rVert^2\Big).$$
#
# With the treatments' factors fixed this is a weighted least-squares problem for each
# patient alone, $\big(Y^\top Y + \lambda I + Y_u^\top (C_u - I) Y_u\big) x_u = Y_u^\top C_u p_u$ —
# $Y^\top Y$ counts every unprescribed pair at confidence 1 and is computed once — and the same
# for each treatment given the patients: alternate. Each half-step solves its problems
# exactly, so the loss can only fall; `use_cg=True` (the `implicit` library's fast path)
# takes three conjugate-gradient steps instead, from where the last iteration left off.

# %%
settings = dict(factors=3, regularization=10.0, alpha=1.0, iterations=15, random_state=0, dtype=np.float64)
exact = AlternatingLeastSquares(use_cg=False, calculate_training_loss=True, **settings).fit(train, show_progress=False)
als = AlternatingLeastSquares(calculate_training_loss=True, **settings).fit(train, show_progress=False)
print("exact ALS loss by iteration:", np.round(exact.training_loss[:6], 5), "...")
print(f"final loss: exact {exact.training_loss[-1]:.5f}, conjugate gradient {als.training_loss[-1]:.5f}")

# %% [markdown]
# ## 5. Bayesian personalised ranking (Rendle et al. 2009)
#
# BPR asks less of the data: only that a patient's prescribed treatment $i$ should rank
# above an unprescribed $j$. It maximises $\sum \ln \sigma(s_{ui} - s_{uj})$, with
# $s_{ui} = x_u^\top y_i + b_i$, by stochastic gradient steps on sampled triples $(u, i, j)$;
# `train_auc` is the share of each epoch's triples it already orders right.

# %%
bpr = BayesianPersonalizedRanking(factors=8, learning_rate=0.01, regularization=0.05, iterations=100,
                                  random_state=0).fit(train, show_progress=False)
first_auc, last_auc = np.mean(bpr.train_auc[:10]), np.mean(bpr.train_auc[-10:])
print(f"BPR train AUC: first 10 epochs {first_auc:.3f} on average, last 10 {last_auc:.3f}")

# %% [markdown]
# ## 6. Judged on the held-out prescriptions

# %%
models = {"popularity": popularity, "ALS": als, "BPR": bpr, "oracle (knows t)": oracle}
held_out = {name: ev.ranking_metrics_at_k(model, train, test, K) for name, model in models.items()}
for name, m in held_out.items():
    print(f"{name:<17} precision@{K} {m['precision']:.3f}  recall@{K} {m['recall']:.3f}  "
          f"MAP@{K} {m['map']:.3f}  NDCG@{K} {m['ndcg']:.3f}")

# %% [markdown]
# The oracle — which ranks by what truly suits each patient — does *worst* of all, below
# even the list of popular treatments. Held-out prescriptions measure how well a model
# predicts what prescribers did, habits and fashions included; a patient's best treatment
# is often one they were never given. Evaluating a recommender on past choices rewards
# imitating them.
#
# Here the truth is known, so we can ask the question that matters instead: of the
# treatments each patient was not given, which truly suit them ($t_{ui} \ge 4$)?

# %%
suits = data.suited(4.0) & ~(train.toarray() > 0)
rows, cols = np.nonzero(suits)
truly_suited = CSRMatrix.from_coo(rows, cols, np.ones(len(rows)), suits.shape)
print(f"{np.sum(suits.any(axis=1))} patients have an unprescribed treatment that suits them "
      f"({suits.sum(axis=1)[suits.any(axis=1)].mean():.1f} on average)")
truth = {name: ev.ranking_metrics_at_k(model, train, truly_suited, K) for name, model in models.items()}
for name, m in truth.items():
    print(f"{name:<17} precision@{K} {m['precision']:.3f}  NDCG@{K} {m['ndcg']:.3f}   (against the truth)")

# %% [markdown]
# Against the truth the order turns: the oracle is perfect by construction, and ALS —
# which models each patient from the company of similar patients' prescriptions — finds
# more suitable treatments than the popularity list does.

# %%
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
names = list(models)
width = 0.38
for offset, (label, scores) in zip((-width / 2, width / 2), (("held-out prescriptions", held_out),
                                                             ("truly suited, not given", truth))):
    axes[0].bar(np.arange(len(names)) + offset, [scores[n]["ndcg"] for n in names], width, label=label)
axes[0].set_xticks(np.arange(len(names)), names)
axes[0].set_ylabel(f"NDCG@{K}")
axes[0].set_title("What each model is judged against decides who wins")
axes[0].legend()
axes[1].plot(np.arange(1, len(exact.training_loss) + 1), exact.training_loss, "o-", label="exact solves")
axes[1].plot(np.arange(1, len(als.training_loss) + 1), als.training_loss, "s--", label="3 CG steps")
axes[1].set_xlabel("ALS iteration")
axes[1].set_ylabel("loss / sum of confidences")
axes[1].set_title("ALS: each exact half-step lowers the loss")
axes[1].legend()
axes[2].plot(np.arange(1, len(bpr.train_auc) + 1), bpr.train_auc)
axes[2].set_xlabel("BPR epoch")
axes[2].set_ylabel("sampled pairs ordered right")
axes[2].set_title("BPR: training AUC")
fig.tight_layout()
save_figure(fig, "25_implicit_feedback.png", dpi=110)

# %% [markdown]
# ## 7. Asking the model: recommend and similar_items
#
# `recommend(patient, user_items[patient], N)` returns the best treatments the patient has
# not had, with their scores; `similar_items(treatment)` the treatments whose factors point
# the same way (cosine), itself first.

# %%
patient = int(np.flatnonzero(suits.any(axis=1))[0])
ids, scores = als.recommend(patient, CSRMatrix.from_coo(np.zeros(len(train.row(patient)[0])), train.row(patient)[0],
                                                        train.row(patient)[1], (1, N_TREATMENTS)), N=K)
print(f"patient {data.patients[patient]}: recommended (true response) ",
      [(data.treatments[i], round(float(data.true_response[patient, i]), 2)) for i in ids])
similar, cosines = als.similar_items(int(ids[0]), N=4)
print(f"treatments like {data.treatments[ids[0]]}:", [(data.treatments[i], round(float(c), 3))
                                                     for i, c in zip(similar, cosines)])

# %% [markdown]
# ## Summary
# - Implicit feedback records choices, not outcomes; a recommender ranks the unchosen.
# - ALS weighs every pair (prescribed: confidence $1 + \alpha r$; not: 1) and alternates
#   exact least-squares solves, each of which lowers its loss; BPR learns only to order a
#   patient's prescribed treatments above the others.
# - Precision, recall, MAP and NDCG at $k$ score the top of the list; tinymed defines each
#   once (`tinymed.recsys.top_n`).
# - Scored on held-out prescriptions, the oracle that knows what suits each patient loses
#   to every model, the popularity list included: such an evaluation measures agreement
#   with past practice. Scored on what truly suits each patient — known only because the
#   data are synthetic — ALS beats popularity.
#
# Exercises: (1) raise `alpha` in ALS and watch the held-out and true scores move apart;
# (2) hold out 5 prescriptions per patient; (3) compare `use_cg=False` and `use_cg=True`
# on time and score.

# %%
assert given > not_given + 0.3, "prescribed treatments suit their patients better: missing not at random"
assert all(abs(by_hand[name] - expected[name]) < 1e-12 for name in expected)
assert all(a >= b - 1e-12 for a, b in zip(exact.training_loss, exact.training_loss[1:])), "exact ALS never rises"
assert abs(als.training_loss[-1] - exact.training_loss[-1]) < 0.05 * exact.training_loss[-1]
assert last_auc > first_auc, "BPR learns to order the pairs"
assert held_out["oracle (knows t)"]["ndcg"] < held_out["popularity"]["ndcg"], "the oracle loses on past choices"
assert held_out["oracle (knows t)"]["ndcg"] == min(m["ndcg"] for m in held_out.values())
assert truth["oracle (knows t)"]["ndcg"] == 1.0
assert truth["ALS"]["ndcg"] > truth["popularity"]["ndcg"], "against the truth ALS beats popularity"
assert min(held_out["ALS"]["ndcg"], held_out["BPR"]["ndcg"]) > 0.1
