"""``tinymed gradcheck`` covers every differentiable Function of tinymed.autograd and tinymed.ops and
every module type of tinymed.nn, each with a PyTorch column, and every row passes."""

import json

import pytest

import tinymed
from tinymed import cli, gradcheck_suite

HOW_TO_ADD = ("add cases for them at the end of tinymed/gradcheck_suite.py "
              "(@register('name') on a function rng -> [Case]; see the module docstring)")


def test_every_differentiable_function_and_module_has_a_case():
    missing = gradcheck_suite.missing_from_table()
    assert not missing, f"not in the gradcheck table: {', '.join(missing)}; {HOW_TO_ADD}"


def test_the_coverage_check_can_fail(monkeypatch):
    without = [entry for entry in gradcheck_suite.TABLE if entry[0] not in ("recurrent", "nn recurrent")]
    monkeypatch.setattr(gradcheck_suite, "TABLE", without)
    missing = gradcheck_suite.missing_from_table()
    assert {"tinymed.ops.rnn.LSTMFunction", "tinymed.ops.rnn.RNNTanhFunction", "tinymed.nn.recurrent.LSTM",
            "tinymed.nn.recurrent.RNN"} <= set(missing)
    # Seq2Seq's encoder and decoder are GRUs: used by another case, so still covered
    assert "tinymed.nn.recurrent.GRU" not in missing and "tinymed.ops.rnn.GRUFunction" not in missing


def test_a_new_entry_seeds_its_own_inputs():
    first = [c.inputs[0] for c in gradcheck_suite.cases(3) if c.op == "conv2d"]
    gradcheck_suite.TABLE.insert(0, ("extra", lambda rng: [gradcheck_suite.unary("tanh", rng.standard_normal(3))]))
    try:
        again = [c.inputs[0] for c in gradcheck_suite.cases(3) if c.op == "conv2d"]
    finally:
        gradcheck_suite.TABLE.pop(0)
    assert all((a == b).all() for a, b in zip(first, again))


def test_the_command_checks_every_row_on_every_backend_against_pytorch(tmp_path, capsys):
    pytest.importorskip("torch", reason="the PyTorch column needs torch (the crosscheck extra)")
    path = tmp_path / "gradcheck.json"
    assert cli.main(["gradcheck", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    payload = json.loads(path.read_text())
    rows = payload["rows"]
    assert payload["passed"] and all(r["passed"] for r in rows)
    assert all(r["vs_torch"] is not None for r in rows), [r["op"] for r in rows if r["vs_torch"] is None]
    ops = {r["op"] for r in rows}
    assert {"rnn_tanh", "lstm", "gru", "scaled_dot_product_attention", "layer_norm", "embedding", "cat/stack",
            "clamp", "nn.LSTM", "nn.MultiheadAttention", "nn.TransformerEncoderLayer", "nn.Seq2Seq"} <= ops
    assert {r["backend"] for r in rows} == set(tinymed.available())
    assert "threads: BLAS" in out and payload["threads"]["cpus"] >= 1
