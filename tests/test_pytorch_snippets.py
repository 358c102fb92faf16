"""The articles' PyTorch code: snippet S7 (a LeNet trained with a DataLoader loop) and snippet S3
(an attention module), written with tinymed.nn and tinymed.optim."""

import numpy as np

import tinymed
from tinymed import nn, optim
from tinymed.data import DataLoader, TensorDataset
from tinymed.nn import functional as F


def _blobs(n, size=12, classes=2, channels_last=True, seed=0):
    """Images of noise with a bright square whose position is the class (a spatial task)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.normal(0, 0.3, (n, size, size, 1)).astype(np.float32)
    side = size // 2
    for i, c in enumerate(y):
        r, col = divmod(int(c), 2)
        x[i, r * side:(r + 1) * side - 2, col * side:(col + 1) * side - 2, 0] += 1.0
    return (x if channels_last else x.transpose(0, 3, 1, 2).copy()), y


class LeNet(nn.Module):
    """Snippet S7 (article 004 §4), line for line."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def _cifar_like(n, seed):
    x, y = _blobs(n, size=32, classes=4, channels_last=False, seed=seed)
    return np.repeat(x, 3, axis=1), y


def test_s7_pytorch_style_loop_learns():
    tinymed.manual_seed(0)
    trainloader = DataLoader(TensorDataset(*_cifar_like(400, 4)), batch_size=20, shuffle=True)
    testloader = DataLoader(TensorDataset(*_cifar_like(200, 5)), batch_size=100, shuffle=False)
    model = LeNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    for _ in range(4):
        running = 0.0
        for inputs, labels in trainloader:
            optimizer.zero_grad()
            loss = criterion(model(tinymed.Tensor(inputs)), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
        losses.append(running / len(trainloader))
    correct = total = 0
    with tinymed.no_grad():
        for images, labels in testloader:
            predicted = model(tinymed.Tensor(images)).numpy().argmax(axis=1)
            total += len(labels)
            correct += int((predicted == labels).sum())
    assert losses[-1] < losses[0]
    assert correct / total > 0.8  # chance: 0.25


# ----- snippet S3 -----------------------------------------------------------------------------
class ArticleAttention(nn.Module):
    """Snippet S3 (article 001 §4.3) line for line, with its one bug fixed: ``MultiheadAttention``
    returns ``(output, weights)``, so the article's ``x = self.multihead_attention(x, x, x)``
    would hand a tuple to ``linear2``; here ``[0]`` takes the output."""

    def __init__(self, d_model, nhead=8, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.nhead = nhead
        self.dropout = dropout
        self.scaling = d_model ** -0.5
        self.linear1 = nn.Linear(d_model, d_model)
        self.linear2 = nn.Linear(d_model, d_model)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.multihead_attention = nn.MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(self, x):
        x = x * self.scaling
        x = self.linear1(x)
        x = self.dropout1(x)
        x = self.multihead_attention(x, x, x)[0]
        x = self.linear2(x)
        x = self.dropout2(x)
        return x


def test_s3_attention_module_learns_a_task_that_needs_the_whole_sequence():
    """Sequence-first input (length, batch, d_model), as PyTorch's default.  The label says
    whether two marker steps occur in the same sequence: no single step decides it."""
    tinymed.manual_seed(0)
    rng = np.random.default_rng(0)
    length, d = 8, 16
    a, b = rng.normal(0, 1.5, d), rng.normal(0, 1.5, d)

    def batch(n):
        x = rng.normal(0, 1, (length, n, d))
        has_a, has_b = rng.random(n) < 0.7, rng.random(n) < 0.7
        for i in range(n):
            pos = rng.permutation(length)
            if has_a[i]:
                x[pos[0], i] += a
            if has_b[i]:
                x[pos[1], i] += b
        return x.astype(np.float32), (has_a & has_b).astype(np.float32)

    attention, head = ArticleAttention(d_model=d, nhead=4, dropout=0.1), nn.Linear(d, 1)
    params = list(attention.parameters()) + list(head.parameters())
    assert attention(np.zeros((length, 3, d), np.float32)).shape == (length, 3, d)
    opt = optim.Adam(params, lr=3e-3)
    for _ in range(300):
        x, y = batch(32)
        logits = head(attention(tinymed.Tensor(x)).mean(dim=0)).reshape(-1)
        loss = F.binary_cross_entropy_with_logits(logits, tinymed.Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    attention.eval()
    x, y = batch(400)
    with tinymed.no_grad():
        predicted = head(attention(tinymed.Tensor(x)).mean(dim=0)).numpy().reshape(-1) > 0
    majority = max(y.mean(), 1 - y.mean())
    print(f"S3 accuracy {(predicted == y).mean():.3f}, majority class {majority:.3f}")
    assert (predicted == y).mean() > majority + 0.2
