"""Every backend's kernels give the reference's numbers: float64 ~1e-12, float32 ~1e-5.

Inputs are drawn with random shapes and random memory layouts (non-contiguous views), since
a fast kernel that silently assumes C order is a classic bug.
"""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinymed import backend
from tests.conftest import BACKENDS, assert_agree
from tinymed.gradcheck_suite import distinct

FAST = [b for b in BACKENDS if b != "numpy"]
dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**32 - 1)


def _layout(a, strided):
    """The same values, as a non-contiguous view when ``strided``."""
    if not strided:
        return a
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def _on(name, arrays):
    mod = backend.array_module(*arrays) if name != "cupy" else __import__("cupy")
    return [mod.asarray(a) if isinstance(a, np.ndarray) else a for a in arrays]


def compare(op, name, args, dtype, outputs=None, weights=None):
    """Run kernel ``op`` on the reference and on ``name`` and compare every output; ``weights``
    are keyword arguments (the recurrent kernels take their weights by name)."""
    weights = weights or {}
    ref = backend.kernel(op, backend="numpy")(*args, **weights)
    on_device = dict(zip(weights, _on(name, list(weights.values()))))
    fast = backend.kernel(op, backend=name)(*_on(name, args), **on_device)
    ref = ref if isinstance(ref, tuple) else (ref,)
    fast = fast if isinstance(fast, tuple) else (fast,)
    assert len(ref) == len(fast)
    for r, f in zip(ref, fast):
        if np.asarray(r).dtype.kind in "iu":
            np.testing.assert_array_equal(backend.to_numpy(f), r)
        else:
            assert backend.to_numpy(f).dtype == np.dtype(dtype), op
            assert_agree(f, r, dtype)


pytestmark = pytest.mark.skipif(not FAST, reason="no backend besides numpy is installed")


@pytest.mark.parametrize("name", FAST)
@given(st.data(), dtypes, st.booleans(), seeds)
def test_conv2d(name, data, dtype, strided, seed):
    rng = np.random.default_rng(seed)
    n, c, k = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    padding = (data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    dilation = (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    assume(dilation[0] * (kh - 1) < h + 2 * padding[0] and dilation[1] * (kw - 1) < w + 2 * padding[1])
    x = _layout(rng.standard_normal((n, c, h, w)).astype(dtype), strided)
    wt = rng.standard_normal((k, c, kh, kw)).astype(dtype)
    b = rng.standard_normal(k).astype(dtype)
    y = backend.kernel("conv2d_forward", backend="numpy")(x, wt, b, stride, padding, dilation)
    dy = _layout(rng.standard_normal(y.shape).astype(dtype), strided)
    compare("conv2d_forward", name, (x, wt, b, stride, padding, dilation), dtype)
    compare("conv2d_forward", name, (x, wt, None, stride, padding, dilation), dtype)
    compare("conv2d_backward", name, (dy, x, wt, stride, padding, dilation), dtype)


@pytest.mark.parametrize("name", FAST)
@given(st.data(), dtypes, st.booleans(), st.booleans(), seeds)
def test_pooling(name, data, dtype, strided, include_pad, seed):
    rng = np.random.default_rng(seed)
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    padding = (data.draw(st.integers(0, kernel[0] // 2)), data.draw(st.integers(0, kernel[1] // 2)))
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)),
             data.draw(st.integers(kernel[0], 9)), data.draw(st.integers(kernel[1], 9)))
    x = _layout(distinct(rng, shape).astype(dtype), strided)
    y, argmax = backend.kernel("max_pool2d_forward", backend="numpy")(x, kernel, stride, padding)
    dy = _layout(rng.standard_normal(y.shape).astype(dtype), strided)
    compare("max_pool2d_forward", name, (x, kernel, stride, padding), dtype)
    compare("max_pool2d_backward", name, (dy, argmax, shape, kernel, stride, padding), dtype)
    compare("avg_pool2d_forward", name, (x, kernel, stride, padding, include_pad), dtype)
    compare("avg_pool2d_backward", name, (dy, shape, kernel, stride, padding, include_pad), dtype)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)


@pytest.mark.parametrize("name", FAST)
@given(shapes, dtypes, st.booleans(), st.data(), seeds)
def test_activations(name, shape, dtype, strided, data, seed):
    rng = np.random.default_rng(seed)
    x = _layout((4 * rng.standard_normal(shape)).astype(dtype), strided)
    dy = _layout(rng.standard_normal(shape).astype(dtype), strided)
    for op in ("relu", "sigmoid", "tanh"):
        compare(f"{op}_forward", name, (x,), dtype)
        y = backend.kernel(f"{op}_forward", backend="numpy")(x)
        compare(f"{op}_backward", name, (dy, x if op == "relu" else y), dtype)
    dim = data.draw(st.integers(0, len(shape) - 1))
    for op in ("softmax", "log_softmax"):
        compare(f"{op}_forward", name, (x, dim), dtype)
        y = backend.kernel(f"{op}_forward", backend="numpy")(x, dim)
        compare(f"{op}_backward", name, (dy, y, dim), dtype)


@pytest.mark.parametrize("name", FAST)
@given(shapes, dtypes, st.sampled_from(["mean", "sum", "none"]), seeds)
def test_losses(name, shape, dtype, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    t = rng.uniform(0, 1, shape).astype(dtype)
    p = rng.uniform(0.01, 0.99, shape).astype(dtype)
    dout = np.asarray(1.7 if reduction != "none" else rng.standard_normal(shape), dtype=dtype)
    for op, inp in (("mse_loss", x), ("binary_cross_entropy", p), ("binary_cross_entropy_with_logits", 5 * x)):
        compare(f"{op}_forward", name, (inp, t, reduction), dtype)
        compare(f"{op}_backward", name, (dout, inp, t, reduction), dtype)
    logits = (3 * rng.standard_normal((shape[0], shape[-1] + 1))).astype(dtype)
    target = rng.integers(0, shape[-1] + 1, shape[0])
    dout = np.asarray(0.3 if reduction != "none" else rng.standard_normal(shape[0]), dtype=dtype)
    compare("cross_entropy_forward", name, (logits, target, reduction), dtype)
    compare("cross_entropy_backward", name, (dout, logits, target, reduction), dtype)
