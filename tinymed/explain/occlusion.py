r"""Occlusion (Zeiler and Fergus, 2014): cover a part of the input and watch the output fall.

A window of ``sliding_window_shapes`` slides over every example (its axes after the batch
axis), starting every ``strides`` elements along each axis; each position :math:`w` replaces
the covered elements with the baseline and measures the drop of the explained output,
:math:`\Delta_w = f(x) - f(x_{\setminus w})`.  An element's attribution is the mean drop over
the windows that cover it:

.. math:: \text{Occlusion}_j(x) = \frac{\sum_{w \ni j} \Delta_w}{|\{w : w \ni j\}|}

Windows start at :math:`0, s, 2s, \dots` up to the first start that reaches the far edge
(:math:`\lceil (d - k)/s \rceil + 1` starts for an axis of :math:`d` elements, a window of
:math:`k` and a stride :math:`s \le k`); the last one is cut at the edge, so every element
is covered.  It needs no gradient -- only forward passes, one per window position -- and it
explains regions, not pixels: a lesion smaller than the window cannot be told apart from
its surroundings.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..autograd import Tensor
from ._model import (
    as_inputs,
    as_target,
    baselines_like,
    forward_args,
    repeat_args,
    require_callable,
    require_eval,
    target_outputs,
)


class Occlusion:
    """``Occlusion(forward_func).attribute(inputs, sliding_window_shapes, strides=None, baselines=None,
    target=None, additional_forward_args=None, perturbations_per_eval=1)``, Captum's names.

    ``sliding_window_shapes`` has one size per axis after the batch axis (``(1, 8, 8)`` for
    ``(N, 1, H, W)`` images); ``strides`` an int for all axes or one per axis (default 1);
    ``perturbations_per_eval`` window positions go through the model in one batch.  Returns a
    Tensor of the inputs' shape.
    """

    def __init__(self, forward_func):
        self.forward_func = require_callable("Occlusion", forward_func)

    def attribute(self, inputs, sliding_window_shapes, strides=None, baselines=None, target=None,
                  additional_forward_args=None, perturbations_per_eval: int = 1) -> Tensor:
        op = "Occlusion"
        require_eval(op, self.forward_func)
        x = as_inputs(op, inputs)
        n = len(x)
        window, stride = _geometry(x.shape[1:], sliding_window_shapes, strides)
        if not isinstance(perturbations_per_eval, (int, np.integer)) or perturbations_per_eval < 1:
            raise ValueError(f"Occlusion: perturbations_per_eval must be a positive integer, "
                             f"got {perturbations_per_eval!r}")
        target = as_target(op, target, n)
        base = baselines_like(op, baselines, x)
        args = forward_args(additional_forward_args)
        unoccluded = target_outputs(op, self.forward_func, x, target, args)
        starts = [range(0, d - k + s, s) for d, k, s in zip(x.shape[1:], window, stride)]
        windows = [tuple(slice(a, a + k) for a, k in zip(corner, window)) for corner in itertools.product(*starts)]
        total = np.zeros(x.shape, dtype=np.float64)
        covered = np.zeros(x.shape[1:], dtype=np.int64)
        for first in range(0, len(windows), int(perturbations_per_eval)):
            group = windows[first:first + int(perturbations_per_eval)]
            occluded = np.repeat(x[None], len(group), axis=0)
            for copy, region in zip(occluded, group):
                copy[(slice(None),) + region] = base[(slice(None),) + region]
            batch_target = None if target is None else np.tile(target, len(group))
            outputs = target_outputs(op, self.forward_func, occluded.reshape((-1,) + x.shape[1:]), batch_target,
                                     repeat_args(args, len(group))).reshape(len(group), n)
            for drop, region in zip(unoccluded[None] - outputs, group):
                total[(slice(None),) + region] += drop.reshape((n,) + (1,) * (x.ndim - 1))
                covered[region] += 1
        return Tensor((total / covered).astype(x.dtype, copy=False))


def _geometry(shape, sliding_window_shapes, strides):
    """The window and the stride as one size per axis after the batch axis, checked."""
    window = tuple(int(k) for k in np.atleast_1d(sliding_window_shapes))
    if len(window) != len(shape) or any(k < 1 or k > d for k, d in zip(window, shape)):
        raise ValueError(f"Occlusion: sliding_window_shapes must give one size from 1 to the input's size for "
                         f"each axis after the batch axis {shape}, got {sliding_window_shapes!r}")
    stride = (1,) * len(shape) if strides is None else tuple(int(s) for s in np.atleast_1d(strides))
    if len(stride) == 1:
        stride *= len(shape)
    if len(stride) != len(shape) or any(s < 1 or (s > k and k < d) for s, k, d in zip(stride, window, shape)):
        raise ValueError(f"Occlusion: strides must be one int or one per axis {shape}, each at least 1 and at most "
                         f"the window size {window} (a longer stride would leave elements never covered), "
                         f"got {strides!r}")
    return window, stride
