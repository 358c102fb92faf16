"""Grading a student's file in a subprocess, with a time limit per part.

A student's infinite loop or crash must never hang or kill the grader. So the file is graded by
:mod:`.worker` in a child process that reports each part as soon as it is done. If no report comes
within ``timeout`` seconds, the child is killed, that part scores 0 ("did not finish"), and a new
child goes on with the next part; if the child dies (a segfault, ``os._exit``), the part it was on
scores 0 with the end of what it wrote to standard error. A file whose top level never finishes,
or raises, scores 0 on every part, with the reason.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .catalog import get
from .grader import parts
from .loading import SubmissionError, exercise_name
from .report import PartResult, Result

DEFAULT_TIMEOUT = 60.0
"""Seconds a part may take (a correct solution takes well under one)."""

_STARTUP = 30.0  # seconds more for the child to start: Python, NumPy, hypothesis and tinymed


def _child_environment():
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds the tinymed package
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPLBACKEND"] = "Agg"
    # hypothesis keeps a cache folder; not in the student's folder
    env.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "tinymed-exercises-hypothesis"))
    return env


def _kill(child):
    """End the child and whatever it started (a student's code may start processes of its own)."""
    if hasattr(os, "killpg"):
        os.killpg(child.pid, signal.SIGKILL)
    else:
        child.kill()
    child.wait()


def _read_lines(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def _tail(err, limit=1500) -> str:
    err.seek(0)
    text = err.read().decode("utf-8", errors="replace").strip()
    return ("..." + text[-limit:]) if len(text) > limit else text


def _timed_out(todo, current, timeout, results) -> int:
    """Part ``current`` ran out of time: it scores 0, and so do the other parts of its function (a
    function that loops forever on one input usually does on the next, and each try costs the whole
    time limit). Returns the first part of the next function."""
    task = todo[current].task
    results[current] = PartResult(todo[current].name, 0, todo[current].points,
                                  f"did not finish within {timeout:g} s: an infinite loop?")
    after = current + 1
    while after < len(todo) and todo[after].task is task:
        results[after] = PartResult(todo[after].name, 0, todo[after].points,
                                    f"not graded: {task.name} did not finish within {timeout:g} s in an earlier part")
        after += 1
    return after


def _ended(code, printed, todo, current, results):
    """The child has exited: normally after the last part, or during part ``current`` (``None``: before
    the file loaded), which then scores 0 with the end of what it printed."""
    if current is None:
        return len(todo), f"the grader's process died (exit status {code}):\n{printed}"
    if current < len(todo):
        results[current] = PartResult(todo[current].name, 0, todo[current].points,
                                      f"the grader's process died (exit status {code}) during this part"
                                      + (f"; what it printed last:\n{printed}" if printed else ""))
        current += 1
    return current, ""


def _run_child(path, exercise, first, timeout, results):
    """Grade parts ``first...`` in one child; returns the next part to start from and a message
    about the whole file (why it did not load), filling ``results`` as reports come in."""
    todo = parts(exercise)
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-m", "tinymed.exercises.worker", str(path), exercise.name,
                                  str(first)], stdout=subprocess.PIPE, stderr=err, env=_child_environment(),
                                 start_new_session=True, text=True)
        lines = queue.Queue()
        threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True).start()
        current, started = None, False  # the part being graded; None while the child starts and the file loads
        while True:
            try:
                line = lines.get(timeout=timeout if started else timeout + _STARTUP)
            except queue.Empty:
                _kill(child)
                if current is None:
                    return len(todo), f"loading {Path(path).name} did not finish within {timeout:g} s"
                return _timed_out(todo, current, timeout, results), ""
            if line is None:
                return _ended(child.wait(), _tail(err), todo, current, results)
            message = json.loads(line)
            if "ready" in message:
                started = True
            elif "loaded" in message:
                if not message["loaded"]:
                    child.wait()
                    return len(todo), f"{Path(path).name} could not be loaded:\n{message['error']}"
                current = first
            else:
                index = message.pop("index")
                results[index] = PartResult(**message)
                current = index + 1


def check_file(path, timeout=DEFAULT_TIMEOUT, exercise=None) -> Result:
    """Grade the student's file ``path`` (a script or a notebook) in subprocesses, ``timeout``
    seconds per part. The exercise is the file's ``EXERCISE`` (see
    :func:`~tinymed.exercises.loading.exercise_name`) unless ``exercise`` names it."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"no such file: {path}")
    exercise = get(exercise or exercise_name(path))
    todo = parts(exercise)
    results = [None] * len(todo)
    start, first, messages = time.perf_counter(), 0, []
    while first < len(todo):
        first, message = _run_child(path.resolve(), exercise, first, timeout, results)
        messages += [message] if message else []
    for k, part in enumerate(todo):
        if results[k] is None:
            results[k] = PartResult(part.name, 0, part.points, messages[-1] if messages else "not graded")
    return Result(exercise.name, exercise.title, results, "\n".join(messages), time.perf_counter() - start)
