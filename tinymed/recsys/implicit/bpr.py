r"""Bayesian personalised ranking (Rendle, Freudenthaler, Gantner & Schmidt-Thieme, UAI 2009).

Implicit data do not say that a patient disliked a treatment they were not given, only that
they were given the ones they were. BPR learns exactly that much: for a user *u*, an item *i*
they have and an item *j* they have not, *i* should score higher,

.. math:: \max \sum_{(u, i, j)} \ln \sigma(s_{ui} - s_{uj}) - \lambda \|\Theta\|^2, \qquad
          s_{ui} = x_u^\top y_i + b_i ,

by stochastic gradient ascent on sampled triples (the update: kernel ``bpr_sgd_epoch``). Each
epoch draws as many triples as there are stored pairs: a stored pair (*u*, *i*), and *j* as the
item of another stored pair -- so popular items are drawn as negatives more often -- skipping
a *j* that *u* has (``verify_negative_samples``).

The item bias :math:`b_i` is the last column of ``item_factors``, and the last column of
``user_factors`` is 1, so :math:`s_{ui}` is one dot product -- the layout and the names of the
``implicit`` library's ``BayesianPersonalizedRanking(factors=100, learning_rate=0.01,
regularization=0.01, iterations=100)``.
"""

from __future__ import annotations

import numpy as np

from ... import backend
from ..checks import count, float_dtype, number, run_epochs
from ..rng import get_rng, randint
from .recommender_base import MatrixFactorizationBase, as_user_items


class BayesianPersonalizedRanking(MatrixFactorizationBase):
    """BPR by SGD (model and sampling: module docstring); the ``implicit`` library's arguments.

    ``dtype`` of the factors (float32 by default; every update computes in float64). The epochs
    run on one thread, so the result is reproducible from ``random_state``; ``num_threads`` is
    accepted for ``implicit``'s signature, and ``use_gpu=True`` is refused. The factors start
    as ``(uniform - 0.5) / factors``, items' then users', 0 for a user or item without any
    interaction. After ``fit``: ``user_factors (n_users, factors + 1)``, ``item_factors
    (n_items, factors + 1)`` and ``train_auc``, per epoch the fraction of the sampled triples
    the model already ordered right.
    """

    def __init__(self, factors=100, learning_rate=0.01, regularization=0.01, dtype=np.float32, iterations=100,
                 use_gpu=False, num_threads=0, verify_negative_samples=True, random_state=None):
        super().__init__()
        where = "BayesianPersonalizedRanking"
        self.factors = count(where, "factors", factors, minimum=1)
        self.learning_rate = number(where, "learning_rate", learning_rate, minimum=0)
        self.regularization = number(where, "regularization", regularization, minimum=0)
        self.dtype = float_dtype(where, dtype)
        self.iterations = count(where, "iterations", iterations)
        if use_gpu:
            raise ValueError(f"{where}: use_gpu=True is not available; tinymed runs BPR on the CPU")
        self.use_gpu, self.num_threads = False, count(where, "num_threads", num_threads)
        self.verify_negative_samples, self.random_state = bool(verify_negative_samples), random_state
        self.train_auc = []

    def fit(self, user_items, show_progress=True, callback=None):
        """Learn the factors from the ``(n_users, n_items)`` interactions (any positive value is
        one "has"); returns ``self``. ``callback(epoch, seconds, correct, skipped)`` after each epoch."""
        R = as_user_items(user_items, "BayesianPersonalizedRanking.fit")
        if R.nnz == 0:
            raise ValueError("BayesianPersonalizedRanking.fit: the matrix has no interactions to learn from")
        rng = get_rng(self.random_state, "BayesianPersonalizedRanking: random_state")
        n_users, n_items = R.shape
        k = self.factors
        self.item_factors = ((rng.random((n_items, k + 1)) - 0.5) / k).astype(self.dtype)
        self.item_factors[np.bincount(R.indices, minlength=n_items) == 0] = 0.0
        self.user_factors = ((rng.random((n_users, k + 1)) - 0.5) / k).astype(self.dtype)
        self.user_factors[np.diff(R.indptr) == 0] = 0.0
        self.user_factors[:, k] = 1.0
        users, epoch_kernel = R.row_of_entries(), backend.kernel("bpr_sgd_epoch")
        self.train_auc = []

        def one_epoch(epoch):
            samples = np.asarray(randint(rng, R.nnz, size=(R.nnz, 2)), dtype=np.int64)
            correct, skipped = epoch_kernel(users, R.indices, R.indptr, self.user_factors, self.item_factors, samples,
                                            self.learning_rate, self.regularization, self.verify_negative_samples)
            self.train_auc.append(correct / max(R.nnz - skipped, 1))
            if show_progress:
                print(f"BPR epoch {epoch + 1}/{self.iterations}  train AUC {self.train_auc[-1]:.4f}  "
                      f"skipped {skipped / R.nnz:.2%}")
            if callback is not None:
                callback(epoch, None, correct, skipped)

        run_epochs("BayesianPersonalizedRanking.fit", self.iterations, one_epoch,
                   user_factors=self.user_factors, item_factors=self.item_factors)
        return self
