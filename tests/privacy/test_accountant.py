"""The Rényi-DP accountant (``tinymed.privacy.RDPAccountant``): the same epsilon as Opacus's for the same
schedules (1e-6 relative); the sampled Gaussian mechanism's A_alpha against numerical integration of
its definition (integer and fractional orders), and its limits (q = 1 is the Gaussian mechanism, q = 0
costs nothing); epsilon grows with steps and sampling and falls with noise; the noise multiplier for a
target epsilon; delta outside (0, 1) and other bad input are refused."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinymed.privacy import RDPAccountant, get_noise_multiplier
from tinymed.privacy.accountant import DEFAULT_ALPHAS, compute_rdp, get_privacy_spent

# (noise multiplier, sampling rate, steps) runs: small and large noise and sampling, one step to many
SCHEDULES = [
    [(1.1, 256 / 60000, 60000 // 256 * 15)],
    [(0.5, 1e-4, 100)],
    [(0.8, 0.01, 1)],
    [(2.0, 0.1, 500)],
    [(1.0, 1.0, 10)],
    [(4.0, 0.3, 50)],
    [(1.1, 0.01, 300), (2.0, 0.02, 200), (0.9, 0.01, 50)],
]


@pytest.mark.filterwarnings("ignore:Optimal order is the")  # Opacus's hint to search more orders
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: "+".join(f"{a},{b:.3g},{c}" for a, b, c in s))
@pytest.mark.parametrize("delta", [1e-5, 1e-3])
def test_epsilon_equals_opacus(schedule, delta):
    opacus_accountants = pytest.importorskip("opacus.accountants", reason="epsilon is compared with Opacus's")
    ours, theirs = RDPAccountant(), opacus_accountants.RDPAccountant()
    for sigma, q, steps in schedule:
        for accountant in (ours, theirs):
            accountant.step(noise_multiplier=sigma, sample_rate=q)
            accountant.history[-1] = (sigma, q, steps)
    assert ours.history == theirs.history
    assert ours.get_epsilon(delta) == pytest.approx(theirs.get_epsilon(delta), rel=1e-6)


def _log_a_by_integration(q, sigma, alpha):
    r""":math:`\log \int \mu_0(z)\,((1-q) + q\,\mu_1(z)/\mu_0(z))^\alpha dz` on a fine grid (float64),
    the definition of :math:`A_\alpha` without any series."""
    z = np.linspace(-30 * sigma, alpha + 30 * sigma, 400_001)
    log_mu0 = -z**2 / (2 * sigma**2) - math.log(sigma * math.sqrt(2 * math.pi))
    log_ratio = (2 * z - 1) / (2 * sigma**2)
    log_mix = np.logaddexp(math.log1p(-q), math.log(q) + log_ratio)
    log_f = log_mu0 + alpha * log_mix
    peak = log_f.max()
    return peak + math.log(np.trapezoid(np.exp(log_f - peak), z))


@pytest.mark.parametrize("q, sigma", [(0.01, 1.1), (0.2, 0.9), (0.5, 2.0), (0.001, 0.6)])
@pytest.mark.parametrize("alpha", [1.5, 2, 3.7, 8, 20.25])
def test_rdp_is_the_definition_of_the_sampled_gaussian_mechanism(q, sigma, alpha):
    rdp = compute_rdp(q=q, noise_multiplier=sigma, steps=1, orders=[alpha])[0]
    assert rdp * (alpha - 1) == pytest.approx(_log_a_by_integration(q, sigma, alpha), rel=1e-8, abs=1e-12)


@given(st.floats(0.3, 5.0), st.sampled_from([1.5, 2.0, 7.5, 32.0]), st.integers(1, 100))
def test_limits_full_sampling_is_the_gaussian_mechanism_and_no_sampling_costs_nothing(sigma, alpha, steps):
    assert compute_rdp(q=1.0, noise_multiplier=sigma, steps=steps, orders=[alpha])[0] == pytest.approx(
        steps * alpha / (2 * sigma**2), rel=1e-12)
    assert compute_rdp(q=0.0, noise_multiplier=sigma, steps=steps, orders=[alpha])[0] == 0.0


@given(st.floats(0.6, 3.0), st.floats(1e-3, 0.2), st.integers(1, 200))
def test_epsilon_grows_with_steps_and_sampling_and_falls_with_noise(sigma, q, steps):
    def epsilon(s, rate, n):
        accountant = RDPAccountant()
        accountant.history = [(s, rate, n)]
        return accountant.get_epsilon(1e-5, alphas=range(2, 64))  # integer orders: quick

    base = epsilon(sigma, q, steps)
    assert base > 0
    assert epsilon(sigma, q, 2 * steps) > base
    assert epsilon(sigma, min(1.0, 2 * q), steps) > base
    assert epsilon(1.5 * sigma, q, steps) < base


def test_history_merges_equal_steps_and_no_noise_means_no_guarantee():
    accountant = RDPAccountant()
    assert accountant.get_epsilon(1e-5) == 0.0 and len(accountant) == 0
    for sigma in (1.0, 1.0, 2.0, 1.0):
        accountant.step(noise_multiplier=sigma, sample_rate=0.1)
    assert accountant.history == [(1.0, 0.1, 2), (2.0, 0.1, 1), (1.0, 0.1, 1)]
    accountant.step(noise_multiplier=0.0, sample_rate=0.1)
    assert accountant.get_epsilon(1e-5) == math.inf


@pytest.mark.filterwarnings("ignore:Optimal order is the")  # Opacus's hint to search more orders
def test_noise_multiplier_for_a_target_epsilon():
    sigma = get_noise_multiplier(target_epsilon=3.0, target_delta=1e-5, sample_rate=0.01, epochs=5)
    accountant = RDPAccountant()
    accountant.history = [(sigma, 0.01, 500)]
    assert 3.0 - 0.01 <= accountant.get_epsilon(1e-5) <= 3.0
    opacus_utils = pytest.importorskip("opacus.accountants.utils", reason="compared with Opacus's bisection")
    assert sigma == pytest.approx(opacus_utils.get_noise_multiplier(
        target_epsilon=3.0, target_delta=1e-5, sample_rate=0.01, epochs=5), rel=1e-3)


@pytest.mark.parametrize("delta", [1.0, 1.5, 0.0, -1e-5, float("nan"), "1e-5", True])
def test_delta_outside_zero_one_is_refused(delta):
    accountant = RDPAccountant()
    accountant.step(noise_multiplier=1.0, sample_rate=0.01)
    with pytest.raises(ValueError, match="delta must be a number strictly between 0 and 1"):
        accountant.get_epsilon(delta)


@pytest.mark.parametrize("call, words", [
    (lambda a: a.step(noise_multiplier=-1.0, sample_rate=0.1), "noise_multiplier must be a finite number >= 0"),
    (lambda a: a.step(noise_multiplier=float("inf"), sample_rate=0.1), "noise_multiplier"),
    (lambda a: a.step(noise_multiplier=1.0, sample_rate=1.5), r"sample_rate must be a number in \[0, 1\]"),
    (lambda a: get_privacy_spent(orders=[1.0, 2.0], rdp=[0.1, 0.2], delta=1e-5), "every order must be > 1"),
    (lambda a: get_privacy_spent(orders=[2.0, 3.0], rdp=[0.1], delta=1e-5), "differ in length"),
    (lambda a: get_noise_multiplier(target_epsilon=1.0, target_delta=1e-5, sample_rate=0.1), "exactly one of"),
    (lambda a: get_noise_multiplier(target_epsilon=0.0, target_delta=1e-5, sample_rate=0.1, steps=10),
     "target_epsilon must be > 0"),
])
def test_bad_input_is_refused_by_name(call, words):
    with pytest.raises(ValueError, match=words):
        call(RDPAccountant())


def test_default_orders_are_opacus():
    assert DEFAULT_ALPHAS[0] == 1.1 and DEFAULT_ALPHAS[98] == 10.9 and DEFAULT_ALPHAS[99:] == list(range(12, 64))
