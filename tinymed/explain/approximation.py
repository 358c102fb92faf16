r"""Quadrature rules for the path integral of integrated gradients, under Captum's names.

Each rule approximates :math:`\int_0^1 g(\alpha)\,d\alpha \approx \sum_{k=1}^{n} w_k\, g(\alpha_k)`
with ``n`` points :math:`\alpha_k` and weights :math:`w_k` (both returned by :func:`nodes`):

- ``"riemann_left"``: :math:`\alpha_k = (k-1)/n`, :math:`w_k = 1/n`;
- ``"riemann_right"``: :math:`\alpha_k = k/n`, :math:`w_k = 1/n`;
- ``"riemann_middle"``: :math:`\alpha_k = (k - \tfrac12)/n`, :math:`w_k = 1/n`;
- ``"riemann_trapezoid"``: :math:`\alpha_k = (k-1)/(n-1)`, :math:`w_k = 1/(n-1)`, halved at both
  ends -- the trapezoid rule, exact for a straight line (needs ``n >= 2``).  Captum puts the
  same points with weights :math:`1/n` (halved at the ends), which sum to :math:`1 - 1/n`:
  its attributions are tinymed's times :math:`(n-1)/n`, and even for a linear model they
  miss completeness by :math:`1/n` of :math:`f(x) - f(x')`;
- ``"gausslegendre"`` (the default, as in Captum): the Gauss-Legendre points of :math:`[-1, 1]`
  mapped to :math:`[0, 1]`, :math:`\alpha_k = (1 + z_k)/2`, :math:`w_k = v_k/2`; exact for
  polynomials of degree up to :math:`2n - 1`.

All weights are positive and sum to 1 (the length of :math:`[0, 1]`).
"""

from __future__ import annotations

import numpy as np

METHODS = ("riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid", "gausslegendre")


def nodes(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(alphas (n,), weights (n,))`` of quadrature rule ``method`` with ``n_steps`` points."""
    if method not in METHODS:
        raise ValueError(f"IntegratedGradients: method must be one of {METHODS}, got {method!r}")
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"IntegratedGradients: n_steps must be a positive integer, got {n_steps!r}")
    n = int(n_steps)
    if method == "gausslegendre":
        z, v = np.polynomial.legendre.leggauss(n)
        return (1.0 + z) / 2.0, v / 2.0
    if method == "riemann_trapezoid":
        if n < 2:
            raise ValueError("IntegratedGradients: method='riemann_trapezoid' needs n_steps >= 2 (both ends)")
        weights = np.full(n, 1.0 / (n - 1))
        weights[[0, -1]] /= 2.0
        return np.linspace(0.0, 1.0, n), weights
    start = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[method]
    return (np.arange(n) + start) / n, np.full(n, 1.0 / n)
