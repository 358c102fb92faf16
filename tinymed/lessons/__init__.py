"""Lessons: the helpers every lesson uses, and the runner behind ``tinymed lessons`` and ``tinymed lesson N``.

A lesson needs only ``from tinymed.lessons import out_dir, quick, save_figure``.  The rest is the
runner, one idea to a file:

* :mod:`~tinymed.lessons.settings` -- :func:`out_dir` and :func:`quick`, read from the environment,
  and :func:`save_figure`, which saves a figure and still shows it in a notebook;
* :mod:`~tinymed.lessons.cells` -- the lesson format (start there), reading, finding, listing and
  copying lessons;
* :mod:`~tinymed.lessons.render` -- markdown and LaTeX math as terminal text, reflowed to its width;
* :mod:`~tinymed.lessons.display` -- a cell's value as the runner shows it (within a screen);
* :mod:`~tinymed.lessons.runner` -- running the code cells in one namespace, and stepping through them.
"""

from .cells import (
    LESSON_FILE,
    Cell,
    Lesson,
    LessonError,
    copy_lesson,
    find_lesson,
    find_lessons,
    format_listing,
    is_explicit_path,
    lessons_dir,
    parse_cells,
)
from .display import format_value
from .render import display_width, render_markdown, render_math
from .runner import CellFailed, discard_typeahead, execute_cell, run_lesson, use_agg_without_display
from .settings import DEFAULT_OUT, OutDirError, in_notebook, out_dir, quick, save_figure, writable_folder

__all__ = [
    "DEFAULT_OUT", "OutDirError", "out_dir", "quick", "save_figure", "in_notebook", "writable_folder",
    "LESSON_FILE", "Cell", "Lesson", "LessonError", "parse_cells", "lessons_dir", "find_lessons", "find_lesson",
    "is_explicit_path", "copy_lesson", "format_listing",
    "render_math", "render_markdown", "display_width", "format_value",
    "CellFailed", "discard_typeahead", "execute_cell", "run_lesson", "use_agg_without_display",
]
