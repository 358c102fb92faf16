r"""Gradient checking by central differences (article formula F2, verified).

For a function :math:`y = f(x_1, \dots, x_m)` we draw a fixed random cotangent :math:`r` of
the output's shape and compare, for **every element** of every input, the hand-written
backward pass

.. math:: a = \frac{\partial}{\partial x}\, \langle r, f(x) \rangle \quad\text{(one call of backward)}

with the central difference

.. math:: n_i = \frac{\langle r, f(x + \epsilon e_i)\rangle - \langle r, f(x - \epsilon e_i)\rangle}{2\epsilon},

whose error is :math:`O(\epsilon^2)`.  The two are compared with :func:`relative_error`,
defined once here and used everywhere (tests, lessons, the ``tinymed gradcheck`` command).
Use float64: in float32 the rounding error of the difference swamps the comparison.

:func:`check` differentiates a function of tinymed Tensors through tinymed's autograd;
:func:`check_backward` checks anyone's hand-written pair of plain NumPy functions
``forward(*inputs)`` and ``backward(dy, *inputs)`` -- a course's kernels that never touch tinymed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import backend
from .autograd import Tensor, no_grad

# Relative errors at or below this pass.  Central differences in float64 with eps=1e-6 are
# accurate to about 1e-10 relative; a wrong derivative is off by O(1).
TOLERANCE = 1e-7


def relative_error(analytic, numeric):
    r"""Elementwise :math:`|a - n| / \max(|a|, |n|, 1)`.

    Relative where the gradient is larger than 1, absolute where it is smaller, so values
    that are (close to) zero are not compared relative to round-off.
    """
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1.0)


@dataclass
class InputReport:
    """How one input's gradient compared with central differences."""

    name: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple
    analytic: float
    numeric: float


@dataclass
class Report:
    """Result of :func:`check`: one :class:`InputReport` per input that requires a gradient."""

    inputs: list = field(default_factory=list)
    tolerance: float = TOLERANCE

    @property
    def max_rel_error(self) -> float:
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    @property
    def max_abs_error(self) -> float:
        return max((r.max_abs_error for r in self.inputs), default=0.0)

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= self.tolerance

    def __bool__(self):
        return self.passed

    def __str__(self):
        lines = [f"gradient check: {'PASS' if self.passed else 'FAIL'} "
                 f"(worst relative error {self.max_rel_error:.2e}, tolerance {self.tolerance:.0e})"]
        for r in self.inputs:
            lines.append(
                f"  {r.name} {r.shape}: max rel {r.max_rel_error:.2e}, max abs {r.max_abs_error:.2e} "
                f"at {r.worst_index} (backward {r.analytic:.6g}, central difference {r.numeric:.6g})"
            )
        return "\n".join(lines)


def _directional_difference(evaluate, cotangents, flat, k, eps):
    """``<r, f(x + eps e_k) - f(x - eps e_k)> / (2 eps)``, summed over the outputs of ``evaluate``.

    ``evaluate()`` returns a list of (copied) outputs, ``cotangents`` one ``r`` per output. The
    outputs are subtracted before they are summed, so the round-off stays proportional to the
    outputs that actually changed, not to the size of the whole output.
    """
    xp = backend.array_module(flat)
    original = flat[k].item()
    flat[k] = original + eps
    plus = evaluate()
    flat[k] = original - eps
    minus = evaluate()
    flat[k] = original
    return sum(float(xp.sum((p - m) * r)) for p, m, r in zip(plus, minus, cotangents)) / (2 * eps)


def _input_report(name, analytic, numeric) -> InputReport:
    """How the gradient ``analytic`` of one input compares with its central differences ``numeric``."""
    rel = relative_error(analytic, numeric)
    worst = np.unravel_index(int(np.argmax(rel)), rel.shape) if rel.size else ()
    return InputReport(
        name=name,
        shape=tuple(numeric.shape),
        max_abs_error=float(np.max(np.abs(analytic - numeric), initial=0.0)),
        max_rel_error=float(np.max(rel, initial=0.0)),
        worst_index=tuple(int(v) for v in worst),
        analytic=float(analytic[worst]) if rel.size else 0.0,
        numeric=float(numeric[worst]) if rel.size else 0.0,
    )


def _central_differences(evaluate, cotangents, x, eps):
    """The central difference of every element of the contiguous array ``x``, shaped like it."""
    numeric = np.empty(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: perturbing it perturbs the input
    for k in range(flat.size):
        numeric.reshape(-1)[k] = _directional_difference(evaluate, cotangents, flat, k, eps)
    return numeric


def check(fn, *inputs, eps: float = 1e-6, tolerance: float = TOLERANCE, seed: int = 0) -> Report:
    """Compare the backward pass of ``fn(*inputs)`` with central differences, element by element.

    ``inputs`` are Tensors; those with ``requires_grad=True`` are checked (use float64).
    ``fn`` returns a Tensor of any shape.  Returns a :class:`Report`.
    """
    checked = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("check: no input has requires_grad=True, so there is nothing to check")
    for i, t in checked:
        if t.dtype != np.float64:
            raise TypeError(f"check: input {i} has dtype {t.dtype}; gradient checks need float64")

    for _, t in checked:
        t.grad = None
        t.data = backend.array_module(t.data).ascontiguousarray(t.data)
    y = fn(*inputs)
    if not isinstance(y, Tensor):
        raise TypeError(f"check: fn must return a Tensor, got {type(y).__name__}")
    xp = backend.array_module(y.data)
    r = backend.asarray(np.random.default_rng(seed).standard_normal(y.shape))
    y.backward(r.astype(y.dtype))

    def evaluate():
        return [fn(*inputs).data.copy()]  # a copy: the output may be a view of the input we perturb

    report = Report(tolerance=tolerance)
    for i, t in checked:
        analytic = backend.to_numpy(t.grad if t.grad is not None else xp.zeros_like(t.data))
        with no_grad():
            numeric = _central_differences(evaluate, [r], t.data, eps)
        report.inputs.append(_input_report(f"input {i}", analytic, numeric))
    return report


def check_backward(forward, backward, *inputs, wrt=None, eps: float = 1e-6, tolerance: float = TOLERANCE,
                   seed: int = 0) -> Report:
    r"""Compare a hand-written ``backward`` with central differences of ``forward``, element by element.

    For plain NumPy functions -- a course's kernels that never touch tinymed's autograd:

    * ``forward(*inputs)`` returns an array, or a tuple of arrays;
    * ``backward(dy, *inputs)`` receives the cotangent ``dy`` (an array shaped like the output,
      or a tuple of them) and returns :math:`\partial \langle dy, y\rangle / \partial x` for every
      checked input, in order: a tuple, or one array when one input is checked.

    ``wrt`` lists the indices of the inputs to check (default: every floating-point NumPy array;
    integer targets, strides and the like are passed through untouched); they must be float64.
    ``inputs`` are copied, never changed.  Returns a :class:`Report`, as :func:`check` does::

        >>> def forward(x, w):
        ...     return x @ w.T
        >>> def backward(dy, x, w):
        ...     return dy @ w, dy.T @ x
        >>> rng = np.random.default_rng(0)
        >>> check_backward(forward, backward, rng.standard_normal((3, 4)), rng.standard_normal((2, 4))).passed
        True
    """
    inputs = [np.array(a, order="C") if isinstance(a, np.ndarray) else a for a in inputs]  # copies, C order
    if wrt is None:
        wrt = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    wrt = list(wrt)
    if not wrt:
        raise ValueError("check_backward: no input is a floating-point array, so there is nothing to check")
    for i in wrt:
        if not (isinstance(inputs[i], np.ndarray) and inputs[i].dtype == np.float64):
            got = inputs[i].dtype if isinstance(inputs[i], np.ndarray) else type(inputs[i]).__name__
            raise TypeError(f"check_backward: input {i} is {got}; gradient checks need float64 NumPy arrays")

    def outputs(y):
        return [np.array(v, dtype=np.float64) for v in (y if isinstance(y, tuple) else (y,))]

    y = forward(*inputs)
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(v.shape) for v in outputs(y)]
    dy = tuple(cotangents) if isinstance(y, tuple) else cotangents[0]
    grads = backward(dy, *[np.array(a) if isinstance(a, np.ndarray) else a for a in inputs])
    grads = list(grads) if isinstance(grads, tuple) else [grads]
    if len(grads) != len(wrt):
        raise ValueError(f"check_backward: backward returned {len(grads)} gradient(s) for the {len(wrt)} "
                         f"checked input(s) {wrt}")

    report = Report(tolerance=tolerance)
    for i, g in zip(wrt, grads):
        analytic = np.asarray(g, dtype=np.float64)
        if analytic.shape != inputs[i].shape:
            raise ValueError(f"check_backward: the gradient of input {i} has shape {analytic.shape}, "
                             f"the input has shape {inputs[i].shape}")
        numeric = _central_differences(lambda: outputs(forward(*inputs)), cotangents, inputs[i], eps)
        report.inputs.append(_input_report(f"input {i}", analytic, numeric))
    return report
