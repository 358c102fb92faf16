r"""How good are the predictions? Rating error (Surprise's names) and top-N ranking quality.

Rating error over the predictions :math:`(r_{ui}, \hat r_{ui})`:

* ``rmse`` :math:`\sqrt{\frac1n \sum (r_{ui} - \hat r_{ui})^2}`, ``mse`` its square,
  ``mae`` :math:`\frac1n \sum |r_{ui} - \hat r_{ui}|`;
* ``fcp``, the fraction of concordant pairs (Koren & Sill): for each user, the pairs of
  items whose predicted order agrees with their true order (:math:`n_c^u`) or not
  (:math:`n_d^u`, ties in the prediction counted as discordant); then, as Surprise computes
  it, :math:`\mathrm{mean}_u n_c^u / (\mathrm{mean}_u n_c^u + \mathrm{mean}_u n_d^u)`, each mean
  over the users with at least one such pair.

Each prints its value when ``verbose`` (the default), e.g. ``RMSE: 0.5123``.

Top-N, per user, ranking the user's predictions by estimate (ties in input order);
an item is *relevant* when its true rating is at least ``threshold``:

* ``precision@k``: of the top *k* with an estimate at least ``threshold`` (the ones that
  would be recommended), the fraction that is relevant (0 if none is recommended);
* ``recall@k``: of the relevant items, the fraction that is recommended in the top *k*
  (0 if none is relevant) -- both as in Surprise's FAQ;
* ``NDCG@k``: :math:`\mathrm{DCG}_k / \mathrm{IDCG}_k` with
  :math:`\mathrm{DCG}_k = \sum_{p=1}^{k} r_{(p)} / \log_2(p + 1)`, the true ratings in
  predicted order as gains, IDCG the same in the best order.

The ``*_at_k`` functions return the mean over users; the per-user definitions are those of
:mod:`tinymed.recsys.top_n`, written once for every kind of recommender.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from . import top_n


def _errors(predictions, where):
    if len(predictions) == 0:
        raise ValueError(f"accuracy.{where}: prediction list is empty")
    try:
        true = np.array([float(p[2]) for p in predictions])
    except (TypeError, ValueError):
        raise ValueError(f"accuracy.{where}: every prediction needs a true rating r_ui (got None); "
                         "predict on a test set with known ratings") from None
    est = np.array([float(p[3]) for p in predictions])
    broken = int(np.sum(~np.isfinite(est)) + np.sum(~np.isfinite(true)))
    if broken:
        raise ValueError(f"accuracy.{where}: {broken} prediction(s) have an estimate or a true rating that is not "
                         "a finite number (inf or NaN); a measure of them would mean nothing")
    return true - est


def rmse(predictions, verbose=True):
    """Root mean squared error of a list of predictions."""
    value = float(np.sqrt(np.mean(_errors(predictions, "rmse") ** 2)))
    if verbose:
        print(f"RMSE: {value:1.4f}")
    return value


def mse(predictions, verbose=True):
    """Mean squared error of a list of predictions."""
    value = float(np.mean(_errors(predictions, "mse") ** 2))
    if verbose:
        print(f"MSE: {value:1.4f}")
    return value


def mae(predictions, verbose=True):
    """Mean absolute error of a list of predictions."""
    value = float(np.mean(np.abs(_errors(predictions, "mae"))))
    if verbose:
        print(f"MAE:  {value:1.4f}")
    return value


def fcp(predictions, verbose=True):
    """Fraction of concordant pairs (see the module docstring for the exact averaging)."""
    _errors(predictions, "fcp")
    concordant, discordant = {}, {}
    for user, pairs in _by_user(predictions).items():
        true = np.array([r for r, _ in pairs])
        est = np.array([e for _, e in pairs])
        # all ordered pairs (a, b): est_a > est_b and true_a > true_b is concordant;
        # est_a >= est_b and true_a < true_b is discordant
        nc = int(np.sum((est[:, None] > est[None, :]) & (true[:, None] > true[None, :])))
        nd = int(np.sum((est[:, None] >= est[None, :]) & (true[:, None] < true[None, :])))
        if nc:
            concordant[user] = nc
        if nd:
            discordant[user] = nd
    nc = np.mean(list(concordant.values())) if concordant else 0.0
    nd = np.mean(list(discordant.values())) if discordant else 0.0
    if nc + nd == 0:
        raise ValueError("accuracy.fcp: no user has two predictions with different true ratings; "
                         "FCP is undefined")
    value = float(nc / (nc + nd))
    if verbose:
        print(f"FCP:  {value:1.4f}")
    return value


def _by_user(predictions):
    """``{uid: [(true rating, estimate), ...]}`` in input order."""
    groups = defaultdict(list)
    for uid, _, r_ui, est, _ in predictions:
        groups[uid].append((float(r_ui), float(est)))
    return groups


def _check_k(k, where):
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"accuracy.{where}: k must be an integer >= 1, got {k!r}")


def _ranked(pairs):
    """``(true ratings, positions ranked by estimate)`` of one user's predictions (ties in input order)."""
    true = np.array([r for r, _ in pairs])
    return true, np.argsort(-np.array([e for _, e in pairs]), kind="stable")


def precision_recall_at_k(predictions, k=10, threshold=3.5):
    """``(precisions, recalls)``: dicts ``{uid: value}`` (definitions in the module docstring)."""
    _check_k(k, "precision_recall_at_k")
    _errors(predictions, "precision_recall_at_k")
    precisions, recalls = {}, {}
    for user, pairs in _by_user(predictions).items():
        true, ranked = _ranked(pairs)
        recommended = [p for p in ranked[:k] if pairs[p][1] >= threshold]
        relevant = set(np.flatnonzero(true >= threshold))
        precisions[user] = top_n.precision_at_k(recommended, relevant, k)
        recalls[user] = top_n.recall_at_k(recommended, relevant, k)
    return precisions, recalls


def precision_at_k(predictions, k=10, threshold=3.5):
    """Mean over users of precision@k."""
    precisions, _ = precision_recall_at_k(predictions, k, threshold)
    return float(np.mean(list(precisions.values())))


def recall_at_k(predictions, k=10, threshold=3.5):
    """Mean over users of recall@k."""
    _, recalls = precision_recall_at_k(predictions, k, threshold)
    return float(np.mean(list(recalls.values())))


def ndcg_at_k(predictions, k=10):
    """Mean over users of NDCG@k, true ratings as gains (definition in the module docstring).

    A user whose true ratings are all 0 has IDCG 0 and is skipped.
    """
    _check_k(k, "ndcg_at_k")
    _errors(predictions, "ndcg_at_k")
    scores = []
    for pairs in _by_user(predictions).values():
        true, ranked = _ranked(pairs)
        if top_n.dcg_at_k(sorted(true, reverse=True), k) > 0:
            scores.append(top_n.ndcg_at_k(ranked, dict(enumerate(true)), k))
    if not scores:
        raise ValueError("accuracy.ndcg_at_k: every user's true ratings are 0; NDCG is undefined")
    return float(np.mean(scores))
