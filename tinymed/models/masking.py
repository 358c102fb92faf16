r"""Masked-language-model inputs: BERT's pretraining task (Devlin et al. 2019).

Choose each ordinary token with probability :math:`p` (15 %) to be predicted; of those, replace
80 % by ``[MASK]``, 10 % by a random token and leave 10 % as they are.  The model must predict the
original token at every chosen position (``labels``) and is scored nowhere else (label -100).  The
random and unchanged 10 % keep it from learning that only ``[MASK]`` positions matter, since
``[MASK]`` never occurs when the model is fine-tuned.  Hugging Face's ``DataCollatorForLanguageModeling``
does the same.
"""

from __future__ import annotations

import numpy as np

from ._checks import IGNORE_INDEX

__all__ = ["mask_tokens"]


def mask_tokens(input_ids, mask_token_id: int, vocab_size: int, rng: np.random.Generator,
                mlm_probability: float = 0.15, special_token_ids=()) -> tuple:
    """``(inputs, labels)`` for masked-LM training from token ids (any shape, NumPy).

    Tokens in ``special_token_ids`` (padding, ``[CLS]``, ``[SEP]``) are never chosen.  ``inputs``
    is a copy with the replacements; ``labels`` holds the original ids where chosen, -100 elsewhere.
    """
    if not 0 < mlm_probability < 1:
        raise ValueError(f"mask_tokens: mlm_probability must be in (0, 1), got {mlm_probability}")
    ids = np.asarray(input_ids)
    chosen = (rng.random(ids.shape) < mlm_probability) & ~np.isin(ids, list(special_token_ids))
    labels = np.where(chosen, ids, IGNORE_INDEX)
    fate = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (fate < 0.8)] = mask_token_id
    replaced = chosen & (fate >= 0.8) & (fate < 0.9)
    inputs[replaced] = rng.integers(0, vocab_size, int(replaced.sum()))
    return inputs, labels
