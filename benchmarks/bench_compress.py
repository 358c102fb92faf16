"""Int8 inference and per-example gradients, side by side.

1. Int8 kernels (``kernels/*/quantized.py``), forward only: the Numba twin and the NumPy
   reference (integer products summed in int32) against tinymed's float32 kernels of the same
   layer (Numba) and PyTorch's float32 forward.  Ratios above 1 mean the first is slower.
2. Per-example gradients for DP-SGD (``tinymed.privacy.GradSampleModule``): one backward pass
   with hooks against one backward per example, for a small CNN and a batch of 64 films; and
   Opacus's ``GradSampleModule`` on a PyTorch twin where Opacus is installed.

    python benchmarks/bench_compress.py       # -> compress_cpu.json (see harness.py for --record)
"""

from __future__ import annotations

import sys
import warnings
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import print_table, save, timeit, torch_or_none  # noqa: E402

INT8_CASES = [
    # name, kind, x shape, weight shape, padding
    ("conv  N64 C16 16x16 K32 3x3 p1", "conv", (64, 16, 16, 16), (32, 16, 3, 3), 1),
    ("conv  N32 C1 32x32 K8 3x3 p1", "conv", (32, 1, 32, 32), (8, 1, 3, 3), 1),
    ("linear N256 512 -> 64", "linear", (256, 512), (64, 512), 0),
]


def _int8_row(name, kind, x_shape, w_shape, padding, torch):
    from tinymed import backend

    rng = np.random.default_rng(0)
    qx = rng.integers(-128, 128, x_shape).astype(np.int8)
    qw = rng.integers(-127, 128, w_shape).astype(np.int8)
    x, w = qx.astype(np.float32), qw.astype(np.float32)
    geometry = ((1, 1), (padding, padding), (1, 1))
    int8_kernel = "int8_conv2d_forward" if kind == "conv" else "int8_linear_forward"
    float_kernel = backend.kernel("conv2d_forward" if kind == "conv" else "linear_forward", "numba")
    int8 = {}
    for name_ in ("numba", "numpy"):
        run_int8 = backend.kernel(int8_kernel, name_)
        int8[name_] = (partial(run_int8, qx, 3, qw, *geometry) if kind == "conv" else partial(run_int8, qx, 3, qw))
    row_float = partial(float_kernel, x, w, None, *geometry) if kind == "conv" else partial(float_kernel, x, w, None)
    row = {"case": name, "int8_numba_ms": 1e3 * timeit(int8["numba"]),
           "int8_numpy_ms": 1e3 * timeit(int8["numpy"], repeat=3), "float32_numba_ms": 1e3 * timeit(row_float)}
    if torch is not None:
        tx, tw = torch.tensor(x), torch.tensor(w)
        run = (partial(torch.nn.functional.conv2d, tx, tw, padding=padding) if kind == "conv"
               else partial(torch.nn.functional.linear, tx, tw))
        with torch.no_grad():
            row["float32_torch_ms"] = 1e3 * timeit(run)
    row["int8_numpy/int8_numba"] = row["int8_numpy_ms"] / row["int8_numba_ms"]
    row["int8_numba/float32_numba"] = row["int8_numba_ms"] / row["float32_numba_ms"]
    return row


def _cnn(nn):
    """The same small CNN in tinymed (``tinymed.nn``) or PyTorch (``torch.nn``)."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 8 * 8, 2))


def _per_sample_row(torch):
    import tinymed
    import tinymed.nn.functional as F
    from tinymed import Tensor, nn
    from tinymed.privacy import GradSampleModule

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 1, 32, 32)).astype(np.float32), rng.integers(0, 2, 64)
    model = _cnn(nn)
    wrapped = GradSampleModule(model)

    def hooks():
        wrapped.zero_grad()
        F.cross_entropy(wrapped(Tensor(x)), y).backward()

    plain = _cnn(nn)

    def one_per_example():
        for n in range(len(y)):
            plain.zero_grad()
            F.cross_entropy(plain(Tensor(x[n:n + 1])), y[n:n + 1]).backward()

    with tinymed.using("numba"):
        row = {"case": "per-example gradients, CNN, batch 64", "hooks_ms": 1e3 * timeit(hooks, repeat=5),
               "one_backward_per_example_ms": 1e3 * timeit(one_per_example, repeat=3)}
    row["per_example/hooks"] = row["one_backward_per_example_ms"] / row["hooks_ms"]
    try:
        import opacus
    except ImportError:
        return row
    theirs = opacus.GradSampleModule(_cnn(torch.nn))
    tx, ty = torch.tensor(x), torch.tensor(y)

    def opacus_step():
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(theirs(tx), ty).backward()

    with warnings.catch_warnings():  # Opacus's note that a first layer's input needs no gradient
        warnings.simplefilter("ignore", UserWarning)
        row["opacus_ms"] = 1e3 * timeit(opacus_step, repeat=5)
    row["hooks/opacus"] = row["hooks_ms"] / row["opacus_ms"]
    return row


def main():
    torch = torch_or_none()
    rows = []
    for case in INT8_CASES:
        rows.append(_int8_row(*case, torch))
        print(f"  {case[0]}: done", file=sys.stderr)
    print_table(rows, ["case", "int8_numba_ms", "int8_numpy_ms", "float32_numba_ms", "float32_torch_ms",
                       "int8_numpy/int8_numba", "int8_numba/float32_numba"])
    per_sample = _per_sample_row(torch)
    print()
    print_table([per_sample], ["case", "hooks_ms", "one_backward_per_example_ms", "opacus_ms", "per_example/hooks",
                               "hooks/opacus"])
    path = save("compress_cpu", {"int8": rows, "per_sample_gradients": per_sample,
                                 "note": "ms per call (int8: forward only); ratio > 1: the first is slower"})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
