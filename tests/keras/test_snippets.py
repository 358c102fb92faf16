"""The articles' Keras snippets S1, S2, S4 and S6, exactly as printed, run through tinymed.keras with
only their import lines changed (``tensorflow`` -> ``tinymed``).

The code below is quoted from the articles (001 §4.1-4.2, 002 §4.1, 003 §5.2): it is what the
library promises to run, so it is kept character for character apart from the import lines.
"""

import numpy as np
import pytest

import tinymed

S1 = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv2D, MaxPooling2D, Dense, Flatten
model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(224, 224, 3)))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Conv2D(128, (3, 3), activation='relu'))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(1024, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
"""

S2 = """\
loss = tf.keras.losses.BinaryCrossentropy()
optimizer = tf.keras.optimizers.SGD(lr=0.01, momentum=0.9)
model.compile(optimizer=optimizer, loss=loss, metrics=['accuracy'])
"""

S4 = """\
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

# 构建模型
model = Sequential()
model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))
model.add(MaxPooling2D((2, 2)))
model.add(Flatten())
model.add(Dense(10, activation='softmax'))

# 编译模型
model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=10, batch_size=32)
"""

S6 = """\
# 导入相关库
import tensorflow as tf
import numpy as np
import matplotlib.pyplot as plt

# 模型参数
learning_rate = 0.001
batch_size = 32
num_epochs = 100

# 数据集
x_train = np.array([[1, 2], [3, 4], [5, 6], [7, 8]])
y_train = np.array([[0, 1], [1, 0], [0, 1], [1, 0]])

# 创建模型
model = tf.keras.Sequential([
    tf.keras.layers.Dense(2, activation='sigmoid', input_shape=(2,))
])

# 编译模型
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate),
              loss=tf.keras.losses.BinaryCrossentropy(),
              metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, batch_size=batch_size, epochs=num_epochs)

# 模型预测
x_test = np.array([[2, 3], [4, 5], [6, 7]])
y_pred = model.predict(x_test)

# 模型评估
print("Accuracy:", model.evaluate(x_test, y_test)[1])
"""


def ported(source):
    """``source`` with ``tensorflow`` replaced by ``tinymed`` in its import lines, and nowhere else."""
    lines = source.splitlines()
    out = [line.replace("tensorflow", "tinymed") if line.startswith(("import ", "from ")) else line
           for line in lines]
    changed = [i for i, (a, b) in enumerate(zip(lines, out)) if a != b]
    assert all(lines[i].startswith(("import ", "from ")) for i in changed)
    assert "tensorflow" not in "\n".join(out)  # so no other line named it
    return "\n".join(out) + "\n"


def run(source, namespace):
    exec(compile(ported(source), "<article snippet>", "exec"), namespace)
    return namespace


def test_s1_then_s2_build_the_articles_224_pixel_model_and_recompile_it():
    tinymed.manual_seed(0)
    ns = run(S1, {})
    model = ns["model"]
    # conv 3->32, 32->64, 64->128 (3x3 kernels) and 224 -> 222/111 -> 109/54 -> 52/26 pixels
    convs = 32 * 3 * 9 + 32 + 64 * 32 * 9 + 64 + 128 * 64 * 9 + 128
    dense = 26 * 26 * 128 * 1024 + 1024 + 1024 + 1
    assert model.num_parameters() == convs + dense
    assert model.predict(np.zeros((1, 224, 224, 3), np.float32)).shape == (1, 1)
    adam = model.optimizer
    run(S2, ns)
    assert model.optimizer is not adam and type(model.optimizer).__name__ == "SGD"
    assert model.optimizer.learning_rate == 0.01 and model.optimizer.momentum == 0.9
    assert isinstance(model.loss, tinymed.keras.losses.BinaryCrossentropy)


def test_s4_trains_on_28_pixel_grey_images(capsys):
    tinymed.manual_seed(0)
    rng = np.random.default_rng(0)
    y_train = rng.integers(0, 4, 96)
    x_train = rng.normal(0, 0.3, (96, 28, 28, 1)).astype(np.float32)
    for i, c in enumerate(y_train):  # a bright square in one of four quarters: the class
        r, col = divmod(int(c), 2)
        x_train[i, 14 * r:14 * r + 12, 14 * col:14 * col + 12, 0] += 1.0
    ns = run(S4, {"x_train": x_train, "y_train": y_train})
    history = ns["model"].history.history
    assert len(history["loss"]) == 10 and history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > 0.9
    assert "Epoch 10/10" in capsys.readouterr().out


def test_s6_runs_until_its_undefined_y_test(capsys):
    tinymed.manual_seed(0)
    namespace = {}
    with pytest.raises(NameError, match="y_test"):
        run(S6, namespace)
    assert namespace["y_pred"].shape == (3, 2)
    assert type(namespace["model"].optimizer).__name__ == "Adam"
    assert namespace["model"].optimizer.learning_rate == 0.001
    assert "Epoch 100/100" in capsys.readouterr().out
