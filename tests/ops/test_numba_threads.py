"""The Numba kernels give the same bits whatever the number of threads Numba runs.

Each kernel of a GPT training step (layer norm, GELU, attention, cross-entropy, Adam's step)
runs in a fresh process on Numba's 1 thread and on 3 (more than this machine may have, so that
rows split unevenly), BLAS held to one thread in both; every output must be equal bit for bit.
Today these loops run on one thread (see ``tinymed/kernels/numba/activations.py`` for why); a
loop made parallel later must keep each element's arithmetic in one thread and in a fixed order
-- never split a sum over rows between threads -- or this test fails.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from tinymed import backend

pytestmark = pytest.mark.skipif("numba" not in backend.available(), reason="numba is not installed")

SCRIPT = r"""
import sys
import numba
import numpy as np
from tinymed.kernels import numba as K
assert numba.config.NUMBA_NUM_THREADS == int(sys.argv[2])
rng = np.random.default_rng(0)
out = {}
for dtype in (np.float32, np.float64):
    name = np.dtype(dtype).name
    x = rng.standard_normal((4001, 64)).astype(dtype); w, b = rng.standard_normal((2, 64)).astype(dtype)
    y, mean, rstd = K.layer_norm_forward(x, (64,), w, b, 1e-5)
    out.update({f"ln_{name}": y, **{f"ln_grad{i}_{name}": g for i, g in enumerate(
        K.layer_norm_backward(rng.standard_normal(x.shape).astype(dtype), x, (64,), w, mean, rstd))}})
    h = 3 * rng.standard_normal((5, 7, 33)).astype(dtype)
    out[f"gelu_{name}"] = K.gelu_forward(h, "tanh")
    out[f"gelu_grad_{name}"] = K.gelu_backward(rng.standard_normal(h.shape).astype(dtype), h, "tanh")
    q, k, v = (rng.standard_normal((3, 2, 9, 4)).astype(dtype) for _ in range(3))
    causal = np.where(np.tril(np.ones((9, 9), bool)), 0.0, -np.inf).astype(dtype)
    padding = np.where(rng.random((3, 1, 1, 9)) < 0.3, -np.inf, 0.0).astype(dtype)
    for mask_name, mask in (("causal", causal), ("padding", padding)):
        o, p = K.scaled_dot_product_attention_forward(q, k, v, mask, 0.5)
        grads = K.scaled_dot_product_attention_backward(rng.standard_normal(o.shape).astype(dtype), q, k, v, p, 0.5)
        out.update({f"attention_{mask_name}_{name}": o, f"weights_{mask_name}_{name}": p,
                    **{f"attention_{mask_name}_grad{i}_{name}": g for i, g in enumerate(grads)}})
    z, t = (4 * rng.standard_normal((301, 50))).astype(dtype), rng.integers(0, 50, 301)
    weights = np.where(rng.random(301) < 0.2, 0.0, rng.random(301)).astype(dtype)
    out[f"ce_{name}"] = K.cross_entropy_forward(z, t, "none")
    out[f"ce_grad_{name}"] = K.cross_entropy_backward(weights, z, t, "none")
    param, grad = rng.standard_normal((2, 1000)).astype(dtype)
    m, v2, vmax = np.zeros_like(param), np.zeros_like(param), np.zeros_like(param)
    for step in (1, 2, 3):
        K.adam_update(param, grad * step, m, v2, vmax, step, 1e-3, 0.9, 0.999, 1e-8, 0.1, True)
    out.update({f"adam_param_{name}": param, f"adam_m_{name}": m, f"adam_v_{name}": v2, f"adam_vmax_{name}": vmax})
np.savez(sys.argv[1], **out)
"""


def _run(path, threads):
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(threads)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with np.load(path, allow_pickle=False) as data:
        return dict(data)


def test_same_bits_on_one_thread_and_on_three(tmp_path):
    one = _run(tmp_path / "one.npz", 1)
    three = _run(tmp_path / "three.npz", 3)
    assert one.keys() == three.keys()
    for key in one:
        np.testing.assert_array_equal(three[key], one[key], err_msg=key)
