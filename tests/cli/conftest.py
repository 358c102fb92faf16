"""Shared by the command-line tests: running ``tinymed`` as a user does, and what a clean error is."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tinymed_command(tmp_path):
    """``tinymed_command(*args, cwd=..., env=...)``: ``python -m tinymed.cli ARGS`` in a fresh
    process (the console entry point's path), from ``cwd`` (default: an empty folder); finished
    (a ``CompletedProcess``), or with ``wait=False`` still running (a ``Popen``, with SIGINT at
    its default, which a shell's background job would otherwise have set to ignored)."""
    def run(*args, cwd=None, env=None, timeout=300, wait=True):
        command = [sys.executable, "-m", "tinymed.cli", *map(str, args)]
        options = {"cwd": cwd or tmp_path, "text": True,
                   "env": {**os.environ, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg", **(env or {})}}
        if not wait:  # Ctrl-C must reach it even when the tests themselves run in the background
            return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **options)
        return subprocess.run(command, capture_output=True, timeout=timeout, **options)
    return run


@pytest.fixture
def clean_error():
    """``clean_error(stderr, *expected)``: the error is one line, holds each expected text, and
    no traceback was printed."""
    def check(stderr: str, *expected: str) -> str:
        lines = [line for line in stderr.splitlines() if line.strip()]
        assert "Traceback" not in stderr, stderr
        assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
        for text in expected:
            assert text in lines[0], f"{text!r} not in {lines[0]!r}"
        return lines[0]
    return check


@pytest.fixture
def read_only_folder(tmp_path, monkeypatch):
    """A folder nobody may write into.  Root may write anywhere, so for root the probe that tinymed
    makes (a temporary file in the folder) is refused as the kernel refuses it for anyone else."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:
        real = tempfile.TemporaryFile

        def refuse(*args, dir=None, **kwargs):
            if dir is not None and Path(dir).resolve() == folder.resolve():
                raise PermissionError(13, "Permission denied", str(folder))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def corrupt_medmnist(tmp_path, monkeypatch):
    """A home folder whose ``~/.medmnist/pneumoniamnist.npz`` is a damaged download; HOME points at it."""
    home = tmp_path / "home"
    (home / ".medmnist").mkdir(parents=True)
    (home / ".medmnist" / "pneumoniamnist.npz").write_bytes(b"<html>503 Service Unavailable</html>\n")
    monkeypatch.setenv("HOME", str(home))
    return home
