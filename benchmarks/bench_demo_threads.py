"""tinymed demo's wall time with BLAS at its default thread count and at one thread, quiet or loaded.

Runs ``tinymed demo --quick --no-tabular`` (``--full``: the default demo) in fresh processes,
alternating ``--blas-threads 0`` (BLAS's own default, every core: the demo before it capped BLAS)
and ``--blas-threads 1`` (the demo's default now), ``--repeats`` times each.  With ``--load K``,
K busy-looping processes compete for the cores during the runs, as other work does on a shared
machine.  Prints every run (seconds, slowest epoch, test accuracy, load average) and the median
per setting with their ratio; writes JSON (see ``harness.py`` for where).

    python benchmarks/bench_demo_threads.py              # on a quiet machine
    python benchmarks/bench_demo_threads.py --load 2     # with two competing processes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import print_table, save  # noqa: E402

SETTINGS = {"BLAS default threads": "0", "BLAS 1 thread": "1"}


def demo_once(blas_threads: str, full: bool) -> dict:
    """One demo in a fresh process: its wall time, epoch times and test accuracy."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "tinymed.cli", "demo", "--no-tabular", "--data", "phantoms",
                   "--blas-threads", blas_threads, "--out", out] + ([] if full else ["--quick"])
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds = time.perf_counter() - start
        if done.returncode:
            raise RuntimeError(f"the demo failed:\n{done.stderr}")
        metrics = json.loads((Path(out) / "demo_metrics.json").read_text())
    return {"seconds": seconds, "slowest_epoch_s": max(metrics["epoch_seconds"]),
            "epochs": metrics["epochs_trained"], "accuracy": metrics["image"]["accuracy"],
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--load", type=int, default=0, help="busy-looping processes to run alongside (default 0)")
    parser.add_argument("--full", action="store_true", help="the default demo instead of --quick")
    args = parser.parse_args()
    demo_once("1", args.full)  # compile and cache the Numba kernels first
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    rows = []
    try:
        for repeat in range(args.repeats):
            for name, value in SETTINGS.items():
                rows.append({"setting": name, "repeat": repeat + 1, "competing": args.load,
                             **demo_once(value, args.full)})
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    print_table(rows, ["setting", "repeat", "competing", "seconds", "slowest_epoch_s", "epochs", "accuracy",
                       "load_average"])
    medians = {name: statistics.median(r["seconds"] for r in rows if r["setting"] == name) for name in SETTINGS}
    summary = [{"setting": name, "median_seconds": s, "vs_one_thread": s / medians["BLAS 1 thread"]}
               for name, s in medians.items()]
    print()
    print_table(summary, ["setting", "median_seconds", "vs_one_thread"])
    name = f"demo_threads_{'full' if args.full else 'quick'}_load{args.load}"
    print(f"wrote {save(name, {'rows': rows, 'summary': summary, 'competing_processes': args.load})}")


if __name__ == "__main__":
    main()
