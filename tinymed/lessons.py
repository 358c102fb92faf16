r"""Lessons: the helpers every lesson uses, and the runner behind ``tinymed lessons`` and ``tinymed lesson N``.

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

A lesson saves its figures with ``plt.savefig(out_dir() / "02_name.png")`` and shrinks its work
when :func:`quick` is true.

The runner reads a lesson into :class:`Cell`\ s and runs the code cells one after another in
one namespace, as a notebook does.  Stepping (``--step``) shows each code cell together with the
explanation in front of it -- the markdown rendered for a terminal, then the code, then what it
printed and the value of its last expression -- and waits: Enter goes on, ``r`` runs the cell
again (re-reading the file, so an edit made meanwhile takes effect), ``q`` stops.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUT = "tinymed-out"
LESSON_FILE = re.compile(r"^(\d{2})_[A-Za-z0-9_]+\.py$")
_CELL_MARKER = re.compile(r"^# %%(.*)$")
_TITLE = re.compile(r"^#\s+Lesson\s+(\d+)\s*[—–:-]\s*(\S.*)$")


def out_dir() -> Path:
    """The folder for figures and other outputs: ``$TINYMED_OUT``, default ``./tinymed-out/`` (created)."""
    path = Path(os.environ.get("TINYMED_OUT") or DEFAULT_OUT)
    path.mkdir(parents=True, exist_ok=True)
    return path


def quick() -> bool:
    """True when ``TINYMED_QUICK=1``: lessons use small sizes so the test suite stays fast."""
    return os.environ.get("TINYMED_QUICK", "") not in ("", "0", "false", "False")


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
    def from_file(cls, path) -> "Lesson":
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
def lessons_dir() -> Path:
    """Where the lessons are: the repository's ``lessons/`` when running from a checkout
    (so edits take effect at once), else the copy installed inside the package
    (``tinymed/_lessons``, mapped from ``lessons/`` in ``pyproject.toml``)."""
    package = Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "lessons").is_dir():
        return checkout / "lessons"
    return package / "_lessons"


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


def find_lesson(key, directory=None) -> Lesson:
    """A lesson by number (``2`` or ``"02"``), by file name (``"02_convolution"``) or by path."""
    key = str(key)
    if not key.isdigit() and Path(key).is_file():
        return Lesson.from_file(key)
    available = find_lessons(directory)
    for lesson in available:
        if (key.isdigit() and int(key) == lesson.number) or key in (lesson.path.stem, lesson.path.name):
            return lesson
    numbers = ", ".join(f"{lesson.number:02d}" for lesson in available) or "none"
    raise LessonError(
        f"no lesson {key!r}: expected a lesson number, a lesson name or a path to a lesson file; "
        f"available lessons: {numbers} ('tinymed lessons' lists them)"
    )


def format_listing(lessons) -> str:
    """Number, title and summary of each lesson, for ``tinymed lessons``."""
    lines = []
    for lesson in lessons:
        lines.append(f"{lesson.number:02d}  {lesson.title}")
        lines.append(f"    {lesson.summary}")
    return "\n".join(lines)


# ----- markdown and LaTeX for a terminal ----------------------------------------------------
_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "sum": "Σ", "prod": "∏", "nabla": "∇", "partial": "∂", "cdot": "·", "times": "×",
    "odot": "⊙", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "equiv": "≡", "sim": "~", "pm": "±", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "Rightarrow": "⇒", "infty": "∞", "in": "∈", "forall": "∀",
    "ldots": "…", "dots": "…", "cdots": "⋯", "lfloor": "⌊", "rfloor": "⌋", "lVert": "‖",
    "rVert": "‖", "|": "‖", "langle": "⟨", "rangle": "⟩", "top": "ᵀ", "ell": "ℓ",
    "quad": "  ", "qquad": "    ", ",": " ", ";": " ", ":": " ", "!": "", " ": " ",
    "{": "{", "}": "}", "_": "_", "%": "%", "left": "", "right": "", "big": "", "Big": "",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307"}
_PLAIN_ARG = ("text", "mathrm", "mathbf", "mathit", "operatorname", "textbf", "boldsymbol")
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUPERSCRIPT = dict(zip(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγθφχ′",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᶿᵠᵡ′",
))


def _group(tex: str, i: int):
    """The argument starting at ``tex[i]``: a ``{...}`` group, a ``\\command`` or one character."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1 : j], j + 1
        return tex[i + 1 :], len(tex)
    command = re.match(r"\\([A-Za-z]+|.)", tex[i:])
    if command:
        return command.group(0), i + len(command.group(0))
    return tex[i], i + 1


def _script(text: str, table: dict, mark: str) -> str:
    if text and all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    return mark + (text if len(text) == 1 else f"({text})")


def _wrap(text: str) -> str:
    return text if re.fullmatch(r"√?[\w.′\u0300-\u036f]+", text) else f"({text})"


def render_math(tex: str) -> str:
    r"""LaTeX math as plain Unicode text: ``\frac{1}{n}\sum_i (y_i - \hat y_i)^2`` -> ``1/n Σᵢ (yᵢ - ŷᵢ)²``."""
    out, i = [], 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            name = re.match(r"\\([A-Za-z]+|.)", tex[i:]).group(1)
            i += 1 + len(name)
            if name == "frac":
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                out.append(f"{_wrap(render_math(top))}/{_wrap(render_math(bottom))}")
                if i < len(tex) and (tex[i].isalnum() or tex[i] in "\\("):
                    out.append(" ")  # 1/n Σ..., not 1/nΣ...
            elif name == "sqrt":
                arg, i = _group(tex, i)
                out.append("√" + _wrap(render_math(arg)))
            elif name in _ACCENTS:
                arg, i = _group(tex, i)
                arg = render_math(arg)
                out.append(arg + _ACCENTS[name] if len(arg) == 1 else f"{name}({arg})")
            elif name == "mathbb":
                arg, i = _group(tex, i)
                out.append({"R": "ℝ", "N": "ℕ", "Z": "ℤ", "E": "𝔼"}.get(arg, arg))
            elif name in _PLAIN_ARG:
                arg, i = _group(tex, i)
                out.append(render_math(arg))
            else:
                out.append(_SYMBOLS.get(name, name))
        elif ch in "_^":
            arg, i = _group(tex, i + 1)
            table = _SUBSCRIPT if ch == "_" else _SUPERSCRIPT
            out.append(_script(render_math(arg), table, ch))
        elif ch in "{}":
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_BOLD, _DIM, _ITALIC, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[0m"
# one pass, left to right, so a `*` inside code or math is never taken for emphasis
_INLINE = re.compile(
    r"`([^`]+)`|\$([^$]+)\$|\*\*(.+?)\*\*|\*(?=\S)([^*]+?)(?<=\S)\*|\[([^\]]+)\]\(([^)]+)\)"
)


def _inline(text: str, color: bool) -> str:
    def replace(m):
        code, math, bold, italic, link_text, link_url = m.groups()
        if code is not None:
            return code
        if math is not None:
            return render_math(math)
        if bold is not None:
            inner = _inline(bold, color)
            return f"{_BOLD}{inner}{_RESET}" if color else inner
        if italic is not None:
            inner = _inline(italic, color)
            return f"{_ITALIC}{inner}{_RESET}" if color else f"*{inner}*"
        return f"{_inline(link_text, color)} ({link_url})"

    return _INLINE.sub(replace, text)


def render_markdown(text: str, color: bool = False) -> str:
    """Markdown as terminal text: headings underlined (and bold with ``color``), ``**bold**`` and
    ``*italic*`` in bold and italic with ``color`` (else as ``bold`` and ``*italic*``), ``$...$``
    and ``$$...$$`` math turned into Unicode, bullets as •, code blocks indented."""
    out, math, in_code = [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append("    " + line)
        elif math is not None:  # inside a $$ ... $$ block
            if stripped.endswith("$$"):
                math.append(stripped[:-2])
                out.append("    " + render_math(" ".join(math).strip()))
                math = None
            else:
                math.append(stripped)
        elif stripped.startswith("$$"):
            body = stripped[2:]
            if body.endswith("$$"):
                out.append("    " + render_math(body[:-2].strip()))
            else:
                math = [body]
        elif heading := re.match(r"(#{1,6})\s+(.*)", stripped):
            title = _inline(heading.group(2), color=False)
            rule = ("═" if len(heading.group(1)) == 1 else "─") * len(title)
            out.append(f"{_BOLD}{title}{_RESET}" if color else title)
            out.append(rule)
        elif bullet := re.match(r"(\s*)[-*+]\s+(.*)", line):
            out.append(f"{bullet.group(1)}• {_inline(bullet.group(2), color)}")
        else:
            out.append(_inline(line, color))
    return "\n".join(out)


# ----- running a lesson ---------------------------------------------------------------------
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

    def __init__(self, stream=None):
        self._stream = stream

    @property
    def stream(self):
        return self._stream or sys.stdout

    @property
    def color(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ

    def print(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def rule(self, label: str) -> None:
        line = f"── {label} " + "─" * max(4, 76 - len(label))
        self.print(f"{_DIM}{line}{_RESET}" if self.color else line)

    def code(self, cell: Cell) -> None:
        for offset, text in enumerate(cell.source.splitlines()):
            self.print(f"{cell.line + offset:4d} │ {text}")


def _figures(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.glob("*") if p.is_file()} if folder.is_dir() else {}


def _ask(read, screen: _Screen, prompt: str, choices: dict) -> str:
    """Read until one of ``choices`` (typed answer -> action) is given; end of input quits."""
    while True:
        try:
            answer = read(prompt).strip().lower()
        except (EOFError, KeyboardInterrupt):
            screen.print()
            return "quit"
        if answer in choices:
            return choices[answer]
        screen.print(f"please type one of: {', '.join(repr(k) if k else 'Enter' for k in choices)}")


def run_lesson(lesson, *, step: bool = False, read=input, stream=None) -> bool:
    """Run every code cell of ``lesson`` (a :class:`Lesson` or a path) in one namespace.

    With ``step``, show each code cell with the markdown in front of it and pause after it,
    reading answers with ``read(prompt)``: ``""`` (Enter) goes on, ``"r"`` reruns the cell,
    ``"q"`` (or end of input) stops.  Figures that a cell writes into :func:`out_dir` are listed
    after its output.  Returns True if the lesson ran to the end, False if it was stopped;
    raises :class:`CellFailed` if a cell raises (when stepping, after offering to rerun it).
    """
    if not isinstance(lesson, Lesson):
        lesson = Lesson.from_file(lesson)
    use_agg_without_display()
    screen = _Screen(stream)
    folder = out_dir()
    namespace = {"__name__": "__main__", "__file__": str(lesson.path), "__builtins__": builtins}
    screen.rule(f"Lesson {lesson.number:02d} — {lesson.title}")
    if step:  # the first markdown cell, shown next, repeats the title and the summary
        screen.print("Enter: next cell   r: run the cell again   q: quit")
    else:
        screen.print(lesson.summary)

    markdown = []
    for cell in lesson.cells:
        if cell.kind == "markdown":
            markdown.append(cell)
            continue
        if step:
            _show_markdown(markdown, screen)
        markdown = []
        if not _run_cell(lesson, cell, namespace, folder, screen, step, read):
            screen.print(f"stopped after cell {cell.number} of {len(lesson.cells)}")
            return False
    if step:
        _show_markdown(markdown, screen)
    screen.print()
    screen.rule(f"lesson {lesson.number:02d} done; figures in {folder}")
    return True


def _show_markdown(cells, screen):
    for cell in cells:
        screen.print()
        screen.print(render_markdown(cell.source, screen.color))


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
    before = _figures(folder)
    value = execute_cell(cell, namespace, filename)
    if value is not None:
        screen.print(f"Out[{cell.number}]: {value!r}")
    for path, stamp in sorted(_figures(folder).items()):
        if before.get(path) != stamp:
            screen.print(f"[figure] {path}")


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
