"""The gradient checker itself: it passes correct gradients and catches wrong ones."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinymed.nn.functional as F
from tests.strategies import seeds
from tinymed import Tensor, cli
from tinymed.gradcheck import check, check_backward, relative_error
from tinymed.kernels import reference


def test_relative_error_is_relative_above_one_and_absolute_below():
    np.testing.assert_allclose(relative_error([100.0, 1e-3, 0.0], [101.0, 2e-3, 0.0]), [1 / 101, 1e-3, 0.0])


def test_report_names_the_worst_element():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    report = check(lambda t: t * t, x)
    assert report.passed and report.inputs[0].max_rel_error < 1e-9
    assert "PASS" in str(report)


def test_a_wrong_backward_is_caught(monkeypatch):
    # pretend ReLU's derivative were 1 everywhere: the check must fail at a negative input
    monkeypatch.setattr(reference, "relu_backward", lambda dy, x: dy)
    x = Tensor(np.array([[0.5, -1.0], [2.0, 3.0]]), requires_grad=True)
    from tinymed import using
    with using("numpy"):
        report = check(F.relu, x)
    assert not report.passed
    assert report.inputs[0].worst_index == (0, 1)


def test_float32_inputs_are_refused():
    with pytest.raises(TypeError, match="float64"):
        check(lambda t: t * 2, Tensor(np.ones(2, np.float32), requires_grad=True))


def test_cli_table_and_json(tmp_path, capsys):
    path = tmp_path / "gc.json"
    code = cli.main(["gradcheck", "--backend", "numpy", "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    payload = json.loads(path.read_text())
    assert payload["passed"] and payload["tolerance"] == 1e-7
    ops = {row["op"] for row in payload["rows"]}
    assert {"conv2d", "max_pool2d", "avg_pool2d", "linear", "cross_entropy",
            "binary_cross_entropy_with_logits", "matmul", "indexing"} <= ops
    assert "conv2d" in out and "pass" in out


def test_cli_exit_code_is_nonzero_when_an_op_fails(monkeypatch, capsys):
    monkeypatch.setattr(reference, "sigmoid_backward", lambda dy, y: dy * y)
    assert cli.main(["gradcheck", "--backend", "numpy", "--no-torch"]) == 1
    assert "FAIL" in capsys.readouterr().out


# ----- check_backward: anyone's plain NumPy forward/backward pair ---------------------------------
def _linear_forward(x, w, b):
    return x @ w.T + b


def _linear_backward(dy, x, w, b):
    return dy @ w, dy.T @ x, dy.sum(axis=0)


@settings(max_examples=10)
@given(n=st.integers(0, 3), fan_in=st.integers(1, 3), fan_out=st.integers(1, 3), seed=seeds)
def test_check_backward_passes_a_correct_numpy_pair(n, fan_in, fan_out, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((n, fan_in)), rng.standard_normal((fan_out, fan_in)), rng.standard_normal(fan_out)
    report = check_backward(_linear_forward, _linear_backward, x, w, b)
    assert report.passed, str(report)
    assert [r.shape for r in report.inputs] == [x.shape, w.shape, b.shape]


def test_check_backward_gives_the_numbers_check_gives():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal(4)
    ours = check_backward(_linear_forward, _linear_backward, x, w, b)
    theirs = check(F.linear, *(Tensor(a, requires_grad=True) for a in (x, w, b)))
    for a, t in zip(ours.inputs, theirs.inputs):
        assert a.worst_index == t.worst_index and a.max_rel_error < 1e-9 and t.max_rel_error < 1e-9
        assert abs(a.numeric - t.numeric) < 1e-9


def test_check_backward_catches_a_transposed_weight_gradient():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((3, 2)), rng.standard_normal((2, 2)), rng.standard_normal(2)

    def transposed(dy, x, w, b):
        dx, dw, db = _linear_backward(dy, x, w, b)
        return dx, dw.T, db

    report = check_backward(_linear_forward, transposed, x, w, b)
    assert not report.passed and "FAIL" in str(report)
    assert [r.max_rel_error <= report.tolerance for r in report.inputs] == [True, False, True]
    assert report.inputs[1].worst_index in ((0, 1), (1, 0))


def test_check_backward_with_several_outputs_and_integer_inputs():
    rng = np.random.default_rng(2)
    logits, target = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])

    def forward(z, t):  # the loss and the softmax: two outputs; the integer targets are not checked
        p = reference.softmax_forward(z, 1)
        return -np.log(p[np.arange(len(t)), t]).mean(), p

    def backward(dy, z, t):
        dloss, dp = dy
        p = reference.softmax_forward(z, 1)
        return reference.cross_entropy_backward(np.asarray(dloss), z, t) + reference.softmax_backward(dp, p, 1)

    report = check_backward(forward, backward, logits, target)
    assert report.passed and len(report.inputs) == 1, str(report)


def test_check_backward_checks_only_the_inputs_named_in_wrt_and_changes_none():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    before = [a.copy() for a in (x, w, b)]
    report = check_backward(_linear_forward, lambda dy, x, w, b: dy.T @ x, x, w, b, wrt=[1])
    assert report.passed and [r.shape for r in report.inputs] == [w.shape]
    for a, kept in zip((x, w, b), before):
        np.testing.assert_array_equal(a, kept)


@pytest.mark.parametrize("inputs, backward, error, match", [
    ((np.ones((2, 2), np.float32),), lambda dy, x: dy, TypeError, "float64"),
    ((np.ones((2, 2)),), lambda dy, x: (dy, dy), ValueError, "2 gradient"),
    ((np.ones((2, 2)),), lambda dy, x: dy[0], ValueError, r"shape \(2,\)"),
    ((np.arange(3),), lambda dy, x: dy, ValueError, "nothing to check"),
])
def test_check_backward_refuses_what_it_cannot_check(inputs, backward, error, match):
    with pytest.raises(error, match=match):
        check_backward(lambda x: x * 2, backward, *inputs)
