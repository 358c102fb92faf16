"""Implicit-feedback recommenders side by side in one run: tinymed's ALS and BPR vs the ``implicit`` library.

MovieLens-100k treated as implicit feedback: a rating of 4 or 5 is a positive (1), everything
else no interaction. A fixed per-user hold-out (``leave_k_out_split(K=5, random_state=0)``:
five positives of every user who has more than five) is the test set. Both libraries get
the same training matrix, factors, regularisation, iterations and thread count:

* ALS: ``factors=64, regularization=0.05, iterations=15``, conjugate gradient; confidence
  ``1 + r`` in tinymed (``alpha=1``) is ``2 r`` in ``implicit`` (``alpha=2``): the same on 0/1
  data. Timed on 1 thread and on every core.
* BPR: ``factors=64, learning_rate=0.05, regularization=0.01, iterations=100``, on one thread
  (tinymed's BPR is single-threaded by design, so that it is reproducible).

Quality: precision@10 and NDCG@10 of each model's top-10 lists, both scored by tinymed's
definitions (:mod:`tinymed.recsys.top_n`), averaged over ``--seeds`` seeds (a BPR model varies
with its draws); the ratio tinymed / implicit is the comparison. Speed: the median fit time;
the ratio tinymed / implicit. The float32 factors are both libraries' default.

    python benchmarks/bench_implicit.py            # 5 seeds
    python benchmarks/bench_implicit.py --seeds 2  # a quicker look

Writes ``implicit_cpu.json`` (scratch folder; ``--record`` for ``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinymed.recsys as tr  # noqa: E402
from benchmarks.harness import print_table, save  # noqa: E402
from tinymed.recsys.implicit import AlternatingLeastSquares, BayesianPersonalizedRanking  # noqa: E402
from tinymed.recsys.implicit import evaluation as ev  # noqa: E402
from tinymed.sparse import CSRMatrix  # noqa: E402

K = 10
ALS_SETTINGS = dict(factors=64, regularization=0.05, iterations=15)
BPR_SETTINGS = dict(factors=64, learning_rate=0.05, regularization=0.01, iterations=100)


def movielens_positives(path):
    """``(train, test)``: MovieLens-100k's ratings >= 4 as 1s, five of each user held out."""
    trainset = tr.load_movielens_100k(path).build_full_trainset()
    positive = trainset.ratings >= 4
    R = CSRMatrix.from_coo(trainset.users[positive], trainset.items[positive], np.ones(int(positive.sum())),
                           (trainset.n_users, trainset.n_items))
    return ev.leave_k_out_split(R, K=5, random_state=0)


def scipy_csr(R):
    import scipy.sparse

    return scipy.sparse.csr_matrix((R.data.astype(np.float32), R.indices, R.indptr), shape=R.shape)


def implicit_lists(model, train, test):
    """``{user: top-K item ids}`` of an ``implicit`` model for the users with test items."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    ids, _ = model.recommend(users, scipy_csr(train)[users], N=K, filter_already_liked_items=True)
    return {int(u): [int(i) for i in row] for u, row in zip(users, ids)}


def run(task, seeds, fit_tinymed, fit_implicit, train, test):
    """Fit both libraries once per seed: rows with the mean metrics and the median fit time."""
    scores = {"tinymed": [], "implicit": []}
    times = {"tinymed": [], "implicit": []}
    for seed in range(seeds):
        start = time.perf_counter()
        ours = fit_tinymed(seed)
        times["tinymed"].append(time.perf_counter() - start)
        scores["tinymed"].append(ev.ranking_metrics_of(ev.recommendations_at_k(ours, train, test, K), test, K))
        start = time.perf_counter()
        theirs = fit_implicit(seed)
        times["implicit"].append(time.perf_counter() - start)
        scores["implicit"].append(ev.ranking_metrics_of(implicit_lists(theirs, train, test), test, K))
    rows = []
    for contender in ("tinymed", "implicit"):
        rows.append({"task": task, "contender": contender, "fit_seconds": statistics.median(times[contender]),
                     **{f"{m}@{K}": float(np.mean([s[m] for s in scores[contender]])) for m in ("precision", "ndcg")},
                     "seeds": seeds})
    ours, theirs = rows
    for key in (f"precision@{K}", f"ndcg@{K}", "fit_seconds"):
        ours[f"{key}_x_implicit"] = ours[key] / theirs[key]
    print(f"  {task}: precision@{K} {ours[f'precision@{K}']:.4f} vs {theirs[f'precision@{K}']:.4f}, "
          f"NDCG@{K} {ours[f'ndcg@{K}']:.4f} vs {theirs[f'ndcg@{K}']:.4f}, "
          f"fit {ours['fit_seconds']:.3f} s vs {theirs['fit_seconds']:.3f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="fits per model and library (default 5)")
    parser.add_argument("--movielens", default=None, help="path to u.data, ml-100k/ or ml-100k.inter")
    args = parser.parse_args()
    try:
        from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
        from implicit.cpu.bpr import BayesianPersonalizedRanking as ImplicitBPR
    except ImportError:
        sys.exit("bench_implicit: the implicit library is not installed (pip install implicit)")
    try:
        train, test = movielens_positives(args.movielens)
    except FileNotFoundError as exc:
        sys.exit(f"bench_implicit: {exc}")
    print(f"MovieLens-100k, ratings >= 4 as implicit feedback: {train.shape[0]} users x {train.shape[1]} items, "
          f"{train.nnz} training positives, {test.nnz} held out")
    AlternatingLeastSquares(factors=2, iterations=1).fit(train, show_progress=False)  # compile the kernels first
    BayesianPersonalizedRanking(factors=2, iterations=1).fit(train, show_progress=False)
    all_cores = os.cpu_count() or 1
    rows = []
    for threads in sorted({1, all_cores}):
        rows += run(f"ALS (conjugate gradient), {threads} thread(s)", args.seeds,
                    lambda seed, t=threads: AlternatingLeastSquares(alpha=1.0, num_threads=t, random_state=seed,
                                                                    **ALS_SETTINGS).fit(train, show_progress=False),
                    lambda seed, t=threads: _fitted(ImplicitALS(alpha=2.0, num_threads=t, random_state=seed,
                                                                **ALS_SETTINGS), train),
                    train, test)
    rows += run("BPR, 1 thread", args.seeds,
                lambda seed: BayesianPersonalizedRanking(random_state=seed, **BPR_SETTINGS).fit(train,
                                                                                             show_progress=False),
                lambda seed: _fitted(ImplicitBPR(num_threads=1, random_state=seed, **BPR_SETTINGS), train),
                train, test)
    import implicit

    print_table(rows, ["task", "contender", f"precision@{K}", f"ndcg@{K}", "fit_seconds",
                       f"precision@{K}_x_implicit", f"ndcg@{K}_x_implicit", "fit_seconds_x_implicit"])
    path = save("implicit_cpu", {"implicit": implicit.__version__, "train_positives": train.nnz,
                                 "test_positives": test.nnz, "als": ALS_SETTINGS, "bpr": BPR_SETTINGS, "k": K,
                                 "rows": rows})
    print(f"wrote {path}")


def _fitted(model, train):
    model.fit(scipy_csr(train), show_progress=False)
    return model


if __name__ == "__main__":
    main()
