"""Numba kernels run as plain Python under NUMBA_DISABLE_JIT=1 and give the same numbers.

That is what lets a student set a breakpoint inside a JIT kernel and step through it.
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
import numpy as np
from tinymed.kernels import numba as K
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 7, 6)); w = rng.standard_normal((4, 3, 3, 2)); b = rng.standard_normal(4)
geo = ((2, 1), (1, 1), (1, 2))
y = K.conv2d_forward(x, w, b, *geo)
dx, dw, db = K.conv2d_backward(np.ones_like(y), x, w, *geo)
mp, arg = K.max_pool2d_forward(x, (2, 2), (2, 1), (1, 0))
mpg = K.max_pool2d_backward(np.ones_like(mp), arg, x.shape, (2, 2), (2, 1), (1, 0))
ap = K.avg_pool2d_forward(x, (3, 2), (1, 2), (1, 1), False)
apg = K.avg_pool2d_backward(np.ones_like(ap), x.shape, (3, 2), (1, 2), (1, 1), False)
z = rng.standard_normal((5, 4)); t = rng.integers(0, 4, 5)
out = dict(y=y, dx=dx, dw=dw, db=db, mp=mp, arg=arg, mpg=mpg, ap=ap, apg=apg,
           sm=K.softmax_forward(z, 1), lsm=K.log_softmax_forward(z, 0), sig=K.sigmoid_forward(z),
           relu=K.relu_forward(z), tanh=K.tanh_forward(z),
           gelu=K.gelu_forward(z, "tanh"), gelu_grad=K.gelu_backward(z, 3 * z, "tanh"),
           gelu32=K.gelu_forward(3 * z.astype(np.float32), "tanh"),
           gelu32_grad=K.gelu_backward(z.astype(np.float32), 3 * z.astype(np.float32), "tanh"),
           ce=K.cross_entropy_forward(z, t), ceg=K.cross_entropy_backward(np.float64(1.0), z, t),
           bce=K.binary_cross_entropy_with_logits_forward(z, (z > 0) * 1.0, "none"))
# sequence kernels: time-first (T=4, N=2, I=3), hidden size 5
xs = rng.standard_normal((4, 2, 3)); h0 = rng.standard_normal((2, 5)); dh = rng.standard_normal((4, 2, 5))
W, U, b5 = 0.5 * rng.standard_normal((5, 5)), rng.standard_normal((5, 3)), rng.standard_normal(5)
h = K.rnn_tanh_forward(xs, h0, w_ih=U, w_hh=W, b=b5)
out.update(rnn=h, rnn_grads=np.concatenate([g.ravel() for g in K.rnn_tanh_backward(dh, xs, h0, h, w_ih=U, w_hh=W)]))
w4, u4, b20 = rng.standard_normal((20, 3)), 0.5 * rng.standard_normal((20, 5)), rng.standard_normal(20)
lh, lc, lg = K.lstm_forward(xs, h0, h0, w_ih=w4, w_hh=u4, b=b20)
out.update(lstm=np.concatenate([lh.ravel(), lc.ravel(), lg.ravel()]), lstm_grads=np.concatenate(
    [g.ravel() for g in K.lstm_backward(dh, dh, xs, h0, h0, lh, lc, lg, w_ih=w4, w_hh=u4)]))
w3, u3 = rng.standard_normal((15, 3)), 0.5 * rng.standard_normal((15, 5))
b15, c15 = rng.standard_normal(15), rng.standard_normal(15)
gh, gg = K.gru_forward(xs, h0, w_ih=w3, w_hh=u3, b_ih=b15, b_hh=c15)
out.update(gru=np.concatenate([gh.ravel(), gg.ravel()]), gru_grads=np.concatenate(
    [g.ravel() for g in K.gru_backward(dh, xs, h0, gh, gg, w_ih=w3, w_hh=u3)]))
q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 2))
bias = np.where(rng.random((3, 5)) < 0.7, 0.0, -np.inf); bias[1] = -np.inf  # query 1 sees no key
keep = (rng.random((2, 3, 5)) > 0.2) / 0.8
ao, aw = K.scaled_dot_product_attention_forward(q, k, v, bias, 0.5, keep)
out.update(attention=np.concatenate([ao.ravel(), aw.ravel()]), attention_grads=np.concatenate(
    [g.ravel() for g in K.scaled_dot_product_attention_backward(rng.standard_normal(ao.shape), q, k, v, aw, 0.5,
                                                                 keep)]))
ly, lm, lr = K.layer_norm_forward(z, (4,), np.ones(4), np.zeros(4), 1e-5)
out.update(layer_norm=ly, layer_norm_grads=np.concatenate(
    [g.ravel() for g in K.layer_norm_backward(np.ones_like(ly), z, (4,), np.ones(4), lm, lr)]),
    embedding_grad=K.embedding_backward(np.ones((5, 3)), t, 4, 0))
np.savez(sys.argv[1], **out)
"""


def _run(path, disable_jit):
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1" if disable_jit else "0"}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with np.load(path, allow_pickle=False) as data:
        return dict(data)


def test_same_numbers_with_and_without_jit(tmp_path):
    interpreted = _run(tmp_path / "python.npz", disable_jit=True)
    compiled = _run(tmp_path / "jit.npz", disable_jit=False)
    assert interpreted.keys() == compiled.keys()
    for key in compiled:
        np.testing.assert_allclose(interpreted[key], compiled[key], rtol=1e-12, atol=1e-14, err_msg=key)
