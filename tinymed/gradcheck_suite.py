"""The gradient check of every operation, on every installed backend (``tinymed gradcheck``).

Each operation has a few seeded cases (shapes, strides, paddings); each case builds float64
inputs that stay away from the function's kinks (ReLU at 0, ties inside a max-pooling
window), runs :func:`tinymed.gradcheck.check`, and -- where PyTorch is installed -- compares
tinymed's forward and backward with ``torch.nn.functional`` on the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from . import backend
from .autograd import Tensor
from .gradcheck import TOLERANCE, check, relative_error
from .nn import functional as F


# ----- inputs that avoid kinks -----------------------------------------------------------
def off_kink(rng, shape, gap=1e-2):
    """Normal samples pushed at least ``gap`` away from 0 (ReLU's kink)."""
    x = rng.standard_normal(shape)
    return x + np.where(x >= 0, gap, -gap)


def distinct(rng, shape, spacing=1e-2):
    """Values that differ pairwise by at least ``spacing`` (no ties inside a max window)."""
    size = int(np.prod(shape))
    return ((rng.permutation(size) - size / 2) * spacing).reshape(shape) + rng.uniform(0, spacing / 10)


def probabilities(rng, shape):
    """Probabilities kept inside (0.05, 0.95), away from the log's singularities."""
    return rng.uniform(0.05, 0.95, shape)


@dataclass
class Case:
    """One call of an operation: how to run it in tinymed and (optionally) in PyTorch."""

    op: str
    label: str
    inputs: tuple          # NumPy arrays; the float ones are differentiated
    fn: object             # fn(*tensors) -> Tensor
    torch_fn: object = None  # torch_fn(torch, *tensors) -> tensor


def _conv_case(rng, n, c, hw, k, kernel, stride, padding, dilation):
    x = rng.standard_normal((n, c) + hw)
    w = rng.standard_normal((k, c) + kernel)
    b = rng.standard_normal(k)
    label = f"x{x.shape} w{w.shape} s{stride} p{padding} d{dilation}"
    return Case("conv2d", label, (x, w, b),
                lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation),
                lambda torch, x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation))


def _pool_cases(rng, op, kernel, stride, padding, shape):
    x = distinct(rng, shape)
    fn = getattr(F, op)
    return Case(op, f"x{shape} k{kernel} s{stride} p{padding}", (x,),
                lambda x: fn(x, kernel, stride, padding),
                lambda torch, x: getattr(torch.nn.functional, op)(x, kernel, stride, padding))


def _unary(op, x, **kw):
    fn = getattr(F, op)
    return Case(op, f"x{x.shape} {kw or ''}".strip(), (x,), lambda x: fn(x, **kw),
                lambda torch, x: getattr(torch.nn.functional, op)(x, **kw))


def _loss(op, x, t, reduction, t_is_input=False):
    fn = getattr(F, op)
    inputs = (x, t) if t_is_input else (x,)

    def tm(*a):
        return fn(a[0], a[1] if t_is_input else t, reduction=reduction)

    def th(torch, *a):
        target = a[1] if t_is_input else torch.as_tensor(t)
        return getattr(torch.nn.functional, op)(a[0], target, reduction=reduction)

    return Case(op, f"x{x.shape} {reduction}", inputs, tm, th)


def cases(seed: int = 0) -> list[Case]:
    """The seeded cases that ``tinymed gradcheck`` runs."""
    rng = np.random.default_rng(seed)
    out = [
        Case("linear", "x(5, 4) w(3, 4) b(3,)",
             (rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)),
             F.linear, lambda torch, x, w, b: torch.nn.functional.linear(x, w, b)),
        Case("linear", "x(2, 3, 4) w(2, 4) batched",
             (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)),
             F.linear, lambda torch, x, w, b: torch.nn.functional.linear(x, w, b)),
        _unary("relu", off_kink(rng, (4, 5))),
        _unary("sigmoid", 3 * rng.standard_normal((4, 5))),
        _unary("tanh", 2 * rng.standard_normal((4, 5))),
        _unary("softmax", 2 * rng.standard_normal((3, 6)), dim=1),
        _unary("softmax", 2 * rng.standard_normal((2, 3, 4)), dim=0),
        _unary("log_softmax", 2 * rng.standard_normal((3, 6)), dim=1),
        _unary("log_softmax", 2 * rng.standard_normal((2, 3, 4)), dim=-1),
        _conv_case(rng, 2, 3, (7, 6), 4, (3, 3), (1, 1), (0, 0), (1, 1)),
        _conv_case(rng, 2, 2, (8, 7), 3, (3, 2), (2, 1), (1, 2), (1, 1)),
        _conv_case(rng, 1, 2, (9, 9), 2, (3, 3), (2, 2), (2, 1), (2, 2)),
        _pool_cases(rng, "max_pool2d", (2, 2), (2, 2), (0, 0), (2, 3, 6, 6)),
        _pool_cases(rng, "max_pool2d", (3, 2), (1, 2), (1, 1), (1, 2, 7, 6)),
        _pool_cases(rng, "avg_pool2d", (2, 2), (2, 2), (0, 0), (2, 3, 6, 6)),
        _pool_cases(rng, "avg_pool2d", (3, 3), (2, 1), (1, 1), (1, 2, 7, 6)),
        _loss("mse_loss", rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), "mean", True),
        _loss("mse_loss", rng.standard_normal((5,)), rng.standard_normal((5,)), "none", True),
        _loss("cross_entropy", 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6), "mean"),
        _loss("cross_entropy", 3 * rng.standard_normal((5, 3)), rng.integers(0, 3, 5), "sum"),
        _loss("binary_cross_entropy", probabilities(rng, (6,)), rng.integers(0, 2, 6).astype(float), "mean"),
        _loss("binary_cross_entropy", probabilities(rng, (2, 3)), rng.uniform(0, 1, (2, 3)), "none"),
        _loss("binary_cross_entropy_with_logits", 4 * rng.standard_normal((6,)),
              rng.integers(0, 2, 6).astype(float), "mean"),
        _loss("binary_cross_entropy_with_logits", 4 * rng.standard_normal((2, 3)),
              rng.uniform(0, 1, (2, 3)), "sum"),
        _unary("gelu", 3 * rng.standard_normal((4, 5)), approximate="none"),
        _unary("gelu", 3 * rng.standard_normal((2, 3, 4)), approximate="tanh"),
    ]
    return out + _autograd_cases(rng)


def _autograd_cases(rng) -> list[Case]:
    """The small operations of :mod:`tinymed.autograd`, composed as students compose them."""
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    v = rng.standard_normal(4)
    batch = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    pos = rng.uniform(0.5, 2.0, (3, 4))
    row = rng.standard_normal((1, 4))
    return [
        Case("matmul", "(3, 4) @ (4, 2)", (a, b), lambda x, y: x @ y, lambda torch, x, y: x @ y),
        Case("matmul", "(3, 4) @ (4,)", (a, v), lambda x, y: x @ y, lambda torch, x, y: x @ y),
        Case("matmul", "(4,) @ (4, 2)", (v, b), lambda x, y: x @ y, lambda torch, x, y: x @ y),
        Case("matmul", "(2, 3, 4) @ (4, 5) batched", batch, lambda x, y: x @ y, lambda torch, x, y: x @ y),
        Case("arithmetic", "(x * y - x / y + 2) broadcast (3, 4), (1, 4)", (pos, row + 3.0),
             lambda x, y: x * y - x / y + 2, lambda torch, x, y: x * y - x / y + 2),
        Case("exp/log/pow", "log(x) * exp(-x) + x ** 3", (pos,),
             lambda x: x.log() * (-x).exp() + x ** 3,
             lambda torch, x: x.log() * (-x).exp() + x ** 3),
        Case("sum/mean/max", "sum(dim=1) + mean(dim=0) + max", (distinct(rng, (3, 4)),),
             lambda x: x.sum(1).sum() * x.mean(0).sum() + x.max(),
             lambda torch, x: x.sum(1).sum() * x.mean(0).sum() + x.max()),
        Case("sum/mean/max", "max(dim=1, keepdim)", (distinct(rng, (3, 4)),),
             lambda x: x.max(dim=1, keepdim=True) * x,
             lambda torch, x: x.amax(dim=1, keepdim=True) * x),
        Case("reshape/transpose/flatten", "(2, 3, 4) -> permute, flatten", (batch[0],),
             lambda x: x.transpose(0, 2).reshape(4, 6).flatten() * 2,
             lambda torch, x: x.transpose(0, 2).reshape(4, 6).flatten() * 2),
        Case("indexing", "x[[0, 2, 0], 1:3] (repeated rows)", (a,),
             lambda x: x[[0, 2, 0], 1:3], lambda torch, x: x[[0, 2, 0], 1:3]),
    ]


def torch_comparison(case: Case):
    """Worst relative error of tinymed vs PyTorch, forward and backward; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    tm_inputs = [Tensor(backend.asarray(a.copy()), requires_grad=a.dtype.kind == "f") for a in case.inputs]
    th_inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in case.inputs]
    y_tm = case.fn(*tm_inputs)
    y_th = case.torch_fn(torch, *th_inputs)
    r = np.random.default_rng(1).standard_normal(y_tm.shape)
    y_tm.backward(backend.asarray(r))
    y_th.backward(torch.as_tensor(r))
    worst = float(np.max(relative_error(y_tm.numpy(), y_th.detach().numpy())))
    for a, b in zip(tm_inputs, th_inputs):
        if b.grad is not None:
            worst = max(worst, float(np.max(relative_error(backend.to_numpy(a.grad), b.grad.numpy()))))
    return worst


@dataclass
class Row:
    op: str
    backend: str
    cases: int
    worst_rel_error: float
    passed: bool
    worst_case: str
    vs_torch: float | None
    seconds: float


def run(backends=None, seed: int = 0, with_torch: bool = True, progress=None) -> list[Row]:
    """Check every op on every backend; one :class:`Row` per (op, backend)."""
    rows = []
    for name in backends or backend.available():
        with backend.using(name):
            by_op: dict[str, list] = {}
            for case in cases(seed):
                start = time.perf_counter()
                inputs = [Tensor(backend.asarray(a.copy()), requires_grad=a.dtype.kind == "f")
                          for a in case.inputs]
                report = check(case.fn, *inputs)
                vs_torch = torch_comparison(case) if with_torch and case.torch_fn else None
                by_op.setdefault(case.op, []).append(
                    (report.max_rel_error, case.label, vs_torch, time.perf_counter() - start))
                if progress:
                    progress(name, case.op, case.label, report.max_rel_error)
            for op, results in by_op.items():
                worst = max(results, key=lambda r: r[0])
                torch_errs = [r[2] for r in results if r[2] is not None]
                rows.append(Row(
                    op=op, backend=name, cases=len(results), worst_rel_error=worst[0],
                    passed=all(r[0] <= TOLERANCE for r in results) and all(e <= TOLERANCE for e in torch_errs),
                    worst_case=worst[1], vs_torch=max(torch_errs) if torch_errs else None,
                    seconds=sum(r[3] for r in results)))
    return rows


def as_json(rows: list[Row]) -> dict:
    return {"tolerance": TOLERANCE, "rows": [asdict(r) for r in rows],
            "passed": all(r.passed for r in rows)}
