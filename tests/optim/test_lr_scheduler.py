"""Learning-rate schedules against torch.optim.lr_scheduler, the article's F11, state dicts."""

import math

import numpy as np
import pytest

import tinymed
from tinymed import optim

SCHEDULES = [
    ("step", lambda o: optim.StepLR(o, step_size=3, gamma=0.5),
     lambda t, o: t.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    ("exponential", lambda o: optim.ExponentialLR(o, gamma=0.9),
     lambda t, o: t.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("cosine", lambda o: optim.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    ("cosine-to-zero", lambda o: optim.CosineAnnealingLR(o, T_max=7),
     lambda t, o: t.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7)),
    ("inverse-sqrt", lambda o: optim.InverseSqrtLR(o),
     lambda t, o: t.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / math.sqrt(e + 1))),
]


@pytest.mark.parametrize("name,ours,theirs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([tinymed.Tensor(np.ones(1), requires_grad=True)], lr=0.3)
    topt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.3)
    sched, tsched = ours(opt), theirs(torch, topt)
    for epoch in range(25):  # past T_max, where cosine annealing rises again
        assert sched.get_last_lr()[0] == pytest.approx(tsched.get_last_lr()[0], rel=1e-12, abs=1e-15), epoch
        assert opt.lr == sched.get_last_lr()[0]
        topt.step()
        sched.step()
        tsched.step()


def test_inverse_sqrt_is_the_articles_schedule():
    opt = optim.GD(lr=1.0)  # F11: α_t = 1/√t, t = 1, 2, ...
    sched = optim.InverseSqrtLR(opt)
    rates = []
    for _ in range(4):
        rates.append(opt.lr)
        sched.step()
    np.testing.assert_allclose(rates, [1.0, 1 / math.sqrt(2), 1 / math.sqrt(3), 0.5])


def test_schedule_state_dict_round_trip():
    opt = optim.Adam(lr=0.1)
    sched = optim.StepLR(opt, step_size=2)
    for _ in range(5):
        sched.step()
    other_opt = optim.Adam(lr=0.1)
    other = optim.StepLR(other_opt, step_size=2)
    other.load_state_dict(sched.state_dict())
    assert other.last_epoch == 5 and other_opt.lr == opt.lr == pytest.approx(0.001)
    with pytest.raises(TypeError, match="StepLR: expected a tinymed Optimizer"):
        optim.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(opt, step_size=0)
