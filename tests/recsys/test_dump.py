"""recsys.dump: predictions and predictors saved without pickle and loaded back, predicting the same."""

import numpy as np
import pytest

import tinymed
import tinymed.recsys as tr
from tinymed.recsys import dump
from tinymed.serialization import CheckpointError

ALGORITHMS = [
    lambda: tr.NormalPredictor(random_state=3), lambda: tr.BaselineOnly(verbose=False),
    lambda: tr.KNNBasic(k=5, sim_options={"name": "pearson"}, verbose=False),
    lambda: tr.KNNWithMeans(verbose=False), lambda: tr.KNNWithZScore(sim_options={"user_based": False}, verbose=False),
    lambda: tr.KNNBaseline(verbose=False), lambda: tr.SVD(n_factors=4, n_epochs=3, random_state=1),
    lambda: tr.SVDpp(n_factors=3, n_epochs=2, random_state=np.random.RandomState(2)),
    lambda: tr.NMF(n_factors=3, n_epochs=4, biased=True, random_state=np.random.default_rng(3)),
    lambda: tr.SlopeOne(), lambda: tr.CoClustering(n_epochs=3, random_state=4),
    lambda: tr.BPMF(n_factors=3, n_samples=4, burn_in=1, random_state=5), lambda: tr.MeanFilledSVD(n_factors=3),
]


@pytest.mark.parametrize("make", ALGORITHMS, ids=[make().__class__.__name__ for make in ALGORITHMS])
def test_a_dumped_predictor_predicts_the_same(treatments, tmp_path, make):
    _, trainset = treatments
    testset = trainset.build_testset()[:40] + [("new patient", "T001", 3.0)]
    dump.dump(tmp_path / "unfitted", algo=make())
    _, unfitted = dump.load(tmp_path / "unfitted")
    assert unfitted.trainset is None and unfitted.get_params().keys() == make().get_params().keys()
    algo = make().fit(trainset)
    predictions = algo.test(testset)
    dump.dump(tmp_path / "fitted", predictions, algo)
    loaded_predictions, loaded = dump.load(tmp_path / "fitted")
    assert loaded_predictions == predictions
    assert type(loaded) is type(algo)
    if not isinstance(algo, tr.NormalPredictor):  # its estimates are draws
        assert loaded.test(testset) == predictions
    else:
        assert loaded.sigma == algo.sigma


def test_raw_ids_of_every_kind_and_details_survive(tmp_path, make_trainset):
    rows = [(1, "a", 4.0), (2, "a", 3.0), ("x", 7, 5.0), (1, 7, 2.0)]
    algo = tr.BaselineOnly(verbose=False).fit(make_trainset(rows))
    predictions = algo.test([(1, "a", 4.0), ("x", 7, 5.0), ("nobody", "a", None)])
    dump.dump(tmp_path / "ids.npz", predictions, algo)
    loaded_predictions, loaded = dump.load(tmp_path / "ids.npz")
    assert loaded_predictions == predictions and loaded_predictions[2].r_ui is None
    assert loaded.trainset.to_inner_uid("x") == algo.trainset.to_inner_uid("x")
    assert loaded.predict(1, 7).est == algo.predict(1, 7).est


def test_nothing_dumped_loads_as_nothing(tmp_path):
    dump.dump(tmp_path / "empty")
    assert dump.load(tmp_path / "empty") == (None, None)


def test_no_pickle_and_clear_errors(tmp_path, treatments):
    _, trainset = treatments
    dump.dump(tmp_path / "svd", algo=tr.SVD(n_factors=2, n_epochs=1).fit(trainset))
    with np.load(tmp_path / "svd", allow_pickle=False) as archive:  # plain arrays only
        assert all(archive[name].dtype.kind in "biufcU" for name in archive.files)
    tinymed.save({"format": "something else"}, tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match="not a file written by tinymed.recsys.dump.dump"):
        dump.load(tmp_path / "other.npz")
    with pytest.raises(TypeError, match="cannot save a WeightedHybrid"):
        dump.dump(tmp_path / "x", algo=tr.WeightedHybrid([tr.BaselineOnly()]))
    state = tinymed.load(tmp_path / "svd")
    state["algo"]["class"] = "os.system"
    tinymed.save(state, tmp_path / "forged")
    with pytest.raises(CheckpointError, match="class 'os.system', which is not one of"):
        dump.load(tmp_path / "forged")
