r"""De-identification of clinical notes: find names, dates, record numbers and phone numbers and
replace them by their kind ("seen by [NAME] on [DATE]").

This is the privacy practice the articles do name (protecting patient data before it is used).
It is rule-based, as the classic tools are (regular expressions, word lists and context), so
every decision can be read in this file:

* **dates** -- ``12/03/2021``, ``12.3.21``, ``2021-03-12``, ``3 march 2021``, ``march 3, 2021``,
  ``3rd of march``, ``march 2021`` (any date element finer than the year, as HIPAA's Safe Harbor
  rule asks; a year alone is kept);
* **record numbers** -- digits after a cue (``mrn``, ``nhs number``, ``hospital number``,
  ``record no.``), a letter followed by six or more digits, or any number of six or more digits
  (clinical values -- ``crp 180``, ``300 mg`` -- are shorter);
* **phone numbers** -- 10 to 13 digits in the usual groupings, with an optional ``+44``;
* **names** -- one or two words after a title (``dr``, ``mrs``, ...) or after a word that
  introduces a person (``daughter``, ``next of kin:``, ``patient:``), or before a verb only a
  person does (``was seen``, ``phoned``); and any word of the name lists :data:`FIRST_NAMES` and
  :data:`SURNAMES` together with a capitalised or listed neighbour.

Matches may overlap (a record number inside a phone number's digits); overlapping spans are
merged into one, of the kind of the longest match.  :func:`evaluate` measures recall (planted
identifiers entirely covered) and precision (found spans that touch a planted identifier) -- see
:func:`~tinymed.privacy.planted.plant_identifiers` for the answer key.  Safe Harbor lists
eighteen kinds of identifier; addresses, e-mail, ages over 89 and the rest are not looked for.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["Span", "KINDS", "FIRST_NAMES", "SURNAMES", "find_identifiers", "deidentify", "evaluate"]

KINDS = ("NAME", "DATE", "ID", "PHONE")


class Span(NamedTuple):
    """Characters ``text[start:end]`` hold an identifier of ``kind`` (one of :data:`KINDS`)."""

    start: int
    end: int
    kind: str


FIRST_NAMES = (
    "Adebayo", "Agnieszka", "Ahmed", "Aisha", "Alice", "Amara", "Anan", "Beatrice", "Bogdan", "Catherine",
    "Chen", "Deepa", "Dmitri", "Edward", "Elena", "Emeka", "Fatima", "Florence", "George", "Gurpreet",
    "Hannah", "Harold", "Imran", "Irene", "James", "Joan", "Kwame", "Lakshmi", "Liam", "Margaret",
    "Mohammed", "Nadia", "Oluwaseun", "Priya", "Rahul", "Sarah", "Thomas", "Wei", "Yusuf", "Zainab")
SURNAMES = (
    "Ahmed", "Akhtar", "Banerjee", "Begum", "Chowdhury", "Davies", "Evans", "Fernandes", "Gallagher", "Gupta",
    "Haddad", "Hughes", "Ibrahim", "Jones", "Kaur", "Khan", "Kowalski", "Li", "Mensah", "Murphy",
    "Nguyen", "Novak", "Obi", "Okafor", "Okonkwo", "Patel", "Petrov", "Rahman", "Roberts", "Santos",
    "Shah", "Singh", "Smith", "Thompson", "Wang", "Williams", "Wilson", "Wright", "Yilmaz", "Zhang")
_KNOWN_NAMES = {n.lower() for n in FIRST_NAMES + SURNAMES}

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATES = [
    r"(?<![\d.])\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})(?![\d.]\d)",  # one separator, twice: not 0.00-0.50
    r"(?<![\d.])\d{4}-\d{1,2}-\d{1,2}(?![\d.]\d)",
    rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+\d{{4}}\b|\s+\d{{2}}\b)?",
    rf"\b{_MONTH}\s+{_DAY},?\s+\d{{4}}\b",
    rf"\b{_MONTH}\s+\d{{4}}\b",
]
_ID_CUE = (r"\b(?:mrn|medical record (?:number|no\.?)|hospital (?:number|no\.?)|nhs (?:number|no\.?)"
           r"|record (?:number|no\.?)|patient id|unit number)\s*[:#]?\s*([a-z]{0,3}\d(?:[\s-]?\d){4,14})\b")
_IDS = [r"\b[a-z]{1,3}\d{6,}\b", r"\b\d{6,}\b"]
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[\s-]?)?(?:\(\d{2,5}\)|\d{2,5})(?:[\s-]?\d{2,4}){2,3}\b"
_TITLE = r"\b(?:dr|mr|mrs|ms|miss|prof|professor)\.?\s+"
_PERSON_CUE = (r"\b(?:patient|name|son|daughter|wife|husband|partner|mother|father|brother|sister|next of kin"
               r"|carer|friend)\s*:?\s+")
_PERSON_VERB = r"\s+(?:was seen|was reviewed|was admitted|attended|phoned|called)\b"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_COMMON = {"on", "at", "in", "to", "the", "and", "or", "of", "for", "was", "is", "has", "can", "be", "with", "by",
           "no", "not", "who", "will", "had", "reached", "phoned", "seen", "tel", "contact", "number", "today",
           "history", "background", "pmh", "denies", "admitted", "under", "his", "her", "their", "a", "an"}


def _matches(pattern, text, kind, group=0):
    return [Span(m.start(group), m.end(group), kind) for m in re.finditer(pattern, text, re.IGNORECASE)]


def _phones(text):
    """Phone-like digit groups with 10 to 13 digits."""
    return [s for s in _matches(_PHONE, text, "PHONE") if 10 <= sum(ch.isdigit() for ch in text[s.start:s.end]) <= 13]


def _word_ending_at(text, position):
    """The word that ends at ``position`` (exclusive), or None."""
    begin = position
    while begin > 0 and (text[begin - 1].isalpha() or text[begin - 1] in "'-"):
        begin -= 1
    m = _WORD.match(text, begin) if begin < position else None
    return m if m and m.end() == position else None


def _neighbours(text, position, step, count):
    """Up to ``count`` words one space apart, going right from ``position`` (``step=1``: the first
    starts there) or left (``step=-1``: the first ends there); stops at punctuation and at
    common words (:data:`_COMMON`)."""
    words = []
    while len(words) < count:
        m = _WORD.match(text, position) if step > 0 else _word_ending_at(text, position)
        if not m or m.group().lower() in _COMMON:
            break
        words.append(m)
        space = m.end() if step > 0 else m.start() - 1
        if not (0 <= space < len(text) and text[space] == " "):
            break
        position = space + 1 if step > 0 else space
    return words


def _likely_name(word: str) -> bool:
    return word[0].isupper() or word.lower() in _KNOWN_NAMES


def _span_of(words):
    return Span(min(w.start() for w in words), max(w.end() for w in words), "NAME")


def _names(text):
    """One or two words after a title or a person cue, or before a verb only a person does; a
    listed name with its capitalised or listed neighbours."""
    spans = []
    for pattern in (_TITLE, _PERSON_CUE):
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if words := _neighbours(text, m.end(), 1, 2):
                spans.append(_span_of(words))
    for m in re.finditer(_PERSON_VERB, text, re.IGNORECASE):
        if words := _neighbours(text, m.start(), -1, 2):
            spans.append(_span_of(words))
    for m in _WORD.finditer(text):
        if m.group().lower() in _KNOWN_NAMES:
            left = [w for w in _neighbours(text, m.start() - 1, -1, 1) if _likely_name(w.group())]
            right = [w for w in _neighbours(text, m.end() + 1, 1, 1) if _likely_name(w.group())]
            spans.append(_span_of([m] + left + right))
    return spans


_PRIORITY = {"ID": 0, "PHONE": 1, "DATE": 2, "NAME": 3}


def _merge(spans):
    """Overlapping spans joined into one, of the kind of the longest of them (ties: the kind
    first in :data:`_PRIORITY`)."""
    merged, longest = [], []
    for span in sorted(spans):
        rank = (-(span.end - span.start), _PRIORITY[span.kind])
        if merged and span.start < merged[-1].end:
            if rank < longest[-1]:
                longest[-1] = rank
            best = min(longest[-1], rank)
            kind = span.kind if best == rank else merged[-1].kind
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end), kind)
        else:
            merged.append(span)
            longest.append(rank)
    return merged


def find_identifiers(text: str) -> list[Span]:
    """Every identifier found in ``text``, as sorted, non-overlapping :class:`Span` s."""
    if not isinstance(text, str):
        raise TypeError(f"find_identifiers: text must be a str, got {type(text).__name__}")
    spans = _matches(_ID_CUE, text, "ID", group=1) + _phones(text)
    spans += [s for pattern in _DATES for s in _matches(pattern, text, "DATE")]
    spans += [s for pattern in _IDS for s in _matches(pattern, text, "ID")]
    return _merge(spans + _names(text))


def deidentify(text: str, spans=None) -> str:
    """``text`` with every identifier (``spans``, found with :func:`find_identifiers` if not given)
    replaced by its kind in brackets: ``"seen by dr [NAME] on [DATE]"``."""
    spans = find_identifiers(text) if spans is None else sorted(spans)
    pieces, position = [], 0
    for span in spans:
        pieces += [text[position:span.start], f"[{span.kind}]"]
        position = span.end
    return "".join(pieces) + text[position:]


def evaluate(gold, predicted) -> dict:
    """Recall and precision of ``predicted`` against ``gold``: two lists (one per document) of
    lists of :class:`Span`.

    An identifier counts as found when all its characters lie inside found spans (of any kind:
    for privacy what matters is that it is gone); a found span counts as right when it overlaps
    an identifier.  Returns ``{"recall", "precision", "recall_by_kind": {kind: recall},
    "identifiers", "found"}``.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"evaluate: {len(gold)} documents of gold spans but {len(predicted)} of predicted ones")
    hits, by_kind, right, n_found = 0, {}, 0, 0
    for gold_spans, found in zip(gold, predicted):
        covered = set()
        for s in found:
            covered.update(range(s.start, s.end))
        for g in gold_spans:
            ok = all(i in covered for i in range(g.start, g.end))
            hits += ok
            total, kind_hits = by_kind.get(g.kind, (0, 0))
            by_kind[g.kind] = (total + 1, kind_hits + ok)
        n_found += len(found)
        right += sum(any(s.start < g.end and g.start < s.end for g in gold_spans) for s in found)
    n_gold = sum(total for total, _ in by_kind.values())
    return {"recall": hits / n_gold if n_gold else 1.0, "precision": right / n_found if n_found else 1.0,
            "recall_by_kind": {k: h / t for k, (t, h) in sorted(by_kind.items())},
            "identifiers": n_gold, "found": n_found}
