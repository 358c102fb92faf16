r"""How text is cut before byte-pair encoding, and how a token's bytes are shown.

**Pre-tokenization.**  BPE merges only inside a *chunk*, so a token never spans two words.  A
chunk is, in order of preference (the regular expression :data:`PATTERN`):

* a run of letters with at most one space before it (``" pneumonia"``, ``"肺炎"``: Chinese has no
  spaces, so a run of Han characters between punctuation is one chunk);
* one to three digits with at most one space before them (``" 140"``; ``"7.4"`` is ``"7"``,
  ``"."``, ``"4"``): a number's pieces are few and shared by all numbers;
* a run of other symbols with at most one space before it (``" ("``, ``"，"``, ``"/"``);
* a run of spaces, tabs or newlines (all but the last space, when a word follows);
* any single character left (nothing is ever dropped: the chunks of a text join to the text).

**Showing bytes.**  A token is a byte string, and many bytes are not printable (a Chinese
character is three bytes, a space is one).  As GPT-2 does, each byte is shown as one printable
character: the printable ASCII and Latin-1 bytes as themselves, the others (space, control
bytes, ...) as the characters from U+0100 on, in order -- so ``" the"`` is shown ``"Ġthe"``.
"""

import re

PATTERN = r" ?[^\W\d_]+| ?\d{1,3}| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+|[\s\S]"
"""The pre-tokenization pattern (Python ``re``, Unicode): letters, digits, symbols, spaces."""

_CHUNK = re.compile(PATTERN)


def split_chunks(text: str) -> list:
    """The chunks of ``text``, in order; ``"".join(split_chunks(text)) == text``."""
    return _CHUNK.findall(text)


def _byte_characters() -> list:
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shown, extra = [""] * 256, 0
    for byte in range(256):
        if byte in printable:
            shown[byte] = chr(byte)
        else:
            shown[byte] = chr(256 + extra)
            extra += 1
    return shown


BYTE_CHARACTERS = tuple(_byte_characters())
"""``BYTE_CHARACTERS[b]``: the printable character that stands for byte ``b``."""


def show_bytes(data: bytes) -> str:
    """A byte string as printable characters, one per byte (:data:`BYTE_CHARACTERS`)."""
    return "".join(BYTE_CHARACTERS[b] for b in data)
