"""Parameter groups (PyTorch's semantics): per-group hyperparameters step for step against
torch.optim, ``param_groups`` and ``defaults``, ``add_param_group``, the shared ``lr``, state dicts that
round-trip, schedules per group (warm-up + cosine against Hugging Face's), and the errors."""

import math

import numpy as np
import pytest

import tinymed
from tinymed import optim

GROUPED = [
    ("adamw-decay-and-no-decay", optim.AdamW, dict(lr=0.05),
     [{"weight_decay": 0.1}, {"weight_decay": 0.0}]),
    ("sgd-lr-and-momentum", optim.SGD, dict(lr=0.05, momentum=0.9),
     [{}, {"lr": 0.01, "momentum": 0.5}]),
    ("adam-betas", optim.Adam, dict(lr=0.05), [{"betas": (0.8, 0.99)}, {"eps": 1e-3, "amsgrad": True}]),
    ("rmsprop-centered", optim.RMSprop, dict(lr=0.01), [{"centered": True}, {"alpha": 0.9, "momentum": 0.5}]),
    ("adagrad-lr_decay", optim.AdaGrad, dict(lr=0.1), [{"lr_decay": 0.05}, {"weight_decay": 0.1}]),
]
IDS = [c[0] for c in GROUPED]


def problem(rng):
    """Two parameters of a quadratic bowl, L = ½ Σ θᵢᵀ Aᵢ θᵢ - bᵢᵀ θᵢ, and their gradients."""
    mats = [(lambda m: m @ m.T / 3 + np.eye(3))(rng.normal(size=(3, 3))) for _ in range(2)]
    return mats, [rng.normal(size=3) for _ in range(2)], [rng.normal(size=3) for _ in range(2)]


def run_grouped(cls, kwargs, options, mats, bs, starts, steps=15, torch=None):
    """Each parameter in its own group with ``options``; returns the path of both, (steps, 2, 3)."""
    if torch is None:
        params = [tinymed.Tensor(s.copy(), requires_grad=True) for s in starts]
        opt = cls([{"params": [p], **o} for p, o in zip(params, options)], **kwargs)
    else:
        params = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
        name = {"GD": "SGD", "AdaGrad": "Adagrad"}.get(cls.__name__, cls.__name__)
        opt = getattr(torch.optim, name)([{"params": [p], **o} for p, o in zip(params, options)], **kwargs)
    path = []
    for _ in range(steps):
        for p, A, b in zip(params, mats, bs):
            value = p.data if torch is None else p.detach().numpy()
            g = A @ value - b
            p.grad = g if torch is None else torch.tensor(g)
        opt.step()
        path.append([np.array(p.data if torch is None else p.detach().numpy()) for p in params])
    return np.array(path), opt


@pytest.mark.parametrize("name,cls,kwargs,options", GROUPED, ids=IDS)
def test_groups_follow_torch_step_for_step(name, cls, kwargs, options, rng):
    torch = pytest.importorskip("torch")
    mats, bs, starts = problem(rng)
    ours, _ = run_grouped(cls, kwargs, options, mats, bs, starts)
    theirs, _ = run_grouped(cls, kwargs, options, mats, bs, starts, torch=torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    # and the groups really differ: the same options for both would move the second one otherwise
    same, _ = run_grouped(cls, kwargs, [options[0], options[0]], mats, bs, starts)
    assert not np.allclose(same[:, 1], ours[:, 1])


def test_param_groups_and_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    a, b = (tinymed.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    ta, tb = (torch.ones(2, requires_grad=True) for _ in range(2))
    ours = optim.AdamW([{"params": [a], "weight_decay": 0.1}, {"params": b, "lr": 0.5}], lr=0.01)
    theirs = torch.optim.AdamW([{"params": [ta], "weight_decay": 0.1}, {"params": tb, "lr": 0.5}], lr=0.01)
    assert len(ours.param_groups) == 2
    for mine, torchs in zip(ours.param_groups, theirs.param_groups):
        assert mine["params"][0] is (a if mine is ours.param_groups[0] else b)
        for key, value in mine.items():
            if key != "params":
                assert value == torchs[key], key
    assert ours.defaults == {k: v for k, v in theirs.defaults.items() if k in ours.defaults}
    assert ours.params == [a, b]


def test_shared_lr_reads_and_writes_every_group():
    a, b = (tinymed.Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD.lr: the parameter groups hold different values \[0.1, 0.5\]"):
        _ = opt.lr
    assert opt.momentum == 0.0  # shared by both
    opt.lr = 0.2
    assert opt.lr == 0.2 and [g["lr"] for g in opt.param_groups] == [0.2, 0.2] and opt.defaults["lr"] == 0.2
    with pytest.raises(ValueError, match="SGD: lr"):
        opt.lr = -1.0
    assert "param_groups=2" in repr(opt)


def test_add_param_group_matches_torch(rng):
    torch = pytest.importorskip("torch")
    mats, bs, starts = problem(rng)
    ours = [tinymed.Tensor(s.copy(), requires_grad=True) for s in starts]
    theirs = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    opt = optim.Adam([ours[0]], lr=0.05)
    topt = torch.optim.Adam([theirs[0]], lr=0.05)
    for step in range(10):
        if step == 4:  # a layer unfrozen halfway, with its own rate
            opt.add_param_group({"params": [ours[1]], "lr": 0.01})
            topt.add_param_group({"params": [theirs[1]], "lr": 0.01})
        for i in range(2):
            ours[i].grad = mats[i] @ ours[i].data - bs[i]
            theirs[i].grad = torch.tensor(mats[i] @ theirs[i].detach().numpy() - bs[i])
        opt.step()
        topt.step()
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [ours[0]]})


def test_grouped_state_dict_round_trips_bit_for_bit(rng, tmp_path):
    mats, bs, starts = problem(rng)
    options = [{"weight_decay": 0.1}, {"weight_decay": 0.0, "lr": 0.02}]
    halfway, opt = run_grouped(optim.AdamW, dict(lr=0.05), options, mats, bs, starts, steps=5)
    opt.param_groups[1]["lr"] = 0.03  # a schedule moved it
    state = opt.state_dict()
    assert state["param_groups.1.lr"] == 0.03 and state["param_groups.0.weight_decay"] == 0.1
    assert state["param_groups.0.num_params"] == 1 and state["lr"] == 0.05
    tinymed.save({"optimizer": state}, tmp_path / "opt.npz")
    loaded = tinymed.load(tmp_path / "opt.npz")["optimizer"]
    fresh = [tinymed.Tensor(p.copy(), requires_grad=True) for p in halfway[-1]]
    other = optim.AdamW([{"params": [fresh[0]]}, {"params": [fresh[1]]}], lr=0.5)  # other options: all replaced
    other.load_state_dict(loaded)
    assert [g["lr"] for g in other.param_groups] == [0.05, 0.03]
    assert [g["weight_decay"] for g in other.param_groups] == [0.1, 0.0]
    for _ in range(3):
        for p, q, A, b in zip(opt.params, fresh, mats, bs):
            p.grad = A @ p.data - b
            q.grad = A @ q.data - b
        opt.step()
        other.step()
    for p, q in zip(opt.params, fresh):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_state_dict_must_fit_the_groups(rng):
    mats, bs, starts = problem(rng)
    _, grouped = run_grouped(optim.Adam, dict(lr=0.05), [{}, {"lr": 0.01}], mats, bs, starts, steps=2)
    one_group = optim.Adam([tinymed.Tensor(s.copy(), requires_grad=True) for s in starts])
    with pytest.raises(ValueError, match=r"groups of sizes \[1, 1\], this optimizer's groups have sizes \[2\]"):
        one_group.load_state_dict(grouped.state_dict())
    with pytest.raises(ValueError, match=r"sizes \[2\], this optimizer's groups have sizes \[1, 1\]"):
        grouped.load_state_dict(one_group.state_dict())
    before = grouped.state_dict()
    bad = {**before, "param_groups.1.lr": -0.5}
    with pytest.raises(ValueError, match="lr"):
        grouped.load_state_dict(bad)
    after = grouped.state_dict()
    for key, value in before.items():  # all or nothing
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_grouped_state_dict_loaded_before_bind(rng):
    mats, bs, starts = problem(rng)
    _, grouped = run_grouped(optim.SGD, dict(lr=0.05, momentum=0.9), [{}, {"lr": 0.01}], mats, bs, starts, steps=3)
    late = optim.SGD(lr=0.3)
    late.load_state_dict(grouped.state_dict())
    late.bind([{"params": [tinymed.Tensor(s.copy(), requires_grad=True)]} for s in starts])
    assert [g["lr"] for g in late.param_groups] == [0.05, 0.01]
    assert [g["momentum"] for g in late.param_groups] == [0.9, 0.9]


@pytest.mark.parametrize("build,error,match", [
    (lambda p: optim.SGD([{"params": p, "lr": -1.0}], lr=0.1), ValueError, "parameter group 0.*lr"),
    (lambda p: optim.SGD([{"params": p, "nesterov": True}], lr=0.1), ValueError, "Nesterov"),
    (lambda p: optim.Adam([{"params": p, "momentum": 0.9}]), ValueError,
     r"parameter group 0: unknown option\(s\) \['momentum'\]; the options are \['lr', 'betas'"),
    (lambda p: optim.Adam([{"weights": p}]), ValueError, "needs the key 'params'"),
    (lambda p: optim.Adam([{"params": p}, p[0]]), TypeError, "not a mix"),
    (lambda p: optim.Adam([{"params": p}, {"params": p}]), ValueError, "more than once"),
    (lambda p: optim.Adam([{"params": []}]), ValueError, "empty parameter list"),
    (lambda p: optim.Adam([{"params": [np.ones(2)]}]), TypeError, "parameter group 0: parameter 0 is a ndarray"),
])
def test_bad_groups_raise_clear_errors(build, error, match):
    p = [tinymed.Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(error, match=match):
        build(p)


def test_an_empty_group_beside_others_is_allowed():
    """As in PyTorch: e.g. a model without biases gives an empty no-decay group."""
    p = tinymed.Tensor(np.ones(2), requires_grad=True)
    opt = optim.AdamW([{"params": [p], "weight_decay": 0.1}, {"params": [], "weight_decay": 0.0}], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    assert len(opt.param_groups) == 2 and not np.allclose(p.data, 1.0)


# ----- schedules, one rate per group -------------------------------------------------------------
def test_schedules_scale_each_groups_own_rate_like_torch():
    torch = pytest.importorskip("torch")
    ours = optim.SGD([{"params": [tinymed.Tensor(np.ones(1), requires_grad=True)]},
                      {"params": [tinymed.Tensor(np.ones(1), requires_grad=True)], "lr": 0.03}], lr=0.3)
    theirs = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)]},
                              {"params": [torch.ones(1, requires_grad=True)], "lr": 0.03}], lr=0.3)
    sched = optim.CosineAnnealingLR(ours, T_max=6, eta_min=0.001)
    tsched = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=6, eta_min=0.001)
    for _ in range(9):
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12)
        assert [g["lr"] for g in ours.param_groups] == sched.get_last_lr()
        theirs.step()
        sched.step()
        tsched.step()


def test_warmup_then_cosine_matches_hugging_face():
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (tinymed[crosscheck])")
    torch = pytest.importorskip("torch")
    ours = optim.AdamW([{"params": [tinymed.Tensor(np.ones(1), requires_grad=True)]},
                        {"params": [tinymed.Tensor(np.ones(1), requires_grad=True)], "lr": 1e-4}], lr=6e-4)
    theirs = torch.optim.AdamW([{"params": [torch.ones(1, requires_grad=True)]},
                                {"params": [torch.ones(1, requires_grad=True)], "lr": 1e-4}], lr=6e-4)
    sched = optim.get_cosine_schedule_with_warmup(ours, num_warmup_steps=5, num_training_steps=30)
    tsched = transformers.get_cosine_schedule_with_warmup(theirs, num_warmup_steps=5, num_training_steps=30)
    for _ in range(35):  # past the end, where the rate stays at 0
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-12, atol=1e-18)
        theirs.step()
        sched.step()
        tsched.step()


def test_warmup_then_cosine_by_hand():
    """Linear from 0 to the full rate over the warm-up, then half a cosine down to 0."""
    opt = optim.SGD([tinymed.Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    sched = optim.get_cosine_schedule_with_warmup(opt, num_warmup_steps=4, num_training_steps=12)
    rates = []
    for _ in range(13):
        rates.append(opt.lr)
        sched.step()
    np.testing.assert_allclose(rates[:5], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(rates[4:], [0.5 * (1 + math.cos(math.pi * s / 8)) for s in range(9)], atol=1e-15)
    assert sched.state_dict()["last_epoch"] == 13
    with pytest.raises(ValueError, match="num_training_steps=4 must exceed num_warmup_steps=4"):
        optim.get_cosine_schedule_with_warmup(opt, 4, 4)
    with pytest.raises(ValueError, match="num_warmup_steps must be a non-negative integer"):
        optim.get_cosine_schedule_with_warmup(opt, -1, 4)


def test_schedule_state_dict_round_trips_every_groups_base_rate():
    def build():
        return optim.Adam([{"params": [tinymed.Tensor(np.ones(1), requires_grad=True)]},
                           {"params": [tinymed.Tensor(np.ones(1), requires_grad=True)], "lr": 0.5}], lr=0.1)

    opt, other = build(), build()
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        sched.step()
    resumed = optim.StepLR(other, step_size=2, gamma=0.5)
    resumed.load_state_dict(sched.state_dict())
    assert resumed.base_lrs == [0.1, 0.5] and resumed.last_epoch == 5
    assert [g["lr"] for g in other.param_groups] == [g["lr"] for g in opt.param_groups] == [0.025, 0.125]
