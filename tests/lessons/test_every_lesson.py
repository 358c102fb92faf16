"""Every lesson runs headless through the runner in quick mode and saves its figures under its own
prefix; no two figures saved by any lesson are the same file (a chart saved under another chart's
name, by calling ``savefig`` on the wrong current figure, shows up as two identical files)."""

import hashlib
from pathlib import Path

import pytest

from tinymed import lessons

LESSON_FILES = sorted(p for p in (Path(__file__).resolve().parents[2] / "lessons").glob("*.py")
                      if lessons.LESSON_FILE.match(p.name))
# sha256 of every figure saved so far in this session -> "lesson file: figure name"
_SAVED: dict = {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_first_lessons_exist():
    numbers = {int(p.name[:2]) for p in LESSON_FILES}
    assert set(range(1, 14)) <= numbers, f"lessons found: {[p.name for p in LESSON_FILES]}"


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_lesson_runs_headless_and_saves_distinct_figures(path, env, capsys):
    lesson = lessons.Lesson.from_file(path)
    assert lesson.title and lesson.summary and lesson.code_cells
    assert lessons.run_lesson(lesson) is True
    figures = sorted(env.glob("*.png"))
    assert figures, f"{path.name} saved no figure into TINYMED_OUT"
    prefix = f"{lesson.number:02d}_"
    assert all(f.name.startswith(prefix) for f in figures), f"figure names should start with {prefix}: {figures}"
    assert "[figure]" in capsys.readouterr().out
    clashes = []
    for figure in figures:
        digest = _digest(figure)
        if digest in _SAVED:
            clashes.append(f"{path.name}: {figure.name} is the same file as {_SAVED[digest]}")
        _SAVED[digest] = f"{path.name}: {figure.name}"
    assert not clashes, "figures saved twice under different names:\n" + "\n".join(clashes)


def test_identical_figures_are_caught(tmp_path, monkeypatch):
    """The check above can fail: two saves of one figure give two identical files."""
    import matplotlib.pyplot as plt

    monkeypatch.setenv("TINYMED_OUT", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    fig.savefig(tmp_path / "a.png")
    lessons.save_figure(fig, "b.png")
    assert _digest(tmp_path / "a.png") == _digest(tmp_path / "b.png")
