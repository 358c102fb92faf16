"""The ``tinymed`` command: ``demo``, ``lessons``, ``lesson N``, ``gradcheck``, ``info``.

Each subcommand is a function ``_add_<name>(subcommands)`` that adds its parser and sets the
function to run; :data:`SUBCOMMANDS` lists them, so adding a command is one function and one
entry there.

Errors: a mistake the user can fix -- a bad argument, a folder that cannot be written, a missing
or damaged data file, an unknown lesson or backend -- ends the command with **one line** on
stderr, ``tinymed: ...``, and exit status 2, never a traceback (``tinymed --debug ...`` shows
it).  A lesson whose cell fails exits 1 with the lesson's own traceback; Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .exercises.cli import add_exercise_command

# exit statuses
USAGE, FAILED, INTERRUPTED = 2, 1, 130
MAX_SEED = 2**32 - 1


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``tinymed demo: argument --epochs: ...``), raised
    as :class:`UsageError` instead of printing the whole usage and exiting."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # accepted before or after the subcommand; main() reads it from the raw arguments
        self.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                          help="show the full traceback of an error")

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see: {self.prog} --help)")


# ----- argument types ------------------------------------------------------------------------
def whole_number(low: int, high: int | None = None):
    """An argument type: a whole number from ``low`` (up to ``high``), refused with a message that
    says so (``--epochs 0``: "expected a whole number of at least 1, got 0")."""
    expected = f"a whole number of at least {low}" if high is None else f"a whole number from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


positive_int, non_negative_int, seed = whole_number(1), whole_number(0), whole_number(0, MAX_SEED)


def one_line(message) -> str:
    """``message`` with its lines joined: every error the command prints is a single line."""
    return " ".join(str(message).split())


# ----- gradcheck -----------------------------------------------------------------------------
def _add_gradcheck(sub) -> None:
    p = sub.add_parser("gradcheck", help="check every op's backward against central differences (and PyTorch)")
    p.add_argument("--backend", action="append", choices=["numpy", "numba", "cupy"],
                   help="backend to check (repeatable; default: every installed backend)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--seed", type=seed, default=0, help="seed of the test inputs (default 0)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case as it runs")
    p.set_defaults(func=_gradcheck)


def _gradcheck(args) -> int:
    from . import backend, gradcheck_suite, threads

    names = args.backend or backend.available()
    for name in names:
        backend.use(name)  # fail early, with the backend's own message, if it is unavailable
    with_torch = not args.no_torch and gradcheck_suite.torch_available()
    if args.json:
        json_path = Path(args.json)
        if json_path.is_dir():
            raise UsageError(f"gradcheck: --json {json_path} is a folder; give a file name")

    def progress(be, op, label, err):
        if args.verbose:
            print(f"  [{be}] {op:34s} {label:40s} {err:.2e}", file=sys.stderr)

    print(f"tinymed gradcheck: float64, central differences, every element; backends: {', '.join(names)}"
          + ("; comparing with PyTorch" if with_torch else "; no PyTorch comparison"), file=sys.stderr)
    rows = gradcheck_suite.run(names, seed=args.seed, with_torch=with_torch, progress=progress)
    print(gradcheck_suite.format_table(rows))
    payload = gradcheck_suite.as_json(rows)
    payload["threads"] = threads.thread_settings()
    failed = [r for r in rows if not r.passed]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} op/backend pairs pass "
          f"(tolerance: worst relative error <= {payload['tolerance']:.0e})")
    print(threads.describe(payload["threads"]))
    if args.json:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {json_path}")
    return FAILED if failed else 0


# ----- info ----------------------------------------------------------------------------------
def _add_info(sub) -> None:
    p = sub.add_parser("info", help="version, available backends and thread settings")
    p.set_defaults(func=_info)


def _info(args) -> int:
    from . import backend, threads

    print(f"tinymed {__version__}")
    print(f"active backend: {backend.current()}")
    for name in backend.BACKENDS:
        try:
            backend._check_available(name)
            status = "available"
        except backend.BackendError as exc:
            status = f"unavailable ({one_line(exc)})"
        print(f"  {name:6s} {status}")
    print(threads.describe(threads.thread_settings()))
    return 0


# ----- lessons -------------------------------------------------------------------------------
def _add_lessons(sub) -> None:
    p = sub.add_parser("lessons", help="list the lessons (number, title, summary), or copy them all")
    p.add_argument("--copy-to", metavar="DIR", help="copy every lesson into DIR, to edit and run your own copies")
    p.set_defaults(func=_lessons)


def _lessons(args) -> int:
    from . import lessons

    found = lessons.find_lessons()
    if args.copy_to:
        for lesson in found:
            lessons.copy_lesson(lesson, args.copy_to)
        print(f"copied {len(found)} lessons into {args.copy_to}; edit one, then run it by its path, e.g.: "
              f"tinymed lesson {Path(args.copy_to) / found[0].path.name} --step" if found else "no lessons to copy")
        return 0
    print(lessons.format_listing(found))
    print(f"\n{len(found)} lessons in {lessons.lessons_dir()}; run one with: tinymed lesson N [--step]")
    return 0


def _add_lesson(sub) -> None:
    p = sub.add_parser("lesson", help="run a lesson, optionally one cell at a time (--step)")
    p.add_argument("lesson", metavar="N",
                   help="lesson number (2), name (02_convolution) or a path to a lesson file (./my_02.py); "
                        "a bare name is looked up among the lessons, never in the current folder")
    p.add_argument("--step", action="store_true",
                   help="pause after each cell (Enter: next, r: rerun, q: quit); needs a terminal")
    p.add_argument("--out", metavar="DIR", help="folder for the figures (default ./tinymed-out/; sets TINYMED_OUT)")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"],
                   help="backend to run on (default: numba if installed)")
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds per lesson (sets TINYMED_QUICK=1)")
    p.add_argument("--copy-to", metavar="DIR",
                   help="copy the lesson's file into DIR for you to edit, and stop (run the copy by its path)")
    p.set_defaults(func=_lesson)


def _lesson(args) -> int:
    from . import backend, lessons

    lesson = lessons.find_lesson(args.lesson)
    if args.copy_to:
        path = lessons.copy_lesson(lesson, args.copy_to)
        print(f"copied lesson {lesson.number:02d} to {path}; edit it, then run it with: tinymed lesson {path} --step")
        return 0
    if args.out:
        lessons.writable_folder(args.out, "--out folder")
        os.environ["TINYMED_OUT"] = args.out
    else:
        lessons.out_dir()  # the default folder, checked before the first cell runs
    if args.quick:
        os.environ["TINYMED_QUICK"] = "1"
    if args.backend:
        backend.use(args.backend)
    step = args.step and sys.stdin.isatty()
    if args.step and not step:
        print("tinymed: stdin is not a terminal, so --step runs the lesson straight through", file=sys.stderr)
    try:
        lessons.run_lesson(lesson, step=step)
    except lessons.CellFailed as exc:
        print(exc.report(), file=sys.stderr)
        return FAILED
    return 0


# ----- demo ----------------------------------------------------------------------------------
def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="train and evaluate the pneumonia-screening CNN end to end (article 003 §4.3)")
    p.add_argument("--quick", action="store_true", help="small data and few epochs: well under a minute")
    p.add_argument("--out", metavar="DIR",
                   help="folder for figures, metrics and the checkpoint (default ./tinymed-out/)")
    p.add_argument("--data", choices=["auto", "phantoms", "pneumoniamnist"], default="auto",
                   help="auto (default): PneumoniaMNIST if ~/.medmnist/pneumoniamnist.npz can be read, else phantoms")
    p.add_argument("--seed", type=seed, default=0,
                   help="seed of data, split, initialisation and shuffling (default 0)")
    p.add_argument("--epochs", type=positive_int, help="maximum number of epochs (default 15; 8 with --quick)")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"],
                   help="backend to run on (default: numba if installed)")
    p.add_argument("--no-tabular", action="store_true", help="skip the breast-cancer MLP")
    p.add_argument("--blas-threads", type=non_negative_int, default=1, metavar="N",
                   help="BLAS threads while training (default 1: the same metrics on any number of cores, and "
                        "no slowdown on a busy machine; 0: BLAS's own default, every core)")
    p.set_defaults(func=_demo)


def _demo(args) -> int:
    from . import demo

    try:
        result = demo.run(data=args.data, quick=args.quick, out=args.out, seed=args.seed, epochs=args.epochs,
                          tabular=not args.no_tabular, backend=args.backend, blas_threads=args.blas_threads or None)
    except demo.DemoInterrupted as exc:
        print(f"\ntinymed: {one_line(exc)}", file=sys.stderr)
        return INTERRUPTED
    return 0 if result.image_metrics else FAILED


SUBCOMMANDS = [_add_demo, _add_lessons, _add_lesson, _add_gradcheck, _add_info, add_exercise_command]


# ----- the command ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tinymed",
        description="tinymed: a small, exact and fast deep-learning library for teaching AI in medicine.",
    )
    parser.add_argument("--version", action="version", version=f"tinymed {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def _expected_errors() -> tuple:
    """The errors a user can cause and fix, each shown as one line."""
    from .backend import BackendError
    from .lessons import LessonError, OutDirError

    return UsageError, BackendError, LessonError, OutDirError, OSError, ValueError


def main(argv=None) -> int:
    """Run ``tinymed`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\ntinymed: interrupted", file=sys.stderr)
        return INTERRUPTED
    except _expected_errors() as exc:
        if debug:
            raise
        message = one_line(exc)
        prefix = "" if message.startswith("tinymed") else "tinymed: "
        print(f"{prefix}{message}", file=sys.stderr)
        return USAGE
    except Exception as exc:  # a bug: still one line, with the way to see more
        if debug:
            raise
        print(f"tinymed: internal error: {type(exc).__name__}: {one_line(exc)} "
              "(run again with --debug for the traceback, and please report it)", file=sys.stderr)
        return FAILED


def _main(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and --version print and exit 0
        return exc.code if isinstance(exc.code, int) else 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
