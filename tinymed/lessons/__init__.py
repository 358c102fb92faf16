"""Lessons: the helpers every lesson uses, and the runner behind ``tinymed lessons`` and ``tinymed lesson N``.

A lesson needs only ``from tinymed.lessons import out_dir, quick``.  The rest is the runner,
one idea to a file:

* :mod:`~tinymed.lessons.settings` -- :func:`out_dir` and :func:`quick`, read from the environment;
* :mod:`~tinymed.lessons.cells` -- the lesson format (start there), reading, finding and listing lessons;
* :mod:`~tinymed.lessons.render` -- markdown and LaTeX math as terminal text;
* :mod:`~tinymed.lessons.runner` -- running the code cells in one namespace, and stepping through them.
"""

from .cells import (
    LESSON_FILE,
    Cell,
    Lesson,
    LessonError,
    find_lesson,
    find_lessons,
    format_listing,
    lessons_dir,
    parse_cells,
)
from .render import render_markdown, render_math
from .runner import CellFailed, execute_cell, run_lesson, use_agg_without_display
from .settings import DEFAULT_OUT, out_dir, quick

__all__ = [
    "DEFAULT_OUT", "out_dir", "quick",
    "LESSON_FILE", "Cell", "Lesson", "LessonError", "parse_cells", "lessons_dir", "find_lessons", "find_lesson",
    "format_listing",
    "render_math", "render_markdown",
    "CellFailed", "execute_cell", "run_lesson", "use_agg_without_display",
]
