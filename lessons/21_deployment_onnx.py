# %% [markdown]
# # Lesson 21 — Deploying the pneumonia model with ONNX
# Article 003's deployment step done: export the trained CNN to an ONNX file, check it, run it in ONNX Runtime, and compare its answers and its latency per image with tinymed's own.
#
# Article 003 §3.2.4 ends the life of a model with its deployment:
#
# 1. **model conversion** -- "convert the trained model into a format that runs on the target
#    device, such as ONNX or TensorFlow Lite" (formula list F21);
# 2. deployment on the device (phones, tablets, the hospital information system of §4.3);
# 3. **real-time prediction** on the device.
#
# ONNX (Open Neural Network Exchange) is a file format for a computation graph: the operators
# (`Conv`, `MaxPool`, `MatMul`, ...), how they are wired, and the weights.  Runtimes written for
# servers, phones and browsers execute it without the library that trained the model -- the
# hospital's system needs neither Python nor tinymed.  `tinymed.export.onnx.to_onnx` writes the
# file (it needs `pip install 'tinymed[export]'`); ONNX Runtime (`pip install onnxruntime`) runs it.
# Where they are missing, the lesson says what it skips and does the rest.

# %%
import importlib.util
import time

import matplotlib.pyplot as plt
import numpy as np

import tinymed
from tinymed import metrics, nn, optim
from tinymed.data import chest_phantoms, stratified_split
from tinymed.demo import standardize_images
from tinymed.keras.losses import BinaryCrossentropy
from tinymed.keras.models import Sequential
from tinymed.lessons import out_dir, quick, save_figure

QUICK = quick()
tinymed.manual_seed(0)
SIZE = 32
HAVE_ONNX = importlib.util.find_spec("onnx") is not None
HAVE_RUNTIME = importlib.util.find_spec("onnxruntime") is not None
print(f"onnx installed: {HAVE_ONNX}; onnxruntime installed: {HAVE_RUNTIME}")

# %% [markdown]
# ## 1. The model to deploy
#
# Lesson 06's pneumonia CNN on the chest phantoms, trained briefly here (lesson 06 does it with
# care).  Each film is standardised by its own mean and standard deviation before the network sees
# it -- a step the deployed system has to repeat, because it is not part of the network.

# %%
data = chest_phantoms(800 if QUICK else 2000, size=SIZE, seed=0)
(X_train, y_train), _, (X_test, y_test) = stratified_split(standardize_images(data.X), data.y, val=0.1,
                                                           test=0.2, seed=0)


def pneumonia_cnn():
    """Three conv-ReLU-pool blocks and a linear unit: one logit of pneumonia per film."""
    return Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * (SIZE // 8) ** 2, 1), nn.Flatten(start_dim=0),
    )


model = pneumonia_cnn()
model.compile(optimizer=optim.Adam(lr=2e-3), loss=BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
model.fit(X_train, y_train.astype(np.float32), epochs=6 if QUICK else 15, batch_size=32, verbose=0)
model.eval()
with tinymed.no_grad():
    logits = model(tinymed.Tensor(X_test)).numpy()
print(f"test accuracy {metrics.accuracy_score(y_test, (logits > 0).astype(int)):.3f}, "
      f"{model.num_parameters():,} parameters")

# %% [markdown]
# ## 2. tinymed's own deployment: a checkpoint
#
# Inside a Python system the simplest deployment is tinymed itself: `tinymed.save` writes the
# weights (a plain `.npz`, written atomically, read without pickle), and the serving code rebuilds
# the architecture and loads them.  It needs tinymed -- and the very same model code -- on the
# device.

# %%
checkpoint = out_dir() / "21_pneumonia.npz"
tinymed.save(model, checkpoint)
served = pneumonia_cnn()
served.load_state_dict(tinymed.load(checkpoint))
served.eval()
with tinymed.no_grad():
    assert np.array_equal(served(tinymed.Tensor(X_test)).numpy(), logits)
print(f"checkpoint {checkpoint.name}: {checkpoint.stat().st_size / 1024:.1f} KiB, same answers")

# %% [markdown]
# ## 3. Conversion: the ONNX file
#
# `to_onnx(model, example_input, path, opset=17, dynamic_batch=True)` walks the layers and writes
# each as the ONNX operators that compute the same thing -- `Conv2d` as `Conv`, `MaxPool2d` as
# `MaxPool`, `Flatten` as `Reshape`, `Linear` as `MatMul` and `Add`, `Dropout` (off in a deployed
# model) as `Identity`.  The example input fixes every size but the batch, which stays free, so
# the same file scores one film or a hundred.  Before saving, `to_onnx` checks the graph with
# `onnx.checker` and runs it once on the example (in ONNX Runtime, or else in onnx's own
# reference evaluator): it must reproduce the model's answers.

# %%
onnx_path = out_dir() / "21_pneumonia.onnx"
if HAVE_ONNX:
    from tinymed.export.onnx import to_onnx

    proto = to_onnx(model, X_test[:2], onnx_path)
    operators = [node.op_type for node in proto.graph.node]
    print(f"{onnx_path.name}: {onnx_path.stat().st_size / 1024:.1f} KiB, opset {proto.opset_import[0].version}, "
          f"{len(operators)} operators")
    print(" -> ".join(operators))
    for value in list(proto.graph.input) + list(proto.graph.output):
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        print(f"  {value.name}: {dims}")
    assert operators.count("Conv") == 3 and operators.count("MaxPool") == 3
    assert [d.dim_param for d in proto.graph.input[0].type.tensor_type.shape.dim][0] == "batch"
else:
    print("onnx is not installed (pip install 'tinymed[export]'): the export, and everything that runs "
          "the exported file, is skipped")

# %% [markdown]
# ## 4. The same answers in ONNX Runtime
#
# The hospital's side: open the file in a runtime and feed it standardised films.  Its answers
# must be tinymed's up to float32 rounding (the two libraries add in different orders), and the
# decisions identical.  Without ONNX Runtime the file is run by onnx's reference evaluator instead
# (plain NumPy, slow, but the same operators).

# %%
if HAVE_ONNX:
    if HAVE_RUNTIME:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])

        def run_exported(images):
            return session.run(None, {"input": images})[0]

        runner = f"ONNX Runtime {onnxruntime.__version__}"
    else:
        from onnx.reference import ReferenceEvaluator

        reference = ReferenceEvaluator(str(onnx_path))

        def run_exported(images):
            return reference.run(None, {"input": images})[0]

        runner = "onnx's reference evaluator (ONNX Runtime is not installed: pip install onnxruntime)"
    exported_logits = np.concatenate([run_exported(X_test[i:i + 64]) for i in range(0, len(X_test), 64)])
    relative = np.abs(exported_logits - logits).max() / np.abs(logits).max()
    agree = np.mean((exported_logits > 0) == (logits > 0))
    print(f"{runner}: largest difference {relative:.1e} of the largest logit; decisions agree on {agree:.1%} "
          f"of {len(X_test)} test films")
    assert relative <= 1e-5 and agree == 1.0
else:
    print("skipped: no ONNX file without the onnx package")

# %% [markdown]
# ## 5. Real-time prediction: latency per image
#
# The article's third step asks for predictions in real time.  We time one film at a time (a
# doctor opening a study) and a batch of 64 (a night's backlog), taking the median of repeated
# runs.  Timings depend on the machine and on what else it is doing: they are printed, not
# asserted.

# %%
def latency_ms(predict, images, repeats):
    """Median wall time of ``predict(images)``, in milliseconds per image."""
    predict(images)  # warm up: the first call compiles or allocates
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(images)
        times.append(time.perf_counter() - start)
    return 1000 * np.median(times) / len(images)


def run_tinymed(images):
    with tinymed.no_grad():
        return model(tinymed.Tensor(images)).numpy()


repeats = 5 if QUICK else 30
runners = {f"tinymed ({tinymed.current()})": run_tinymed}
if HAVE_ONNX and HAVE_RUNTIME:
    runners["ONNX Runtime"] = run_exported
table = {name: [latency_ms(run, X_test[:batch], repeats) for batch in (1, 64)] for name, run in runners.items()}
print(f"{'':24s} {'1 film':>10s} {'64 films':>10s}   (ms per film)")
for name, (one, many) in table.items():
    print(f"{name:24s} {one:10.3f} {many:10.3f}")
if len(runners) == 1:
    print("ONNX Runtime is not installed: only tinymed is timed")

fig, ax = plt.subplots(figsize=(6, 3.4))
width = 0.8 / len(table)
for k, (name, values) in enumerate(table.items()):
    ax.bar(np.arange(2) + k * width, values, width, label=name)
ax.set_xticks(np.arange(2) + width * (len(table) - 1) / 2, ["one film", "batch of 64"])
ax.set(ylabel="milliseconds per film", title="latency of the pneumonia CNN")
ax.legend(fontsize=8)
fig.tight_layout()
save_figure(fig, "21_latency.png", dpi=110)
assert all(np.isfinite(v).all() and min(v) > 0 for v in table.values())

# %% [markdown]
# ## Summary
#
# - A checkpoint (`tinymed.save`/`tinymed.load`) deploys a model where tinymed runs; an ONNX file
#   (`tinymed.export.onnx.to_onnx`) deploys it anywhere an ONNX runtime does, without Python.
# - The file holds the network only: the preprocessing -- here each film's own standardisation --
#   must be done the same way by the system that feeds it, or the answers change silently.
# - `to_onnx` checks the graph with `onnx.checker` and verifies it on the example input; ONNX
#   Runtime then gives tinymed's answers to float32 rounding, and the same decisions.
# - Latency per film depends on the runtime, the batch size and the machine: it is measured on the
#   device the model will run on, not assumed.
#
# **Exercises.** (1) Export with `dynamic_batch=False` and feed the session a batch of 3: what does
# ONNX Runtime say?  (2) Export the breast-cancer MLP of lesson 20 and score one patient.
# (3) Put the standardisation into the model (a tinymed layer in front) -- which ONNX operators
# would it need?
