"""Grading a file in a subprocess: a student's infinite loop, crash, failing import or printing never
hangs or breaks the grader, and costs only the marks of the function at fault."""

import json
import textwrap

import pytest

from tinymed.exercises import check_file, get, solution_source
from tinymed.exercises.loading import SubmissionError

MSE_FORWARD = """
def mse_loss_forward(input, target):
    return ((input - target) ** 2).mean()
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def by_function(result):
    parts = {}
    for p in result.parts:
        parts.setdefault(p.name.split(":")[0], []).append(p)
    return parts


def test_an_infinite_loop_costs_its_function_only(tmp_path):
    path = write(tmp_path, "mse_loss.py", MSE_FORWARD + """
def mse_loss_backward(input, target):
    while True:
        pass
""")
    result = check_file(path, timeout=2)
    forward, backward = by_function(result)["mse_loss_forward"], by_function(result)["mse_loss_backward"]
    assert all(p.passed for p in forward)
    assert "did not finish within 2 s" in backward[0].output and backward[0].score == 0
    assert all(p.score == 0 and "not graded" in p.output for p in backward[1:])


def test_a_crash_costs_the_part_it_happened_in(tmp_path):
    path = write(tmp_path, "crash.py", MSE_FORWARD + """
import os, sys
EXERCISE = "mse_loss"

def mse_loss_backward(input, target):
    if abs(input).max() >= 1e6:  # the edge case "errors of a million" only
        print("about to crash", file=sys.stderr)
        os._exit(3)
    return 2 * (input - target) / input.size
""")
    result = check_file(path, timeout=30)
    lost = [p for p in result.parts if not p.passed]
    assert [p.name for p in lost] == ["mse_loss_backward: edge case: errors of a million"]
    assert "exit status 3" in lost[0].output and "about to crash" in lost[0].output


@pytest.mark.parametrize("top_level, says", [
    ("raise RuntimeError('no data here')", "RuntimeError: no data here"),
    ("def broken(:\n    pass", "SyntaxError"),
    ("import sys\nsys.exit(4)", "SystemExit"),
])
def test_a_file_that_does_not_load_scores_nothing_and_says_why(tmp_path, top_level, says):
    path = write(tmp_path, "linear_backward.py", top_level + "\n")
    result = check_file(path, timeout=30)
    assert result.score == 0 and "could not be loaded" in result.output and says in result.output
    assert all(p.score == 0 for p in result.parts)


def test_a_file_whose_top_level_never_finishes(tmp_path):
    path = write(tmp_path, "linear_backward.py", "while True:\n    pass\n")
    result = check_file(path, timeout=1)
    assert result.score == 0 and "did not finish" in result.output


def test_printing_does_not_disturb_the_grader(tmp_path):
    path = write(tmp_path, "talkative.py", 'EXERCISE = "linear_backward"\nprint("loading")\n'
                 + solution_source(get("linear_backward")).replace("    return ", "    print('hi')\n    return "))
    assert check_file(path).passed


def test_notebooks_are_graded_too(tmp_path):
    exercise = get("sgd_momentum")
    code = solution_source(exercise)
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# my work"]},
                          {"cell_type": "code", "source": code.splitlines(keepends=True)}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "homework.ipynb"
    path.write_text(json.dumps(notebook))
    assert check_file(path).passed


def test_a_file_that_is_not_there_or_names_no_exercise(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        check_file(tmp_path / "missing.py")
    with pytest.raises(ValueError, match="no exercise called 'homework'"):
        check_file(write(tmp_path, "homework.py", "x = 1\n"))
