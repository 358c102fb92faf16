"""The base of every predictor: fit on a trainset, then ``predict`` and ``test`` (Surprise's API).

A subclass implements ``estimate(u, i)`` on inner ids and returns an estimate, or
``(estimate, details)``, or raises :class:`PredictionImpossible`. ``predict`` translates raw
ids, calls ``estimate``, falls back to :meth:`AlgoBase.default_prediction` (the global mean)
when it is impossible, and clips to the rating scale -- never a NaN or an infinity, which
clipping would turn into the top of the scale: those are an error. An id the trainset has
not seen is passed to ``estimate`` as the string ``"UKN__<raw id>"``, as in Surprise.

:meth:`AlgoBase.state_dict` is what :mod:`tinymed.recsys.dump` saves: the constructor's
arguments (:meth:`AlgoBase.get_params`) and, once fitted, the trainset and the attributes
each class lists in ``FITTED``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .baselines import fit_baselines
from .dataset import Trainset
from .predictions import Prediction, PredictionImpossible
from .similarities import similarity_matrix, validate_sim_options

UNKNOWN_REASON = "User and/or item is unknown."


class AlgoBase:
    """Common machinery: options, ``fit``, ``predict``, ``test``, baselines, similarities."""

    FITTED = ("bu", "bi")  # what fit() learns, beside the trainset (a subclass adds its own)

    def __init__(self, sim_options=None, bsl_options=None, verbose=False):
        self.sim_options = dict(sim_options or {})
        self.sim_options.setdefault("user_based", True)
        self.bsl_options = dict(bsl_options or {})
        self.verbose = verbose
        self.trainset = None
        self.bu = self.bi = None

    def fit(self, trainset):
        """Learn from ``trainset``; returns ``self``."""
        if not isinstance(trainset, Trainset):
            raise TypeError(f"{type(self).__name__}.fit: expected a Trainset (e.g. "
                            f"data.build_full_trainset()), got {type(trainset).__name__}")
        self.trainset = trainset
        self.bu = self.bi = None
        return self

    def estimate(self, u, i):
        raise NotImplementedError(f"{type(self).__name__} does not implement estimate(u, i)")

    def default_prediction(self):
        """What ``predict`` returns when ``estimate`` is impossible: the global mean rating."""
        return self.trainset.global_mean

    def _check_fitted(self, where):
        if self.trainset is None:
            raise RuntimeError(f"{type(self).__name__}.{where}: call fit(trainset) first")

    def predict(self, uid, iid, r_ui=None, clip=True, verbose=False):
        """Predict the rating of raw user ``uid`` for raw item ``iid``.

        Returns a :class:`Prediction`; the estimate is clipped into the rating scale when
        ``clip`` (Surprise's default). ``r_ui`` is the true rating, if known, carried along
        for :mod:`tinymed.recsys.accuracy`.
        """
        self._check_fitted("predict")
        inner_u = self._inner(self.trainset.to_inner_uid, uid)
        inner_i = self._inner(self.trainset.to_inner_iid, iid)
        try:
            est = self.estimate(inner_u, inner_i)
            details = {}
            if isinstance(est, tuple):
                est, details = est
                details = dict(details)
            details.setdefault("was_impossible", False)
        except PredictionImpossible as exc:
            est = self.default_prediction()
            details = {"was_impossible": True, "reason": str(exc)}
        return self._prediction(uid, iid, r_ui, est, details, clip, verbose)

    def _prediction(self, uid, iid, r_ui, est, details, clip, verbose):
        """The :class:`Prediction` of an estimate, clipped into the rating scale when ``clip``."""
        est = float(est)
        if not math.isfinite(est):
            raise ValueError(f"{type(self).__name__}.predict: the estimate for user {uid!r} and item {iid!r} is "
                             f"{est}, not a number on the rating scale; the model is broken (were its factors "
                             "changed after fit?)")
        if clip:
            low, high = self.trainset.rating_scale
            est = max(low, min(high, est))
        prediction = Prediction(uid, iid, r_ui, est, details)
        if verbose:
            print(prediction)
        return prediction

    @staticmethod
    def _inner(to_inner, raw):
        try:
            return to_inner(raw)
        except ValueError:
            return "UKN__" + str(raw)

    def test(self, testset, verbose=False):
        """Predict every ``(user, item, true rating)`` of ``testset``; a list of Predictions.

        A :class:`Trainset` is accepted too and means all its ratings (``build_testset()``):
        article 002's snippet S5 calls ``algo.test(trainset)``, which Surprise rejects.
        """
        self._check_fitted("test")
        if isinstance(testset, Trainset):
            testset = testset.build_testset()
        predictions = []
        for row in testset:
            try:
                uid, iid, r_ui = row
            except (TypeError, ValueError):
                raise ValueError(f"{type(self).__name__}.test: each test case must be (user, item, "
                                 f"rating), got {row!r}") from None
            predictions.append(self.predict(uid, iid, r_ui, verbose=verbose))
        return predictions

    # ----- shared by several predictors ------------------------------------------------------
    def compute_baselines(self):
        """User and item biases ``(bu, bi)`` with ``bsl_options`` (ALS by default); cached."""
        if self.bu is None:
            self.bu, self.bi = fit_baselines(self.trainset, self.bsl_options, verbose=self.verbose)
        return self.bu, self.bi

    def compute_similarities(self):
        """The similarity matrix between users (or items) named by ``sim_options``."""
        name, user_based, min_support, shrinkage = validate_sim_options(self.sim_options)
        baselines = self.compute_baselines() if name == "pearson_baseline" else None
        if self.verbose:
            print(f"Computing the {name} similarity matrix...")
        sim = similarity_matrix(self.trainset, name, user_based=user_based, min_support=min_support,
                                shrinkage=shrinkage, baselines=baselines)
        if self.verbose:
            print("Done computing similarity matrix.")
        return sim

    def get_neighbors(self, iid, k):
        """Inner ids of the ``k`` users (or items) most similar to inner id ``iid``."""
        self._check_fitted("get_neighbors")
        sim = getattr(self, "sim", None)
        if sim is None:
            raise RuntimeError(f"{type(self).__name__}.get_neighbors: this predictor has no similarity matrix")
        if not (0 <= iid < len(sim)):
            raise ValueError(f"{type(self).__name__}.get_neighbors: inner id {iid} is not in [0, {len(sim)})")
        others = np.delete(np.arange(len(sim)), iid)
        order = np.argsort(-sim[iid, others], kind="stable")[:k]
        return [int(x) for x in others[order]]

    # ----- what recsys.dump saves ------------------------------------------------------------
    def get_params(self):
        """The constructor's arguments, read back from the attributes of the same names (an
        argument that only sets others' defaults, such as SVD's ``lr_all``, is left out)."""
        names = [name for name in inspect.signature(type(self).__init__).parameters if name != "self"]
        return {name: getattr(self, name) for name in names if hasattr(self, name)}

    def state_dict(self):
        """``{"class", "params"}``, and once fitted ``"trainset"`` and ``"fitted"`` (the ``FITTED``
        attributes of every class up the hierarchy): what :func:`tinymed.recsys.dump.dump` saves."""
        state = {"class": type(self).__name__, "params": self.get_params()}
        if self.trainset is not None:
            state["trainset"] = self.trainset.state_dict()
            state["fitted"] = {name: getattr(self, name, None) for name in self.fitted_attributes()}
        return state

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` gave (the constructor's arguments are already set)."""
        if "trainset" in state:
            self.trainset = Trainset.from_state_dict(state["trainset"])
            for name in self.fitted_attributes():
                setattr(self, name, state["fitted"].get(name))
        return self

    @classmethod
    def fitted_attributes(cls):
        """The names in ``FITTED`` of this class and its bases, each once."""
        names = [name for klass in reversed(cls.__mro__) for name in vars(klass).get("FITTED", ())]
        return tuple(dict.fromkeys(names))

    def __repr__(self):
        return f"{type(self).__name__}()"


def known(trainset, u, i):
    """``(user known, item known)`` for inner ids (unknown ones are ``"UKN__..."`` strings)."""
    return trainset.knows_user(u), trainset.knows_item(i)


def cold_start_reason(user_known, item_known, fallback):
    """The ``details`` reason for a pair the full model cannot score, naming the fallback."""
    what = {(False, True): "user", (True, False): "item", (False, False): "user and item"}[(user_known, item_known)]
    return f"{UNKNOWN_REASON} (unknown {what}; predicted {fallback})"

