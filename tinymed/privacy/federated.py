r"""Federated averaging (FedAvg; McMahan et al., 2017): hospitals train one model together without
sending their images anywhere -- only weights travel.

Each round the server sends the global weights :math:`\theta` to the hospitals (Flower calls them
*clients*) taking part; hospital :math:`k` trains them on its own :math:`n_k` examples for a few
local epochs and sends back :math:`\theta_k`; the server averages, weighting by data size:

.. math:: \theta \leftarrow \sum_k \frac{n_k}{\sum_j n_j}\, \theta_k

With one local step of gradient descent this is exactly gradient descent on the pooled data.
With several local epochs on data that differ between hospitals (scanners, patients, how common
the disease is: *non-IID* data) each :math:`\theta_k` drifts towards its own optimum and the
average is a compromise -- usually far better than any hospital alone, and short of training on
the pooled data (lesson 24 measures all three).  The weights themselves can still leak
information about the training data; federated learning is combined with DP-SGD and secure
aggregation where that matters.
"""

from __future__ import annotations

import numbers
from collections import OrderedDict

import numpy as np

from ..nn.module import Module
from ..random import generator as tinymed_generator

__all__ = ["aggregate", "federated_averaging"]


def aggregate(results):
    r"""The weighted average :math:`\sum_k n_k \theta_k / \sum_k n_k` of ``results``, a list of
    ``(state_dict, num_examples)`` pairs (Flower's ``aggregate``, on state dicts)."""
    results = list(results)
    if not results:
        raise ValueError("aggregate: no results to average")
    total = sum(n for _, n in results)
    if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0 for _, n in results) or total == 0:
        raise ValueError(f"aggregate: num_examples must be non-negative integers, not all 0, got "
                         f"{[n for _, n in results]}")
    keys = list(results[0][0])
    for state, _ in results[1:]:
        if list(state) != keys:
            raise ValueError("aggregate: the state dicts hold different keys (different models?)")
    averaged = OrderedDict()
    for key in keys:
        values = [np.asarray(state[key]) for state, _ in results]
        weighted = sum(v.astype(np.float64) * (n / total) for v, (_, n) in zip(values, results))
        averaged[key] = weighted.astype(values[0].dtype)
    return averaged


def federated_averaging(model, clients, local_update, num_rounds, fraction_fit=1.0, generator=None,
                        on_round=None):
    """Train ``model`` (the global model, updated in place and returned) by FedAvg.

    ``clients`` is a list of whatever ``local_update`` takes (e.g. each hospital's ``(X, y)``);
    ``local_update(model, client)`` trains ``model`` -- which holds the global weights when it is
    called -- on that client's data, in place, with a fresh optimizer, and returns the number of
    examples it used.  Each round ``max(1, round(fraction_fit * len(clients)))`` clients take
    part, drawn with ``generator`` (tinymed's seeded one by default).  ``on_round(round, model)``
    is called after every round (to evaluate, say).
    """
    if not isinstance(model, Module):
        raise TypeError(f"federated_averaging: model must be a tinymed.nn.Module, got {type(model).__name__}")
    clients = list(clients)
    if not clients:
        raise ValueError("federated_averaging: no clients")
    if isinstance(num_rounds, bool) or not isinstance(num_rounds, numbers.Integral) or num_rounds < 1:
        raise ValueError(f"federated_averaging: num_rounds must be a positive integer, got {num_rounds!r}")
    if not 0 < fraction_fit <= 1:
        raise ValueError(f"federated_averaging: fraction_fit must be in (0, 1], got {fraction_fit!r}")
    rng = generator or tinymed_generator()
    per_round = max(1, round(fraction_fit * len(clients)))
    for round_index in range(1, num_rounds + 1):
        global_state = model.state_dict()
        results = []
        for k in sorted(rng.choice(len(clients), per_round, replace=False)):
            model.load_state_dict(global_state)
            results.append(_trained_state(model, local_update, clients[k]))
        model.load_state_dict(aggregate(results))
        if on_round is not None:
            on_round(round_index, model)
    return model


def _trained_state(model, local_update, client):
    """``(state_dict, num_examples)`` after one client's local training."""
    n = local_update(model, client)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise TypeError(f"federated_averaging: local_update must return the number of examples it used, got {n!r}")
    return model.state_dict(), int(n)
