"""Lessons: every lesson runs headless through the runner; the runner parses, lists, steps,
reports failures and exits with the right codes; the lessons ship inside the wheel."""

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tinymed
from tinymed import lessons
from tinymed.cli import main
from tinymed.lessons import Cell, CellFailed, LessonError

REPO = Path(__file__).resolve().parent.parent
LESSON_FILES = sorted(p for p in (REPO / "lessons").glob("*.py") if lessons.LESSON_FILE.match(p.name))

GOOD = """\
# %% [markdown]
# # Lesson 07 — A tiny lesson
# Shows that cells share one namespace.
#
# The formula $\\alpha_t = \\frac{1}{\\sqrt{t}}$ and **bold** text.

# %%
runs = []

# %%
runs.append("a")
print("cell a ran")
len(runs)

# %% [markdown]
# ## Second part

# %%
print("cell b ran", runs)
"""

FAILING = """\
# %% [markdown]
# # Lesson 08 — A failing lesson
# Its third cell raises.

# %%
x = 1

# %%
# a comment first: the report quotes the first line of code
y = x + 1
raise ValueError("the check did not pass")
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Quick lessons writing into a fresh folder; environment and backend restored afterwards."""
    out = tmp_path / "out"
    monkeypatch.setenv("TINYMED_QUICK", "1")
    monkeypatch.setenv("TINYMED_OUT", str(out))
    with tinymed.using(tinymed.current()):
        yield out


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def answers(*replies):
    """A ``read`` for run_lesson that gives ``replies`` in turn and records the prompts."""
    queue, prompts = list(replies), []

    def read(prompt):
        prompts.append(prompt)
        if not queue:
            raise EOFError
        return queue.pop(0)

    read.prompts = prompts
    return read


# ----- the lessons themselves ------------------------------------------------------------
def test_the_first_four_lessons_exist():
    numbers = [int(p.name[:2]) for p in LESSON_FILES]
    assert {1, 2, 3, 4} <= set(numbers), f"lessons found: {[p.name for p in LESSON_FILES]}"


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_runs_headless_and_saves_figures(path, env, capsys):
    lesson = lessons.Lesson.from_file(path)
    assert lesson.title and lesson.summary and lesson.code_cells
    assert lessons.run_lesson(lesson) is True
    figures = sorted(f.name for f in env.glob("*.png"))
    assert figures, f"{path.name} saved no figure into TINYMED_OUT"
    prefix = f"{lesson.number:02d}_"
    assert all(name.startswith(prefix) for name in figures), f"figure names should start with {prefix}: {figures}"
    assert "[figure]" in capsys.readouterr().out


# ----- reading lessons --------------------------------------------------------------------
def test_parse_cells_kinds_lines_and_comment_marks():
    text = ("import os\n\n# %% [markdown]\n# # Title\n#\n# text with `code`\n\n"
            "# %%\n\n\nx = 1\n\n# %%\n\n# %% [md]\n#no space\n")
    cells = lessons.parse_cells(text)
    assert [(c.kind, c.line, c.number) for c in cells] == [
        ("code", 1, 1), ("markdown", 4, 2), ("code", 11, 3), ("markdown", 16, 4)]
    assert cells[0].source == "import os"
    assert cells[1].source == "# Title\n\ntext with `code`"
    assert cells[2].source == "x = 1"
    assert cells[3].source == "no space"


def test_first_code_line_skips_comments_and_blanks():
    cell = Cell("code", "\n# why\n   \ny = 2  # what\nz = 3", 10, 4)
    assert cell.first_code_line == "y = 2  # what"


def test_lesson_header_title_and_summary(tmp_path):
    lesson = lessons.Lesson.from_file(write(tmp_path, "07_tiny.py", GOOD))
    assert (lesson.number, lesson.title, lesson.summary) == (
        7, "A tiny lesson", "Shows that cells share one namespace.")
    assert [c.kind for c in lesson.cells] == ["markdown", "code", "code", "markdown", "code"]


@pytest.mark.parametrize("text, message", [
    ("# %%\nx = 1\n", "got a code cell at line 2"),
    ("# %% [markdown]\n# Lesson 07 — no heading mark\n# summary\n", "got 'Lesson 07"),
    ("# %% [markdown]\n# # Lesson 07 — Title\n", "one-line summary"),
    ("# %% [markdown]\n# # Lesson 09 — Title\n# summary\n", "file name says lesson 07 but its title says lesson 09"),
])
def test_malformed_headers_are_named(tmp_path, text, message):
    with pytest.raises(LessonError, match="07_bad.py") as info:
        lessons.Lesson.from_file(write(tmp_path, "07_bad.py", text))
    assert message in str(info.value)


def test_find_lessons_uses_the_NN_name_pattern(tmp_path):
    write(tmp_path, "02_second.py", GOOD.replace("07", "02"))
    write(tmp_path, "01_first.py", GOOD.replace("07", "01").replace("A tiny lesson", "The first"))
    for other in ("helpers.py", "1_short.py", "03_notes.txt", "04-dash.py"):
        write(tmp_path, other, "this is not a lesson")
    found = lessons.find_lessons(tmp_path)
    assert [lesson.number for lesson in found] == [1, 2]
    listing = lessons.format_listing(found)
    assert listing.splitlines()[0] == "01  The first"
    assert "    Shows that cells share one namespace." in listing
    assert lessons.find_lesson("2", tmp_path).path.name == "02_second.py"
    assert lessons.find_lesson("01_first", tmp_path).number == 1


def test_unknown_lesson_and_duplicate_numbers_are_reported(tmp_path):
    write(tmp_path, "01_first.py", GOOD.replace("07", "01"))
    with pytest.raises(LessonError, match=r"no lesson '9'.*available lessons: 01"):
        lessons.find_lesson("9", tmp_path)
    write(tmp_path, "01_again.py", GOOD.replace("07", "01"))
    with pytest.raises(LessonError, match="more than one lesson is numbered 01: 01_again.py, 01_first.py"):
        lessons.find_lessons(tmp_path)


@pytest.mark.skipif(not Path(lessons.__file__).resolve().is_relative_to(REPO),
                    reason="tinymed is not imported from this checkout")
def test_a_checkout_uses_its_own_lessons_folder():
    assert lessons.lessons_dir() == REPO / "lessons"
    on_disk = sorted(p for p in (REPO / "lessons").glob("*.py") if lessons.LESSON_FILE.match(p.name))
    assert [lesson.path for lesson in lessons.find_lessons()] == on_disk


# ----- terminal rendering -------------------------------------------------------------------
@pytest.mark.parametrize("tex, text", [
    (r"\frac{1}{n}\sum_{i=1}^{n} (y_i - \hat{y}_i)^2", "1/n Σᵢ₌₁ⁿ (yᵢ - y\u0302ᵢ)²"),
    (r"\theta_{t+1} = \theta_t - \alpha \nabla_\theta L", "θₜ₊₁ = θₜ - α ∇_θ L"),
    (r"\alpha = \frac{1}{\sqrt{t}}", "α = 1/√t"),
    (r"y_{ij} = \sum_{k=1}^{K} x_{ik} * w_{kj} + b_j", "yᵢⱼ = Σₖ₌₁ᴷ xᵢₖ * wₖⱼ + bⱼ"),
    (r"\mathrm{softmax}(z)_c", "softmax(z)_c"),
])
def test_render_math(tex, text):
    assert lessons.render_math(tex) == text


def test_render_markdown_headings_bold_math_lists():
    md = ("# Lesson 01 — Title\nSome **bold**, *italic*, $x_i * w$ and `a * b * c`.\n## Part\n"
          "- a [link](http://x)\n$$\nL = \\frac{a}{b}\n$$")
    plain = lessons.render_markdown(md).splitlines()
    assert plain == ["Lesson 01 — Title", "═" * 17, "Some bold, *italic*, xᵢ * w and a * b * c.", "Part", "────",
                     "• a link (http://x)", "    L = a/b"]
    colored = lessons.render_markdown(md, color=True)
    assert "\x1b[1mbold\x1b[0m" in colored and "\x1b[3mitalic\x1b[0m" in colored


# ----- running ------------------------------------------------------------------------------
def test_straight_run_shares_namespace_and_shows_values(tmp_path, env, capsys):
    assert lessons.run_lesson(write(tmp_path, "07_tiny.py", GOOD)) is True
    out = capsys.readouterr().out
    assert "cell a ran" in out and "Out[3]: 1" in out and "cell b ran ['a']" in out
    assert "══" not in out  # markdown is shown only when stepping


def test_trailing_semicolon_hides_the_value(tmp_path, env, capsys):
    lessons.run_lesson(write(tmp_path, "07_tiny.py", GOOD.replace("len(runs)", "len(runs);")))
    assert "Out[" not in capsys.readouterr().out


def test_step_rerun_next_quit(tmp_path, env, capsys):
    with_cell_c = GOOD.replace('print("cell b ran", runs)', 'print("cell b ran", runs)\n\n# %%\nprint("cell c ran")')
    path = write(tmp_path, "07_tiny.py", with_cell_c)
    read = answers("", "r", "", "q")  # after cell 2: next; cell 3: rerun, then next; cell 5: quit
    assert lessons.run_lesson(path, step=True, read=read) is False
    out = capsys.readouterr().out
    assert len(read.prompts) == 4 and "[cell 3/6]" in read.prompts[1]
    assert out.count("\ncell a ran\n") == 2 and "Out[3]: 2" in out  # the rerun appended again
    assert "Lesson 07 — A tiny lesson\n═" in out and "αₜ = 1/√t" in out and "Second part\n───" in out
    assert "  13 │ len(runs)" in out  # the code, with its line numbers in the file
    assert "cell b ran ['a', 'a']" in out and "cell c ran" not in out
    assert "stopped after cell 5 of 6" in out


def test_step_rerun_reads_the_edited_file(tmp_path, env, capsys):
    path = write(tmp_path, "07_tiny.py", GOOD)
    calls = []

    def edit_then_rerun(prompt):
        calls.append(prompt)
        if len(calls) == 2:  # at the pause after "cell a"
            path.write_text(GOOD.replace('print("cell a ran")', 'print("edited cell ran")'), encoding="utf-8")
            return "r"
        return ""

    assert lessons.run_lesson(path, step=True, read=edit_then_rerun) is True
    assert "edited cell ran" in capsys.readouterr().out


def test_step_asks_again_on_unknown_answers_and_quits_at_end_of_input(tmp_path, env, capsys):
    read = answers("x")
    assert lessons.run_lesson(write(tmp_path, "07_tiny.py", GOOD), step=True, read=read) is False
    assert "please type one of: Enter, 'r', 'q'" in capsys.readouterr().out
    assert len(read.prompts) == 2


def test_failure_names_the_cell_its_first_line_and_the_error(tmp_path, env):
    path = write(tmp_path, "08_failing.py", FAILING)
    with pytest.raises(CellFailed) as info:
        lessons.run_lesson(path)
    message = str(info.value)
    assert "lesson 08 (08_failing.py) failed in cell 3 of 3" in message
    assert "(line 9: y = x + 1)" in message and "ValueError: the check did not pass" in message
    report = info.value.report()
    assert f'File "{path}", line 11' in report and 'raise ValueError("the check did not pass")' in report
    assert "execute_cell" not in report  # the traceback starts at the lesson's own line


def test_a_syntax_error_is_a_failing_cell(tmp_path, env):
    path = write(tmp_path, "08_failing.py", FAILING.replace("y = x + 1", "y = = 1"))
    with pytest.raises(CellFailed, match=r"cell 3 of 3 .*SyntaxError"):
        lessons.run_lesson(path)


def test_failure_when_stepping_offers_a_rerun(tmp_path, env, capsys):
    path = write(tmp_path, "08_failing.py", FAILING)

    def fix_then_rerun(prompt):
        if "rerun (after editing" in prompt:
            path.write_text(FAILING.replace('raise ValueError("the check did not pass")', 'print("fixed")'))
            return "r"
        return ""

    assert lessons.run_lesson(path, step=True, read=fix_then_rerun) is True
    out = capsys.readouterr().out
    assert "ValueError: the check did not pass" in out and "fixed" in out
    with pytest.raises(CellFailed):
        lessons.run_lesson(write(tmp_path, "08_again.py", FAILING), step=True, read=answers("", "q"))


# ----- the command line --------------------------------------------------------------------
def test_cli_lists_the_lessons(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    for lesson in lessons.find_lessons():
        assert f"{lesson.number:02d}  {lesson.title}\n    {lesson.summary}" in out


def test_cli_exit_codes(tmp_path, env, capsys, monkeypatch):
    good = write(tmp_path, "07_tiny.py", GOOD)
    out = tmp_path / "figures"
    monkeypatch.delenv("TINYMED_QUICK")
    assert main(["lesson", str(good), "--out", str(out), "--quick", "--backend", "numpy"]) == 0
    assert os.environ["TINYMED_OUT"] == str(out) and os.environ["TINYMED_QUICK"] == "1" and out.is_dir()
    assert tinymed.current() == "numpy"

    assert main(["lesson", str(write(tmp_path, "08_failing.py", FAILING))]) == 1
    assert "failed in cell 3 of 3" in capsys.readouterr().err
    assert main(["lesson", "99"]) == 2
    assert "no lesson '99'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["lesson", "1", "--backend", "tensorflow"])
    assert info.value.code == 2


def test_cli_step_without_a_terminal_runs_straight_through(tmp_path, env, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    assert main(["lesson", str(write(tmp_path, "07_tiny.py", GOOD)), "--step"]) == 0
    captured = capsys.readouterr()
    assert "not a terminal" in captured.err and "cell b ran" in captured.out


def test_console_command_exit_code(tmp_path, env):
    path = write(tmp_path, "08_failing.py", FAILING)
    result = subprocess.run([sys.executable, "-m", "tinymed.cli", "lesson", str(path), "--step"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "failed in cell 3 of 3 (line 9: y = x + 1)" in result.stderr


# ----- packaging --------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None, reason="building a wheel offline needs setuptools")
def test_lessons_ship_in_the_wheel(tmp_path):
    """A non-editable install lists the lessons from any folder (built from a copy of the
    sources, so the checkout gets no build/ or egg-info)."""
    source, target = tmp_path / "src", tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("tinymed", "lessons"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "install", str(source), "--target", str(target),
                            "--no-deps", "--quiet"], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    listed = subprocess.run([sys.executable, "-m", "tinymed.cli", "lessons"], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)}, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert str(target / "tinymed" / "_lessons") in listed.stdout
    for path in LESSON_FILES:
        assert f"{path.name[:2]}  " in listed.stdout
