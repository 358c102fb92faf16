r"""How much privacy a run of DP-SGD spends: the Rényi-DP accountant, with Opacus's names.

One DP-SGD step looks at a Poisson sample of the data (each example taken with probability
:math:`q`, the ``sample_rate``), clips each example's gradient to norm :math:`C` and adds
Gaussian noise of standard deviation :math:`\sigma C` (:math:`\sigma`, the ``noise_multiplier``).
This *sampled Gaussian mechanism* satisfies Rényi differential privacy of every order
:math:`\alpha > 1` with (Mironov, Talwar and Zhang, 2019, §3.3)

.. math:: \varepsilon_\alpha = \frac{\log A_\alpha}{\alpha - 1}, \qquad
          A_\alpha = \mathbb{E}_{z \sim \mu_0}\Big[\Big(\frac{(1-q)\mu_0(z) + q\mu_1(z)}{\mu_0(z)}\Big)^{\alpha}\Big]

with :math:`\mu_0 = \mathcal N(0, \sigma^2)`, :math:`\mu_1 = \mathcal N(1, \sigma^2)`.  For an
integer :math:`\alpha` the binomial theorem gives the finite sum

.. math:: A_\alpha = \sum_{k=0}^{\alpha} \binom{\alpha}{k} (1-q)^{\alpha-k} q^k
          \exp\Big(\frac{k^2 - k}{2\sigma^2}\Big);

for a fractional :math:`\alpha` the expectation is split at
:math:`z_0 = \sigma^2 \log(1/q - 1) + \tfrac12` (where the two densities cross) and each half
expanded in a convergent binomial series whose terms hold Gaussian tail integrals
(:math:`\tfrac12\mathrm{erfc}`).  Rényi-DP composes by addition, so :math:`T` steps cost
:math:`T\varepsilon_\alpha`, and a total is turned into :math:`(\varepsilon, \delta)`-DP by the
conversion of Balle et al. (2020, Theorem 21), minimised over the orders :math:`\alpha`:

.. math:: \varepsilon = \min_\alpha\; \varepsilon^{RDP}_\alpha
          + \log\frac{\alpha - 1}{\alpha} - \frac{\log\delta + \log\alpha}{\alpha - 1}

These are the formulas of Opacus's ``RDPAccountant`` (and TensorFlow Privacy's), with its
default orders :data:`DEFAULT_ALPHAS`; ``tests/privacy`` checks that the two agree to 1e-6.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["RDPAccountant", "compute_rdp", "get_privacy_spent", "get_noise_multiplier", "DEFAULT_ALPHAS"]

DEFAULT_ALPHAS = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
"""The Rényi orders searched by default: 1.1 to 10.9 in steps of 0.1, then 12 to 63 (Opacus's)."""


def _log_add(a: float, b: float) -> float:
    """:math:`\\log(e^a + e^b)` without overflow."""
    lo, hi = min(a, b), max(a, b)
    return hi if lo == -math.inf else hi + math.log1p(math.exp(lo - hi))


def _log_sub(a: float, b: float) -> float:
    """:math:`\\log(e^a - e^b)` for :math:`a \\ge b`."""
    if b == -math.inf:
        return a
    return -math.inf if a == b else a + math.log(-math.expm1(b - a))


def _log_erfc(x: float) -> float:
    r""":math:`\log \mathrm{erfc}(x)`, accurate where ``erfc`` itself underflows (x > 26): there the
    asymptotic series :math:`\mathrm{erfc}(x) = \frac{e^{-x^2}}{x\sqrt\pi}(1 - \frac{1}{2x^2} +
    \frac{3}{4x^4} - \frac{15}{8x^6} + \dots)`, whose first omitted term is below 1e-15 there."""
    if x < 25.0:
        return math.log(math.erfc(x))
    r = 1.0 / (2.0 * x * x)
    series = 1.0 - r * (1.0 - 3.0 * r * (1.0 - 5.0 * r * (1.0 - 7.0 * r)))
    return -x * x - math.log(x * math.sqrt(math.pi)) + math.log(series)


def _log_a_integer(q: float, sigma: float, alpha: int) -> float:
    """:math:`\\log A_\\alpha` for an integer order: the finite binomial sum."""
    log_a = -math.inf
    for k in range(alpha + 1):
        term = (math.log(math.comb(alpha, k)) + k * math.log(q) + (alpha - k) * math.log1p(-q)
                + (k * k - k) / (2 * sigma**2))
        log_a = _log_add(log_a, term)
    return log_a


def _log_a_fractional(q: float, sigma: float, alpha: float) -> float:
    """:math:`\\log A_\\alpha` for a fractional order: the two tail series, summed until their
    terms fall below :math:`e^{-30}`.  The binomial coefficient :math:`\\binom{\\alpha}{k}` is built
    up term by term and changes sign once ``k`` passes ``alpha``."""
    z0 = sigma**2 * math.log(1 / q - 1) + 0.5
    below, above = -math.inf, -math.inf
    coef, k = 1.0, 0
    while True:
        j = alpha - k
        log_coef = math.log(abs(coef))
        s0 = (log_coef + k * math.log(q) + j * math.log1p(-q) + (k * k - k) / (2 * sigma**2)
              + math.log(0.5) + _log_erfc((k - z0) / (math.sqrt(2) * sigma)))
        s1 = (log_coef + j * math.log(q) + k * math.log1p(-q) + (j * j - j) / (2 * sigma**2)
              + math.log(0.5) + _log_erfc((z0 - j) / (math.sqrt(2) * sigma)))
        if coef > 0:
            below, above = _log_add(below, s0), _log_add(above, s1)
        else:
            below, above = _log_sub(below, s0), _log_sub(above, s1)
        if max(s0, s1) < -30:
            return _log_add(below, above)
        coef *= (alpha - k) / (k + 1)
        k += 1


def _rdp_one_step(q: float, sigma: float, alpha: float) -> float:
    """Rényi-DP of order ``alpha`` of one step of the sampled Gaussian mechanism."""
    if q == 0:
        return 0.0
    if sigma == 0:
        return math.inf
    if q == 1.0:
        return alpha / (2 * sigma**2)
    if float(alpha).is_integer():
        return _log_a_integer(q, sigma, int(alpha)) / (alpha - 1)
    return _log_a_fractional(q, sigma, alpha) / (alpha - 1)


def _check_schedule(noise_multiplier, sample_rate):
    if isinstance(noise_multiplier, bool) or not isinstance(noise_multiplier, numbers.Real) \
            or not noise_multiplier >= 0 or math.isinf(noise_multiplier):
        raise ValueError(f"RDPAccountant: noise_multiplier must be a finite number >= 0, got {noise_multiplier!r}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) or not 0 <= sample_rate <= 1:
        raise ValueError(f"RDPAccountant: sample_rate must be a number in [0, 1], got {sample_rate!r}")


def compute_rdp(*, q, noise_multiplier, steps, orders):
    """Rényi-DP at each of ``orders`` of ``steps`` steps with sampling rate ``q`` (an array)."""
    _check_schedule(noise_multiplier, q)
    return np.array([_rdp_one_step(float(q), float(noise_multiplier), float(a)) for a in orders]) * steps


def _check_delta(delta, op):
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not 0 < delta < 1:
        raise ValueError(f"{op}: delta must be a number strictly between 0 and 1 (the probability that "
                         f"the epsilon guarantee fails; e.g. 1e-5, below 1/number of examples), got {delta!r}")


def get_privacy_spent(*, orders, rdp, delta):
    """``(epsilon, best_order)``: Rényi-DP ``rdp`` at ``orders`` turned into (epsilon, delta)-DP."""
    _check_delta(delta, "get_privacy_spent")
    orders, rdp = np.atleast_1d(np.asarray(orders, dtype=float)), np.atleast_1d(np.asarray(rdp, dtype=float))
    if orders.shape != rdp.shape:
        raise ValueError(f"get_privacy_spent: orders and rdp differ in length ({orders.size} and {rdp.size})")
    if np.any(orders <= 1):
        raise ValueError(f"get_privacy_spent: every order must be > 1, got {orders[orders <= 1].tolist()}")
    eps = rdp - (math.log(delta) + np.log(orders)) / (orders - 1) + np.log((orders - 1) / orders)
    if not np.isfinite(eps).any():  # no noise: no guarantee at any order
        return math.inf, math.nan
    best = int(np.argmin(eps))
    return float(eps[best]), float(orders[best])


class RDPAccountant:
    """Keeps the history of DP-SGD steps and says what privacy they spent (Opacus's API).

    ::

        accountant = RDPAccountant()
        for step in range(steps):
            ...                                    # one DP-SGD step
            accountant.step(noise_multiplier=1.1, sample_rate=256 / 60000)
        accountant.get_epsilon(delta=1e-5)

    ``history`` holds ``(noise_multiplier, sample_rate, number_of_steps)`` runs of equal steps.
    """

    DEFAULT_ALPHAS = DEFAULT_ALPHAS

    def __init__(self):
        self.history: list[tuple[float, float, int]] = []

    def step(self, *, noise_multiplier, sample_rate):
        """Record one step with noise multiplier :math:`\\sigma` and sampling rate :math:`q`."""
        _check_schedule(noise_multiplier, sample_rate)
        if self.history and self.history[-1][:2] == (noise_multiplier, sample_rate):
            self.history[-1] = (noise_multiplier, sample_rate, self.history[-1][2] + 1)
        else:
            self.history.append((noise_multiplier, sample_rate, 1))

    def get_privacy_spent(self, *, delta, alphas=None):
        """``(epsilon, best_alpha)`` for the steps so far (``(0, 0)`` before the first)."""
        _check_delta(delta, "RDPAccountant.get_privacy_spent")
        if not self.history:
            return 0.0, 0.0
        alphas = self.DEFAULT_ALPHAS if alphas is None else alphas
        rdp = sum(compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=alphas)
                  for sigma, q, steps in self.history)
        return get_privacy_spent(orders=alphas, rdp=rdp, delta=delta)

    def get_epsilon(self, delta, alphas=None):
        """The :math:`\\varepsilon` spent so far, for the failure probability ``delta`` (0 < delta < 1)."""
        return self.get_privacy_spent(delta=delta, alphas=alphas)[0]

    def __len__(self):
        return len(self.history)

    def __repr__(self):
        return f"RDPAccountant(history={self.history})"


def get_noise_multiplier(*, target_epsilon, target_delta, sample_rate, epochs=None, steps=None,
                         epsilon_tolerance=0.01):
    r"""The smallest noise multiplier (to ``epsilon_tolerance``) whose run of ``steps`` steps (or
    ``epochs / sample_rate``) stays within ``target_epsilon`` at ``target_delta``: :math:`\varepsilon`
    falls as :math:`\sigma` grows, so bisection finds it."""
    if (steps is None) == (epochs is None):
        raise ValueError("get_noise_multiplier: give exactly one of epochs and steps")
    steps = steps if steps is not None else int(epochs / sample_rate)
    if not target_epsilon > 0:
        raise ValueError(f"get_noise_multiplier: target_epsilon must be > 0, got {target_epsilon!r}")

    def epsilon(sigma):
        accountant = RDPAccountant()
        accountant.history = [(sigma, sample_rate, steps)]
        return accountant.get_epsilon(delta=target_delta)

    low, high = 0.0, 10.0
    while epsilon(high) > target_epsilon:
        low, high = high, 2 * high
        if high > 1e6:
            raise ValueError(f"get_noise_multiplier: no noise multiplier reaches epsilon {target_epsilon}")
    while epsilon(high) < target_epsilon - epsilon_tolerance and high - low > 1e-9:
        middle = (low + high) / 2
        if epsilon(middle) > target_epsilon:
            low = middle
        else:
            high = middle
    return high
