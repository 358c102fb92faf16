"""The diagnosis of a wrong answer: the transformations every task shares, named constant factors, and
agreement across several failing inputs."""

import numpy as np
import pytest

from tinymed.exercises import get
from tinymed.exercises.diagnose import diagnose, shared_mistakes


def keys(actual, expected, factors=None):
    return [key for key, _ in shared_mistakes(np.asarray(actual, float), np.asarray(expected, float), 1e-6,
                                              factors or {})]


E = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.5]])


@pytest.mark.parametrize("actual, mistake", [
    (-E, "sign"),
    (E.T, "transposed"),
    (np.zeros_like(E), "zeros"),
    (np.where(E > 3, np.inf, E), "nonfinite"),
    (np.stack([E / 2, E / 2]), "not_summed_over_batch"),
    (2 * E, "factor"),
])
def test_each_shared_mistake_is_recognised(actual, mistake):
    assert keys(actual, E) == [mistake]


def test_a_constant_factor_is_named_when_it_is_a_known_one():
    found = dict(shared_mistakes(E / 4, E, 1e-6, {"N (the batch size)": 4}))
    assert "divided by N (the batch size)" in found["factor"]
    found = dict(shared_mistakes(4 * E, E, 1e-6, {"N (the batch size)": 4}))
    assert "a missing division by N (the batch size)" in found["factor"]
    assert "missing division by 2" in dict(shared_mistakes(2 * E, E, 1e-6, {}))["factor"]
    assert "3 times the right answer" in dict(shared_mistakes(3 * E, E, 1e-6, {}))["factor"]


def test_an_answer_that_is_just_wrong_gets_no_diagnosis():
    assert keys(E + np.array([[0.0, 0.1, 0.0], [0.0, 0.0, 0.3]]), E) == []
    assert keys(np.ones((4, 4)), E) == []


def test_a_mistake_counts_only_if_it_explains_every_failing_input():
    task = get("linear_backward").tasks[0]
    # dw = dy^T x is antisymmetric here, so its transpose is also its negative
    antisymmetric = (np.eye(2), np.array([[0.0, 1.0], [-1.0, 0.0]]), np.ones((2, 2)))

    def transposed(dy, x, w):
        return dy @ w, x.T @ dy, dy.sum(axis=0)

    assert {d.mistake for d in diagnose(task, transposed, [antisymmetric])} == {"sign", "transposed"}
    found = diagnose(task, transposed, [antisymmetric] + list(task.examples()))
    assert [(d.mistake, d.outputs) for d in found] == [("transposed", ("dw",))]
