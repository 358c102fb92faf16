"""Text for language models: a byte-level BPE tokenizer trained from scratch.

* :mod:`~tinymed.text.bpe` -- :class:`BPETokenizer` (train, encode, decode, save, load);
* :mod:`~tinymed.text.pieces` -- how text is cut into chunks before BPE, and how bytes are shown.

The merge loops are kernels (:mod:`tinymed.kernels.reference.text`, Numba twins in
:mod:`tinymed.kernels.numba.text`), chosen by the backend switch.
"""

from .bpe import SPECIAL_TOKENS, BPETokenizer
from .pieces import split_chunks

__all__ = ["BPETokenizer", "SPECIAL_TOKENS", "split_chunks"]
