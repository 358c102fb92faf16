"""``PreTrainedModel``: state dicts under Hugging Face's names, tied weights included, and loading
of checkpoints written by ``transformers``.

A language model uses its token-embedding matrix twice: to look tokens up on the way in and to
score every token of the vocabulary on the way out ("tied" input and output embeddings, Press &
Wolf 2017).  The model holds one Parameter for both, trained by both uses.  Hugging Face's state
dicts list it under both names (``transformer.wte.weight`` and ``lm_head.weight``), so
:meth:`PreTrainedModel.state_dict` does too, and :meth:`~PreTrainedModel.load_state_dict` accepts a
tied weight under either name or both (when both, they must hold the same values).

Checkpoints published for ``transformers`` also differ from a model's own state dict in two
harmless ways that loading forgives: keys without the base model's prefix (a ``GPT2Model``
checkpoint, ``wte.weight`` for ``transformer.wte.weight``), and constant buffers that old versions
saved (GPT-2's causal mask ``h.0.attn.bias``), listed per model in ``ignored_checkpoint_keys``.
Anything else -- a missing key, an unknown one, a shape that differs -- is an error naming the key.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..nn import Module

__all__ = ["PreTrainedModel"]


class PreTrainedModel(Module):
    """Base class of the assembled models: ``config``, Hugging Face state dicts, parameter counts.

    A subclass sets ``base_model_prefix`` (``"transformer"`` for GPT, ``"bert"`` for BERT) and may
    list regular expressions in ``ignored_checkpoint_keys``.
    """

    base_model_prefix = ""
    ignored_checkpoint_keys: tuple = ()

    def named_tensors_with_aliases(self):
        """``(name, tensor)`` for every parameter and buffer under every name it is reachable by:
        a tied weight appears once per module that holds it, in registration order."""
        for prefix, module in self.named_modules():
            for store in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, store).items():
                    if tensor is not None:
                        yield (f"{prefix}.{name}" if prefix else name), tensor

    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer as a NumPy copy under Hugging Face's names (tied ones under each)."""
        return OrderedDict((name, t.numpy()) for name, t in self.named_tensors_with_aliases())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Load a state dict of this model or a ``transformers`` checkpoint of the same architecture.

        Returns ``(missing_keys, unexpected_keys)`` (empty unless ``strict=False``).  Nothing is
        changed unless every key and shape checks out.
        """
        given = self._without_ignored(self._with_prefix(dict(state_dict)))
        return super().load_state_dict(self._tied_merged(given), strict=strict)

    def _with_prefix(self, given):
        """A base-model checkpoint (``wte.weight``) read as this model's (``transformer.wte.weight``)."""
        prefix = f"{self.base_model_prefix}." if self.base_model_prefix else ""
        if not prefix or any(key.startswith(prefix) for key in given):
            return given
        own = {name for name, _ in self.named_tensors_with_aliases()}
        return {prefix + key if prefix + key in own else key: value for key, value in given.items()}

    def _without_ignored(self, given):
        return {key: value for key, value in given.items()
                if not any(re.search(pattern, key) for pattern in self.ignored_checkpoint_keys)}

    def _tied_merged(self, given):
        """Each tied weight under its first name only, after checking that its other names agree."""
        first_name = {}
        for name, tensor in self.named_tensors_with_aliases():
            first_name.setdefault(id(tensor), name)
            primary = first_name[id(tensor)]
            if name == primary or name not in given:
                continue
            value = given.pop(name)
            if primary not in given:
                given[primary] = value
            elif not np.array_equal(_as_numpy(given[primary]), _as_numpy(value)):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: '{name}' and '{primary}' are one tied weight in this "
                    f"model, but the state dict holds different values for them (shapes "
                    f"{tuple(np.shape(_as_numpy(value)))} and {tuple(np.shape(_as_numpy(given[primary])))})")
        return given


def _as_numpy(value):
    return backend.to_numpy(value.data if isinstance(value, Tensor) else value)
