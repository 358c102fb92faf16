"""Every expected command-line error is one line on stderr with exit status 2 and no traceback
(``--debug`` shows it); ``--version`` works; a bare lesson name never runs a file of the current
folder."""

import pytest

from tinymed import cli
from tinymed.lessons import OutDirError

# (arguments, texts the one line must hold); {file} is an existing file, {read_only} a folder
# nobody may write into, {out} a fresh folder
BAD_INVOCATIONS = [
    (["demo", "--epochs", "0"], ["--epochs", "expected a whole number of at least 1, got 0"]),
    (["demo", "--epochs", "-3"], ["--epochs", "got -3"]),
    (["demo", "--epochs", "many"], ["--epochs", "got 'many'"]),
    (["demo", "--seed", "-1"], ["--seed", "expected a whole number from 0 to 4294967295, got -1"]),
    (["demo", "--seed", str(2**32)], ["--seed", "got 4294967296"]),
    (["demo", "--blas-threads", "-1"], ["--blas-threads", "got -1"]),
    (["demo", "--data", "xray"], ["--data", "invalid choice: 'xray'"]),
    (["demo", "--out", "{file}"], ["output folder", "is a file, not a folder"]),
    (["demo", "--out", "{read_only}"], ["cannot write into the output folder", "Permission denied"]),
    (["demo", "--out", "{file}/sub"], ["cannot create the output folder"]),
    (["lesson", "1", "--out", "{file}"], ["--out folder", "is a file, not a folder"]),
    (["lesson", "1", "--out", "{read_only}"], ["cannot write into the --out folder"]),
    (["lesson", "99"], ["no lesson '99'", "available lessons: 01"]),
    (["lesson", "convolution"], ["no lesson 'convolution'"]),
    (["lesson", "./no-such-lesson.py"], ["cannot read lesson file"]),
    (["lesson", "1", "--backend", "tensorflow"], ["invalid choice: 'tensorflow'"]),
    (["lesson", "1", "--copy-to", "{file}"], ["cannot copy lesson 01"]),
    (["lessons", "--copy-to", "{file}"], ["cannot copy lesson 01"]),
    (["gradcheck", "--seed", "-1"], ["--seed", "got -1"]),
    (["gradcheck", "--json", "{out}"], ["--json", "is a folder"]),
    (["no-such-command"], ["invalid choice: 'no-such-command'"]),
    (["demo", "--no-such-option"], ["unrecognized arguments: --no-such-option"]),
]


def _arguments(args, tmp_path, request):
    file = tmp_path / "a-file"
    file.write_text("not a folder")
    places = {"file": file, "out": tmp_path / "out", "read_only": None}
    if any("{read_only}" in a for a in args):
        places["read_only"] = request.getfixturevalue("read_only_folder")
    (tmp_path / "out").mkdir(exist_ok=True)
    return [a.format(**places) for a in args]


@pytest.mark.parametrize("args, expected", BAD_INVOCATIONS, ids=[" ".join(a) for a, _ in BAD_INVOCATIONS])
def test_a_bad_invocation_is_one_line_and_exit_status_2(args, expected, tmp_path, request, capsys, clean_error):
    status = cli.main(_arguments(args, tmp_path, request))
    assert status == 2
    clean_error(capsys.readouterr().err, *expected)


@pytest.mark.parametrize("data, expected", [
    ("pneumoniamnist", ["not a readable MedMNIST .npz file", "starts with b'<htm'", "download it again"]),
])
def test_a_corrupt_medmnist_file_is_a_clear_error_when_asked_for(data, expected, corrupt_medmnist, tmp_path, capsys,
                                                                  clean_error):
    assert cli.main(["demo", "--quick", "--data", data, "--out", str(tmp_path / "out")]) == 2
    clean_error(capsys.readouterr().err, *expected)


def test_a_missing_medmnist_file_says_how_to_get_it_on_one_line(tmp_path, monkeypatch, capsys, clean_error):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cli.main(["demo", "--data", "pneumoniamnist", "--out", str(tmp_path / "out")]) == 2
    clean_error(capsys.readouterr().err, "pneumoniamnist.npz not found", "pip install medmnist")


def test_debug_shows_the_traceback_instead(tmp_path):
    with pytest.raises(cli.UsageError, match="--epochs"):
        cli.main(["--debug", "demo", "--epochs", "0"])
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutDirError, match="is a file"):
        cli.main(["demo", "--out", str(tmp_path / "a-file"), "--debug"])


def test_an_unexpected_error_is_still_one_line(monkeypatch, capsys, clean_error):
    from tinymed import lessons

    def broken():
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(lessons, "find_lessons", broken)
    assert cli.main(["lessons"]) == 1
    clean_error(capsys.readouterr().err, "internal error: ZeroDivisionError", "--debug")


def test_version_and_help(capsys):
    import tinymed

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"tinymed {tinymed.__version__}"
    assert cli.main(["demo", "--help"]) == 0
    assert "--blas-threads" in capsys.readouterr().out


# ----- through the console entry point, as a user runs it -------------------------------------
@pytest.mark.parametrize("args, expected", [
    (["demo", "--epochs", "0"], "--epochs"),
    (["lesson", "99"], "no lesson '99'"),
    (["demo", "--seed", "-1"], "--seed"),
])
def test_the_console_command_prints_no_traceback(args, expected, tinymed_command, clean_error):
    result = tinymed_command(*args)
    assert result.returncode == 2
    clean_error(result.stderr, expected)


def test_the_console_command_with_debug_prints_the_traceback(tinymed_command):
    result = tinymed_command("--debug", "lesson", "99")
    assert result.returncode != 0 and "Traceback" in result.stderr and "LessonError" in result.stderr


def test_the_console_command_version(tinymed_command):
    result = tinymed_command("--version")
    assert result.returncode == 0 and result.stdout.startswith("tinymed ")


def test_a_bare_lesson_name_never_runs_a_file_of_the_current_folder(tmp_path, tinymed_command, clean_error):
    """Planted files named like lessons: a bare name is looked up among the lessons only."""
    marker = tmp_path / "ran"
    planted = (f"# %% [markdown]\n# # Lesson 02 — Planted\n# Not a lesson.\n\n# %%\n"
               f"open({str(marker)!r}, 'w').write('planted code ran')\n")
    (tmp_path / "02_convolution.py").write_text(planted)
    (tmp_path / "evil.py").write_text(planted)
    refused = tinymed_command("lesson", "evil.py")
    assert refused.returncode == 2
    clean_error(refused.stderr, "no lesson 'evil.py'", "give its path: ./evil.py")
    copied = tinymed_command("lesson", "02_convolution.py", "--copy-to", tmp_path / "copy")
    assert copied.returncode == 0, copied.stderr
    assert "Planted" not in (tmp_path / "copy" / "02_convolution.py").read_text()  # the real lesson 02
    assert not marker.exists()
