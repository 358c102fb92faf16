"""Every exercise, by name, in course order (the order ``tinymed exercise list`` shows them)."""

from __future__ import annotations

from . import dense

EXERCISES = {ex.name: ex for ex in (
    dense.MSE_LOSS, dense.LINEAR_BACKWARD,
)}


class UnknownExercise(ValueError):
    """A name that is not an exercise; the message lists the ones there are."""


def get(name):
    """The exercise called ``name``."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise UnknownExercise(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}") from None
