"""The ``tinymed exercise`` command: list, start, check and build the course's exercises.

:func:`add_exercise_command` adds it to the ``tinymed`` parser. The work is imported only when a
subcommand runs, so the rest of ``tinymed`` neither waits for nor needs hypothesis.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

_COURSE_EXTRA = "grading needs hypothesis: pip install 'tinymed[course]'"


def _list(args) -> int:
    from .catalog import EXERCISES
    from .grader import parts

    for ex in EXERCISES.values():
        points = sum(p.points for p in parts(ex))
        print(f"{ex.name:24s} {points:3d} points  {ex.title}\n{'':36s}{ex.lesson}")
    print(f"\n{len(EXERCISES)} exercises; start one with: tinymed exercise start NAME [--to DIR] [--notebook]")
    return 0


def _start(args) -> int:
    from .catalog import get
    from .templates import write_student_files

    exercise = get(args.name)
    target = Path(args.to) / f"{exercise.name}.py"
    if target.exists() and not args.force:
        print(f"tinymed: {target} exists; keep your work, or pass --force to overwrite it", file=sys.stderr)
        return 2
    for path in write_student_files(exercise, args.to, notebook=args.notebook):
        print(f"wrote {path}")
    print(f"write the functions in {target}, then grade them with: tinymed exercise check {target}")
    return 0


def _check(args) -> int:
    from .catalog import EXERCISES, get
    from .report import merge
    from .sandbox import check_file
    from .templates import write_student_files

    if bool(args.files) == bool(args.solution):
        print("tinymed: give either the FILE(s) to check or --solution NAME", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        if args.solution:
            names = list(EXERCISES) if args.solution == "all" else [get(args.solution).name]
            files = [write_student_files(get(n), scratch, solution=True)[0] for n in names]
        else:
            files = args.files
        results = [check_file(f, timeout=args.timeout) for f in files]
    for result in results:
        print(result)
    total = merge(results)
    if len(results) > 1:
        print(f"\ntotal: {total.score:g}/{total.max_score:g}")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(total.to_gradescope(), indent=2) + "\n")
        print(f"wrote {path}")
    return 0 if total.passed else 1


def _build(args) -> int:
    from .templates import build

    written = build(args.to)
    print(f"wrote {len(written)} files under {args.to}: student/ (to hand out) and solution/ (tinymed's own code)")
    return 0


def _run(handler):
    """The handler, with the errors a user can fix reported in one line (exit status 2)."""
    def run(args):
        try:
            from .catalog import UnknownExercise
            from .loading import SubmissionError
        except ImportError as exc:
            print(f"tinymed: {_COURSE_EXTRA} ({exc})", file=sys.stderr)
            return 2
        try:
            return handler(args)
        except (UnknownExercise, SubmissionError) as exc:
            print(f"tinymed: {exc}", file=sys.stderr)
            return 2
    return run


def add_exercise_command(subparsers) -> None:
    """Add ``tinymed exercise ...`` to the ``tinymed`` parser's ``subparsers``."""
    p = subparsers.add_parser("exercise", help="the course kit: exercises to write, and an autograder that "
                                                "explains mistakes")
    sub = p.add_subparsers(dest="exercise_command", metavar="SUBCOMMAND", required=True)

    q = sub.add_parser("list", help="the exercises, their points and their lessons")
    q.set_defaults(func=_run(_list))

    q = sub.add_parser("start", help="write a student's file for an exercise (signature, formula, TODO)")
    q.add_argument("name", metavar="NAME", help="the exercise (see: tinymed exercise list)")
    q.add_argument("--to", metavar="DIR", default=".", help="folder to write it into (default: here)")
    q.add_argument("--notebook", action="store_true", help="also write a jupytext notebook, NAME_notebook.py")
    q.add_argument("--force", action="store_true", help="overwrite a file that exists")
    q.set_defaults(func=_run(_start))

    q = sub.add_parser("check", help="grade a student's file(s); exit status 1 when marks are lost")
    q.add_argument("files", metavar="FILE", nargs="*", help="the file(s) to grade (.py, jupytext or .ipynb)")
    q.add_argument("--solution", metavar="NAME", help="grade tinymed's own solution of NAME (or 'all') instead")
    q.add_argument("--json", metavar="PATH", help="also write Gradescope's results.json there")
    q.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="time limit of each graded part (default 60)")
    q.set_defaults(func=_run(_check))

    q = sub.add_parser("build", help="write a course's student set and solution set (scripts and notebooks)")
    q.add_argument("--to", metavar="DIR", required=True, help="folder to write student/ and solution/ into")
    q.set_defaults(func=_run(_build))
