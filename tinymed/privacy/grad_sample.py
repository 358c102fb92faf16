r"""Per-example gradients in one backward pass, for ``Linear`` and ``Conv2d`` (what DP-SGD clips).

An ordinary backward pass sums the gradient over the batch.  DP-SGD needs each example's own
gradient :math:`g_n = \nabla_\theta \ell_n` to bound its influence.  One backward per example
would cost :math:`N` passes; but for the layers that hold the weights the per-example gradient is
a small product of two things the single pass already has -- the layer's input :math:`x_n`
(saved by a forward hook) and the gradient of the loss with respect to its output
:math:`\delta_n = \partial \ell_n / \partial y_n` (caught on the way back):

* ``Linear``, :math:`y_{nt} = W x_{nt} + b` (``t`` runs over any middle axes, e.g. positions):

  .. math:: \nabla_W \ell_n = \sum_t \delta_{nt}\, x_{nt}^\top, \qquad \nabla_b \ell_n = \sum_t \delta_{nt}

  -- one batched matrix product ``delta^T @ x`` of shape (N, out, in);
* ``Conv2d`` is the same with the patches of the image (im2col, article formula F3) in place of
  :math:`x`: with ``cols[n]`` (C·KH·KW, L) and :math:`\delta_n` (K, L) over the L output positions,

  .. math:: \nabla_W \ell_n = \delta_n\, \mathrm{cols}_n^\top, \qquad \nabla_b \ell_n = \sum_{o} \delta_{n,:,o}.

The sum over the batch of these is exactly the usual gradient (``tests/privacy`` checks both
that and agreement with one backward per example).  With a mean loss (``loss_reduction="mean"``)
each :math:`\delta_n` carries a factor :math:`1/N`, which is taken out so that ``grad_sample[n]``
is the gradient of example ``n``'s own loss.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..backend import array_module
from ..kernels.reference.conv import im2col
from ..nn import _checks as C
from ..nn.layers import Conv2d, Linear
from ..nn.module import Module

__all__ = ["GradSampleModule", "SUPPORTED_LAYERS", "linear_grad_sample", "conv2d_grad_sample"]

SUPPORTED_LAYERS = (Linear, Conv2d)


def linear_grad_sample(x, delta):
    """Per-example ``(dW (N, out, in), db (N, out))`` of a Linear layer from its input
    ``x (N, ..., in)`` and output gradient ``delta (N, ..., out)``."""
    xp = array_module(x, delta)
    n, positions = x.shape[0], int(np.prod(x.shape[1:-1]))  # sizes spelled out: n may be 0
    x3 = x.reshape(n, positions, x.shape[-1])
    d3 = delta.reshape(n, positions, delta.shape[-1])
    return xp.matmul(d3.transpose(0, 2, 1), x3), d3.sum(axis=1)


def conv2d_grad_sample(x, delta, kernel_size, stride, padding, dilation):
    """Per-example ``(dW (N, K, C, KH, KW), db (N, K))`` of a Conv2d layer from its input
    ``x (N, C, H, W)`` and output gradient ``delta (N, K, OH, OW)``."""
    xp = array_module(x, delta)
    n, c, k = x.shape[0], x.shape[1], delta.shape[1]
    kh, kw = kernel_size
    positions = delta.shape[2] * delta.shape[3]
    cols = im2col(x, kh, kw, stride, padding, dilation).reshape(n, c * kh * kw, positions)
    d3 = delta.reshape(n, k, positions)
    dw = xp.matmul(d3, cols.transpose(0, 2, 1)).reshape(n, k, c, kh, kw)
    return dw, d3.sum(axis=2)


class _BackwardTap(Function):
    """The identity, whose backward also hands the output's gradient to ``on_gradient``."""

    def forward(self, y, on_gradient):
        self.on_gradient = on_gradient
        return y

    def backward(self, g):
        self.on_gradient(g)
        return (g,)


class GradSampleModule(Module):
    """Wraps ``module`` so that after ``loss.backward()`` every trainable parameter ``p`` of its
    ``Linear`` and ``Conv2d`` layers also holds ``p.grad_sample``: shape ``(N,) + p.shape``, the
    gradient of each example's loss (Opacus's name and convention).

    A layer used twice in one forward (shared weights) adds both uses, and a second backward
    adds to ``grad_sample`` as it does to ``grad``; :meth:`zero_grad` clears both.  Any other
    layer holding trainable parameters is refused: its examples' gradients would leave the
    batch unclipped.  Inputs must be batched (examples along the first axis).
    """

    def __init__(self, module, loss_reduction="mean"):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"GradSampleModule: expected a tinymed.nn.Module, got {type(module).__name__}")
        if loss_reduction not in ("mean", "sum"):
            raise ValueError(f"GradSampleModule: loss_reduction must be 'mean' or 'sum', got {loss_reduction!r}")
        self._module, self.loss_reduction = module, loss_reduction
        self._handles, hooked = [], set()
        for name, layer in module.named_modules():
            own = [p for p in layer.parameters(recurse=False) if p.requires_grad]
            if not own or id(layer) in hooked:  # a layer shared by two places is hooked once
                continue
            hooked.add(id(layer))
            if not isinstance(layer, SUPPORTED_LAYERS) or "weight" not in layer._parameters:
                raise ValueError(
                    f"GradSampleModule: layer {name or '(the model)'!r} ({type(layer).__name__}) has trainable "
                    f"parameters but no per-sample gradient rule; supported: Linear, Conv2d (freeze it with "
                    f"requires_grad=False, or remove pruning masks with prune.remove)")
            self._handles.append(layer.register_forward_hook(self._capture))

    def forward(self, *args, **kwargs):
        return self._module(*args, **kwargs)

    def _capture(self, layer, args, output):
        if not (is_grad_enabled() and output.requires_grad):
            return None  # evaluation: nothing will flow back
        x = args[0].data
        if x.ndim < 2 or (isinstance(layer, Conv2d) and x.ndim != 4):
            raise ValueError(f"GradSampleModule: {type(layer).__name__} needs a batched input (examples "
                             f"along the first axis), got shape {tuple(x.shape)}")
        return _BackwardTap.apply(output, on_gradient=lambda g: self._add_grad_sample(layer, x, g))

    def _add_grad_sample(self, layer, x, g):
        if isinstance(layer, Conv2d):
            padding = C.conv_padding("Conv2d", layer.padding, layer.kernel_size, layer.dilation, layer.stride)
            dw, db = conv2d_grad_sample(x, g, layer.kernel_size, layer.stride, padding, layer.dilation)
        else:
            dw, db = linear_grad_sample(x, g)
        scale = x.shape[0] if self.loss_reduction == "mean" else 1
        for p, gs in ((layer.weight, dw), (layer.bias, db)):
            if p is None or not p.requires_grad:
                continue
            gs = gs * scale
            p.grad_sample = gs if getattr(p, "grad_sample", None) is None else p.grad_sample + gs

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget ``grad`` and ``grad_sample`` of every parameter."""
        for p in self.parameters():
            p.grad = None
            p.grad_sample = None

    def remove_hooks(self) -> None:
        """Stop computing per-sample gradients (the wrapped module is left as it was)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
