"""The grading subprocess: ``python -m tinymed.exercises.worker FILE EXERCISE FIRST``.

It loads the student's FILE, then grades the parts of EXERCISE from number FIRST on, writing one
JSON line per part to its standard output as soon as the part is done (so that the parent,
:mod:`.sandbox`, knows how far it got if a part never ends). The first line says it has started, the
second whether the file loaded. Whatever the student's code prints goes to standard error instead.
"""

from __future__ import annotations

import json
import os
import sys

from .. import backend
from .catalog import get
from .compare import describe_exception
from .grader import functions_of, parts, run_part
from .loading import load


def main(argv=None) -> int:
    path, name, first = argv or sys.argv[1:]
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the student's prints, even from C code, go to standard error

    def send(message):
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    exercise = get(name)
    backend.use("numpy")
    send({"ready": True})  # imports done: the student's file starts loading now
    try:
        module = load(path)
    except (Exception, SystemExit) as exc:
        send({"loaded": False, "error": describe_exception(exc)})
        return 0
    send({"loaded": True})
    fns = functions_of(module, exercise)
    for index, part in enumerate(parts(exercise)):
        if index >= int(first):
            send({"index": index, **run_part(part, fns[part.task.name]).to_dict()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
