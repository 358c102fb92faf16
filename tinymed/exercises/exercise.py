r"""What an exercise is: the functions a student writes, how each is graded, and the known mistakes
that explain a wrong answer.

An :class:`Exercise` (one file a student hands in) holds one or more :class:`Task`\ s (one function
each). A task knows

* its **reference solution** -- tinymed's own code, imported, behind the student's signature;
* its **inputs**: a hypothesis strategy of argument tuples (drawn, then shrunk to the smallest
  failing one), a few hand-picked non-degenerate ``examples`` (shapes, diagnosis, gradients) and
  named :class:`EdgeCase`\ s (padding, stride, masks, extreme logits, empty batches, ...);
* optionally a :class:`Gradient`: how the student's backward is checked against central
  differences of tinymed's forward, with :func:`tinymed.gradcheck.check_backward`;
* its :class:`Mistake`\ s: known wrong variants (one-sided padding, a mask applied after the
  softmax, ...), each a function with the reference's signature that computes what the mistake
  gives; an answer that matches one is diagnosed with its message;
* ``factors``: named constants of an input (the batch size N, ...), so that an answer off by a
  constant factor is told which one (a missing :math:`1/N`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``variant(*args)`` computes what the mistake ``name`` gives, and
    ``message`` is what a student whose answer matches it reads."""

    name: str
    message: str
    variant: Callable


@dataclass(frozen=True)
class EdgeCase:
    """One fixed input worth a point of its own: ``args()`` builds the argument tuple."""

    label: str
    args: Callable[[], tuple]


@dataclass(frozen=True)
class Gradient:
    r"""How a backward is checked against central differences of tinymed's forward.

    ``forward(*inputs)`` is tinymed's forward and ``names`` names its inputs;
    ``backward(fn, dy, *inputs)`` calls the student's function ``fn`` and returns the gradients of
    the inputs named in ``wrt`` (all of them when ``None``), in order; ``examples()`` gives inputs of
    ``forward`` to check at (float64, away from kinks and ties, where central differences are
    exact to :math:`O(\epsilon^2)`).
    """

    forward: Callable
    backward: Callable
    examples: Callable[[], list]
    names: tuple
    wrt: tuple | None = None


@dataclass(frozen=True)
class Task:
    """One function the student writes (see the module docstring).

    ``params`` are its parameter names and ``outputs`` the names of what it returns (one name: it
    returns that value; several: a tuple in that order). ``doc`` is its docstring in the student's
    file: the formula, the shapes, what it returns. ``cases()`` is a hypothesis strategy of argument
    tuples; ``examples()`` a list of them. ``tolerance`` bounds :func:`tinymed.gradcheck.relative_error`
    between the student's answer and the reference's.
    """

    name: str
    params: tuple
    outputs: tuple
    doc: str
    reference: Callable
    cases: Callable
    examples: Callable[[], list]
    edge_cases: tuple = ()
    gradient: Gradient | None = None
    mistakes: tuple = ()
    factors: Callable[..., dict] | None = None
    tolerance: float = 1e-6


@dataclass(frozen=True)
class Exercise:
    """A set of tasks handed out as one file: ``name`` (also the file's name), a one-line ``title``,
    the ``lesson`` that teaches it, the ``formula`` (LaTeX), an ``intro`` for the student and the
    file of tinymed that holds the ``source`` to compare with afterwards."""

    name: str
    title: str
    lesson: str
    formula: str
    intro: str
    tasks: tuple
    source: str
