"""Ctrl-C during ``tinymed demo`` training: exit status 130, a message that says what was kept, and
nothing written under a finished run's names (no metrics, no result figures, no final checkpoint)."""

import signal
import time

FINISHED_RUN = ("demo_metrics.json", "pneumonia_cnn.npz", "demo_training_curves.png", "demo_confusion_matrix.png",
                "demo_roc.png")


def test_ctrl_c_during_training_keeps_only_what_it_says(tmp_path, tinymed_command):
    out = tmp_path / "out"
    partial = out / "pneumonia_cnn.partial.npz"
    demo = tinymed_command("demo", "--quick", "--data", "phantoms", "--epochs", "40", "--no-tabular", "--out", out,
                           wait=False)
    deadline = time.monotonic() + 240
    while not partial.exists() and demo.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the partial checkpoint appears after the first epoch
    assert partial.exists(), "no epoch finished in time"
    demo.send_signal(signal.SIGINT)
    stdout, stderr = demo.communicate(timeout=120)
    assert demo.returncode == 130, stderr
    assert "demo interrupted during epoch" in stderr
    assert f"kept: {out / 'demo_samples.png'} (training samples); {partial}, the weights of epoch" in stderr
    assert "not a finished run's result" in stderr and "No metrics, result figures or final checkpoint" in stderr
    assert "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == ["demo_samples.png", "pneumonia_cnn.partial.npz"]
    assert not any((out / name).exists() for name in FINISHED_RUN)
