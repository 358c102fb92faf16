"""Exercise on layer normalisation's backward pass."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes

EPS = 1e-5


def layer_norm_backward(dy, x, weight, eps):
    features = (x.shape[-1],)
    _, mean, rstd = reference.layer_norm_forward(x, features, weight, None, eps)
    return reference.layer_norm_backward(dy, x, features, weight, mean, rstd)


def _layer_norm(x, weight, bias, eps):
    return reference.layer_norm_forward(x, (x.shape[-1],), weight, bias, eps)[0]


def _cases():
    return st.tuples(sizes(1, 3), sizes(1, 4)).flatmap(
        lambda s: st.tuples(arrays(s), arrays(s), arrays(s[1:]), st.just(EPS)))


def _examples():
    dy, x, weight = normal(60, (4, 5), (4, 5), (5,))
    return [(dy, 2 * x + 1, weight, EPS)]


def _wrong_dx(paths, one_pass=False):
    """dx with only the paths named in ``paths`` ("mean", "variance") of the normalisation kept, or the
    variance computed in one pass."""
    def backward(dy, x, weight, eps):
        mean = x.mean(axis=-1, keepdims=True)
        var = (x * x).mean(axis=-1, keepdims=True) - mean ** 2 if one_pass else x.var(axis=-1, keepdims=True)
        rstd = 1 / np.sqrt(var + eps)
        x_hat, g = (x - mean) * rstd, dy * weight
        dx = g - (g.mean(axis=-1, keepdims=True) if "mean" in paths else 0)
        dx = rstd * (dx - (x_hat * (g * x_hat).mean(axis=-1, keepdims=True) if "variance" in paths else 0))
        return dx, (dy * x_hat).sum(axis=0), dy.sum(axis=0)
    return backward


LAYER_NORM = Exercise(
    name="layer_norm",
    title="layer normalisation's backward pass",
    lesson="lesson 10, The article's attention module (tinymed lesson 10), where a Transformer layer uses it",
    formula=r"\mu = \frac1D \sum_j x_j, \quad \sigma^2 = \frac1D \sum_j (x_j - \mu)^2, \quad "
            r"\hat x_j = \frac{x_j - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y_j = \gamma_j \hat x_j + \beta_j",
    intro="Layer normalisation rescales each sample's D features to mean 0 and variance 1, then by learned "
          "gamma and beta. Every x_j moves the mean and the variance too, so its gradient has three paths: "
          "directly, through mu and through sigma.",
    source="tinymed/kernels/reference/norm.py (layer_norm_forward, layer_norm_backward)",
    tasks=(Task(
        name="layer_norm_backward", params=("dy", "x", "weight", "eps"), outputs=("dx", "dweight", "dbias"),
        doc=r"""Gradients of layer normalisation over the last axis, :math:`y = \gamma \hat x + \beta`.

    dy (N, D): :math:`\partial L/\partial y`; x (N, D): the input; weight (D,): :math:`\gamma`; eps: the
    :math:`\epsilon` under the root (the variance is the biased one, divided by D). Returns
    ``(dx, dweight, dbias)``, shaped like x, weight and weight.""",
        reference=layer_norm_backward, cases=_cases, examples=_examples,
        edge_cases=(
            EdgeCase("constant rows (zero variance)", lambda: (*normal(61, (2, 3)), np.full((2, 3), 3.0),
                                                               *normal(62, (3,)), EPS)),
            EdgeCase("one feature: the output is beta, so dx = 0", lambda: (*normal(63, (3, 1), (3, 1), (1,)), EPS)),
            EdgeCase("a mean of a million (the variance in one pass, mean(x^2) - mean^2, cancels)",
                     lambda: (*normal(64, (2, 4)), 1e6 + normal(65, (2, 4))[0], np.ones(4), EPS)),
            EdgeCase("an empty batch", lambda: (np.zeros((0, 3)), np.zeros((0, 3)), np.ones(3), EPS)),
        ),
        gradient=Gradient(forward=_layer_norm, backward=lambda fn, dy, x, weight, bias, eps: fn(dy, x, weight, eps),
                          examples=lambda: [(e[1], e[2], normal(66, (5,))[0], EPS) for e in _examples()],
                          names=("x", "weight", "bias", "eps"), wrt=("x", "weight", "bias")),
        mistakes=(
            Mistake("mean_path_missing", "the path through the mean is missing: subtract mean(g) from g = dy * gamma",
                    _wrong_dx(("variance",))),
            Mistake("variance_path_missing", "the path through the variance is missing: subtract x_hat * "
                                             "mean(g * x_hat)", _wrong_dx(("mean",))),
            Mistake("normalisation_treated_as_constant", "mu and sigma are treated as constants: dx = rstd * g misses "
                                                         "both paths through them", _wrong_dx(())),
            Mistake("one_pass_variance", "the variance computed as mean(x^2) - mean(x)^2 cancels catastrophically "
                                         "when the mean is large: use mean((x - mu)^2)",
                    _wrong_dx(("mean", "variance"), one_pass=True)),
            Mistake("missing_bias_gradient", "the bias gradient is missing: dbias = dy summed over the batch",
                    lambda dy, x, w, eps: layer_norm_backward(dy, x, w, eps)[:2] + (np.zeros_like(w),)),
        ),
        factors=lambda dy, x, weight, eps: {"D (the number of features)": x.shape[-1]},
    ),),
)
