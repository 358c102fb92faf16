r"""Pruning with ``torch.nn.utils.prune``'s names and behaviour (article 000 §6, 004 §6: F22).

Pruning sets a chosen part of a layer's weights to zero.  It does so through a *mask*
:math:`M \in \{0, 1\}` of the weight's shape, without touching the trained values:

.. math:: W = W_\text{orig} \odot M

``l1_unstructured(module, "weight", amount=0.5)`` therefore

1. renames the parameter ``weight`` to ``weight_orig`` (the *same* Parameter object, so an
   optimizer built earlier keeps training it),
2. stores the mask as the buffer ``weight_mask`` (saved in the state dict),
3. registers a forward pre-hook that recomputes ``module.weight = weight_orig * weight_mask``
   before every forward.  ``weight`` is then a plain attribute computed by the tape, so the
   gradient reaching ``weight_orig`` is :math:`\partial L/\partial W \odot M`: pruned weights get
   exactly zero gradient and stay pruned while the rest is fine-tuned.

:func:`remove` makes it permanent (``weight`` becomes a Parameter holding
:math:`W_\text{orig} \odot M`; ``weight_orig``, ``weight_mask`` and the hook go).

Pruning twice combines the masks as PyTorch does: the second ``amount`` is a fraction of what
is *left* (entries still unmasked for unstructured methods, channels not yet removed for
structured ones).  ``amount`` is a fraction in [0, 1] (rounded to a count with Python's
``round``, half to even) or a number of entries.  Where importance scores tie, the entry (or
channel) with the lower index is pruned first.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import Tensor, no_grad
from ..backend import array_module
from ..nn.module import Module
from ..random import generator

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "LnStructured", "CustomFromMask", "identity", "random_unstructured", "l1_unstructured",
    "ln_structured", "global_unstructured", "custom_from_mask", "remove", "is_pruned",
]


# ----- amounts ---------------------------------------------------------------------------------
def _check_amount(amount):
    """``amount`` is a fraction in [0, 1] or a non-negative count (PyTorch's rule)."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"prune: amount must be an int or a float, got {type(amount).__name__} {amount!r}")
    if isinstance(amount, numbers.Integral):
        if amount < 0:
            raise ValueError(f"prune: amount={amount} must be a float in [0, 1] or a non-negative integer")
    elif not 0.0 <= float(amount) <= 1.0:
        raise ValueError(f"prune: amount={amount} must be a float in [0, 1] or a non-negative integer")
    return amount


def _count_to_prune(amount, size: int) -> int:
    """How many of ``size`` units ``amount`` means: the count itself, or ``round(amount * size)``."""
    count = int(amount) if isinstance(amount, numbers.Integral) else round(amount * size)
    if count > size:
        raise ValueError(f"prune: amount={amount} is more than the {size} units there are to prune")
    return count


# ----- the methods -----------------------------------------------------------------------------
class BasePruningMethod:
    """A way of choosing a mask.  A subclass sets ``PRUNING_TYPE`` ("unstructured", "structured"
    or "global") and implements ``compute_mask(t, default_mask)`` on raw arrays: the new mask,
    which must keep every zero of ``default_mask``.

    An applied method is the forward pre-hook of its module and remembers the name of the
    tensor it prunes (``_tensor_name``).
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name: str

    def compute_mask(self, t, default_mask):
        raise NotImplementedError(f"{type(self).__name__}.compute_mask")

    def __call__(self, module, inputs):
        # the forward pre-hook: refresh the pruned tensor from the original and the mask
        setattr(module, self._tensor_name, self.apply_mask(module))

    def apply_mask(self, module) -> Tensor:
        """``orig * mask`` on the tape, so the gradient reaching ``orig`` is masked too."""
        name = self._tensor_name
        return getattr(module, name + "_orig") * getattr(module, name + "_mask")

    def prune(self, t, default_mask=None, importance_scores=None):
        """The pruned copy of array ``t`` (not attached to any module)."""
        xp = array_module(t)
        scores = t if importance_scores is None else importance_scores
        mask = self.compute_mask(scores, xp.ones_like(t) if default_mask is None else default_mask)
        return t * mask

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with a new ``cls(*args, **kwargs)`` (combined with any pruning
        already there) and reparametrise it as ``<name>_orig * <name>_mask``.  Returns the hook."""
        method, replaced = _combined(cls(*args, **kwargs), module, name)
        current = getattr(module, name)
        scores = current.data if importance_scores is None else _raw(importance_scores)
        if tuple(scores.shape) != current.shape:
            raise ValueError(f"prune: importance_scores must have the shape of {name}, {current.shape}, "
                             f"got {tuple(scores.shape)}")
        first_time = not isinstance(method, PruningContainer)
        if first_time:
            _split_parameter(module, name)
        try:
            default_mask = (array_module(scores).ones_like(current.data) if first_time
                            else getattr(module, name + "_mask").data.copy())
            mask = method.compute_mask(scores, default_mask).astype(current.dtype)
        except Exception:
            if first_time:
                _join_parameter(module, name)
            raise
        if replaced is not None:  # only now: a refused amount leaves the earlier pruning in place
            del module._forward_pre_hooks[replaced]
        module.register_buffer(name + "_mask", Tensor(mask))
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` becomes a Parameter holding ``orig * mask``."""
        name = self._tensor_name
        with no_grad():
            pruned = self.apply_mask(module)
        orig = module._parameters.pop(name + "_orig")
        orig.data = pruned.data
        orig.grad = None
        del module._buffers[name + "_mask"]
        module.__dict__.pop(name, None)  # the computed attribute the hook kept up to date
        setattr(module, name, orig)


def _raw(a):
    return a.data if isinstance(a, Tensor) else a


def _combined(method, module, name):
    """``(hook, replaced)``: ``method``, or -- if ``module.<name>`` is pruned already -- a
    :class:`PruningContainer` of the earlier methods and ``method``, with the key of the hook it
    is to replace (``None`` for a first pruning)."""
    if not isinstance(module, Module):
        raise TypeError(f"prune: module must be a tinymed.nn.Module, got {type(module).__name__}")
    if not isinstance(getattr(module, name, None), Tensor):
        raise ValueError(f"prune: {type(module).__name__} has no parameter named {name!r}")
    method._tensor_name = name
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            earlier = hook._pruning_methods if isinstance(hook, PruningContainer) else (hook,)
            return PruningContainer(*earlier, method), key
    return method, None


def _split_parameter(module, name):
    """``<name>`` (a Parameter) -> ``<name>_orig``, the very same object."""
    if name not in module._parameters:
        raise ValueError(f"prune: {name!r} of {type(module).__name__} is not a parameter "
                         f"(buffers and computed attributes cannot be pruned)")
    module.register_parameter(name + "_orig", module._parameters.pop(name))


def _join_parameter(module, name):
    """Undo :func:`_split_parameter` after a failure."""
    module.register_parameter(name, module._parameters.pop(name + "_orig"))


class PruningContainer(BasePruningMethod):
    """Several pruning methods applied one after another to the same tensor.  Each new method
    computes its mask only on what the previous ones left (see the module docstring)."""

    def __init__(self, *methods):
        self._pruning_methods: tuple = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: {type(method).__name__} is not a pruning method")
        if self._pruning_methods and method._tensor_name != self._tensor_name:
            raise ValueError(f"PruningContainer: can only combine methods on {self._tensor_name!r}, "
                             f"got one on {method._tensor_name!r}")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        where = _unpruned_part(method, default_mask)
        mask = default_mask.copy()
        mask[where] = method.compute_mask(t[where], default_mask[where])
        return mask


def _unpruned_part(method, mask):
    """Which part of the tensor a further ``method`` may prune: the entries still 1 (unstructured),
    the channels along ``method.dim`` not entirely zero (structured), or everything (global)."""
    if method.PRUNING_TYPE == "unstructured":
        return mask == 1
    if method.PRUNING_TYPE == "structured":
        dim = method.dim % mask.ndim
        other = tuple(d for d in range(mask.ndim) if d != dim)
        index = [slice(None)] * mask.ndim
        index[dim] = mask.sum(axis=other) != 0
        return tuple(index)
    if method.PRUNING_TYPE == "global":
        return (slice(None),) * mask.ndim
    raise ValueError(f"prune: unknown PRUNING_TYPE {method.PRUNING_TYPE!r}")


def _zero_lowest(scores, count, default_mask):
    """``default_mask`` with the ``count`` entries of lowest ``scores`` set to 0 (ties: lowest
    flat index first)."""
    xp = array_module(scores)
    mask = default_mask.copy()
    if count:
        lowest = xp.argsort(scores.reshape(-1), kind="stable")[:count]
        mask.reshape(-1)[lowest] = 0
    return mask


class Identity(BasePruningMethod):
    """Prunes nothing: a mask of ones (it sets up the reparametrisation, e.g. to prune by hand)."""

    def compute_mask(self, t, default_mask):
        return default_mask


class RandomUnstructured(BasePruningMethod):
    """Prune ``amount`` entries chosen uniformly at random (tinymed's seeded generator)."""

    def __init__(self, amount):
        self.amount = _check_amount(amount)

    def compute_mask(self, t, default_mask):
        count = _count_to_prune(self.amount, t.size)
        scores = array_module(t).asarray(generator().random(t.shape))
        return _zero_lowest(scores, count, default_mask)


class L1Unstructured(BasePruningMethod):
    r"""Prune the ``amount`` entries of smallest magnitude :math:`|w|` (the L1 norm of one entry)."""

    def __init__(self, amount):
        self.amount = _check_amount(amount)

    def compute_mask(self, t, default_mask):
        count = _count_to_prune(self.amount, t.size)
        return _zero_lowest(array_module(t).abs(t), count, default_mask)


def _ln_norm(t, n, dim):
    """:math:`\\|t_c\\|_n` of every slice ``c`` along ``dim`` (all other axes reduced): ``n`` a
    positive number, ``inf`` (max magnitude), ``-inf`` (min magnitude) or ``"fro"`` (n = 2)."""
    xp = array_module(t)
    other = tuple(d for d in range(t.ndim) if d != dim)
    a = xp.abs(t)
    if n == math.inf:
        return a.max(axis=other)
    if n == -math.inf:
        return a.min(axis=other)
    p = 2.0 if n == "fro" else float(n)
    return (a ** p).sum(axis=other) ** (1.0 / p)


class LnStructured(BasePruningMethod):
    r"""Prune whole channels along ``dim`` (output filters for ``dim=0``): the ``amount`` channels
    of smallest :math:`L_n` norm, :math:`\|W_c\|_n = (\sum_{i \in c} |w_i|^n)^{1/n}`."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        self.amount = _check_amount(amount)
        if not (n == "fro" or (isinstance(n, numbers.Real) and not isinstance(n, bool)
                               and (n > 0 or n == -math.inf))):
            raise ValueError(f"ln_structured: n must be a positive number, inf, -inf or 'fro', got {n!r}")
        self.n, self.dim = n, dim

    def compute_mask(self, t, default_mask):
        if t.ndim < 2:
            raise ValueError(f"ln_structured: structured pruning needs a tensor of at least 2 dimensions "
                             f"(channels), got shape {tuple(t.shape)}")
        if not -t.ndim <= self.dim < t.ndim:
            raise IndexError(f"ln_structured: dim={self.dim} is out of range for shape {tuple(t.shape)}")
        dim = self.dim % t.ndim
        count = _count_to_prune(self.amount, t.shape[dim])
        if count == 0:
            return default_mask
        pruned = array_module(t).argsort(_ln_norm(t, self.n, dim), kind="stable")[:count]  # ties: lowest first
        mask = default_mask.copy()
        index = [slice(None)] * t.ndim
        index[dim] = pruned
        mask[tuple(index)] = 0
        return mask


class CustomFromMask(BasePruningMethod):
    """Prune where a given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(self.mask.shape) != tuple(default_mask.shape):
            raise ValueError(f"custom_from_mask: mask has shape {tuple(self.mask.shape)}, "
                             f"the tensor {tuple(default_mask.shape)}")
        return default_mask * array_module(default_mask).asarray(self.mask, dtype=default_mask.dtype)


# ----- the functions ---------------------------------------------------------------------------
def identity(module, name):
    """Reparametrise ``module.<name>`` with a mask of ones.  Returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` randomly chosen entries of ``module.<name>``.  Returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` entries of ``module.<name>`` of smallest magnitude (or of smallest
    ``importance_scores``).  Returns ``module``."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` channels of ``module.<name>`` along ``dim`` of smallest :math:`L_n`
    norm.  Returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` (an array of its shape) is 0.  Returns ``module``."""
    CustomFromMask.apply(module, name, mask=_raw(mask))
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune all ``(module, name)`` pairs of ``parameters`` together, as one long vector: e.g. the
    50 % smallest weights of the whole network rather than 50 % of each layer.

    ``pruning_method`` is an unstructured method class (``L1Unstructured``, ...) built with
    ``kwargs``; ``importance_scores`` an optional dict ``{(module, name): scores}``.
    """
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: parameters is empty")
    if not (isinstance(pruning_method, type) and issubclass(pruning_method, BasePruningMethod)):
        raise TypeError(f"global_unstructured: pruning_method must be a pruning method class such as "
                        f"L1Unstructured, got {pruning_method!r}")
    if pruning_method.PRUNING_TYPE != "unstructured":
        raise TypeError(f"global_unstructured: only unstructured methods can be applied globally, "
                        f"got {pruning_method.__name__} ({pruning_method.PRUNING_TYPE})")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        current = getattr(module, name, None)
        if not isinstance(current, Tensor):
            raise ValueError(f"global_unstructured: {type(module).__name__} has no parameter named {name!r}")
        scores.append(_raw(importance_scores.get((module, name), current)).reshape(-1))
        mask = getattr(module, name + "_mask", None)
        masks.append(mask.data.reshape(-1) if mask is not None else array_module(current.data).ones(current.size))
    xp = array_module(scores[0])
    method = pruning_method(**kwargs)
    method._tensor_name = "global"
    flat = PruningContainer(method).compute_mask(xp.concatenate(scores), xp.concatenate(masks))
    start = 0
    for module, name in parameters:
        shape = getattr(module, name).shape
        size = int(np.prod(shape))
        custom_from_mask(module, name, flat[start:start + size].reshape(shape))
        start += size


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent (see the module docstring).  Returns ``module``."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"prune.remove: parameter {name!r} of {type(module).__name__} has to be pruned "
                     f"before its pruning can be removed")


def is_pruned(module) -> bool:
    """Whether ``module`` or any module inside it carries a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for m in module.modules() for hook in m._forward_pre_hooks.values())
