"""``DynamicCache``: the keys and values of the tokens a language model has already seen.

Generating token :math:`t+1` needs the attention of the newest position over all earlier ones.
Without a cache the model recomputes every layer for all :math:`t` tokens at every step
(:math:`O(t^2)` work per token over a whole generation); with one it computes only the new
token's query, key and value and reads the earlier keys and values from here (:math:`O(t)`).
Only the keys and values are kept because, in a causal model, nothing about an earlier position
changes when later tokens arrive.  The name and methods are Hugging Face's.
"""

from __future__ import annotations

from ..backend import array_module


class DynamicCache:
    """Per layer, keys and values of shape (batch, heads, length, head_dim) as raw arrays.

    ``update(key, value, layer_idx)`` appends the new positions and returns the whole keys and
    values of that layer; ``get_seq_length()`` is the number of positions cached.  The arrays
    carry no gradient: a cache is for generation, under :func:`tinymed.no_grad`.
    """

    def __init__(self):
        self.key_cache: list = []
        self.value_cache: list = []

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.key_cache[layer_idx].shape[2] if layer_idx < len(self.key_cache) else 0

    def update(self, key, value, layer_idx: int):
        """Append ``key``, ``value`` (batch, heads, new, head_dim) to layer ``layer_idx``'s; return all of them."""
        if layer_idx == len(self.key_cache):
            self.key_cache.append(key)
            self.value_cache.append(value)
        else:
            xp = array_module(key)
            self.key_cache[layer_idx] = xp.concatenate([self.key_cache[layer_idx], key], axis=2)
            self.value_cache[layer_idx] = xp.concatenate([self.value_cache[layer_idx], value], axis=2)
        return self.key_cache[layer_idx], self.value_cache[layer_idx]

    def __len__(self):
        return len(self.key_cache)
