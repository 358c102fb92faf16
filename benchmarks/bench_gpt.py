"""GPT training and generation: tinymed (numba) beside a PyTorch twin of the same model, same weights, same batch.

* **training**: tokens per second of one full step -- forward, the shifted cross-entropy, backward,
  gradient clipping, AdamW with its two decay groups -- on a batch of (batch, block) tokens.
  Target of issue 15: tinymed at least 0.7x PyTorch's CPU throughput.
* **generation**: tokens per second of sampling ``new_tokens`` after a short prompt, with the
  key/value cache (tinymed's :class:`~tinymed.models.DynamicCache`, the twin's own cache) and,
  for tinymed, without it (the whole sequence recomputed each step).

The twin is written here with ``torch.nn`` (GPT-2's layout, Conv1D weights as (in, out), tied
embeddings, tanh GELU, ``F.scaled_dot_product_attention`` with ``is_causal``); tinymed's weights
are loaded into it and the logits compared before anything is timed.  tinymed and the twin are
timed in turns (``harness.timeit_interleaved``), so that a change of load during the run slows
both alike and their ratio holds.

    python benchmarks/bench_gpt.py --record                                            # -> results/gpt_cpu.json
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_gpt.py --record   # -> results/gpt_cpu_1thread.json
    python benchmarks/bench_gpt.py --gpu --record      # training, cupy vs torch CUDA -> results/gpt_gpu_<device>.json

Without ``--record`` the JSON goes to a scratch folder (the run says which).

``--gpu`` times the training step only: tinymed's sampling draws each token on the host.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import gpu_name, gpu_slug, print_table, save, synced, timeit, timeit_interleaved, torch_or_none  # noqa: E402

CASES = [
    # name, config, batch, block (tokens per sequence)
    ("GPT 4L 128d V2048, batch 16x128",
     dict(vocab_size=2048, n_positions=256, n_embd=128, n_layer=4, n_head=4), 16, 128),
    ("GPT 6L 256d V4096, batch 8x256",
     dict(vocab_size=4096, n_positions=256, n_embd=256, n_layer=6, n_head=8), 8, 256),
]
PROMPT, NEW_TOKENS = 8, 64
ROUNDS = 7  # tinymed and the twin take turns, one timing each per round; medians over the rounds


# ----- tinymed -------------------------------------------------------------------------------------
def tinymed_model(config):
    import tinymed
    from tinymed.models import GPT, GPTConfig

    tinymed.manual_seed(0)
    return GPT(GPTConfig(**config, dropout=0.0))


def tinymed_train_step(model, ids):
    from tinymed import optim
    from tinymed.models import weight_decay_groups

    opt = optim.AdamW(weight_decay_groups(model, 0.1), lr=1e-4)

    def step():
        opt.zero_grad()
        loss, _ = model(ids, labels=ids)
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return step


def tinymed_generate(model, prompt, use_cache):
    return lambda: model.generate(prompt, NEW_TOKENS, temperature=1.0, top_k=50, seed=0, use_cache=use_cache)


# ----- the PyTorch twin ----------------------------------------------------------------------------
def torch_twin(torch, config, state):
    """GPT-2 in ``torch.nn`` with tinymed's weights (Hugging Face's names)."""
    nn, F = torch.nn, torch.nn.functional
    e, heads = config["n_embd"], config["n_head"]

    class Conv1D(nn.Module):
        def __init__(self, nf, nx):
            super().__init__()
            self.weight, self.bias = nn.Parameter(torch.empty(nx, nf)), nn.Parameter(torch.empty(nf))

        def forward(self, x):
            return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = Conv1D(3 * e, e), Conv1D(e, e)

        def forward(self, x, cache):
            b, t, _ = x.shape
            q, k, v = (z.view(b, t, heads, e // heads).transpose(1, 2) for z in self.c_attn(x).split(e, dim=2))
            if cache is not None:
                if cache:
                    k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
                cache[:] = [k, v]
            out = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
            return self.c_proj(out.transpose(1, 2).reshape(b, t, e))

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc, self.c_proj = Conv1D(4 * e, e), Conv1D(e, 4 * e)

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2, self.mlp = nn.LayerNorm(e), Attention(), nn.LayerNorm(e), MLP()

        def forward(self, x, cache):
            x = x + self.attn(self.ln_1(x), cache)
            return x + self.mlp(self.ln_2(x))

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(config["vocab_size"], e), nn.Embedding(config["n_positions"], e)
            self.h = nn.ModuleList([Block() for _ in range(config["n_layer"])])
            self.ln_f = nn.LayerNorm(e)

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = Transformer()
            self.lm_head = nn.Linear(e, config["vocab_size"], bias=False)
            self.lm_head.weight = self.transformer.wte.weight

        def forward(self, ids, caches=None, past=0):
            tr = self.transformer
            x = tr.wte(ids) + tr.wpe(torch.arange(past, past + ids.shape[1]))
            for i, block in enumerate(tr.h):
                x = block(x, None if caches is None else caches[i])
            return self.lm_head(tr.ln_f(x))

    model = GPT()
    model.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    return model


def torch_train_step(torch, model, ids, device="cpu"):
    ids = torch.tensor(ids, device=device)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4)

    def step():
        opt.zero_grad()
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return step


def torch_generate(torch, model, prompt, n_layer):
    """Cached sampling with temperature 1 and top-k 50, as tinymed's."""
    def run():
        generator = torch.Generator().manual_seed(0)
        ids = torch.tensor(prompt)
        caches = [[] for _ in range(n_layer)]
        with torch.no_grad():
            step_input, past = ids, 0
            for _ in range(NEW_TOKENS):
                logits = model(step_input, caches, past)[:, -1]
                past += step_input.shape[1]
                top = torch.topk(logits, 50)
                logits = logits.masked_fill(logits < top.values[:, -1:], -math.inf)
                token = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
                ids = torch.cat([ids, token], dim=1)
                step_input = token
        return ids
    return run


def check_same_logits(torch, model, twin, ids):
    """A benchmark of different models is worthless: the twin must give tinymed's logits."""
    import tinymed

    with tinymed.no_grad():
        ours = model(ids).numpy()
    with torch.no_grad():
        theirs = twin(torch.tensor(ids)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


# ----- running -----------------------------------------------------------------------------------
def one_case(name, config, batch, block, torch):
    import tinymed

    rng = np.random.default_rng(0)
    ids = rng.integers(0, config["vocab_size"], (batch, block))
    prompt = rng.integers(0, config["vocab_size"], (1, PROMPT))
    model = tinymed_model(config)
    tokens = batch * (block - 1)
    row = {"case": name, "parameters": model.num_parameters(), "dtype": "float32"}
    twin = None
    if torch is not None:
        twin = torch_twin(torch, config, model.state_dict())
        check_same_logits(torch, model, twin, ids[:2])
    with tinymed.using("numba"):
        train = {"tinymed": tinymed_train_step(model, ids)}
        generate = {"tinymed": tinymed_generate(model, prompt, True)}
        if twin is not None:  # PyTorch's twin takes turns with tinymed: the ratio sees one machine
            train["torch"] = torch_train_step(torch, twin, ids)
            generate["torch"] = torch_generate(torch, twin, prompt, config["n_layer"])
        step_s = timeit_interleaved(train, rounds=ROUNDS)
        generate_s = timeit_interleaved(generate, rounds=ROUNDS)
        start = time.perf_counter()
        tinymed_generate(model, prompt, False)()
        row["gen_uncached_tok_s"] = NEW_TOKENS / (time.perf_counter() - start)
    row["train_tok_s"] = tokens / step_s["tinymed"]
    row["gen_tok_s"] = NEW_TOKENS / generate_s["tinymed"]
    if twin is not None:
        row["torch_train_tok_s"] = tokens / step_s["torch"]
        row["torch_gen_tok_s"] = NEW_TOKENS / generate_s["torch"]
        row["train_vs_torch"] = row["train_tok_s"] / row["torch_train_tok_s"]
        row["gen_vs_torch"] = row["gen_tok_s"] / row["torch_gen_tok_s"]
    row["cache_speedup"] = row["gen_tok_s"] / row["gen_uncached_tok_s"]
    return row


def main():
    torch = torch_or_none()
    rows = []
    for name, config, batch, block in CASES:
        rows.append(one_case(name, config, batch, block, torch))
        print(f"  {name}: done", file=sys.stderr)
    columns = ["case", "parameters", "train_tok_s", "torch_train_tok_s", "train_vs_torch", "gen_tok_s",
               "torch_gen_tok_s", "gen_vs_torch", "gen_uncached_tok_s", "cache_speedup"]
    print_table(rows, columns)
    path = save("gpt_cpu", {"rows": rows, "note": "tokens/s, float32; train: forward + loss + backward + clipping + "
                                                  "AdamW step; generation: top-k 50 sampling of 64 tokens after an "
                                                  "8-token prompt, batch 1; *_vs_torch > 1: tinymed faster"})
    print(f"wrote {path}")


def run_gpu():
    """Training tokens/s of tinymed on the cupy backend beside the PyTorch twin on CUDA, float32."""
    import tinymed

    tinymed.use("cupy")  # refuses with what to install where CuPy or a GPU is missing
    import cupy

    torch = torch_or_none()
    on_cuda = torch is not None and torch.cuda.is_available()
    device = gpu_name()

    rows = []
    for name, config, batch, block in CASES:
        ids = np.random.default_rng(0).integers(0, config["vocab_size"], (batch, block))
        model = tinymed_model(config)  # created under cupy: its parameters live on the GPU
        tokens = batch * (block - 1)
        row = {"case": name, "parameters": model.num_parameters(), "dtype": "float32"}
        step = tinymed_train_step(model, tinymed.backend.asarray(ids))
        row["cupy_train_tok_s"] = tokens / timeit(synced(step, cupy.cuda.Device().synchronize), repeat=3, warmup=1)
        if on_cuda:
            state = {key: tinymed.backend.to_numpy(value) for key, value in model.state_dict().items()}
            twin = torch_twin(torch, config, state).cuda()
            torch_step = synced(torch_train_step(torch, twin, ids, device="cuda"), torch.cuda.synchronize)
            row["torch_cuda_train_tok_s"] = tokens / timeit(torch_step, repeat=3, warmup=1)
            row["cupy_vs_torch"] = row["cupy_train_tok_s"] / row["torch_cuda_train_tok_s"]
        rows.append(row)
        print(f"  {name}: done", file=sys.stderr)
    print_table(rows, ["case", "parameters", "cupy_train_tok_s", "torch_cuda_train_tok_s", "cupy_vs_torch"])
    path = save(f"gpt_gpu_{gpu_slug(device)}", {"device": device, "rows": rows,
                                    "note": "training tokens/s on the GPU, float32: forward + loss + backward + "
                                            "clipping + AdamW step; cupy_vs_torch > 1: tinymed faster"})
    print(f"wrote {path}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="training on the GPU: tinymed cupy vs torch CUDA")
    run_gpu() if parser.parse_args().gpu else main()
