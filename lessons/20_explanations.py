# %% [markdown]
# # Lesson 20 — Explaining a diagnosis
# Saliency, integrated gradients, SmoothGrad, occlusion and Grad-CAM side by side on the pneumonia CNN, measured against where the opacity really is; the sanity check every explanation must pass; permutation importance for a tabular model.
#
# All five articles name the same condition for using a model in medicine: a doctor must be able
# to see *why* it decided (000 §5 and Q4, 001 §5, 002 §5, 003 §3.3, 004 §6).  Article 000 lists
# the remedies as "feature selection, model simplification, visual explanation".  This lesson is
# about the third, and about checking it: an explanation is itself a claim, and claims get tested.
#
# `tinymed.explain` uses Captum's names (`Saliency(model).attribute(x, target=...)`,
# `IntegratedGradients`, `NoiseTunnel`, `Occlusion`, `LayerGradCam`), so the code carries over to
# PyTorch.  The test suite checks that the maps equal Captum's on a PyTorch twin of the model.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinymed
from tinymed import metrics, nn, optim
from tinymed.data import StandardScaler, chest_phantoms, load_breast_cancer, train_test_split
from tinymed.demo import standardize_images
from tinymed.explain import (
    IntegratedGradients,
    LayerGradCam,
    NoiseTunnel,
    Occlusion,
    Saliency,
    fraction_in_mask,
    model_randomization_test,
    permutation_importance,
    rank_correlation,
)
from tinymed.keras.losses import BinaryCrossentropy
from tinymed.keras.models import Sequential
from tinymed.lessons import quick, save_figure

QUICK = quick()
tinymed.manual_seed(0)
SIZE = 32

# %% [markdown]
# ## 1. A model to explain
#
# The chest phantoms of lesson 06 know where each opacity is: `chest_phantoms(..., return_mask=True)`
# also returns a **lesion mask**, the pixels where an opacity adds density.  No real data set has
# that; with it we can measure whether an explanation points at the disease.
#
# The model is lesson 06's small CNN (three conv-ReLU-pool blocks, one linear unit: the logit of
# pneumonia), trained with Adam on films standardised one by one.

# %%
(data, mask) = chest_phantoms(1000 if QUICK else 2400, size=SIZE, seed=0, return_mask=True)
X, y = standardize_images(data.X), data.y
n_train = int(0.8 * len(X))
X_train, y_train, X_test, y_test, mask_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:], mask[n_train:]

model = Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * (SIZE // 8) ** 2, 1), nn.Flatten(start_dim=0),
)
model.compile(optimizer=optim.Adam(lr=2e-3), loss=BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(X_train, y_train.astype(np.float32), epochs=8 if QUICK else 15, batch_size=32, verbose=0)
model.eval()  # explanations are of the model that answers: dropout off, every call the same function
logits = model.predict(X_test)
accuracy = metrics.accuracy_score(y_test, (logits > 0).astype(int))
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.85

# %% [markdown]
# We explain films the model calls correctly positive (there is a lesion to point at), the logit
# $f(x)$ being the output explained (one output per film, so no `target` is needed).

# %%
found = np.flatnonzero((y_test == 1) & (logits > 0))[:12 if QUICK else 40]
x, lesion = X_test[found], mask_test[found]
print(f"{len(found)} films; the lesions cover {lesion.mean():.1%} of their pixels")

# %% [markdown]
# ## 2. Five ways to ask "where?"
#
# **Saliency** (Simonyan et al., 2014): $\big|\partial f / \partial x_j\big|$, how much a small
# change of pixel $j$ would move the logit.  Local: it describes the model *at* $x$.
#
# **Integrated gradients** (Sundararajan et al., 2017) average the gradient along the straight
# path from a baseline $x'$ (here the mean film: all zeros after standardisation) to $x$:
#
# $$\mathrm{IG}_j(x) = (x_j - x'_j)\int_0^1 \frac{\partial f(x' + \alpha(x - x'))}{\partial x_j}\,d\alpha .$$
#
# **SmoothGrad** (`NoiseTunnel`) averages saliency over noisy copies of the film;
# **occlusion** (Zeiler and Fergus, 2014) greys out a 6×6 window at every position and records
# how much the logit falls; **Grad-CAM** (Selvaraju et al., 2017) weights the feature maps of
# the last convolution by their average gradient, at that layer's 4×4 resolution, and is then
# stretched to the film's size.

# %%
maps = {
    "saliency": Saliency(model).attribute(x).numpy(),
    "integrated gradients": IntegratedGradients(model).attribute(x, n_steps=32).numpy(),
    "SmoothGrad": NoiseTunnel(Saliency(model)).attribute(x, nt_samples=10, stdevs=0.3).numpy(),
    "occlusion 6×6": Occlusion(model).attribute(x, sliding_window_shapes=(1, 6, 6), strides=(1, 2, 2),
                                                perturbations_per_eval=64).numpy(),
    "Grad-CAM": LayerGradCam.interpolate(LayerGradCam(model, model[7]).attribute(x), (SIZE, SIZE),
                                         "bilinear").numpy(),
}

fig, axes = plt.subplots(4, 6, figsize=(12, 8.4))
for row in range(4):
    axes[row, 0].imshow(x[row, 0], cmap="gray")
    axes[row, 0].contour(lesion[row, 0], levels=[0.5], colors="tab:red", linewidths=1)
    for col, (name, attribution) in enumerate(maps.items(), start=1):
        a = attribution[row, 0]
        limit = np.abs(a).max() or 1.0
        axes[row, col].imshow(a, cmap="coolwarm", vmin=-limit, vmax=limit)
        axes[row, col].contour(lesion[row, 0], levels=[0.5], colors="black", linewidths=0.8)
        axes[0, col].set_title(name, fontsize=9)
axes[0, 0].set_title("film, lesion outlined", fontsize=9)
for ax in axes.ravel():
    ax.axis("off")
fig.suptitle("what each method says the model looked at (red = for pneumonia, blue = against)")
fig.tight_layout()
save_figure(fig, "20_maps.png", dpi=110)

# %% [markdown]
# ## 3. Completeness: integrated gradients add up
#
# By the fundamental theorem of calculus the exact attributions sum to the change of the output,
# $\sum_j \mathrm{IG}_j(x) = f(x) - f(x')$.  The integral is computed with a quadrature rule
# (Gauss–Legendre by default, as in Captum), which leaves a remainder, the **convergence delta**
# $\delta = \sum_j \mathrm{IG}_j - (f(x) - f(x'))$.  A ReLU network is piecewise linear, so its
# gradient jumps along the path, and the delta shrinks as the steps grow:

# %%
change = model.predict(x) - model.predict(np.zeros_like(x))
for steps in (8, 32, 128):
    attributions, delta = IntegratedGradients(model).attribute(x, n_steps=steps, return_convergence_delta=True)
    sums = attributions.numpy().reshape(len(x), -1).sum(axis=1)
    print(f"n_steps {steps:3d}: largest |delta| {np.abs(delta.numpy()).max():.4f}, "
          f"largest |f(x) - f(x')| {np.abs(change).max():.2f}")
    # the attributions add up to the change of the logit, up to exactly the delta reported
    np.testing.assert_allclose(sums, change + delta.numpy(), rtol=1e-4, atol=1e-4)
assert np.abs(delta.numpy()).max() < 0.02 * np.abs(change).max()

# %% [markdown]
# ## 4. Do the maps fall on the opacity?
#
# For each film, the share of the map's positive mass (the evidence *for* pneumonia) that lies
# inside the lesion mask, `fraction_in_mask`.  A map that knows nothing about the lesion puts on
# average the lesion's share of the area there: that is the baseline, checked here with random
# maps.

# %%
area = lesion.reshape(len(x), -1).mean(axis=1)
random_maps = np.random.default_rng(0).random(x.shape)
inside = {name: fraction_in_mask(a, lesion) for name, a in maps.items()}
inside["random map"] = fraction_in_mask(random_maps, lesion)
print(f"{'method':22s} {'share inside the lesion':>24s} {'times the area':>15s}")
for name, share in inside.items():
    print(f"{name:22s} {np.nanmean(share):24.3f} {np.nanmean(share) / area.mean():15.1f}")
print(f"{'(lesion area)':22s} {area.mean():24.3f}")
assert abs(np.mean(inside["random map"]) - area.mean()) < 0.2 * area.mean()
pixel_methods = ("saliency", "integrated gradients", "SmoothGrad", "occlusion 6×6")
for name in pixel_methods:
    assert np.nanmean(inside[name]) > 2 * area.mean(), name
# Grad-CAM puts most of its mass outside the lesion, and less inside than any pixel method
assert np.nanmean(inside["Grad-CAM"]) < min(0.5, *(np.nanmean(inside[name]) for name in pixel_methods))

fig, ax = plt.subplots(figsize=(7, 3.6))
names = list(inside)
ax.bar(names, [np.nanmean(inside[n]) for n in names], color=["tab:blue"] * 5 + ["tab:grey"])
ax.axhline(area.mean(), color="tab:red", ls="--", label="lesion area (what chance puts inside)")
ax.set(ylabel="share of positive attribution\ninside the lesion", title="explanations against the ground truth")
ax.tick_params(axis="x", labelrotation=20, labelsize=8)
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "20_inside_lesion.png", dpi=110)

# %% [markdown]
# The pixel-level methods put several times their share on the opacity.  Grad-CAM's map has the
# last convolution's 4×4 cells: each cell covers an eighth of the film, larger than most lesions,
# and the linear layer after it reads every cell with its own weights, which Grad-CAM's
# per-channel average of the gradient throws away.  Here its maps land mostly beside the lesion
# -- a reminder that a plausible-looking heat map is not yet evidence.

# %% [markdown]
# ## 5. The sanity check: does the map depend on the model?
#
# Adebayo et al. (2018) found that some popular maps hardly change when the network's weights are
# replaced by random ones: they show the *image's* edges, not the model's reasons.  The test
# (`model_randomization_test`): re-initialise the layers one by one from the output down
# (cascading randomisation), recompute the map, and measure its rank correlation with the
# original.  A map that explains the model drifts away; one that does not, stays.
#
# As a method that cannot pass we take an **edge detector** on the film -- it looks convincing
# (it outlines the opacity, among everything else) and ignores the model completely.

# %%
def edge_detector(model, images, target):
    """Edge strength of the film itself, by central differences: no model involved."""
    gy, gx = np.zeros_like(images), np.zeros_like(images)
    gy[..., 1:-1, :] = images[..., 2:, :] - images[..., :-2, :]
    gx[..., 1:-1] = images[..., 2:] - images[..., :-2]
    return np.hypot(gx, gy)


checks = {
    "saliency": model_randomization_test(model, lambda m, images, t: Saliency(m).attribute(images), x[:8]),
    "integrated gradients": model_randomization_test(
        model, lambda m, images, t: IntegratedGradients(m).attribute(images, n_steps=16), x[:8]),
    "edge detector": model_randomization_test(model, edge_detector, x[:8]),
}
for name, result in checks.items():
    print(f"--- {name}\n{result}\n")
assert checks["saliency"].passed and checks["integrated gradients"].passed
assert not checks["edge detector"].passed

fig, axes = plt.subplots(3, 5, figsize=(10, 6.4))
for row, (name, result) in enumerate(checks.items()):
    for col, attribution in enumerate(result.maps):
        axes[row, col].imshow(np.abs(attribution[0, 0]), cmap="magma")
        axes[row, col].axis("off")
        label = "trained" if col == 0 else f"random down to\n{result.layers[col - 1]}"
        axes[row, col].set_title(label if row == 0 else "", fontsize=8)
    axes[row, 0].text(-4, SIZE / 2, name, rotation=90, va="center", ha="right", fontsize=9)
fig.suptitle("cascading randomisation: gradients change, the edge detector does not")
fig.tight_layout()
save_figure(fig, "20_sanity_check.png", dpi=110)

# %% [markdown]
# ## 6. A tabular model: which measurements matter?
#
# Lesson 06's second case: a small MLP on the Wisconsin breast-cancer data (30 measurements of
# cell nuclei), z-scored with statistics of the training split.  **Permutation importance**
# (Breiman, 2001; scikit-learn's `permutation_importance`, same arguments and result) shuffles one
# column of the test data and records how much the score drops,
# $I_j = s(X, y) - \frac1K\sum_k s(X^{(j,k)}, y)$: it needs nothing from the model but its answers.
# Integrated gradients from the mean patient (zero after z-scoring) give a per-patient answer
# instead; their mean absolute value ranks the features too.

# %%
cancer = load_breast_cancer()
Xc_train, Xc_test, yc_train, yc_test = train_test_split(*cancer, test_size=0.3, random_state=0, stratify=cancer.y)
scaler = StandardScaler().fit(Xc_train)
Xc_train, Xc_test = (scaler.transform(a).astype(np.float32) for a in (Xc_train, Xc_test))
mlp = nn.Sequential(nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(start_dim=0))
adam = optim.Adam(mlp.parameters(), lr=1e-2)
for epoch in range(200):
    loss = nn.functional.binary_cross_entropy_with_logits(mlp(tinymed.Tensor(Xc_train)),
                                                          tinymed.Tensor(yc_train.astype(np.float32)))
    adam.zero_grad()
    loss.backward()
    adam.step()
mlp.eval()


def auc(model, X, y):
    """The score to protect: ROC AUC of the model's logits (higher is better)."""
    with tinymed.no_grad():
        return metrics.roc_auc_score(y, model(tinymed.Tensor(X)).numpy())


importance = permutation_importance(mlp, Xc_test, yc_test, scoring=auc, n_repeats=5 if QUICK else 20,
                                    random_state=0)
ig_tabular, delta_tabular = IntegratedGradients(mlp).attribute(Xc_test, n_steps=64, return_convergence_delta=True)
mean_abs_ig = np.abs(ig_tabular.numpy()).mean(axis=0)
order = np.argsort(-importance.importances_mean)
print(f"test AUC {auc(mlp, Xc_test, yc_test):.3f}; importances: {importance.importances.shape} "
      "(features x repeats), as scikit-learn's")
print(f"{'feature':26s} {'AUC drop':>9s} {'± std':>7s} {'mean |IG|':>10s}")
for j in order[:8]:
    print(f"{cancer.feature_names[j]:26s} {importance.importances_mean[j]:9.4f} {importance.importances_std[j]:7.4f} "
          f"{mean_abs_ig[j]:10.3f}")
agreement = rank_correlation(importance.importances_mean[None], mean_abs_ig[None])
print(f"rank correlation of the two orders: {agreement:.2f}")
assert auc(mlp, Xc_test, yc_test) > 0.95
assert importance.importances.shape == (30, 5 if QUICK else 20)
assert agreement > 0.2
assert np.abs(delta_tabular.numpy()).max() < 0.05 * max(1.0, np.abs(ig_tabular.numpy().sum(axis=1)).max())

fig, ax = plt.subplots(figsize=(7, 4.2))
top = order[:12][::-1]
ax.barh([cancer.feature_names[j] for j in top], importance.importances_mean[top],
        xerr=importance.importances_std[top], color="tab:blue")
ax.set(xlabel="drop of test ROC AUC when the column is shuffled", title="permutation importance, breast-cancer MLP")
ax.tick_params(axis="y", labelsize=8)
fig.tight_layout()
save_figure(fig, "20_permutation_importance.png", dpi=110)

# %% [markdown]
# The drops are small -- a few thousandths of AUC -- although the model is good.  The 30 columns
# are ten measurements each given as mean, standard error and worst value, and radius, perimeter
# and area are nearly the same number: shuffle one and the others still carry it.  Permutation
# importance measures what the model *cannot do without*, not what it *uses*; correlated features
# share, and hide, their importance.

# %% [markdown]
# ## Summary
#
# - Five attribution methods with Captum's names on one model.  Pixel methods (saliency,
#   integrated gradients, SmoothGrad, occlusion) put several times their share of the map on the
#   opacity; Grad-CAM at 4×4 cells did not -- each map has to be checked against something known.
# - Integrated gradients satisfy completeness: they add up to $f(x) - f(x')$ up to the reported
#   convergence delta, which shrinks with more steps.
# - The randomisation test separates explanations of the model (gradients: the map changes as the
#   weights are randomised) from explanations of the input (an edge detector: it does not).
# - For tabular data, permutation importance ranks the measurements by what the model cannot
#   spare; with correlated measurements each one alone looks unimportant.
#
# **Exercises.** (1) Explain the films the model *missed* (false negatives): where do the maps
# point?  (2) Re-run section 4 with `Occlusion` windows of 3, 6 and 10 pixels: which size matches
# the lesions best, and why?  (3) Put `LayerGradCam` on `model[4]` (8×8) instead of `model[7]`.
# (4) Shuffle radius, perimeter and area together (one permutation for the three columns) and
# compare the drop with the three separate ones.
