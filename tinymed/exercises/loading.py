"""Reading a student's file: its source (a script, a jupytext script or a Jupyter ``.ipynb``), which
exercise it answers, and the module it makes."""

from __future__ import annotations

import ast
import json
import sys
import types
from pathlib import Path


class SubmissionError(ValueError):
    """A file that cannot be read, or that does not say which exercise it answers."""


def source_of(path) -> str:
    """The Python source of ``path``: the file, or the code cells of a Jupyter notebook."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"cannot read {path}: {exc}") from None
    if path.suffix != ".ipynb":
        return text
    try:
        cells = json.loads(text)["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c.get("cell_type") == "code")
    except (ValueError, KeyError, TypeError) as exc:
        raise SubmissionError(f"{path} is not a Jupyter notebook ({type(exc).__name__}: {exc})") from None


def exercise_name(path) -> str:
    """The exercise ``path`` answers: its ``EXERCISE = "name"`` line (every file ``tinymed exercise
    start`` writes has one), else the file's name without ``.py`` or ``_notebook.py``."""
    try:
        tree = ast.parse(source_of(path))
    except SyntaxError:
        tree = ast.Module(body=[], type_ignores=[])
    for node in tree.body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["EXERCISE"]
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    stem = Path(path).name.split(".")[0]
    return stem[: -len("_notebook")] if stem.endswith("_notebook") else stem


def load(path) -> types.ModuleType:
    """Run the file as a fresh module (its folder first on ``sys.path``, so it may import its
    neighbours) and return it. Whatever its top level raises propagates."""
    path = Path(path).resolve()
    module = types.ModuleType(f"submission_{path.stem.replace('.', '_')}")
    module.__file__ = str(path)
    sys.path.insert(0, str(path.parent))
    exec(compile(source_of(path), str(path), "exec"), module.__dict__)
    return module
