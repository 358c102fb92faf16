"""The runner: cells share a namespace, stepping shows the explanations and reruns edited cells,
straight through shows section headings and values within a screen, failures name their cell,
and keys typed while a cell runs never answer the next prompt."""

import os

import pytest

from tinymed import lessons
from tinymed.lessons import CellFailed, format_value


def test_straight_run_shares_namespace_shows_values_and_headings(tmp_path, env, capsys, write, good):
    assert lessons.run_lesson(write(tmp_path, "07_tiny.py", good)) is True
    out = capsys.readouterr().out
    assert "cell a ran" in out and "Out[3]: 1" in out and "cell b ran ['a']" in out
    assert "Second part\n───" in out  # section headings, not the explanations
    assert "bold" not in out and "αₜ" not in out
    assert f"running {tmp_path / '07_tiny.py'}" in out  # which file runs: the one an edit must go to


def test_what_a_cell_writes_is_named_a_figure_only_if_it_is_one(tmp_path, env, capsys, write):
    text = ("# %% [markdown]\n# # Lesson 07 — Outputs\n# Files.\n\n# %%\nfrom tinymed.lessons import out_dir\n"
            "(out_dir() / '07_chart.png').write_bytes(b'png')\n(out_dir() / '07_model.onnx').write_bytes(b'onnx');\n")
    assert lessons.run_lesson(write(tmp_path, "07_outputs.py", text)) is True
    out = capsys.readouterr().out
    assert f"[figure] {env / '07_chart.png'}" in out
    assert f"[file] {env / '07_model.onnx'}" in out and "[figure] " + str(env / "07_model.onnx") not in out


def test_trailing_semicolon_hides_the_value(tmp_path, env, capsys, write, good):
    lessons.run_lesson(write(tmp_path, "07_tiny.py", good.replace("len(runs)", "len(runs);")))
    assert "Out[" not in capsys.readouterr().out


def test_long_values_are_summarised_and_plot_objects_not_shown(tmp_path, env, capsys, write):
    text = ("# %% [markdown]\n# # Lesson 07 — Values\n# Summaries.\n\n# %%\nlist(range(100_000))\n\n"
            "# %%\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\n\n"
            "# %%\n'line\\n' * 500\n\n# %%\nclass Tall:\n    def __repr__(self):\n        return 'row\\n' * 500\n"
            "Tall()\n")
    lessons.run_lesson(write(tmp_path, "07_values.py", text), width=80)
    out = capsys.readouterr().out
    assert "list of 100,000 items (100,000 int); the first:\n  0" in out
    assert "Line2D" not in out and "Out[3]" not in out
    assert "… (3,002 characters in all, cut at 80 columns)" in out
    assert "… (500 lines, 2,000 characters in all: the first 19 are shown" in out
    assert len(out) < 5_000


@pytest.mark.parametrize("value, expected", [(None, None), (3, "3"), ("a" * 50, repr("a" * 50))])
def test_short_values_are_shown_as_their_repr(value, expected):
    assert format_value(value, width=80) == expected


@pytest.mark.parametrize("value, start", [
    ({"k": list(range(3000))}, "dict of 1 item (1 list); the first:\n  'k': [0, 1, 2"),
    (tuple("abc") * 2000, "tuple of 6,000 items (6,000 str); the first:\n  'a'"),
])
def test_long_containers_are_summarised_within_the_width(value, start):
    text = format_value(value, width=80)
    assert text.startswith(start) and all(len(line) <= 80 for line in text.splitlines())


def test_step_rerun_next_quit(tmp_path, env, capsys, write, good, answers):
    with_cell_c = good.replace('print("cell b ran", runs)', 'print("cell b ran", runs)\n\n# %%\nprint("cell c ran")')
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


def test_step_rerun_reads_the_edited_file(tmp_path, env, capsys, write, good):
    path = write(tmp_path, "07_tiny.py", good)
    calls = []

    def edit_then_rerun(prompt):
        calls.append(prompt)
        if len(calls) == 2:  # at the pause after "cell a"
            path.write_text(good.replace('print("cell a ran")', 'print("edited cell ran")'), encoding="utf-8")
            return "r"
        return ""

    assert lessons.run_lesson(path, step=True, read=edit_then_rerun) is True
    assert "edited cell ran" in capsys.readouterr().out


def test_step_asks_again_on_unknown_answers_and_quits_at_end_of_input(tmp_path, env, capsys, write, good,
                                                                      answers):
    read = answers("x")
    assert lessons.run_lesson(write(tmp_path, "07_tiny.py", good), step=True, read=read) is False
    assert "please type one of: Enter, 'r', 'q'" in capsys.readouterr().out
    assert len(read.prompts) == 2


def test_keys_typed_during_a_cell_are_discarded_before_the_prompt():
    """An Enter pressed while a long cell runs sits in the terminal's input queue; the runner
    flushes that queue before it asks, so the Enter cannot skip the next explanation."""
    pty = pytest.importorskip("pty", reason="the check needs a pseudo-terminal (POSIX)")
    leader, follower = pty.openpty()
    with os.fdopen(follower, "r", closefd=True) as terminal:
        os.write(leader, b"\n\n")  # typed ahead
        lessons.discard_typeahead(terminal)
        os.write(leader, b"q\n")  # typed at the prompt
        assert terminal.readline() == "q\n"
    os.close(leader)


def test_failure_names_the_cell_its_first_line_and_the_error(tmp_path, env, write, failing):
    path = write(tmp_path, "08_failing.py", failing)
    with pytest.raises(CellFailed) as info:
        lessons.run_lesson(path)
    message = str(info.value)
    assert "lesson 08 (08_failing.py) failed in cell 3 of 3" in message
    assert "(line 9: y = x + 1)" in message and "ValueError: the check did not pass" in message
    report = info.value.report()
    assert f'File "{path}", line 11' in report and 'raise ValueError("the check did not pass")' in report
    assert "execute_cell" not in report  # the traceback starts at the lesson's own line


def test_a_syntax_error_is_a_failing_cell(tmp_path, env, write, failing):
    path = write(tmp_path, "08_failing.py", failing.replace("y = x + 1", "y = = 1"))
    with pytest.raises(CellFailed, match=r"cell 3 of 3 .*SyntaxError"):
        lessons.run_lesson(path)


def test_failure_when_stepping_offers_a_rerun(tmp_path, env, capsys, write, failing, answers):
    path = write(tmp_path, "08_failing.py", failing)

    def fix_then_rerun(prompt):
        if "rerun (after editing" in prompt:
            path.write_text(failing.replace('raise ValueError("the check did not pass")', 'print("fixed")'))
            return "r"
        return ""

    assert lessons.run_lesson(path, step=True, read=fix_then_rerun) is True
    out = capsys.readouterr().out
    assert "ValueError: the check did not pass" in out and "fixed" in out
    with pytest.raises(CellFailed):
        lessons.run_lesson(write(tmp_path, "08_again.py", failing), step=True, read=answers("", "q"))
