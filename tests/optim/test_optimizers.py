"""Optimizers step for step against PyTorch; parameters without gradients, dtypes, state dicts,
late binding, argument errors."""

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tinymed import optim

# (id, tinymed class, keyword arguments); PyTorch's class of the same rule is looked up below
CONFIGS = [
    ("gd", optim.GD, dict(lr=0.1)),
    ("sgd", optim.SGD, dict(lr=0.1)),
    ("sgd-momentum", optim.SGD, dict(lr=0.05, momentum=0.9)),
    ("sgd-momentum-dampening", optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    ("sgd-momentum-weight_decay", optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    ("sgd-nesterov", optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("sgd-nesterov-weight_decay", optim.SGD, dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.05)),
    ("adagrad", optim.AdaGrad, dict(lr=0.1)),
    ("adagrad-options", optim.AdaGrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("rmsprop", optim.RMSprop, dict(lr=0.01)),
    ("rmsprop-momentum", optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    ("rmsprop-centered", optim.RMSprop, dict(lr=0.01, centered=True)),
    ("rmsprop-all", optim.RMSprop, dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("adam", optim.Adam, dict(lr=0.05)),
    ("adam-weight_decay", optim.Adam, dict(lr=0.05, weight_decay=0.1)),
    ("adam-amsgrad", optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), amsgrad=True)),
    ("adamw", optim.AdamW, dict(lr=0.05)),
    ("adamw-amsgrad", optim.AdamW, dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
]
IDS = [c[0] for c in CONFIGS]
PATH_TOL = dict(rtol=1e-10, atol=1e-10)


def torch_optimizer(torch, cls, params, kwargs):
    name = {"GD": "SGD", "AdaGrad": "Adagrad"}.get(cls.__name__, cls.__name__)
    return getattr(torch.optim, name)(params, **kwargs)


# ----- a quadratic bowl ----------------------------------------------------------------------
def quadratic(rng, n=4):
    """L(θ) = ½ θᵀAθ - bᵀθ with A symmetric positive definite; ∇L = Aθ - b."""
    m = rng.normal(size=(n, n))
    return m @ m.T / n + np.eye(n), rng.normal(size=n), rng.normal(size=n)


def run_quadratic(cls, kwargs, A, b, theta0, steps=20):
    theta = tinymed.Tensor(theta0.copy(), requires_grad=True)
    opt = cls([theta], **kwargs)
    path = []
    for _ in range(steps):
        theta.grad = A @ theta.data - b
        opt.step()
        path.append(theta.data.copy())
    return np.array(path)


def run_quadratic_torch(torch, cls, kwargs, A, b, theta0, steps=20):
    theta = torch.tensor(theta0.copy(), requires_grad=True)
    opt = torch_optimizer(torch, cls, [theta], kwargs)
    At, bt = torch.tensor(A), torch.tensor(b)
    path = []
    for _ in range(steps):
        theta.grad = (At @ theta - bt).detach()
        opt.step()
        path.append(theta.detach().numpy().copy())
    return np.array(path)


@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=IDS)
def test_quadratic_path_matches_torch(name, cls, kwargs, rng):
    torch = pytest.importorskip("torch")
    A, b, theta0 = quadratic(rng)
    ours = run_quadratic(cls, kwargs, A, b, theta0)
    theirs = run_quadratic_torch(torch, cls, kwargs, A, b, theta0)
    np.testing.assert_allclose(ours, theirs, **PATH_TOL)
    assert not np.allclose(ours[-1], theta0)  # it did move


# ----- a small two-layer network -----------------------------------------------------------
def network_data(rng):
    x = rng.normal(size=(8, 3))
    y = rng.normal(size=(8, 2))
    weights = [rng.normal(size=(5, 3)) * 0.7, rng.normal(size=5) * 0.1,
               rng.normal(size=(2, 5)) * 0.7, rng.normal(size=2) * 0.1]
    return x, y, weights


def train_network(cls, kwargs, x, y, weights, steps=20, state=None):
    params = [tinymed.Tensor(w.copy(), requires_grad=True) for w in weights]
    opt = cls(params, **kwargs)
    if state is not None:
        opt.load_state_dict(state)
    xt, yt = tinymed.Tensor(x), tinymed.Tensor(y)
    for _ in range(steps):
        w1, b1, w2, b2 = params
        loss = F.mse_loss(F.linear(F.relu(F.linear(xt, w1, b1)), w2, b2), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.numpy() for p in params], opt


def train_network_torch(torch, cls, kwargs, x, y, weights, steps=20):
    params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = torch_optimizer(torch, cls, params, kwargs)
    xt, yt = torch.tensor(x), torch.tensor(y)
    fn = torch.nn.functional
    for _ in range(steps):
        w1, b1, w2, b2 = params
        loss = fn.mse_loss(fn.linear(fn.relu(fn.linear(xt, w1, b1)), w2, b2), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=IDS)
def test_network_path_matches_torch(name, cls, kwargs, rng):
    torch = pytest.importorskip("torch")
    x, y, weights = network_data(rng)
    ours, _ = train_network(cls, kwargs, x, y, weights)
    theirs = train_network_torch(torch, cls, kwargs, x, y, weights)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **PATH_TOL)


@pytest.mark.parametrize("name,cls,kwargs", [CONFIGS[2], CONFIGS[13]], ids=[IDS[2], IDS[13]])
def test_network_path_matches_torch_on_every_backend(name, cls, kwargs, rng, backend):
    torch = pytest.importorskip("torch")
    x, y, weights = network_data(rng)
    ours, _ = train_network(cls, kwargs, x, y, weights, steps=10)
    theirs = train_network_torch(torch, cls, kwargs, x, y, weights, steps=10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, **PATH_TOL)


ADAM_CONFIGS = [c for c in CONFIGS if c[1] in (optim.Adam, optim.AdamW)]


@pytest.mark.skipif("numba" not in tinymed.available(), reason="numba is not installed")
@pytest.mark.parametrize("layout", ["contiguous", "transposed gradient", "transposed parameter"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,cls,kwargs", ADAM_CONFIGS, ids=[c[0] for c in ADAM_CONFIGS])
def test_adam_step_on_numba_is_the_reference_bit_for_bit(name, cls, kwargs, dtype, layout, rng):
    """Numba's fused Adam step rounds every hyperparameter to the parameter's dtype and applies the
    same operations in the same order as the reference's NumPy passes: the same bits, step after
    step (a transposed parameter takes the reference's step itself)."""
    start = rng.normal(size=(6, 5)).astype(dtype)
    if layout == "transposed parameter":
        start = start.T
    params, optimizers = [], []
    for backend_name in ("numpy", "numba"):
        params.append(tinymed.Tensor(start.copy(order="K"), requires_grad=True))
        optimizers.append((backend_name, cls([params[-1]], **{**kwargs, "weight_decay": 0.1})))
    for _ in range(4):
        grad = rng.normal(size=start.shape[::-1]).astype(dtype)
        grad = grad.T if layout == "transposed gradient" else grad.reshape(start.shape)
        for p, (backend_name, opt) in zip(params, optimizers):
            p.grad = grad
            with tinymed.using(backend_name):
                opt.step()
    np.testing.assert_array_equal(params[0].data, params[1].data)
    for key, value in optimizers[0][1].state[0].items():
        np.testing.assert_array_equal(optimizers[1][1].state[0][key], value, err_msg=key)


@given(
    lr=st.floats(1e-3, 0.2), momentum=st.floats(0.0, 0.99), dampening=st.floats(0.0, 0.9),
    weight_decay=st.floats(0.0, 0.5), seed=st.integers(0, 2**16),
)
def test_heavy_ball_is_torch_momentum_at_constant_lr(lr, momentum, dampening, weight_decay, seed):
    torch = pytest.importorskip("torch")
    A, b, theta0 = quadratic(np.random.default_rng(seed), n=3)
    kwargs = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    ours = run_quadratic(optim.SGD, kwargs, A, b, theta0, steps=15)
    theirs = run_quadratic_torch(torch, optim.SGD, kwargs, A, b, theta0, steps=15)
    np.testing.assert_allclose(ours, theirs, **PATH_TOL)


def test_heavy_ball_when_lr_changes_follows_the_article_and_keras(rng):
    """After a change of rate, tinymed keeps the last displacement (as the article's formula and
    Keras's v ← βv − αg, θ ← θ + v); PyTorch rescales its velocity by α_new/α_old."""
    A, b, theta0 = quadratic(rng)
    beta, rates = 0.9, [0.1] * 5 + [0.02] * 5 + [0.05] * 5
    theta = tinymed.Tensor(theta0.copy(), requires_grad=True)
    opt = optim.SGD([theta], lr=rates[0], momentum=beta)
    keras_theta, keras_v = theta0.copy(), np.zeros_like(theta0)
    for lr in rates:
        opt.lr = lr
        theta.grad = A @ theta.data - b
        opt.step()
        keras_v = beta * keras_v - lr * (A @ keras_theta - b)
        keras_theta = keras_theta + keras_v
        np.testing.assert_allclose(theta.data, keras_theta, rtol=1e-12, atol=1e-12)


def test_torch_momentum_rescales_velocity_when_lr_changes(rng):
    torch = pytest.importorskip("torch")
    A, b, theta0 = quadratic(rng)
    beta, old, new = 0.9, 0.1, 0.02
    theta = torch.tensor(theta0.copy(), requires_grad=True)
    opt = torch.optim.SGD([theta], lr=old, momentum=beta)
    for _ in range(5):
        previous = theta.detach().numpy().copy()  # θ_{t-1}
        theta.grad = torch.tensor(A @ previous - b)
        opt.step()
    theta_t = theta.detach().numpy().copy()
    displacement = theta_t - previous
    for group in opt.param_groups:
        group["lr"] = new
    g = A @ theta_t - b
    theta.grad = torch.tensor(g)
    opt.step()
    torch_next = theta.detach().numpy()
    heavy_ball = theta_t - new * g + beta * displacement
    rescaled = theta_t - new * g + beta * (new / old) * displacement
    np.testing.assert_allclose(torch_next, rescaled, rtol=1e-12, atol=1e-12)
    assert np.abs(torch_next - heavy_ball).max() > 1e-4  # the two conventions really differ


# ----- parameters without gradients ---------------------------------------------------------
@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=IDS)
def test_parameters_without_grad_are_skipped_like_torch(name, cls, kwargs, rng):
    torch = pytest.importorskip("torch")
    A, b, theta0 = quadratic(rng)
    ours = [tinymed.Tensor(theta0.copy(), requires_grad=True), tinymed.Tensor(-theta0, requires_grad=True)]
    theirs = [torch.tensor(theta0.copy(), requires_grad=True), torch.tensor(-theta0, requires_grad=True)]
    opt, topt = cls(ours, **kwargs), torch_optimizer(torch, cls, theirs, kwargs)
    for step in range(8):
        for i in range(2):
            has_grad = i == 0 or step % 3 == 1  # the second parameter gets a gradient now and then
            g = A @ ours[i].data - b
            ours[i].grad = g if has_grad else None
            theirs[i].grad = torch.tensor(g) if has_grad else None
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), **PATH_TOL)
    untouched = tinymed.Tensor(theta0.copy(), requires_grad=True)
    opt = cls([untouched], **kwargs)
    opt.step()
    np.testing.assert_array_equal(untouched.data, theta0)
    assert opt.state == {}


def test_float32_parameters_stay_float32(rng):
    for _, cls, kwargs in CONFIGS:
        p = tinymed.Tensor(rng.normal(size=(3, 2)).astype(np.float32), requires_grad=True)
        opt = cls([p], **kwargs)
        for _ in range(3):
            p.grad = (2 * p.data).astype(np.float32)
            opt.step()
        assert p.dtype == np.float32, cls.__name__
        assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if hasattr(v, "dtype"))


# ----- state dicts ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_bit_for_bit(name, cls, kwargs, rng, tmp_path):
    x, y, weights = network_data(rng)
    halfway, opt = train_network(cls, kwargs, x, y, weights, steps=6)
    state = opt.state_dict()
    for key, value in state.items():
        assert isinstance(key, str)
        assert isinstance(value, (np.ndarray, int, float, bool)), (key, type(value))
    np.savez(tmp_path / "opt.npz", **state)
    with np.load(tmp_path / "opt.npz", allow_pickle=False) as f:
        loaded = {k: f[k] for k in f.files}
    straight, _ = train_network(cls, kwargs, x, y, halfway, steps=6, state=state)
    resumed, opt2 = train_network(cls, kwargs, x, y, halfway, steps=6, state=loaded)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)
    assert opt2.iterations == 12
    # and the same as never stopping
    uninterrupted, _ = train_network(cls, kwargs, x, y, weights, steps=12)
    for a, b in zip(uninterrupted, resumed):
        np.testing.assert_array_equal(a, b)


def test_state_dict_keys_and_restored_hyperparameters():
    p = tinymed.Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.01, betas=(0.8, 0.9), amsgrad=True)
    p.grad = np.ones(3)
    opt.step()
    d = opt.state_dict()
    assert {"lr", "iterations", "betas", "eps", "weight_decay", "amsgrad", "num_params",
            "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq"} == set(d)
    other = optim.Adam([tinymed.Tensor(np.zeros(3), requires_grad=True)])
    other.load_state_dict(d)
    assert (other.lr, other.betas, other.amsgrad, other.iterations) == (0.01, (0.8, 0.9), True, 1)


def test_load_state_dict_rejects_foreign_or_mismatched_state():
    p = tinymed.Tensor(np.ones(3), requires_grad=True)
    adam = optim.Adam([p])
    p.grad = np.ones(3)
    adam.step()
    with pytest.raises(ValueError, match="not a SGD state dict"):
        optim.SGD([p], lr=0.1).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="2 parameters, this optimizer has 1"):
        two = optim.Adam([tinymed.Tensor(np.ones(3), requires_grad=True),
                          tinymed.Tensor(np.ones(2), requires_grad=True)])
        adam.load_state_dict(two.state_dict())
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([tinymed.Tensor(np.ones(4), requires_grad=True)]).load_state_dict(adam.state_dict())


def test_state_dict_loaded_before_bind_is_applied_at_bind(rng):
    x, y, weights = network_data(rng)
    halfway, opt = train_network(optim.Adam, dict(lr=0.05), x, y, weights, steps=4)
    expected, _ = train_network(optim.Adam, dict(lr=0.05), x, y, halfway, steps=3, state=opt.state_dict())
    late = optim.Adam(lr=0.5)
    late.load_state_dict(opt.state_dict())
    assert late.lr == 0.05
    params = [tinymed.Tensor(w.copy(), requires_grad=True) for w in halfway]
    late.bind(params)
    xt, yt = tinymed.Tensor(x), tinymed.Tensor(y)
    for _ in range(3):
        loss = F.mse_loss(F.linear(F.relu(F.linear(xt, params[0], params[1])), params[2], params[3]), yt)
        late.zero_grad()
        loss.backward()
        late.step()
    for a, b in zip(expected, params):
        np.testing.assert_array_equal(a, b.data)


# ----- late binding, zero_grad, errors ----------------------------------------------------------
def test_late_binding():
    """Built without parameters, bound later: the mechanism tinymed.keras's compile uses."""
    opt = optim.SGD(lr=0.5, momentum=0.9)
    assert opt.params == []
    p = tinymed.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="SGD.step: no parameters"):
        opt.step()
    assert opt.bind([p]) is opt
    p.grad = np.array([1.0, 2.0])
    opt.step()
    np.testing.assert_allclose(p.data, [0.5, -2.0])
    opt.lr = 0.1
    assert opt.lr == 0.1
    opt.bind([p])  # the same parameters again: the momentum state is kept
    assert "previous_param" in opt.state[0]
    opt.bind([tinymed.Tensor(np.zeros(2), requires_grad=True)])
    assert opt.state == {}


def test_zero_grad():
    p = tinymed.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_default_hyperparameters_are_pytorchs():
    torch = pytest.importorskip("torch")
    for ours, theirs in [(optim.SGD, torch.optim.SGD), (optim.AdaGrad, torch.optim.Adagrad),
                         (optim.RMSprop, torch.optim.RMSprop), (optim.Adam, torch.optim.Adam),
                         (optim.AdamW, torch.optim.AdamW)]:
        mine = inspect.signature(ours.__init__).parameters
        for name, param in inspect.signature(theirs.__init__).parameters.items():
            if name in mine and name != "params":
                assert mine[name].default == param.default, (ours.__name__, name)


@pytest.mark.parametrize("build,error,match", [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "SGD: lr"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "Nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "Nesterov"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, r"Adam: betas\[1\]"),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, "pair"),
    (lambda p: optim.RMSprop(p, eps=float("nan")), ValueError, "RMSprop: eps"),
    (lambda p: optim.SGD(p, lr=0.1, foo=1), TypeError, r"SGD: unknown argument\(s\) \['foo'\]"),
    (lambda p: optim.SGD(0.01), TypeError, r"SGD\(params, lr=0.01\)"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: optim.SGD(p + p, lr=0.1), ValueError, "more than once"),
    (lambda p: optim.SGD([np.ones(2)], lr=0.1), TypeError, "parameter 0 is a ndarray"),
    (lambda p: optim.SGD([{"lr": 0.1}], lr=0.1), ValueError, "needs the key 'params'"),
    (lambda p: optim.SGD([{"params": p, "betas": 1}], lr=0.1), ValueError, r"unknown option\(s\) \['betas'\]"),
    (lambda p: optim.SGD([{"params": p}, p[0]], lr=0.1), TypeError, "not a mix"),
])
def test_bad_arguments_raise_clear_errors(build, error, match):
    p = [tinymed.Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(error, match=match):
        build(p)


def test_lr_assignment_is_checked():
    opt = optim.Adam(lr=0.1)
    with pytest.raises(ValueError, match="Adam: lr"):
        opt.lr = float("inf")
    with pytest.raises(TypeError, match="Adam: lr"):
        opt.lr = "fast"


def test_grad_with_wrong_shape_is_reported():
    p = tinymed.Tensor(np.ones(3), requires_grad=True)
    p.grad = np.ones(2)
    with pytest.raises(ValueError, match=r"Adam: parameter 0 has shape \(3,\) but its grad has shape \(2,\)"):
        optim.Adam([p]).step()


def test_closure_is_called_and_its_loss_returned():
    p = tinymed.Tensor(np.array([3.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0 and p.data[0] == 1.5


def test_repr_names_hyperparameters():
    expected = "SGD(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=False)"
    assert repr(optim.SGD(lr=0.1, momentum=0.9)) == expected


# ----- CuPy ------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name,cls,kwargs", CONFIGS, ids=IDS)
def test_cupy_parameters_follow_the_numpy_path(name, cls, kwargs, rng):
    if "cupy" not in tinymed.available():
        pytest.skip("needs CuPy and a CUDA device")
    A, b, theta0 = quadratic(rng)
    expected = run_quadratic(cls, kwargs, A, b, theta0, steps=10)
    with tinymed.using("cupy"):
        cupy = tinymed.backend.xp()  # CuPy, or the strict stand-in of TINYMED_STRICT_DEVICE=1
        theta = tinymed.Tensor(cupy.asarray(theta0), requires_grad=True)
        opt = cls([theta], **kwargs)
        opt._set_clipping("clipnorm", 10.0)  # Keras's clipnorm; large enough never to clip: exercises the code path
        A_gpu, b_gpu = cupy.asarray(A), cupy.asarray(b)
        for step in range(10):
            theta.grad = A_gpu @ theta.data - b_gpu
            opt.step()
            if step == 4:  # a state dict of NumPy arrays, loaded back onto the GPU
                state = opt.state_dict()
                assert all(isinstance(v, (np.ndarray, int, float, bool)) for v in state.values())
                opt = cls([theta], **kwargs)
                opt.load_state_dict(state)
        assert isinstance(theta.data, cupy.ndarray)
        assert all(isinstance(v, cupy.ndarray) for s in opt.state.values() for v in s.values() if hasattr(v, "shape"))
        theta.grad = cupy.ones(4) * 3
        assert optim.clip_grad_norm_([theta], 1.0) == pytest.approx(6.0)
    np.testing.assert_allclose(tinymed.backend.to_numpy(theta.data), expected[-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bad", [
    {"state.0.exp_avg": np.zeros(4)},          # a buffer of the wrong shape
    {"betas": np.array([0.9, 1.5])},           # a hyperparameter out of range
    {"state.5.exp_avg": np.zeros(3)},          # state for a parameter that is not bound
])
def test_a_failed_load_state_dict_leaves_the_optimizer_unchanged(bad):
    p = tinymed.Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    opt.step()
    before = opt.state_dict()
    corrupted = {**before, "lr": 0.5, "iterations": 7, **bad}
    with pytest.raises(ValueError):
        opt.load_state_dict(corrupted)
    after = opt.state_dict()
    assert after.keys() == before.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)
