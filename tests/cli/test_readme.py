"""The README's backend snippet and its debugger session work exactly as printed."""

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import tinymed

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MY_SCRIPT = """\
import numpy as np
import tinymed
import tinymed.nn.functional as F

tinymed.use("numba")
x = tinymed.Tensor(np.arange(16.0).reshape(1, 1, 4, 4))
print(F.max_pool2d(x, 2).numpy())
"""


def _block_after(heading: str, language: str, containing: str) -> str:
    section = README[README.index(heading):]
    for block in re.findall(rf"```{language}\n(.*?)```", section, re.S):
        if containing in block:
            return block
    raise AssertionError(f"no {language} block with {containing!r} after {heading!r}")


def test_the_backend_snippet_runs_verbatim():
    code = _block_after("## Backends: one switch", "python", 'tinymed.use("numpy")')
    printed = io.StringIO()
    with tinymed.using(tinymed.current()), contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    assert printed.getvalue().split() == ["numba", "numpy"]


def test_the_debugger_session_stops_in_the_kernel(tmp_path):
    session = _block_after("### Stepping through a JIT kernel", "text", "(Pdb)")
    command, *typed = [line for line in session.splitlines() if line.strip()]
    assert command == "$ NUMBA_DISABLE_JIT=1 python -m pdb my_script.py"
    (tmp_path / "my_script.py").write_text(MY_SCRIPT)
    answers = "".join(line.removeprefix("(Pdb) ") + "\n" for line in typed) + "where\np kh, kw\nquit\n"
    result = subprocess.run([sys.executable, "-m", "pdb", "my_script.py"], input=answers, capture_output=True,
                            text=True, cwd=tmp_path, timeout=300,
                            env={**os.environ, "NUMBA_DISABLE_JIT": "1", "PYTHONPATH": str(ROOT)})
    assert "tinymed/kernels/numba/pool.py" in result.stdout and "_max_pool()" in result.stdout, \
        result.stdout + result.stderr
    assert "(2, 2)" in result.stdout  # the kernel's own variables, at the breakpoint
