"""The course kit: exercises students write themselves, and an autograder that explains their mistakes.

``tinymed exercise list | start NAME | check FILE | build --to DIR`` on the command line; in Python::

    from tinymed.exercises import grade
    print(grade("linear_backward", {"linear_backward": my_linear_backward}))

One idea to a file:

* :mod:`~tinymed.exercises.exercise` -- what an exercise is (tasks, edge cases, gradients, mistakes);
* :mod:`~tinymed.exercises.catalog` -- the exercises, one file per family, each task's reference
  solution being tinymed's own code;
* :mod:`~tinymed.exercises.grader` -- the graded parts, run here (:func:`grade`);
* :mod:`~tinymed.exercises.compare`, :mod:`~tinymed.exercises.diagnose` -- calling a student's
  function, comparing its answer, and naming the known mistake that explains a wrong one;
* :mod:`~tinymed.exercises.sandbox`, :mod:`~tinymed.exercises.worker` -- grading a file in a
  subprocess with a time limit (:func:`check_file`);
* :mod:`~tinymed.exercises.report` -- the scores, the report a student reads, Gradescope's JSON;
* :mod:`~tinymed.exercises.templates`, :mod:`~tinymed.exercises.loading` -- the files handed out
  and the files handed in;
* :mod:`~tinymed.exercises.cli` -- the ``tinymed exercise`` command.

Grading needs hypothesis (``pip install 'tinymed[course]'``); this package loads it, and the
exercises, only when something here is used, so that ``tinymed`` itself starts fast.
"""

import importlib

_PUBLIC = {
    "grade": "grader", "parts": "grader", "check_file": "sandbox", "Result": "report", "PartResult": "report",
    "EXERCISES": "catalog", "get": "catalog", "student_source": "templates", "solution_source": "templates",
    "notebook_source": "templates", "build": "templates",
}


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_PUBLIC)
