r"""The lesson format: a lesson file read into :class:`Cell`\ s, and the lessons found and listed.

A lesson is a plain Python script ``lessons/NN_name.py`` in jupytext's "percent" format, so it
runs with ``python lessons/NN_name.py`` and opens as a notebook in Jupyter or VS Code::

    # %% [markdown]
    # # Lesson 02 — Convolution
    # One line that says what the lesson shows (``tinymed lessons`` lists it).
    #
    # The explanation, with the article's formula: $y_{ij} = \sum_k x_{ik} w_{kj} + b_j$.

    # %%
    import tinymed
    ...
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

LESSON_FILE = re.compile(r"^(\d{2})_[A-Za-z0-9_]+\.py$")
_CELL_MARKER = re.compile(r"^# %%(.*)$")
_TITLE = re.compile(r"^#\s+Lesson\s+(\d+)\s*[—–:-]\s*(\S.*)$")


class LessonError(ValueError):
    """A lesson file that does not follow the format, or a lesson that does not exist."""


# ----- reading a lesson -------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One cell: ``kind`` is "markdown" or "code"; ``source`` is the markdown text (comment marks
    removed) or the code; ``line`` is the file line where the content starts; ``number`` counts
    all cells of the lesson from 1."""

    kind: str
    source: str
    line: int
    number: int

    @property
    def first_code_line(self) -> str:
        """The first line that is neither blank nor a comment (what a failure report quotes)."""
        for text in self.source.splitlines():
            if text.strip() and not text.lstrip().startswith("#"):
                return text.strip()
        return ""


def parse_cells(text: str) -> list[Cell]:
    """Split a percent-format script into cells.

    ``# %%`` starts a code cell, ``# %% [markdown]`` (or ``[md]``) a markdown cell whose lines
    are comments (``# text``; a bare ``#`` is an empty line).  Text before the first marker is a
    code cell.  Blank lines around a cell are dropped, and so are cells with nothing in them.
    """
    cells: list[Cell] = []
    kind, start, body = "code", 1, []

    def close():
        lines = body[:]
        first = start
        while lines and not lines[0].strip():
            lines.pop(0)
            first += 1
        while lines and not lines[-1].strip():
            lines.pop()
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        if any(line.strip() for line in lines):
            cells.append(Cell(kind, "\n".join(lines), first, len(cells) + 1))

    for number, line in enumerate(text.splitlines(), start=1):
        marker = _CELL_MARKER.match(line)
        if marker:
            close()
            options = marker.group(1)
            kind = "markdown" if ("[markdown]" in options or "[md]" in options) else "code"
            start, body = number + 1, []
        else:
            body.append(line)
    close()
    return cells


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.strip() == "#":
        return ""
    return line[1:] if line.startswith("#") else line


@dataclass
class Lesson:
    """A lesson file: its number, title, one-line summary and cells."""

    number: int
    path: Path
    title: str
    summary: str
    cells: list

    @classmethod
    def from_file(cls, path) -> Lesson:
        """Read and check a lesson file (see the module docstring for the format)."""
        path = Path(path).absolute()  # tracebacks then name the file wherever the lesson runs from
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise LessonError(f"cannot read lesson file {path}: {exc}") from None
        cells = parse_cells(text)
        number, title, summary = _header(cells, path)
        named = LESSON_FILE.match(path.name)
        if named and int(named.group(1)) != number:
            raise LessonError(
                f"{path}: the file name says lesson {named.group(1)} but its title says lesson {number:02d}"
            )
        return cls(number, path, title, summary, cells)

    @property
    def code_cells(self) -> list:
        return [c for c in self.cells if c.kind == "code"]

    @property
    def installed(self) -> bool:
        """True for the copy installed inside the package (``tinymed/_lessons``), which a student
        should not edit: :func:`copy_lesson` makes an editable copy."""
        return self.path.parent == _installed_dir()


def _header(cells, path):
    expected = "a first cell '# %% [markdown]' whose first line is '# Lesson NN — Title'"
    if not cells or cells[0].kind != "markdown":
        got = "no cells" if not cells else f"a {cells[0].kind} cell at line {cells[0].line}"
        raise LessonError(f"{path}: expected {expected}, got {got}")
    lines = [line.strip() for line in cells[0].source.splitlines() if line.strip()]
    title = _TITLE.match(lines[0])
    if not title:
        raise LessonError(f"{path}: expected {expected}, got {lines[0]!r}")
    if len(lines) < 2 or lines[1].startswith("#"):
        raise LessonError(f"{path}: expected a one-line summary after the title {lines[0]!r}")
    return int(title.group(1)), title.group(2).strip(), lines[1]


# ----- finding lessons ------------------------------------------------------------------
def _installed_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "_lessons"  # tinymed/_lessons


def _checkout_lessons(start: Path):
    """The ``lessons/`` folder of the tinymed checkout that contains ``start``, or None."""
    for folder in (start, *start.parents):
        project, lessons = folder / "pyproject.toml", folder / "lessons"
        if not project.is_file():
            continue
        try:
            text = project.read_text(encoding="utf-8")
        except OSError:
            return None
        named = re.search(r'^name\s*=\s*"tinymed"', text, re.MULTILINE)
        return lessons if named and lessons.is_dir() else None
    return None


def lessons_dir() -> Path:
    """Where ``tinymed lesson N`` finds lesson N, in this order:

    1. the ``lessons/`` folder of the tinymed checkout you are working in (the current folder or
       one above it), so that a student who edits ``lessons/02_convolution.py`` in a clone runs
       the edit, even where ``pip install .`` put another copy inside the package;
    2. the checkout tinymed itself is imported from (an editable install);
    3. the copy installed inside the package (``tinymed/_lessons``, mapped from ``lessons/`` in
       ``pyproject.toml``) -- to edit one of those, copy it out with :func:`copy_lesson`.
    """
    try:
        here = Path.cwd()
    except OSError:  # the current folder was deleted
        here = None
    package = Path(__file__).resolve().parents[1]
    for start in (here, package.parent):
        found = _checkout_lessons(start) if start is not None else None
        if found is not None:
            return found
    return _installed_dir()


def find_lessons(directory=None) -> list[Lesson]:
    """Every ``NN_name.py`` lesson in ``directory`` (default :func:`lessons_dir`), by number."""
    directory = Path(directory) if directory is not None else lessons_dir()
    if not directory.is_dir():
        raise LessonError(f"no lessons folder at {directory}")
    paths = sorted(p for p in directory.iterdir() if LESSON_FILE.match(p.name))
    found = [Lesson.from_file(p) for p in paths]
    numbers = [lesson.number for lesson in found]
    for n in sorted(set(numbers)):
        if numbers.count(n) > 1:
            names = ", ".join(lesson.path.name for lesson in found if lesson.number == n)
            raise LessonError(f"{directory}: more than one lesson is numbered {n:02d}: {names}")
    return found


def is_explicit_path(key: str) -> bool:
    """Whether ``key`` names a file by its path (``./02_convolution.py``, ``my/02_x.py``) rather
    than a lesson by its number or name: only a path runs a file that is not one of the lessons."""
    return any(sep and sep in key for sep in (os.sep, os.altsep, "/"))


def find_lesson(key, directory=None) -> Lesson:
    """A lesson by number (``2`` or ``"02"``) or by name (``"02_convolution"`` or
    ``"02_convolution.py"``), looked up among the lessons of ``directory`` (default
    :func:`lessons_dir`) only; or a lesson file by an explicit path (``./02_convolution.py``).
    A bare name is never looked up in the current folder."""
    key = str(key)
    if is_explicit_path(key):
        return Lesson.from_file(key)
    available = find_lessons(directory)
    for lesson in available:
        if (key.isdigit() and int(key) == lesson.number) or key in (lesson.path.stem, lesson.path.name):
            return lesson
    numbers = ", ".join(f"{lesson.number:02d}" for lesson in available) or "none"
    hint = f"; to run the file {key} in this folder, give its path: ./{key}" if Path(key).is_file() else ""
    raise LessonError(
        f"no lesson {key!r}: expected a lesson number, a lesson name or a path to a lesson file; "
        f"available lessons: {numbers} ('tinymed lessons' lists them){hint}"
    )


def copy_lesson(lesson: Lesson, directory) -> Path:
    """Copy ``lesson``'s file into ``directory`` (created) for a student to edit; return the new
    path.  An existing file of that name is never overwritten."""
    directory = Path(directory)
    target = directory / lesson.path.name
    if target.exists():
        raise LessonError(f"{target} already exists; not overwritten (remove it, or copy to another folder)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lesson.path, target)
    except OSError as exc:
        raise LessonError(f"cannot copy lesson {lesson.number:02d} to {directory}: {exc.strerror or exc}") from None
    return target


def format_listing(lessons) -> str:
    """Number, title and summary of each lesson, for ``tinymed lessons``."""
    lines = []
    for lesson in lessons:
        lines.append(f"{lesson.number:02d}  {lesson.title}")
        lines.append(f"    {lesson.summary}")
    return "\n".join(lines)
