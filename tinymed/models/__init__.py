"""Assembled models with Hugging Face's names and layouts, and what training them takes.

* :class:`GPT` / :class:`GPTConfig` -- a decoder-only language model laid out as ``GPT2LMHeadModel``
  (``gpt.py``), with :class:`DynamicCache` for generation (``cache.py``) and the sampling rules
  (``sampling.py``);
* :class:`BERT` / :class:`BertConfig`, :class:`BertForMaskedLM`, :class:`BertForSequenceClassification`
  -- the encoder and its pretraining and fine-tuning heads (``bert.py``), with :func:`mask_tokens`
  for the masked-LM task (``masking.py``);
* :class:`PreTrainedModel` -- state dicts under Hugging Face's names, tied weights, loading their
  checkpoints (``pretrained.py``);
* :func:`weight_decay_groups`, :func:`training_step` -- AdamW's two parameter groups, gradient
  accumulation and clipping (``training.py``); the losses are in ``losses.py``.
"""

from .bert import BERT, BertConfig, BertForMaskedLM, BertForSequenceClassification
from .cache import DynamicCache
from .gpt import GPT, Conv1D, GPT2Model, GPTConfig
from .masking import mask_tokens
from .pretrained import PreTrainedModel
from .training import training_step, weight_decay_groups

__all__ = [
    "GPT", "GPTConfig", "GPT2Model", "Conv1D", "DynamicCache",
    "BERT", "BertConfig", "BertForMaskedLM", "BertForSequenceClassification", "mask_tokens",
    "PreTrainedModel", "weight_decay_groups", "training_step",
]
