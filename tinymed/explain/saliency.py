r"""Saliency (Simonyan, Vedaldi and Zisserman, 2014): the gradient of the explained output with
respect to each input element,

.. math:: \text{Saliency}(x)_j = \Big|\frac{\partial f(x)}{\partial x_j}\Big|

(without the absolute value with ``abs=False``).  It says how much a small change of pixel
:math:`j` would move the output -- a local, first-order statement about the model at ``x``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ._model import as_inputs, as_target, forward_args, gradients, require_callable, require_eval


class Saliency:
    """``Saliency(forward_func).attribute(inputs, target=None, abs=True, additional_forward_args=None)``.

    Captum's names.  ``inputs (N, ...)``; returns a Tensor of the inputs' shape and dtype.
    """

    def __init__(self, forward_func):
        self.forward_func = require_callable("Saliency", forward_func)

    def attribute(self, inputs, target=None, abs: bool = True, additional_forward_args=None) -> Tensor:
        require_eval("Saliency", self.forward_func)
        x = as_inputs("Saliency", inputs)
        target = as_target("Saliency", target, len(x))
        _, grad = gradients("Saliency", self.forward_func, x, target, forward_args(additional_forward_args))
        return Tensor(np.abs(grad) if abs else grad)

