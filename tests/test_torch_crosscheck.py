"""Forward and backward of every op against torch.nn.functional (skipped without PyTorch)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinymed.nn.functional as F
import tinymed
from tinymed import Tensor
from tinymed.gradcheck_suite import cases, distinct, torch_comparison

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'tinymed[torch]')")

CASES = cases(seed=3)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.op}:{c.label}" for c in CASES])
def test_every_op_matches_torch_in_float64(backend, case):
    assert torch_comparison(case) <= 1e-10


def _both(a, dtype):
    return (Tensor(tinymed.backend.asarray(a.astype(dtype)), requires_grad=True),
            torch.tensor(a.astype(dtype), requires_grad=True))


@given(st.data(), st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_conv_and_pool_layers_match_torch(backend, data, dtype, seed):
    rng = np.random.default_rng(seed)
    n, c, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    kh, kw, h, w = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)),
                    data.draw(st.integers(4, 12)), data.draw(st.integers(4, 12)))
    stride, padding = data.draw(st.integers(1, 2)), data.draw(st.integers(0, 1))
    assume(kh <= h and kw <= w)
    x, tx = _both(distinct(rng, (n, c, h, w)), dtype)
    wt, twt = _both(rng.standard_normal((k, c, kh, kw)), dtype)
    b, tb = _both(rng.standard_normal(k), dtype)
    y = F.max_pool2d(F.relu(F.conv2d(x, wt, b, stride, padding)), 2, 1, 1)
    ty = torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.conv2d(tx, twt, tb, stride, padding)), 2, 1, 1)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(tinymed.backend.asarray(g))
    ty.backward(torch.tensor(g))
    for ours, theirs in ((x, tx), (wt, twt), (b, tb)):
        np.testing.assert_allclose(tinymed.backend.to_numpy(ours.grad), theirs.grad.numpy(), **tol)
