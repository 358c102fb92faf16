"""Treatment recommendation: ratings data, similarities, collaborative / content / hybrid
filtering, matrix factorisation and evaluation -- with Surprise's names and defaults -- and
recommendation from implicit feedback with the ``implicit`` library's (:mod:`.implicit`).

Article 002's snippet S5 runs with only its import line changed::

    from tinymed.recsys import Dataset, Reader, SVD, accuracy

    data = Dataset.load_from_df(df[['user_id', 'item_id', 'rating']], Reader(rating_scale=(1, 5)))
    algo = SVD()
    trainset = data.build_full_trainset()
    algo.fit(trainset)
    predictions = algo.test(trainset)
    accuracy.rmse(predictions)

Modules: :mod:`.dataset` (Reader, Dataset, Trainset, the matrix R), :mod:`.algo_base` (what
every predictor shares), :mod:`.checks` (hyper-parameters, diverging training),
:mod:`.similarities`, :mod:`.baselines` (fitting the biases), :mod:`.baseline_only`,
:mod:`.random_pred`, :mod:`.knn`, :mod:`.slope_one`, :mod:`.co_clustering`,
:mod:`.matrix_factorization` (SVD, SVD++, NMF), :mod:`.bpmf` (Bayesian matrix
factorisation), :mod:`.content` (content-based and hybrid), :mod:`.accuracy`, :mod:`.top_n`
(ranking metrics, each defined once), :mod:`.model_selection` (splits, cross-validation, search),
:mod:`.dump` (saving without pickle), :mod:`.data` (synthetic patient-treatment responses and
prescriptions, with their truth), :mod:`.implicit` (ALS and BPR for implicit feedback),
:mod:`.movielens` (where MovieLens-100k is, and how it reads). The loops that take the time
are kernels (:mod:`tinymed.kernels.reference.recsys` and its siblings, compiled in
:mod:`tinymed.kernels.numba`); the sparse matrix is :class:`tinymed.sparse.CSRMatrix`.

Where tinymed is stricter than Surprise, on purpose: :data:`DIFFERENCES_FROM_SURPRISE`.
"""

from ..sparse import CSRMatrix
from . import accuracy, dump, implicit, model_selection, movielens, similarities, top_n
from .algo_base import AlgoBase
from .baseline_only import BaselineOnly
from .bpmf import BPMF
from .checks import TrainingDiverged
from .co_clustering import CoClustering
from .content import ArticleHybrid, ContentBased, WeightedHybrid, article_hybrid
from .data import TreatmentPrescriptions, TreatmentResponses, make_treatment_prescriptions, make_treatment_responses
from .dataset import Columns, Dataset, DatasetUserFolds, Reader, Trainset, load_movielens_100k
from .knn import KNNBaseline, KNNBasic, KNNWithMeans, KNNWithZScore
from .matrix_factorization import NMF, SVD, MeanFilledSVD, SVDpp
from .movielens import find_movielens_100k
from .predictions import Prediction, PredictionImpossible
from .random_pred import NormalPredictor
from .similarities import UnknownSimilarity, article_euclidean, feature_similarity
from .slope_one import SlopeOne

DIFFERENCES_FROM_SURPRISE = (
    "A rating outside the Reader's rating_scale, a rating that is not a finite number, a (user, item) pair "
    "given twice, and an empty table are refused when the data are loaded (Surprise loads them, and "
    "clips predictions to a scale the data do not follow).",
    "An unknown similarity name, unknown sim_options or bsl_options keys, and hyper-parameters that are not "
    "finite or are negative where they must not be, are refused when the predictor is built (Surprise fails "
    "at fit, with NameError for a similarity name: tinymed's UnknownSimilarity is a NameError too).",
    "Training whose factors or biases stop being finite (a learning rate far too large) raises "
    "TrainingDiverged naming the epoch; Surprise goes on, and every prediction is then the top of the scale.",
    "A prediction the model cannot make for an unknown user or item is marked was_impossible with the reason, "
    "also where Surprise silently predicts part of the baseline (SVD, SVDpp, NMF, BaselineOnly, KNNBaseline, "
    "CoClustering).",
    "SlopeOne and CoClustering use the ratings as they are; Surprise truncates them to integers inside its "
    "loops (the same numbers on integer ratings, such as MovieLens).",
    "algo.test(trainset) tests on every rating of the trainset (article 002's snippet S5 does it); Surprise "
    "needs trainset.build_testset().",
    "recsys.dump saves arrays and text, never a pickle; it saves tinymed's Surprise-style predictors and BPMF.",
    "RandomizedSearchCV draws its combinations from random_state also when every value is a list (Surprise "
    "then draws from NumPy's global generator). NormalPredictor takes a random_state.",
    "n_jobs, pre_dispatch and joblib_verbose are accepted and change nothing: folds and grid points run one "
    "after another.",
)

__all__ = [
    "accuracy", "dump", "implicit", "model_selection", "movielens", "similarities", "top_n", "AlgoBase",
    "BaselineOnly", "BPMF", "CoClustering", "ArticleHybrid", "ContentBased", "WeightedHybrid", "article_hybrid",
    "TreatmentResponses", "make_treatment_responses", "TreatmentPrescriptions", "make_treatment_prescriptions",
    "Columns", "Dataset", "DatasetUserFolds", "Reader", "Trainset", "KNNBaseline", "KNNBasic", "KNNWithMeans",
    "KNNWithZScore", "NMF", "SVD", "SVDpp", "MeanFilledSVD", "NormalPredictor", "SlopeOne", "Prediction",
    "PredictionImpossible", "TrainingDiverged", "UnknownSimilarity", "article_euclidean", "feature_similarity",
    "CSRMatrix", "load_movielens_100k", "find_movielens_100k", "DIFFERENCES_FROM_SURPRISE",
]
