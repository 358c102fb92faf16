"""The gradient checker itself: it passes correct gradients and catches wrong ones."""

import json

import numpy as np
import pytest

import tinymed.nn.functional as F
from tinymed import Tensor, cli
from tinymed.gradcheck import check, relative_error
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
