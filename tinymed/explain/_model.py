r"""What every attribution method asks of the model: the checks on what it is given, the output
it explains, and that output's gradient with respect to the input.

A model maps a batch of inputs ``x (N, ...)`` to outputs ``(N,)``, ``(N, 1)`` or ``(N, C)``.
The *explained output* of example :math:`i` is :math:`f(x)_i = \text{out}[i]` for a single
output per example (``target=None``) and :math:`f(x)_i = \text{out}[i, t_i]` for ``C``
classes (``target`` one class for all, or one per example).  Its gradient comes from one
backward pass with the cotangent :math:`\partial L/\partial\,\text{out} = \text{one-hot}(t)`,
so :math:`\partial L/\partial x_i = \nabla_{x_i} f(x)_i` for every example at once (the
examples do not interact in a model in eval mode).
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import backend
from ..autograd import Tensor, no_grad
from ..nn import Module


def require_callable(op: str, forward_func):
    """What an attribution method is built on: a model, or any function of the inputs."""
    if not callable(forward_func):
        raise TypeError(f"{op}: forward_func must be a model or a function of the inputs, "
                        f"got {type(forward_func).__name__}")
    return forward_func


def _module_of(forward_func):
    """The Module behind ``forward_func`` (itself, or the owner of a bound method), or None."""
    module = forward_func if isinstance(forward_func, Module) else getattr(forward_func, "__self__", None)
    return module if isinstance(module, Module) else None


def require_eval(op: str, forward_func) -> None:
    """A Module (or a Module's method) must be in eval mode when explained: in training mode dropout
    makes every call a different function, and an explanation of it means nothing.  (A plain
    function that calls a model cannot be looked into; keep its model in eval mode.)"""
    module = _module_of(forward_func)
    if module is not None and any(m.training for m in module.modules()):
        raise ValueError(f"{op}: the model {type(module).__name__} is in training mode (dropout active, "
                         "so every call gives a different answer); call model.eval() before explaining it")


def as_inputs(op: str, inputs) -> np.ndarray:
    """The inputs as a floating-point NumPy array with a batch axis: gradients need real numbers."""
    if isinstance(inputs, (tuple, list)) and inputs and isinstance(inputs[0], Tensor):
        raise TypeError(f"{op}: one input tensor is supported, got a {type(inputs).__name__} of "
                        f"{len(inputs)} tensors")
    x = backend.to_numpy(inputs.data) if isinstance(inputs, Tensor) else np.asarray(inputs)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: inputs must be floating point (attributions are gradients), got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"{op}: inputs must have a batch axis (N, ...), got a scalar")
    return x


def baselines_like(op: str, baselines, x: np.ndarray) -> np.ndarray:
    """The reference input x' for every example: None is zeros, a number fills, an array
    broadcasts to the inputs' shape (one baseline for all examples, or one each)."""
    if baselines is None:
        return np.zeros_like(x)
    b = backend.to_numpy(baselines.data) if isinstance(baselines, Tensor) else np.asarray(baselines, dtype=x.dtype)
    try:
        return np.broadcast_to(b.astype(x.dtype, copy=False), x.shape).copy()
    except ValueError:
        raise ValueError(f"{op}: baselines of shape {b.shape} do not broadcast to the inputs' shape "
                         f"{x.shape}") from None


def forward_args(additional_forward_args) -> tuple:
    """Captum's ``additional_forward_args``: None, one argument, or a tuple of them, passed to the
    model after the inputs."""
    if additional_forward_args is None:
        return ()
    return additional_forward_args if isinstance(additional_forward_args, tuple) else (additional_forward_args,)


def call(op: str, forward_func, x: Tensor, args) -> Tensor:
    out = forward_func(x, *args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: the model must return one Tensor of outputs, got {type(out).__name__}"
                        + (" (a module returning a tuple needs a function that picks the output)"
                           if isinstance(out, tuple) else ""))
    if out.ndim == 0 or out.shape[0] != x.shape[0]:
        raise ValueError(f"{op}: the model must return one output row per example: {x.shape[0]} inputs "
                         f"gave outputs of shape {out.shape}")
    return out


def as_target(op: str, target, n: int):
    """``target`` as None or one class index per example, ``(n,)`` int64 (an int is used for all)."""
    if target is None:
        return None
    t = np.asarray(backend.to_numpy(target.data) if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu" or t.ndim > 1:
        raise TypeError(f"{op}: target must be an int or one int per example, got {target!r}")
    if t.ndim == 1 and t.shape != (n,):
        raise ValueError(f"{op}: target must be one int or {n} ints (one per example), got {t.shape[0]}")
    return np.broadcast_to(t, (n,)).astype(np.int64)


def target_selector(op: str, out_shape: tuple, target) -> np.ndarray:
    """The one-hot cotangent that picks each example's explained output from ``out (N, ...)``;
    ``target`` is what :func:`as_target` returned."""
    n = out_shape[0]
    per_example = int(np.prod(out_shape[1:], dtype=np.int64))
    if target is None:
        if per_example != 1:
            raise ValueError(f"{op}: the model has {per_example} outputs per example (shape {out_shape}); "
                             "say which one to explain with target=")
        return np.ones(out_shape)
    if len(out_shape) != 2:
        raise ValueError(f"{op}: target= picks a class from outputs of shape (N, C), got outputs of shape "
                         f"{out_shape}")
    if n and (target.min() < 0 or target.max() >= per_example):
        bad = int(target[(target < 0) | (target >= per_example)][0])
        raise ValueError(f"{op}: target {bad} is out of range: the model has {per_example} outputs per "
                         f"example (targets 0..{per_example - 1})")
    onehot = np.zeros(out_shape)
    onehot[np.arange(n), target] = 1.0
    return onehot


def repeat_args(args: tuple, times: int) -> tuple:
    """Additional forward arguments for a batch that holds the examples ``times`` over (path points,
    noisy copies, occluded copies): arrays and Tensors are repeated along their first (batch) axis,
    anything else is passed as it is -- Captum's convention."""
    def repeat(a):
        if isinstance(a, Tensor):
            return Tensor(backend.array_module(a.data).concatenate([a.data] * times))
        if isinstance(a, np.ndarray):
            return np.concatenate([a] * times)
        return a
    return tuple(repeat(a) for a in args)


@contextlib.contextmanager
def frozen(forward_func):
    """Parameters stop asking for gradients while an explanation runs: the backward pass then
    computes only the input's gradient, and leaves the model's ``.grad`` as it found them."""
    module = _module_of(forward_func)
    params = [] if module is None else list(module.parameters())
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad = flag


def target_outputs(op: str, forward_func, x: np.ndarray, target, args=()) -> np.ndarray:
    """:math:`f(x)_i`, the explained output of every example, shape ``(N,)``, without a graph."""
    with no_grad():
        out = call(op, forward_func, Tensor(backend.asarray(x)), args)
    values = backend.to_numpy(out.data)
    return (values * target_selector(op, values.shape, target)).reshape(len(x), -1).sum(axis=1)


def gradients(op: str, forward_func, x: np.ndarray, target, args=()) -> tuple[np.ndarray, np.ndarray]:
    r"""``(f(x)_i (N,), \nabla_{x_i} f(x)_i (N, ...))``: the explained outputs and their gradient."""
    t = Tensor(backend.asarray(x), requires_grad=True)
    with frozen(forward_func):
        out = call(op, forward_func, t, args)
        values = backend.to_numpy(out.data)
        selector = target_selector(op, values.shape, target)
        if not out.requires_grad:
            raise ValueError(f"{op}: the model's output does not depend on its input through tinymed "
                             "operations, so it has no gradient")
        out.backward(backend.asarray(selector.astype(values.dtype)))
    grad = backend.to_numpy(t.grad) if t.grad is not None else np.zeros_like(x)
    return (values * selector).reshape(len(x), -1).sum(axis=1), grad
