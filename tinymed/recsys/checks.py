"""Checks every recommender shares: hyper-parameters at construction, finite factors while training.

A recommender trained with a learning rate far too large (``SVD(lr_all=1e3)``) sends its
factors to infinity within an epoch; clipped to the rating scale, every prediction would then
be the top of the scale and the RMSE would still look like a number. So the hyper-parameters
are checked when the predictor is built (a NaN or a negative learning rate never gets as far as
``fit``), and the factors after every epoch: the first epoch that leaves one of them infinite
or NaN stops training with :class:`TrainingDiverged`, which names it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


class TrainingDiverged(FloatingPointError):
    """Training left a factor or bias infinite or NaN (the learning rate is too large)."""


def count(where, name, value, minimum=0):
    """An integer ``>= minimum`` (``n_factors``, ``n_epochs``, ``k`` ...), as an int."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def number(where, name, value, minimum=None, strict=False):
    """A finite real number, ``>= minimum`` (``> minimum`` when ``strict``), as a float."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{where}: {name} must be a finite number, got {value!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ValueError(f"{where}: {name} must be {'>' if strict else '>='} {minimum}, got {value!r}")
    return float(value)


def float_dtype(where, value):
    """``float32`` or ``float64`` (a dtype or anything ``np.dtype`` reads), as a ``np.dtype``."""
    dtype = np.dtype(value)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


def rates(where, default, **values):
    """Learning rates or regularisations by name: each of ``values``, or ``default`` where it is
    None (``lr_bu=None`` means ``lr_all``); every one finite and ``>= 0``."""
    return {name: number(where, name, default if value is None else value, minimum=0) for name, value in values.items()}


def run_epochs(where, n_epochs, epoch_step, verbose=False, **arrays):
    """Call ``epoch_step(epoch)`` for ``epoch = 0, 1, ..., n_epochs - 1``, checking after each that
    ``arrays`` (the factors and biases it moves, by name) are still finite (:func:`check_finite`)."""
    for epoch in range(n_epochs):
        if verbose:
            print(f"Processing epoch {epoch}")
        epoch_step(epoch)
        check_finite(where, epoch, n_epochs, **arrays)


def check_finite(where, epoch, n_epochs, **arrays):
    """Raise :class:`TrainingDiverged`, naming the epoch (counted from 1) and the arrays that are
    no longer finite, if any of ``arrays`` holds an inf or a NaN."""
    broken = [name for name, a in arrays.items() if not np.isfinite(a).all()]
    if broken:
        raise TrainingDiverged(
            f"{where}: training diverged in epoch {epoch + 1} of {n_epochs}: {', '.join(broken)} "
            f"{'is' if len(broken) == 1 else 'are'} no longer finite (inf or NaN). The learning rate is too "
            "large for these data: lower it (e.g. lr_all) or raise the regularisation")
