# %% [markdown]
# # Lesson 14 — Tokenization
# Byte-pair encoding from scratch: the merges step by step, English against Chinese (bytes, characters, tokens), how the vocabulary size sets the sequence length, special tokens, and an exact round trip.
#
# A language model reads integers, not text.  A *tokenizer* turns text into a sequence of ids from
# a fixed vocabulary and back.  GPT and BERT (article 000 §2; article 003 §2.2) both start with one,
# and its choices matter: the model's cost grows with the length of the sequence, and a word the
# vocabulary cannot spell is lost to it.
#
# Byte-pair encoding (BPE; Gage 1994, used for words by Sennrich et al. 2016, over bytes by GPT-2)
# starts from the 256 possible bytes -- so it can spell *anything* -- and learns a vocabulary from a
# corpus by repeating one step:
#
# $$\text{count}(a, b) = \sum_{\text{chunks } k} w_k\, \#\{i : (s_{k,i}, s_{k,i+1}) = (a, b)\},
# \qquad (a^*, b^*) = \arg\max_{(a, b)} \text{count}(a, b),$$
#
# then replace every $a^* b^*$ by a new symbol.  Ties go to the smallest pair of ids, so the same
# corpus always gives the same merges.  The loops are kernels:
# `tinymed/kernels/reference/text.py` (NumPy, readable) and `tinymed/kernels/numba/text.py`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from tinymed.backend import kernel
from tinymed.data import clinical_corpus
from tinymed.lessons import quick, save_figure
from tinymed.text import BPETokenizer, split_chunks

QUICK = quick()

# %% [markdown]
# ## 1. Bytes, characters and chunks
#
# UTF-8 writes an ASCII letter in one byte and a Chinese character in three.  Before BPE, text is cut
# into *chunks* -- words with the space before them, one to three digits, runs of punctuation -- and
# merges never cross a chunk, so a token never spans two words.

# %%
for word in ["pneumonia", "肺炎", "SpO2 91%"]:
    print(f"{word!r}: {len(word)} characters, {len(word.encode('utf-8'))} bytes: {list(word.encode('utf-8'))}")
sentence = "CRP 156 mg/L, no evidence of pneumonia. 未见肺炎。"
print(split_chunks(sentence))
assert "".join(split_chunks(sentence)) == sentence
assert len("肺炎".encode()) == 3 * len("肺炎")

# %% [markdown]
# ## 2. The merges, step by step
#
# A tiny corpus: each chunk with how often it occurs.  At each step we count the pairs with the
# kernel `bpe_count_pairs`, show the most frequent ones, and merge the winner with `bpe_merge_pair`.

# %%
tiny = ["fever"] * 5 + [" fever"] * 4 + [" feverish"] * 2 + [" few"] * 3 + ["肺炎"] * 3 + ["肺栓塞"] * 2
chunks = list(dict.fromkeys(tiny))
weights = np.array([tiny.count(c) for c in chunks])
data = [c.encode("utf-8") for c in chunks]
ids = np.frombuffer(b"".join(data), dtype=np.uint8).astype(np.int64)
starts = np.concatenate([[0], np.cumsum([len(d) for d in data])])
pieces = {i: bytes([i]) for i in range(256)}


def show(symbols, begin, end):
    return "|".join(pieces[s].decode("utf-8", errors="replace") for s in symbols[begin:end])


merges = []
for step in range(8):
    pairs, counts = kernel("bpe_count_pairs")(ids, starts, weights)
    order = np.lexsort((np.arange(len(counts)), -counts))[:3]  # highest counts; ties in pair order
    best = pairs[order[0]]
    top = ", ".join(f"{show(p, 0, 2)!r}×{c}" for p, c in zip(pairs[order], counts[order]))
    new_id = 256 + step
    pieces[new_id] = pieces[best[0]] + pieces[best[1]]
    ids, starts = kernel("bpe_merge_pair")(ids, starts, best, new_id)
    merges.append(best)
    print(f"step {step}: top pairs {top} -> new token {new_id} = "
          f"{pieces[new_id].decode('utf-8', errors='replace')!r}")
print("chunks now:", [show(ids, starts[k], starts[k + 1]) for k in range(len(chunks))])
assert pieces[259] == b"fever" and pieces[262] == "肺".encode()  # a word; a character, from 3 bytes

# %% [markdown]
# Chinese characters start as three bytes each; the first merges glue bytes back into characters
# (`�` marks a piece that is part of a character), and later merges join characters into words.
# The tokenizer's `train` runs the very same loop (through `bpe_train_merges`) and learns the same
# merges:

# %%
tok_tiny = BPETokenizer.train(tiny, vocab_size=256 + 5 + 8)
np.testing.assert_array_equal(tok_tiny.merges, np.array(merges))
print(tok_tiny)

# %% [markdown]
# ## 3. English against Chinese on the clinical corpus
#
# `tinymed.data.clinical_corpus` writes synthetic discharge summaries, radiology reports and
# progress notes in both languages (nothing from real patients).  We train one tokenizer on both
# and count, on documents it has not seen, bytes, characters and tokens.

# %%
corpus = clinical_corpus(800 if QUICK else 8000, seed=0)
held_out = clinical_corpus(100 if QUICK else 400, seed=1)
texts = list(corpus.X)
print(f"training text: {sum(map(len, texts)):,} characters, {sum(len(t.encode()) for t in texts):,} bytes")
start = time.perf_counter()
tokenizer = BPETokenizer.train(texts, vocab_size=2000)
print(f"trained {tokenizer} in {time.perf_counter() - start:.1f} s")


def per_character(tok, language):
    docs = [d for d, lang in zip(held_out.X, held_out.language) if lang == language]
    n_chars = sum(map(len, docs))
    return (sum(len(d.encode("utf-8")) for d in docs) / n_chars,
            sum(len(tok.encode(d)) for d in docs) / n_chars)


ratios = {}
for language in ("en", "zh"):
    bytes_per_char, tokens_per_char = per_character(tokenizer, language)
    ratios[language] = tokens_per_char
    print(f"{language}: {bytes_per_char:.2f} bytes per character, {tokens_per_char:.3f} tokens per character")

example = [d for d, lang in zip(held_out.X, held_out.language) if lang == "zh"][0][:60]
print(example)
print(" | ".join(tokenizer.decode([i]) for i in tokenizer.encode(example)))

# %% [markdown]
# An English token covers three to four characters (a whole common word with its space); a Chinese
# token covers about two characters -- far fewer tokens than bytes, since a character is three
# bytes.  Per character, Chinese needs about twice as many tokens as English: a Chinese character
# says more than an English letter, and the two-character words (肺炎, 气促, 查体) become tokens.

# %%
assert ratios["en"] < 0.35 and ratios["zh"] < 0.6
assert 1.5 < ratios["zh"] / ratios["en"] < 2.5
assert ratios["zh"] < per_character(tokenizer, "zh")[0] / 2  # well under the 3 bytes of a character

# %% [markdown]
# ## 4. Vocabulary size against sequence length
#
# A bigger vocabulary means longer tokens and so shorter sequences, at the price of a bigger
# embedding table (every id needs its row) and rarer tokens, each seen less often in training.

# %%
sizes = [300, 500, 1000, 2000] if QUICK else [300, 500, 1000, 2000, 3000]
lengths = {"en": [], "zh": []}
for size in sizes:
    tok = BPETokenizer.train(texts, vocab_size=size)
    for language in lengths:
        lengths[language].append(per_character(tok, language)[1])
    print(f"vocabulary {tok.vocab_size:5d}: tokens per character  en {lengths['en'][-1]:.3f}  "
          f"zh {lengths['zh'][-1]:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
for language, label in (("en", "English"), ("zh", "Chinese")):
    ax.plot(sizes, lengths[language], "o-", label=label)
ax.set(xscale="log", xlabel="vocabulary size", ylabel="tokens per character",
       title="Bigger vocabulary, shorter sequences")
ax.legend()
fig.tight_layout()
save_figure(fig, "14_vocabulary_vs_length.png")

for language in lengths:
    drops = -np.diff(lengths[language])
    assert all(drops > 0), language                # always shorter ...
    assert drops[-1] < drops[0], language          # ... but each step buys less

# %% [markdown]
# ## 5. Special tokens, batches, and the round trip
#
# Five special tokens sit at the end of the vocabulary: `<|endoftext|>` separates documents for a
# GPT, `[CLS]`, `[SEP]`, `[MASK]` and `[PAD]` are BERT's.  They are never split and no merge ever
# makes one.  `encode_batch` pads a batch with `[PAD]` and returns the attention mask a model needs.

# %%
ids = tokenizer.encode("[CLS] no evidence of pneumonia [SEP]")
print(ids, "->", [tokenizer.id_to_token(i) for i in ids])
assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
batch = tokenizer.encode_batch(["fever", "未见肺炎"], add_special_tokens=True)
print(batch["input_ids"], batch["attention_mask"], sep="\n")
assert (batch["input_ids"][batch["attention_mask"] == 0] == tokenizer.pad_token_id).all()

# %% [markdown]
# Because every text is bytes and every byte is in the vocabulary, decoding gives back exactly the
# text that was encoded -- in any language, with any symbols:

# %%
odd = ["血氧饱和度 91% 😷", "x_1 ≤ 2.5e-3\ttabs\n\nnew lines", "[MASK]ed", ""]
for text in list(held_out.X) + odd:
    assert tokenizer.decode(tokenizer.encode(text)) == text
print(f"{len(held_out.X) + len(odd)} texts round-trip exactly")

# %% [markdown]
# ## Summary
#
# - BPE starts from the 256 bytes and merges the most frequent adjacent pair again and again; the
#   merges are the vocabulary.  Encoding replays them in order.
# - On the clinical corpus a 2,000-token vocabulary writes English in about a quarter of a token per
#   character and Chinese in about half a token per character (from three bytes).
# - A larger vocabulary gives shorter sequences; each step buys less, as the merges reach rarer pairs.
# - Special tokens are whole ids, never split; every text round-trips exactly.
#
# **Exercises.** (1) Train on English documents only and measure the Chinese tokens per character:
# what happens to a language the tokenizer never saw?  (2) Change the pre-tokenization so digits are
# single chunks: how do lab values tokenize?  (3) Read `bpe_train_merges` in both kernel files: why
# can the Numba version update counts instead of recounting?
