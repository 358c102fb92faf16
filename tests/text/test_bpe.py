"""BPETokenizer: exact round trips of any Unicode text, deterministic training, special tokens,
padded batches, JSON files, and clear errors for bad input."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tinymed.data import clinical_corpus
from tinymed.text import SPECIAL_TOKENS, BPETokenizer, split_chunks

CORPUS = clinical_corpus(120, seed=3)


@pytest.fixture(scope="module")
def tokenizer():
    return BPETokenizer.train(list(CORPUS.X), vocab_size=700)


texts_with_special_tokens = st.lists(st.one_of(st.text(), st.sampled_from(SPECIAL_TOKENS))).map("".join)


@given(st.text())
def test_chunks_join_to_the_text(text):
    assert "".join(split_chunks(text)) == text


@given(texts_with_special_tokens)
def test_any_text_round_trips(tokenizer, text):
    ids = tokenizer.encode(text)
    assert all(isinstance(i, int) and 0 <= i < tokenizer.vocab_size for i in ids)
    assert tokenizer.decode(ids) == text


def test_clinical_documents_round_trip_in_both_languages(tokenizer):
    test = clinical_corpus(40, seed=4)
    assert set(test.language) == {"en", "zh"}
    for document in test.X:
        assert tokenizer.decode(tokenizer.encode(document)) == document


def test_bpe_compresses_chinese_and_english(tokenizer):
    for language in ("en", "zh"):
        documents = [d for d, lang in zip(CORPUS.X, CORPUS.language) if lang == language]
        n_bytes = sum(len(d.encode()) for d in documents)
        n_tokens = sum(len(tokenizer.encode(d)) for d in documents)
        assert n_tokens < 0.6 * n_bytes, language


def test_training_is_deterministic_and_ignores_the_order_of_texts(backend):
    texts = list(CORPUS.X[:60])
    first = BPETokenizer.train(texts, 400).merges
    np.testing.assert_array_equal(BPETokenizer.train(texts, 400).merges, first)
    np.testing.assert_array_equal(BPETokenizer.train(texts[::-1], 400).merges, first)


def test_every_backend_learns_the_same_merges():
    texts = list(CORPUS.X[:60])
    merges = []
    for name in tinymed.available():
        with tinymed.using(name):
            merges.append(BPETokenizer.train(texts, 450).merges)
    for other in merges[1:]:
        np.testing.assert_array_equal(other, merges[0])


def test_ties_go_to_the_smallest_pair():
    tok = BPETokenizer.train(["cd", "ab"], vocab_size=256 + len(SPECIAL_TOKENS) + 1)
    np.testing.assert_array_equal(tok.merges, [[ord("a"), ord("b")]])


def test_ids_are_bytes_then_merges_then_special_tokens(tokenizer):
    n_merges = len(tokenizer.merges)
    assert tokenizer.vocab_size == len(tokenizer) == 256 + n_merges + len(SPECIAL_TOKENS) == 700
    for k, token in enumerate(SPECIAL_TOKENS):
        assert tokenizer.token_to_id(token) == 256 + n_merges + k
        assert tokenizer.id_to_token(256 + n_merges + k) == token
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.mask_token_id, tokenizer.cls_token_id,
            tokenizer.sep_token_id) == tuple(256 + n_merges + k for k in range(5))
    assert tokenizer.encode("a") == [ord("a")] and tokenizer.decode([0xE8, 0x82, 0xBA]) == "肺"


def test_special_tokens_are_never_split_and_never_learned():
    text = "[CLS] no evidence of pneumonia [SEP][PAD][PAD]<|endoftext|>"
    tok = BPETokenizer.train([text] * 20, vocab_size=300)
    ids = tok.encode(text)
    assert ids[0] == tok.cls_token_id and ids[-4:] == [tok.sep_token_id, tok.pad_token_id, tok.pad_token_id,
                                                        tok.eos_token_id]
    assert tok.merges.max() < 256 + len(tok.merges)  # merges join bytes and merges only
    learned = {tok.token_bytes(i) for i in range(256, 256 + len(tok.merges))}
    assert not any(b"[" in t or b"]" in t or b"<|" in t for t in learned)
    assert BPETokenizer.train(["[SEP]" * 50, "[MASK][PAD]"], vocab_size=300).merges.shape == (0, 2)


def test_tokens_are_shown_as_printable_text(tokenizer):
    ids = tokenizer.encode(" pneumonia")
    assert "".join(tokenizer.id_to_token(i) for i in ids) == "Ġpneumonia"
    for i in range(tokenizer.vocab_size):
        assert tokenizer.token_to_id(tokenizer.id_to_token(i)) <= i  # the lowest id of the same bytes
    assert tokenizer.id_to_token(tokenizer.vocab_size) is None and tokenizer.token_to_id("no such token") is None


def test_skip_special_tokens(tokenizer):
    ids = tokenizer.encode("[CLS]fever[SEP]")
    assert tokenizer.decode(ids, skip_special_tokens=True) == "fever"


def test_encode_batch_pads_and_masks(tokenizer):
    texts = ["fever", "no evidence of pneumonia", ""]
    batch = tokenizer.encode_batch(texts)
    ids, mask = batch["input_ids"], batch["attention_mask"]
    lengths = [len(tokenizer.encode(t)) for t in texts]
    assert ids.shape == mask.shape == (3, max(lengths)) and ids.dtype == mask.dtype == np.int64
    assert mask.sum(axis=1).tolist() == lengths
    assert (ids[mask == 0] == tokenizer.pad_token_id).all()
    for row, m, text in zip(ids, mask, texts):
        assert tokenizer.decode(row[m == 1]) == text
    bert = tokenizer.encode_batch(texts, max_length=4, add_special_tokens=True)["input_ids"]
    assert bert.shape[1] == 4 and (bert[:, 0] == tokenizer.cls_token_id).all()
    assert bert[1, 3] == tokenizer.sep_token_id and bert[2, :2].tolist() == [tokenizer.cls_token_id,
                                                                          tokenizer.sep_token_id]
    assert tokenizer.encode_batch([])["input_ids"].shape == (0, 0)


def test_save_and_load_as_json(tokenizer, tmp_path):
    path = tokenizer.save(tmp_path / "tok.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["special_tokens"] == list(SPECIAL_TOKENS) and len(document["merges"]) == len(tokenizer.merges)
    loaded = BPETokenizer.load(path)
    np.testing.assert_array_equal(loaded.merges, tokenizer.merges)
    text = CORPUS.X[0] + "[MASK]"
    assert loaded.encode(text) == tokenizer.encode(text)


@pytest.mark.parametrize("content, message", [
    (b"\x80\x81 not text", "not a JSON file"),
    (b'{"format": "tinymed-bpe-tokenizer", "merges": [[1, 2]', "not a JSON file"),
    (b'{"model": {"type": "BPE"}}', "not a tinymed BPE tokenizer"),
    (b"[1, 2, 3]", "not a tinymed BPE tokenizer"),
    (b'{"format": "tinymed-bpe-tokenizer", "version": 99}', "version 99"),
    (b'{"format": "tinymed-bpe-tokenizer", "version": 1, "pattern": "\\\\w+"}', "another pre-tokenization"),
])
def test_a_file_that_is_not_a_tokenizer_is_refused(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        BPETokenizer.load(path)


def test_a_tokenizer_file_with_bad_merges_or_special_tokens_is_refused(tokenizer, tmp_path):
    path = tokenizer.save(tmp_path / "tok.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    for key, value, message in [("merges", [[1, 2], [300, 3]], "merge 1 joins"), ("merges", [[1, 2, 3]], "shape"),
                                ("merges", [["a", "b"]], "integer"), ("special_tokens", [""], "non-empty"),
                                ("special_tokens", ["[PAD]", "[PAD]"], "distinct")]:
        path.write_text(json.dumps({**document, key: value}), encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            BPETokenizer.load(path)
    path.write_text(json.dumps({k: v for k, v in document.items() if k != "merges"}), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        BPETokenizer.load(path)


def test_bad_input_gets_a_clear_error(tokenizer):
    with pytest.raises(TypeError, match="BPETokenizer.encode: expected a str, got int"):
        tokenizer.encode(12)
    with pytest.raises(ValueError, match="lone surrogate"):
        tokenizer.encode("fever \ud800")
    with pytest.raises(TypeError, match="single str"):
        tokenizer.encode_batch("fever")
    with pytest.raises(TypeError, match=r"texts\[1\] is a bytes"):
        tokenizer.encode_batch(["fever", b"cough"])
    with pytest.raises(ValueError, match="max_length"):
        tokenizer.encode_batch(["fever"], max_length=2, add_special_tokens=True)
    with pytest.raises(ValueError, match=r"id 700 is out of range \[0, 700\)"):
        tokenizer.decode([1, 700])
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        tokenizer.decode([1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        tokenizer.decode([[1, 2]])
    with pytest.raises(ValueError, match="vocab_size must be an integer of at least 261"):
        BPETokenizer.train(["fever"], vocab_size=100)
    with pytest.raises(TypeError, match="single str"):
        BPETokenizer.train("fever and cough", vocab_size=300)
    with pytest.raises(TypeError, match="special_tokens must be a list"):
        BPETokenizer.train(["fever"], vocab_size=300, special_tokens="[PAD]")
    with pytest.raises(ValueError, match=r"'\[PAD\]'"):
        BPETokenizer(special_tokens=["[CLS]", "[SEP]"]).encode_batch(["fever"])


def test_compresses_as_hugging_face_byte_level_bpe():
    tokenizers = pytest.importorskip("tokenizers", reason="Hugging Face tokenizers is not installed "
                                                          "(pip install tokenizers)")
    texts = list(CORPUS.X)
    ours = BPETokenizer.train(texts, vocab_size=700)
    theirs = tokenizers.Tokenizer(tokenizers.models.BPE())
    theirs.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    theirs.train_from_iterator(texts, tokenizers.trainers.BpeTrainer(
        vocab_size=700, special_tokens=list(SPECIAL_TOKENS), show_progress=False,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet()))
    assert theirs.get_vocab_size() == ours.vocab_size
    held_out = clinical_corpus(60, seed=4)
    for language in ("en", "zh"):
        documents = [d for d, lang in zip(held_out.X, held_out.language) if lang == language]
        n_ours = sum(len(ours.encode(d)) for d in documents)
        n_theirs = sum(len(theirs.encode(d).ids) for d in documents)
        assert abs(n_ours - n_theirs) <= 0.03 * n_theirs, (language, n_ours, n_theirs)
