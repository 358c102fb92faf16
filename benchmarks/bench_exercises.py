"""How long ``tinymed exercise check`` takes: tinymed's own solution of every exercise, graded in
subprocesses as a student's file is (the target: under 10 s per exercise on 2 cores), beside the
same grading in this process (the subprocesses' cost is the difference), and a wrong solution --
each exercise's first known mistake -- graded here (hypothesis's search and shrinking).

    python benchmarks/bench_exercises.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import print_table, save  # noqa: E402
from tinymed.exercises import EXERCISES, check_file, grade  # noqa: E402
from tinymed.exercises.templates import write_student_files  # noqa: E402


def _timed(fn):
    """``(seconds, fn())``."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _row(exercise, scratch) -> dict:
    references = {t.name: t.reference for t in exercise.tasks}
    path = write_student_files(exercise, scratch, solution=True)[0]
    checked, result = _timed(lambda: check_file(path))
    assert result.passed, str(result)
    here, _ = _timed(lambda: grade(exercise, references))
    task = next(t for t in exercise.tasks if t.mistakes)
    wrong, wrong_result = _timed(lambda: grade(exercise, {**references, task.name: task.mistakes[0].variant}))
    assert not wrong_result.passed
    return {"exercise": exercise.name, "check (s)": checked, "in process (s)": here,
            "subprocesses (s)": checked - here, "wrong, in process (s)": wrong,
            "mistake": f"{task.name}: {task.mistakes[0].name}"}


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        rows = [_row(exercise, scratch) for exercise in EXERCISES.values()]
    print_table(rows, list(rows[0]))
    worst = max(r["check (s)"] for r in rows)
    print(f"slowest check of a correct solution: {worst:.1f} s (target: under 10 s on 2 cores)")
    path = save("exercises", {"rows": rows, "slowest_check_seconds": worst, "target_seconds": 10})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
