# %% [markdown]
# # Lesson 26 — Your first exercise
# Start an exercise, hand in a wrong derivative, read the autograder's diagnosis, fix it, get full marks; then the teacher's side.
#
# Reading a kernel is not the same as writing one. tinymed's course kit hands a student the
# signature, the docstring and the formula of a function to write, and grades what comes back:
# hypothesis draws inputs until one gives a different answer from tinymed's own code, *shrinks*
# it to the smallest input that still does, and compares the wrong answer with the mistakes
# students usually make -- a flipped sign, a missing $1/n$, a transposed gradient, padding on one
# side -- to say which one it is. On the command line:
#
# ```
# tinymed exercise list                     # what there is
# tinymed exercise start mse_loss           # writes mse_loss.py (add --notebook for a notebook)
# tinymed exercise check mse_loss.py        # grades it; exit status 1 while marks are lost
# ```
#
# This lesson does the same from Python, on the first derivative of the course: the mean squared
# error of article 003 §4.1, $L = \frac1n \sum_i (\hat y_i - y_i)^2$ (formula F12), whose derivative
# the article gets wrong.

# %%
import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from tinymed.exercises import EXERCISES, check_file, get, student_source
from tinymed.gradcheck import check_backward
from tinymed.lessons import out_dir, save_figure

work = Path(out_dir()) / "26_exercises"
work.mkdir(parents=True, exist_ok=True)
print(f"{len(EXERCISES)} exercises:", ", ".join(EXERCISES))

# %% [markdown]
# ## 1. Start
#
# `tinymed exercise start mse_loss` writes the file below: the formula, where the lesson is, and
# one function to fill in per task, each still raising `NotImplementedError`. It gives nothing
# away -- the solutions are tinymed's own code, which the file only names, for afterwards.

# %%
exercise = get("mse_loss")
path = work / "mse_loss.py"
path.write_text(student_source(exercise))
print(path.read_text())
assert "raise NotImplementedError" in path.read_text()


# %%
def hand_in(bodies):
    """The student's file with each function's TODO replaced by the body given for it."""
    text = student_source(exercise)
    for name, body in bodies.items():
        todo = f'    # TODO: your code here\n    raise NotImplementedError("{name} is not written yet")\n'
        text = text.replace(todo, f"    {body}\n")
    path.write_text(text)
    return check_file(path)


untouched = check_file(path)
print(f"as handed out: {untouched.score:g}/{untouched.max_score:g}")
assert untouched.score == 0

# %% [markdown]
# ## 2. A first attempt: the article's derivative
#
# The forward pass is the formula. For the gradient our student trusts the article, which writes
# $\partial L/\partial \hat y = 2(y - \hat y)$.

# %%
forward = "return ((input - target) ** 2).mean()"
first = hand_in({"mse_loss_forward": forward, "mse_loss_backward": "return 2 * (target - input)"})
print(first)

# %% [markdown]
# The forward pass gets every mark. The gradient loses them all, and the report says why: on the
# smallest input hypothesis could find -- a single number -- the answer has the wrong sign and
# lacks the $1/n$ of the mean; the grader recognises the article's formula. The gradient check
# against central differences fails too, at the element it names.

# %%
lost = [p for p in first.parts if not p.passed]
assert all(p.name.startswith("mse_loss_backward") for p in lost) and first.score < first.max_score
agreement = next(p for p in first.parts if p.name.startswith("mse_loss_backward: agrees"))
assert "article_derivative" in agreement.mistakes
assert re.search(r"input = \[-?\d+\.\d*\]\n", agreement.output)  # the smallest input: one number
assert any(p.name.startswith("mse_loss_backward: gradients") for p in lost)

# %% [markdown]
# ## 3. A second attempt: the sign fixed, the mean forgotten
#
# Differentiating $\frac1n\sum_i(\hat y_i - y_i)^2$ with respect to $\hat y_i$ gives
# $\frac2n(\hat y_i - y_i)$. A student who fixes the sign but still forgets the $n$:

# %%
second = hand_in({"mse_loss_forward": forward, "mse_loss_backward": "return 2 * (input - target)"})
diagnosis = next(p for p in second.parts if p.name.startswith("mse_loss_backward: agrees"))
print(diagnosis.output)
assert diagnosis.mistakes == ["factor"] and "missing division by n" in diagnosis.output
assert re.search(r"input = \[-?\d+\.\d* +-?\d+\.\d*\]\n", diagnosis.output)  # two numbers

# %% [markdown]
# The smallest failing input has two numbers this time: with one, $n = 1$ and a missing division by
# $n$ cannot show. The diagnosis compares the answer with the right one on every failing input it
# has: here it is $n$ times too large on each, and $n$ -- the number of elements -- is a constant
# the exercise knows by name, so the report says "a missing division by n".
#
# ## 4. The fix, and full marks

# %%
final = hand_in({"mse_loss_forward": forward, "mse_loss_backward": "return 2 * (input - target) / input.size"})
print(final)
assert final.passed and final.score == final.max_score

# %% [markdown]
# The three hand-ins side by side: each bar is one part of the grade, and what it earned of what it
# was worth. The forgotten $n$ keeps the marks a wrong factor cannot touch -- the shapes, a zero
# gradient, and the one-element edge case, where $n = 1$ -- and loses the rest.

# %%
attempts = {"the article's derivative": first, "the mean forgotten": second, "fixed": final}
part_names = [p.name for p in final.parts]
fig, ax = plt.subplots(figsize=(10, 0.45 * len(part_names) + 1.2), layout="constrained")
height = 0.8 / len(attempts)
rows = np.arange(len(part_names))[::-1]  # the first part at the top
for k, (label, report) in enumerate(attempts.items()):
    earned = {p.name: p.score / p.max_score for p in report.parts}
    ax.barh(rows + (1 - k) * height, [earned[n] for n in part_names], height, label=label)
ax.set_yticks(rows, part_names, fontsize=8)
ax.set_xlabel("share of the part's marks earned")
ax.set_xlim(0, 1.0)
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
ax.set_title("mse_loss: marks per part on each hand-in")
save_figure(fig, "26_marks_per_attempt.png", dpi=110)
assert [p.name for p in first.parts] == part_names == [p.name for p in second.parts]
assert next(p for p in second.parts if p.name.endswith("edge case: one element")).passed

# %% [markdown]
# ## 5. Checking anyone's gradient
#
# The gradient part of the grade is `tinymed.gradcheck.check_backward`, which checks any pair of
# plain NumPy functions `forward(*inputs)` and `backward(dy, *inputs)` -- no tinymed Tensors --
# against central differences, every element, in float64:

# %%
def mse(input, target):
    return ((input - target) ** 2).mean()


rng = np.random.default_rng(0)
y_hat, y = rng.standard_normal(6), rng.standard_normal(6)
right = check_backward(mse, lambda dy, input, target: dy * 2 * (input - target) / input.size, y_hat, y, wrt=[0])
articles = check_backward(mse, lambda dy, input, target: dy * 2 * (target - input), y_hat, y, wrt=[0])
print(right, articles, sep="\n")
assert right.passed and not articles.passed

# %% [markdown]
# ## 6. The teacher's side
#
# `tinymed exercise build --to course/` writes the whole set: `student/` to hand out and
# `solution/` (tinymed's own code), each exercise as a script and a jupytext notebook whose last
# cell grades it. `tinymed exercise check --solution NAME` proves tinymed's solution gets full
# marks, and `--json results.json` writes Gradescope's autograder format, which Otter and most
# course platforms read. A student's infinite loop or crash costs that function's marks, not the
# grader: every part runs in a subprocess with a time limit.

# %%
results = final.to_gradescope()
print(json.dumps({**results, "tests": results["tests"][:2]}, indent=2))
assert results["score"] == sum(t["max_score"] for t in results["tests"])
assert {"name", "score", "max_score", "output"} <= set(results["tests"][0])
