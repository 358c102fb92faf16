"""``tinymed lessons`` and ``tinymed lesson N``: listing, copying, exit codes, the console entry
point, and the lessons shipped inside the wheel; ``save_figure`` saves and, in a notebook, shows."""

import importlib.util
import io
import os
import shutil
import subprocess
import sys

import matplotlib
import pytest

import tinymed
from tinymed import lessons
from tinymed.cli import main


def test_cli_lists_the_lessons(capsys):
    assert main(["lessons"]) == 0
    out = capsys.readouterr().out
    for lesson in lessons.find_lessons():
        assert f"{lesson.number:02d}  {lesson.title}\n    {lesson.summary}" in out


def test_cli_exit_codes(tmp_path, env, capsys, monkeypatch, write, good, failing):
    path = write(tmp_path, "07_tiny.py", good)
    out = tmp_path / "figures"
    monkeypatch.delenv("TINYMED_QUICK")
    assert main(["lesson", str(path), "--out", str(out), "--quick", "--backend", "numpy"]) == 0
    assert os.environ["TINYMED_OUT"] == str(out) and os.environ["TINYMED_QUICK"] == "1" and out.is_dir()
    assert tinymed.current() == "numpy"
    assert main(["lesson", str(write(tmp_path, "08_failing.py", failing))]) == 1
    assert "failed in cell 3 of 3" in capsys.readouterr().err
    assert main(["lesson", "99"]) == 2
    assert "no lesson '99'" in capsys.readouterr().err
    assert main(["lesson", "1", "--backend", "tensorflow"]) == 2
    assert "invalid choice: 'tensorflow'" in capsys.readouterr().err


def test_cli_copy_to_copies_one_lesson_or_all_and_says_how_to_run_the_copy(tmp_path, capsys, lesson_files):
    assert main(["lesson", "2", "--copy-to", str(tmp_path / "one")]) == 0
    copy = tmp_path / "one" / lesson_files[1].name
    assert copy.read_bytes() == lesson_files[1].read_bytes()
    assert f"tinymed lesson {copy} --step" in capsys.readouterr().out
    assert main(["lessons", "--copy-to", str(tmp_path / "all")]) == 0
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [p.name for p in lesson_files]
    assert main(["lesson", "2", "--copy-to", str(tmp_path / "one")]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_cli_step_without_a_terminal_runs_straight_through(tmp_path, env, capsys, monkeypatch, write, good):
    monkeypatch.setattr(sys, "stdin", io.StringIO("q\n"))
    assert main(["lesson", str(write(tmp_path, "07_tiny.py", good)), "--step"]) == 0
    captured = capsys.readouterr()
    assert "not a terminal" in captured.err and "cell b ran" in captured.out


def test_console_command_exit_code(tmp_path, env, repo, write, failing):
    path = write(tmp_path, "08_failing.py", failing)
    result = subprocess.run([sys.executable, "-m", "tinymed.cli", "lesson", str(path), "--step"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(repo)}, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "failed in cell 3 of 3 (line 9: y = x + 1)" in result.stderr


def test_save_figure_saves_and_closes_outside_a_notebook(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("TINYMED_OUT", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    lessons.save_figure(fig, "01_line.png", dpi=50)
    assert (tmp_path / "01_line.png").stat().st_size > 0
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(ValueError, match="must be a file name"):
        lessons.save_figure(fig, "sub/01_line.png")


def test_save_figure_leaves_the_figure_open_in_a_notebook(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("TINYMED_OUT", str(tmp_path))
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    assert lessons.in_notebook()
    fig, ax = plt.subplots()
    lessons.save_figure(fig, "01_shown.png")
    assert (tmp_path / "01_shown.png").is_file() and plt.fignum_exists(fig.number)  # Jupyter shows it
    plt.close(fig)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("setuptools") is None, reason="building a wheel offline needs setuptools")
def test_lessons_ship_in_the_wheel(tmp_path, repo, lesson_files):
    """A non-editable install lists the lessons from any folder (built from a copy of the
    sources, so the checkout gets no build/ or egg-info), and says they are the installed copy."""
    source, target = tmp_path / "src", tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("tinymed", "lessons"):
        shutil.copytree(repo / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "install", str(source), "--target", str(target),
                            "--no-deps", "--quiet"], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    listed = subprocess.run([sys.executable, "-m", "tinymed.cli", "lessons"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert str(target / "tinymed" / "_lessons") in listed.stdout
    for path in lesson_files:
        assert f"{path.name[:2]}  " in listed.stdout
    # run from the clone, the clone's lessons run (so a student's edit takes effect)
    clone = subprocess.run([sys.executable, "-c", "from tinymed import lessons; print(lessons.lessons_dir())"],
                           capture_output=True, text=True, cwd=source, env=env, timeout=120)
    assert clone.stdout.strip() == str(source / "lessons"), clone.stderr
