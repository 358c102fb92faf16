"""DP-SGD's step (``DPOptimizer``), Poisson batches (``DPDataLoader``) and ``PrivacyEngine``: clipped
per-example gradients never exceed the bound; without noise the step is the mean of the clipped
gradients (and equals Opacus's); the noise has the stated standard deviation; batches are Poisson;
the engine counts every step; bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
import tinymed.nn.functional as F
from tests.strategies import seeds
from tinymed import Tensor, nn, optim
from tinymed.data import DataLoader
from tinymed.privacy import DPDataLoader, DPOptimizer, GradSampleModule, PrivacyEngine, RDPAccountant
from tinymed.privacy.optimizer import clip_factors, per_sample_norms


def _model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)).double()


@given(st.integers(1, 6), st.floats(1e-3, 10.0), seeds)
def test_clipped_gradients_are_never_longer_than_the_bound(n, bound, seed):
    rng = np.random.default_rng(seed)
    samples = [rng.standard_normal((n, 3, 2)) * rng.uniform(0.01, 100, (n, 1, 1)), rng.standard_normal((n, 4))]
    norms = per_sample_norms(samples)
    np.testing.assert_allclose(norms, np.sqrt(sum((s.reshape(n, -1) ** 2).sum(1) for s in samples)), rtol=1e-12)
    factors = clip_factors(norms, bound)
    clipped_norms = per_sample_norms([s * factors.reshape((n,) + (1,) * (s.ndim - 1)) for s in samples])
    assert np.all(clipped_norms <= bound)
    short = norms + 1e-6 <= bound
    np.testing.assert_array_equal(factors[short], 1.0)  # short gradients are left alone


def _step_without_noise(model, x, y, bound, batch):
    opt = DPOptimizer(optim.SGD(model.parameters(), lr=1.0), noise_multiplier=0.0, max_grad_norm=bound,
                      expected_batch_size=batch)
    wrapped = GradSampleModule(model)
    opt.zero_grad()
    F.cross_entropy(wrapped(Tensor(x)), y).backward()
    samples = [p.grad_sample.copy() for p in opt.params]
    opt.pre_step()
    return samples, [tinymed.backend.to_numpy(p.grad) for p in opt.params]


def test_without_noise_the_gradient_is_the_mean_of_the_clipped_ones(rng):
    x, y = rng.standard_normal((5, 1, 4, 4)), rng.integers(0, 2, 5)
    samples, grads = _step_without_noise(_model(), x, y, bound=0.1, batch=8)
    factors = np.minimum(1.0, 0.1 / (per_sample_norms(samples) + 1e-6))
    assert (factors < 1).any()
    for gs, g in zip(samples, grads):
        expected = tinymed.backend.to_numpy(factors) @ tinymed.backend.to_numpy(gs).reshape(len(factors), -1) / 8
        np.testing.assert_allclose(g, expected.reshape(g.shape), rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # Opacus's hooks on a first layer
def test_without_noise_equal_to_opacus(rng):
    torch = pytest.importorskip("torch", reason="DP-SGD's step is compared with Opacus")
    opacus = pytest.importorskip("opacus", reason="DP-SGD's step is compared with Opacus")
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(8, 2)).double()
    ours = _model()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x, y = rng.standard_normal((5, 1, 4, 4)), rng.integers(0, 2, 5)
    _, grads = _step_without_noise(ours, x, y, bound=0.1, batch=8)
    wrapped = opacus.GradSampleModule(theirs)
    opt = opacus.optimizers.DPOptimizer(torch.optim.SGD(wrapped.parameters(), lr=1.0), noise_multiplier=0.0,
                                        max_grad_norm=0.1, expected_batch_size=8)
    torch.nn.functional.cross_entropy(wrapped(torch.tensor(x)), torch.tensor(y)).backward()
    opt.pre_step()
    for g, p in zip(grads, theirs.parameters()):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_the_noise_has_standard_deviation_sigma_C_over_the_batch_size(backend):
    weight = nn.Parameter(np.zeros((200, 200)))
    weight.grad_sample = tinymed.backend.asarray(np.zeros((3, 200, 200)))
    opt = DPOptimizer(optim.SGD([weight], lr=1.0), noise_multiplier=1.5, max_grad_norm=2.0, expected_batch_size=10,
                      generator=np.random.default_rng(0))
    opt.pre_step()
    noise = tinymed.backend.to_numpy(weight.grad)
    assert abs(noise.mean()) < 5 * 0.3 / 200 and noise.std() == pytest.approx(1.5 * 2.0 / 10, rel=0.02)


def test_an_empty_batch_is_a_noise_only_step():
    weight = nn.Parameter(np.zeros(4))
    opt = DPOptimizer(optim.SGD([weight], lr=1.0), noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=2,
                      generator=np.random.default_rng(1))
    opt.step()  # no backward ran: no grad_sample
    expected = np.random.default_rng(1).standard_normal(4) / 2
    np.testing.assert_allclose(weight.numpy(), -expected, rtol=1e-12)


@given(st.floats(0.01, 0.5), seeds)
def test_poisson_batches(sample_rate, seed):
    x, y = np.arange(400).reshape(200, 2), np.arange(200)
    loader = DPDataLoader((x, y), sample_rate, generator=np.random.default_rng(seed))
    sizes = []
    for xb, yb in loader:
        assert np.array_equal(xb[:, 0] // 2, yb) and len(np.unique(yb)) == len(yb)
        sizes.append(len(yb))
    assert len(sizes) == len(loader) == max(1, round(1 / sample_rate))
    expected, std = 200 * sample_rate, np.sqrt(200 * sample_rate * (1 - sample_rate))
    assert abs(np.mean(sizes) - expected) < 5 * std / np.sqrt(len(sizes))


def test_the_engine_makes_the_three_parts_and_counts_every_step(rng):
    tinymed.manual_seed(0)
    model = _model()
    x, y = rng.standard_normal((64, 1, 4, 4)), rng.integers(0, 2, 64)
    loader = DataLoader((x, y), batch_size=16, shuffle=True, transform=lambda images: images * 1.0)
    engine = PrivacyEngine()
    dp_model, dp_opt, dp_loader = engine.make_private(module=model, optimizer=optim.SGD(model.parameters(), lr=0.1),
                                                      data_loader=loader, noise_multiplier=1.3, max_grad_norm=1.0)
    assert isinstance(dp_model, GradSampleModule) and dp_loader.sample_rate == 0.25 and dp_opt.expected_batch_size == 16
    assert dp_loader.transform is loader.transform
    before = [p.numpy().copy() for p in model.parameters()]
    for _ in range(2):
        for xb, yb in dp_loader:
            dp_opt.zero_grad()
            F.cross_entropy(dp_model(Tensor(xb)), yb).backward()
            dp_opt.step()
    assert all(not np.array_equal(b, p.numpy()) for b, p in zip(before, model.parameters()))
    assert engine.accountant.history == [(1.3, 0.25, 8)]
    reference = RDPAccountant()
    reference.history = [(1.3, 0.25, 8)]
    assert engine.get_epsilon(1e-5) == reference.get_epsilon(1e-5) > 0


def test_make_private_with_epsilon_picks_enough_noise(rng):
    model = _model()
    loader = DataLoader((rng.standard_normal((100, 1, 4, 4)), rng.integers(0, 2, 100)), batch_size=10)
    engine = PrivacyEngine()
    _, dp_opt, dp_loader = engine.make_private_with_epsilon(
        module=model, optimizer=optim.SGD(model.parameters(), lr=0.1), data_loader=loader, target_epsilon=2.0,
        target_delta=1e-5, epochs=3, max_grad_norm=1.0)
    accountant = RDPAccountant()
    accountant.history = [(dp_opt.noise_multiplier, dp_loader.sample_rate, 3 * len(dp_loader))]
    assert 2.0 - 0.01 <= accountant.get_epsilon(1e-5) <= 2.0


def test_other_attributes_are_the_wrapped_optimizers():
    sgd = optim.SGD([nn.Parameter(np.zeros(2))], lr=0.3)
    opt = DPOptimizer(sgd, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=4)
    assert opt.lr == 0.3 and opt.state is sgd.state and "noise_multiplier=1.0" in repr(opt)
    opt.lr = 0.1
    assert sgd.lr == 0.1 and "lr" not in vars(opt)  # set on the optimizer that steps


@pytest.mark.parametrize("make, error, words", [
    (lambda sgd: DPOptimizer("sgd", noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=4), TypeError,
     "expected a tinymed optimizer"),
    (lambda sgd: DPOptimizer(sgd, noise_multiplier=-1.0, max_grad_norm=1.0, expected_batch_size=4), ValueError,
     "noise_multiplier must be a finite number >= 0"),
    (lambda sgd: DPOptimizer(sgd, noise_multiplier=1.0, max_grad_norm=0.0, expected_batch_size=4), ValueError,
     "max_grad_norm must be a finite number > 0"),
    (lambda sgd: DPOptimizer(sgd, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=0), ValueError,
     "expected_batch_size must be a positive integer"),
    (lambda sgd: DPOptimizer(sgd, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=4,
                             loss_reduction="none"), ValueError, "loss_reduction"),
    (lambda sgd: DPDataLoader((np.zeros(3), np.zeros(3)), 0.0), ValueError, r"sample_rate must be in \(0, 1\]"),
    (lambda sgd: DPDataLoader((np.zeros(3), np.zeros(4)), 0.5), ValueError, "differ in length"),
    (lambda sgd: DPDataLoader("data", 0.5), TypeError, "tuple of arrays"),
    (lambda sgd: PrivacyEngine(accountant="gdp"), ValueError, "only the 'rdp' accountant"),
])
def test_bad_input_is_refused_by_name(make, error, words):
    with pytest.raises(error, match=words):
        make(optim.SGD([nn.Parameter(np.zeros(2))], lr=0.1))
