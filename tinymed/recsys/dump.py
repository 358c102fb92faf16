"""Save and load predictions and fitted predictors (Surprise's ``dump``), without pickle.

``dump(file_name, predictions=None, algo=None)`` writes one tinymed checkpoint
(:func:`tinymed.save`: a plain ``.npz``, written atomically); ``load(file_name)`` returns
``(predictions, algo)``, either of them None if it was not saved. Surprise pickles the
objects, and unpickling a file can run any code in it; here the file holds only arrays and
text, and loading rebuilds a predictor from a fixed list of tinymed's classes
(:data:`ALGORITHMS`) by calling its constructor with the saved arguments, then setting what
``fit`` had learnt (:meth:`~tinymed.recsys.AlgoBase.state_dict`). A loaded predictor predicts
exactly what the saved one did.

Predictions are stored as JSON text (raw ids as strings or numbers, estimates to the last bit);
a ``random_state`` that is a NumPy generator is stored as its state.
"""

from __future__ import annotations

import json

import numpy as np

from ..serialization import CheckpointError
from ..serialization import load as load_checkpoint
from ..serialization import save as save_checkpoint
from .baseline_only import BaselineOnly
from .bpmf import BPMF
from .co_clustering import CoClustering
from .knn import KNNBaseline, KNNBasic, KNNWithMeans, KNNWithZScore
from .matrix_factorization import NMF, SVD, MeanFilledSVD, SVDpp
from .predictions import Prediction
from .random_pred import NormalPredictor
from .slope_one import SlopeOne

FORMAT = "tinymed-recsys-dump"
ALGORITHMS = {cls.__name__: cls for cls in (NormalPredictor, BaselineOnly, KNNBasic, KNNWithMeans, KNNWithZScore,
                                            KNNBaseline, SVD, SVDpp, NMF, SlopeOne, CoClustering, BPMF,
                                            MeanFilledSVD)}


def dump(file_name, predictions=None, algo=None, verbose=0):
    """Save ``predictions`` (a list of Predictions) and ``algo`` (a predictor, fitted or not) to
    ``file_name``; either may be None."""
    state = {"format": FORMAT, "predictions": None if predictions is None else _predictions_state(predictions),
             "algo": None if algo is None else _algo_state(algo)}
    save_checkpoint(state, file_name)
    if verbose:
        print(f"The dump has been saved as file {file_name}")


def load(file_name):
    """``(predictions, algo)`` as :func:`dump` saved them."""
    state = load_checkpoint(file_name)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"recsys.dump.load: {file_name} is not a file written by tinymed.recsys.dump.dump")
    predictions = None if state["predictions"] is None else _predictions_from_state(state["predictions"])
    algo = None if state["algo"] is None else _algo_from_state(state["algo"])
    return predictions, algo


def _plain(value):
    """NumPy scalars as Python ones, so that JSON takes them."""
    return value.item() if isinstance(value, np.generic) else value


def _predictions_state(predictions):
    rows = [[_plain(p[0]), _plain(p[1]), _plain(p[2]), _plain(p[3]),
             {str(k): _plain(v) for k, v in dict(p[4] or {}).items()}] for p in predictions]
    try:
        text = json.dumps(rows)
    except TypeError as exc:
        raise TypeError(f"recsys.dump.dump: a prediction holds something JSON cannot store ({exc}); raw ids and "
                        "details must be strings, numbers, booleans, lists or dicts") from None
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _predictions_from_state(state):
    return [Prediction(uid, iid, r_ui, est, details) for uid, iid, r_ui, est, details
            in json.loads(np.asarray(state, dtype=np.uint8).tobytes().decode("utf-8"))]


def _algo_state(algo):
    name = type(algo).__name__
    if ALGORITHMS.get(name) is not type(algo):
        raise TypeError(f"recsys.dump.dump: cannot save a {name}; the predictors it saves are "
                        f"{', '.join(ALGORITHMS)}")
    state = algo.state_dict()
    if "random_state" in state["params"]:
        state["params"]["random_state"] = _random_state(state["params"]["random_state"])
    return state


def _random_state(value):
    """A ``random_state`` as a checkpoint holds it: None, an int, or a generator's state."""
    if isinstance(value, np.random.RandomState):
        return {"generator": "RandomState", "state": value.get_state(legacy=False)}
    if isinstance(value, np.random.Generator):
        return {"generator": type(value.bit_generator).__name__, "state": value.bit_generator.state}
    return _plain(value)


def _generator(value):
    """The ``random_state`` :func:`_random_state` described."""
    if not isinstance(value, dict):
        return value
    if value["generator"] == "RandomState":
        rng = np.random.RandomState()
        rng.set_state(value["state"])
        return rng
    bit_generator = getattr(np.random, value["generator"], None)
    if not (isinstance(bit_generator, type) and issubclass(bit_generator, np.random.BitGenerator)):
        raise CheckpointError(f"recsys.dump.load: unknown random generator {value['generator']!r}")
    state = bit_generator()
    state.state = value["state"]
    return np.random.Generator(state)


def _algo_from_state(state):
    cls = ALGORITHMS.get(state.get("class"))
    if cls is None:
        raise CheckpointError(f"recsys.dump.load: the file holds a predictor of class {state.get('class')!r}, "
                              f"which is not one of {', '.join(ALGORITHMS)}")
    params = dict(state["params"])
    if "random_state" in params:
        params["random_state"] = _generator(params["random_state"])
    return cls(**params).load_state_dict(state)
