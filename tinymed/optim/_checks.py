"""Argument checks shared by the optimizers, the schedules and the clipping functions."""

from __future__ import annotations

import math

import numpy as np


def number(owner, name, value, minimum=0.0, below=None):
    """``value`` as a float, checked to lie in ``[minimum, below)``; errors name the owner."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < minimum or (below is not None and value >= below):
        interval = f"[{minimum}, {below})" if below is not None else f">= {minimum}"
        raise ValueError(f"{owner}: {name} must be finite and {interval}, got {value}")
    return value


def scalar(value):
    """A Python number from a number or a 0-d array (``numpy.load`` returns the latter)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value
