"""The files a course hands out: a student's file (signature, docstring, formula, a ``TODO`` body),
the teacher's solution (the same file, each body tinymed's own code), and jupytext notebooks
around either.

A solution's body is the source of the task's reference -- a few lines that call tinymed -- with
the imports those lines need, so the solution set always is the library's code, never a copy.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import re
import sys
import textwrap
from pathlib import Path

from .catalog import EXERCISES


def _header(exercise, filename) -> str:
    how = (f"Learn it in {exercise.lesson}. Write every function below (replace each ``raise "
           "NotImplementedError``), then grade your work with")
    after = f"With full marks, compare with tinymed's own code: {exercise.source}."
    return (f'r"""Exercise {exercise.name}: {exercise.title}.\n\n{textwrap.fill(exercise.intro, 96)}\n\n'
            f".. math:: {exercise.formula}\n\n{textwrap.fill(how, 96)}\n\n"
            f"    tinymed exercise check {filename}\n\n{textwrap.fill(after, 96)}\n" + '"""\n')


def _stub(task) -> str:
    return (f"def {task.name}({', '.join(task.params)}):\n"
            f'    r"""{task.doc}\n    """\n'
            f"    # TODO: your code here\n"
            f'    raise NotImplementedError("{task.name} is not written yet")\n')


def _solution_body(task) -> str:
    """The reference's definition with the task's docstring: the lines after its ``def`` line."""
    source = textwrap.dedent(inspect.getsource(task.reference))
    node = ast.parse(source).body[0]
    lines = source.splitlines()
    body = "\n".join(lines[node.body[0].lineno - 1:])
    return f"{lines[node.lineno - 1]}\n" + f'    r"""{task.doc}\n    """\n' + body + "\n"


def _bound_names(module) -> dict:
    """``name -> import statement`` for every name ``module``'s top-level imports bind (absolute)."""
    statements = {}
    for node in ast.parse(inspect.getsource(module)).body:
        for alias in getattr(node, "names", ()) if isinstance(node, (ast.Import, ast.ImportFrom)) else ():
            name = alias.asname or alias.name.split(".")[0]
            renamed = f" as {alias.asname}" if alias.asname else ""
            if isinstance(node, ast.Import):
                statements[name] = f"import {alias.name}{renamed}"
            else:
                origin = importlib.util.resolve_name("." * node.level + (node.module or ""), module.__package__)
                statements[name] = f"from {origin} import {alias.name}{renamed}"
    return statements


def _solution_imports(tasks) -> list:
    """The imports the references of ``tasks`` use (a helper of the exercise is imported from it)."""
    lines = []
    for task in tasks:
        module = sys.modules[task.reference.__module__]
        bound = _bound_names(module)
        tree = ast.parse(textwrap.dedent(inspect.getsource(task.reference)))
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        for name in sorted(used - set(task.params) - set(dir(builtins))):
            line = bound.get(name) or f"from {module.__name__} import {name}"
            if name in vars(module) and line not in lines:
                lines.append(line)
    return lines


def _merged(lines) -> list:
    """Import lines with every ``from M import a`` of one module ``M`` made one line."""
    plain, names = [], {}
    for line in lines:
        if line.startswith("from "):
            module, name = line[len("from "):].split(" import ")
            names.setdefault(module, []).append(name)
        elif line not in plain:
            plain.append(line)
    return plain + [f"from {module} import {', '.join(found)}" for module, found in names.items()]


def student_source(exercise, filename=None) -> str:
    """The student's file: the header, ``import numpy as np``, ``EXERCISE = ...`` and one stub per task."""
    filename = filename or f"{exercise.name}.py"
    return "\n".join([_header(exercise, filename), "import numpy as np", "", f'EXERCISE = "{exercise.name}"', ""]
                     + ["\n" + _stub(t) for t in exercise.tasks])


def solution_source(exercise, filename=None) -> str:
    """The teacher's file: the student's, with every body the reference's (tinymed's own code)."""
    filename = filename or f"{exercise.name}.py"
    imports = _merged(["import numpy as np"] + _solution_imports(exercise.tasks))
    return "\n".join([_header(exercise, filename)] + imports + ["", f'EXERCISE = "{exercise.name}"', ""]
                     + ["\n" + _solution_body(t) for t in exercise.tasks])


def _markdown(text) -> str:
    """A docstring as notebook markdown: ``:math:`x``` becomes ``$x$``, roles and double backquotes go."""
    text = re.sub(r":math:`([^`]*)`", r"$\1$", text)
    text = re.sub(r":\w+:`([^`]*)`", r"`\1`", text)
    return text.replace("``", "`")


def _commented(text) -> str:
    return "\n".join("# " + line if line.strip() else "#" for line in textwrap.dedent(text).splitlines())


def notebook_source(exercise, solution=False) -> str:
    """A jupytext (percent format) notebook around the student's functions, or the solution's:
    the formula, one markdown and one code cell per function, and a cell that grades them."""
    filename = f"{exercise.name}_notebook.py"
    code = solution_source(exercise, filename) if solution else student_source(exercise, filename)
    definitions = code.split("\n\n\ndef ")
    intro = (f"# Exercise {exercise.name} — {exercise.title}\n{exercise.intro}\n\n$${exercise.formula}$$\n\n"
             f"Learn it in {exercise.lesson}. With full marks, compare with tinymed's own code: {exercise.source}.")
    preamble = definitions[0].split('"""\n', 2)[-1].strip()
    cells = [f"# %% [markdown]\n{_commented(intro)}", f"# %%\n{preamble}"]
    for task, definition in zip(exercise.tasks, definitions[1:]):
        cells.append(f"# %% [markdown]\n# ## `{task.name}({', '.join(task.params)})`\n#\n"
                     + _commented(_markdown(task.doc.split("\n", 1)[0])))
        cells.append(f"# %%\ndef {definition.strip()}")
    cells.append("# %% [markdown]\n" + _commented(
        "## Check your work\nThe next cell grades the functions above, here in the notebook. In a terminal,\n"
        f"`tinymed exercise check {filename}` grades this file with a time limit."))
    cells.append('# %%\nif __name__ == "__main__":\n    from tinymed.exercises import grade\n\n'
                 "    print(grade(EXERCISE, globals()))")
    return "\n\n".join(cells) + "\n"


def write_student_files(exercise, directory, notebook=False, solution=False) -> list:
    """Write ``NAME.py`` (and ``NAME_notebook.py``) into ``directory``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / f"{exercise.name}.py"
    script.write_text(solution_source(exercise) if solution else student_source(exercise), encoding="utf-8")
    written = [script]
    if notebook:
        written.append(directory / f"{exercise.name}_notebook.py")
        written[-1].write_text(notebook_source(exercise, solution), encoding="utf-8")
    return written


def build(directory) -> list:
    """A course's set: ``student/`` and ``solution/``, every exercise as a script and a notebook."""
    directory = Path(directory)
    return [path for exercise in EXERCISES.values() for kind in ("student", "solution")
            for path in write_student_files(exercise, directory / kind, notebook=True, solution=kind == "solution")]
