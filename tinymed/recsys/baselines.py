r"""Baseline estimates :math:`b_{ui} = \mu + b_u + b_i`: fitting the biases (every predictor may ask).

:math:`\mu` is the mean rating, :math:`b_u` how much patient *u* responds above or below
average, :math:`b_i` how much better treatment *i* does than average. They minimise

.. math:: \sum_{r_{ui}} (r_{ui} - \mu - b_u - b_i)^2 + \lambda_u \sum_u b_u^2 + \lambda_i \sum_i b_i^2

found (Surprise's ``bsl_options``) either by alternating least squares, ``method='als'``
(default; ``n_epochs=10``, ``reg_u=15``, ``reg_i=10``)::

    b_i = sum_{u rated i} (r_ui - mu - b_u) / (reg_i + |U_i|)      for every item, then
    b_u = sum_{i rated by u} (r_ui - mu - b_i) / (reg_u + |I_u|)   for every user

or by stochastic gradient descent, ``method='sgd'`` (``n_epochs=20``, ``reg=0.02``,
``learning_rate=0.005``), sweeping the ratings user by user::

    e = r_ui - (mu + b_u + b_i);  b_u += lr (e - reg b_u);  b_i += lr (e - reg b_i)

The predictor that estimates with the biases alone is :class:`~tinymed.recsys.BaselineOnly`.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .checks import count, number, run_epochs

_DEFAULTS = {"als": {"n_epochs": 10, "reg_u": 15, "reg_i": 10},
             "sgd": {"n_epochs": 20, "reg": 0.02, "learning_rate": 0.005}}


def validate_bsl_options(bsl_options):
    """``(method, options)`` with Surprise's defaults filled in; unknown keys are an error."""
    method = str(bsl_options.get("method", "als")).lower()
    if method not in _DEFAULTS:
        raise ValueError(f"bsl_options: invalid method {method!r} for baseline computation; "
                         "expected 'als' or 'sgd'")
    unknown = set(bsl_options) - set(_DEFAULTS[method]) - {"method"}
    if unknown:
        raise ValueError(f"bsl_options: unknown key(s) {sorted(unknown)} for method {method!r}; "
                         f"expected some of {sorted(_DEFAULTS[method])}")
    options = {**_DEFAULTS[method], **{k: v for k, v in bsl_options.items() if k != "method"}}
    return method, {name: count("bsl_options", name, value) if name == "n_epochs"
                    else number("bsl_options", name, value, minimum=0) for name, value in options.items()}


def fit_baselines(trainset, bsl_options=None, verbose=False):
    """``(bu, bi)`` arrays for the trainset's inner users and items."""
    method, options = validate_bsl_options(dict(bsl_options or {}))
    if verbose:
        print(f"Estimating biases using {method}...")
    if method == "als":
        return baseline_als(trainset, options["n_epochs"], options["reg_u"], options["reg_i"])
    return baseline_sgd(trainset, options["n_epochs"], options["learning_rate"], options["reg"])


def baseline_als(trainset, n_epochs=10, reg_u=15.0, reg_i=10.0):
    """Alternating least squares for the biases (formulas in the module docstring).

    ``np.bincount`` adds each group's terms in the order the ratings came, so the sums
    are the very sums of the loop "for each item, for each of its ratings".
    """
    mu = trainset.global_mean
    u, i, r = trainset.users, trainset.items, trainset.ratings
    n_u = np.bincount(u, minlength=trainset.n_users)
    n_i = np.bincount(i, minlength=trainset.n_items)
    bu, bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
    for _ in range(n_epochs):
        bi = np.bincount(i, weights=(r - mu) - bu[u], minlength=trainset.n_items) / (reg_i + n_i)
        bu = np.bincount(u, weights=(r - mu) - bi[i], minlength=trainset.n_users) / (reg_u + n_u)
    return bu, bi


def baseline_sgd(trainset, n_epochs=20, learning_rate=0.005, reg=0.02):
    """Stochastic gradient descent for the biases, sweeping the ratings user by user (formulas
    in the module docstring; the loop is the kernel ``baseline_sgd_epochs`` of the active backend).
    A learning rate so large that the biases overflow stops with ``TrainingDiverged``."""
    R = trainset.ratings_by_user
    bu, bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
    sweep = backend.kernel("baseline_sgd_epochs")
    run_epochs("baselines (bsl_options method 'sgd')", n_epochs,
               lambda _: sweep(R.row_of_entries(), R.indices, R.data, trainset.global_mean, bu, bi, 1, learning_rate,
                             reg), bu=bu, bi=bi)
    return bu, bi
