"""Reading, finding, listing and copying lessons: the format is checked, a checkout's own lessons
are the ones that run, a bare name is looked up among the lessons only, and a student can copy a
lesson out to edit it."""

import os

import pytest

from tinymed import lessons
from tinymed.lessons import Cell, LessonError


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


def test_lesson_header_title_and_summary(tmp_path, write, good):
    lesson = lessons.Lesson.from_file(write(tmp_path, "07_tiny.py", good))
    assert (lesson.number, lesson.title, lesson.summary) == (
        7, "A tiny lesson", "Shows that cells share one namespace.")
    assert [c.kind for c in lesson.cells] == ["markdown", "code", "code", "markdown", "code"]
    assert not lesson.installed


@pytest.mark.parametrize("text, message", [
    ("# %%\nx = 1\n", "got a code cell at line 2"),
    ("# %% [markdown]\n# Lesson 07 — no heading mark\n# summary\n", "got 'Lesson 07"),
    ("# %% [markdown]\n# # Lesson 07 — Title\n", "one-line summary"),
    ("# %% [markdown]\n# # Lesson 09 — Title\n# summary\n", "file name says lesson 07 but its title says lesson 09"),
])
def test_malformed_headers_are_named(tmp_path, text, message, write):
    with pytest.raises(LessonError, match="07_bad.py") as info:
        lessons.Lesson.from_file(write(tmp_path, "07_bad.py", text))
    assert message in str(info.value)


def test_find_lessons_uses_the_NN_name_pattern(tmp_path, write, good):
    write(tmp_path, "02_second.py", good.replace("07", "02"))
    write(tmp_path, "01_first.py", good.replace("07", "01").replace("A tiny lesson", "The first"))
    for other in ("helpers.py", "1_short.py", "03_notes.txt", "04-dash.py"):
        write(tmp_path, other, "this is not a lesson")
    found = lessons.find_lessons(tmp_path)
    assert [lesson.number for lesson in found] == [1, 2]
    listing = lessons.format_listing(found)
    assert listing.splitlines()[0] == "01  The first"
    assert "    Shows that cells share one namespace." in listing
    assert lessons.find_lesson("2", tmp_path).path.name == "02_second.py"
    assert lessons.find_lesson("01_first", tmp_path).number == 1
    assert lessons.find_lesson("01_first.py", tmp_path).number == 1


def test_unknown_lesson_and_duplicate_numbers_are_reported(tmp_path, write, good):
    write(tmp_path, "01_first.py", good.replace("07", "01"))
    with pytest.raises(LessonError, match=r"no lesson '9'.*available lessons: 01"):
        lessons.find_lesson("9", tmp_path)
    write(tmp_path, "01_again.py", good.replace("07", "01"))
    with pytest.raises(LessonError, match="more than one lesson is numbered 01: 01_again.py, 01_first.py"):
        lessons.find_lessons(tmp_path)


def test_a_bare_name_never_runs_a_file_of_the_current_folder(tmp_path, monkeypatch, write, good):
    lesson_folder, here = tmp_path / "lessons", tmp_path / "here"
    lesson_folder.mkdir()
    here.mkdir()
    write(lesson_folder, "02_convolution.py", good.replace("07", "02"))
    write(here, "02_convolution.py", good.replace("07", "02").replace("A tiny lesson", "Planted"))
    write(here, "evil.py", good)
    monkeypatch.chdir(here)
    assert lessons.find_lesson("02_convolution.py", lesson_folder).path.parent == lesson_folder
    with pytest.raises(LessonError, match=r"no lesson 'evil.py'.*give its path: ./evil.py"):
        lessons.find_lesson("evil.py", lesson_folder)
    assert lessons.find_lesson("./02_convolution.py", lesson_folder).title == "Planted"
    assert lessons.find_lesson(str(here / "02_convolution.py"), lesson_folder).title == "Planted"
    assert lessons.is_explicit_path("./x.py") and lessons.is_explicit_path(f"a{os.sep}b.py")
    assert not lessons.is_explicit_path("02_convolution.py")


def test_the_checkout_you_work_in_gives_the_lessons(tmp_path, monkeypatch, write, good, repo):
    clone = tmp_path / "clone"
    (clone / "lessons").mkdir(parents=True)
    (clone / "pyproject.toml").write_text('[project]\nname = "tinymed"\n')
    write(clone / "lessons", "01_mine.py", good.replace("07", "01"))
    monkeypatch.chdir(clone / "lessons")
    assert lessons.lessons_dir() == clone / "lessons"
    other = tmp_path / "other"
    (other / "lessons").mkdir(parents=True)
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    monkeypatch.chdir(other)
    assert lessons.lessons_dir() != other / "lessons"


def test_from_the_repository_the_repository_lessons_run(repo, lesson_files, monkeypatch):
    """However tinymed was installed (CI installs it as a wheel), working in the clone means its lessons."""
    monkeypatch.chdir(repo / "tests")
    assert lessons.lessons_dir() == repo / "lessons"
    assert [lesson.path for lesson in lessons.find_lessons()] == lesson_files


def test_copy_lesson_makes_an_editable_copy_and_never_overwrites(tmp_path, write, good):
    lesson = lessons.Lesson.from_file(write(tmp_path, "07_tiny.py", good))
    copy = lessons.copy_lesson(lesson, tmp_path / "mine")
    assert copy == tmp_path / "mine" / "07_tiny.py" and copy.read_text() == good
    with pytest.raises(LessonError, match="already exists; not overwritten"):
        lessons.copy_lesson(lesson, tmp_path / "mine")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LessonError, match="cannot copy lesson 07"):
        lessons.copy_lesson(lesson, tmp_path / "a-file")
