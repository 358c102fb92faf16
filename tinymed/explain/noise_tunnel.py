r"""NoiseTunnel: an attribution method averaged over noisy copies of the input.

Gradients of a ReLU network jump from pixel to pixel, so a saliency map looks like noise even
where the model's decision is sound.  SmoothGrad (Smilkov et al., 2017) averages the map of
``nt_samples`` copies of the input, each with Gaussian noise of standard deviation
:math:`\sigma` (``stdevs``, in the inputs' own units) added:

.. math:: \text{smoothgrad}(x) = \frac1m \sum_{s=1}^{m} A(x + \varepsilon_s),\qquad
          \varepsilon_s \sim \mathcal N(0, \sigma^2 I)

``"smoothgrad_sq"`` averages :math:`A(x + \varepsilon_s)^2` instead, and ``"vargrad"``
(Adebayo et al., 2018) takes their variance,
:math:`\frac1m\sum_s A(x + \varepsilon_s)^2 - \big(\frac1m\sum_s A(x + \varepsilon_s)\big)^2`.
The noise comes from tinymed's generator (:func:`tinymed.manual_seed`).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..random import generator
from ._model import as_inputs, as_target, forward_args, repeat_args

NT_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")


class NoiseTunnel:
    """``NoiseTunnel(attribution_method)``, Captum's names: wraps ``Saliency``,
    ``IntegratedGradients``, ... (anything with ``attribute(inputs, target=..., **kwargs)``).

    ``attribute(inputs, nt_type="smoothgrad", nt_samples=5, stdevs=1.0, **kwargs)``: the
    ``kwargs`` (``target``, ``baselines``, ``n_steps``, ...) go to the wrapped method, which sees
    all noisy copies in one batch; returns a Tensor of the inputs' shape.
    """

    def __init__(self, attribution_method):
        if not callable(getattr(attribution_method, "attribute", None)):
            raise TypeError(f"NoiseTunnel: expected an attribution method such as Saliency(model), got "
                            f"{type(attribution_method).__name__}")
        self.attribution_method = attribution_method

    def attribute(self, inputs, nt_type: str = "smoothgrad", nt_samples: int = 5, stdevs: float = 1.0, **kwargs):
        if nt_type not in NT_TYPES:
            raise ValueError(f"NoiseTunnel: nt_type must be one of {NT_TYPES}, got {nt_type!r}")
        if not isinstance(nt_samples, (int, np.integer)) or isinstance(nt_samples, bool) or nt_samples < 1:
            raise ValueError(f"NoiseTunnel: nt_samples must be a positive integer, got {nt_samples!r}")
        if not np.isscalar(stdevs) or not stdevs >= 0:
            raise ValueError(f"NoiseTunnel: stdevs must be a number >= 0, got {stdevs!r}")
        if kwargs.get("return_convergence_delta"):
            raise ValueError("NoiseTunnel: return_convergence_delta is not supported (the delta of a noisy "
                             "copy says nothing about the smoothed map)")
        x = as_inputs("NoiseTunnel", inputs)
        kwargs = _for_copies(kwargs, x, nt_samples)
        noise = generator().standard_normal((nt_samples,) + x.shape) * stdevs
        noisy = (x[None] + noise.astype(x.dtype)).reshape((-1,) + x.shape[1:])
        maps = self.attribution_method.attribute(noisy, **kwargs)
        maps = (maps.numpy() if isinstance(maps, Tensor) else np.asarray(maps)).reshape((nt_samples,) + x.shape)
        if nt_type == "smoothgrad":
            result = maps.mean(axis=0)
        elif nt_type == "smoothgrad_sq":
            result = (maps ** 2).mean(axis=0)
        else:
            result = (maps ** 2).mean(axis=0) - maps.mean(axis=0) ** 2
        return Tensor(result.astype(x.dtype, copy=False))


def _for_copies(kwargs: dict, x: np.ndarray, copies: int) -> dict:
    """The wrapped method's arguments for a batch holding the examples ``x`` ``copies`` times over:
    per-example targets, baselines (one per example: the inputs' number of axes and batch size) and
    forward arguments are repeated with them."""
    kwargs, n = dict(kwargs), len(x)
    target = as_target("NoiseTunnel", kwargs.pop("target", None), n)
    if target is not None:
        kwargs["target"] = np.tile(target, copies)
    baselines = kwargs.get("baselines")
    if getattr(baselines, "ndim", 0) == x.ndim and baselines.shape[0] == n:
        kwargs["baselines"] = repeat_args((baselines,), copies)[0]
    args = forward_args(kwargs.pop("additional_forward_args", None))
    if args:
        kwargs["additional_forward_args"] = repeat_args(args, copies)
    return kwargs
