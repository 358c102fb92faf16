"""Recommender speed and accuracy: tinymed SVD (numba) vs its NumPy reference loop vs Surprise.

All contenders fit the same synthetic patient-treatment data (``make_treatment_responses``,
2,000 patients x 300 treatments, about 100k responses, 80 % for training) with Surprise's
default SVD settings and the same seed, and are scored on the same 20 % test split.
Also timed: the user-user and item-item similarity matrices (numba kernel vs the dense
NumPy reference vs Surprise).

    python benchmarks/bench_recsys.py            # full size (the NumPy SVD loop takes minutes)
    python benchmarks/bench_recsys.py --quick    # 500 x 100, seconds
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinymed  # noqa: E402
from benchmarks.harness import print_table, save, timeit  # noqa: E402
from tinymed.recsys import SVD, accuracy, make_treatment_responses  # noqa: E402
from tinymed.recsys.model_selection import train_test_split  # noqa: E402
from tinymed.recsys.similarities import similarity_matrix  # noqa: E402


def surprise_or_none():
    try:
        import surprise
    except ImportError:
        return None
    return surprise


class _Rows:
    """What Surprise's load_from_df reads (itertuples), without needing pandas."""

    def __init__(self, rows):
        self.rows, self.columns = rows, ["user", "item", "rating"]

    def itertuples(self, index=False):
        return iter(self.rows)


def once(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 patients x 100 treatments")
    args = parser.parse_args()
    n_patients, n_treatments = (500, 100) if args.quick else (2000, 300)
    truth = make_treatment_responses(n_patients, n_treatments, density=0.167, random_state=0)
    train, test = train_test_split(truth.to_dataset(), test_size=0.2, random_state=0)
    print(f"{train.n_users} x {train.n_items}, {train.n_ratings} training / {len(test)} test responses; "
          f"irreducible RMSE {truth.oracle_rmse(test):.4f}")

    rows, fitted = [], {}

    def svd_row(name, backend, fit, repeat):
        with tinymed.using(backend):
            seconds = timeit(fit, repeat=repeat, warmup=1, min_time=0) if repeat > 1 else once(fit)
            algo = fit()
        fitted[name] = algo
        rows.append({"task": "SVD fit (20 epochs, 100 factors)", "contender": name, "seconds": seconds,
                     "test_rmse": accuracy.rmse(algo.test(test), verbose=False)})

    svd_row("tinymed numba", "numba", lambda: SVD(random_state=0).fit(train), repeat=5)
    svd_row("tinymed numpy reference", "numpy", lambda: SVD(random_state=0).fit(train), repeat=1)
    surprise = surprise_or_none()
    if surprise is not None:
        s_data = surprise.Dataset.load_from_df(_Rows(truth.ratings), surprise.Reader(rating_scale=(1, 5)))
        s_train, _ = surprise.model_selection.train_test_split(s_data, test_size=0.2, random_state=0)
        svd_row(f"Surprise {surprise.__version__}", "numba", lambda: surprise.SVD(random_state=0).fit(s_train),
                repeat=5)
    same = all((fitted["tinymed numba"].qi == algo.qi).all() for algo in fitted.values())

    for name, user_based in (("msd", True), ("pearson_baseline", False)):
        from tinymed.recsys.baseline import fit_baselines

        baselines = fit_baselines(train) if name == "pearson_baseline" else None
        task = f"{name} similarity, {'users' if user_based else 'items'}"
        for contender, backend in (("tinymed numba", "numba"), ("tinymed numpy reference", "numpy")):
            with tinymed.using(backend):
                def build(name=name, user_based=user_based, baselines=baselines):
                    return similarity_matrix(train, name, user_based=user_based, baselines=baselines)

                seconds = timeit(build, repeat=3, warmup=1, min_time=0)
            rows.append({"task": task, "contender": contender, "seconds": seconds})
        if surprise is not None:
            algo = surprise.KNNBasic(sim_options={"name": name, "user_based": user_based}, verbose=False)
            algo.trainset = s_train
            if name == "pearson_baseline":
                algo.bu = algo.bi = None
            rows.append({"task": task, "contender": f"Surprise {surprise.__version__}",
                         "seconds": timeit(algo.compute_similarities, repeat=3, warmup=1, min_time=0)})

    for row in rows:  # ratio to tinymed numba on the same task
        base = next(r["seconds"] for r in rows if r["task"] == row["task"] and r["contender"] == "tinymed numba")
        row["x_numba_time"] = row["seconds"] / base
    print_table(rows, ["task", "contender", "seconds", "x_numba_time", "test_rmse"])
    print(f"SVD factors identical across contenders: {same}")
    path = save("recsys_cpu", {
        "data": {"patients": n_patients, "treatments": n_treatments, "train_ratings": train.n_ratings,
                 "test_ratings": len(test), "irreducible_rmse": truth.oracle_rmse(test)},
        "svd_factors_identical": bool(same), "rows": rows})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
