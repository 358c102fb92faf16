"""tinymed.data.clinical_corpus: deterministic, sized as stated, in both languages, and labelled so
that the labels follow from the text -- with negation deciding the pneumonia status."""

import re

import numpy as np
import pytest

from tinymed.data import ClinicalCorpus, clinical_corpus
from tinymed.data.clinical_corpus import (
    CONDITIONS,
    DEFAULT_KINDS,
    DIAGNOSES,
    DIAGNOSES_ZH,
    FINDING_VARIANTS,
    KINDS,
    LABS,
    PNEUMONIA_STATUS,
)

CORPUS = clinical_corpus(900, seed=5)
HAN = re.compile(r"[\u4e00-\u9fff]")
NEGATED = re.compile(r"no evidence of pneumonia|pneumonia was excluded|pneumonia was considered unlikely|"
                     r"no features of pneumonia|未见肺炎|排除肺炎|不支持肺炎|无肺炎表现", re.IGNORECASE)


def test_the_same_seed_gives_the_same_corpus():
    again = clinical_corpus(900, seed=5)
    assert list(again.X) == list(CORPUS.X)
    for name in ("y", "pneumonia", "language", "kind"):
        np.testing.assert_array_equal(getattr(again, name), getattr(CORPUS, name))
    assert list(clinical_corpus(50, seed=6).X) != list(CORPUS.X[:50])


def test_shapes_types_and_every_label_value():
    assert isinstance(CORPUS, ClinicalCorpus)
    X, y = CORPUS
    assert X.shape == y.shape == CORPUS.pneumonia.shape == (900,) and X.dtype == object and y.dtype == np.int64
    assert all(isinstance(doc, str) and len(doc) > 30 for doc in X)
    assert set(y.tolist()) == set(range(len(DIAGNOSES)))
    assert set(CORPUS.pneumonia.tolist()) == set(range(len(PNEUMONIA_STATUS)))
    assert set(CORPUS.kind) == set(DEFAULT_KINDS) and set(CORPUS.language) == {"en", "zh"}
    assert CORPUS.class_names == DIAGNOSES and "no real patient" in CORPUS.description
    assert clinical_corpus(0).X.shape == (0,)


def test_both_languages_or_one():
    is_chinese = np.array([bool(HAN.search(doc)) for doc in CORPUS.X])
    np.testing.assert_array_equal(is_chinese, CORPUS.language == "zh")
    assert 0.4 < is_chinese.mean() < 0.6
    assert not any(HAN.search(doc) for doc in clinical_corpus(60, language="en").X)
    assert all(HAN.search(doc) for doc in clinical_corpus(60, language="zh").X)


def test_the_full_corpus_is_a_few_megabytes():
    full = clinical_corpus()
    assert len(full.X) == 8000
    assert 2e6 < sum(len(doc.encode("utf-8")) for doc in full.X) < 6e6


def test_the_pneumonia_status_is_what_the_text_says():
    for doc, status in zip(CORPUS.X, CORPUS.pneumonia):
        mentioned = "pneumonia" in doc.lower() or "肺炎" in doc
        assert mentioned == (status != 0), doc
        assert bool(NEGATED.search(doc)) == (status == 2), doc
    assert (CORPUS.pneumonia[CORPUS.y == 0] == 1).all()  # a pneumonia is always present in its own documents
    assert (CORPUS.pneumonia[CORPUS.y != 0] == 1).any()  # and sometimes beside another diagnosis


def test_negation_matters():
    # the word alone is wrong about a third of the time; the word read with its negation never is
    present = CORPUS.pneumonia == 1
    keyword = np.array(["pneumonia" in doc.lower() or "肺炎" in doc for doc in CORPUS.X])
    assert 0.55 < (keyword == present).mean() < 0.8
    with_negation = keyword & ~np.array([bool(NEGATED.search(doc)) for doc in CORPUS.X])
    assert (with_negation == present).all()


def test_a_diagnosis_named_in_a_document_is_often_not_its_diagnosis():
    # condition names come up in histories and ruled-out differentials, so naming is not diagnosing
    names = [("heart failure", "心力衰竭"), ("pulmonary embolism", "肺栓塞"), ("stroke", "脑卒中")]
    for k, (english, chinese) in zip((1, 5, 4), names):
        named = np.array([english in doc.lower() or chinese in doc for doc in CORPUS.X])
        assert 0.2 < (CORPUS.y[named] != k).mean() < 0.9, english


def test_subset_keeps_documents_and_labels_together():
    part = CORPUS.subset(CORPUS.language == "en")
    assert set(part.language) == {"en"} and len(part.X) == len(part.y) == len(part.pneumonia) == len(part.kind)
    np.testing.assert_array_equal(part.y, CORPUS.y[CORPUS.language == "en"])


def test_kinds_are_drawn_evenly_from_those_asked_for():
    mixed = clinical_corpus(600, seed=7, kinds=("triage note", "radiology report"))
    assert set(mixed.kind) == {"triage note", "radiology report"}
    assert 0.4 < (mixed.kind == "triage note").mean() < 0.6
    assert "(triage notes, radiology reports; English and Chinese)" in mixed.description
    assert set(clinical_corpus(20, seed=7, kinds="progress note").kind) == {"progress note"}
    assert set(DEFAULT_KINDS) < set(KINDS) and "triage note" not in DEFAULT_KINDS


def test_a_triage_note_holds_only_what_the_patient_arrived_with():
    triage = clinical_corpus(600, seed=8, kinds=("triage note",), phrasing="varied")
    lab_names = [name for names, *_ in LABS.values() for name in names]
    for doc in triage.X:
        assert doc.startswith(("TRIAGE NOTE\n", "分诊记录\n")), doc
        # no condition named (but in the history of comorbidities), no number but the age, no result
        presentation = re.split(r"Known |既往", doc)[0]
        assert not any(name in presentation for name in DIAGNOSES_ZH + (
            "pneumonia", "heart failure", "COPD", "urinary tract", "stroke", "embolism")), doc
        assert not any(name in doc for name in lab_names if len(name) > 2), doc
        assert len(_numbers(doc)) == 1, doc
    assert (triage.pneumonia == 0).all() and set(triage.y.tolist()) == set(range(len(DIAGNOSES)))
    assert np.median([len(doc) for doc in triage.X[triage.language == "en"]]) < 200


# phrases with digits in them that are not numbers of the patient's
WORDS_WITH_DIGITS = [text for ways in FINDING_VARIANTS.values() for way in ways for text in way
                     if re.search(r"\d", text)]
WORDS_WITH_DIGITS += ["type 2 diabetes", "2型糖尿病", "ejection fraction 30 percent", "射血分数30%"]


def _numbers(doc):
    for words in WORDS_WITH_DIGITS:
        doc = doc.replace(words, "")
    return re.findall(r"\d+(?:\.\d+)?", doc)


def _variants_in(docs, lang):
    """How often each way of writing a finding occurs in ``docs``."""
    counts = {}
    for ways in FINDING_VARIANTS.values():
        for way in ways:
            counts[way[lang]] = sum(way[lang] in doc for doc in docs)
    return counts


def test_varied_phrasing_writes_findings_every_way_and_plain_phrasing_one_way():
    # the first way of each finding is the plain one, the one the condition lists
    for condition in CONDITIONS:
        for finding in condition["symptoms"] + condition["signs"]:
            assert FINDING_VARIANTS[finding[0]][0] == finding
    plain_only = {way[0] for ways in FINDING_VARIANTS.values() for way in ways[1:]
                  if not any(way[0] in other[0] for ways2 in FINDING_VARIANTS.values() for other in ways2[:1])}
    english = dict(language="en", kinds=KINDS, seed=9)
    plain = _variants_in(clinical_corpus(1500, phrasing="plain", **english).X, 0)
    varied = _variants_in(clinical_corpus(1500, phrasing="varied", **english).X, 0)
    assert all(plain[way] == 0 for way in plain_only)
    assert all(varied[way] > 0 for way in varied), [way for way in varied if varied[way] == 0]
    assert sum(varied.values()) > 0.9 * sum(plain.values())  # as many findings, written in more ways


def test_varied_phrasing_keeps_the_labels_and_the_layout():
    plain = clinical_corpus(300, seed=10, phrasing="plain")
    varied = clinical_corpus(300, seed=10, phrasing="varied")
    for name in ("y", "language", "kind"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(varied, name))
    assert "phrasing='varied'" in varied.description
    np.testing.assert_array_equal(plain.pneumonia, varied.pneumonia)
    assert sum(a != b for a, b in zip(plain.X, varied.X)) > 200
    # the same documents: only the findings' words differ, so every number (ages, results, doses) agrees
    for a, b in zip(plain.X, varied.X):
        assert _numbers(a) == _numbers(b), (a, b)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=-1), "n must be a non-negative integer"), (dict(n=2.5), "n must be"), (dict(n=True), "n must be"),
    (dict(n=3, language="fr"), "language must be 'en', 'zh' or 'both'"),
    (dict(n=3, phrasing="fancy"), "phrasing must be 'plain' or 'varied', got 'fancy'"),
    (dict(n=3, kinds=("triage",)), "kinds must be a non-empty sequence of"),
    (dict(n=3, kinds=()), "kinds must be a non-empty sequence of"),
    (dict(n=3, kinds=3), "kinds must be a non-empty sequence of .* got 3$"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        clinical_corpus(**kwargs)
