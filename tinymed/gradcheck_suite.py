"""The gradient check of every differentiable operation and module, on every installed backend.

``tinymed gradcheck`` runs the table below: for each row (an operation such as ``conv2d``, or a
module such as ``nn.LSTM``) a few seeded cases with float64 inputs that stay away from the
function's kinks (ReLU at 0, ties inside a max-pooling window).  Each case is checked element by
element against central differences (:func:`tinymed.gradcheck.check`) -- a module's parameters as
well as its inputs -- and, where PyTorch is installed, against PyTorch on the same numbers:
forward, and the backward of every input and parameter (a module's PyTorch twin gets tinymed's
weights through the state dict, whose names the two share).

**The table is part of every operation.**  ``tests/cli/test_gradcheck_table.py`` fails for each
differentiable ``Function`` in :mod:`tinymed.autograd` or :mod:`tinymed.ops` and each module type
in :mod:`tinymed.nn` that no case here exercises (it runs every case once and walks its graph),
so adding an op means adding its row.  Append it at the end of this file::

    @register("gelu")
    def _gelu(rng):
        return [unary("gelu", 3 * rng.standard_normal((4, 5)), approximate="tanh")]

    @register("nn.GELU")
    def _gelu_module(rng):
        return [module_case(nn.GELU(), rng.standard_normal((3, 4)), twin=lambda torch: torch.nn.GELU())]

A row's function receives its own seeded generator (adding a row never changes another's
inputs) and returns :class:`Case` objects; :func:`unary`, :func:`loss` and :func:`module_case`
build the common kinds.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from . import autograd, backend, nn, ops
from . import random as tm_random
from .autograd import Function, Tensor
from .gradcheck import TOLERANCE, check, relative_error
from .nn import functional as F

F64 = np.float64


# ----- inputs that avoid kinks -----------------------------------------------------------
def off_kink(rng, shape, gap=1e-2, kink=0.0):
    """Normal samples pushed at least ``gap`` away from ``kink`` (ReLU's 0, a clamp's bound)."""
    x = rng.standard_normal(shape)
    return x + np.where(x >= kink, gap, -gap)


def distinct(rng, shape, spacing=1e-2):
    """Values that differ pairwise by at least ``spacing`` (no ties inside a max window)."""
    size = int(np.prod(shape))
    return ((rng.permutation(size) - size / 2) * spacing).reshape(shape) + rng.uniform(0, spacing / 10)


def probabilities(rng, shape):
    """Probabilities kept inside (0.05, 0.95), away from the log's singularities."""
    return rng.uniform(0.05, 0.95, shape)


# ----- cases and the table ---------------------------------------------------------------
@dataclass
class Case:
    """One call of an operation or module: how to run it in tinymed and (optionally) in PyTorch.

    ``inputs`` are NumPy arrays (the floating-point ones are differentiated, except those whose
    positions ``constants`` lists, such as a loss's target); ``fn(*tensors)`` returns a Tensor;
    ``torch_fn(torch, *tensors)`` the same computed by PyTorch.  A module case also checks
    ``module``'s parameters, and builds its PyTorch twin with ``twin(torch)`` (the weights are
    copied over through the state dict, whose names tinymed shares with PyTorch), called as
    ``call(twin, *tensors)``.
    """

    op: str
    label: str
    inputs: tuple
    fn: object
    torch_fn: object = None
    module: object = None
    twin: object = None
    call: object = None
    constants: tuple = ()


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


TABLE: list = []  # (name, function rng -> [Case]), in the order they run


def register(name: str):
    """Add the decorated ``function(rng) -> list[Case]`` to the table under ``name`` (which also
    seeds its inputs).  The printed table has one row per ``Case.op`` and backend."""
    def add(function):
        TABLE.append((name, function))
        return function
    return add


def unary(op, x, **kw):
    """A case of ``F.<op>(x, **kw)`` against ``torch.nn.functional.<op>``."""
    fn = getattr(F, op)
    return Case(op, f"x{x.shape} {kw or ''}".strip(), (x,), lambda x: fn(x, **kw),
                lambda torch, x: getattr(torch.nn.functional, op)(x, **kw))


def loss(op, x, t, reduction, t_is_input=False):
    """A case of the loss ``F.<op>(x, t, reduction=...)``; ``t`` differentiated if ``t_is_input``."""
    fn = getattr(F, op)
    inputs = (x, t) if t_is_input else (x,)

    def tm(*a):
        return fn(a[0], a[1] if t_is_input else t, reduction=reduction)

    def th(torch, *a):
        target = a[1] if t_is_input else torch.as_tensor(t)
        return getattr(torch.nn.functional, op)(a[0], target, reduction=reduction)

    return Case(op, f"x{x.shape} {reduction}", inputs, tm, th)


def module_case(module, *inputs, twin=None, call=None, label=None, constants=()):
    """A case of ``call(module, *inputs)`` (default ``module(*inputs)``), checking the inputs (but
    those at the positions in ``constants``) and every parameter; ``twin(torch)`` builds the same
    module in PyTorch."""
    call = call or (lambda m, *xs: m(*xs))
    count = len(inputs)
    name = f"nn.{type(module).__name__}"
    shapes = ", ".join(str(a.shape) for a in inputs)
    return Case(name, label or f"inputs {shapes}", tuple(inputs), lambda *t: call(module, *t[:count]),
                module=module, twin=twin, call=call, constants=tuple(constants))


def _row_rng(seed: int, name: str):
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def cases(seed: int = 0) -> list[Case]:
    """Every case of the table, built on the active backend with inputs drawn from ``seed``.

    Modules are initialised from tinymed's generator, seeded per row; its state is restored after.
    """
    state = tm_random.get_rng_state()
    out = []
    try:
        for name, build in TABLE:
            rng = _row_rng(seed, name)
            tm_random.manual_seed(int(rng.integers(2**31)))
            out.extend(build(rng))
    finally:
        tm_random.set_rng_state(state)
    return out


# ----- what the table covers --------------------------------------------------------------
def _differentiated(case, i) -> bool:
    return case.inputs[i].dtype.kind == "f" and i not in case.constants


def _tensors(case):
    return [Tensor(backend.asarray(a.copy()), requires_grad=_differentiated(case, i))
            for i, a in enumerate(case.inputs)]


def _torch_tensors(case, torch):
    return [torch.tensor(a, requires_grad=_differentiated(case, i)) for i, a in enumerate(case.inputs)]


def functions_in(case) -> set:
    """The Function classes one run of ``case`` records on the tape."""
    y = case.fn(*_tensors(case))
    found, seen, stack = set(), set(), [y]
    while stack:
        fn = getattr(stack.pop(), "_fn", None)
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        found.add(type(fn))
        stack.extend(a for a in getattr(fn, "inputs", ()) if isinstance(a, Tensor))
    return found


def _load_package(package):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def differentiable_functions() -> set:
    """Every public Function subclass defined in :mod:`tinymed.autograd` or :mod:`tinymed.ops`."""
    _load_package(ops)
    return {f for f in _subclasses(Function) if not f.__name__.startswith("_")
            and (f.__module__ == autograd.__name__ or f.__module__.startswith(ops.__name__ + "."))}


def module_types() -> set:
    """Every public Module subclass defined in :mod:`tinymed.nn`."""
    _load_package(nn)
    return {m for m in _subclasses(nn.Module) if not m.__name__.startswith("_")
            and m.__module__.startswith(nn.__name__ + ".")}


def missing_from_table(seed: int = 0) -> list[str]:
    """The Functions and module types that no case of the table exercises (should be none)."""
    functions, modules = set(), set()
    for case in cases(seed):
        functions |= functions_in(case)
        if case.module is not None:
            modules |= {type(m) for m in case.module.modules()}
    missing = [f"{f.__module__}.{f.__name__}" for f in differentiable_functions() - functions]
    missing += [f"{m.__module__}.{m.__name__}" for m in module_types() - modules]
    return sorted(missing)


# ----- PyTorch ---------------------------------------------------------------------------
def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _worst(pairs) -> float:
    return max((float(np.max(relative_error(a, b), initial=0.0)) for a, b in pairs), default=0.0)


def _random_cotangent(shape):
    return np.random.default_rng(1).standard_normal(shape)


def _function_vs_torch(case, torch):
    tm_inputs = _tensors(case)
    th_inputs = _torch_tensors(case, torch)
    y_tm, y_th = case.fn(*tm_inputs), case.torch_fn(torch, *th_inputs)
    r = _random_cotangent(y_tm.shape)
    y_tm.backward(backend.asarray(r))
    y_th.backward(torch.as_tensor(r))
    pairs = [(y_tm.numpy(), y_th.detach().numpy())]
    pairs += [(backend.to_numpy(a.grad), b.grad.numpy()) for a, b in zip(tm_inputs, th_inputs) if b.grad is not None]
    return _worst(pairs)


def _module_vs_torch(case, torch):
    twin = case.twin(torch)
    twin.load_state_dict({k: torch.as_tensor(backend.to_numpy(v.data)) for k, v in case.module.state_dict().items()})
    twin.train(case.module.training)
    for p in case.module.parameters():
        p.grad = None
    tm_inputs = _tensors(case)
    th_inputs = _torch_tensors(case, torch)
    y_tm, y_th = case.fn(*tm_inputs), case.call(twin, *th_inputs)
    r = _random_cotangent(y_tm.shape)
    y_tm.backward(backend.asarray(r))
    y_th.backward(torch.as_tensor(r))
    pairs = [(y_tm.numpy(), y_th.detach().numpy())]
    pairs += [(backend.to_numpy(a.grad), b.grad.numpy()) for a, b in zip(tm_inputs, th_inputs) if b.grad is not None]
    theirs = dict(twin.named_parameters())
    for name, p in case.module.named_parameters():
        mine = backend.to_numpy(p.grad) if p.grad is not None else np.zeros(p.shape)
        other = theirs[name].grad
        pairs.append((mine, other.numpy() if other is not None else np.zeros(p.shape)))
    return _worst(pairs)


def torch_comparison(case: Case):
    """Worst relative error of tinymed vs PyTorch, forward and backward (every input and
    parameter); None where PyTorch is not installed or the case has no PyTorch form."""
    if (case.torch_fn is None and case.twin is None) or not torch_available():
        return None
    import torch

    return _module_vs_torch(case, torch) if case.twin is not None else _function_vs_torch(case, torch)


# ----- running the table -----------------------------------------------------------------
def _check_case(case):
    inputs = _tensors(case)
    params = list(case.module.parameters()) if case.module is not None else []
    return check(case.fn, *inputs, *params)


def run(backends=None, seed: int = 0, with_torch: bool = True, progress=None) -> list[Row]:
    """Check every case on every backend; one :class:`Row` per (row of the table, backend)."""
    rows = []
    state = tm_random.get_rng_state()
    try:
        for name in backends or backend.available():
            with backend.using(name):
                rows.extend(_run_backend(name, seed, with_torch, progress))
    finally:
        tm_random.set_rng_state(state)
    return rows


def _run_backend(name, seed, with_torch, progress):
    by_op: dict[str, list] = {}
    for case in cases(seed):
        start = time.perf_counter()
        report = _check_case(case)
        vs_torch = torch_comparison(case) if with_torch else None
        by_op.setdefault(case.op, []).append((report.max_rel_error, case.label, vs_torch, time.perf_counter() - start))
        if progress:
            progress(name, case.op, case.label, report.max_rel_error)
    rows = []
    for op, results in by_op.items():
        worst = max(results, key=lambda r: r[0])
        torch_errs = [r[2] for r in results if r[2] is not None]
        rows.append(Row(
            op=op, backend=name, cases=len(results), worst_rel_error=worst[0],
            passed=all(r[0] <= TOLERANCE for r in results) and all(e <= TOLERANCE for e in torch_errs),
            worst_case=worst[1], vs_torch=max(torch_errs) if torch_errs else None,
            seconds=sum(r[3] for r in results)))
    return rows


def format_table(rows: list[Row]) -> str:
    """The rows as the text table ``tinymed gradcheck`` prints."""
    header = f"{'op':34s} {'backend':8s} {'cases':>5s} {'worst rel err':>13s} {'vs torch':>10s}  result"
    lines = [header, "-" * len(header)]
    for r in rows:
        vs = "-" if r.vs_torch is None else f"{r.vs_torch:.2e}"
        lines.append(f"{r.op:34s} {r.backend:8s} {r.cases:5d} {r.worst_rel_error:13.2e} {vs:>10s}  "
                     f"{'pass' if r.passed else 'FAIL'}")
    return "\n".join(lines)


def as_json(rows: list[Row]) -> dict:
    return {"tolerance": TOLERANCE, "rows": [asdict(r) for r in rows], "passed": all(r.passed for r in rows)}


# =============================================================================================
# The table.  Operations first (as they appear in tinymed.nn.functional and on Tensor), then
# modules (tinymed.nn).  New rows go at the end.
# =============================================================================================
def _conv_case(rng, n, c, hw, k, kernel, stride, padding, dilation):
    x = rng.standard_normal((n, c) + hw)
    w = rng.standard_normal((k, c) + kernel)
    b = rng.standard_normal(k)
    label = f"x{x.shape} w{w.shape} s{stride} p{padding} d{dilation}"
    return Case("conv2d", label, (x, w, b),
                lambda x, w, b: F.conv2d(x, w, b, stride, padding, dilation),
                lambda torch, x, w, b: torch.nn.functional.conv2d(x, w, b, stride, padding, dilation))


def _pool_case(rng, op, kernel, stride, padding, shape):
    x = distinct(rng, shape)
    fn = getattr(F, op)
    return Case(op, f"x{shape} k{kernel} s{stride} p{padding}", (x,),
                lambda x: fn(x, kernel, stride, padding),
                lambda torch, x: getattr(torch.nn.functional, op)(x, kernel, stride, padding))


@register("linear")
def _linear(rng):
    def th(torch, x, w, b):
        return torch.nn.functional.linear(x, w, b)

    return [Case("linear", "x(5, 4) w(3, 4) b(3,)",
                 (rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)), F.linear, th),
            Case("linear", "x(2, 3, 4) w(2, 4) batched",
                 (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)), F.linear, th)]


@register("activations")
def _activations(rng):
    return [unary("relu", off_kink(rng, (4, 5))),
            unary("sigmoid", 3 * rng.standard_normal((4, 5))),
            unary("tanh", 2 * rng.standard_normal((4, 5))),
            unary("softmax", 2 * rng.standard_normal((3, 6)), dim=1),
            unary("softmax", 2 * rng.standard_normal((2, 3, 4)), dim=0),
            unary("log_softmax", 2 * rng.standard_normal((3, 6)), dim=1),
            unary("log_softmax", 2 * rng.standard_normal((2, 3, 4)), dim=-1)]


@register("conv2d")
def _conv2d(rng):
    return [_conv_case(rng, 2, 3, (7, 6), 4, (3, 3), (1, 1), (0, 0), (1, 1)),
            _conv_case(rng, 2, 2, (8, 7), 3, (3, 2), (2, 1), (1, 2), (1, 1)),
            _conv_case(rng, 1, 2, (9, 9), 2, (3, 3), (2, 2), (2, 1), (2, 2))]


@register("pooling")
def _pooling(rng):
    return [_pool_case(rng, "max_pool2d", (2, 2), (2, 2), (0, 0), (2, 3, 6, 6)),
            _pool_case(rng, "max_pool2d", (3, 2), (1, 2), (1, 1), (1, 2, 7, 6)),
            _pool_case(rng, "avg_pool2d", (2, 2), (2, 2), (0, 0), (2, 3, 6, 6)),
            _pool_case(rng, "avg_pool2d", (3, 3), (2, 1), (1, 1), (1, 2, 7, 6))]


@register("losses")
def _losses(rng):
    return [loss("mse_loss", rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), "mean", True),
            loss("mse_loss", rng.standard_normal((5,)), rng.standard_normal((5,)), "none", True),
            loss("cross_entropy", 3 * rng.standard_normal((6, 4)), rng.integers(0, 4, 6), "mean"),
            loss("cross_entropy", 3 * rng.standard_normal((5, 3)), rng.integers(0, 3, 5), "sum"),
            loss("binary_cross_entropy", probabilities(rng, (6,)), rng.integers(0, 2, 6).astype(float), "mean"),
            loss("binary_cross_entropy", probabilities(rng, (2, 3)), rng.uniform(0, 1, (2, 3)), "none"),
            loss("binary_cross_entropy_with_logits", 4 * rng.standard_normal((6,)),
                 rng.integers(0, 2, 6).astype(float), "mean"),
            loss("binary_cross_entropy_with_logits", 4 * rng.standard_normal((2, 3)),
                 rng.uniform(0, 1, (2, 3)), "sum")]


@register("gelu")
def _gelu(rng):
    return [unary("gelu", 3 * rng.standard_normal((4, 5)), approximate="none"),
            unary("gelu", 3 * rng.standard_normal((2, 3, 4)), approximate="tanh")]


def _torch_recurrent(torch, kind, x, h, c, w_ih, w_hh, b_ih, b_hh, reverse):
    """PyTorch's one-layer RNN/LSTM/GRU on the given weights: every hidden state (T, N, H), and for
    the LSTM the last cell state after them."""
    layer = {"rnn_tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        x.shape[2], w_hh.shape[1], dtype=torch.float64)
    weights = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    state = (h[None], c[None]) if kind == "lstm" else h[None]
    out, last = torch.func.functional_call(layer, weights, (x.flip(0) if reverse else x, state))
    out = out.flip(0) if reverse else out
    return torch.cat([out, last[1]]) if kind == "lstm" else out


def _recurrent_case(rng, kind, t, n, i, h, reverse):
    gates = {"rnn_tanh": 1, "gru": 3, "lstm": 4}[kind]
    states = 2 if kind == "lstm" else 1
    inputs = (rng.standard_normal((t, n, i)),) + tuple(0.5 * rng.standard_normal((n, h)) for _ in range(states))
    inputs += (0.5 * rng.standard_normal((gates * h, i)), 0.5 * rng.standard_normal((gates * h, h)),
               0.3 * rng.standard_normal(gates * h), 0.3 * rng.standard_normal(gates * h))

    def tm(x, *rest):
        if kind == "lstm":
            hs, cs = F.lstm(x, *rest, reverse=reverse)
            return F.cat([hs, cs[0:1] if reverse else cs[-1:]], dim=0)
        return getattr(F, kind)(x, *rest, reverse=reverse)

    def th(torch, x, *rest):
        h0, c0 = (rest[0], rest[1]) if kind == "lstm" else (rest[0], None)
        return _torch_recurrent(torch, kind, x, h0, c0, *rest[states:], reverse)

    return Case(kind, f"T{t} N{n} I{i} H{h}{' reverse' if reverse else ''}", inputs, tm, th)


@register("recurrent")
def _recurrent(rng):
    return [_recurrent_case(rng, kind, 4, 2, 3, 3, reverse)
            for kind in ("rnn_tanh", "lstm", "gru") for reverse in (False, True)]


@register("scaled_dot_product_attention")
def _attention(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 3))
    may_attend = rng.random((3, 5)) < 0.6
    may_attend[:, 0] = True  # every query attends to something

    def case(label, inputs, tm, th):
        return Case("scaled_dot_product_attention", label, inputs, tm, th)

    sdpa = F.scaled_dot_product_attention
    return [
        case("q(2,3,4) k(2,5,4) v(2,5,3)", (q, k, v), sdpa,
             lambda torch, q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v)),
        case("boolean mask, scale 0.7", (q, k, v), lambda q, k, v: sdpa(q, k, v, may_attend, scale=0.7),
             lambda torch, q, k, v: torch.nn.functional.scaled_dot_product_attention(
                 q, k, v, torch.as_tensor(may_attend), scale=0.7)),
        case("float mask differentiated", (q, k, v, 0.5 * rng.standard_normal((3, 5))), sdpa,
             lambda torch, q, k, v, m: torch.nn.functional.scaled_dot_product_attention(q, k, v, m)),
        case("causal, self-attention", (k,), lambda x: sdpa(x, x, x, is_causal=True),
             lambda torch, x: torch.nn.functional.scaled_dot_product_attention(x, x, x, is_causal=True)),
    ]


@register("layer_norm")
def _layer_norm(rng):
    x = 2 * rng.standard_normal((2, 3, 4)) + 1
    w, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    return [
        Case("layer_norm", "x(2, 3, 4) over (4,)", (x,), lambda x: F.layer_norm(x, (4,)),
             lambda torch, x: torch.nn.functional.layer_norm(x, (4,))),
        Case("layer_norm", "x(2, 3, 4) over (3, 4), weight and bias", (x, w, b),
             lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-3),
             lambda torch, x, w, b: torch.nn.functional.layer_norm(x, (3, 4), w, b, eps=1e-3)),
    ]


@register("embedding")
def _embedding(rng):
    # the padding row gets no gradient by definition (as in PyTorch), so it is not looked up here
    weight, indices = rng.standard_normal((6, 3)), np.array([[0, 2, 2], [5, 3, 0]])
    return [Case("embedding", "weight(6, 3), repeated indices, padding_idx=1", (weight, indices),
                 lambda w, i: F.embedding(i, w, padding_idx=1),
                 lambda torch, w, i: torch.nn.functional.embedding(i, w, padding_idx=1))]


@register("cat/stack")
def _cat_stack(rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 1)), rng.standard_normal((2, 4))
    p, q = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    return [Case("cat/stack", "cat of (2,3), (2,1), (2,4) on dim 1", (a, b, c),
                 lambda a, b, c: F.cat([a, b, c], dim=1), lambda torch, a, b, c: torch.cat([a, b, c], dim=1)),
            Case("cat/stack", "stack of two (2,3) on dim -1", (p, q),
                 lambda p, q: F.stack([p, q], dim=-1), lambda torch, p, q: torch.stack([p, q], dim=-1))]


def _same(expression):
    """A case function that is the same expression in tinymed and PyTorch."""
    return expression, lambda torch, *t: expression(*t)


@register("autograd")
def _autograd(rng):
    """The small operations of :mod:`tinymed.autograd`, composed as students compose them."""
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    v = rng.standard_normal(4)
    batch = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    pos = rng.uniform(0.5, 2.0, (3, 4))
    r = rng.standard_normal((1, 4))
    d1, d2 = distinct(rng, (3, 4)), distinct(rng, (3, 4))
    clamped = np.clip(off_kink(rng, (3, 4), kink=-0.5), -3, 3)
    clamped = np.where(np.abs(clamped - 0.7) < 1e-2, clamped + 2e-2, clamped)
    return [
        Case("matmul", "(3, 4) @ (4, 2)", (a, b), *_same(lambda x, y: x @ y)),
        Case("matmul", "(3, 4) @ (4,)", (a, v), *_same(lambda x, y: x @ y)),
        Case("matmul", "(4,) @ (4, 2)", (v, b), *_same(lambda x, y: x @ y)),
        Case("matmul", "(2, 3, 4) @ (4, 5) batched", batch, *_same(lambda x, y: x @ y)),
        Case("arithmetic", "(x * y - x / y + 2) broadcast (3, 4), (1, 4)", (pos, r + 3.0),
             *_same(lambda x, y: x * y - x / y + 2)),
        Case("exp/log/pow", "log(x) * exp(-x) + x ** 3", (pos,), *_same(lambda x: x.log() * (-x).exp() + x ** 3)),
        Case("sum/mean/max", "sum(dim=1) + mean(dim=0) + max", (d1,),
             *_same(lambda x: x.sum(1).sum() * x.mean(0).sum() + x.max())),
        Case("sum/mean/max", "max(dim=1, keepdim)", (d2,), lambda x: x.max(dim=1, keepdim=True) * x,
             lambda torch, x: x.amax(dim=1, keepdim=True) * x),
        Case("reshape/transpose/flatten", "(2, 3, 4) -> permute, flatten", (batch[0],),
             *_same(lambda x: x.transpose(0, 2).reshape(4, 6).flatten() * 2)),
        Case("indexing", "x[[0, 2, 0], 1:3] (repeated rows)", (a,), *_same(lambda x: x[[0, 2, 0], 1:3])),
        Case("clamp", "clamp(-0.5, 0.7), values away from the bounds", (clamped,),
             *_same(lambda x: x.clamp(-0.5, 0.7))),
    ]


# ----- modules --------------------------------------------------------------------------------
def _first(m, *xs):
    return m(*xs)[0]


@register("nn layers")
def _layer_modules(rng):
    return [
        module_case(nn.Linear(4, 3, dtype=F64), rng.standard_normal((5, 4)),
                    twin=lambda torch: torch.nn.Linear(4, 3, dtype=torch.float64)),
        module_case(nn.Conv2d(2, 3, 3, padding=1, dtype=F64), rng.standard_normal((1, 2, 5, 4)),
                    twin=lambda torch: torch.nn.Conv2d(2, 3, 3, padding=1, dtype=torch.float64)),
        module_case(nn.MaxPool2d(2), distinct(rng, (1, 2, 4, 4)), twin=lambda torch: torch.nn.MaxPool2d(2)),
        module_case(nn.AvgPool2d(2, stride=1), rng.standard_normal((1, 2, 3, 3)),
                    twin=lambda torch: torch.nn.AvgPool2d(2, stride=1)),
        module_case(nn.Flatten(), rng.standard_normal((2, 3, 2)), twin=lambda torch: torch.nn.Flatten()),
        module_case(nn.Identity(), rng.standard_normal((2, 3)), twin=lambda torch: torch.nn.Identity()),
        module_case(nn.ReLU(), off_kink(rng, (3, 4)), twin=lambda torch: torch.nn.ReLU()),
        module_case(nn.Sigmoid(), rng.standard_normal((3, 4)), twin=lambda torch: torch.nn.Sigmoid()),
        module_case(nn.Tanh(), rng.standard_normal((3, 4)), twin=lambda torch: torch.nn.Tanh()),
        module_case(nn.Softmax(dim=1), rng.standard_normal((3, 4)), twin=lambda torch: torch.nn.Softmax(dim=1)),
        module_case(nn.GELU(), rng.standard_normal((3, 4)), twin=lambda torch: torch.nn.GELU()),
        module_case(nn.Sequential(nn.Linear(3, 4, dtype=F64), nn.Tanh(), nn.Linear(4, 2, dtype=F64)),
                    rng.standard_normal((2, 3)),
                    twin=lambda torch: torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64), torch.nn.Tanh(),
                                                           torch.nn.Linear(4, 2, dtype=torch.float64))),
        _dropout_case(rng),
    ]


def _dropout_case(rng):
    """Dropout in training mode, its mask fixed by seeding before each call; PyTorch multiplies
    by the same mask (scaled by 1/(1-p)), since its own generator would draw another."""
    def seeded(m, x):
        tm_random.manual_seed(7)
        return m(x)

    x = rng.standard_normal((4, 5))
    tm_random.manual_seed(7)
    mask = backend.to_numpy(F.dropout(Tensor(backend.asarray(np.ones_like(x))), 0.4).data)
    case = module_case(nn.Dropout(0.4), x, call=seeded, label="p=0.4, training")
    case.torch_fn = lambda torch, x: x * torch.as_tensor(mask)
    return case


@register("nn normalisation and embedding")
def _norm_modules(rng):
    embedding = nn.Embedding(6, 3, padding_idx=0, dtype=F64)
    return [
        module_case(nn.LayerNorm(4, dtype=F64), rng.standard_normal((2, 3, 4)),
                    twin=lambda torch: torch.nn.LayerNorm(4, dtype=torch.float64)),
        module_case(embedding, np.array([[1, 4, 5], [2, 2, 3]]),
                    twin=lambda torch: torch.nn.Embedding(6, 3, padding_idx=0, dtype=torch.float64)),
    ]


@register("nn losses")
def _loss_modules(rng):
    return [
        module_case(nn.MSELoss(), rng.standard_normal((3, 2)), rng.standard_normal((3, 2)),
                    twin=lambda torch: torch.nn.MSELoss()),
        module_case(nn.CrossEntropyLoss(), 2 * rng.standard_normal((4, 3)), rng.integers(0, 3, 4),
                    twin=lambda torch: torch.nn.CrossEntropyLoss()),
        module_case(nn.BCELoss(), probabilities(rng, (5,)), rng.integers(0, 2, 5).astype(float), constants=(1,),
                    twin=lambda torch: torch.nn.BCELoss()),
        module_case(nn.BCEWithLogitsLoss(), 3 * rng.standard_normal((5,)), rng.uniform(0, 1, 5), constants=(1,),
                    twin=lambda torch: torch.nn.BCEWithLogitsLoss()),
    ]


@register("nn recurrent")
def _recurrent_modules(rng):
    x = rng.standard_normal((4, 2, 3))
    return [
        module_case(nn.RNN(3, 2, num_layers=2, dtype=F64), x, call=_first,
                    twin=lambda torch: torch.nn.RNN(3, 2, num_layers=2, dtype=torch.float64)),
        module_case(nn.LSTM(3, 2, bidirectional=True, dtype=F64), x, call=_first,
                    twin=lambda torch: torch.nn.LSTM(3, 2, bidirectional=True, dtype=torch.float64)),
        module_case(nn.GRU(3, 2, batch_first=True, dtype=F64), x, call=_first,
                    twin=lambda torch: torch.nn.GRU(3, 2, batch_first=True, dtype=torch.float64)),
    ]


@register("nn attention")
def _attention_modules(rng):
    q, kv = rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4))
    src = rng.standard_normal((3, 2, 4))

    def encoder(torch):
        return torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, dtype=torch.float64)

    return [
        module_case(nn.MultiheadAttention(4, 2, dtype=F64), q, kv, kv, call=_first,
                    twin=lambda torch: torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)),
        module_case(nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, dtype=F64), src,
                    twin=encoder),
    ]


def _torch_seq2seq(torch, src_vocab, tgt_vocab, embed, hidden, pad):
    """tinymed's :class:`~tinymed.nn.Seq2Seq` written with PyTorch's modules, same parameter names."""

    class Seq2Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            f64 = {"dtype": torch.float64}
            self.src_embed = torch.nn.Embedding(src_vocab, embed, padding_idx=pad, **f64)
            self.tgt_embed = torch.nn.Embedding(tgt_vocab, embed, padding_idx=pad, **f64)
            self.encoder = torch.nn.GRU(embed, hidden, batch_first=True, **f64)
            self.decoder = torch.nn.GRU(embed, hidden, batch_first=True, **f64)
            self.combine = torch.nn.Linear(2 * hidden, hidden, **f64)
            self.out = torch.nn.Linear(hidden, tgt_vocab, **f64)

        def forward(self, src, tgt_in):
            lengths = (src != pad).sum(dim=1).clamp(min=1)
            states, _ = self.encoder(self.src_embed(src))
            last = states[torch.arange(src.shape[0]), lengths - 1][None]
            s, _ = self.decoder(self.tgt_embed(tgt_in), last)
            context = torch.nn.functional.scaled_dot_product_attention(s, states, states, (src != pad)[:, None, :],
                                                                       scale=1 / hidden ** 0.5)
            return self.out(torch.tanh(self.combine(torch.cat([s, context], dim=2))))

    return Seq2Seq()


@register("nn.Seq2Seq")
def _seq2seq(rng):
    model = nn.Seq2Seq(7, 6, embed_dim=3, hidden_size=4, dtype=F64)
    # padded sources (masked out of attention); no padding in tgt_in, whose padding row would get
    # no gradient by definition though it changes the logits at padded positions
    src, tgt_in = np.array([[4, 5, 6, 0], [1, 4, 0, 0]]), np.array([[2, 4, 5], [2, 3, 1]])
    return [module_case(model, src, tgt_in, label="src (2, 4) padded, tgt_in (2, 3)",
                        twin=lambda torch: _torch_seq2seq(torch, 7, 6, 3, 4, 0))]
