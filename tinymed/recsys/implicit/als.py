r"""Alternating least squares for implicit feedback (Hu, Koren & Volinsky, ICDM 2008).

Every (user, item) pair counts. With :math:`r_{ui}` the stored interaction (0 where none), the
model predicts the *preference* :math:`p_{ui} = [r_{ui} > 0]` by :math:`x_u^\top y_i`, trusting
each pair by its *confidence* :math:`c_{ui} = 1 + \alpha\, r_{ui}`, and minimises

.. math:: \sum_{u, i} c_{ui} (p_{ui} - x_u^\top y_i)^2 + \lambda \Big(\sum_u \|x_u\|^2 + \sum_i \|y_i\|^2\Big)

With the items fixed this is a weighted least-squares problem for each user on its own, and
with the users fixed one for each item: ALS alternates the two. Every user's system,

.. math:: \big(Y^\top Y + \lambda I + Y_u^\top (C_u - I) Y_u\big)\, x_u = Y_u^\top C_u\, p_u ,

costs only the items the user has, because :math:`Y^\top Y` (all the unobserved pairs at
confidence 1) is computed once per half-iteration. It is solved exactly, or -- ``use_cg``, the
default, as in the ``implicit`` library -- by a few conjugate-gradient steps from the last
iteration's :math:`x_u` (Takács et al. 2011); kernels ``als_least_squares_rows`` and
``als_conjugate_gradient_rows``.

Names and defaults are the ``implicit`` library's (``AlternatingLeastSquares(factors=100,
regularization=0.01, alpha=1.0, iterations=15)``), with one difference in meaning: ``implicit``
takes :math:`\alpha r_{ui}` itself as the confidence of a stored pair, tinymed the paper's
:math:`1 + \alpha r_{ui}`. On 0/1 data, tinymed's ``alpha=a`` is ``implicit``'s ``alpha=1 + a``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ... import backend
from ..checks import count, float_dtype, number, run_epochs
from ..rng import get_rng
from .recommender_base import MatrixFactorizationBase, as_user_items


class AlternatingLeastSquares(MatrixFactorizationBase):
    """Implicit ALS (model and solver: module docstring); the ``implicit`` library's arguments.

    ``dtype`` of the factors (float32 by default, as ``implicit``; every solve computes in
    float64); ``num_threads`` the threads the row solves run on (0: every core; the result does
    not depend on it); ``cg_steps`` conjugate-gradient steps per row and iteration;
    ``use_native`` is accepted for ``implicit``'s signature (the compiled kernels are used
    whenever the numba backend is active). ``calculate_training_loss`` records the loss after
    every iteration in ``training_loss``. The factors start as uniform draws times 0.01, users'
    then items'. After ``fit``: ``user_factors (n_users, factors)``, ``item_factors (n_items, factors)``.
    """

    def __init__(self, factors=100, regularization=0.01, alpha=1.0, dtype=np.float32, use_native=True, use_cg=True,
                 iterations=15, calculate_training_loss=False, num_threads=0, random_state=None, cg_steps=3):
        super().__init__()
        where = "AlternatingLeastSquares"
        self.factors = count(where, "factors", factors, minimum=1)
        self.regularization = number(where, "regularization", regularization, minimum=0)
        self.alpha = number(where, "alpha", alpha, minimum=0)
        self.dtype = float_dtype(where, dtype)
        self.use_native, self.use_cg = bool(use_native), bool(use_cg)
        self.iterations = count(where, "iterations", iterations)
        self.calculate_training_loss = bool(calculate_training_loss)
        self.num_threads = count(where, "num_threads", num_threads)
        self.cg_steps = count(where, "cg_steps", cg_steps, minimum=1)
        self.random_state = random_state
        self.training_loss = []

    def confidence(self, user_items):
        r""":math:`c_{ui} = 1 + \alpha r_{ui}` for the stored pairs, aligned with ``user_items.data``."""
        return 1.0 + self.alpha * user_items.data

    def fit(self, user_items, show_progress=True, callback=None):
        """Learn the factors from the ``(n_users, n_items)`` interactions; returns ``self``.

        ``callback(iteration, seconds, loss)`` is called after each iteration (loss None unless
        ``calculate_training_loss``); ``show_progress`` prints one line per iteration.
        """
        Cui = as_user_items(user_items, "AlternatingLeastSquares.fit")
        Ciu = Cui.T
        rng = get_rng(self.random_state, "AlternatingLeastSquares: random_state")
        n_users, n_items = Cui.shape
        self.user_factors = (rng.random((n_users, self.factors)) * 0.01).astype(self.dtype)
        self.item_factors = (rng.random((n_items, self.factors)) * 0.01).astype(self.dtype)
        users_rows = (Cui.indptr, Cui.indices, self.confidence(Cui))
        items_rows = (Ciu.indptr, Ciu.indices, self.confidence(Ciu))
        self.training_loss = []

        def one_iteration(iteration):
            start = time.perf_counter()
            self._solve(users_rows, self.user_factors, self.item_factors)
            self._solve(items_rows, self.item_factors, self.user_factors)
            loss = self.loss(Cui) if self.calculate_training_loss else None
            if loss is not None:
                self.training_loss.append(loss)
            if show_progress:
                shown = "" if loss is None else f"  loss {loss:.6f}"
                print(f"ALS iteration {iteration + 1}/{self.iterations}{shown}")
            if callback is not None:
                callback(iteration, time.perf_counter() - start, loss)

        run_epochs("AlternatingLeastSquares.fit", self.iterations, one_iteration,
                   user_factors=self.user_factors, item_factors=self.item_factors)
        return self

    def _threads(self):
        return self.num_threads or os.cpu_count() or 1

    def _gram(self, Y):
        """:math:`Y^\\top Y + \\lambda I` in float64."""
        Y = np.asarray(Y, dtype=np.float64)
        return Y.T @ Y + self.regularization * np.eye(Y.shape[1])

    def _solve(self, rows, X, Y):
        """Every row of ``X`` given ``Y`` (in place), exactly or by conjugate gradient."""
        if self.use_cg:
            backend.kernel("als_conjugate_gradient_rows")(*rows, X, Y, self._gram(Y), self.cg_steps, self._threads())
        else:
            backend.kernel("als_least_squares_rows")(*rows, X, Y, self._gram(Y), self._threads())

    def loss(self, user_items):
        r"""The objective (module docstring) divided by :math:`\sum_{u,i} c_{ui}`, for ``user_items``.

        :math:`\sum_{u,i} (x_u^\top y_i)^2` over every pair is :math:`\sum_u x_u^\top (Y^\top Y) x_u`;
        the stored pairs then replace their term by :math:`c_{ui} (1 - x_u^\top y_i)^2`.
        """
        self._check_fitted("loss")
        R = as_user_items(user_items, "AlternatingLeastSquares.loss", len(self.item_factors))
        X, Y = np.asarray(self.user_factors, np.float64), np.asarray(self.item_factors, np.float64)
        scores = np.einsum("nk,nk->n", X[R.row_of_entries()], Y[R.indices])
        c = self.confidence(R)
        total = np.einsum("uk,kl,ul->", X, Y.T @ Y, X) + np.sum(c * (1 - scores) ** 2 - scores**2)
        total += self.regularization * (np.sum(X**2) + np.sum(Y**2))
        return float(total / (R.shape[0] * R.shape[1] + np.sum(c - 1)))

    def recalculate_user(self, userid, user_items):
        """The factors the users would get from ``user_items`` (their rows), by an exact solve."""
        self._check_fitted("recalculate_user")
        rows = as_user_items(user_items, "AlternatingLeastSquares.recalculate_user", len(self.item_factors))
        return self._recalculate(rows, self.item_factors, np.ndim(userid) == 0)

    def recalculate_item(self, itemid, item_users):
        """The factors the items would get from ``item_users`` (their rows of users), by an exact solve."""
        self._check_fitted("recalculate_item")
        rows = as_user_items(item_users, "AlternatingLeastSquares.recalculate_item", len(self.user_factors))
        return self._recalculate(rows, self.user_factors, np.ndim(itemid) == 0)

    def _recalculate(self, rows, Y, single):
        X = np.zeros((rows.shape[0], self.factors))
        backend.kernel("als_least_squares_rows")(rows.indptr, rows.indices, self.confidence(rows), X, Y, self._gram(Y))
        X = X.astype(self.dtype)
        return X[0] if single else X
