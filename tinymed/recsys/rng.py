"""Random number generators as Surprise takes them (``random_state``)."""

from __future__ import annotations

import numbers

import numpy as np


def get_rng(random_state, where="random_state"):
    """A NumPy RandomState from ``random_state``.

    ``None``: NumPy's global RandomState (so ``np.random.seed`` governs it, as in Surprise);
    an int: a new ``RandomState(seed)``; a ``RandomState`` or ``Generator``: used as is.
    """
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    if isinstance(random_state, (np.random.RandomState, np.random.Generator)):
        return random_state
    raise ValueError(f"{where}: expected None, an int, or a numpy RandomState/Generator, "
                     f"got {type(random_state).__name__}")


def randint(rng, high, size=None):
    """Integers drawn uniformly from ``[0, high)``: ``randint`` of a RandomState (Surprise's
    draws), ``integers`` of a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng.integers(0, high, size=size)
    return rng.randint(0, high, size=size)
