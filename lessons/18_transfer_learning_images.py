# %% [markdown]
# # Lesson 18 — Transfer learning for images
# Pretrain the pneumonia CNN on one phantom task with many labels, reuse it on a related task with few: frozen features against full fine-tuning against training from scratch, over label counts.
#
# Article 004 §6 (Q1–Q2) asks how to choose and use a *pretrained* model.  The idea is older than
# large language models: a network trained on one task learns features -- edges, blobs, an
# opacity's texture -- that another task can reuse.  With few labels for the new task, reusing them
# beats learning everything again.
#
# - **Source task** (many labels): is there a pneumonia-like opacity on the phantom radiograph?
# - **Target task** (few labels): on a film *with* an opacity, is it on the left or the right of the
#   image?  The labels come from the lesion masks `chest_phantoms(..., return_mask=True)` returns;
#   films whose opacities lie on both sides are left out.
#
# Three ways to learn the target task, all with the same network (two conv–ReLU–max-pool blocks,
# then a linear layer):
#
# 1. **from scratch**: random weights, train everything on the few labels;
# 2. **frozen features**: keep the pretrained conv blocks fixed, train only a new linear head;
# 3. **fine-tuning**: train the new head as in 2, then train every layer a little, at a lower rate.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
import tinymed.nn as nn
import tinymed.nn.functional as F
from tinymed import Tensor
from tinymed.data import chest_phantoms
from tinymed.lessons import quick, save_figure
from tinymed.optim import Adam

QUICK = quick()
SIZE = 32
N_SOURCE = 600 if QUICK else 2000
LABEL_COUNTS = [10, 40] if QUICK else [10, 20, 40, 100, 200]
REPEATS = 2 if QUICK else 3
tinymed.manual_seed(0)


def standardise(X):
    """Each film to mean 0 and standard deviation 1 (exposure differs between films)."""
    return (X - X.mean(axis=(1, 2, 3), keepdims=True)) / X.std(axis=(1, 2, 3), keepdims=True)


def side_task(n, seed):
    """Films with opacities on one side only; label 1 if on the right half of the image."""
    (X, y), mask = chest_phantoms(n, size=SIZE, seed=seed, return_mask=True)
    left = mask[:, 0, :, :SIZE // 2].sum(axis=(1, 2))
    right = mask[:, 0, :, SIZE // 2:].sum(axis=(1, 2))
    one_sided = (y == 1) & (np.maximum(left, right) >= 0.9 * (left + right)) & (left + right > 0)
    return standardise(X[one_sided]), (right[one_sided] > left[one_sided]).astype(np.int64)


# %% [markdown]
# ## 1. Pretraining on the source task

# %%
def conv_features():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())


N_FEATURES = 16 * (SIZE // 4) ** 2


def train(model, parameters, X, y, steps, lr, seed, batch=16):
    """Adam on random mini-batches of (X, y)."""
    optimizer, rng = Adam(parameters, lr=lr), np.random.default_rng(seed)
    for _ in range(steps):
        b = rng.choice(len(X), min(batch, len(X)), replace=False)
        loss = F.cross_entropy(model(Tensor(X[b])), y[b])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def accuracy(model, X, y):
    with tinymed.no_grad():
        return float((model(Tensor(X)).numpy().argmax(axis=1) == y).mean())


start = time.perf_counter()
X_source, y_source = chest_phantoms(N_SOURCE, size=SIZE, seed=1)
source_model = nn.Sequential(conv_features(), nn.Linear(N_FEATURES, 2))
train(source_model, source_model.parameters(), standardise(X_source), y_source, steps=N_SOURCE * 8 // 32,
      lr=3e-3, seed=0, batch=32)
X_check, y_check = chest_phantoms(300, size=SIZE, seed=2)
source_accuracy = accuracy(source_model, standardise(X_check), y_check)
print(f"source task (opacity or not), {N_SOURCE} labels: test accuracy {source_accuracy:.3f} "
      f"({time.perf_counter() - start:.0f} s)")
assert source_accuracy > 0.8
pretrained = source_model[0].state_dict()

# %% [markdown]
# ## 2. The target task with few labels

# %%
X_pool, y_pool = side_task(600 if QUICK else 2000, seed=3)  # about 30 % of films are one-sided
X_test, y_test = side_task(800, seed=4)
print(f"target task (which side): {len(X_pool)} films to draw labels from, {len(X_test)} to test on, "
      f"{y_pool.mean():.0%} on the right")


def learn_target(method, X, y, seed):
    tinymed.manual_seed(seed)
    body = conv_features()
    if method != "from scratch":
        body.load_state_dict(pretrained)
    model = nn.Sequential(body, nn.Linear(N_FEATURES, 2))
    if method == "from scratch":
        train(model, model.parameters(), X, y, steps=60, lr=3e-3, seed=seed)
    else:
        train(model, model[1].parameters(), X, y, steps=60, lr=3e-3, seed=seed)  # the head only
        if method == "fine-tuning":
            train(model, model.parameters(), X, y, steps=30, lr=3e-4, seed=seed)   # then everything, gently
    return model


methods = ["from scratch", "frozen features", "fine-tuning"]
results = {m: [] for m in methods}
for n in LABEL_COUNTS:
    for method in methods:
        scores = []
        for repeat in range(REPEATS):
            pick = np.random.default_rng(100 + repeat).choice(len(X_pool), n, replace=False)
            scores.append(accuracy(learn_target(method, X_pool[pick], y_pool[pick], repeat), X_test, y_test))
        results[method].append(np.mean(scores))
    print(f"{n:4d} labels: " + ",  ".join(f"{m} {results[m][-1]:.3f}" for m in methods))

# %%
fig, ax = plt.subplots(figsize=(6, 4))
for method in methods:
    ax.plot(LABEL_COUNTS, results[method], "o-", label=method)
ax.set(xscale="log", xlabel="labelled films for the target task", ylabel="test accuracy",
       title="Which side is the opacity on?")
ax.legend()
fig.tight_layout()
save_figure(fig, "18_transfer_learning.png")

# %% [markdown]
# With ten labels, a network trained from scratch has seen ten films: its first layers are still
# close to random.  The pretrained layers already respond to opacities, and where the response sits
# in the feature map tells the new head the side.  As labels grow, training from scratch catches up.

# %%
scratch, frozen, tuned = (np.array(results[m]) for m in methods)
assert frozen[0] > scratch[0] + 0.03 and tuned[0] > scratch[0] + 0.03   # transfer wins with few labels
assert (frozen[-1] - scratch[-1]) < (frozen[0] - scratch[0])            # ... by less as labels grow

# %% [markdown]
# ## Summary
#
# - Features learned on a task with many labels (opacity or not) carry over to a related task with
#   few (which side): frozen features and fine-tuning both beat training from scratch at ten labels.
# - The gap narrows as labels grow: pretraining is worth most where labels are scarce -- as for
#   most medical tasks, where each label is an expert's time.
# - Frozen features need no backward pass through the body and cannot overfit it; fine-tuning can
#   adapt the features too, and is the usual choice once there are more labels.
#
# **Exercises.** (1) Pretrain on "easy" phantoms and target "hard" ones (the same question, fainter
# opacities). (2) Fine-tune with the conv layers' learning rate 10 times larger: what happens with
# ten labels?  (3) Replace the target task by lesion size (mask area above its median).
