"""Recommender and graph ranking, side by side in one run: tinymed vs Surprise vs networkx.

1. Synthetic patient-treatment responses (always; ``make_treatment_responses``, 2,000 x 300,
   about 100k responses, 80 % for training): SVD with Surprise's defaults and one seed --
   tinymed numba vs its NumPy reference loop vs Surprise -- and the user-user and item-item
   similarity matrices (numba kernel vs the dense NumPy reference vs Surprise).
2. MovieLens-100k, where a copy is found (``tinymed.recsys.load_movielens_100k``; else the
   section says it was skipped and why): 5-fold CV on the same fixed folds for every
   contender (``KFold(5, random_state=0)``; Surprise draws the same folds). Default SVD and
   KNNBaseline (RMSE, MAE, fit time per epoch) beside Surprise's; the rest of Surprise's
   algorithms with their defaults and seed 0 -- NMF, SVDpp, SlopeOne, CoClustering,
   KNNWithZScore -- beside Surprise's (RMSE difference, fit-time ratio); BPMF with its defaults;
   SVD tuned on each training fold only (a validation split of it chooses among a small
   grid); k-NN similarity and prediction times beside Surprise's.
3. Item-based similarity with many patients: 200,000 patients x 1,000 treatments. The
   item-item matrix needs 8 MB; a patient-patient one would need 320 GB per array
   (Surprise's user-based similarities allocate three to seven of them). Time and peak
   memory growth of tinymed and Surprise, building the trainset and the item similarities.
4. PageRank and HITS on a random directed graph of 1,000,000 edges, from the same networkx
   graph, end to end: tinymed vs networkx, largest score difference, time; and the time
   of the first step of both, turning the networkx graph into a sparse matrix.

    python benchmarks/bench_recsys.py            # full: minutes
    python benchmarks/bench_recsys.py --quick    # small sizes, one MovieLens fold: a minute

Writes ``benchmarks/results/recsys_cpu.json`` (``recsys_cpu_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinymed  # noqa: E402
import tinymed.recsys as tr  # noqa: E402
from benchmarks.harness import print_table, save, timeit  # noqa: E402
from tinymed.graph import graph_adjacency, hits, pagerank  # noqa: E402
from tinymed.recsys.baselines import fit_baselines  # noqa: E402
from tinymed.recsys.model_selection import KFold, train_test_split  # noqa: E402
from tinymed.recsys.similarities import similarity_matrix  # noqa: E402


def optional(name):
    try:
        return __import__(name)
    except ImportError:
        return None


class _Rows:
    """What Surprise's load_from_df reads (itertuples), without needing pandas."""

    def __init__(self, rows):
        self.rows, self.columns = rows, ["user", "item", "rating"]

    def itertuples(self, index=False):
        return iter(self.rows)


def once(fn):
    gc.collect()  # a pending collection of a million-object graph would land in someone's timing
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def best_of(repeat, fn):
    return min(once(fn) for _ in range(repeat))


def _status_bytes(key):
    with open("/proc/self/status") as f:
        return int(re.search(rf"{key}:\s+(\d+) kB", f.read()).group(1)) * 1024


def peak_memory_growth(fn):
    """``(seconds, bytes)``: time of ``fn()`` and how far its peak resident memory rose above
    the memory in use before (Linux: the high-water mark is reset first); bytes is None
    where the kernel does not offer that."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        before = _status_bytes("VmRSS")
    except OSError:
        return once(fn), None
    seconds = once(fn)
    return seconds, _status_bytes("VmHWM") - before


def warm_up():
    """Compile (or load from cache) every numba kernel on a tiny problem, so no timing pays for it."""
    small = tr.make_treatment_responses(30, 8, density=0.5, random_state=0).to_dataset().build_full_trainset()
    with tinymed.using("numba"):
        tr.SVD(n_factors=2, n_epochs=1).fit(small)
        tr.SVDpp(n_factors=2, n_epochs=1).fit(small)
        tr.NMF(n_factors=2, n_epochs=1, biased=True).fit(small)
        tr.SlopeOne().fit(small)
        tr.CoClustering(n_epochs=1).fit(small)
        tr.BPMF(n_factors=2, n_samples=2, burn_in=1).fit(small)
        tr.KNNBaseline(sim_options={"name": "pearson_baseline"}, bsl_options={"method": "sgd"},
                       verbose=False).fit(small)


# ----- 1. synthetic patient-treatment responses ------------------------------------------------
def synthetic(args, surprise):
    n_patients, n_treatments = (500, 100) if args.quick else (2000, 300)
    truth = tr.make_treatment_responses(n_patients, n_treatments, density=0.167, random_state=0)
    train, test = train_test_split(truth.to_dataset(), test_size=0.2, random_state=0)
    print(f"\n== 1. synthetic responses: {train.n_users} x {train.n_items}, {train.n_ratings} training / "
          f"{len(test)} test; irreducible RMSE {truth.oracle_rmse(test):.4f}")
    rows, fitted = [], {}

    def svd_row(name, backend, fit, repeat):
        with tinymed.using(backend):
            seconds = timeit(fit, repeat=repeat, warmup=1, min_time=0) if repeat > 1 else once(fit)
            algo = fit()
        fitted[name] = algo
        rows.append({"task": "SVD fit (20 epochs, 100 factors)", "contender": name, "seconds": seconds,
                     "test_rmse": tr.accuracy.rmse(algo.test(test), verbose=False)})

    svd_row("tinymed numba", "numba", lambda: tr.SVD(random_state=0).fit(train), repeat=5)
    svd_row("tinymed numpy reference", "numpy", lambda: tr.SVD(random_state=0).fit(train), repeat=1)
    if surprise is not None:
        s_data = surprise.Dataset.load_from_df(_Rows(truth.ratings), surprise.Reader(rating_scale=(1, 5)))
        s_train, _ = surprise.model_selection.train_test_split(s_data, test_size=0.2, random_state=0)
        svd_row(f"Surprise {surprise.__version__}", "numba", lambda: surprise.SVD(random_state=0).fit(s_train),
                repeat=3)
    same = all((fitted["tinymed numba"].qi == algo.qi).all() for algo in fitted.values())

    for name, user_based in (("msd", True), ("pearson_baseline", False)):
        baselines = fit_baselines(train) if name == "pearson_baseline" else None
        task = f"{name} similarity, {'users' if user_based else 'items'}"
        for contender, backend in (("tinymed numba", "numba"), ("tinymed numpy reference", "numpy")):
            with tinymed.using(backend):
                def build(name=name, user_based=user_based, baselines=baselines):
                    return similarity_matrix(train, name, user_based=user_based, baselines=baselines)

                rows.append({"task": task, "contender": contender,
                             "seconds": timeit(build, repeat=3, warmup=1, min_time=0)})
        if surprise is not None:
            rows.append({"task": task, "contender": f"Surprise {surprise.__version__}",
                         "seconds": timeit(_surprise_similarity(surprise, s_train, name, user_based),
                                           repeat=3, warmup=0, min_time=0)})
    ratios(rows)
    print_table(rows, ["task", "contender", "seconds", "x_tinymed_time", "test_rmse"])
    print(f"SVD factors identical across contenders: {same}")
    return {"patients": n_patients, "treatments": n_treatments, "train_ratings": train.n_ratings,
            "test_ratings": len(test), "irreducible_rmse": truth.oracle_rmse(test),
            "svd_factors_identical": bool(same), "rows": rows}


def _surprise_similarity(surprise, s_train, name, user_based):
    def build():
        algo = surprise.KNNBasic(sim_options={"name": name, "user_based": user_based}, verbose=False)
        algo.trainset, algo.bu, algo.bi = s_train, None, None
        return algo.compute_similarities()

    return build


def ratios(rows, reference="tinymed numba", key="seconds", out="x_tinymed_time"):
    """Each row's ``key`` divided by that of the ``reference`` contender on the same task."""
    for row in rows:
        base = [r[key] for r in rows if r["task"] == row["task"] and r["contender"] == reference]
        if base and row.get(key) is not None:
            row[out] = row[key] / base[0]


# ----- 2. MovieLens-100k ---------------------------------------------------------------------
def movielens(args, surprise):
    try:
        path = tr.find_movielens_100k(args.movielens)
    except FileNotFoundError as exc:
        print(f"\n== 2. MovieLens-100k skipped: {exc}")
        return {"skipped": str(exc)}
    data = tr.load_movielens_100k(path)
    n_folds = 1 if args.quick else 5
    print(f"\n== 2. MovieLens-100k from {path}: {len(data)} ratings; 5-fold CV (KFold(5, random_state=0)), "
          f"{n_folds} fold(s) run")
    folds = list(KFold(5, random_state=0).split(data))[:n_folds]
    s_folds = None
    if surprise is not None:
        reader = surprise.Reader(line_format="user item rating timestamp", sep="\t",
                                 skip_lines=1 if path.suffix == ".inter" else 0)
        s_data = surprise.Dataset.load_from_file(str(path), reader)
        s_folds = list(surprise.model_selection.KFold(5, random_state=0).split(s_data))[:n_folds]
        same = all([tuple(r) for r in s_te] == [tuple(r) for r in t_te] for (_, s_te), (_, t_te) in zip(s_folds, folds))
        print(f"Surprise draws the same folds: {same}")
        if not same:
            raise RuntimeError("Surprise and tinymed folds differ; the comparison would not be fair")
    rows = []

    def cv(task, contender, make, lib_folds, n_epochs=None):
        scores = {"rmse": [], "mae": []}
        fit_times, test_times = [], []
        for trainset, testset in lib_folds:
            algo = make(trainset)
            start = time.perf_counter()
            algo.fit(trainset)
            fit_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            predictions = algo.test(testset)
            test_times.append(time.perf_counter() - start)
            scores["rmse"].append(tr.accuracy.rmse(predictions, verbose=False))
            scores["mae"].append(tr.accuracy.mae(predictions, verbose=False))
        row = {"task": task, "contender": contender, "rmse": float(np.mean(scores["rmse"])),
               "rmse_std": float(np.std(scores["rmse"])), "mae": float(np.mean(scores["mae"])),
               "fit_seconds": float(np.mean(fit_times)), "test_seconds": float(np.mean(test_times))}
        if n_epochs:
            row["fit_seconds_per_epoch"] = row["fit_seconds"] / n_epochs
        rows.append(row)
        print(f"  {task:<34} {contender:<16} RMSE {row['rmse']:.4f} +- {row['rmse_std']:.4f}  MAE {row['mae']:.4f}  "
              f"fit {row['fit_seconds']:.3f} s  test {row['test_seconds']:.3f} s", flush=True)

    s_name = f"Surprise {surprise.__version__}" if surprise is not None else None
    with tinymed.using("numba"):
        cv("SVD, defaults", "tinymed numba", lambda t: tr.SVD(random_state=0), folds, n_epochs=20)
        if surprise is not None:
            cv("SVD, defaults", s_name, lambda t: surprise.SVD(random_state=0), s_folds, n_epochs=20)
        cv("KNNBaseline, defaults", "tinymed numba", lambda t: tr.KNNBaseline(verbose=False), folds)
        if surprise is not None:
            cv("KNNBaseline, defaults", s_name, lambda t: surprise.KNNBaseline(verbose=False), s_folds)
        cv("KNNBaseline, item pearson_baseline", "tinymed numba",
           lambda t: tr.KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False),
           folds)
        if surprise is not None:
            cv("KNNBaseline, item pearson_baseline", s_name,
               lambda t: surprise.KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False},
                                              verbose=False), s_folds)
        for task, make in SURPRISE_ALGORITHMS:
            cv(task, "tinymed numba", lambda t, make=make: make(tr), folds)
            if surprise is not None:
                cv(task, s_name, lambda t, make=make: make(surprise), s_folds)
                ours, theirs = rows[-2], rows[-1]
                ours["rmse_diff_to_surprise"] = ours["rmse"] - theirs["rmse"]
                ours["fit_time_x_surprise"] = ours["fit_seconds"] / theirs["fit_seconds"]
                print(f"    RMSE difference {ours['rmse_diff_to_surprise']:+.2e}; tinymed's fit takes "
                      f"{ours['fit_time_x_surprise']:.2f}x Surprise's", flush=True)
        if not args.quick:
            cv("BPMF, defaults (20 factors)", "tinymed numba", lambda t: tr.BPMF(random_state=0), folds)
            chosen = []
            cv("SVD tuned on the training fold", "tinymed numba",
               lambda t: tuned_svd(t, data.reader, chosen), folds)
            print(f"    settings chosen per fold: {chosen}")
            rows[-1]["chosen"] = chosen
        similarity_rows = knn_similarity_times(folds[0][0], s_folds[0][0] if s_folds else None, surprise)
    return {"path": str(path), "ratings": len(data), "folds_run": n_folds, "rows": rows,
            "similarity_rows": similarity_rows}


# the algorithms Surprise has beside SVD and the k-NNs above, with its defaults and one seed
SURPRISE_ALGORITHMS = [
    ("NMF, defaults", lambda lib: lib.NMF(random_state=0)),
    ("SVDpp, defaults", lambda lib: lib.SVDpp(random_state=0)),
    ("SlopeOne", lambda lib: lib.SlopeOne()),
    ("CoClustering, defaults", lambda lib: lib.CoClustering(random_state=0)),
    ("KNNWithZScore, defaults", lambda lib: lib.KNNWithZScore(verbose=False)),
]

SVD_GRID = [dict(n_factors=f, n_epochs=e, lr_all=0.005, reg_all=r)
            for f in (50, 200) for e in (20, 100) for r in (0.02, 0.1)]


def tuned_svd(trainset, reader, chosen):
    """An SVD whose settings were chosen among SVD_GRID on a 20 % validation split of the
    training fold alone; the test fold is never looked at."""
    inner = tr.Dataset.load_from_triples(trainset.build_testset(), reader)
    fit_part, valid = train_test_split(inner, test_size=0.2, random_state=0)
    scores = [tr.accuracy.rmse(tr.SVD(random_state=0, **p).fit(fit_part).test(valid), verbose=False)
              for p in SVD_GRID]
    best = SVD_GRID[int(np.argmin(scores))]
    chosen.append(best)
    return tr.SVD(random_state=0, **best)


def knn_similarity_times(t_train, s_train, surprise):
    print("  similarity matrices on the first training fold:")
    rows = []
    for name, user_based in (("msd", True), ("pearson_baseline", True), ("msd", False), ("pearson_baseline", False)):
        task = f"{name} similarity, {'users' if user_based else 'items'}"
        baselines = fit_baselines(t_train) if name == "pearson_baseline" else None
        def build(name=name, user_based=user_based, baselines=baselines):
            return similarity_matrix(t_train, name, user_based=user_based, baselines=baselines)

        rows.append({"task": task, "contender": "tinymed numba", "seconds": timeit(build, repeat=3, warmup=1,
                                                                                      min_time=0)})
        if surprise is not None:
            rows.append({"task": task, "contender": f"Surprise {surprise.__version__}", "seconds": timeit(
                _surprise_similarity(surprise, s_train, name, user_based), repeat=3, warmup=0, min_time=0)})
    ratios(rows)
    print_table(rows, ["task", "contender", "seconds", "x_tinymed_time"])
    return rows


# ----- 3. item-based similarity with many patients ------------------------------------------------
def many_patients(args, surprise):
    n_users, n_items, per_user = (20_000, 300, 10) if args.quick else (200_000, 1_000, 10)
    rng = np.random.default_rng(0)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    users = np.repeat(np.arange(n_users), per_user)
    ratings = rng.integers(1, 6, size=len(users)).astype(np.float64)
    gib = 2**30
    print(f"\n== 3. item-item similarity with many patients: {n_users} x {n_items}, {len(ratings)} ratings; "
          f"an item-item matrix is {n_items**2 * 8 / gib:.3f} GiB, a patient-patient one "
          f"{n_users**2 * 8 / gib:.0f} GiB per array")
    rows = []
    built = {}

    def build_tinymed():
        built["tinymed"] = tr.Trainset(users, items, ratings, (1, 5), {u: u for u in range(n_users)},
                                       {i: i for i in range(n_items)})

    measure(rows, "build the trainset", "tinymed numba", build_tinymed)
    with tinymed.using("numba"):
        similarity_matrix(built["tinymed"], "pearson", user_based=False)  # warm
        measure(rows, "pearson similarity, items", "tinymed numba",
                lambda: similarity_matrix(built["tinymed"], "pearson", user_based=False))
    if surprise is not None:
        name = f"Surprise {surprise.__version__}"

        def build_surprise():
            ur = {u: [] for u in range(n_users)}
            ir = {i: [] for i in range(n_items)}
            for u, i, r in zip(users.tolist(), items.tolist(), ratings.tolist()):
                ur[u].append((i, r))
                ir[i].append((u, r))
            built["surprise"] = surprise.Trainset(ur, ir, n_users, n_items, len(ratings), (1, 5),
                                                  {u: u for u in range(n_users)}, {i: i for i in range(n_items)})

        measure(rows, "build the trainset", name, build_surprise)
        measure(rows, "pearson similarity, items", name,
                _surprise_similarity(surprise, built["surprise"], "pearson", False))
    ratios(rows)
    print_table(rows, ["task", "contender", "seconds", "x_tinymed_time", "peak_growth_mib"])
    return {"patients": n_users, "treatments": n_items, "ratings": len(ratings),
            "item_item_gib": n_items**2 * 8 / gib, "patient_patient_gib_per_array": n_users**2 * 8 / gib,
            "rows": rows}


def measure(rows, task, contender, fn):
    seconds, grew = peak_memory_growth(fn)
    rows.append({"task": task, "contender": contender, "seconds": seconds,
                 "peak_growth_mib": None if grew is None else grew / 2**20})


# ----- 4. PageRank and HITS ----------------------------------------------------------------------
def graph_ranking(args, nx):
    if nx is None:
        print("\n== 4. PageRank / HITS vs networkx skipped: networkx is not installed")
        return {"skipped": "networkx is not installed"}
    n_nodes, n_edges = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    rng = np.random.default_rng(0)
    pairs = np.unique(rng.integers(0, n_nodes, size=(int(n_edges * 1.05), 2)), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = pairs[rng.permutation(len(pairs))[:n_edges]]
    G = nx.DiGraph()
    G.add_nodes_from(range(n_nodes))
    G.add_edges_from(pairs.tolist())
    print(f"\n== 4. PageRank and HITS on a random directed graph: {G.number_of_nodes()} nodes, "
          f"{G.number_of_edges()} edges (the same networkx graph for both)")
    # the networkx graph -> sparse matrix step is a Python loop over the edges in both libraries,
    # and part of every end-to-end time below
    nx_name = f"networkx {nx.__version__}"
    rows = [{"task": "networkx graph -> sparse matrix", "contender": "tinymed",
             "seconds": best_of(2, lambda: graph_adjacency(G))},
            {"task": "networkx graph -> sparse matrix", "contender": nx_name,
             "seconds": best_of(2, lambda: nx.to_scipy_sparse_array(G, nodelist=list(G), dtype=float))}]
    for task, ours, theirs in (("pagerank, defaults", lambda: pagerank(G), lambda: nx.pagerank(G)),
                               ("hits, defaults", lambda: hits(G), lambda: nx.hits(G))):
        mine, ref = ours(), theirs()
        mine, ref = (mine, ref) if task.startswith("hits") else ((mine,), (ref,))
        diff = max(max(abs(a[n] - b[n]) for n in a) for a, b in zip(mine, ref))
        rows.append({"task": task, "contender": "tinymed", "seconds": best_of(2, ours),
                     "max_abs_diff_to_networkx": diff})
        rows.append({"task": task, "contender": nx_name, "seconds": best_of(2, theirs)})
    ratios(rows, reference="tinymed")
    print_table(rows, ["task", "contender", "seconds", "x_tinymed_time", "max_abs_diff_to_networkx"])
    return {"nodes": G.number_of_nodes(), "edges": G.number_of_edges(), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and one MovieLens fold")
    parser.add_argument("--movielens", default=None, help="path to u.data, ml-100k/ or ml-100k.inter "
                        "(default: recbole's copy, then Surprise's download folder)")
    parser.add_argument("--sections", default="1234", help="which sections to run, e.g. 24")
    args = parser.parse_args()
    surprise, nx = optional("surprise"), optional("networkx")
    if surprise is None:
        print("scikit-surprise is not installed: tinymed runs alone")
    warm_up()
    results = {"quick": args.quick}
    sections = {"1": ("synthetic", lambda: synthetic(args, surprise)),
                "2": ("movielens_100k", lambda: movielens(args, surprise)),
                "3": ("many_patients_item_similarity", lambda: many_patients(args, surprise)),
                "4": ("graph_ranking", lambda: graph_ranking(args, nx))}
    for key in args.sections:
        name, run = sections[key]
        results[name] = run()
    path = save("recsys_cpu_quick" if args.quick else "recsys_cpu", results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
