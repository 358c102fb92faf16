"""The inputs exercises are graded on: hypothesis strategies of float64 arrays, and seeded examples.

Values are drawn by hypothesis itself (not from a seed it draws), so that shrinking simplifies
them -- towards 0, 1, small integers -- and the smallest failing input a student is shown is one
they can follow by hand.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def floats(low=-3.0, high=3.0):
    """Finite float64 numbers in ``[low, high]``."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def away_from_zero(gap=0.05, high=3.0):
    """Numbers with ``gap <= |x| <= high``: off a kink at 0 (ReLU's)."""
    return st.one_of(floats(gap, high), floats(-high, -gap))


def arrays(shape, low=-3.0, high=3.0, elements=None, unique=False):
    """Float64 arrays of ``shape`` (a tuple or a strategy of tuples) with entries in ``[low, high]``
    (or drawn from ``elements``); ``unique`` for entries that differ pairwise (no ties)."""
    return hnp.arrays(np.float64, shape, elements=floats(low, high) if elements is None else elements, unique=unique)


def sizes(low=1, high=3):
    """An axis length."""
    return st.integers(low, high)


def normal(seed, *shapes):
    """Standard normal float64 arrays of ``shapes``, from ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]
