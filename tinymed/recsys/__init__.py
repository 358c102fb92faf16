"""Treatment recommendation: ratings data, similarities, collaborative / content / hybrid
filtering, matrix factorisation and evaluation -- with Surprise's names and defaults.

Article 002's snippet S5 runs with only its import line changed::

    from tinymed.recsys import Dataset, Reader, SVD, accuracy

    data = Dataset.load_from_df(df[['user_id', 'item_id', 'rating']], Reader(rating_scale=(1, 5)))
    algo = SVD()
    trainset = data.build_full_trainset()
    algo.fit(trainset)
    predictions = algo.test(trainset)
    accuracy.rmse(predictions)

Modules: :mod:`.dataset` (Reader, Dataset, Trainset, the matrix R), :mod:`.algo_base` (what
every predictor shares), :mod:`.similarities`, :mod:`.baselines` (fitting the biases),
:mod:`.baseline_only`, :mod:`.knn`, :mod:`.matrix_factorization`, :mod:`.bpmf` (Bayesian
matrix factorisation), :mod:`.content` (content-based and hybrid), :mod:`.accuracy`,
:mod:`.model_selection`, :mod:`.data` (synthetic patient-treatment responses),
:mod:`.movielens` (where MovieLens-100k is, and how it reads). The loops that take the time
are kernels (:mod:`tinymed.kernels.reference.recsys`, compiled in
:mod:`tinymed.kernels.numba.recsys`); the sparse matrix is :class:`tinymed.sparse.CSRMatrix`.
"""

from ..sparse import CSRMatrix
from . import accuracy, model_selection, movielens, similarities
from .algo_base import AlgoBase
from .baseline_only import BaselineOnly
from .bpmf import BPMF
from .content import ArticleHybrid, ContentBased, WeightedHybrid, article_hybrid
from .data import TreatmentResponses, make_treatment_responses
from .dataset import Columns, Dataset, Reader, Trainset, load_movielens_100k
from .knn import KNNBaseline, KNNBasic, KNNWithMeans
from .matrix_factorization import SVD, MeanFilledSVD
from .movielens import find_movielens_100k
from .predictions import Prediction, PredictionImpossible
from .similarities import article_euclidean, feature_similarity

__all__ = [
    "accuracy", "model_selection", "movielens", "similarities", "AlgoBase", "BaselineOnly", "BPMF", "ArticleHybrid",
    "ContentBased", "WeightedHybrid", "article_hybrid", "TreatmentResponses", "make_treatment_responses",
    "Columns", "Dataset", "Reader", "Trainset", "KNNBaseline", "KNNBasic", "KNNWithMeans", "SVD", "MeanFilledSVD",
    "Prediction", "PredictionImpossible", "article_euclidean", "feature_similarity", "CSRMatrix",
    "load_movielens_100k", "find_movielens_100k",
]
