"""RNN, LSTM and multi-head attention, forward + backward: tinymed numba vs NumPy reference vs PyTorch CPU.

Every contender gets the same float32 inputs and weights; the time is one forward pass plus the
backward pass to the input and every parameter, as in training:

* ``numba`` / ``numpy``: the tinymed module (``nn.RNN``, ``nn.LSTM``, ``nn.MultiheadAttention``)
  under that backend, autograd included -- what a user's training loop pays;
* ``numba_kernels``: only the numba forward and backward kernels on raw arrays (the module time
  minus this is tinymed's Python and autograd overhead);
* ``torch``: the PyTorch module on the CPU, autograd included.

Ratios above 1 mean the first is slower.  Target of issue 6: ``numba/torch`` within 1.5.

    python benchmarks/bench_sequence.py         # -> results/sequence_cpu.json (with --record)
    python benchmarks/bench_sequence.py --gpu   # cupy vs torch CUDA -> results/sequence_gpu_<device>.json

Thread settings matter on a small or busy machine: NumPy's BLAS, Numba and PyTorch each keep a
thread pool; ``benchmarks/harness.py`` records them, and a run with ``OPENBLAS_NUM_THREADS=1``
is saved as ``sequence_cpu_1thread.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import gpu_name, gpu_slug, print_table, save, synced, timeit, torch_or_none  # noqa: E402

CASES = [
    # name, kind, sizes
    ("RNN tanh  N32 T50 I64 H128", "RNN", dict(batch=32, length=50, input_size=64, hidden=128)),
    ("LSTM      N32 T50 I64 H128", "LSTM", dict(batch=32, length=50, input_size=64, hidden=128)),
    ("MHA self  N8 L128 E256 8 heads", "MHA", dict(batch=8, length=128, embed=256, heads=8)),
]


def _inputs(kind, sizes, rng):
    if kind == "MHA":
        x = rng.standard_normal((sizes["batch"], sizes["length"], sizes["embed"]))
    else:
        x = rng.standard_normal((sizes["length"], sizes["batch"], sizes["input_size"]))
    return x.astype(np.float32)


def _tinymed_module(kind, sizes, seed=0):
    import tinymed
    import tinymed.nn as nn

    tinymed.manual_seed(seed)
    if kind == "MHA":
        return nn.MultiheadAttention(sizes["embed"], sizes["heads"], batch_first=True)
    return getattr(nn, kind)(sizes["input_size"], sizes["hidden"])


def _tinymed_step(kind, module, x, dy):
    """Forward + backward through a tinymed module (the backend active when it runs)."""
    from tinymed import Tensor, backend

    def step():
        module.zero_grad()
        _forward(kind, module, Tensor(backend.asarray(x), requires_grad=True)).backward(backend.asarray(dy))
    return step


def _kernel_step(kind, module, x, dy):
    """Only the numba kernels, on raw arrays, as the autograd Functions call them."""
    from tinymed import backend

    kernel = {op: backend.kernel(op, backend="numba") for op in (
        "rnn_tanh_forward", "rnn_tanh_backward", "lstm_forward", "lstm_backward",
        "scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward",
        "linear_forward", "linear_backward")}
    if kind == "MHA":
        return _attention_kernels(kernel, module, x, dy)
    w_ih, w_hh = module.weight_ih_l0.numpy(), module.weight_hh_l0.numpy()
    b = module.bias_ih_l0.numpy() + module.bias_hh_l0.numpy()
    h0 = np.zeros((x.shape[1], w_hh.shape[1]), dtype=x.dtype)
    if kind == "RNN":
        def step():
            h = kernel["rnn_tanh_forward"](x, h0, w_ih=w_ih, w_hh=w_hh, b=b)
            kernel["rnn_tanh_backward"](dy, x, h0, h, w_ih=w_ih, w_hh=w_hh)
        return step
    zero = np.zeros_like(dy)

    def step():
        h, c, gates = kernel["lstm_forward"](x, h0, h0, w_ih=w_ih, w_hh=w_hh, b=b)
        kernel["lstm_backward"](dy, zero, x, h0, h0, h, c, gates, w_ih=w_ih, w_hh=w_hh)
    return step


def _attention_kernels(kernel, module, x, dy):
    """The projections (linear kernels) and scaled dot-product attention of one MHA forward + backward."""
    e, heads = module.embed_dim, module.num_heads
    n, length, _ = x.shape
    w, b = module.in_proj_weight.numpy(), module.in_proj_bias.numpy()
    w_out, b_out = module.out_proj.weight.numpy(), module.out_proj.bias.numpy()
    scale = np.float32(1 / np.sqrt(e // heads))

    def split(t):
        return np.ascontiguousarray(t.reshape(n, length, heads, e // heads).transpose(0, 2, 1, 3))

    def step():
        qkv = kernel["linear_forward"](x, w, b)
        q, k, v = (split(qkv[..., i * e:(i + 1) * e]) for i in range(3))
        o, weights = kernel["scaled_dot_product_attention_forward"](q, k, v, None, scale)
        joined = np.ascontiguousarray(o.transpose(0, 2, 1, 3)).reshape(n, length, e)
        kernel["linear_forward"](joined, w_out, b_out)
        d_joined, _, _ = kernel["linear_backward"](dy, joined, w_out)
        d_o = split(d_joined)
        dq, dk, dv, _ = kernel["scaled_dot_product_attention_backward"](d_o, q, k, v, weights, scale)
        d_qkv = np.concatenate([t.transpose(0, 2, 1, 3).reshape(n, length, e) for t in (dq, dk, dv)], axis=2)
        kernel["linear_backward"](d_qkv, x, w)
    return step


def _torch_module(torch, kind, sizes, state):
    """The PyTorch twin of the tinymed module, with the same weights."""
    if kind == "MHA":
        module = torch.nn.MultiheadAttention(sizes["embed"], sizes["heads"], batch_first=True)
    else:
        module = getattr(torch.nn, kind)(sizes["input_size"], sizes["hidden"])
    module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return module


def _forward(kind, module, x):
    return module(x, x, x, need_weights=False)[0] if kind == "MHA" else module(x)[0]


def _torch_step(torch, kind, module, x, dy):
    tx = torch.tensor(x, requires_grad=True)
    tdy = torch.tensor(dy)

    def step():
        module.zero_grad()
        tx.grad = None
        _forward(kind, module, tx).backward(tdy)
    return step


def _check_same_output(kind, module, torch_module, torch, x):
    """A benchmark of wrong numbers is worthless: tinymed's output must match PyTorch's."""
    import tinymed

    with tinymed.no_grad():
        ours = _forward(kind, module, tinymed.Tensor(x)).numpy()
    with torch.no_grad():
        theirs = _forward(kind, torch_module, torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def run_cpu():
    import tinymed

    torch = torch_or_none()
    rows = []
    for name, kind, sizes in CASES:
        rng = np.random.default_rng(0)
        x = _inputs(kind, sizes, rng)
        module = _tinymed_module(kind, sizes)
        with tinymed.no_grad():
            dy = rng.standard_normal(_forward(kind, module, tinymed.Tensor(x)).shape).astype(np.float32)
        row = {"case": name, "dtype": "float32"}
        if "numba" in tinymed.available():
            with tinymed.using("numba"):
                row["numba_ms"] = 1e3 * timeit(_tinymed_step(kind, module, x, dy))
                row["numba_kernels_ms"] = 1e3 * timeit(_kernel_step(kind, module, x, dy))
        with tinymed.using("numpy"):
            row["numpy_ms"] = 1e3 * timeit(_tinymed_step(kind, module, x, dy), repeat=3)
        if torch is not None:
            twin = _torch_module(torch, kind, sizes, module.state_dict())
            _check_same_output(kind, module, twin, torch, x)
            row["torch_ms"] = 1e3 * timeit(_torch_step(torch, kind, twin, x, dy))
            if "numba_ms" in row:
                row["numba/torch"] = row["numba_ms"] / row["torch_ms"]
        if "numba_ms" in row:
            row["numpy/numba"] = row["numpy_ms"] / row["numba_ms"]
        rows.append(row)
        print(f"  {name}: done", file=sys.stderr)
    columns = ["case", "dtype", "numba_ms", "numba_kernels_ms", "numpy_ms", "torch_ms", "numba/torch", "numpy/numba"]
    print_table(rows, columns)
    path = save("sequence_cpu", {"rows": rows,
                                 "note": "ms per forward+backward, float32; ratio > 1: first is slower; "
                                         "numba/numpy columns are tinymed modules with autograd, "
                                         "numba_kernels_ms the kernels alone"})
    print(f"wrote {path}")


def run_gpu():
    """tinymed on the cupy backend against PyTorch on CUDA, the same cases, float32."""
    import tinymed

    tinymed.use("cupy")  # refuses with what to install where CuPy or a GPU is missing
    import cupy

    torch = torch_or_none()
    device = gpu_name()
    rows = []

    for name, kind, sizes in CASES:
        rng = np.random.default_rng(0)
        x = _inputs(kind, sizes, rng)
        module = _tinymed_module(kind, sizes)  # created under cupy: its parameters live on the GPU
        with tinymed.no_grad():
            dy = rng.standard_normal(_forward(kind, module, tinymed.Tensor(x)).shape).astype(np.float32)
        row = {"case": name, "dtype": "float32", "cupy_ms": 1e3 * timeit(synced(_tinymed_step(kind, module, x, dy),
                                                                         cupy.cuda.Device().synchronize))}
        if torch is not None and torch.cuda.is_available():
            twin = _torch_module(torch, kind, sizes, module.state_dict()).cuda()
            tx, tdy = torch.tensor(x, device="cuda", requires_grad=True), torch.tensor(dy, device="cuda")

            def torch_step(twin=twin, tx=tx, tdy=tdy, kind=kind):
                twin.zero_grad()
                tx.grad = None
                _forward(kind, twin, tx).backward(tdy)
                torch.cuda.synchronize()

            row["torch_cuda_ms"] = 1e3 * timeit(torch_step)
            row["cupy/torch"] = row["cupy_ms"] / row["torch_cuda_ms"]
        rows.append(row)
        print(f"  {name}: done", file=sys.stderr)
    print_table(rows, ["case", "dtype", "cupy_ms", "torch_cuda_ms", "cupy/torch"])
    note = "ms per forward+backward on the GPU, float32; ratio > 1: cupy is slower"
    path = save(f"sequence_gpu_{gpu_slug(device)}", {"device": device, "rows": rows, "note": note})
    print(f"wrote {path}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="tinymed cupy vs torch CUDA")
    run_gpu() if parser.parse_args().gpu else run_cpu()
