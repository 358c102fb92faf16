"""Layer normalisation and embedding lookup as Functions; kernels in ``tinymed/kernels/*/norm.py``."""

from ..autograd import Function
from ..backend import kernel


class LayerNormFunction(Function):
    r""":math:`y = \gamma \odot \hat x + \beta`, :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}`
    over the trailing ``normalized_shape`` axes (biased variance, as PyTorch); weight
    :math:`\gamma` and bias :math:`\beta` may be None.

    Backward, with :math:`\hat g = g \odot \gamma` and means over the normalised axes:
    :math:`dx = (\hat g - \overline{\hat g} - \hat x\,\overline{\hat g \hat x}) / \sqrt{\sigma^2 + \epsilon}`,
    :math:`d\gamma = \sum g \odot \hat x`, :math:`d\beta = \sum g`.
    """

    def forward(self, x, weight, bias, normalized_shape, eps):
        self.x, self.weight, self.shape = x, weight, normalized_shape
        self.has = (weight is not None, bias is not None)
        y, self.mean, self.rstd = kernel("layer_norm_forward")(x, normalized_shape, weight, bias, eps)
        return y

    def backward(self, g):
        dx, dw, db = kernel("layer_norm_backward")(g, self.x, self.shape, self.weight, self.mean, self.rstd)
        return dx, dw if self.has[0] else None, db if self.has[1] else None


class EmbeddingFunction(Function):
    r"""Row lookup :math:`y[\dots] = W[i_{\dots}]`: weight (num_embeddings, D), integer indices
    (...) -> (..., D).  Backward scatter-adds: :math:`dW_r = \sum_{\dots : i = r} g[\dots]`, and
    the ``padding_idx`` row receives nothing.  The indices get no gradient."""

    def forward(self, weight, indices, padding_idx):
        self.indices, self.n, self.padding_idx = indices, weight.shape[0], padding_idx
        return kernel("embedding_forward")(weight, indices)

    def backward(self, g):
        return kernel("embedding_backward")(g, self.indices, self.n, self.padding_idx), None
