r"""Grad-CAM (Selvaraju et al., 2017): which regions of a convolutional layer's feature maps
the explained output draws on.

With :math:`A^c (H', W')` the ``c``-th feature map of ``layer`` (its output for the input) and
:math:`f` the explained output, each map is weighted by its average gradient, and the weighted
maps are summed over channels:

.. math:: \alpha_c = \frac{1}{H'W'} \sum_{u,v} \frac{\partial f}{\partial A^c_{uv}}, \qquad
          \text{GradCAM}_{uv} = \sum_c \alpha_c A^c_{uv}

(Selvaraju et al. then keep the positive part, :math:`\mathrm{ReLU}(\cdot)`: ``relu_attributions``.)
The map has the layer's resolution, coarser than the image; :meth:`LayerGradCam.interpolate`
brings it to the image's size for an overlay.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..nn import Module
from ._model import as_inputs, as_target, forward_args, gradients, require_callable, require_eval


class LayerGradCam:
    """``LayerGradCam(forward_func, layer)``, Captum's names; ``layer`` is a Module inside the model.

    ``attribute(inputs, target=None, additional_forward_args=None, attribute_to_layer_input=False,
    relu_attributions=False, attr_dim_summation=True)``: the layer's output (or, with
    ``attribute_to_layer_input``, its input) ``(N, C, H', W')`` gives a map ``(N, 1, H', W')``;
    without ``attr_dim_summation`` the weighted maps ``(N, C, H', W')`` are returned unsummed.
    The averages run over every axis after the channel axis, so a ``(N, C, L)`` layer works too.
    """

    def __init__(self, forward_func, layer):
        self.forward_func = require_callable("LayerGradCam", forward_func)
        if not isinstance(layer, Module):
            raise TypeError(f"LayerGradCam: layer must be a Module of the model, got {type(layer).__name__}")
        self.layer = layer

    def attribute(self, inputs, target=None, additional_forward_args=None, attribute_to_layer_input: bool = False,
                  relu_attributions: bool = False, attr_dim_summation: bool = True) -> Tensor:
        op = "LayerGradCam"
        require_eval(op, self.forward_func)
        x = as_inputs(op, inputs)
        target = as_target(op, target, len(x))
        seen = []

        # The hook puts a fresh leaf in place of the layer's output (or input): the backward pass
        # then stops there and leaves d f / d A in the leaf's .grad.
        def as_leaf(value):
            if not isinstance(value, Tensor):
                raise TypeError(f"LayerGradCam: the layer {type(self.layer).__name__} must take and return one "
                                f"Tensor, got {type(value).__name__}")
            seen.append(Tensor(value.data, requires_grad=True))
            return seen[-1]

        if attribute_to_layer_input:
            handle = self.layer.register_forward_pre_hook(lambda module, args: (as_leaf(args[0]),) + args[1:])
        else:
            handle = self.layer.register_forward_hook(lambda module, args, output: as_leaf(output))
        try:
            gradients(op, self.forward_func, x, target, forward_args(additional_forward_args))
        finally:
            handle.remove()
        if len(seen) != 1:
            raise ValueError(f"LayerGradCam: the layer {type(self.layer).__name__} ran {len(seen)} times in one "
                             "forward pass; it must be a layer the model calls exactly once")
        activation = seen[0].numpy()
        if activation.ndim < 3:
            raise ValueError(f"LayerGradCam: the layer's {'input' if attribute_to_layer_input else 'output'} must be "
                             f"(N, C, ...) feature maps, got shape {activation.shape}")
        grad = np.zeros_like(activation) if seen[0].grad is None else backend.to_numpy(seen[0].grad)
        weights = grad.mean(axis=tuple(range(2, grad.ndim)), keepdims=True)
        cam = weights * activation
        if attr_dim_summation:
            cam = cam.sum(axis=1, keepdims=True)
        return Tensor(np.maximum(cam, 0) if relu_attributions else cam)

    @staticmethod
    def interpolate(layer_attribution, interpolate_dims, interpolate_mode: str = "nearest") -> Tensor:
        """Resize ``(N, C, H', W')`` maps to ``interpolate_dims = (H, W)`` (Captum's
        ``LayerAttribution.interpolate``), with ``"nearest"`` or ``"bilinear"`` sampling as
        ``torch.nn.functional.interpolate`` does it (``align_corners=False``)."""
        return Tensor(resize(_numpy(layer_attribution), interpolate_dims, interpolate_mode))


def _numpy(a) -> np.ndarray:
    return a.numpy() if isinstance(a, Tensor) else np.asarray(a)


def resize(maps: np.ndarray, size, mode: str = "nearest") -> np.ndarray:
    r"""``maps (N, C, h, w)`` resized to ``size = (H, W)``.  Output pixel :math:`i` of an axis
    scaled by :math:`r = h/H` samples the input at :math:`(i + \tfrac12) r - \tfrac12`:
    ``"nearest"`` takes input pixel :math:`\lfloor i r \rfloor`, ``"bilinear"`` mixes the two
    neighbours of that point (clamped at the edges)."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"LayerGradCam.interpolate: interpolate_mode must be 'nearest' or 'bilinear', got {mode!r}")
    size = (int(size), int(size)) if np.isscalar(size) else tuple(int(s) for s in size)
    if maps.ndim != 4 or len(size) != 2:
        raise ValueError(f"LayerGradCam.interpolate: expected (N, C, h, w) maps and a size (H, W), got maps of "
                         f"shape {maps.shape} and size {size}")
    rows, cols = (_sampling_matrix(n_in, n_out, mode) for n_in, n_out in zip(maps.shape[2:], size))
    return np.einsum("Hh,nchw,Ww->ncHW", rows, maps, cols).astype(maps.dtype, copy=False)


def _sampling_matrix(n_in: int, n_out: int, mode: str) -> np.ndarray:
    """``(n_out, n_in)`` matrix whose row ``i`` holds the weights of output pixel ``i``."""
    scale = n_in / n_out
    matrix = np.zeros((n_out, n_in))
    out = np.arange(n_out)
    if mode == "nearest":
        matrix[out, np.minimum(np.floor(out * scale).astype(int), n_in - 1)] = 1.0
        return matrix
    position = np.maximum((out + 0.5) * scale - 0.5, 0.0)
    left = np.minimum(np.floor(position).astype(int), n_in - 1)
    right = np.minimum(left + 1, n_in - 1)
    frac = position - left
    np.add.at(matrix, (out, left), 1.0 - frac)
    np.add.at(matrix, (out, right), frac)
    return matrix
