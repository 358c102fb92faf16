"""Federated averaging (``tinymed.privacy.federated``): the weighted average of state dicts; with one
full-batch gradient step per round it is exactly gradient descent on the pooled data; partial
participation, the round callback; bad input."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.strategies import seeds
from tinymed import Tensor, nn, optim
from tinymed.data import chest_phantoms
from tinymed.privacy import aggregate, federated_averaging


def test_aggregate_weights_by_the_number_of_examples():
    a = OrderedDict(w=np.array([1.0, 2.0], np.float32), b=np.array(0.0))
    b = OrderedDict(w=np.array([3.0, 6.0], np.float32), b=np.array(4.0))
    averaged = aggregate([(a, 1), (b, 3)])
    np.testing.assert_allclose(averaged["w"], [2.5, 5.0])
    assert averaged["w"].dtype == np.float32 and averaged["b"] == 3.0


def _gd_step(model, data, lr):
    x, y = data
    opt = optim.GD(model.parameters(), lr=lr)
    opt.zero_grad()
    F.cross_entropy(model(Tensor(x)), y).backward()
    opt.step()
    return len(y)


@given(st.lists(st.integers(1, 8), min_size=1, max_size=4), st.integers(1, 3), seeds)
def test_one_local_step_is_gradient_descent_on_the_pooled_data(sizes, rounds, seed):
    """sum_k n_k/n (theta - lr g_k) = theta - lr sum_k n_k/n g_k, and n_k/n g_k summed is the
    gradient of the mean loss over all the data."""
    rng = np.random.default_rng(seed)
    clients = [(rng.standard_normal((n, 3)), rng.integers(0, 2, n)) for n in sizes]
    federated = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    pooled = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    pooled.load_state_dict(federated.state_dict())
    federated_averaging(federated, clients, lambda m, c: _gd_step(m, c, 0.5), num_rounds=rounds)
    everything = (np.concatenate([x for x, _ in clients]), np.concatenate([y for _, y in clients]))
    for _ in range(rounds):
        _gd_step(pooled, everything, 0.5)
    for key, value in pooled.state_dict().items():
        np.testing.assert_allclose(federated.state_dict()[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


def test_partial_participation_and_the_round_callback():
    model = nn.Linear(2, 1)
    seen, rounds = [], []

    def local_update(m, client):
        seen.append(client)
        return 1

    federated_averaging(model, ["a", "b", "c", "d"], local_update, num_rounds=3, fraction_fit=0.5,
                        generator=np.random.default_rng(0), on_round=lambda r, m: rounds.append(r))
    assert len(seen) == 6 and rounds == [1, 2, 3] and set(seen) <= {"a", "b", "c", "d"}


@pytest.mark.parametrize("call, error, words", [
    (lambda: aggregate([]), ValueError, "no results"),
    (lambda: aggregate([({"w": np.ones(1)}, 0)]), ValueError, "not all 0"),
    (lambda: aggregate([({"w": np.ones(1)}, 1), ({"v": np.ones(1)}, 1)]), ValueError, "different keys"),
    (lambda: federated_averaging("model", [1], lambda m, c: 1, 1), TypeError, "tinymed.nn.Module"),
    (lambda: federated_averaging(nn.Linear(1, 1), [], lambda m, c: 1, 1), ValueError, "no clients"),
    (lambda: federated_averaging(nn.Linear(1, 1), [1], lambda m, c: 1, 0), ValueError, "num_rounds"),
    (lambda: federated_averaging(nn.Linear(1, 1), [1], lambda m, c: 1, 1, fraction_fit=0), ValueError,
     "fraction_fit"),
    (lambda: federated_averaging(nn.Linear(1, 1), [1], lambda m, c: None, 1), TypeError,
     "must return the number of examples"),
])
def test_bad_input_is_refused_by_name(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_hospitals_differ_by_prevalence_and_scanner():
    """The federated lesson's sites: ``chest_phantoms`` with a prevalence and a scanner's settings."""
    default = chest_phantoms(41, size=16, seed=3)
    same = chest_phantoms(41, size=16, seed=3, prevalence=0.5, acquisition={})
    assert np.array_equal(default.X, same.X) and np.array_equal(default.y, same.y)
    assert chest_phantoms(100, size=16, seed=3, prevalence=0.2).y.sum() == 20
    flat = chest_phantoms(40, size=16, seed=3, acquisition={"contrast": (0.3, 0.3), "log_gamma": 0.0})
    sharp = chest_phantoms(40, size=16, seed=3, acquisition={"contrast": (1.8, 1.8), "log_gamma": 0.0})
    assert flat.X.std(axis=(1, 2, 3)).mean() < 0.5 * sharp.X.std(axis=(1, 2, 3)).mean()
    for bad, words in (({"prevalence": 1.5}, "prevalence must be in"), ({"acquisition": {"gain": 2}}, "keys are"),
                       ({"acquisition": {"contrast": (2, 1)}}, "0 < low <= high")):
        with pytest.raises(ValueError, match=words):
            chest_phantoms(4, size=16, **bad)
