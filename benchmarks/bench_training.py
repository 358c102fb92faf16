"""Training throughput of snippet S7's LeNet (article 004 §4): tinymed vs PyTorch, images per second.

Both train the same network (conv 6@5x5 - pool - conv 16@5x5 - pool - 120 - 84 - 10) with
SGD(lr=0.001, momentum=0.9) and cross-entropy on 32x32x3 inputs in batches of 64, starting
from the same weights; a step is forward, loss, backward and update.  The final losses are
printed too, as a check that both did the same work.

    python benchmarks/bench_training.py          # tinymed numba and numpy vs torch CPU
    python benchmarks/bench_training.py --gpu    # tinymed cupy vs torch CUDA
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.harness import gpu_name, gpu_slug, print_table, save, torch_or_none  # noqa: E402

BATCH, STEPS, WARMUP = 64, 40, 5


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH * 8, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, BATCH * 8)
    return x, y


def _tinymed_lenet():
    from tinymed import nn
    from tinymed.nn import functional as F

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.pool, self.conv2 = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return LeNet()


def _throughput(step, sync=lambda: None):
    for i in range(WARMUP):
        step(i)
    sync()
    start = time.perf_counter()
    for i in range(STEPS):
        loss = step(i)
    sync()
    return STEPS * BATCH / (time.perf_counter() - start), loss


def tinymed_run(backend_name, weights, x, y):
    import tinymed
    from tinymed import backend, nn, optim

    with tinymed.using(backend_name):
        model = _tinymed_lenet()
        model.load_state_dict(weights)
        opt = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
        criterion = nn.CrossEntropyLoss()
        batches = [(backend.asarray(x[i:i + BATCH]), backend.asarray(y[i:i + BATCH])) for i in range(0, len(x), BATCH)]

        def step(i):
            xb, yb = batches[i % len(batches)]
            opt.zero_grad()
            loss = criterion(model(tinymed.Tensor(xb)), yb)
            loss.backward()
            opt.step()
            return loss.item()

        sync = (lambda: __import__("cupy").cuda.Device().synchronize()) if backend_name == "cupy" else (lambda: None)
        return _throughput(step, sync)


def torch_run(torch, weights, x, y, device):
    nn = torch.nn

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.pool, self.conv2 = nn.Conv2d(3, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def forward(self, x):
            F = torch.nn.functional
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = x.view(-1, 16 * 5 * 5)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    model = LeNet().to(device)
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    batches = [(torch.tensor(x[i:i + BATCH], device=device), torch.tensor(y[i:i + BATCH], device=device))
               for i in range(0, len(x), BATCH)]

    def step(i):
        xb, yb = batches[i % len(batches)]
        opt.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.item()

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return _throughput(step, sync)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gpu", action="store_true", help="tinymed cupy vs torch CUDA")
    gpu = parser.parse_args().gpu
    import tinymed

    tinymed.manual_seed(0)
    weights = _tinymed_lenet().state_dict()
    x, y = _data()
    torch = torch_or_none()
    rows = []
    for name in (["cupy"] if gpu else ["numba", "numpy"]):
        images_per_s, loss = tinymed_run(name, weights, x, y)
        rows.append({"contender": f"tinymed {name}", "images_per_s": images_per_s, "final_loss": loss})
    if torch is not None:
        device = "cuda" if gpu else "cpu"
        images_per_s, loss = torch_run(torch, weights, x, y, device)
        rows.append({"contender": f"torch {device}", "images_per_s": images_per_s, "final_loss": loss})
        for row in rows[:-1]:
            row["vs_torch"] = row["images_per_s"] / images_per_s
    print_table(rows, ["contender", "images_per_s", "vs_torch", "final_loss"])
    payload = {"model": "LeNet (S7)", "batch": BATCH, "steps": STEPS, "rows": rows,
               "note": "vs_torch = tinymed images/s divided by torch images/s (target >= 0.7 on the CPU)"}
    if gpu:
        payload["device"] = gpu_name()
        print(f"wrote {save('training_lenet_gpu_' + gpu_slug(payload['device']), payload)}")
    else:
        print(f"wrote {save('training_lenet_cpu', payload)}")


if __name__ == "__main__":
    main()
