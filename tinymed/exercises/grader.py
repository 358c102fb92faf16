"""Grading: the parts of an exercise, and running them on a student's functions in this process.

Every task is graded in parts, each worth its own points:

* **shapes** (1): on the hand-picked examples, the function runs and every output has the shape
  of the reference's;
* **agreement** (4): hypothesis draws inputs and looks for one where the answer differs from the
  reference's; if it finds one it *shrinks* it to the smallest failing input, which the report
  shows with the expected and the actual values and the diagnosis (:mod:`.diagnose`). The search
  is derandomised, so a submission gets the same grade every time;
* **gradient** (2, backward passes only): :func:`tinymed.gradcheck.check_backward` against central
  differences of tinymed's forward, every element, on the examples;
* **edge cases** (1 each): fixed inputs such as padding, stride, masks, extreme logits, an empty batch.

:func:`grade` runs them here, without a time limit (for notebooks and tests);
:func:`tinymed.exercises.sandbox.check_file` runs them on a file in a subprocess with one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import HypothesisException, NoSuchExample

from .. import backend
from ..gradcheck import check_backward
from .catalog import get
from .compare import NotWritten, StudentError, call, describe_exception, show, wrong_outputs
from .diagnose import diagnose
from .report import PartResult, Result

DRAWN_INPUTS = 50
"""How many inputs hypothesis draws for the agreement part of a task."""

SHRINK_BUDGET = 150
"""How many more inputs hypothesis may try, once it has found a failing one, to make it smaller."""

POINTS = {"shapes": 1, "agreement": 4, "gradient": 2, "edge": 1}

# derandomised: a submission gets the same grade every time; no "explain" phase: it costs seconds
_SEARCH = settings(max_examples=DRAWN_INPUTS, derandomize=True, database=None, deadline=None,
                   phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Part:
    """One graded part: ``kind`` is a key of :data:`POINTS`; ``edge`` indexes the task's edge cases."""

    task: object
    kind: str
    edge: int = -1

    @property
    def name(self) -> str:
        what = {"shapes": "runs and returns the right shapes",
                "agreement": f"agrees with tinymed on {DRAWN_INPUTS} drawn inputs",
                "gradient": "gradients match central differences"}.get(self.kind)
        return f"{self.task.name}: {what or 'edge case: ' + self.task.edge_cases[self.edge].label}"

    @property
    def points(self) -> int:
        return POINTS[self.kind]


def parts(exercise) -> list:
    """Every :class:`Part` of ``exercise``, in the order they are graded and reported."""
    found = []
    for task in exercise.tasks:
        found += [Part(task, "shapes"), Part(task, "agreement")]
        if task.gradient is not None:
            found.append(Part(task, "gradient"))
        found += [Part(task, "edge", k) for k in range(len(task.edge_cases))]
    return found


def _mismatch_report(task, fn, args, headline) -> tuple:
    """``(text, mistakes)``: the input, the expected and actual outputs that differ, the diagnosis."""
    lines = [headline] + [f"    {name} = {show(a, ' ' * (len(name) + 7))}" for name, a in zip(task.params, args)]
    expected = call(task.reference, args, task.outputs)
    try:
        actual = call(fn, args, task.outputs)
    except StudentError as exc:
        return "\n".join(lines + [f"{task.name} failed: {exc}"]), []
    for j in wrong_outputs(actual, expected, task.tolerance):
        lines += [f"{task.outputs[j]}: expected", f"    {show(expected[j])}", "  got", f"    {show(actual[j])}"]
    found = diagnose(task, fn, [args] + list(task.examples()))
    lines += ["diagnosis:"] + [f"  - {d}" for d in found] if found else []
    return "\n".join(lines), [d.mistake for d in found]


def _agrees(task, fn, args) -> bool:
    try:
        return not wrong_outputs(call(fn, args, task.outputs), call(task.reference, args, task.outputs),
                                 task.tolerance)
    except StudentError:
        return False


def _shapes(task, fn):
    for args in task.examples():
        expected = call(task.reference, args, task.outputs)
        actual = call(fn, args, task.outputs)
        wrong = [f"{n}: expected shape {e.shape}, got {a.shape}" for n, e, a in zip(task.outputs, expected, actual)
                 if a.shape != e.shape]
        if wrong:
            return _mismatch_report(task, fn, args, "\n".join(wrong) + "\non the input")
    return "", []


def _same(a, b) -> bool:
    """Two argument tuples are the same, bit for bit (NaN included)."""
    return all(x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()
               if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) else x is y or x == y
               for x, y in zip(a, b))


def _agreement(task, fn):
    """Search for an input where ``fn`` disagrees with the reference, and shrink it.

    Shrinking is cut short after :data:`SHRINK_BUDGET` more tries (most of the shrinking is done by
    then, and a slow wrong answer would otherwise keep the student waiting): from then on only the
    smallest failure found so far counts as failing, so hypothesis settles on it.
    """
    found = {"smallest": None, "tries": 0}

    def fails(args):
        if found["smallest"] is not None:
            found["tries"] += 1
            if found["tries"] > SHRINK_BUDGET:
                return _same(args, found["smallest"])
        if _agrees(task, fn, args):
            return False
        found["smallest"] = args
        return True

    try:
        args = find(task.cases(), fails, settings=_SEARCH)
    except NoSuchExample:
        return "", []
    except HypothesisException:  # its replay disagreed with the cut-short search: keep the last failure
        args = found["smallest"]
    return _mismatch_report(task, fn, args, "smallest failing input (shrunk by hypothesis):")


def _gradient(task, fn):
    grad = task.gradient
    wrt = [grad.names.index(name) for name in grad.wrt or grad.names]
    for inputs in grad.examples():
        try:
            with np.errstate(all="ignore"):
                report = check_backward(grad.forward, lambda dy, *x: grad.backward(fn, dy, *x), *inputs, wrt=wrt)
        except (Exception, SystemExit) as exc:
            return f"the gradient check could not run:\n    {describe_exception(exc)}", []
        if not report.passed:
            for r, i in zip(report.inputs, wrt):
                r.name = f"gradient of {grad.names[i]}"
            return str(report), []
    return "", []


def run_part(part, fn) -> PartResult:
    """Grade one part on the student's function ``fn`` (``None`` when the file does not define it)."""
    task = part.task
    if fn is None:
        return PartResult(part.name, 0, part.points, f"{task.name} is not defined in the file")
    try:
        call(fn, task.examples()[0], task.outputs)
    except NotWritten:
        return PartResult(part.name, 0, part.points, f"{task.name} is not written yet (it raises NotImplementedError)")
    except StudentError:
        pass  # the part itself reports it, with the input
    try:
        if part.kind == "shapes":
            text, mistakes = _shapes(task, fn)
        elif part.kind == "agreement":
            text, mistakes = _agreement(task, fn)
        elif part.kind == "gradient":
            text, mistakes = _gradient(task, fn)
        else:
            edge = task.edge_cases[part.edge]
            args = edge.args()
            text, mistakes = ("", []) if _agrees(task, fn, args) else _mismatch_report(
                task, fn, args, f"edge case {edge.label}: the input")
    except StudentError as exc:
        text, mistakes = f"{task.name} failed: {exc}", []
    return PartResult(part.name, 0 if text else part.points, part.points, text, mistakes)


def functions_of(namespace, exercise) -> dict:
    """The student's function of every task, from a module or a dict (``None`` where missing)."""
    get = namespace.get if isinstance(namespace, dict) else lambda name: getattr(namespace, name, None)
    return {t.name: get(t.name) for t in exercise.tasks}


def grade(exercise, namespace, only=None) -> Result:
    """Grade the functions in ``namespace`` (a module, or a dict such as a notebook's ``globals()``)
    on every part of ``exercise`` (an :class:`~tinymed.exercises.exercise.Exercise` or its name),
    here and without a time limit, on the NumPy backend. ``only`` names the functions to grade
    (default: all of them), for a student who writes one at a time."""
    exercise = get(exercise) if isinstance(exercise, str) else exercise
    fns = functions_of(namespace, exercise)
    unknown = set(only or ()) - set(fns)
    if unknown:
        raise ValueError(f"grade: exercise {exercise.name!r} has no function(s) {sorted(unknown)}; "
                         f"its functions are {', '.join(fns)}")
    start = time.perf_counter()
    with backend.using("numpy"):
        results = [run_part(p, fns[p.task.name]) for p in parts(exercise) if not only or p.task.name in only]
    return Result(exercise.name, exercise.title, results, execution_time=time.perf_counter() - start)
