# %% [markdown]
# # Lesson 23 — Shrinking the pneumonia CNN
# Pruning (50, 80, 90 %), int8 quantisation and a distilled student, each measured the same way: bytes to store, accuracy and recall on a large test set, and time per film.
#
# Articles 000 §6 and 004 §6 ask for models small and fast enough for the hospital's own machines,
# and name the means: **pruning**, **compression** and **distillation**.  They measure none of
# them.  Here each method shrinks the same trained CNN and we put the four numbers that matter
# side by side: how many bytes the model takes, how its accuracy and its **recall** (the share of
# pneumonias it finds, what a screening test lives by) change, and how long a film takes.
#
# `tinymed.compress` uses PyTorch's names (`prune.l1_unstructured`, `prune.global_unstructured`,
# `prune.remove`, the `weight_orig`/`weight_mask` reparametrisation; `quantize.prepare`/`convert`),
# and the test suite checks that its masks are PyTorch's for the same weights.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn.functional as F
from tinymed import Tensor, metrics, nn, optim
from tinymed.compress import distillation_loss, prune, quantize, sparsity, storage_bytes
from tinymed.data import DataLoader, chest_phantoms
from tinymed.demo import standardize_images
from tinymed.lessons import quick, save_figure

QUICK = quick()
tinymed.manual_seed(0)
SIZE = 32

# %% [markdown]
# ## 1. The model to shrink
#
# Lesson 06's CNN (three conv-ReLU-pool blocks) with a hidden fully connected layer of 64 units,
# and two outputs (normal, pneumonia) so that a student can learn from its probabilities later.
# Trained with Adam on phantom films, each standardised on its own.  The test set is large --
# 1000 films (2000 in the full run), half of them with pneumonia -- because we will compare
# recalls that differ by a point or less, and one missed film costs 0.2 points of recall here.

# %%
X_train, y_train = chest_phantoms(800 if QUICK else 2400, size=SIZE, seed=1)
X_test, y_test = chest_phantoms(1000 if QUICK else 2000, size=SIZE, seed=2)
X_train, X_test = standardize_images(X_train), standardize_images(X_test)
EPOCHS = 8 if QUICK else 15


def cnn(c1, c2, c3, hidden):
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c3 * (SIZE // 8) ** 2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def train(model, loss, arrays, epochs, lr=3e-3):
    """Adam on shuffled batches of 32; ``loss(model, *batch)`` is the loss of one batch."""
    opt = optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        for batch in DataLoader(arrays, batch_size=32, shuffle=True):
            opt.zero_grad()
            loss(model, *batch).backward()
            opt.step()
    return model.eval()


def cross_entropy(model, xb, yb):
    return F.cross_entropy(model(Tensor(xb)), yb)


def scores(model):
    with tinymed.no_grad():
        p = model(Tensor(X_test)).softmax(dim=1).numpy()[:, 1]
    predicted = (p >= 0.5).astype(np.int64)
    return {"accuracy": metrics.accuracy_score(y_test, predicted), "recall": metrics.recall_score(y_test, predicted),
            "p": p}


assert y_test.sum() == len(y_test) // 2 and 100 / y_test.sum() <= 0.2
teacher = train(cnn(8, 16, 32, 64), cross_entropy, (X_train, y_train), EPOCHS)
results = {"float32 model": dict(model=teacher, **scores(teacher))}
print(f"{teacher.num_parameters():,} parameters; test accuracy {results['float32 model']['accuracy']:.3f}, "
      f"recall {results['float32 model']['recall']:.3f}")

# %% [markdown]
# ## 2. Pruning
#
# Magnitude pruning assumes that the smallest weights matter least and sets them to zero.
# `prune.global_unstructured` ranks the weights of all layers together, so layers with many
# redundant weights (the fully connected ones hold 85 % of this model's) give up more than the
# first convolution.  The weights are not deleted: the layer keeps `weight_orig` and a 0/1
# buffer `weight_mask`, and a forward pre-hook computes `weight = weight_orig * weight_mask`
# before every call.  So the gradient reaching a pruned weight is zero and a short fine-tuning
# keeps it pruned:
#
# $$W = W_\text{orig} \odot M, \qquad \frac{\partial L}{\partial W_\text{orig}} = \frac{\partial L}{\partial W} \odot M.$$

# %%
def pruned(amount, fine_tune_epochs=0):
    model = copy.deepcopy(teacher)
    layers = [(m, "weight") for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    prune.global_unstructured(layers, prune.L1Unstructured, amount=amount)
    if fine_tune_epochs:
        train(model, cross_entropy, (X_train, y_train), fine_tune_epochs, lr=1e-3)
    for module, name in layers:
        prune.remove(module, name)  # make it permanent: plain weights with zeros in them
    return model


weights = sum(m.weight.size for m in teacher.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
fully_connected = sum(m.weight.size + m.bias.size for m in teacher.modules() if isinstance(m, nn.Linear))
print(f"the fully connected layers hold {fully_connected / teacher.num_parameters():.0%} of the parameters")
assert fully_connected / teacher.num_parameters() > 0.84
for amount in (0.5, 0.8, 0.9):
    model = pruned(amount)
    results[f"pruned {amount:.0%}"] = dict(model=model, **scores(model))
    zeros = sum(int((m.weight.numpy() == 0).sum()) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert zeros >= round(amount * weights)  # at least the pruned weights are zero
model = pruned(0.9, fine_tune_epochs=1)
results["pruned 90% + 1 epoch"] = dict(model=model, **scores(model))
print(f"{'':22s} {'zeros':>6s} {'accuracy':>9s} {'recall':>7s}")
for name, r in results.items():
    print(f"{name:22s} {sparsity(r['model']):6.1%} {r['accuracy']:9.3f} {r['recall']:7.3f}")

# %% [markdown]
# Half the weights go and nothing is lost: the 50 % model finds the pneumonias the full one finds
# (to within one point of recall, and one point of accuracy) -- which says how redundant a trained
# network is.  Further, removing weights shifts the outputs, and with them the decisions at a
# fixed threshold; one epoch of fine-tuning with the masks held fixed lets the remaining weights
# take over, and brings the 90 % model to within five points of the full model's accuracy.

# %%
base = results["float32 model"]
assert results["pruned 50%"]["recall"] >= base["recall"] - 0.01
assert results["pruned 50%"]["accuracy"] >= base["accuracy"] - 0.01
assert results["pruned 90% + 1 epoch"]["accuracy"] >= base["accuracy"] - 0.05

# %% [markdown]
# ## 3. Int8 quantisation
#
# A float32 weight takes 4 bytes; an 8-bit integer takes one.  Each output channel $j$ of a layer
# gets a scale $s_j = \max_k |w_{jk}| / 127$ and its weights become integers
# $q_{jk} = \mathrm{round}(w_{jk}/s_j)$ in $[-127, 127]$.  Each layer's *input* gets a scale and a
# zero point from the range seen on a few hundred **calibration** films (`quantize.prepare`
# puts an observer on every layer, `quantize.convert` swaps in the integer layers).  Then
#
# $$y_j = s_x s_j \sum_k (q_{x,k} - z_x)\, q_{jk} + b_j,$$
#
# the sum in 32-bit integers (tinymed's `int8_conv2d_forward` and `int8_linear_forward`
# kernels), scaled back to float once per output.  Every number is off by at most half a step,
# so the outputs move a little -- how little, the test set says: the probability of pneumonia by
# less than 0.01 on average, and at most 1 % of the decisions change.

# %%
calibration = X_train[:256]
int8_model = quantize.quantize(teacher, lambda prepared: prepared(Tensor(calibration)))
print(int8_model)
results["int8"] = dict(model=int8_model, **scores(int8_model))
shift = np.abs(results["int8"]["p"] - base["p"])
flipped = np.mean((results["int8"]["p"] >= 0.5) != (base["p"] >= 0.5))
print(f"int8: accuracy {results['int8']['accuracy']:.3f}, recall {results['int8']['recall']:.3f}; "
      f"probability of pneumonia moved by {shift.mean():.4f} on average, by less than "
      f"{np.quantile(shift, 0.99):.4f} for 99 % of the films, {shift.max():.4f} at most; "
      f"{flipped:.1%} of the decisions changed")
assert storage_bytes(int8_model) < 0.3 * storage_bytes(teacher)
assert results["int8"]["accuracy"] >= base["accuracy"] - 0.01 and results["int8"]["recall"] >= base["recall"] - 0.01
assert shift.mean() < 0.01 and np.quantile(shift, 0.99) < 0.05 and flipped <= 0.01

# %% [markdown]
# ## 4. Distillation: a small student taught by the big model
#
# A student with half the channels of the first two blocks, a quarter of the last, and a hidden
# layer of 16 units -- a thirteenth of the parameters -- is trained twice from the same initial
# weights: once on the labels alone, once with the distillation loss
# (Hinton, Vinyals and Dean, 2015)
#
# $$L = \alpha T^2\, \mathrm{KL}\big(\mathrm{softmax}(t/T)\,\|\,\mathrm{softmax}(s/T)\big)
#       + (1-\alpha)\,\mathrm{CE}(s, y),$$
#
# $t$ the teacher's logits, $s$ the student's, with temperature $T = 2$ and $\alpha = 0.5$.  The
# soft targets tell the student how sure the teacher is about each film -- an ambiguous film is
# not presented as a certain one -- and the $T^2$ keeps the two terms' gradients in proportion at
# any temperature.  With two classes there is less "dark knowledge" to pass on than with many:
# only how confident the teacher is.

# %%
with tinymed.no_grad():
    teacher_logits = teacher(Tensor(X_train)).numpy()


def distilled(model, xb, yb, tb):
    return distillation_loss(model(Tensor(xb)), tb, yb, T=2.0, alpha=0.5)


for name, loss, arrays in (("student, labels only", cross_entropy, (X_train, y_train)),
                           ("student, distilled", distilled, (X_train, y_train, teacher_logits))):
    tinymed.manual_seed(100)  # the same initial weights for both
    student = train(cnn(4, 8, 8, 16), loss, arrays, EPOCHS)
    results[name] = dict(model=student, **scores(student))
print(f"student: {student.num_parameters():,} parameters ({teacher.num_parameters() / student.num_parameters():.0f}x "
      f"fewer)")
for name in ("student, labels only", "student, distilled"):
    print(f"{name:22s} accuracy {results[name]['accuracy']:.3f}, recall {results[name]['recall']:.3f}")
assert teacher.num_parameters() >= 10 * student.num_parameters()
assert results["student, distilled"]["accuracy"] >= base["accuracy"] - 0.06

# %% [markdown]
# ## 5. All methods in one table
#
# **Bytes**: float32 and int8 models are stored dense; a pruned model pays only if its zeros are
# skipped, e.g. in compressed sparse rows (each nonzero with its 4-byte column index, so float32
# pruning pays only beyond 50 % zeros).  **Time**: the median over five runs of a batch of 256
# films on this machine's default backend, per film -- it depends on the machine and its load,
# so it is shown, not asserted.  What does not depend on the machine is the work: the
# multiply-adds of the convolutions and dense layers.  Unstructured zeros leave it unchanged (the
# same dense products run, zeros and all; only sparse kernels or structured pruning, which
# removes whole channels, would save it); the student does several times less.

# %%
def multiply_adds(model, image=X_test[:1]):
    """Multiply-adds of the Conv2d and Linear layers for one film: each output needs one per
    weight of its filter or row."""
    counted, handles = [], []
    for layer in model.modules():
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            fan_in = int(np.prod(layer.weight.shape[1:]))
            handles.append(layer.register_forward_hook(lambda m, args, out, k=fan_in: counted.append(out.size * k)))
    with tinymed.no_grad():
        model(Tensor(image))
    for handle in handles:
        handle.remove()
    return sum(counted)


work = {name: multiply_adds(results[name]["model"]) for name in ("float32 model", "pruned 90%", "student, distilled")}
print(", ".join(f"{name}: {count:,} multiply-adds" for name, count in work.items()))
assert work["pruned 90%"] == work["float32 model"] > 4 * work["student, distilled"]

def milliseconds_per_film(model, batch=X_test[:256], repeats=5):
    with tinymed.no_grad():
        model(Tensor(batch))  # compile and warm up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(Tensor(batch))
            times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times)) / len(batch)


for name, r in results.items():
    r["bytes"] = storage_bytes(r["model"], sparse=name.startswith("pruned"))
    r["ms"] = milliseconds_per_film(r["model"])
print(f"{'method':22s} {'bytes':>8s} {'smaller':>8s} {'accuracy':>9s} {'d acc':>7s} {'recall':>7s} {'d recall':>9s} "
      f"{'ms/film':>8s}")
for name, r in results.items():
    print(f"{name:22s} {r['bytes']:8,d} {base['bytes'] / r['bytes']:7.1f}x {r['accuracy']:9.3f} "
          f"{r['accuracy'] - base['accuracy']:+7.3f} {r['recall']:7.3f} {r['recall'] - base['recall']:+9.3f} "
          f"{r['ms']:8.3f}")

names = list(results)
rows = np.arange(len(names))
fig, (ax_size, ax_quality, ax_time) = plt.subplots(1, 3, figsize=(13, 4.2), sharey=True)
ax_size.barh(rows, [base["bytes"] / results[n]["bytes"] for n in names], color="tab:green")
ax_size.set(yticks=rows, yticklabels=names, xlabel="times smaller than the float32 model", title="storage")
ax_size.invert_yaxis()
ax_quality.barh(rows - 0.2, [results[n]["accuracy"] for n in names], height=0.4)
ax_quality.barh(rows + 0.2, [results[n]["recall"] for n in names], height=0.4, color="tab:red")
ax_quality.axvline(base["recall"], color="tab:red", lw=0.8, ls=":")
ax_quality.set(xlim=(0.5, 1.0), xlabel="test set (1000+ films)", title="accuracy (blue) and recall (red)")
ax_time.barh(rows, [results[n]["ms"] for n in names], color="tab:gray")
ax_time.set(xlabel="milliseconds per film (batch of 256)", title="time on this machine")
fig.tight_layout()
save_figure(fig, "23_compression.png", dpi=120)

assert base["bytes"] / results["int8"]["bytes"] > 3.5
assert results["pruned 90%"]["bytes"] < results["pruned 50%"]["bytes"] <= base["bytes"]

# %% [markdown]
# ## Summary
#
# - **Pruning** zeroes the smallest weights through a mask that also masks the gradient, so the
#   rest can be fine-tuned.  Half the weights of this CNN go without losing a point of recall;
#   at 90 % a short fine-tuning is needed.  The zeros save storage only in a sparse format, and
#   time only with sparse kernels or structured pruning.
# - **Int8 quantisation** stores a byte per weight (about 4x smaller) and computes in integers;
#   the decisions barely move, because each number is off by at most half a quantisation step.
# - **Distillation** trains a much smaller student on the teacher's softened probabilities; it
#   stores less *and* computes less, and how much accuracy it keeps depends on its size.
# - They combine: a pruned model quantises with its zeros intact (the tests check it).
#
# **Exercises.** (1) Prune layer by layer (`prune.l1_unstructured` on each weight) instead of
# globally: which layer cannot lose half its weights?  (2) Remove whole filters with
# `prune.ln_structured(conv, "weight", amount=0.5, n=2, dim=0)` and rebuild a narrower network
# from the survivors: is it faster?  (3) Quantise with only 8 calibration films: what happens to
# the scales, and to the recall?  (4) Try $T = 1$ and $T = 8$, $\alpha = 0.9$, for the student.
