"""Synthetic identifiers planted in clinical text, with their exact positions: the answer key a
de-identifier is scored against.

tinymed's notes (``tinymed.data.clinical_notes``) carry no identifiers at all -- they are drawn
from templates.  :func:`plant_identifiers` inserts sentences that do ("patient: Grace Okafor,
mrn 40392817.", "daughter sarah can be reached on 07700 900 123.") between a note's sentences and
records where each name, date, record number and phone number went.  Every value is invented:
names from lists written for tinymed (about half of them deliberately absent from the
de-identifier's own name lists, so finding them takes context, not a look-up), numbers and dates
drawn at random, phone numbers in the ranges set aside for drama (07700 900xxx, 020 7946 0xxx).
Sentences come in lower case or with capitals, as clinicians write them.
"""

from __future__ import annotations

import re

import numpy as np

from .deid import FIRST_NAMES, SURNAMES, Span

__all__ = ["plant_identifiers", "PLANTED_FIRST_NAMES", "PLANTED_SURNAMES"]

# half known to the de-identifier (its FIRST_NAMES / SURNAMES), half not
PLANTED_FIRST_NAMES = FIRST_NAMES[::2] + (
    "Aoife", "Bartholomew", "Chidi", "Delphine", "Eilidh", "Folasade", "Gwilym", "Hamish", "Ingrid", "Jasper",
    "Kemi", "Leopold", "Maeve", "Niamh", "Oisin", "Perpetua", "Quentin", "Rosalind", "Siobhan", "Thaddeus")
PLANTED_SURNAMES = SURNAMES[::2] + (
    "Abernethy", "Balogun", "Castellano", "Dimitriou", "Eze", "Fairweather", "Grzegorczyk", "Hollingsworth",
    "Iwu", "Jankowska", "Kowalczyk", "Lindqvist", "McAllister", "Nwachukwu", "Oyelaran", "Pemberton",
    "Quinlan", "Rasmussen", "Szymanski", "Thistlethwaite")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_TITLES = ("dr", "mr", "mrs", "ms", "prof")

# {name}: first and last name, {first}, {surname}, {title}; {date}, {id}, {phone}
_TEMPLATES = (
    "patient: {name}, mrn {id}", "name {name}, dob {date}", "{name} was seen by {title} {surname} on {date}",
    "dob {date}", "nhs number {id}", "hospital number {id}", "daughter {first} can be reached on {phone}",
    "discussed with his wife {first} on {phone}", "gp {title} {surname}, tel {phone}",
    "admitted on {date} under {title} {surname}", "next of kin: {name} ({phone})", "record no. {id}, seen {date}",
    "reviewed by {title} {surname}", "son {name} phoned on {date}", "contact number {phone}",
)
# written after the de-identifier's rules and never used to tune them: new cue words, a surname
# before the first name, "dr." with a full stop; what they score is the honest figure
_HELD_OUT_TEMPLATES = (
    "pt's aunt {first} will visit", "{name} (dob {date})", "called {name} re results on {phone}",
    "bed 4, {surname}, {first}", "referred by {title}. {surname} of the chest clinic", "date of birth: {date}",
    "seen in clinic {date} by {name}, physiotherapist", "lives with partner {first}; mobile {phone}",
    "ref {id}", "{surname} family aware of plan",
)


def _date(rng):
    day, month, year = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1930, 2025))
    style = int(rng.integers(0, 6))
    if style == 0:
        return f"{day:02d}/{month:02d}/{year}"
    if style == 1:
        return f"{day}.{month}.{year % 100:02d}"
    if style == 2:
        return f"{year}-{month:02d}-{day:02d}"
    name = _MONTHS[month - 1]
    if style == 3:
        return f"{day} {name} {year}"
    if style == 4:
        return f"{name} {day}, {year}"
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix} of {name}"


def _record_number(rng):
    digits = "".join(str(d) for d in rng.integers(0, 10, 10))
    style = int(rng.integers(0, 3))
    if style == 0:
        return digits[:8]
    if style == 1:
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"  # NHS number layout
    return "ABCDEFGHJK"[int(rng.integers(0, 10))] + digits[:7]


def _phone(rng):
    tail = "".join(str(d) for d in rng.integers(0, 10, 3))
    style = int(rng.integers(0, 4))
    if style == 0:
        return f"07700 900{tail}"
    if style == 1:
        return f"07700 900 {tail}"
    if style == 2:
        return f"020 7946 0{tail}"
    return f"+44 20 7946 0{tail}"


def _values(rng):
    first, surname = str(rng.choice(PLANTED_FIRST_NAMES)), str(rng.choice(PLANTED_SURNAMES))
    return dict(first=("NAME", first), surname=("NAME", surname), name=("NAME", f"{first} {surname}"),
                title=(None, str(rng.choice(_TITLES))), date=("DATE", _date(rng)), id=("ID", _record_number(rng)),
                phone=("PHONE", _phone(rng)))


def _sentence(rng, start, templates):
    """One identifier sentence placed at offset ``start``: ``(text, spans)``."""
    template, values = str(rng.choice(templates)), _values(rng)
    lower = rng.random() < 0.4
    text, spans = "", []
    for literal, field in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        text += literal
        if field:
            kind, value = values[field]
            value = value.lower() if lower else value
            if kind is not None:
                spans.append(Span(start + len(text), start + len(text) + len(value), kind))
            text += value
    return text, spans


def plant_identifiers(notes, seed=0, per_note=(1, 3), held_out=False):
    """Insert ``per_note`` (a range, both ends included) identifier sentences into each note.

    ``held_out`` draws the sentences from templates the de-identifier's rules were not written
    against (new cue words, other word orders), for an honest measure of how it generalises.
    Returns ``(texts, spans)``: the new notes, and for each a list of
    :class:`~tinymed.privacy.deid.Span` (start, end, kind) with kind one of ``"NAME"``,
    ``"DATE"``, ``"ID"`` (record numbers) and ``"PHONE"``.
    """
    if isinstance(notes, str):
        raise TypeError("plant_identifiers: notes must be a sequence of strings, got one string")
    low, high = per_note
    if not 0 <= low <= high:
        raise ValueError(f"plant_identifiers: per_note must be a pair (low, high) with 0 <= low <= high, "
                         f"got {per_note}")
    rng = np.random.default_rng(seed)
    texts, all_spans = [], []
    for note in notes:
        sentences = [s for s in str(note).split(". ") if s]
        for _ in range(int(rng.integers(low, high + 1))):
            sentences.insert(int(rng.integers(0, len(sentences) + 1)), None)
        text, spans = "", []
        for sentence in sentences:
            text += ". " if text else ""
            if sentence is None:
                sentence, planted = _sentence(rng, len(text), _HELD_OUT_TEMPLATES if held_out else _TEMPLATES)
                spans += planted
            text += sentence
        texts.append(text if text.endswith(".") else text + ".")
        all_spans.append(spans)
    return texts, all_spans
