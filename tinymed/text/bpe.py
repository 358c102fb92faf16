r"""A byte-level byte-pair-encoding (BPE) tokenizer, trained from scratch.

Every text is UTF-8 bytes, so every text can be encoded -- English, Chinese, emoji, anything --
and decoding gives it back exactly; nothing is ever "unknown".  Training learns *merges*: the
most frequent pair of adjacent symbols becomes a new symbol, again and again, until the
vocabulary is full (the algorithm and its tie rule: :mod:`tinymed.kernels.reference.text`).

Ids: ``0..255`` are the bytes, ``256 + r`` is the symbol made by merge ``r``, and the special
tokens come last, in the order given (as GPT-2's ``<|endoftext|>`` is its last id).

>>> tok = BPETokenizer.train(["fever and cough", "cough, fever"] * 10, vocab_size=270)
>>> ids = tok.encode("no fever")
>>> tok.decode(ids)
'no fever'
>>> tok.encode("[CLS]")  # a special token is never split
[268]
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from ..backend import kernel
from .pieces import PATTERN, show_bytes, split_chunks

SPECIAL_TOKENS = ("<|endoftext|>", "[PAD]", "[MASK]", "[CLS]", "[SEP]")
"""The default special tokens: GPT's end of text, and BERT's padding, mask, classification and separator."""

N_BYTES = 256
FORMAT, VERSION = "tinymed-bpe-tokenizer", 1
_CACHE_LIMIT = 200_000  # encoded chunks kept; a text of new words cannot grow the cache without bound


class BPETokenizer:
    """Byte-level BPE with Hugging Face's method names (``encode``, ``decode``, ``token_to_id``,
    ``id_to_token``, ``vocab_size``, ``pad_token_id``, ...).

    Make one with :meth:`train` (or :meth:`load`); ``BPETokenizer(merges, special_tokens)``
    builds one from learned merges ``(m, 2)`` (merge ``r`` joins two symbols below ``256 + r``).
    """

    def __init__(self, merges=(), special_tokens=SPECIAL_TOKENS):
        self._merges = _checked_merges("BPETokenizer", merges)
        self.special_tokens = _checked_special_tokens("BPETokenizer", special_tokens)
        self._bytes = [bytes([b]) for b in range(N_BYTES)]
        for a, b in self._merges.tolist():
            self._bytes.append(self._bytes[a] + self._bytes[b])
        first_special = len(self._bytes)
        self._special_ids = {token: first_special + k for k, token in enumerate(self.special_tokens)}
        self._bytes += [token.encode("utf-8") for token in self.special_tokens]
        by_length = sorted(self.special_tokens, key=len, reverse=True)  # "[SEP]x" before "[SEP]"
        self._special_split = re.compile("(" + "|".join(map(re.escape, by_length)) + ")") if by_length else None
        self._chunk_cache = {}
        self._token_ids = None

    # ----- training ----------------------------------------------------------------------------
    @classmethod
    def train(cls, texts, vocab_size: int, special_tokens=SPECIAL_TOKENS) -> BPETokenizer:
        """Learn ``vocab_size - 256 - len(special_tokens)`` merges from ``texts`` (a list of str).

        Special tokens in the texts are cut out first: no merge ever crosses or makes one.  The
        same texts give the same merges (ties go to the smallest pair of ids).  If every chunk of
        the texts becomes one token before the vocabulary is full, training stops there, and
        :attr:`vocab_size` is smaller than asked.
        """
        special_tokens = _checked_special_tokens("BPETokenizer.train", special_tokens)
        smallest = N_BYTES + len(special_tokens)
        if not isinstance(vocab_size, (int, np.integer)) or isinstance(vocab_size, bool) or vocab_size < smallest:
            raise ValueError(f"BPETokenizer.train: vocab_size must be an integer of at least {smallest} "
                             f"({N_BYTES} bytes + {len(special_tokens)} special tokens), got {vocab_size!r}")
        splitter = cls((), special_tokens)
        counts = Counter()
        for text in _checked_texts("BPETokenizer.train", texts):
            for piece in splitter._pieces(text, "BPETokenizer.train"):
                if piece not in splitter._special_ids:
                    counts.update(split_chunks(piece))
        ids, starts = _chunk_bytes("BPETokenizer.train", list(counts))
        weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
        merges = kernel("bpe_train_merges")(ids, starts, weights, int(vocab_size) - smallest, N_BYTES)
        return cls(merges, special_tokens)

    # ----- the vocabulary ----------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids: 256 bytes + the merges + the special tokens."""
        return len(self._bytes)

    def __len__(self):
        return self.vocab_size

    @property
    def merges(self) -> np.ndarray:
        """The learned merges, ``(m, 2)`` int64, in the order learned (a copy)."""
        return self._merges.copy()

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes token ``token_id`` stands for (a special token: its text in UTF-8)."""
        return self._bytes[self._checked_ids([token_id], "token_bytes")[0]]

    def id_to_token(self, token_id: int):
        """The token's text: a special token as written, any other as its bytes made printable
        (``" fever"`` is ``"Ġfever"``, see :mod:`tinymed.text.pieces`); ``None`` out of range."""
        if not isinstance(token_id, (int, np.integer)) or not 0 <= token_id < self.vocab_size:
            return None
        if token_id >= self.vocab_size - len(self.special_tokens):
            return self.special_tokens[token_id - (self.vocab_size - len(self.special_tokens))]
        return show_bytes(self._bytes[token_id])

    def token_to_id(self, token: str):
        """The id of a token written as :meth:`id_to_token` writes it (the lowest, should two
        merges have made the same bytes), or ``None``."""
        if self._token_ids is None:
            ordinary = self.vocab_size - len(self.special_tokens)
            self._token_ids = {show_bytes(self._bytes[i]): i for i in reversed(range(ordinary))}
            self._token_ids.update(self._special_ids)
        return self._token_ids.get(token)

    eos_token_id = property(lambda self: self._special_ids.get("<|endoftext|>"), doc="Id of ``<|endoftext|>``.")
    pad_token_id = property(lambda self: self._special_ids.get("[PAD]"), doc="Id of ``[PAD]``.")
    mask_token_id = property(lambda self: self._special_ids.get("[MASK]"), doc="Id of ``[MASK]``.")
    cls_token_id = property(lambda self: self._special_ids.get("[CLS]"), doc="Id of ``[CLS]``.")
    sep_token_id = property(lambda self: self._special_ids.get("[SEP]"), doc="Id of ``[SEP]``.")

    def __repr__(self):
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self._merges)}, "
                f"special_tokens={self.special_tokens})")

    # ----- encoding and decoding ---------------------------------------------------------------
    def encode(self, text: str) -> list:
        """The ids of ``text``: special tokens written in it are their ids, the rest is cut into
        chunks (:func:`~tinymed.text.pieces.split_chunks`) whose bytes are merged as learned."""
        return self._encode_all([text], "encode")[0]

    def encode_batch(self, texts, max_length=None, add_special_tokens: bool = False) -> dict:
        """Encode a list of texts into one padded batch, ready for a model.

        Returns ``{"input_ids": (B, T) int64, "attention_mask": (B, T) int64}``: each row padded
        at the end with ``[PAD]`` to the longest row, the mask 1 on real tokens and 0 on padding.
        ``max_length`` cuts longer rows; ``add_special_tokens=True`` writes each row as BERT does,
        ``[CLS] text [SEP]`` (a cut row keeps its ``[SEP]``).
        """
        if self.pad_token_id is None:
            raise ValueError("BPETokenizer.encode_batch: padding needs the special token '[PAD]', "
                             f"which this tokenizer lacks (special tokens: {self.special_tokens})")
        if max_length is not None and (not isinstance(max_length, (int, np.integer)) or isinstance(max_length, bool)
                                       or max_length < 1 + 2 * add_special_tokens):
            raise ValueError(f"BPETokenizer.encode_batch: max_length must be an integer >= "
                             f"{1 + 2 * add_special_tokens} or None, got {max_length!r}")
        rows = self._encode_all(_checked_texts("BPETokenizer.encode_batch", texts), "encode_batch")
        if add_special_tokens:
            if self.cls_token_id is None or self.sep_token_id is None:
                raise ValueError("BPETokenizer.encode_batch: add_special_tokens needs '[CLS]' and '[SEP]', "
                                 f"which this tokenizer lacks (special tokens: {self.special_tokens})")
            keep = None if max_length is None else max_length - 2
            rows = [[self.cls_token_id, *row[:keep], self.sep_token_id] for row in rows]
        elif max_length is not None:
            rows = [row[:max_length] for row in rows]
        width = max((len(row) for row in rows), default=0)
        input_ids = np.full((len(rows), width), self.pad_token_id, dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, :len(row)] = row
            attention_mask[i, :len(row)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """The text of ``ids`` (a list or 1-D array of ids).  ``decode(encode(text)) == text`` for
        every text; a cut through a character (a lone byte of it) decodes as U+FFFD."""
        checked = self._checked_ids(ids, "decode")
        if skip_special_tokens:
            first_special = self.vocab_size - len(self.special_tokens)
            checked = [i for i in checked if i < first_special]
        return b"".join(self._bytes[i] for i in checked).decode("utf-8", errors="replace")

    def _pieces(self, text, what):
        """``text`` cut around its special tokens (which are pieces of their own)."""
        if not isinstance(text, str):
            raise TypeError(f"{what}: expected a str, got {type(text).__name__}")
        if self._special_split is None:
            return [text]
        return [piece for piece in self._special_split.split(text) if piece]

    def _encode_all(self, texts, what):
        pieces = [self._pieces(text, f"BPETokenizer.{what}") for text in texts]
        new = {chunk: None for p in pieces for piece in p if piece not in self._special_ids
               for chunk in split_chunks(piece) if chunk not in self._chunk_cache}
        if len(self._chunk_cache) + len(new) > _CACHE_LIMIT:
            self._chunk_cache.clear()
            new = {chunk: None for p in pieces for piece in p if piece not in self._special_ids
                   for chunk in split_chunks(piece)}
        if new:
            ids, starts = _chunk_bytes(f"BPETokenizer.{what}", list(new))
            encoded, bounds = kernel("bpe_encode_chunks")(ids, starts, self._merges, N_BYTES)
            encoded, bounds = encoded.tolist(), bounds.tolist()
            for k, chunk in enumerate(new):
                self._chunk_cache[chunk] = encoded[bounds[k]:bounds[k + 1]]
        out = []
        for p in pieces:
            row = []
            for piece in p:
                if piece in self._special_ids:
                    row.append(self._special_ids[piece])
                else:
                    for chunk in split_chunks(piece):
                        row.extend(self._chunk_cache[chunk])
            out.append(row)
        return out

    def _checked_ids(self, ids, what):
        array = np.asarray(ids)
        if array.size == 0:
            return []
        if array.ndim != 1:
            raise ValueError(f"BPETokenizer.{what}: expected a 1-D sequence of ids, got shape {array.shape}")
        if array.dtype.kind not in "iu":
            raise TypeError(f"BPETokenizer.{what}: ids must be integers, got dtype {array.dtype}")
        bad = (array < 0) | (array >= self.vocab_size)
        if bad.any():
            raise ValueError(f"BPETokenizer.{what}: id {array[bad][0]} is out of range "
                             f"[0, {self.vocab_size}) for this vocabulary")
        return array.tolist()

    # ----- files -------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the tokenizer as JSON (its pre-tokenization pattern, special tokens and merges),
        to a temporary file first and then renamed, so an interrupted save leaves the old file."""
        path = Path(path)
        document = {"format": FORMAT, "version": VERSION, "pattern": PATTERN,
                    "special_tokens": list(self.special_tokens), "merges": self._merges.tolist()}
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(document, f, ensure_ascii=False)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    @classmethod
    def load(cls, path) -> BPETokenizer:
        """Read a tokenizer :meth:`save` wrote; a file that is not one gives a ``ValueError`` saying why."""
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"BPETokenizer.load: {path} is not a JSON file ({exc})") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            found = document.get("format") if isinstance(document, dict) else type(document).__name__
            raise ValueError(f"BPETokenizer.load: {path} is not a tinymed BPE tokenizer "
                             f"(expected format {FORMAT!r}, found {found!r})")
        if document.get("version") != VERSION:
            raise ValueError(f"BPETokenizer.load: {path} has format version {document.get('version')!r}; "
                             f"this tinymed reads version {VERSION}")
        if document.get("pattern") != PATTERN:
            raise ValueError(f"BPETokenizer.load: {path} was made with another pre-tokenization pattern "
                             f"({document.get('pattern')!r}), whose merges would not apply here")
        missing = [key for key in ("special_tokens", "merges") if key not in document]
        if missing:
            raise ValueError(f"BPETokenizer.load: {path} lacks {missing}")
        return cls(document["merges"], document["special_tokens"])


# ----- checks and helpers ----------------------------------------------------------------------
def _checked_texts(what, texts):
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{what}: expected a list of str, got a single {type(texts).__name__} "
                        "(wrap it in a list)")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{what}: texts[{i}] is a {type(text).__name__}, expected str")
    return texts


def _checked_special_tokens(what, special_tokens):
    if isinstance(special_tokens, str):
        raise TypeError(f"{what}: special_tokens must be a list of str, got the str {special_tokens!r}")
    tokens = tuple(special_tokens)
    for token in tokens:
        if not isinstance(token, str) or not token:
            raise ValueError(f"{what}: each special token must be a non-empty str, got {token!r}")
    if len(set(tokens)) != len(tokens):
        raise ValueError(f"{what}: special tokens must be distinct, got {tokens}")
    return tokens


def _checked_merges(what, merges):
    try:
        array = np.asarray(merges)
    except ValueError as exc:  # ragged rows
        raise ValueError(f"{what}: merges must be an (m, 2) array of ids ({exc})") from exc
    if array.size == 0:
        array = np.zeros((0, 2), dtype=np.int64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{what}: merges must have shape (m, 2), got {array.shape}")
    if len(array) and array.dtype.kind not in "iu":
        raise ValueError(f"{what}: merges must hold integer ids, got dtype {array.dtype}")
    array = array.astype(np.int64)
    limit = N_BYTES + np.arange(len(array))[:, None]  # merge r may only join bytes and earlier merges
    bad = np.flatnonzero(((array < 0) | (array >= limit)).any(axis=1))
    if len(bad):
        r = int(bad[0])
        raise ValueError(f"{what}: merge {r} joins {array[r].tolist()}, but only ids 0..{N_BYTES + r - 1} "
                         "exist before it")
    return array


def _chunk_bytes(what, chunks):
    """Chunks as one flat array of their UTF-8 bytes and the offsets where each starts."""
    try:
        data = [chunk.encode("utf-8") for chunk in chunks]
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what}: the text holds {exc.object[exc.start:exc.end]!r}, a lone surrogate, "
                         "which is not Unicode text and has no UTF-8 bytes") from exc
    ids = np.frombuffer(b"".join(data), dtype=np.uint8).astype(np.int64)
    starts = np.zeros(len(data) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(d) for d in data], dtype=np.int64)
    return ids, starts
