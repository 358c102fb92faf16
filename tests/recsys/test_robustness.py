"""Recommenders refuse to be wrong: hyper-parameters checked at construction, training that diverges
stopped with the epoch named, and no prediction or measure ever made of a NaN."""

import math

import numpy as np
import pytest

import tinymed.recsys as tr
from tinymed.recsys import TrainingDiverged, accuracy
from tinymed.recsys.implicit import AlternatingLeastSquares, BayesianPersonalizedRanking

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("make, message", [
    (lambda: tr.SVD(lr_all=NAN), "SVD: lr_all must be a finite number, got nan"),
    (lambda: tr.SVD(lr_bu=-0.1), "SVD: lr_bu must be >= 0, got -0.1"),
    (lambda: tr.SVD(reg_qi=INF), "SVD: reg_qi must be a finite number"),
    (lambda: tr.SVD(init_std_dev=-1), "SVD: init_std_dev must be >= 0"),
    (lambda: tr.SVD(n_factors=2.5), "SVD: n_factors must be an integer >= 0"),
    (lambda: tr.SVD(n_epochs=True), "SVD: n_epochs must be an integer >= 0"),
    (lambda: tr.SVDpp(lr_yj=NAN), "SVDpp: lr_yj must be a finite number"),
    (lambda: tr.SVDpp(reg_all=-1), "SVDpp: reg_all must be >= 0"),
    (lambda: tr.NMF(init_low=-1), "NMF: init_low must be >= 0"),
    (lambda: tr.NMF(init_low=0.5, init_high=0.1), "NMF: init_high must be >= 0.5"),
    (lambda: tr.NMF(reg_pu=NAN), "NMF: reg_pu must be a finite number"),
    (lambda: tr.CoClustering(n_cltr_u=0), "CoClustering: n_cltr_u must be an integer >= 1"),
    (lambda: tr.KNNWithZScore(k=0), "KNNWithZScore: k must be an integer >= 1"),
    (lambda: tr.KNNBaseline(sim_options={"shrinkage": INF}), "sim_options: shrinkage must be a finite number"),
    (lambda: tr.KNNBasic(sim_options={"min_support": -1}), "sim_options: min_support must be an integer >= 0"),
    (lambda: tr.BaselineOnly(bsl_options={"method": "sgd", "learning_rate": NAN}),
     "bsl_options: learning_rate must be a finite number"),
    (lambda: tr.BaselineOnly(bsl_options={"reg_u": -1}), "bsl_options: reg_u must be >= 0"),
    (lambda: tr.BPMF(beta0=INF), "BPMF: beta0 must be a finite number"),
    (lambda: AlternatingLeastSquares(alpha=NAN), "AlternatingLeastSquares: alpha must be a finite number"),
    (lambda: AlternatingLeastSquares(factors=0), "AlternatingLeastSquares: factors must be an integer >= 1"),
    (lambda: BayesianPersonalizedRanking(learning_rate=-1), "BayesianPersonalizedRanking: learning_rate must be"),
])
def test_bad_hyper_parameters_are_refused_at_construction(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize("make", [AlternatingLeastSquares, BayesianPersonalizedRanking])
def test_implicit_models_refuse_a_dtype_that_is_not_float32_or_float64(make):
    with pytest.raises(TypeError, match=f"{make.__name__}: dtype must be float32 or float64, got int64"):
        make(dtype=np.int64)


def test_an_unknown_similarity_is_a_value_error_and_surprises_name_error():
    for kind in (ValueError, NameError):
        with pytest.raises(kind, match="unknown similarity 'cosin'"):
            tr.KNNBasic(sim_options={"name": "cosin"})


@pytest.mark.parametrize("make", [
    lambda: tr.SVD(n_factors=3, n_epochs=5, lr_all=1e3, random_state=0),
    lambda: tr.SVD(n_factors=3, n_epochs=5, lr_bu=50.0, random_state=0),
    lambda: tr.SVDpp(n_factors=3, n_epochs=5, lr_all=1e3, random_state=0),
    lambda: tr.NMF(n_factors=3, n_epochs=5, biased=True, lr_bu=1e3, random_state=0),
    lambda: tr.BaselineOnly(bsl_options={"method": "sgd", "learning_rate": 1e3}, verbose=False),
], ids=["SVD", "SVD-lr_bu", "SVDpp", "NMF", "BaselineOnly-sgd"])
def test_diverging_training_stops_naming_the_epoch(treatments, make):
    _, trainset = treatments
    with pytest.raises(TrainingDiverged, match=r"training diverged in epoch \d+ of \d+: .* no longer finite"):
        make().fit(trainset)
    assert issubclass(TrainingDiverged, FloatingPointError)


def test_diverging_implicit_training_stops_too(rng):
    R = (rng.random((30, 12)) < 0.4).astype(float)
    with pytest.raises(TrainingDiverged, match="BayesianPersonalizedRanking.fit: training diverged in epoch"):
        BayesianPersonalizedRanking(factors=4, learning_rate=1e30, iterations=3, random_state=0).fit(
            R, show_progress=False)


def test_a_safe_learning_rate_trains_and_predicts_on_the_scale(treatments):
    _, trainset = treatments
    algo = tr.SVD(n_factors=3, n_epochs=5, lr_all=0.01, random_state=0).fit(trainset)
    estimates = [p.est for p in algo.test(trainset)]
    assert all(1 <= e <= 5 for e in estimates) and len(set(estimates)) > 10


def test_a_prediction_is_never_a_clipped_nan(treatments):
    _, trainset = treatments
    algo = tr.SVD(n_factors=3, n_epochs=2, random_state=0).fit(trainset)
    algo.pu[0, 0] = np.nan  # a model broken after fit
    uid, iid = trainset.to_raw_uid(0), trainset.to_raw_iid(0)
    with pytest.raises(ValueError, match=r"SVD.predict: the estimate for user .* is nan, not a number"):
        algo.predict(uid, iid)
    assert math.isfinite(algo.predict(trainset.to_raw_uid(1), iid).est)


@pytest.mark.parametrize("bad", [NAN, INF])
def test_measures_refuse_non_finite_estimates(bad):
    predictions = [tr.Prediction("u", "i", 3.0, 3.5, {}), tr.Prediction("u", "j", 4.0, bad, {})]
    for measure in (accuracy.rmse, accuracy.mae, accuracy.mse, accuracy.fcp):
        with pytest.raises(ValueError, match="1 prediction.s. have an estimate or a true rating that is not a finite"):
            measure(predictions, verbose=False)
