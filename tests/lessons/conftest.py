"""Shared by the lesson tests: the repository's lesson files, two tiny lessons, a quick environment."""

from pathlib import Path

import pytest

import tinymed
from tinymed import lessons

REPO = Path(__file__).resolve().parents[2]

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


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def lesson_files():
    """The repository's lessons, ``lessons/NN_name.py``."""
    return sorted(p for p in (REPO / "lessons").glob("*.py") if lessons.LESSON_FILE.match(p.name))


@pytest.fixture
def good():
    return GOOD


@pytest.fixture
def failing():
    return FAILING


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Quick lessons writing into a fresh folder; environment and backend restored afterwards."""
    out = tmp_path / "out"
    monkeypatch.setenv("TINYMED_QUICK", "1")
    monkeypatch.setenv("TINYMED_OUT", str(out))
    with tinymed.using(tinymed.current()):
        yield out


@pytest.fixture
def write():
    """``write(folder, name, text)`` -> the path of the new file."""
    def write_file(folder: Path, name: str, text: str) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path
    return write_file


@pytest.fixture
def answers():
    """``answers(*replies)``: a ``read`` for run_lesson that gives ``replies`` in turn (then end of
    input) and records the prompts in ``read.prompts``."""
    def make(*replies):
        queue, prompts = list(replies), []

        def read(prompt):
            prompts.append(prompt)
            if not queue:
                raise EOFError
            return queue.pop(0)

        read.prompts = prompts
        return read
    return make
