"""What a recommender returns: :class:`Prediction`, and :class:`PredictionImpossible`."""

from __future__ import annotations

from collections import namedtuple


class PredictionImpossible(Exception):
    """Raised inside ``estimate`` when a model cannot predict a pair (e.g. an unknown user).

    ``AlgoBase.predict`` catches it, predicts the fallback instead and records the reason
    in ``details``.
    """


class Prediction(namedtuple("Prediction", ["uid", "iid", "r_ui", "est", "details"])):
    """One prediction: raw user id, raw item id, true rating (or None), estimate, details.

    ``details`` is a dict; ``details["was_impossible"]`` says whether the model fell back
    (cold start, too few neighbours) and ``details["reason"]`` why.
    """

    __slots__ = ()

    def __str__(self):
        true = "None" if self.r_ui is None else f"{self.r_ui:.2f}"
        return f"user: {self.uid!s:<10} item: {self.iid!s:<10} r_ui = {true:<6} est = {self.est:.2f}   {self.details}"
