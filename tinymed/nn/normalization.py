"""``LayerNorm`` and ``Embedding``, with PyTorch's arguments, parameter names and initialisation."""

from __future__ import annotations

import numpy as np

from ..autograd import DEFAULT_DTYPE, Tensor
from . import _checks as C
from . import functional as F
from . import init
from .module import Module, Parameter


class LayerNorm(Module):
    r"""Normalise each sample over its trailing ``normalized_shape`` features, then scale and shift:
    :math:`y = \gamma\,(x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta`.

    ``weight`` (:math:`\gamma`) starts at ones and ``bias`` (:math:`\beta`) at zeros, as in PyTorch.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.normalized_shape = C.shape_tuple("LayerNorm", "normalized_shape", normalized_shape)
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = C.new_parameter("LayerNorm", self.normalized_shape, dtype, fill=1.0)
            bias_parameter = C.new_parameter("LayerNorm", self.normalized_shape, dtype) if bias else None
            self.register_parameter("bias", bias_parameter)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        if tuple(x.shape[-len(self.normalized_shape):]) != self.normalized_shape:
            raise ValueError(f"LayerNorm(normalized_shape={self.normalized_shape}): input's trailing "
                             f"dimensions must be {self.normalized_shape}, got input shape {x.shape}")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``; ``forward(indices)``
    looks rows up (integer NumPy array or Tensor of any shape -> (..., embedding_dim)).

    Initialised N(0, 1) as in PyTorch; the ``padding_idx`` row starts at zero and is never
    updated by gradients.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, dtype=DEFAULT_DTYPE):
        super().__init__()
        num_embeddings = C.positive_int("Embedding", "num_embeddings", num_embeddings)
        embedding_dim = C.positive_int("Embedding", "embedding_dim", embedding_dim)
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise ValueError("Embedding: max_norm, scale_grad_by_freq and sparse are not supported")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings={num_embeddings}, "
                                 f"got {padding_idx}")
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = C.new_parameter("Embedding", (num_embeddings, embedding_dim), dtype)
            self.weight.requires_grad = not _freeze
            self.reset_parameters()
        else:
            data = _weight.numpy() if isinstance(_weight, Tensor) else np.asarray(_weight)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), "
                                 f"got {data.shape}")
            self.weight = Parameter(data, dtype=dtype, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None):
        """An Embedding holding ``embeddings (num, dim)`` (not trained when ``freeze``)."""
        data = embeddings.numpy() if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {data.shape}")
        return cls(data.shape[0], data.shape[1], padding_idx=padding_idx, _weight=data, _freeze=freeze,
                   dtype=data.dtype if data.dtype.kind == "f" else DEFAULT_DTYPE)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
