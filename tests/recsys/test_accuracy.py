"""Evaluation: rmse/mae/mse/fcp, top-N precision/recall/NDCG, cross-validation."""

import numpy as np
import pytest

from tinymed.recsys import BaselineOnly, Prediction, accuracy, make_treatment_responses
from tinymed.recsys.model_selection import KFold, cross_validate


def P(uid, iid, r, est):
    return Prediction(uid, iid, r, est, {})


PREDS = [P("u", "a", 4, 3), P("u", "b", 2, 3), P("v", "a", 5, 5), P("v", "c", 1, 3)]


def test_rating_errors_hand_computed(capsys):
    # errors: 1, -1, 0, -2
    assert accuracy.mse(PREDS) == pytest.approx(6 / 4)
    assert accuracy.rmse(PREDS) == pytest.approx(np.sqrt(6 / 4))
    assert accuracy.mae(PREDS) == pytest.approx(4 / 4)
    assert capsys.readouterr().out == "MSE: 1.5000\nRMSE: 1.2247\nMAE:  1.0000\n"
    assert accuracy.rmse(PREDS, verbose=False) and capsys.readouterr().out == ""


def test_fcp_hand_computed():
    # u: (true 4, est 3) vs (2, 3): tie in est, true differs -> 1 discordant pair, 0 concordant
    # v: (5, 5) vs (1, 3): concordant once
    # mean over users with a concordant pair: 1; with a discordant pair: 1  -> 0.5
    assert accuracy.fcp(PREDS, verbose=False) == pytest.approx(0.5)
    perfect = [P("u", "a", 1, 1), P("u", "b", 3, 2), P("u", "c", 5, 4)]
    assert accuracy.fcp(perfect, verbose=False) == 1.0
    with pytest.raises(ValueError, match="FCP is undefined"):
        accuracy.fcp([P("u", "a", 3, 1)], verbose=False)


def test_errors_for_empty_or_unrated_predictions():
    for f in (accuracy.rmse, accuracy.mae, accuracy.mse, accuracy.fcp):
        with pytest.raises(ValueError, match="prediction list is empty"):
            f([])
    with pytest.raises(ValueError, match="needs a true rating"):
        accuracy.rmse([P("u", "a", None, 3)])


def test_precision_recall_at_k_hand_computed():
    preds = [P("u", "a", 5, 4.5), P("u", "b", 2, 4.0), P("u", "c", 4, 3.0), P("u", "d", 4, 2.0),
             P("v", "a", 1, 1.0)]
    precisions, recalls = accuracy.precision_recall_at_k(preds, k=2, threshold=3.5)
    # u's top 2: a (relevant), b (not); both recommended (est >= 3.5); relevant: a, c, d
    assert precisions["u"] == pytest.approx(1 / 2) and recalls["u"] == pytest.approx(1 / 3)
    # v: nothing recommended, nothing relevant
    assert precisions["v"] == 0.0 and recalls["v"] == 0.0
    assert accuracy.precision_at_k(preds, k=2) == pytest.approx(0.25)
    assert accuracy.recall_at_k(preds, k=2) == pytest.approx(1 / 6)
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        accuracy.precision_at_k(preds, k=0)


def test_ndcg_hand_computed():
    preds = [P("u", "a", 3, 0.9), P("u", "b", 1, 0.8), P("u", "c", 2, 0.1)]
    dcg = 3 / np.log2(2) + 1 / np.log2(3)
    idcg = 3 / np.log2(2) + 2 / np.log2(3)
    assert accuracy.ndcg_at_k(preds, k=2) == pytest.approx(dcg / idcg)
    perfect = [P("u", "a", 3, 3), P("u", "b", 2, 2), P("u", "c", 1, 1)]
    assert accuracy.ndcg_at_k(perfect, k=3) == pytest.approx(1.0)


def test_ndcg_matches_scikit_learn_without_ties():
    sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is not installed")
    rng = np.random.default_rng(0)
    true, est = rng.integers(1, 6, 8).astype(float), rng.permutation(8) / 8
    preds = [P("u", k, t, e) for k, (t, e) in enumerate(zip(true, est))]
    expected = sklearn_metrics.ndcg_score(true[None], est[None], k=5)
    assert accuracy.ndcg_at_k(preds, k=5) == pytest.approx(expected, rel=1e-12)


def test_cross_validate_returns_surprise_keys(capsys):
    data = make_treatment_responses(40, 10, density=0.4, random_state=0).to_dataset()
    out = cross_validate(BaselineOnly(verbose=False), data, measures=["RMSE", "mae", "fcp"],
                         cv=KFold(3, random_state=0), return_train_measures=True, verbose=True)
    assert set(out) == {"test_rmse", "test_mae", "test_fcp", "train_rmse", "train_mae", "train_fcp",
                        "fit_time", "test_time"}
    assert out["test_rmse"].shape == (3,) and len(out["fit_time"]) == 3
    assert out["train_rmse"].mean() < out["test_rmse"].mean()  # fitted data is easier
    assert "RMSE (testset)" in capsys.readouterr().out
    assert len(cross_validate(BaselineOnly(verbose=False), data, cv=4)["test_mae"]) == 4
    with pytest.raises(ValueError, match="unknown measure"):
        cross_validate(BaselineOnly(verbose=False), data, measures=["auc"])
