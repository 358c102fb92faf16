"""Making a trained model smaller and faster (articles 000 §6 and 004 §6 ask for compression,
distillation and pruning: F22).

* :mod:`~tinymed.compress.prune` -- pruning with ``torch.nn.utils.prune``'s names
  (``prune.l1_unstructured(model[0], "weight", amount=0.5)``, ``global_unstructured``,
  ``ln_structured``, ``remove``, ``is_pruned``): masks applied in forward, gradients masked;
* :mod:`~tinymed.compress.quantize` -- post-training int8 quantisation of ``Linear`` and
  ``Conv2d`` (``prepare`` -> calibrate -> ``convert``), inference in integer arithmetic;
* :func:`distillation_loss` -- knowledge distillation (Hinton et al., 2015);
* :func:`storage_bytes`, :func:`sparsity` -- what a model costs to store, dense or sparse.
"""

from . import prune, quantize
from .distill import distillation_loss
from .size import sparsity, storage_bytes, tensor_bytes

__all__ = ["prune", "quantize", "distillation_loss", "storage_bytes", "sparsity", "tensor_bytes"]
