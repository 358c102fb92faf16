"""Calling a student's function safely and comparing its answer with the reference's.

Every call gets its own copies of the arguments (a function that writes into its inputs cannot
change the next call's), runs with NumPy's floating-point warnings silenced (an overflow shows up
as the NaN it produces, and is diagnosed as such), and turns whatever the function returns into
one float64 array per named output -- or raises :class:`StudentError` saying why it cannot.
"""

from __future__ import annotations

import copy
import sysconfig
import traceback
import warnings
from pathlib import Path

import numpy as np

from ..gradcheck import relative_error

_LIBRARY_DIRS = tuple({str(Path(__file__).resolve().parents[1])} | {
    sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")})


class StudentError(Exception):
    """The student's function raised, or returned something other than its outputs."""


class NotWritten(StudentError):
    """The student's function still raises the ``NotImplementedError`` of its ``TODO``."""


def describe_exception(exc: BaseException) -> str:
    """``Type: message``, and the line of the student's code it came from (the last frame that is
    neither tinymed nor an installed library)."""
    text = f"{type(exc).__name__}: {exc}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_LIBRARY_DIRS)]
    if frames:
        f = frames[-1]
        text += f"\n    at line {f.lineno} of {Path(f.filename).name}, in {f.name}: {(f.line or '').strip()}"
    return text


def as_outputs(value, names) -> list:
    """What a function returned, as one float64 array per name in ``names``."""
    if len(names) == 1 and not (isinstance(value, tuple) and len(value) == 1):
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"{len(value)} values" if isinstance(value, (tuple, list)) else f"one {type(value).__name__}"
        raise StudentError(f"expected {len(names)} outputs ({', '.join(names)}), got {got}")
    arrays = []
    for name, v in zip(names, value):
        try:
            arrays.append(np.array(v, dtype=np.float64))
        except (TypeError, ValueError):
            raise StudentError(f"{name}: expected an array of numbers, got {type(v).__name__}: {v!r:.80}") from None
    return arrays


def call(fn, args, names) -> list:
    """``fn(*args)`` on copies of ``args``, as float64 arrays named ``names``."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = fn(*copy.deepcopy(args))
        except NotImplementedError:
            raise NotWritten("not written yet (it raises NotImplementedError)") from None
        except (Exception, SystemExit) as exc:
            raise StudentError(describe_exception(exc)) from None
    return as_outputs(value, names)


def close(actual, expected, tolerance) -> bool:
    """Same shape, NaN and inf in the same places, and every finite entry within ``tolerance``
    (:func:`tinymed.gradcheck.relative_error`: relative above 1, absolute below)."""
    a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False
    finite = np.isfinite(e)
    if not np.array_equal(np.isfinite(a), finite) or not np.array_equal(a[~finite], e[~finite], equal_nan=True):
        return False
    return bool(np.all(relative_error(a[finite], e[finite]) <= tolerance))


def wrong_outputs(actual, expected, tolerance) -> list:
    """Indices of the outputs that are not :func:`close`."""
    return [j for j, (a, e) in enumerate(zip(actual, expected)) if not close(a, e, tolerance)]


def show(value, indent="    ") -> str:
    """An argument or output as the student reads it: arrays rounded and abbreviated."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, threshold=60, edgeitems=3, max_line_width=96,
                               suppress_small=True)
        text = f"{text}  (shape {value.shape})" if value.ndim > 1 or value.size > 6 else text
    else:
        text = repr(value)
    return text.replace("\n", "\n" + indent)
