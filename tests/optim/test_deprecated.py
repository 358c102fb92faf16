"""Keras's vocabulary in tinymed.optim: it still works for one release, warns, and names the new place."""

import math
import subprocess
import sys

import numpy as np
import pytest

import tinymed
from tinymed import optim


def deprecated(match):
    return pytest.warns(DeprecationWarning, match=match)


# ----- learning_rate ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls,keras_name", [
    (optim.SGD, "SGD"), (optim.GD, "SGD"), (optim.AdaGrad, "Adagrad"), (optim.Adam, "Adam"),
])
def test_learning_rate_keyword_warns_and_is_honoured(cls, keras_name):
    with deprecated(rf"lr=.*tinymed\.keras\.optimizers\.{keras_name}\(learning_rate=") as record:
        opt = cls(learning_rate=0.5)
    assert opt.lr == 0.5
    assert record[0].filename == __file__  # the warning points at the caller


def test_keras_style_construction_and_bind():
    with deprecated("learning_rate"):
        opt = optim.SGD(learning_rate=0.5, momentum=0.9)
    with deprecated(r"SGD\.learning_rate is deprecated in tinymed.optim: use \.lr"):
        assert opt.lr == 0.5 and opt.learning_rate == 0.5
    p = tinymed.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="SGD.step: no parameters"):
        opt.step()
    assert opt.bind([p]) is opt
    p.grad = np.array([1.0, 2.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.5, -2.0])
    with deprecated("learning_rate"):
        opt.learning_rate = 0.1
    assert opt.lr == 0.1
    with deprecated("learning_rate"), pytest.raises(TypeError, match="SGD: lr"):
        opt.learning_rate = "fast"


# ----- clipping keywords and attributes ---------------------------------------------------------
def _one_step(opt_kwargs, grads):
    params = [tinymed.Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    (rule,) = opt_kwargs
    helper = "clip_grad_value_" if rule == "clipvalue" else "clip_grad_norm_"
    with deprecated(rf"tinymed\.keras\.optimizers\.SGD\({rule}=.*tinymed\.optim\.{helper}"):
        opt = optim.SGD(params, lr=1.0, **opt_kwargs)
    opt.step()
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad, g)  # p.grad itself is not changed
    return [-p.data for p in params]  # with lr=1 and no momentum the step is -g_clipped


def test_keras_clipvalue_clipnorm_global_clipnorm():
    g1, g2 = np.array([3.0, -4.0]), np.array([0.3, 0.4, -1.2])  # norms 5 and 1.3; global norm sqrt(26.69)
    step = _one_step(dict(clipvalue=1.0), [g1, g2])
    np.testing.assert_allclose(step[0], [1.0, -1.0])
    np.testing.assert_allclose(step[1], [0.3, 0.4, -1.0])
    step = _one_step(dict(clipnorm=2.0), [g1, g2])  # each rescaled to norm <= 2: g1 * 2/5, g2 unchanged
    np.testing.assert_allclose(step[0], [1.2, -1.6])
    np.testing.assert_allclose(step[1], g2)
    step = _one_step(dict(global_clipnorm=2.0), [g1, g2])  # all scaled by 2 / sqrt(25 + 1.69)
    scale = 2.0 / math.sqrt(26.69)
    np.testing.assert_allclose(step[0], g1 * scale)
    np.testing.assert_allclose(step[1], g2 * scale)


def test_clipping_keywords_errors():
    p = [tinymed.Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match="at most one"):
        optim.SGD(p, clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="SGD: clipnorm"), deprecated("clipnorm"):
        optim.SGD(p, clipnorm=-1.0)
    with pytest.raises(TypeError, match=r"SGD: unknown argument\(s\) \['foo'\]"):
        optim.SGD(p, foo=1, clipnorm=1.0)


def test_clipping_attributes_warn():
    with deprecated("clipnorm"):
        opt = optim.Adam(lr=0.1, clipnorm=2.0)
    with deprecated(r"Adam\.clipnorm is deprecated in tinymed.optim: use tinymed\.keras\.optimizers"):
        assert opt.clipnorm == 2.0
    with deprecated("clipvalue"):
        assert opt.clipvalue is None
    with deprecated("clipnorm"):
        opt.clipnorm = None
    assert opt.state_dict().keys() == {"lr", "iterations", "betas", "eps", "weight_decay", "amsgrad"}
    assert repr(optim.SGD(lr=0.1)) == "SGD(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)"


# ----- get ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls,keras_lr", [
    ("adam", optim.Adam, 0.001), ("SGD", optim.SGD, 0.01), ("RMSprop", optim.RMSprop, 0.001),
    ("adagrad", optim.AdaGrad, 0.001), ("AdamW", optim.AdamW, 0.001), ("gd", optim.GD, 0.01),
])
def test_get_by_keras_name(name, cls, keras_lr):
    with deprecated(r"tinymed\.optim\.get is deprecated: use tinymed\.keras\.optimizers\.get"):
        opt = optim.get(name)
    assert type(opt) is cls and opt.lr == keras_lr
    with deprecated("get"), deprecated("learning_rate"):
        assert optim.get(name, learning_rate=0.3).lr == 0.3


def test_get_passes_objects_and_classes_and_rejects_unknown_names():
    opt = optim.Adam(lr=0.02)
    with deprecated("get"):
        assert optim.get(opt) is opt
    with deprecated("get"):
        assert optim.get(optim.SGD, lr=0.2, momentum=0.5).momentum == 0.5
    with deprecated("get"), pytest.raises(ValueError, match="'sgd'.*'adam'.*'adamw'.*'rmsprop'.*'adagrad'"):
        optim.get("nadam")
    with deprecated("get"), pytest.raises(ValueError, match="unknown optimizer"):
        optim.get(42)


def test_get_is_reached_through_the_module_getattr():
    assert "get" not in optim.__all__
    from tinymed.optim import get

    with deprecated("get"):
        assert type(get("adam")) is optim.Adam
    with pytest.raises(AttributeError, match="no attribute 'clip_grad'"):
        optim.clip_grad  # noqa: B018


def test_optim_never_imports_keras():
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "import tinymed.optim as optim\n"
        "opt = optim.get('adam', learning_rate=0.1, clipnorm=1.0); opt.learning_rate; opt.clipnorm\n"
        "assert not [m for m in sys.modules if m.startswith('tinymed.keras')], sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
