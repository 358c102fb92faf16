"""``tinymed exercise``: list, start (script and notebook), check (report, exit status, Gradescope's
results.json), check --solution, build."""

import json
import runpy

import pytest

from tinymed.cli import main
from tinymed.exercises import EXERCISES, get, solution_source

# Gradescope's results.json: the fields a submission and each of its tests may have, and their types
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
SUBMISSION_FIELDS = {"score": (int, float), "execution_time": (int, float), "output": str, "visibility": str,
                     "stdout_visibility": str, "extra_data": dict, "tests": list, "leaderboard": list}
TEST_FIELDS = {"score": (int, float), "max_score": (int, float), "status": str, "name": str, "name_format": str,
               "number": str, "output": str, "output_format": str, "tags": list, "visibility": str, "extra_data": dict}


def validate_gradescope(results):
    """Fields and types of Gradescope's autograder results.json (its published specification)."""
    assert set(results) <= set(SUBMISSION_FIELDS), set(results) - set(SUBMISSION_FIELDS)
    for key, kind in SUBMISSION_FIELDS.items():
        assert key not in results or isinstance(results[key], kind), key
    assert "score" in results or all("score" in t for t in results["tests"])
    assert results.get("visibility", "visible") in VISIBILITY
    for test in results["tests"]:
        assert set(test) <= set(TEST_FIELDS), set(test) - set(TEST_FIELDS)
        for key, kind in TEST_FIELDS.items():
            assert key not in test or isinstance(test[key], kind), (test.get("name"), key)
        assert {"name", "score", "max_score"} <= set(test)
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in {"passed", "failed"}
        assert test.get("visibility", "visible") in VISIBILITY


def test_list_names_every_exercise(capsys):
    assert main(["exercise", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXERCISES) and f"{len(EXERCISES)} exercises" in out


def test_start_writes_the_files_and_keeps_the_students_work(tmp_path, capsys):
    assert main(["exercise", "start", "attention", "--to", str(tmp_path), "--notebook"]) == 0
    script, notebook = tmp_path / "attention.py", tmp_path / "attention_notebook.py"
    assert "def attention_backward(dout, q, k, v, mask):" in script.read_text()
    assert notebook.read_text().startswith("# %% [markdown]\n# # Exercise attention")
    script.write_text(script.read_text() + "\n# my work\n")
    assert main(["exercise", "start", "attention", "--to", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err and "# my work" in script.read_text()
    assert main(["exercise", "start", "attention", "--to", str(tmp_path), "--force"]) == 0
    assert "# my work" not in script.read_text()


def test_the_notebooks_last_cell_grades_it(tmp_path, capsys):
    assert main(["exercise", "start", "linear_backward", "--to", str(tmp_path), "--notebook"]) == 0
    runpy.run_path(str(tmp_path / "linear_backward_notebook.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "exercise linear_backward" in out and "score: 0/" in out and "not written yet" in out


def test_check_reports_scores_and_writes_gradescopes_json(tmp_path, capsys):
    good = tmp_path / "adam.py"
    good.write_text(solution_source(get("adam")))
    wrong = tmp_path / "mine.py"
    wrong.write_text('EXERCISE = "mse_loss"\n\ndef mse_loss_forward(input, target):\n'
                     "    return ((input - target) ** 2).mean()\n\n"
                     "def mse_loss_backward(input, target):\n    return 2 * (target - input)\n")
    results = tmp_path / "results" / "results.json"
    assert main(["exercise", "check", str(good), "--json", str(results)]) == 0
    capsys.readouterr()
    payload = json.loads(results.read_text())
    validate_gradescope(payload)
    assert payload["score"] == sum(t["max_score"] for t in payload["tests"])

    assert main(["exercise", "check", str(good), str(wrong), "--json", str(results)]) == 1
    out = capsys.readouterr().out
    assert "article's 2(y - y_hat)" in out and "smallest failing input" in out and "total:" in out
    payload = json.loads(results.read_text())
    validate_gradescope(payload)
    failed = [t for t in payload["tests"] if t["status"] == "failed"]
    assert failed and all(t["name"].startswith("mse_loss_backward") for t in failed)
    assert payload["score"] == sum(t["score"] for t in payload["tests"]) < sum(t["max_score"] for t in payload["tests"])


def test_the_json_validation_catches_a_malformed_result():
    with pytest.raises(AssertionError):
        validate_gradescope({"score": "10", "tests": []})
    with pytest.raises(AssertionError):
        validate_gradescope({"tests": [{"name": "a", "score": 2, "max_score": 1}]})


def test_check_solution_proves_full_marks(capsys):
    assert main(["exercise", "check", "--solution", "pagerank"]) == 0
    assert "score: 9/9  (full marks)" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["exercise", "check", "--solution", "softplus"], "no exercise called 'softplus'"),
    (["exercise", "check", "nowhere.py"], "no such file"),
    (["exercise", "check"], "either the FILE"),
    (["exercise", "start", "softplus"], "no exercise called"),
])
def test_mistakes_on_the_command_line_exit_with_status_2(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_build_writes_the_student_and_the_solution_sets(tmp_path, capsys):
    assert main(["exercise", "build", "--to", str(tmp_path)]) == 0
    for name in EXERCISES:
        for kind in ("student", "solution"):
            assert (tmp_path / kind / f"{name}.py").is_file() and (tmp_path / kind / f"{name}_notebook.py").is_file()
    assert "NotImplementedError" in (tmp_path / "student" / "adam.py").read_text()
    assert "optim.Adam" in (tmp_path / "solution" / "adam.py").read_text()
    assert main(["exercise", "check", str(tmp_path / "solution" / "svd_epoch_notebook.py")]) == 0
