"""conv2d and max_pool2d, forward + backward: tinymed numba vs NumPy reference vs PyTorch, side by side.

Every contender gets the same inputs; the time is forward plus the backward of all inputs
(PyTorch: ``y = F.conv2d(...)``; ``y.backward(dy)``, autograd overhead included, as in
training).  Ratios above 1 mean tinymed is slower.  GFLOP/s count the three matrix
products of a convolution (forward, input gradient, weight gradient) as
``3 * 2 * N * K * C * kh * kw * OH * OW``; the machine's matrix-multiply rate (in
``machine``) is the ceiling.

    python benchmarks/bench_kernels.py            # CPU: numba, numpy, torch -> results/kernels_cpu.json
    python benchmarks/bench_kernels.py --gpu      # GPU: cupy, torch CUDA -> results/kernels_gpu_<device>.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import gpu_name, gpu_slug, print_table, save, synced, timeit, torch_or_none  # noqa: E402

CASES = [
    # name, x shape (N, C, H, W), weight shape (K, C, kh, kw) or pool size, stride, padding
    ("conv2d A  N64 C3 32x32 K16 5x5", "conv", (64, 3, 32, 32), (16, 3, 5, 5), 1, 0),
    ("conv2d B  N32 C32 28x28 K64 3x3 p1", "conv", (32, 32, 28, 28), (64, 32, 3, 3), 1, 1),
    ("max_pool2d N64 C16 28x28 2x2", "pool", (64, 16, 28, 28), (2, 2), 2, 0),
]


def _conv_flops(x_shape, w_shape, padding):
    n, c, h, w = x_shape
    k, _, kh, kw = w_shape
    oh, ow = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    return 3 * 2 * n * k * c * kh * kw * oh * ow


def _tinymed_step(kernels, kind, x, w, stride, padding):
    """A closure running the kernel pair on raw arrays, as the autograd Function does."""
    if kind == "conv":
        b = np.zeros(w.shape[0], x.dtype) if isinstance(x, np.ndarray) else None
        args = ((stride, stride), (padding, padding), (1, 1))
        if b is None:
            import cupy
            b = cupy.zeros(w.shape[0], x.dtype)

        def step():
            y = kernels.conv2d_forward(x, w, b, *args)
            kernels.conv2d_backward(y, x, w, *args)
        return step
    size = (w[0], w[1])

    def step():
        y, arg = kernels.max_pool2d_forward(x, size, (stride, stride), (padding, padding))
        kernels.max_pool2d_backward(y, arg, x.shape, size, (stride, stride), (padding, padding))
    return step


def _torch_step(torch, kind, x, w, stride, padding, device):
    tx = torch.tensor(x, device=device, requires_grad=True)
    if kind == "conv":
        tw = torch.tensor(w, device=device, requires_grad=True)
        tb = torch.zeros(w.shape[0], dtype=tx.dtype, device=device, requires_grad=True)

        def forward():
            return torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=padding)
    else:
        def forward():
            return torch.nn.functional.max_pool2d(tx, w, stride=stride, padding=padding)
    dy = torch.ones_like(forward())

    def step():
        forward().backward(dy)
        if device == "cuda":
            torch.cuda.synchronize()
    return step


def _kernels(name):
    from tinymed import backend

    return {op: backend.kernel(op, name) for op in ("conv2d_forward", "conv2d_backward",
                                                   "max_pool2d_forward", "max_pool2d_backward")}


class _Ops:
    def __init__(self, table):
        self.__dict__.update(table)


def run_cpu():
    torch = torch_or_none()
    rows = []
    numba_ops, numpy_ops = _Ops(_kernels("numba")), _Ops(_kernels("numpy"))
    for dtype in (np.float32, np.float64):
        for name, kind, x_shape, w_shape, stride, padding in CASES:
            rng = np.random.default_rng(0)
            x = rng.standard_normal(x_shape).astype(dtype)
            w = rng.standard_normal(w_shape).astype(dtype) if kind == "conv" else w_shape
            row = {"case": name, "dtype": np.dtype(dtype).name}
            row["numba_ms"] = 1e3 * timeit(_tinymed_step(numba_ops, kind, x, w, stride, padding))
            row["numpy_ms"] = 1e3 * timeit(_tinymed_step(numpy_ops, kind, x, w, stride, padding), repeat=3)
            if torch is not None:
                row["torch_ms"] = 1e3 * timeit(_torch_step(torch, kind, x, w, stride, padding, "cpu"))
                row["numba/torch"] = row["numba_ms"] / row["torch_ms"]
            row["numpy/numba"] = row["numpy_ms"] / row["numba_ms"]
            if kind == "conv":
                row["numba_gflops"] = _conv_flops(x_shape, w_shape, padding) / row["numba_ms"] / 1e6
            rows.append(row)
            print(f"  {name} {row['dtype']}: done", file=sys.stderr)
    columns = ["case", "dtype", "numba_ms", "numpy_ms", "torch_ms", "numba/torch", "numpy/numba", "numba_gflops"]
    print_table(rows, columns)
    path = save("kernels_cpu", {"rows": rows, "note": "ms per forward+backward; ratio > 1: first is slower"})
    print(f"wrote {path}")


def run_gpu():
    import tinymed

    tinymed.use("cupy")  # refuses with what to install where CuPy or a GPU is missing
    import cupy

    torch = torch_or_none()
    device = gpu_name()
    cupy_ops = _Ops(_kernels("cupy"))
    rows = []

    for dtype in (np.float32, np.float64):
        for name, kind, x_shape, w_shape, stride, padding in CASES:
            rng = np.random.default_rng(0)
            x_host = rng.standard_normal(x_shape).astype(dtype)
            w_host = rng.standard_normal(w_shape).astype(dtype) if kind == "conv" else w_shape
            x = cupy.asarray(x_host)
            w = cupy.asarray(w_host) if kind == "conv" else w_host
            row = {"case": name, "dtype": np.dtype(dtype).name}
            step = _tinymed_step(cupy_ops, kind, x, w, stride, padding)
            row["cupy_ms"] = 1e3 * timeit(synced(step, cupy.cuda.Device().synchronize))
            if torch is not None and torch.cuda.is_available():
                row["torch_cuda_ms"] = 1e3 * timeit(_torch_step(torch, kind, x_host, w_host, stride, padding, "cuda"))
                row["cupy/torch"] = row["cupy_ms"] / row["torch_cuda_ms"]
            rows.append(row)
    print_table(rows, ["case", "dtype", "cupy_ms", "torch_cuda_ms", "cupy/torch"])
    path = save(f"kernels_gpu_{gpu_slug(device)}", {"device": device, "rows": rows,
                                        "note": "ms per forward+backward on the GPU; ratio > 1: cupy is slower"})
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="benchmark the cupy backend against torch CUDA")
    if parser.parse_args().gpu:
        run_gpu()
    else:
        run_cpu()
