r"""The runner behind ``tinymed lesson N``: a lesson's code cells run as a notebook runs them.

The runner reads a lesson into :class:`Cell`\ s and runs the code cells one after another in
one namespace, as a notebook does, and says which file it runs (an edit to that file is what a
rerun picks up).  Straight through, it prints the lesson's section headings, what each cell
prints, and the value of a cell's last expression -- summarised when it is longer than a screen,
and left out when it is a matplotlib object (the figure is saved instead).  Stepping
(``--step``) shows each code cell together with the explanation in front of it -- the markdown
rendered for a terminal, then the code, then its output -- and waits: Enter goes on, ``r`` runs
the cell again (re-reading the file, so an edit made meanwhile takes effect), ``q`` stops.  Keys
pressed while a cell runs are discarded, so an impatient Enter never skips the next explanation.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import sys
import traceback
from pathlib import Path

from .cells import Cell, Lesson, parse_cells
from .display import format_value
from .render import _DIM, _RESET, display_width, render_markdown, terminal_width
from .settings import out_dir


class CellFailed(Exception):
    """A lesson's cell raised: names the lesson, the cell number, its first code line and the error."""

    def __init__(self, lesson: Lesson, cell: Cell, error: BaseException):
        self.lesson, self.cell, self.error = lesson, cell, error
        super().__init__(
            f"lesson {lesson.number:02d} ({lesson.path.name}) failed in cell {cell.number} of "
            f"{len(lesson.cells)} (line {cell.line}: {cell.first_code_line}): "
            f"{type(error).__name__}: {error}"
        )

    def report(self) -> str:
        """The message above, then the traceback from the lesson's own line onwards."""
        tb = self.error.__traceback__
        lesson_file = str(self.lesson.path)
        while tb is not None and tb.tb_frame.f_code.co_filename != lesson_file:
            tb = tb.tb_next
        details = "".join(traceback.format_exception(type(self.error), self.error, tb))
        return f"{self}\n\n{details.rstrip()}"


def use_agg_without_display() -> None:
    """Draw into files (matplotlib's Agg backend) where no display can show a window."""
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if headless and not os.environ.get("MPLBACKEND"):
        import matplotlib

        matplotlib.use("Agg")


def execute_cell(cell: Cell, namespace: dict, filename: str):
    """Run a code cell in ``namespace``; return the value of its last line if that is an
    expression (``None`` if it is not, or if the line ends with ``;``), as a notebook shows it.

    The code is compiled as lines of ``filename``, so tracebacks quote the lesson's own lines.
    """
    padded = "\n" * (cell.line - 1) + cell.source
    tree = ast.parse(padded, filename, "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not cell.source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    return eval(compile(last, filename, "eval"), namespace) if last is not None else None


class _Screen:
    """What the runner prints, to ``stream`` (read at print time, so captured output works)."""

    def __init__(self, stream=None, width=None):
        self._stream = stream
        self.width = width or terminal_width()

    @property
    def stream(self):
        return self._stream or sys.stdout

    @property
    def color(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ

    def print(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def rule(self, label: str) -> None:
        line = f"── {label} " + "─" * max(4, self.width - 4 - display_width(label))
        self.print(f"{_DIM}{line}{_RESET}" if self.color else line)

    def code(self, cell: Cell) -> None:
        for offset, text in enumerate(cell.source.splitlines()):
            self.print(f"{cell.line + offset:4d} │ {text}")

    def markdown(self, text: str) -> None:
        self.print()
        self.print(render_markdown(text, self.color, self.width))


_FIGURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".svg", ".pdf", ".gif"}


def _files(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.glob("*") if p.is_file()} if folder.is_dir() else {}


def discard_typeahead(stream=None) -> None:
    """Forget the keys typed into terminal ``stream`` (default stdin) but not yet read: an Enter
    pressed while a long cell ran must not answer the prompt that follows it."""
    stream = stream or sys.stdin
    if not getattr(stream, "isatty", lambda: False)():
        return
    try:
        import termios
    except ImportError:  # Windows: no terminal line discipline to flush
        return
    try:
        termios.tcflush(stream.fileno(), termios.TCIFLUSH)
    except (termios.error, OSError, ValueError):
        pass


def _ask(read, screen: _Screen, prompt: str, choices: dict) -> str:
    """Read until one of ``choices`` (typed answer -> action) is given; end of input quits."""
    if read is input:
        discard_typeahead()
    while True:
        try:
            answer = read(prompt).strip().lower()
        except (EOFError, KeyboardInterrupt):
            screen.print()
            return "quit"
        if answer in choices:
            return choices[answer]
        screen.print(f"please type one of: {', '.join(repr(k) if k else 'Enter' for k in choices)}")


def _headings(cell: Cell, first: bool) -> str:
    """The section headings of a markdown cell (not the lesson's title), as markdown."""
    lines = [line for line in cell.source.splitlines() if re.match(r"#{1,6}\s", line.strip())]
    return "\n".join(lines[1:] if first else lines)


def run_lesson(lesson, *, step: bool = False, read=input, stream=None, width=None) -> bool:
    """Run every code cell of ``lesson`` (a :class:`Lesson` or a path) in one namespace.

    With ``step``, show each code cell with the markdown in front of it and pause after it,
    reading answers with ``read(prompt)``: ``""`` (Enter) goes on, ``"r"`` reruns the cell,
    ``"q"`` (or end of input) stops.  Straight through, show the section headings only.
    Figures that a cell writes into :func:`out_dir` are listed after its output; the text is
    reflowed to ``width`` columns (default: the terminal's).  Returns True if the lesson ran to
    the end, False if it was stopped; raises :class:`CellFailed` if a cell raises (when
    stepping, after offering to rerun it).
    """
    if not isinstance(lesson, Lesson):
        lesson = Lesson.from_file(lesson)
    use_agg_without_display()
    screen = _Screen(stream, width)
    folder = out_dir()
    namespace = {"__name__": "__main__", "__file__": str(lesson.path), "__builtins__": builtins}
    screen.rule(f"Lesson {lesson.number:02d} — {lesson.title}")
    screen.print(f"running {lesson.path}")
    if lesson.installed:
        screen.print(f"(the copy installed with tinymed; to edit the lesson, make your own: "
                     f"tinymed lesson {lesson.number} --copy-to DIR)")
    screen.print("Enter: next cell   r: run the cell again   q: quit" if step else lesson.summary)

    markdown = []
    for cell in lesson.cells:
        if cell.kind == "markdown":
            markdown.append(cell)
            continue
        _show_markdown(markdown, screen, step)
        markdown = []
        if not _run_cell(lesson, cell, namespace, folder, screen, step, read):
            screen.print(f"stopped after cell {cell.number} of {len(lesson.cells)}")
            return False
    _show_markdown(markdown, screen, step)
    screen.print()
    screen.rule(f"lesson {lesson.number:02d} done; figures in {folder}")
    return True


def _show_markdown(cells, screen, step):
    """Stepping: the explanations in full.  Straight through: their section headings."""
    for cell in cells:
        text = cell.source if step else _headings(cell, first=cell.number == 1)
        if text:
            screen.markdown(text)


def _run_cell(lesson, cell, namespace, folder, screen, step, read) -> bool:
    """Run one code cell -- again, while the user asks for a rerun; False if the user quits."""
    label = f"cell {cell.number}/{len(lesson.cells)}"
    while True:
        screen.print()
        screen.rule(label)
        if step:
            screen.code(cell)
            screen.rule("output")
        try:
            _run_and_show(cell, namespace, str(lesson.path), folder, screen)
        except Exception as exc:  # the lesson's failure, reported with its cell
            failure = CellFailed(lesson, cell, exc)
            if not step:
                raise failure from exc
            screen.print(failure.report())
            if _ask(read, screen, "r: rerun (after editing the file)   q: quit > ",
                    {"r": "rerun", "q": "quit", "": "quit"}) == "quit":
                raise failure from exc
            cell = _reread(lesson, cell)
            continue
        if not step:
            return True
        action = _ask(read, screen, f"[{label}] Enter: next   r: rerun   q: quit > ",
                      {"": "next", "r": "rerun", "q": "quit"})
        if action != "rerun":
            return action == "next"
        cell = _reread(lesson, cell)


def _run_and_show(cell, namespace, filename, folder, screen):
    before = _files(folder)
    value = execute_cell(cell, namespace, filename)
    shown = format_value(value, screen.width)
    if shown is not None:
        screen.print(f"Out[{cell.number}]: {shown}")
    for path, stamp in sorted(_files(folder).items()):
        if before.get(path) != stamp:  # what the cell wrote: a figure, or another file (a model, a table)
            screen.print(f"[{'figure' if path.suffix.lower() in _FIGURE_SUFFIXES else 'file'}] {path}")


def _reread(lesson: Lesson, cell: Cell) -> Cell:
    """The cell as it is in the file now (so a rerun picks up an edit); unchanged if the file's
    cells no longer line up with the ones being run."""
    try:
        fresh = parse_cells(lesson.path.read_text(encoding="utf-8"))
    except OSError:
        return cell
    if len(fresh) == len(lesson.cells) and fresh[cell.number - 1].kind == "code":
        return fresh[cell.number - 1]
    return cell
