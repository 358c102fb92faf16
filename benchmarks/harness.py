"""Timing harness shared by the benchmarks: time side by side, print ratios, save JSON.

Every benchmark runs all its contenders on the same inputs in one process, reports the
median of several repeats, and writes ``<name>.json`` together with a description of the
machine (CPU count, library versions, thread settings, the measured matrix-multiply rate,
which is the ceiling for convolution and dense layers).

Where the JSON goes: a run writes into a scratch folder, ``$TINYMED_BENCH_OUT`` or
``./tinymed-out/benchmarks/``, so that running a benchmark never changes the files the
repository tracks.  To record a run as the repository's result, in ``benchmarks/results/``,
pass ``--record`` (any benchmark accepts it: the harness takes it out of the arguments before
the script reads them) or set ``TINYMED_BENCH_RECORD=1``.

Threads: by default every library uses all cores.  On a machine where other work competes
for the cores, OpenBLAS's spinning threads can make a run many times slower (and the
numbers meaningless); to compare on one core each, run a benchmark with
``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1`` (PyTorch follows ``OMP_NUM_THREADS``).  The
thread settings are printed under every table and recorded with the results, and a
one-thread run is saved as ``<name>_1thread.json`` beside the default one.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from tinymed import threads

RESULTS = Path(__file__).resolve().parent / "results"


def _take_record_flag() -> bool:
    """Whether this run is to be recorded: ``--record`` on the command line (removed from
    ``sys.argv``, so that the benchmark's own argument parser never sees it) or
    ``TINYMED_BENCH_RECORD=1``."""
    flagged = "--record" in sys.argv[1:]
    if flagged:
        sys.argv[1:] = [a for a in sys.argv[1:] if a != "--record"]
    return flagged or os.environ.get("TINYMED_BENCH_RECORD", "") not in ("", "0")


RECORD = _take_record_flag()


def _sample(fn, min_time: float) -> float:
    """Seconds per call of ``fn()``, calling it until ``min_time`` has passed."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def timeit(fn, repeat: int = 7, warmup: int = 2, min_time: float = 0.05) -> float:
    """Median wall time of ``fn()`` in seconds; each sample loops until ``min_time`` has passed."""
    for _ in range(warmup):
        fn()
    return statistics.median([_sample(fn, min_time) for _ in range(repeat)])


def timeit_interleaved(fns: dict, rounds: int = 5, warmup: int = 1, min_time: float = 0.05,
                       pause: float = 0.2) -> dict:
    """Median wall time in seconds of each ``fns[name]()``, the functions taking turns: round after
    round, one sample of each (a sample loops until ``min_time`` has passed).

    Two contenders timed one after the other see different machines when the load drifts (another
    process starting, the CPU clock changing); taking turns exposes both to the same drift, so their
    *ratio* holds even where each time alone does not.  Each sample waits ``pause`` seconds first:
    the thread pools of BLAS, Numba and PyTorch keep spinning for a moment after their work, and
    would otherwise slow down whichever contender runs next."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(pause)
            samples[name].append(_sample(fn, min_time))
    return {name: statistics.median(times) for name, times in samples.items()}


def matmul_gflops(dtype=np.float32, n: int = 1024) -> float:
    """The machine's NumPy (BLAS) matrix-multiply rate in GFLOP/s for ``n x n`` matrices."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    return 2 * n**3 / timeit(lambda: a @ b, repeat=5, warmup=1) / 1e9


def torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


def machine() -> dict:
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "numpy_matmul_gflops_float32": round(matmul_gflops(np.float32), 1),
        "numpy_matmul_gflops_float64": round(matmul_gflops(np.float64), 1),
        "thread_settings": {k: os.environ[k] for k in _THREAD_VARS if k in os.environ},
        "threads": threads.thread_settings(),
    }
    try:
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
    except ImportError:
        pass
    torch = torch_or_none()
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Print ``rows`` as an aligned text table with the given columns, and under it the thread
    settings the numbers were measured with."""
    cells = [[_fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    print(threads.describe(threads.thread_settings()))


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def one_thread() -> bool:
    """True when the run was started with OpenBLAS (and so NumPy) limited to one thread."""
    return os.environ.get("OPENBLAS_NUM_THREADS") == "1"


def gpu_name() -> str:
    """The name of CUDA device 0 as CuPy reports it, e.g. ``"NVIDIA H200"``."""
    import cupy

    return cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()


def gpu_slug(name: str) -> str:
    """The GPU's model for file names: ``"NVIDIA H100 80GB HBM3"`` -> ``"h100"``."""
    return name.lower().replace("nvidia", "").strip().split()[0]


def synced(step, synchronize):
    """``step()`` then ``synchronize()``: GPU kernels are launched asynchronously, so a timed call
    must wait for them to finish."""
    def run():
        step()
        synchronize()
    return run


def results_dir() -> Path:
    """``benchmarks/results/`` when recording (``--record``), else the scratch folder
    ``$TINYMED_BENCH_OUT`` (default ``./tinymed-out/benchmarks/``)."""
    if RECORD:
        return RESULTS
    return Path(os.environ.get("TINYMED_BENCH_OUT") or Path("tinymed-out") / "benchmarks")


def save(name: str, payload: dict) -> Path:
    """Write ``payload`` (plus the machine description) to ``<name>.json`` in :func:`results_dir`
    (``<name>_1thread.json`` for a one-thread run); say where when it is not being recorded."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{'_1thread' if one_thread() else ''}.json"
    if not RECORD:
        print(f"(not recorded: written to the scratch folder {folder}; rerun with --record to update {RESULTS})")
    payload = {"machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
