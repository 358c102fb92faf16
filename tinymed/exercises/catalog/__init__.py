"""Every exercise, by name, in course order (the order ``tinymed exercise list`` shows them)."""

from __future__ import annotations

from . import activations, attention, conv, dense, graph, norm, optimizers, pool, recsys, recurrent, softmax

EXERCISES = {ex.name: ex for ex in (
    dense.MSE_LOSS, dense.LINEAR_BACKWARD, activations.ACTIVATIONS, softmax.SOFTMAX_CROSS_ENTROPY,
    conv.CONV2D_LOOPS, conv.CONV2D_IM2COL, pool.MAX_POOL_BACKWARD, recurrent.RNN_BPTT, recurrent.LSTM_CELL,
    attention.ATTENTION, norm.LAYER_NORM, optimizers.SGD_MOMENTUM, optimizers.ADAM,
    recsys.SIMILARITY_KNN, recsys.SVD_EPOCH, graph.PAGERANK,
)}


class UnknownExercise(ValueError):
    """A name that is not an exercise; the message lists the ones there are."""


def get(name):
    """The exercise called ``name``."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise UnknownExercise(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}") from None
