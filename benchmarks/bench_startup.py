"""Start-up costs: `import tinymed`, and the first call of a Numba kernel, compiled vs cached.

Each measurement runs in a fresh Python process.  The compiled-vs-cached comparison points
NUMBA_CACHE_DIR at an empty folder for the first process (so it compiles and writes the
cache) and reuses that folder for the next ones (so they load the machine code from disk).

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import print_table, save  # noqa: E402

IMPORT = "import time; t = time.perf_counter(); import tinymed; print(time.perf_counter() - t)"
FIRST_CALL = """
import time, numpy as np
from tinymed.kernels import numba as K
x = np.ones((2, 3, 8, 8)); w = np.ones((4, 3, 3, 3))
t = time.perf_counter()
y = K.conv2d_forward(x, w, None, (1, 1), (1, 1), (1, 1))
K.conv2d_backward(y, x, w, (1, 1), (1, 1), (1, 1))
K.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0))
print(time.perf_counter() - t)
"""


def _seconds(code: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}, cwd=Path(__file__).resolve().parent.parent)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    imports = [_seconds(IMPORT, {}) for _ in range(7)]
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        compiled = _seconds(FIRST_CALL, env)
        cached = [_seconds(FIRST_CALL, env) for _ in range(5)]
    rows = [
        {"measure": "import tinymed", "seconds": statistics.median(imports), "target": "< 0.5 s"},
        {"measure": "first kernel calls, empty cache (compile)", "seconds": compiled, "target": "-"},
        {"measure": "first kernel calls, cache on disk", "seconds": statistics.median(cached),
         "target": "served from cache"},
    ]
    print_table(rows, ["measure", "seconds", "target"])
    path = save("startup", {"rows": rows, "compile_over_cached": compiled / statistics.median(cached)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
