"""The layers of ARCHITECTURE.md hold: at run time (what an import loads) and in the source (the
import-linter contracts in pyproject.toml, which fail on a deliberate violation)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def modules_loaded_by(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(m for m in sys.modules if m.startswith('tinymed'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return set(out.stdout.split())


@pytest.mark.parametrize("statement, must_not_load", [
    ("import tinymed", ("tinymed.nn", "tinymed.ops", "tinymed.keras", "tinymed.optim")),
    ("import tinymed.nn", ("tinymed.optim", "tinymed.metrics", "tinymed.keras", "tinymed.progress")),
    ("import tinymed.optim", ("tinymed.nn", "tinymed.keras")),
    ("import tinymed.graph", ("tinymed.recsys", "tinymed.nn")),
    ("import tinymed.recsys", ("tinymed.graph", "tinymed.nn")),
])
def test_an_import_loads_nothing_from_the_layers_above_or_beside_it(statement, must_not_load):
    loaded = modules_loaded_by(statement)
    wrong = sorted(m for m in loaded if m.split(".")[:2] in [p.split(".") for p in must_not_load])
    assert not wrong, f"{statement} loads {wrong}"


def lint_imports(tree):
    tool = shutil.which("lint-imports")
    if tool is None:
        pytest.skip("import-linter is not installed (pip install '.[lint]')")
    return subprocess.run([tool, "--no-cache"], capture_output=True, text=True, cwd=tree,
                          env={"PYTHONPATH": str(tree), "PATH": str(Path(tool).parent)})


def test_the_contracts_hold_and_a_deliberate_violation_breaks_them(tmp_path):
    kept = lint_imports(ROOT)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    # the same tree with one upward import: the PyTorch-style core reaching for the Keras adapter
    shutil.copytree(ROOT / "tinymed", tmp_path / "tinymed", ignore=shutil.ignore_patterns("__pycache__", "*.nbi",
                                                                                          "*.nbc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    module = tmp_path / "tinymed" / "nn" / "module.py"
    module.write_text(module.read_text() + "\nfrom ..keras import models  # noqa: E402\n")
    broken = lint_imports(tmp_path)
    assert broken.returncode != 0
    assert "tinymed.nn.module -> tinymed.keras.models" in broken.stdout
