"""Synthetic short clinical notes (text classification), free-text medication orders (sequence
to sequence), and a small word tokenizer with a vocabulary.

Everything is generated from templates and word lists written for tinymed -- no patient
text.  The notes are English admission summaries like

    "78 year old woman admitted with productive cough and fever. history of heart failure.
     crackles at the right base. chest x-ray shows consolidation. denies chest pain."

They are deliberately not separable by single keywords: symptoms are shared between
diagnoses (fever, breathlessness, confusion, crackles), other diagnoses appear in the past
history, findings are negated ("no ankle swelling"), and many notes carry only part of
the picture.  Measured figures are in :func:`clinical_notes`.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .dataset import Dataset, describe

DIAGNOSES = ("pneumonia", "heart failure", "urinary tract infection", "stroke")

# Per diagnosis: symptoms, examination findings, investigations and treatment phrases.
_FINDINGS = {
    "pneumonia": dict(
        symptoms=["productive cough", "fever", "pleuritic chest pain", "shortness of breath", "rigors",
                  "green sputum", "cough for three days"],
        exam=["crackles at the right base", "crackles at the left base", "bronchial breathing",
              "dull to percussion at the base", "reduced air entry on the right"],
        tests=["chest x-ray shows consolidation", "raised white cell count", "crp 180",
               "right lower lobe consolidation on x-ray", "sputum culture sent"],
        plan=["started on amoxicillin", "started on co-amoxiclav and clarithromycin", "oxygen via nasal cannula",
              "curb-65 score of 2"]),
    "heart failure": dict(
        symptoms=["shortness of breath on exertion", "orthopnoea", "ankle swelling", "weight gain of 4 kg",
                  "paroxysmal nocturnal dyspnoea", "needs three pillows at night", "shortness of breath"],
        exam=["bibasal crackles", "raised jvp", "pitting oedema to the knees", "third heart sound",
              "crackles at both bases"],
        tests=["bnp markedly raised", "chest x-ray shows pulmonary oedema", "echo shows reduced ejection fraction",
               "cardiomegaly on x-ray", "bilateral pleural effusions"],
        plan=["iv furosemide given", "fluid restriction advised", "daily weights", "started on bisoprolol"]),
    "urinary tract infection": dict(
        symptoms=["dysuria", "urinary frequency", "suprapubic pain", "fever", "new confusion",
                  "foul smelling urine", "burning on passing urine"],
        exam=["suprapubic tenderness", "loin tenderness", "tender right flank", "catheter in situ"],
        tests=["urine dipstick positive for nitrites and leucocytes", "urine culture sent", "raised crp",
               "raised white cell count", "e coli in urine"],
        plan=["started on nitrofurantoin", "started on trimethoprim", "iv fluids", "catheter changed"]),
    "stroke": dict(
        symptoms=["sudden weakness of the left arm", "sudden weakness of the right arm", "facial droop",
                  "slurred speech", "difficulty finding words", "loss of vision in one eye", "new confusion"],
        exam=["reduced power in the left arm", "reduced power in the right arm", "upgoing plantar",
              "left sided facial weakness", "expressive dysphasia"],
        tests=["ct head shows an infarct", "mri shows restricted diffusion", "ct angiogram shows occlusion",
               "atrial fibrillation on ecg", "nihss score of 8"],
        plan=["thrombolysis given", "aspirin 300 mg", "admitted to the stroke unit", "swallow assessment"]),
}

_HISTORY = ["hypertension", "type 2 diabetes", "copd", "atrial fibrillation", "chronic kidney disease",
            "heart failure", "previous stroke", "recurrent urinary tract infections", "pneumonia last winter",
            "asthma", "dementia", "ischaemic heart disease"]
_NEGATABLE = ["chest pain", "fever", "ankle swelling", "cough", "headache", "focal weakness", "dysuria",
              "shortness of breath", "confusion", "vomiting", "calf swelling", "speech disturbance"]
_OPENINGS = ["admitted with", "presents with", "brought in with", "referred with", "complains of"]
_NEGATIONS = ["no {}", "denies {}", "no history of {}", "{} not present"]


def _join(items):
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_SHARED = ["fever", "shortness of breath", "new confusion", "fatigue", "reduced mobility", "a fall at home",
           "feeling generally unwell", "raised crp", "crackles at the bases", "tachycardia"]


def _negation(rng, label, present):
    """A negated finding -- often one that *another* diagnosis would have (a keyword trap) --
    that the note does not also report as present."""
    while True:
        if rng.random() < 0.6:
            other = DIAGNOSES[(label + rng.integers(1, len(DIAGNOSES))) % len(DIAGNOSES)]
            term = str(rng.choice(_FINDINGS[other]["symptoms"] + _FINDINGS[other]["exam"]))
        else:
            term = str(rng.choice(_NEGATABLE))
        if not any(term in p or p in term for p in present):
            return str(rng.choice(_NEGATIONS)).format(term)


def _note(rng, label):
    findings = _FINDINGS[DIAGNOSES[label]]
    age = int(np.clip(rng.normal(72, 13), 18, 99))
    sex = rng.choice(["man", "woman", "male", "female", "gentleman", "lady"])
    vague = rng.random() < 0.12  # only non-specific complaints: no diagnosis can be read off
    own = [] if vague else list(rng.choice(findings["symptoms"], size=rng.integers(1, 3), replace=False))
    shared = list(rng.choice(_SHARED, size=rng.integers(0 if own else 1, 3), replace=False))
    symptoms = list(dict.fromkeys(own + shared))
    order = rng.permutation(len(symptoms))
    sentences = [f"{age} year old {sex} {rng.choice(_OPENINGS)} {_join([symptoms[i] for i in order])}"]
    if rng.random() < 0.7:
        history = rng.choice(_HISTORY, size=rng.integers(1, 3), replace=False)
        sentences.append(f"{rng.choice(['history of', 'background of', 'pmh'])} {_join(list(history))}")
    if not vague:
        for part, chance in (("exam", 0.45), ("tests", 0.4), ("plan", 0.3)):
            if rng.random() < chance:
                sentences.append(str(rng.choice(findings[part])))
    for _ in range(rng.integers(0, 4)):
        sentences.append(_negation(rng, label, symptoms))
    head, rest = sentences[0], sentences[1:]
    order = rng.permutation(len(rest))
    return ". ".join([head] + [rest[i] for i in order]) + "."


def clinical_notes(n: int, seed=0) -> Dataset:
    """Generate ``n`` short admission notes, each labelled with one of :data:`DIAGNOSES`.

    Returns a :class:`~tinymed.data.dataset.Dataset`: ``X`` an object array of ``n`` strings,
    ``y`` int64 ``(n,)`` in ``0..3``, classes balanced in expectation.  The same ``seed``
    gives the same notes.  Tokenize with :class:`Tokenizer`.

    Measured by ``tests/test_sequence_data.py`` (2000 training notes with seed 1, 1000 test
    notes with seed 2): always answering the most common class **0.25**; a keyword rule
    (the diagnosis whose word list shares most words with the note) **0.73**; softmax
    regression on word counts (bag of words) **0.76** (about 0.79 with an L2 penalty tuned
    on validation notes).  Lesson 08's GRU with attention pooling, which reads the words in
    order and so can tell "ankle swelling" from "no ankle swelling", reaches about 0.86.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"clinical_notes: n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(DIAGNOSES), n).astype(np.int64)
    X = np.array([_note(rng, int(label)) for label in y], dtype=object)
    description = describe("Synthetic clinical admission notes", "generated by tinymed.data.notes (templates)",
                           "none needed (synthetic)", X, y, DIAGNOSES,
                           "X holds one English note per row (str); tokenize with tinymed.data.Tokenizer")
    return Dataset(X, y, description, class_names=DIAGNOSES)


# ----- tokenizer and vocabulary ---------------------------------------------------------------
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[^\sa-z\d]")


class Vocabulary:
    """Tokens <-> integer ids.  The special tokens come first: ``<pad>`` = 0, ``<unk>`` = 1,
    ``<bos>`` = 2, ``<eos>`` = 3 (the defaults of :class:`tinymed.nn.Seq2Seq`).

    ``vocab[token]`` is the token's id (``unk_idx`` for a token never seen);
    ``vocab.lookup_token(i)`` the token of id ``i``; ``len(vocab)`` the number of tokens.
    """

    PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"

    def __init__(self, tokens=()):
        self.itos = [self.PAD, self.UNK, self.BOS, self.EOS]
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        for token in tokens:
            if token not in self.stoi:
                self.stoi[token] = len(self.itos)
                self.itos.append(token)

    pad_idx, unk_idx, bos_idx, eos_idx = 0, 1, 2, 3

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        return self.stoi.get(token, self.unk_idx)

    def lookup_token(self, index: int) -> str:
        if not 0 <= index < len(self.itos):
            raise IndexError(f"Vocabulary: id {index} is out of range [0, {len(self.itos)})")
        return self.itos[index]

    def __repr__(self):
        return f"Vocabulary({len(self)} tokens)"


class Tokenizer:
    """Lower-cases and splits text into words, numbers and punctuation; maps them to ids.

    ``Tokenizer(min_freq=1, max_size=None).fit(texts)`` builds :attr:`vocab` from the
    tokens that occur at least ``min_freq`` times (the ``max_size`` most frequent, ties in
    order of first appearance).  ``encode`` turns texts into a padded int64 array,
    ``decode`` turns ids back into text (unknown words come back as ``<unk>``).

    >>> tok = Tokenizer().fit(["fever and cough", "cough"])
    >>> tok.encode(["cough", "new fever"])
    array([[4, 0],
           [1, 5]])
    >>> tok.decode([1, 5])
    '<unk> fever'
    """

    def __init__(self, min_freq: int = 1, max_size=None):
        if min_freq < 1:
            raise ValueError(f"Tokenizer: min_freq must be >= 1, got {min_freq}")
        self.min_freq, self.max_size = min_freq, max_size
        self.vocab = None

    @staticmethod
    def tokenize(text: str) -> list:
        if not isinstance(text, str):
            raise TypeError(f"Tokenizer.tokenize: expected a str, got {type(text).__name__}")
        return _TOKEN.findall(text.lower())

    def fit(self, texts):
        counts = Counter()
        for text in _texts("fit", texts):
            counts.update(self.tokenize(text))
        kept = [t for t, c in counts.items() if c >= self.min_freq]  # Counter keeps first-seen order
        kept.sort(key=lambda t: -counts[t])
        if self.max_size is not None:
            kept = kept[:max(0, self.max_size - 4)]
        self.vocab = Vocabulary(kept)
        return self

    def _require_vocab(self, what):
        if self.vocab is None:
            raise RuntimeError(f"Tokenizer.{what}: call fit(texts) first")
        return self.vocab

    def encode(self, texts, max_len=None, add_bos: bool = False, add_eos: bool = False):
        """Ids of each text, padded at the end with ``<pad>`` (0) to the longest text or cut to
        ``max_len``.  A single string gives a 1-D array, a list of them a 2-D array (n, length)."""
        vocab = self._require_vocab("encode")
        single = isinstance(texts, str)
        rows = []
        for text in _texts("encode", [texts] if single else texts):
            ids = [vocab[t] for t in self.tokenize(text)]
            ids = ([vocab.bos_idx] if add_bos else []) + ids + ([vocab.eos_idx] if add_eos else [])
            rows.append(ids if max_len is None else ids[:max_len])
        width = max([len(r) for r in rows] + [1]) if max_len is None else max_len
        out = np.full((len(rows), width), vocab.pad_idx, dtype=np.int64)
        for i, ids in enumerate(rows):
            out[i, :len(ids)] = ids
        return out[0] if single else out

    def decode(self, ids, skip_special: bool = True):
        """Text of a 1-D id sequence (stops at ``<eos>``; drops ``<pad>``/``<bos>`` when
        ``skip_special``), or a list of texts for a 2-D array."""
        vocab = self._require_vocab("decode")
        arr = np.asarray(ids)
        if arr.ndim == 2:
            return [self.decode(row, skip_special) for row in arr]
        if arr.ndim != 1:
            raise ValueError(f"Tokenizer.decode: expected a 1-D or 2-D array of ids, got shape {arr.shape}")
        words = []
        for i in arr.tolist():
            if i == vocab.eos_idx and skip_special:
                break
            if skip_special and i in (vocab.pad_idx, vocab.bos_idx):
                continue
            words.append(vocab.lookup_token(int(i)))
        return " ".join(words)


def _texts(what, texts):
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"Tokenizer.{what}: texts[{i}] is a {type(t).__name__}, expected str")
    return texts


# ----- free-text medication orders -> canonical form (lesson 09) ----------------------------------
# drug: (names that mean it, doses in mg, routes, canonical frequencies)
_DRUGS = {
    "amoxicillin": (["amoxicillin", "amoxil"], [250, 500, 1000], ["PO"], ["TID"]),
    "paracetamol": (["paracetamol", "acetaminophen", "panadol"], [500, 1000], ["PO", "IV"], ["QID", "Q6H"]),
    "ibuprofen": (["ibuprofen", "nurofen"], [200, 400], ["PO"], ["TID"]),
    "metformin": (["metformin"], [500, 850, 1000], ["PO"], ["BID", "QD"]),
    "atorvastatin": (["atorvastatin", "lipitor"], [10, 20, 40, 80], ["PO"], ["QD"]),
    "omeprazole": (["omeprazole"], [20, 40], ["PO", "IV"], ["QD", "BID"]),
    "furosemide": (["furosemide", "frusemide", "lasix"], [20, 40, 80], ["PO", "IV"], ["QD", "BID"]),
    "ramipril": (["ramipril"], [2.5, 5, 10], ["PO"], ["QD"]),
    "enoxaparin": (["enoxaparin", "clexane"], [40, 80], ["SC"], ["QD", "BID"]),
    "morphine": (["morphine", "oramorph"], [5, 10], ["PO", "SC", "IV"], ["Q4H"]),
    "ceftriaxone": (["ceftriaxone"], [1000, 2000], ["IV"], ["QD"]),
}
_NUMBER_WORDS = {2.5: "two and a half", 5: "five", 10: "ten", 20: "twenty", 40: "forty", 80: "eighty",
                 200: "two hundred", 250: "two hundred and fifty", 400: "four hundred", 500: "five hundred",
                 850: "eight hundred and fifty", 1000: "one thousand", 2000: "two thousand"}
_GRAMS = {250: ["0.25 g"], 500: ["0.5 g", "half a gram", "0.5g"], 1000: ["1 g", "1g", "one gram"],
          2000: ["2 g", "2g", "two grams"]}
_ROUTES = {"PO": ["po", "p.o.", "by mouth", "orally", "oral"],
           "IV": ["iv", "i.v.", "intravenously", "intravenous"],
           "SC": ["sc", "subcut", "subcutaneously", "s/c"]}
_FREQUENCIES = {"QD": ["once daily", "once a day", "od", "daily", "every day", "qd"],
                "BID": ["twice daily", "twice a day", "bd", "bid", "every 12 hours", "q12h"],
                "TID": ["three times daily", "three times a day", "tds", "tid", "every 8 hours", "q8h"],
                "QID": ["four times daily", "four times a day", "qds", "qid"],
                "Q6H": ["every 6 hours", "q6h", "six hourly"],
                "Q4H": ["every 4 hours", "q4h", "four hourly"]}
_ORDER_TEMPLATES = ["{drug} {dose} {route} {freq}", "{drug} {dose} {freq} {route}", "give {drug} {dose} {route} {freq}",
                    "{dose} of {drug} {route} {freq}", "take {dose} {drug} {freq} {route}", "{drug} {dose} {freq}",
                    "{drug} {route} {dose} {freq}", "please give {dose} {drug} {freq}"]


def _number(value):
    return f"{value:g}"


def _dose_text(rng, mg):
    choices = [f"{_number(mg)} mg", f"{_number(mg)}mg", f"{_number(mg)} milligrams"]
    if mg in _NUMBER_WORDS:
        choices.append(f"{_NUMBER_WORDS[mg]} milligrams")
    choices += _GRAMS.get(mg, [])
    return str(rng.choice(choices))


def medication_orders(n: int, seed=0) -> Dataset:
    """``n`` free-text medication orders and their canonical form.

    ``X[i]`` is what a clinician might type ("give lasix forty milligrams iv twice a day",
    "1g of paracetamol orally q6h"); ``y[i]`` its normalised form
    ``"<drug> <dose> mg <route> <frequency>"`` ("furosemide 40 mg IV BID",
    "paracetamol 1000 mg PO Q6H"): generic drug name, dose in mg, route and frequency as
    standard abbreviations; an order that names no route means by mouth (PO).
    Both are object arrays of strings.
    """
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"medication_orders: n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(seed)
    names = list(_DRUGS)
    X, y = [], []
    for _ in range(n):
        drug = names[rng.integers(len(names))]
        aliases, doses, routes, freqs = _DRUGS[drug]
        mg, route = doses[rng.integers(len(doses))], routes[rng.integers(len(routes))]
        freq = freqs[rng.integers(len(freqs))]
        template = str(rng.choice(_ORDER_TEMPLATES))
        if "{route}" not in template and route != "PO":
            template = "{drug} {dose} {route} {freq}"
        text = template.format(drug=rng.choice(aliases), dose=_dose_text(rng, mg),
                               route=rng.choice(_ROUTES[route]), freq=rng.choice(_FREQUENCIES[freq]))
        X.append(text)
        y.append(f"{drug} {_number(mg)} mg {route} {freq}")
    X, y = np.array(X, dtype=object), np.array(y, dtype=object)
    return Dataset(X, y, "Synthetic free-text medication orders and their canonical form\n"
                         "source:  generated by tinymed.data.notes (templates)\nlicence: none needed (synthetic)\n"
                         f"X: {n} free-text orders (str)    y: {n} canonical orders (str)")
