# %% [markdown]
# # Lesson 15 — A GPT from scratch
# A decoder-only Transformer assembled from blocks this course has built (embeddings, F7 attention with a causal mask, F1 dense layers, layer norm), trained by F2 on the clinical corpus until it clearly beats a bigram model, then sampled with temperature and top-k through a key/value cache.
#
# Article 000 §2 names GPT among the large models that medicine now uses, and articles 003 §2.2 and
# §3.1 describe the Transformer it is made of.  "Large" hides how *small* the idea is: a GPT reads a
# sequence of tokens and, at every position, predicts the next one,
#
# $$p(x_{t+1} \mid x_1, \dots, x_t) = \mathrm{softmax}(z_t), \qquad
# L = -\frac{1}{T}\sum_t \log p(x_{t+1} \mid x_{\le t}),$$
#
# with the logits $z_t$ computed by a stack of blocks that each lesson so far has taken apart.
# Here we put them together -- `tinymed.models.GPT`, laid out exactly as Hugging Face's
# `GPT2LMHeadModel` so GPT-2's checkpoints load into it -- trace every block back to its formula,
# and train one on the synthetic clinical notes of `tinymed.data.clinical_corpus` on a laptop CPU.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
from tinymed import Tensor, no_grad, optim
from tinymed.data import clinical_corpus
from tinymed.gradcheck import check
from tinymed.lessons import quick, save_figure
from tinymed.models import GPT, GPTConfig, training_step, weight_decay_groups
from tinymed.text import BPETokenizer

QUICK = quick()
tinymed.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The text, as tokens
#
# English notes (discharge summaries, radiology reports, progress notes; never a real patient),
# a byte-level BPE tokenizer trained on them (lesson 14), and one long stream of token ids with
# `<|endoftext|>` between documents -- GPT-2's way of marking where one text ends.  A tenth of the
# documents is held out to measure the loss on text the model never trained on.

# %%
N_DOCS, VOCAB = (1500, 512) if QUICK else (4000, 1024)
corpus = clinical_corpus(N_DOCS, language="en", seed=0)
tokenizer = BPETokenizer.train(list(corpus.X[:1000]), vocab_size=VOCAB)
EOT = tokenizer.token_to_id("<|endoftext|>")
documents = [tokenizer.encode(text) + [EOT] for text in corpus.X]
held_out = len(documents) // 10
train_ids, val_ids = np.concatenate(documents[held_out:]), np.concatenate(documents[:held_out])
V = tokenizer.vocab_size
print(f"{len(corpus.X)} notes, {V} tokens in the vocabulary; {len(train_ids):,} training tokens, "
      f"{len(val_ids):,} held out ({sum(map(len, corpus.X)) / (len(train_ids) + len(val_ids)):.1f} characters per token)")
print(repr(tokenizer.decode(documents[0][:40])))

# %% [markdown]
# ## 2. The baselines: counting
#
# Before any network, the two models one can write by counting.  A *unigram* model predicts every
# token with its frequency, $p(x_{t+1}) = n(x_{t+1}) / N$; a *bigram* model with the frequency of
# what followed the current token, $p(x_{t+1} \mid x_t) = n(x_t, x_{t+1}) / n(x_t)$ (plus a small
# count $\alpha$ everywhere, so no pair has probability 0).  Their cross-entropy on the held-out
# tokens, in nats per token, is what a GPT must beat: the bigram model already knows that `mg`
# follows a dose and `mmHg` a blood pressure -- everything that one token of context can tell.

# %%
unigram = np.bincount(train_ids, minlength=V) + 1.0
unigram_loss = -np.log(unigram[val_ids] / unigram.sum()).mean()
pairs = np.full((V, V), 0.01)
np.add.at(pairs, (train_ids[:-1], train_ids[1:]), 1)
bigram = pairs / pairs.sum(axis=1, keepdims=True)
bigram_loss = -np.log(bigram[val_ids[:-1], val_ids[1:]]).mean()
print(f"held-out cross-entropy: uniform {np.log(V):.3f}, unigram {unigram_loss:.3f}, bigram {bigram_loss:.3f} nats/token")
assert bigram_loss < unigram_loss < np.log(V)

# %% [markdown]
# ## 3. The model, block by block
#
# `GPTConfig` sets the sizes; the defaults are GPT-2 small's (124 M parameters).  Ours is tiny.
# Every number below is checked against the formula it implements, in float64, on a short note.

# %%
config = GPTConfig(vocab_size=V, n_positions=64 if QUICK else 128, n_embd=64 if QUICK else 128,
                   n_layer=2 if QUICK else 4, n_head=4, dropout=0.0)
probe = GPT(config).double().eval()
print(probe.summary().splitlines()[-1], "parameters;", config)
x_ids = np.array([documents[1][:12]])
print("the probe's input:", repr(tokenizer.decode(x_ids[0])))

# %% [markdown]
# **Embeddings.**  Token $t$ at position $i$ enters as the sum of two learned vectors,
# $h_0 = W_{te}[x_i] + W_{pe}[i]$ (`transformer.wte`, `transformer.wpe`): a lookup, whose gradient
# adds into the rows it read (lesson 10).  Position is all a Transformer knows about order.
#
# **Attention (F7), with a causal mask.**  Each block's `attn.c_attn` computes queries, keys and
# values for all heads at once, $[Q\,K\,V] = h W_{attn} + b_{attn}$; head $j$ takes its slice of
# $d = $ `n_embd / n_head` features and forms F7,
#
# $$P = \mathrm{softmax}\Big(\frac{Q K^\top}{\sqrt d} + M\Big), \qquad M_{ik} = \begin{cases} 0 & k \le i \\ -\infty & k > i \end{cases},
# \qquad O = P V,$$
#
# where the mask $M$ lets position $i$ look only at itself and the past -- so the prediction of
# token $i+1$ can never peek at it.  We recompute one head by hand from the weights and compare
# with what the model computed (a forward hook records the block's input and output).

# %%
block = probe.transformer.h[0]
seen = {}
handle = block.attn.register_forward_hook(lambda module, args, output: seen.update(x=args[0].numpy(), out=output.numpy()))
with no_grad():
    probe(x_ids)
handle.remove()

h = seen["x"][0]                                    # the attention's input: ln_1 of the embeddings
E, heads = config.n_embd, config.n_head
d = E // heads
W, b = block.attn.c_attn.weight.numpy(), block.attn.c_attn.bias.numpy()
Q, K, Vv = (h @ W[:, i * E:(i + 1) * E] + b[i * E:(i + 1) * E] for i in range(3))
T = len(h)
mask = np.where(np.tril(np.ones((T, T))) == 1, 0.0, -np.inf)
head_outputs = []
for j in range(heads):
    cols = slice(j * d, (j + 1) * d)
    scores = Q[:, cols] @ K[:, cols].T / np.sqrt(d) + mask
    P = np.exp(scores - scores.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    head_outputs.append(P @ Vv[:, cols])
    if j == 0:
        first_head = P
by_hand = np.concatenate(head_outputs, axis=1) @ block.attn.c_proj.weight.numpy() + block.attn.c_proj.bias.numpy()
print(f"max |attention by hand - model| = {np.abs(by_hand - seen['out'][0]).max():.1e}")
assert np.allclose(by_hand, seen["out"][0], rtol=1e-12, atol=1e-12)
assert np.all(first_head[np.triu_indices(T, 1)] == 0)          # no position looks ahead
assert np.allclose(first_head.sum(axis=1), 1)                  # each row is a distribution over the past

# %% [markdown]
# **Dense layers (F1) and GELU.**  GPT-2 writes its dense layers as `Conv1D`, $y = xW + b$ with the
# weight stored (in, out) -- the transpose of `nn.Linear`'s, which is why GPT-2 checkpoints need no
# conversion here.  The feed-forward network (`mlp`) widens to `4 * n_embd` with
# $\mathrm{GELU}(x) = \tfrac12 x\,(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3)))$, a smooth ReLU.
#
# **The block** normalises *before* each part and adds the result back (pre-LN residual):
# $a = h + \mathrm{Attn}(\mathrm{LN}_1(h))$, $h' = a + \mathrm{MLP}(\mathrm{LN}_2(a))$.  **The
# logits** are $z = \mathrm{LN}_f(h_L)\,W_{te}^\top$: the token embedding matrix again ("tied"),
# scoring every token of the vocabulary by its similarity to the final state.  We rebuild the whole
# forward pass from these formulas and the state dict.

# %%
def layer_norm(x, weight, bias, eps=config.layer_norm_epsilon):
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


w = probe.state_dict()
hidden = w["transformer.wte.weight"][x_ids[0]] + w["transformer.wpe.weight"][:T]
for layer in range(config.n_layer):
    p = f"transformer.h.{layer}."
    a = layer_norm(hidden, w[p + "ln_1.weight"], w[p + "ln_1.bias"])
    qkv = a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
    heads_out = []
    for j in range(heads):
        q, k, v = (qkv[:, i * E + j * d:i * E + (j + 1) * d] for i in range(3))
        s = q @ k.T / np.sqrt(d) + mask
        s = np.exp(s - s.max(1, keepdims=True))
        heads_out.append((s / s.sum(1, keepdims=True)) @ v)
    hidden = hidden + np.concatenate(heads_out, 1) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
    m = layer_norm(hidden, w[p + "ln_2.weight"], w[p + "ln_2.bias"])
    hidden = hidden + gelu_tanh(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"]) @ w[p + "mlp.c_proj.weight"] \
        + w[p + "mlp.c_proj.bias"]
logits_by_hand = layer_norm(hidden, w["transformer.ln_f.weight"], w["transformer.ln_f.bias"]) @ w["lm_head.weight"].T
with no_grad():
    logits = probe(x_ids).numpy()[0]
print(f"max |logits by hand - GPT| = {np.abs(logits_by_hand - logits).max():.1e}; logits {logits.shape}")
assert np.allclose(logits_by_hand, logits, rtol=1e-10, atol=1e-10)
assert np.array_equal(w["lm_head.weight"], w["transformer.wte.weight"])   # tied: one matrix, two uses

# %% [markdown]
# **Backpropagation (F2).**  Every operation above has a hand-written backward (attention, layer
# norm, GELU, the dense layers, the embedding's scatter-add); autograd chains them.  The independent
# check: every element of the gradient of a block's output with respect to its input, against
# central differences, in float64.

# %%
tiny = GPT(GPTConfig(vocab_size=11, n_positions=6, n_embd=8, n_layer=1, n_head=2, dropout=0.0)).double()
x_in = Tensor(rng.standard_normal((2, 5, 8)), requires_grad=True)
report = check(lambda x: tiny.transformer.h[0](x), x_in)
print(report)
assert report.passed

# %% [markdown]
# ## 4. Training
#
# Training minimises $L$ on random windows of the token stream, with the recipe GPT-2 and most
# language models since use -- each piece in `tinymed.optim` or `tinymed.models.training`:
#
# * **AdamW** with decoupled weight decay on the weight matrices and embeddings only, not on biases
#   or layer-norm gains (`weight_decay_groups`: two parameter groups, PyTorch's mechanism);
# * a learning rate that rises linearly for the first steps (**warm-up**: Adam's second moments
#   start from a handful of gradients) and then follows a **cosine** down to 0
#   (`optim.get_cosine_schedule_with_warmup`);
# * **gradient clipping** to a global norm of 1, against the rare huge step;
# * **gradient accumulation**: each update sums the gradients of two micro-batches, each loss scaled
#   by 1/2, which is exactly the step of one batch twice the size (`training_step`) -- how a large
#   model gets a large batch on a small machine.

# %%
STEPS, MICRO, BATCH, LR = (150, 2, 8, 1e-2) if QUICK else (400, 2, 8, 3e-3)
BLOCK = config.n_positions
tinymed.manual_seed(1)
model = GPT(config)
optimizer = optim.AdamW(weight_decay_groups(model, 0.1), lr=LR, betas=(0.9, 0.95))
scheduler = optim.get_cosine_schedule_with_warmup(optimizer, num_warmup_steps=STEPS // 10, num_training_steps=STEPS)


def windows(ids, n, generator):
    """n random windows of BLOCK tokens from a token stream."""
    starts = generator.integers(0, len(ids) - BLOCK, n)
    return np.stack([ids[s:s + BLOCK] for s in starts])


def next_token_loss(model, batch):
    return model(batch, labels=batch)[0]


val_batches = [windows(val_ids, 16, np.random.default_rng(100 + i)) for i in range(4)]


def held_out_loss(model):
    model.eval()
    with no_grad():
        loss = np.mean([next_token_loss(model, batch).item() for batch in val_batches])
    model.train()
    return loss


history = {"step": [], "train": [], "val_step": [], "val": []}
start = time.perf_counter()
for step in range(STEPS):
    micro_batches = [windows(train_ids, BATCH, rng) for _ in range(MICRO)]
    loss = training_step(model, optimizer, micro_batches, next_token_loss, max_grad_norm=1.0, scheduler=scheduler)
    history["step"].append(step)
    history["train"].append(loss)
    if step % 25 == 0 or step == STEPS - 1:
        history["val_step"].append(step)
        history["val"].append(held_out_loss(model))
        print(f"step {step:4d}  lr {scheduler.get_last_lr()[0]:.2e}  train {loss:.3f}  held out {history['val'][-1]:.3f}")
elapsed = time.perf_counter() - start
tokens_seen = STEPS * MICRO * BATCH * BLOCK
print(f"{STEPS} steps, {tokens_seen:,} tokens in {elapsed:.0f} s ({tokens_seen / elapsed:,.0f} tokens/s)")

# %%
final = history["val"][-1]
fig, ax = plt.subplots(figsize=(7, 4))
smooth = np.convolve(history["train"], np.ones(10) / 10, mode="valid")
ax.plot(history["step"][9:], smooth, label="training batches (mean of 10)")
ax.plot(history["val_step"], history["val"], "o-", label="held-out notes")
ax.axhline(bigram_loss, color="C3", ls="--", label=f"bigram model ({bigram_loss:.2f})")
ax.axhline(unigram_loss, color="grey", ls=":", label=f"unigram model ({unigram_loss:.2f})")
ax.set(xlabel="optimizer step", ylabel="cross-entropy (nats per token)", ylim=(0, np.log(V) + 0.3),
       title=f"GPT ({model.num_parameters():,} parameters) on clinical notes")
ax.legend()
fig.tight_layout()
save_figure(fig, "15_gpt_loss_curve.png", dpi=120)
print(f"held-out loss {final:.3f} against the bigram model's {bigram_loss:.3f}: "
      f"perplexity {np.exp(final):.2f} against {np.exp(bigram_loss):.2f}")
assert final < 0.8 * bigram_loss, (final, bigram_loss)     # clearly below what one token of context gives

# %% [markdown]
# The GPT's loss falls far below the bigram model's: with `n_positions` tokens of context it knows
# which section of which kind of note it is in, which dose goes with which drug, which unit with
# which laboratory test -- all of which a bigram model cannot see.
#
# ## 5. Sampling: temperature and top-k
#
# To write, the model samples one token at a time from $\mathrm{softmax}(z_t / \tau)$ and appends
# it.  The **temperature** $\tau$ sharpens the distribution ($\tau < 1$: safer, more repetitive) or
# flattens it ($\tau > 1$: more varied, more errors); **top-k** samples only among the $k$ most
# likely tokens.  `generate` keeps each layer's keys and values (a **key/value cache**), so each new
# token costs one position's work instead of the whole sequence's -- the tokens are the same.

# %%
prompt = np.array([[EOT] + tokenizer.encode("RADIOLOGY REPORT\nExamination: chest X-ray.")])
for temperature, top_k in ((0.6, 10), (1.0, None)):
    out = model.generate(prompt, BLOCK - prompt.shape[1], temperature=temperature, top_k=top_k, seed=3)
    print(f"--- temperature {temperature}, top-k {top_k}:\n{tokenizer.decode(out[0, 1:])}\n")

start = time.perf_counter()
cached = model.generate(prompt, 40, temperature=1.0, seed=5)
with_cache = time.perf_counter() - start
start = time.perf_counter()
recomputed = model.generate(prompt, 40, temperature=1.0, seed=5, use_cache=False)
without_cache = time.perf_counter() - start
print(f"40 tokens: {with_cache:.2f} s with the cache, {without_cache:.2f} s recomputing every step")
assert np.array_equal(cached, recomputed)

# %% [markdown]
# How surprising are the samples to the model itself?  The mean negative log-likelihood of the
# sampled tokens (under the model at $\tau = 1$) grows with the temperature: a cold sampler stays on
# the model's well-trodden paths, a hot one wanders off them.

# %%
starts = np.full((8, 1), EOT)


def surprise(samples):
    model.eval()
    with no_grad():
        logits = model(samples).numpy()
    z = logits - logits.max(-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_p[:, :-1], samples[:, 1:, None], axis=-1)
    return -picked.mean()


temperatures = [0.5, 1.0, 1.5]
surprises = [surprise(model.generate(starts, 48, temperature=t, seed=11)) for t in temperatures]
for t, s in zip(temperatures, surprises):
    print(f"temperature {t}: {s:.2f} nats per sampled token")
assert surprises[0] < surprises[1] < surprises[2]
top1 = model.generate(starts[:2], 20, top_k=1, seed=0)
assert np.array_equal(top1, model.generate(starts[:2], 20, temperature=0))   # top-1 is greedy decoding

# %% [markdown]
# ## Summary
#
# - A GPT is embeddings, then blocks of masked self-attention (F7) and a GELU feed-forward network
#   (F1), each wrapped in a pre-layer-norm residual, then the embedding matrix again as the output
#   layer.  Rebuilt from the formulas and the state dict, it gives the model's logits exactly; its
#   gradient passes the central-difference check (F2).
# - Trained on next-token prediction with AdamW (decay on matrices only), warm-up and cosine decay,
#   clipping and gradient accumulation, a GPT of well under a million parameters goes clearly below
#   the bigram model on held-out notes, in minutes on a laptop CPU.
# - Sampling trades safety for variety through the temperature and top-k; the key/value cache gives
#   the same tokens for a fraction of the work.
#
# **Exercises.** (1) Set `n_layer=1` and then `n_head=1`: how much held-out loss does each cost?
# (2) Remove the position embeddings (`model.transformer.wpe.weight.data[:] = 0` and freeze them):
# what does the model lose, and why can it still beat the bigram model? (3) Train on the Chinese
# notes (`clinical_corpus(language="zh")`): compare the tokens per note and the loss per character.
