"""tinymed's random numbers: one seeded NumPy generator for initialisation, dropout, shuffling.

``manual_seed(s)`` makes a run repeatable: it reseeds this generator and, so that code mixing
tinymed with plain NumPy or Python stays repeatable too, NumPy's and Python's global ones (and
CuPy's on the GPU backend).  ``get_rng_state``/``set_rng_state`` let a checkpoint resume the
very same sequence.
"""

from __future__ import annotations

import random as _python_random

import numpy as np

from . import backend

_generator = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed every random source tinymed uses: its generator, NumPy's, Python's (and CuPy's)."""
    global _generator
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    _python_random.seed(seed)
    np.random.seed(seed % 2**32)
    _generator = np.random.default_rng(seed)
    device = backend.xp()
    if device is not np:
        device.random.seed(seed % 2**32)


def generator() -> np.random.Generator:
    """tinymed's random generator (reseeded by :func:`manual_seed`)."""
    return _generator


def get_rng_state() -> dict:
    """State of tinymed's generator, for checkpoints."""
    return _generator.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state saved by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
