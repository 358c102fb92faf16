"""Scaled dot-product attention (article F7) as one Function; kernels in ``tinymed/kernels/*/attention.py``."""

from ..autograd import Function, unbroadcast
from ..backend import kernel


class ScaledDotProductAttentionFunction(Function):
    r"""F7 with queries, keys and values: :math:`S = Q K^\top s + M`, :math:`P = \mathrm{softmax}_{row}(S)`,
    :math:`O = P V` (``s`` the scale, ``M`` the additive mask ``bias`` or None, ``keep`` the
    dropout mask on :math:`P` or None).  q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev).

    Backward, with :math:`\tilde P = P \odot \mathrm{keep}`: :math:`dV = \tilde P^\top dO`,
    :math:`dP = (dO\,V^\top) \odot \mathrm{keep}`,
    :math:`dS = P \odot (dP - \mathrm{rowsum}(dP \odot P))`, :math:`dQ = s\,dS\,K`,
    :math:`dK = s\,dS^\top Q`; a float mask receives :math:`dS` summed to its own shape.
    ``sink`` (a list), if given, receives the attention weights :math:`P` (e.g. to plot them).
    """

    def forward(self, q, k, v, bias, scale, keep, sink=None):
        self.q, self.k, self.v, self.scale, self.keep = q, k, v, scale, keep
        self.bias_shape = None if bias is None else bias.shape
        out, self.weights = kernel("scaled_dot_product_attention_forward")(q, k, v, bias, scale, keep)
        if sink is not None:
            sink.append(self.weights)
        return out

    def backward(self, g):
        dq, dk, dv, dscores = kernel("scaled_dot_product_attention_backward")(
            g, self.q, self.k, self.v, self.weights, self.scale, self.keep)
        dbias = None if self.bias_shape is None else unbroadcast(dscores, self.bias_shape)
        return dq, dk, dv, dbias
