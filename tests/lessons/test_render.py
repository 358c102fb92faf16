"""The terminal renderer: LaTeX maths as Unicode, markdown reflowed to the terminal's width, and
every markdown cell of every lesson rendered at 80 and 120 columns without leftover LaTeX,
unbalanced delimiters or broken words."""

import re
from pathlib import Path

import pytest

from tinymed import lessons
from tinymed.lessons import display_width, render_markdown, render_math

LESSON_FILES = sorted(p for p in (Path(__file__).resolve().parents[2] / "lessons").glob("*.py")
                      if lessons.LESSON_FILE.match(p.name))


@pytest.mark.parametrize("tex, text", [
    (r"\frac{1}{n}\sum_{i=1}^{n} (y_i - \hat{y}_i)^2", "1/n Σᵢ₌₁ⁿ (yᵢ - y\u0302ᵢ)²"),
    (r"\theta_{t+1} = \theta_t - \alpha \nabla_\theta L", "θₜ₊₁ = θₜ - α ∇_θ L"),
    (r"\alpha = \frac{1}{\sqrt{t}}", "α = 1/√t"),
    (r"y_{ij} = \sum_{k=1}^{K} x_{ik} * w_{kj} + b_j", "yᵢⱼ = Σ[k=1..K] xᵢₖ * wₖⱼ + bⱼ"),
    (r"\mathrm{softmax}(z)_c", "softmax(z)_c"),
    # a transpose is ᵀ with no caret, and a product's upper limit T never reads as one
    (r"X W_1^\top + b", "X W₁ᵀ + b"),
    (r"\Big(\prod_{s=T-k+1}^{T} D_s W\Big)^{\!\top} g", "(∏[s=T-k+1..T] Dₛ W)ᵀ g"),
    (r"\frac{\partial L}{\partial W}", "∂L/∂W"),
    (r"\lVert p_u \rVert^2", "‖pᵤ‖²"),
    (r"p(y_t \mid y_{<t})", "p(yₜ | y_(<t))"),
    (r"\texttt{in\_proj\_weight}", "in_proj_weight"),
    (r"\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}", "{ 1, if x > 0; 0, otherwise }"),
    (r"\begin{bmatrix} a & b \\ \vdots & \vdots \end{bmatrix}", "[a, b; ⋮, ⋮]"),
    (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "a = b; c = d"),
    (r"\unknowncommand x", r"\unknowncommand x"),  # left visible, so the lesson test catches it
])
def test_render_math(tex, text):
    assert render_math(tex) == text


def test_render_markdown_headings_bold_math_lists():
    md = ("# Lesson 01 — Title\nSome **bold**, *italic*, $x_i * w$ and `a * b * c`.\n## Part\n"
          "- a [link](http://x)\n- b\n$$\nL = \\frac{a}{b}\n$$")
    plain = render_markdown(md, width=80).splitlines()
    assert plain == ["Lesson 01 — Title", "═" * 17, "", "Some bold, *italic*, xᵢ * w and a * b * c.", "", "Part",
                     "────", "", "• a link (http://x)", "• b", "", "    L = a/b"]
    colored = render_markdown(md, color=True, width=80)
    assert "\x1b[1mbold\x1b[0m" in colored and "\x1b[3mitalic\x1b[0m" in colored


def test_paragraphs_reflow_and_maths_may_span_lines():
    md = "A paragraph written over\nthree source lines, with maths $a +\nb_i$ across two of them."
    joined = "A paragraph written over three source lines, with maths a + bᵢ across two of them."
    assert render_markdown(md, width=200) == joined
    narrow = render_markdown(md, width=20).splitlines()
    assert all(display_width(line) <= 20 for line in narrow) and len(narrow) > 3


def test_lists_numbered_items_quotes_tables_and_code_keep_their_shape():
    md = ("1. first item that is long enough\n   to continue here\n2. second\n\n> a quoted\n> sentence\n\n"
          "| a | b |\n|---|---|\n\n```\ncode  stays   as is\n```")
    text = render_markdown(md, width=24)
    assert text.splitlines()[:3] == ["1. first item that is", "   long enough to", "   continue here"]
    assert "2. second" in text and "│ a quoted sentence" in text
    assert "| a | b |" in text and "    code  stays   as is" in text


def test_a_long_word_stands_alone_and_is_never_split():
    word = "x" * 30
    assert render_markdown(f"short {word} end", width=20).splitlines() == ["short", word, "end"]


def test_display_width_counts_columns():
    assert display_width("ŷ") == 1  # y + combining hat
    assert display_width("肺炎") == 4  # wide characters
    assert display_width("\x1b[1mbold\x1b[0m") == 4


# ----- every lesson ---------------------------------------------------------------------------
_LATEX = re.compile(r"\\[A-Za-z]+|\\[{}\[\]()|,;!]")  # a command, or an escaped delimiter left over
_STRAY_SCRIPT = re.compile(r"[_^][\u1d40\u1d2c-\u1d61\u2070-\u209c\u00b2\u00b3\u00b9]")  # ^ᵀ, _ᵢ
_PAIRS = {")": "(", "]": "[", "}": "{", "⟩": "⟨", "⌋": "⌊", "⌉": "⌈"}


def _unbalanced(text: str):
    """The first delimiter without a partner in ``text``, or None."""
    stack = []
    for ch in text:
        if ch in "([{⟨⌊⌈":
            stack.append(ch)
        elif ch in _PAIRS:
            if not stack or stack.pop() != _PAIRS[ch]:
                return ch
    return stack[-1] if stack else None


def _markdown_cells():
    for path in LESSON_FILES:
        for cell in lessons.Lesson.from_file(path).cells:
            if cell.kind == "markdown":
                yield pytest.param(cell.source, id=f"{path.stem}:{cell.line}")


def _is_code_block(line: str, source: str) -> bool:
    return line.startswith("    ") and line.strip() in source


@pytest.mark.parametrize("source", list(_markdown_cells()))
@pytest.mark.parametrize("width", [80, 120])
def test_every_lesson_renders_cleanly(source, width):
    text = render_markdown(source, width=width)
    wide = render_markdown(source, width=10_000)
    words = [w for w in text.split() if w != "│"]  # a quote's bar starts each of its lines
    assert words == [w for w in wide.split() if w != "│"], "reflowing changed the words: a word was split or joined"
    maths = [render_math(m) for m in re.findall(r"\$\$(.+?)\$\$|\$([^$]+)\$", source.replace("\n", " "), re.S)
             for m in m if m]
    for line in text.splitlines():
        assert display_width(line) <= width or len(line.split()) == 1 or line in wide.splitlines(), \
            f"line wider than {width} columns: {line!r}"
        if _is_code_block(line, source):
            continue
        assert not _LATEX.search(line), f"leftover LaTeX in {line!r}"
        assert not _STRAY_SCRIPT.search(line), f"stray sub/superscript mark in {line!r}"
        assert "$" not in line, f"unclosed maths in {line!r}"
    for formula in maths:
        assert _unbalanced(formula) is None, f"unbalanced delimiter {_unbalanced(formula)!r} in {formula!r}"


def test_the_lesson_check_catches_what_it_looks_for():
    assert _unbalanced("(a [b)") == ")" and _unbalanced("{a") == "{" and _unbalanced("(a [b] ⌊c⌋)") is None
    assert _LATEX.search(render_math(r"\unknowncommand")) and _STRAY_SCRIPT.search("^ᵀ")
    broken = render_markdown("a " + "word " * 30, width=20)
    assert all(display_width(line) <= 20 for line in broken.splitlines())
