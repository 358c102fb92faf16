"""The main job: `tinymed demo --quick` trains, evaluates and writes its figures and metrics, says
which epoch's weights it tested and what its claim does and does not show, and records the threads."""

import contextlib
import io
import json

import numpy as np
import pytest

from tinymed import cli, demo


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["demo", "--quick", "--out", str(out), "--data", "phantoms"])
    return code, out, printed.getvalue()


def test_quick_demo_learns_and_writes_everything(quick_run):
    code, out, _ = quick_run
    assert code == 0
    for name in ("demo_samples.png", "demo_training_curves.png", "demo_confusion_matrix.png", "demo_roc.png",
                 "pneumonia_cnn.npz", "demo_metrics.json"):
        assert (out / name).stat().st_size > 0, name
    result = json.loads((out / "demo_metrics.json").read_text())
    image, tabular = result["image"], result["tabular"]
    assert set(image) == {"accuracy", "recall", "specificity", "precision", "f1", "auc"}
    # quick mode trains on 840 small images for a few epochs: clearly above chance (0.5)
    assert image["accuracy"] > 0.8 and image["auc"] > 0.85
    assert tabular["accuracy"] >= 0.93
    assert "phantoms" in result["data"]


def test_the_run_says_which_epoch_it_restored_and_qualifies_its_claim(quick_run):
    _, out, printed = quick_run
    result = json.loads((out / "demo_metrics.json").read_text())
    restored, trained = result["restored_epoch"], result["epochs_trained"]
    assert 1 <= restored <= trained and len(result["epoch_seconds"]) == trained
    assert f"restored the weights of epoch {restored} of {trained} (lowest validation loss" in printed
    assert "the test below uses those weights" in printed
    verdict = printed.index("figure the article reports")
    assert printed[verdict:].split("\n")[1].strip().startswith("on synthetic phantoms: this shows that the pipeline")
    assert not (out / demo.PARTIAL_CHECKPOINT).exists()


def test_the_thread_settings_are_recorded_with_the_results(quick_run):
    _, out, printed = quick_run
    threads = json.loads((out / "demo_metrics.json").read_text())["threads"]
    assert threads["cpus"] >= 1 and threads["backend"] in ("numpy", "numba", "cupy")
    if threads["blas"]:  # threadpoolctl sees the BLAS pools: the demo's default is one thread
        assert all(pool["threads"] == 1 for pool in threads["blas"])
    assert "threads: BLAS" in printed


def test_saved_checkpoint_reproduces_the_reported_metrics(quick_run):
    import tinymed
    from tinymed.data import chest_phantoms, stratified_split

    _, out, _ = quick_run
    model = demo._cnn(32)
    model.load_state_dict(tinymed.load(out / "pneumonia_cnn.npz"))
    X, y = chest_phantoms(1200, size=32, seed=0)
    _, _, (X_test, y_test) = stratified_split(X, y, val=0.15, test=0.15, seed=0)
    model.eval()
    with tinymed.no_grad():
        logits = model(tinymed.Tensor(demo.standardize_images(X_test))).numpy()
    accuracy = float(np.mean((logits > 0) == y_test))
    reported = json.loads((out / "demo_metrics.json").read_text())["image"]["accuracy"]
    assert accuracy == pytest.approx(reported, abs=1e-9)


def test_standardize_images_gives_each_image_zero_mean_unit_std():
    scales = np.float32([[[[1]]], [[[2]]], [[[3]]]])
    x = np.random.default_rng(0).uniform(0.2, 0.9, (3, 1, 8, 8)).astype(np.float32) * scales
    z = demo.standardize_images(x)
    np.testing.assert_allclose(z.mean(axis=(1, 2, 3)), 0, atol=1e-6)
    np.testing.assert_allclose(z.std(axis=(1, 2, 3)), 1, atol=1e-5)
    assert z.dtype == np.float32


@pytest.mark.parametrize("kwargs, message", [
    ({"size": 30}, "size must be a multiple of 8"),
    ({"epochs": 0}, "epochs must be a whole number of at least 1, got 0"),
    ({"seed": -1}, "seed must be a whole number of at least 0, got -1"),
    ({"n": 2.5}, "n must be a whole number"),
    ({"blas_threads": -2}, "blas_threads must be a whole number of at least 0"),
])
def test_bad_arguments_are_refused_before_any_work(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        demo.run(out=tmp_path / "out", verbose=0, tabular=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_unknown_data(tmp_path):
    with pytest.raises(ValueError, match="data must be 'auto', 'phantoms' or 'pneumoniamnist'"):
        demo.run(data="xray", n=80, size=16, epochs=1, verbose=0, tabular=False, out=tmp_path)


def test_auto_falls_back_to_phantoms_when_the_medmnist_file_is_unreadable(tmp_path, monkeypatch):
    (tmp_path / ".medmnist").mkdir()
    (tmp_path / ".medmnist" / "pneumoniamnist.npz").write_bytes(b"PK\x03\x04 cut short")
    monkeypatch.setenv("HOME", str(tmp_path))
    said = []
    X, y, description = demo._load_images("auto", 40, 16, 0, said.append)
    assert "phantoms" in description and X.shape == (40, 1, 16, 16)
    assert said[0].startswith("PneumoniaMNIST unreadable (load_medmnist:") and "using chest phantoms" in said[0]
    with pytest.raises(ValueError, match="not a readable MedMNIST"):
        demo._load_images("pneumoniamnist", 40, 16, 0, said.append)


def test_an_epoch_far_slower_than_the_fastest_is_reported(monkeypatch):
    clock = iter([0.0, 2.0, 2.0, 4.0, 4.0, 4.5, 4.5, 12.0])  # epochs of 2, 2, 0.5 and 7.5 s
    monkeypatch.setattr(demo.time, "perf_counter", lambda: next(clock))
    said, progress = [], demo._Progress()
    timer = demo._epoch_timer(said.append, progress)
    for epoch in range(4):
        timer.on_epoch_begin(epoch)
        timer.on_epoch_end(epoch)
    assert timer.seconds == [2.0, 2.0, 0.5, 7.5] and progress.epochs_done == 4
    assert len(said) == 1 and "epoch 4 took 8 s, 15.0x the fastest before it (0.5 s)" in said[0]
