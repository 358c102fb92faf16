"""tinymed.keras.optimizers: Keras's names, arguments and defaults on tinymed.optim's update rules."""

import inspect
import math
import warnings

import numpy as np
import pytest

import tinymed
from tinymed import optim
from tinymed.keras import optimizers

# Keras's signatures (keras.optimizers, Keras 3), the arguments tinymed takes
KERAS_DEFAULTS = {
    optimizers.SGD: dict(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, name="SGD"),
    optimizers.Adam: dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                          weight_decay=None, name="adam"),
    optimizers.AdamW: dict(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                           amsgrad=False, name="adamw"),
    optimizers.RMSprop: dict(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                             weight_decay=None, name="rmsprop"),
    optimizers.Adagrad: dict(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                             name="adagrad"),
}
CLASSES = list(KERAS_DEFAULTS)


@pytest.fixture(autouse=True)
def no_deprecated_paths():
    """Keras-style use never goes through tinymed.optim's deprecated Keras keywords."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        yield


def quadratic_path(opt, theta0, steps=25, rates=None):
    """Bind ``opt`` to θ and take ``steps`` steps on L(θ) = ½ θᵀAθ - bᵀθ; the path of θ."""
    rng = np.random.default_rng(7)
    m = rng.normal(size=(theta0.size, theta0.size))
    A, b = m @ m.T / theta0.size + np.eye(theta0.size), rng.normal(size=theta0.size)
    theta = tinymed.Tensor(theta0.copy(), requires_grad=True)
    A, b = tinymed.backend.asarray(A), tinymed.backend.asarray(b)  # on the active backend's device
    opt.bind([theta])
    path = []
    for t in range(steps):
        if rates is not None:
            opt.lr = rates[t]
        theta.grad = A @ theta.data - b
        opt.step()
        path.append(theta.numpy())
    return np.array(path)


THETA0 = np.array([1.0, -2.0, 0.5, 3.0])


# ----- names, signatures, defaults --------------------------------------------------------------
@pytest.mark.parametrize("cls", CLASSES, ids=[c.__name__ for c in CLASSES])
def test_signature_and_defaults_are_keras(cls):
    params = inspect.signature(cls).parameters
    assert list(params)[0] == "learning_rate"
    for name, default in KERAS_DEFAULTS[cls].items():
        assert params[name].default == default, (cls.__name__, name)
    for name in ("clipnorm", "clipvalue", "global_clipnorm"):
        assert params[name].default is None
    opt = cls()
    assert opt.learning_rate == opt.lr == KERAS_DEFAULTS[cls]["learning_rate"]
    assert opt.name == KERAS_DEFAULTS[cls]["name"]
    assert opt.params == [] and opt.clipnorm is opt.clipvalue is opt.global_clipnorm is None


@pytest.mark.parametrize("cls,rule", [
    (optimizers.SGD, optim.SGD), (optimizers.Adam, optim.Adam), (optimizers.AdamW, optim.Adam),
    (optimizers.RMSprop, optim.RMSprop), (optimizers.Adagrad, optim.AdaGrad),
])
def test_each_class_is_the_tinymed_rule(cls, rule):
    assert issubclass(cls, rule) and isinstance(cls(), optim.Optimizer)


def test_keras_hyperparameters_map_to_tinymeds():
    adam = optimizers.Adam(beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True)
    assert (adam.betas, adam.eps, adam.amsgrad, adam.weight_decay) == ((0.8, 0.99), 1e-6, True, 0.0)
    rmsprop = optimizers.RMSprop(rho=0.8, epsilon=1e-5, momentum=0.5, centered=True)
    assert (rmsprop.alpha, rmsprop.eps, rmsprop.momentum, rmsprop.centered) == (0.8, 1e-5, 0.5, True)
    adagrad = optimizers.Adagrad()
    assert (adagrad.initial_accumulator_value, adagrad.eps, adagrad.lr_decay) == (0.1, 1e-7, 0.0)
    sgd = optimizers.SGD(momentum=0.9, nesterov=True)
    assert (sgd.momentum, sgd.nesterov, sgd.dampening, sgd.weight_decay) == (0.9, True, 0.0, 0.0)


# ----- the learning rate: first, by position, or old Keras's lr= -----------------------------------
def test_learning_rate_by_position_as_in_snippet_s6():
    learning_rate = 0.001
    opt = optimizers.Adam(learning_rate)  # tf.keras.optimizers.Adam(learning_rate)
    assert opt.learning_rate == 0.001
    assert optimizers.SGD(0.2, 0.9).momentum == 0.9


def test_old_keras_lr_keyword_as_in_snippet_s2():
    opt = optimizers.SGD(lr=0.01, momentum=0.9)  # tf.keras.optimizers.SGD(lr=0.01, momentum=0.9)
    assert opt.learning_rate == opt.lr == 0.01 and opt.momentum == 0.9
    assert optimizers.AdamW(lr=0.02).learning_rate == 0.02
    with pytest.raises(TypeError, match="learning_rate or as lr"):
        optimizers.SGD(0.1, lr=0.2)


def test_learning_rate_attribute_is_lr_and_checked():
    opt = optimizers.RMSprop()
    opt.learning_rate = 0.05
    assert opt.lr == 0.05
    opt.lr = 0.01
    assert opt.learning_rate == 0.01
    with pytest.raises(TypeError, match="RMSprop: lr"):
        opt.learning_rate = "fast"


@pytest.mark.parametrize("build,error,match", [
    (lambda: optimizers.SGD(decay=1e-6), TypeError, r"SGD: unknown argument\(s\) \['decay'\]; valid ones are"),
    (lambda: optimizers.Adam(use_ema=True), TypeError, r"unknown argument\(s\) \['use_ema'\]"),
    (lambda: optimizers.Adam(beta_1=1.0), ValueError, "Adam: beta_1"),
    (lambda: optimizers.AdamW(beta_2=-0.1), ValueError, "AdamW: beta_2"),
    (lambda: optimizers.Adam(epsilon=float("nan")), ValueError, "Adam: epsilon"),
    (lambda: optimizers.RMSprop(rho=-1), ValueError, "RMSprop: rho"),
    (lambda: optimizers.Adagrad(epsilon="small"), TypeError, "Adagrad: epsilon"),
    (lambda: optimizers.SGD(-0.1), ValueError, "SGD: lr"),
    (lambda: optimizers.AdamW(weight_decay=None), ValueError, "AdamW: weight_decay must be a number"),
    (lambda: optimizers.SGD(weight_decay=0.01), ValueError, r"SGD: Keras's weight_decay \(decoupled"),
    (lambda: optimizers.RMSprop(weight_decay=0.01), ValueError, r"tinymed\.optim\.RMSprop\(params, weight_decay"),
    (lambda: optimizers.Adagrad(weight_decay=0.01), ValueError, "Adam and AdamW only"),
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=1.0), ValueError, "at most one"),
    (lambda: optimizers.Adam(global_clipnorm=-1.0), ValueError, "Adam: global_clipnorm"),
])
def test_bad_arguments_raise_clear_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_step_before_compile_says_so():
    with pytest.raises(RuntimeError, match=r"Adam.step: no parameters .*model\.compile\(optimizer=\.\.\.\) binds"):
        optimizers.Adam().step()


# ----- the same steps as tinymed.optim -------------------------------------------------------------
@pytest.mark.parametrize("keras,torch_style", [
    (lambda: optimizers.Adam(learning_rate=0.05, epsilon=1e-3), lambda: optim.Adam(lr=0.05, eps=1e-3)),
    (lambda: optimizers.Adam(0.05, beta_1=0.8, beta_2=0.99, amsgrad=True),
     lambda: optim.Adam(lr=0.05, betas=(0.8, 0.99), eps=1e-7, amsgrad=True)),
    (lambda: optimizers.Adam(0.05, weight_decay=0.1), lambda: optim.AdamW(lr=0.05, eps=1e-7, weight_decay=0.1)),
    (lambda: optimizers.AdamW(0.05), lambda: optim.AdamW(lr=0.05, eps=1e-7, weight_decay=0.004)),
    (lambda: optimizers.SGD(0.05), lambda: optim.SGD(lr=0.05)),
    (lambda: optimizers.SGD(0.05, momentum=0.9), lambda: optim.SGD(lr=0.05, momentum=0.9)),
    (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
     lambda: optim.SGD(lr=0.05, momentum=0.9, nesterov=True)),
    (lambda: optimizers.SGD(0.05, nesterov=True), lambda: optim.SGD(lr=0.05)),  # Keras: no momentum, plain steps
    (lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
     lambda: optim.RMSprop(lr=0.01, alpha=0.8, eps=1e-7, momentum=0.5, centered=True)),
    (lambda: optimizers.Adagrad(0.1), lambda: optim.AdaGrad(lr=0.1, initial_accumulator_value=0.1, eps=1e-7)),
], ids=["adam", "adam-amsgrad", "adam-weight_decay", "adamw", "sgd", "sgd-momentum", "sgd-nesterov",
        "sgd-nesterov-no-momentum", "rmsprop", "adagrad"])
def test_same_steps_as_tinymed_optim(keras, torch_style):
    np.testing.assert_array_equal(quadratic_path(keras(), THETA0), quadratic_path(torch_style(), THETA0))


def test_sgd_momentum_is_keras_velocity_form_when_lr_changes():
    """Keras's v ← βv − αg, θ ← θ + v, step for step, while the rate changes."""
    beta, rates = 0.9, [0.1] * 5 + [0.02] * 5 + [0.05] * 5
    ours = quadratic_path(optimizers.SGD(momentum=beta), THETA0, steps=15, rates=rates)
    rng = np.random.default_rng(7)  # the same bowl as quadratic_path
    m = rng.normal(size=(4, 4))
    A, b = m @ m.T / 4 + np.eye(4), rng.normal(size=4)
    theta, v = THETA0.copy(), np.zeros(4)
    for t, lr in enumerate(rates):
        v = beta * v - lr * (A @ theta - b)
        theta = theta + v
        np.testing.assert_allclose(ours[t], theta, rtol=1e-12, atol=1e-12)


# ----- clipping --------------------------------------------------------------------------------------
def _one_step(opt, grads):
    params = [tinymed.Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = tinymed.backend.asarray(g)  # on the active backend's device
    opt.bind(params).step()
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(tinymed.backend.to_numpy(p.grad), g)  # p.grad itself is not changed
    return [-p.numpy() for p in params]  # with lr=1 and no momentum the step is -g_clipped


def test_clipvalue_clipnorm_global_clipnorm():
    g1, g2 = np.array([3.0, -4.0]), np.array([0.3, 0.4, -1.2])  # norms 5 and 1.3; global norm sqrt(26.69)
    step = _one_step(optimizers.SGD(1.0, clipvalue=1.0), [g1, g2])
    np.testing.assert_allclose(step[0], [1.0, -1.0])
    np.testing.assert_allclose(step[1], [0.3, 0.4, -1.0])
    step = _one_step(optimizers.SGD(1.0, clipnorm=2.0), [g1, g2])  # each rescaled to norm <= 2: g1 * 2/5
    np.testing.assert_allclose(step[0], [1.2, -1.6])
    np.testing.assert_allclose(step[1], g2)
    step = _one_step(optimizers.SGD(1.0, global_clipnorm=2.0), [g1, g2])  # all scaled by 2 / sqrt(25 + 1.69)
    scale = 2.0 / math.sqrt(26.69)
    np.testing.assert_allclose(step[0], g1 * scale)
    np.testing.assert_allclose(step[1], g2 * scale)


def test_clipping_attributes_state_dict_and_repr():
    opt = optimizers.Adam(clipnorm=2.0)
    assert (opt.clipnorm, opt.clipvalue, opt.global_clipnorm) == (2.0, None, None)
    assert opt.state_dict()["clipnorm"] == 2.0 and repr(opt).endswith("clipnorm=2.0)")
    with pytest.raises(ValueError, match="at most one.*clipnorm is set already"):
        opt.clipvalue = 1.0
    opt.clipnorm = None
    opt.clipvalue = 0.5
    assert (opt.clipnorm, opt.clipvalue) == (None, 0.5)
    other = optimizers.Adam()
    other.load_state_dict(opt.state_dict())
    assert other.clipvalue == 0.5


def test_checkpoints_move_between_the_two_styles():
    """A state dict of the old Keras-style optim.SGD(learning_rate=..., clipnorm=...) (the same keys)
    loads into keras.optimizers.SGD, and a Keras optimizer's into a tinymed.optim one."""
    grads = [np.array([3.0, -4.0]), np.array([0.5, 0.5])]
    straight = optimizers.SGD(0.1, momentum=0.9, clipnorm=1.0)
    params = [tinymed.Tensor(np.zeros(2), requires_grad=True) for _ in grads]
    straight.bind(params)
    for step in range(6):
        for p, g in zip(params, grads):
            p.grad = tinymed.backend.asarray(g * (step + 1))
        straight.step()
        if step == 2:
            state, halfway = straight.state_dict(), [p.numpy() for p in params]
    assert {"lr", "iterations", "momentum", "dampening", "weight_decay", "nesterov", "clipnorm", "num_params",
            "state.0.previous_param", "state.1.previous_param"} == set(state)
    for resumed_opt in (optimizers.SGD(), optim.SGD(lr=0.5)):
        resumed_opt.load_state_dict(state)
        resumed = [tinymed.Tensor(h.copy(), requires_grad=True) for h in halfway]
        resumed_opt.bind(resumed)
        for step in range(3, 6):
            for p, g in zip(resumed, grads):
                p.grad = tinymed.backend.asarray(g * (step + 1))
            resumed_opt.step()
        for p, q in zip(params, resumed):
            np.testing.assert_array_equal(p.numpy(), q.numpy())


# ----- get ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [
    ("adam", optimizers.Adam), ("SGD", optimizers.SGD), ("RMSprop", optimizers.RMSprop),
    ("adagrad", optimizers.Adagrad), ("AdamW", optimizers.AdamW),
])
def test_get_by_keras_name_has_keras_defaults(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.lr == KERAS_DEFAULTS[cls]["learning_rate"]
    assert optimizers.get(name, learning_rate=0.3).lr == 0.3
    assert optimizers.get(name, lr=0.2).lr == 0.2


def test_get_passes_objects_and_classes_and_rejects_unknown_names():
    keras_style = optimizers.Adam(0.02)
    torch_style = optim.Adam(lr=1e-3)  # tinymed.demo compiles with one of these
    assert optimizers.get(keras_style) is keras_style and optimizers.get(torch_style) is torch_style
    assert optimizers.get(optimizers.SGD, learning_rate=0.2, momentum=0.5).momentum == 0.5
    assert optimizers.get(optim.SGD, lr=0.2, momentum=0.5).momentum == 0.5
    assert optimizers.get("rmsprop", rho=0.5).alpha == 0.5
    with pytest.raises(TypeError, match="existing optimizer"):
        optimizers.get(keras_style, learning_rate=0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'nadam'; expected one of 'sgd', 'adam', 'adamw'"):
        optimizers.get("nadam")
    with pytest.raises(ValueError, match="unknown optimizer 42"):
        optimizers.get(42)
