"""The threads tinymed's arithmetic runs on, so that every result can say what it was computed with.

Three pools of threads can be at work in one process: NumPy's BLAS (OpenBLAS or MKL: the matrix
products behind linear layers and, after im2col, convolutions), Numba's parallel loops
(pooling, some element-wise kernels) and, where it is loaded, PyTorch's.

Why it matters for results: a sum split over more threads is added up in another order, and
floating-point addition is not associative.  A kernel gives the same numbers to rounding
(float32 ~1e-6, float64 ~1e-15 relative) whatever the thread count, but training feeds those
last-bit differences back through thousands of steps, so a trained model -- and the metrics of
``tinymed demo`` -- differ between thread counts and between backends.  Every result table
tinymed prints therefore carries the line :func:`describe` gives.

Why it matters for speed: on a machine busy with other work, BLAS threads that spin while
waiting for each other can make training several times slower.  :func:`limit_blas_threads`
caps every BLAS pool for a block of code (with ``threadpoolctl`` where it is installed, else it
does nothing and says so).  There are usually two: NumPy's, and SciPy's, which Numba's compiled
kernels call for their matrix products.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _owner(filepath: str) -> str:
    """The Python package a BLAS library ships with (``numpy`` for ``.../numpy.libs/libopenblas...``)."""
    found = re.search(r"site-packages[/\\]([A-Za-z0-9_]+?)(?:\.libs)?[/\\]", filepath or "")
    return found.group(1) if found else "system"


def _blas_pools() -> list:
    """``[{"library": "openblas", "package": "numpy", "threads": 2}, ...]`` from threadpoolctl
    (one entry per BLAS library loaded), or [] where threadpoolctl is not installed."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    return [{"library": pool.get("internal_api", "?"), "package": _owner(pool.get("filepath")),
             "threads": pool.get("num_threads")}
            for pool in threadpoolctl.threadpool_info() if pool.get("user_api") == "blas"]


def thread_settings() -> dict:
    """The thread counts in force now: BLAS pools (where ``threadpoolctl`` can see them), Numba's
    and PyTorch's (where those are loaded), the thread environment variables that are set, the
    number of CPUs and the load average (how busy the machine was)."""
    settings = {"cpus": os.cpu_count(), "blas": _blas_pools(),
                "environment": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ}}
    if "numba" in sys.modules:
        import numba

        settings["numba"] = numba.get_num_threads()
    if "torch" in sys.modules:
        settings["torch"] = sys.modules["torch"].get_num_threads()
    if hasattr(os, "getloadavg"):
        settings["load_average"] = [round(v, 2) for v in os.getloadavg()]
    return settings


def describe(settings: dict) -> str:
    """One line for the foot of a result table, e.g. ``threads: BLAS (numpy's openblas) 2, Numba 2;
    2 CPUs, load average 0.4``."""
    blas = settings.get("blas") or []
    env = settings.get("environment", {})
    if blas:
        parts = [", ".join(f"BLAS ({pool['package']}'s {pool['library']}) {pool['threads']}" for pool in blas)]
    else:
        parts = [f"BLAS {env.get('OPENBLAS_NUM_THREADS') or env.get('OMP_NUM_THREADS') or 'default'}"]
    for name in ("numba", "torch"):
        if name in settings:
            parts.append(f"{'Numba' if name == 'numba' else 'PyTorch'} {settings[name]}")
    text = f"threads: {', '.join(parts)}; {settings.get('cpus')} CPUs"
    if "load_average" in settings:
        text += f", load average {settings['load_average'][0]:.1f}"
    if env:
        text += "; " + " ".join(f"{k}={v}" for k, v in env.items())
    return text


def _load_blas_libraries() -> None:
    """Load every BLAS a tinymed kernel may call, so that a limit reaches all of them: NumPy's, and
    the one Numba's compiled kernels call for their matrix products (SciPy's, through
    ``scipy.linalg.cython_blas``), which would otherwise load later, unlimited."""
    if importlib.util.find_spec("numba") is not None and importlib.util.find_spec("scipy") is not None:
        importlib.import_module("scipy.linalg.cython_blas")


@contextlib.contextmanager
def limit_blas_threads(limit: int):
    """Run the block with at most ``limit`` threads in every BLAS library (through
    ``threadpoolctl``); yields True if the limit is in force, False where ``threadpoolctl`` is not
    installed."""
    try:
        import threadpoolctl
    except ImportError:
        yield False
        return
    _load_blas_libraries()
    with threadpoolctl.threadpool_limits(limits=limit, user_api="blas"):
        yield True
