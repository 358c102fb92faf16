"""The ``tinymed`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .exercises.cli import add_exercise_command


def _gradcheck(args) -> int:
    from . import backend, gradcheck_suite

    names = args.backend or backend.available()
    for name in names:
        backend.use(name)  # fail early, with the backend's own message, if it is unavailable
    try:
        import torch  # noqa: F401

        with_torch = not args.no_torch
    except ImportError:
        with_torch = False

    def progress(be, op, label, err):
        if args.verbose:
            print(f"  [{be}] {op:34s} {label:40s} {err:.2e}", file=sys.stderr)

    print(f"tinymed gradcheck: float64, central differences, every element; backends: {', '.join(names)}"
          + ("; comparing with PyTorch" if with_torch else "; PyTorch not installed (no comparison)"),
          file=sys.stderr)
    rows = gradcheck_suite.run(names, seed=args.seed, with_torch=with_torch, progress=progress)
    header = f"{'op':34s} {'backend':8s} {'cases':>5s} {'worst rel err':>13s} {'vs torch':>10s}  result"
    print(header)
    print("-" * len(header))
    for r in rows:
        vs = "-" if r.vs_torch is None else f"{r.vs_torch:.2e}"
        print(f"{r.op:34s} {r.backend:8s} {r.cases:5d} {r.worst_rel_error:13.2e} {vs:>10s}  "
              f"{'pass' if r.passed else 'FAIL'}")
    payload = gradcheck_suite.as_json(rows)
    failed = [r for r in rows if not r.passed]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} op/backend pairs pass "
          f"(tolerance: worst relative error <= {payload['tolerance']:.0e})")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {path}")
    return 1 if failed else 0


def _info(args) -> int:
    import tinymed

    from . import backend

    print(f"tinymed {tinymed.__version__}")
    print(f"active backend: {backend.current()}")
    for name in backend.BACKENDS:
        try:
            backend._check_available(name)
            status = "available"
        except backend.BackendError as exc:
            status = f"unavailable ({exc})"
        print(f"  {name:6s} {status}")
    return 0


def _lessons(args) -> int:
    from . import lessons

    try:
        found = lessons.find_lessons()
    except lessons.LessonError as exc:
        print(f"tinymed: {exc}", file=sys.stderr)
        return 2
    print(lessons.format_listing(found))
    print(f"\n{len(found)} lessons in {lessons.lessons_dir()}; run one with: tinymed lesson N [--step]")
    return 0


def _lesson(args) -> int:
    from . import backend, lessons

    if args.out:
        os.environ["TINYMED_OUT"] = args.out
    if args.quick:
        os.environ["TINYMED_QUICK"] = "1"
    if args.backend:
        backend.use(args.backend)
    try:
        lesson = lessons.find_lesson(args.lesson)
    except lessons.LessonError as exc:
        print(f"tinymed: {exc}", file=sys.stderr)
        return 2
    step = args.step and sys.stdin.isatty()
    if args.step and not step:
        print("tinymed: stdin is not a terminal, so --step runs the lesson straight through", file=sys.stderr)
    try:
        lessons.run_lesson(lesson, step=step)
    except lessons.CellFailed as exc:
        print(exc.report(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ntinymed: lesson interrupted", file=sys.stderr)
        return 130
    return 0


def _demo(args) -> int:
    from . import demo

    try:
        result = demo.run(data=args.data, quick=args.quick, out=args.out, seed=args.seed, epochs=args.epochs,
                          tabular=not args.no_tabular, backend=args.backend)
    except FileNotFoundError as exc:  # --data pneumoniamnist without the file: the loader says how to get it
        print(f"tinymed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ntinymed: demo interrupted", file=sys.stderr)
        return 130
    return 0 if result.image_metrics else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinymed",
        description="tinymed: a small, exact and fast deep-learning library for teaching AI in medicine.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gradcheck", help="check every op's backward against central differences")
    p.add_argument("--backend", action="append", choices=["numpy", "numba", "cupy"],
                   help="backend to check (repeatable; default: every installed backend)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--seed", type=int, default=0, help="seed of the test inputs (default 0)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case as it runs")
    p.set_defaults(func=_gradcheck)

    p = sub.add_parser("info", help="version and available backends")
    p.set_defaults(func=_info)

    p = sub.add_parser("lessons", help="list the lessons (number, title, summary)")
    p.set_defaults(func=_lessons)

    p = sub.add_parser("lesson", help="run a lesson, optionally one cell at a time (--step)")
    p.add_argument("lesson", metavar="N", help="lesson number (e.g. 2), name (02_convolution) or path to a lesson file")
    p.add_argument("--step", action="store_true",
                   help="pause after each cell (Enter: next, r: rerun, q: quit); needs a terminal")
    p.add_argument("--out", metavar="DIR", help="folder for the figures (default ./tinymed-out/; sets TINYMED_OUT)")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"],
                   help="backend to run on (default: numba if installed)")
    p.add_argument("--quick", action="store_true", help="small sizes, a few seconds per lesson (sets TINYMED_QUICK=1)")
    p.set_defaults(func=_lesson)

    p = sub.add_parser("demo", help="train and evaluate the pneumonia-screening CNN end to end (article 003 §4.3)")
    p.add_argument("--quick", action="store_true", help="small data and few epochs: well under a minute")
    p.add_argument("--out", metavar="DIR",
                   help="folder for figures, metrics and the checkpoint (default ./tinymed-out/)")
    p.add_argument("--data", choices=["auto", "phantoms", "pneumoniamnist"], default="auto",
                   help="auto (default): PneumoniaMNIST if ~/.medmnist/pneumoniamnist.npz exists, else phantoms")
    p.add_argument("--seed", type=int, default=0, help="seed of data, split, initialisation and shuffling (default 0)")
    p.add_argument("--epochs", type=int, help="maximum number of epochs (default 15; 8 with --quick)")
    p.add_argument("--backend", choices=["numpy", "numba", "cupy"],
                   help="backend to run on (default: numba if installed)")
    p.add_argument("--no-tabular", action="store_true", help="skip the breast-cancer MLP")
    p.set_defaults(func=_demo)
    add_exercise_command(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .backend import BackendError

    try:
        return args.func(args)
    except BackendError as exc:
        print(f"tinymed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
