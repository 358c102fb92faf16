r"""The model-parameter randomisation test (Adebayo et al., "Sanity checks for saliency maps",
2018): an explanation of a model must depend on the model.

Starting from the output layer, the layers' weights are re-initialised one after another,
cumulatively (cascading randomisation), and the map of the same inputs is recomputed after
each step.  A method that explains the trained model gives maps that drift away from the
original as more of the network forgets what it learnt; a method whose maps stay the same --
an edge detector run on the image, say -- is explaining the input, not the model, and fails.

Similarity is Spearman's rank correlation of the absolute maps (the pixels' order of
importance), per example, averaged over the examples:

.. math:: \rho = \frac{\operatorname{cov}(\operatorname{rank} |a|, \operatorname{rank} |b|)}
          {\sigma_{\operatorname{rank} |a|}\, \sigma_{\operatorname{rank} |b|}}

(ranks of ties averaged; a constant map has no order and correlates 0 with any other).  The
test passes when :math:`\rho` after randomising every layer is below ``threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..nn import Module, init
from ..random import get_rng_state, set_rng_state


@dataclass
class SanityCheckResult:
    """What :func:`model_randomization_test` found.

    ``layers``: the layers randomised, output first, as ``"name (Type)"``; ``similarity[k]``: the mean rank
    correlation with the original map once ``layers[:k + 1]`` are randomised; ``passed``:
    whether the last similarity is below ``threshold``; ``maps``: the map after each step
    (the original first), for a figure.
    """

    layers: list
    similarity: np.ndarray
    threshold: float
    passed: bool
    maps: list

    def __str__(self):
        lines = [f"{'randomised down to':32s} {'rank correlation':>16s}"]
        lines += [f"{name:32s} {rho:16.3f}" for name, rho in zip(self.layers, self.similarity)]
        verdict = "PASSED: the maps depend on the weights" if self.passed else (
            "FAILED: the maps hardly depend on the weights -- this method does not explain the model")
        lines.append(f"{verdict} (last similarity {self.similarity[-1]:.3f}, threshold {self.threshold})")
        return "\n".join(lines)


def model_randomization_test(model: Module, explain, inputs, target=None, threshold: float = 0.5,
                             seed: int = 0) -> SanityCheckResult:
    """Cascading randomisation of ``model``'s layers, output first, with ``explain(model, inputs,
    target) -> map`` recomputed after each step.

    A layer is a module that holds parameters of its own; it is re-initialised by its
    ``reset_parameters()`` (the distribution it was created with), or, without one, its
    parameters are drawn from a standard normal.  The model's weights are restored afterwards,
    and tinymed's generator is left as it was (the draws use ``seed``).
    """
    if not isinstance(model, Module):
        raise TypeError(f"model_randomization_test: model must be a Module, got {type(model).__name__}")
    if not callable(explain):
        raise TypeError("model_randomization_test: explain must be a function explain(model, inputs, target)")
    layers = [(name, m) for name, m in model.named_modules() if list(m.parameters(recurse=False))]
    if not layers:
        raise ValueError(f"model_randomization_test: {type(model).__name__} has no parameters to randomise")
    original = _as_map(explain(model, inputs, target))
    saved_weights, saved_rng = model.state_dict(), get_rng_state()
    set_rng_state(np.random.default_rng(seed).bit_generator.state)
    maps, similarity = [original], []
    try:
        for _, layer in reversed(layers):
            _randomise(layer)
            maps.append(_as_map(explain(model, inputs, target)))
            similarity.append(rank_correlation(original, maps[-1]))
    finally:
        model.load_state_dict(saved_weights)
        set_rng_state(saved_rng)
    similarity = np.array(similarity)
    names = [f"{name} ({type(layer).__name__})" if name else type(layer).__name__ for name, layer in reversed(layers)]
    return SanityCheckResult(names, similarity,
                             float(threshold), bool(similarity[-1] < threshold), maps)


def _randomise(layer: Module) -> None:
    if callable(getattr(layer, "reset_parameters", None)):
        layer.reset_parameters()
        return
    for p in layer.parameters(recurse=False):
        init.normal_(p)


def _as_map(value) -> np.ndarray:
    return backend.to_numpy(value.data) if isinstance(value, Tensor) else np.asarray(value, dtype=np.float64)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of each row, ties given the mean of the ranks they span."""
    order = np.argsort(values, axis=1, kind="stable")
    ranks = np.empty_like(values, dtype=np.float64)
    for row, (v, o) in enumerate(zip(values, order)):
        sorted_v = v[o]
        starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
        ends = np.r_[starts[1:], len(v)]
        mean_rank = np.repeat((starts + ends - 1) / 2.0, ends - starts)
        ranks[row, o] = mean_rank
    return ranks


def rank_correlation(a, b) -> float:
    """Spearman's rank correlation of ``|a|`` and ``|b|``, per example (first axis), averaged."""
    a, b = np.abs(_as_map(a)), np.abs(_as_map(b))
    if a.shape != b.shape:
        raise ValueError(f"rank_correlation: the maps must have the same shape, got {a.shape} and {b.shape}")
    ra, rb = (_ranks(m.reshape(len(m), -1)) for m in (a, b))
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    norms = np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))
    rho = np.divide((ra * rb).sum(axis=1), norms, out=np.zeros(len(ra)), where=norms > 0)
    return float(rho.mean())
