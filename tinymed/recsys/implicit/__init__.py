"""Recommendation from implicit feedback -- what was prescribed, not how well it worked -- with
the ``implicit`` library's module layout, class names and arguments, so its code runs with its
imports changed (``from implicit.als import ...`` -> ``from tinymed.recsys.implicit.als import ...``):

* :mod:`.als` -- :class:`AlternatingLeastSquares` (Hu, Koren & Volinsky 2008; conjugate gradient);
* :mod:`.bpr` -- :class:`BayesianPersonalizedRanking` (Rendle et al. 2009);
* :mod:`.recommender_base` -- ``recommend``, ``similar_items``, ``similar_users``, and the
  user-item matrix they read;
* :mod:`.evaluation` -- splits (``train_test_split``, ``leave_k_out_split``) and top-N
  metrics (precision, recall, MAP and NDCG at K, defined once in :mod:`tinymed.recsys.top_n`).
"""

from . import evaluation
from .als import AlternatingLeastSquares
from .bpr import BayesianPersonalizedRanking
from .recommender_base import MatrixFactorizationBase, as_user_items

__all__ = ["AlternatingLeastSquares", "BayesianPersonalizedRanking", "MatrixFactorizationBase", "as_user_items",
           "evaluation"]
