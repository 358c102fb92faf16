r"""Diagnosis: which known mistake explains a wrong answer.

For each output the student got wrong, the answer is compared with

1. the task's own :class:`~tinymed.exercises.exercise.Mistake`\ s: wrong variants of the reference
   (one-sided padding, a mask applied after the softmax, truncated backpropagation through time...);
2. transformations of the right answer that every task shares: NaN or inf where the answer is
   finite (an overflow), all zeros (a missing term), the sign flipped, two axes swapped
   (transposed), one value per sample where the sum over the batch belongs, and a constant factor
   :math:`c` -- named when :math:`c` or :math:`1/c` is one of the task's ``factors`` (the batch
   size, a :math:`\sqrt d`) or 2.

A mistake counts only if it explains the output on *every* failing input tried: the smallest
one hypothesis found and the task's hand-picked examples, so a degenerate input (a 1x1 matrix is
its own transpose) cannot make two mistakes look alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compare import StudentError, call, close, wrong_outputs


@dataclass(frozen=True)
class Diagnosis:
    """``mistake`` (a short key, e.g. ``"transposed"``) explains the outputs ``outputs``."""

    mistake: str
    message: str
    outputs: tuple

    def __str__(self):
        return f"{', '.join(self.outputs)}: {self.message}"


def _factor_message(c, factors):
    for label, value in list(factors.items()) + [("2", 2.0)]:
        if value not in (0, 1) and np.isclose(c, value, rtol=1e-6):
            return f"{label} times the right answer: a missing division by {label}?"
        if value not in (0, 1) and np.isclose(c * value, 1.0, rtol=1e-6):
            return f"the right answer divided by {label}: an extra division by {label}, or a mean where a sum belongs?"
    return f"{c:.4g} times the right answer: off by a constant factor"


def shared_mistakes(actual, expected, tolerance, factors):
    """``[(mistake, message)]`` of the transformations every task shares (see the module docstring)."""
    a, e = actual, expected
    found = []
    if a.shape == e.shape and np.isfinite(e).all() and not np.isfinite(a).all():
        found.append(("nonfinite", "NaN or inf where the answer is finite: an overflow (exp of a large "
                                   "number?) or a division by zero"))
    if a.shape == e.shape and not a.any() and not close(e, np.zeros_like(e), tolerance):
        found.append(("zeros", "zero everywhere: that term or gradient is missing"))
    if close(a, -e, tolerance):
        found.append(("sign", "the sign is flipped"))
    for axes in ((-1, -2), (0, 1)):
        if e.ndim >= 2 and close(a, np.swapaxes(e, *axes), tolerance):
            found.append(("transposed", "transposed (two of its axes are swapped)"))
            break
    if a.ndim == e.ndim + 1 and close(a.sum(axis=0), e, tolerance):
        found.append(("not_summed_over_batch", "not summed over the batch: one value per sample where "
                                               "their sum belongs (sum over axis 0)"))
    if a.shape == e.shape and np.isfinite(a).all() and np.isfinite(e).all() and (e * e).sum() > 0:
        c = float((a * e).sum() / (e * e).sum())
        if abs(c) > 1e-9 and not np.isclose(c, 1.0) and not np.isclose(c, -1.0) and close(a, c * e, tolerance):
            found.append(("factor", _factor_message(c, factors)))
    return found


def _explanations(task, args, actual, expected, j):
    """Every ``(mistake, message)`` that explains output ``j`` of ``actual`` at ``args``."""
    found = []
    for mistake in task.mistakes:
        try:
            variant = call(mistake.variant, args, task.outputs)
        except StudentError:
            continue
        if not close(variant[j], expected[j], task.tolerance) and close(actual[j], variant[j], task.tolerance):
            found.append((mistake.name, mistake.message))
    factors = task.factors(*args) if task.factors else {}
    return found + shared_mistakes(actual[j], expected[j], task.tolerance, factors)


def diagnose(task, fn, failing_args) -> list:
    """The :class:`Diagnosis` of every mistake that explains, on each of ``failing_args`` where the
    student is wrong, the same wrong outputs."""
    per_output = {}
    for args in failing_args:
        expected = call(task.reference, args, task.outputs)
        try:
            actual = call(fn, args, task.outputs)
        except StudentError:
            continue
        for j in wrong_outputs(actual, expected, task.tolerance):
            found = _explanations(task, args, actual, expected, j)
            per_output[j] = [m for m in per_output[j] if m in found] if j in per_output else found
    by_mistake = {}
    for j in sorted(per_output):
        for mistake in per_output[j]:
            by_mistake.setdefault(mistake, []).append(task.outputs[j])
    return [Diagnosis(key, message, tuple(outputs)) for (key, message), outputs in by_mistake.items()]
