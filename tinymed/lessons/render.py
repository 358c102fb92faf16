r"""Markdown and LaTeX math as terminal text: what stepping through a lesson shows of its explanations.

:func:`render_math` turns LaTeX into plain Unicode (``\frac{1}{n}\sum_i x_i^2`` -> ``1/n Σᵢ xᵢ²``);
:func:`render_markdown` turns a markdown cell into paragraphs reflowed to the terminal's width,
with headings, lists, quotes, tables, code blocks and display maths.  A line is only ever broken
at a space, so no word is split; a word longer than the width stands on a line of its own.

Unicode has one superscript T (``ᵀ``), so ``W^\top`` and a sum's upper limit ``T`` would look the
same; limits of a sum or a product are therefore written ``Σᵢ₌₁ⁿ`` only when both fit in sub- and
superscript letters without a capital, and ``∏[s=T-k+1..T]`` otherwise.
"""

from __future__ import annotations

import re
import shutil
import unicodedata

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "nabla": "∇", "partial": "∂", "cdot": "·", "times": "×", "ast": "∗", "circ": "∘",
    "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "ll": "≪", "gg": "≫", "approx": "≈", "equiv": "≡", "sim": "~",
    "propto": "∝", "pm": "±", "mp": "∓", "to": "→", "rightarrow": "→", "leftarrow": "←",
    "Rightarrow": "⇒", "Leftrightarrow": "⇔", "iff": "⇔", "mapsto": "↦", "infty": "∞",
    "in": "∈", "notin": "∉", "ni": "∋", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩",
    "emptyset": "∅", "forall": "∀", "exists": "∃", "neg": "¬", "land": "∧", "lor": "∨",
    "ldots": "…", "dots": "…", "cdots": "⋯", "vdots": "⋮", "ddots": "⋱", "lfloor": "⌊",
    "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "lVert": "‖", "rVert": "‖", "Vert": "‖", "|": "‖",
    "lvert": "|", "rvert": "|", "vert": "|", "mid": "|", "langle": "⟨", "rangle": "⟩",
    "top": "ᵀ", "intercal": "ᵀ", "prime": "′", "ell": "ℓ", "int": "∫",
    "log": "log", "ln": "ln", "exp": "exp", "max": "max", "min": "min", "sup": "sup", "inf": "inf",
    "arg": "arg", "lim": "lim", "det": "det", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
    "quad": "  ", "qquad": "    ", ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "\\": "; ",
    "{": "{", "}": "}", "_": "_", "%": "%", "&": "&", "#": "#", "$": "$",
    "left": "", "right": "", "big": "", "Big": "", "bigg": "", "Bigg": "", "limits": "", "nolimits": "",
    "displaystyle": "", "textstyle": "",
}
_BIG_OPERATORS = {"sum": "Σ", "prod": "∏"}
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "bar": "\u0304", "overline": "\u0305",
            "tilde": "\u0303", "widetilde": "\u0303", "dot": "\u0307", "ddot": "\u0308", "vec": "\u20d7"}
_PLAIN_ARG = ("text", "textrm", "textit", "textbf", "texttt", "emph", "mathrm", "mathbf", "mathit",
              "mathsf", "mathtt", "mathcal", "operatorname", "boldsymbol", "bm")
_FRACTIONS = ("frac", "dfrac", "tfrac")
# no space is shown after an opening delimiter (or ∂) nor before a closing one: ‖p‖ and ∂L, not ‖ p ‖, ∂ L
_OPENING = ("partial", "lVert", "lvert", "langle", "lfloor", "lceil")
_CLOSING = ("rVert", "rvert", "rangle", "rfloor", "rceil")
# how each environment's rows are shown on one line: (opening, closing, separator between cells)
_ENVIRONMENTS = {
    "cases": ("{ ", " }", ", "), "bmatrix": ("[", "]", ", "), "pmatrix": ("(", ")", ", "),
    "vmatrix": ("|", "|", ", "), "Vmatrix": ("‖", "‖", ", "), "matrix": ("", "", ", "),
}
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUPERSCRIPT = dict(zip(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγθφχ′",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᶿᵠᵡ′",
))
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")


# ----- LaTeX math -----------------------------------------------------------------------------
def _group(tex: str, i: int):
    """The argument starting at ``tex[i]``: a ``{...}`` group, a ``\\command`` or one character."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth = 0
        for j in range(i, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1 : j], j + 1
        return tex[i + 1 :], len(tex)
    command = _COMMAND.match(tex, i)
    if command:
        return command.group(0), command.end()
    return tex[i], i + 1


def _scripted(text: str, table: dict):
    """``text`` in sub- or superscript letters, or None where a character has no such form."""
    already = set(table.values())
    if text and all(ch in table or ch in already for ch in text):
        return "".join(table.get(ch, ch) for ch in text)
    return None


def _script(text: str, table: dict, mark: str) -> str:
    scripted = _scripted(text, table)
    if scripted is not None:
        return scripted
    return mark + (text if len(text) == 1 else f"({text})")


def _wrap(text: str) -> str:
    return text if re.fullmatch(r"[√∂]?[\w.′\u0300-\u036f\u20d7]+", text) else f"({text})"


def _limits(tex: str, i: int):
    """The ``_{lower}`` and ``^{upper}`` that follow a big operator, in either order."""
    lower = upper = None
    while True:
        j = i
        while j < len(tex) and tex[j] == " ":
            j += 1
        if j < len(tex) and tex[j] in "_^" and (lower if tex[j] == "_" else upper) is None:
            arg, i = _group(tex, j + 1)
            if tex[j] == "_":
                lower = render_math(arg)
            else:
                upper = render_math(arg)
        elif tex.startswith(("\\limits", "\\nolimits"), j):
            i = _COMMAND.match(tex, j).end()
        else:
            return lower, upper, i


def _big_operator(symbol: str, lower, upper) -> str:
    r"""``Σᵢ₌₁ⁿ`` when the limits fit in small letters (and the upper one has no capital, which
    would read as a transpose), else ``Σ[lower..upper]``."""
    if upper is None:
        small = _scripted(lower, _SUBSCRIPT) if lower else ""
        return symbol + (small if small is not None else f"[{lower}]")
    small_lower = _scripted(lower, _SUBSCRIPT) if lower else ""
    small_upper = _scripted(upper, _SUPERSCRIPT)
    if small_lower is not None and small_upper is not None and not any(c.isupper() for c in upper):
        return symbol + small_lower + small_upper
    return f"{symbol}[{lower or ''}..{upper}]"


def _split_top_level(body: str, separator: str) -> list:
    """``body`` cut at ``separator`` wherever it is outside braces."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body[i] == "\\" and not body.startswith(separator, i):
            i += 2
            continue
        if body[i] in "{}":
            depth += 1 if body[i] == "{" else -1
        elif depth == 0 and body.startswith(separator, i):
            parts.append(body[start:i])
            i += len(separator)
            start = i
            continue
        i += 1
    return parts + [body[start:]]


def _environment(tex: str, i: int):
    r"""``\begin{name} rows \end{name}`` starting at ``tex[i]`` (just after ``\begin``), on one line:
    ``cases`` as ``{ 1, if x > 0; 0, otherwise }``, matrices as ``[a, b; c, d]``, and aligned
    equations (any other environment) as rows joined by ``;``."""
    name, i = _group(tex, i)
    end = tex.find(f"\\end{{{name}}}", i)
    body, after = (tex[i:], len(tex)) if end < 0 else (tex[i:end], end + len(f"\\end{{{name}}}"))
    if name == "array":
        _, body_start = _group(body, 0)  # the column specification, e.g. {cc}
        body = body[body_start:]
    opening, closing, between = _ENVIRONMENTS.get(name, ("", "", ""))
    rows = []
    for row in _split_top_level(body, "\\\\"):
        cells = [" ".join(render_math(cell).split()) for cell in _split_top_level(row, "&")]
        cells = [cell for cell in cells if cell]
        if cells:
            rows.append((between or " ").join(cells))
    return opening + "; ".join(rows) + closing, after


def render_math(tex: str) -> str:
    r"""LaTeX math as plain Unicode text: ``\frac{1}{n}\sum_i (y_i - \hat{y}_i)^2`` -> ``1/n Σᵢ (yᵢ - ŷᵢ)²``.

    A command it does not know is left as ``\name``, so that a test can find it."""
    out, i = [], 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\" and i + 1 < len(tex):
            name = _COMMAND.match(tex, i).group(1)
            i += 1 + len(name)
            piece, i = _command(name, tex, i)
            if name in _CLOSING and out:
                out[-1] = out[-1].rstrip(" ")
            out.append(piece)
        elif ch in "_^":
            arg, i = _group(tex, i + 1)
            table = _SUBSCRIPT if ch == "_" else _SUPERSCRIPT
            out.append(_script(render_math(arg), table, ch))
        elif ch in "{}":
            i += 1
        elif ch == "&":  # an alignment point outside an environment
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _command(name: str, tex: str, i: int):
    """The text of command ``\\name`` whose arguments start at ``tex[i]``, and where it ends."""
    if name in _FRACTIONS:
        top, i = _group(tex, i)
        bottom, i = _group(tex, i)
        text = f"{_wrap(render_math(top))}/{_wrap(render_math(bottom))}"
        if i < len(tex) and (tex[i].isalnum() or tex[i] in "\\("):
            text += " "  # 1/n Σ..., not 1/nΣ...
        return text, i
    if name == "sqrt":
        arg, i = _group(tex, i)
        return "√" + _wrap(render_math(arg)), i
    if name in _ACCENTS:
        arg, i = _group(tex, i)
        arg = render_math(arg)
        return (arg + _ACCENTS[name] if len(arg) == 1 else f"{name}({arg})"), i
    if name == "mathbb":
        arg, i = _group(tex, i)
        return {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "E": "𝔼", "P": "ℙ"}.get(arg, arg), i
    if name in _PLAIN_ARG:
        arg, i = _group(tex, i)
        return render_math(arg), i
    if name in _BIG_OPERATORS:
        lower, upper, i = _limits(tex, i)
        return _big_operator(_BIG_OPERATORS[name], lower, upper), i
    if name == "begin":
        return _environment(tex, i)
    if name in _OPENING and i < len(tex) and tex[i] == " ":
        return _SYMBOLS[name], i + 1  # ∂L and ‖p‖, not ∂ L and ‖ p‖
    if name in _SYMBOLS:
        return _SYMBOLS[name], i
    return "\\" + name, i


# ----- widths and wrapping -------------------------------------------------------------------
_BOLD, _DIM, _ITALIC, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[0m"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: colour codes and combining marks take none, wide
    (East Asian) characters two."""
    width = 0
    for ch in _ANSI.sub("", text):
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list:
    """``text`` cut at spaces into lines of at most ``width`` columns (a longer word stands alone),
    the first line prefixed by ``first``, the others by ``rest``."""
    lines, line, used = [], first, display_width(first)
    empty = True
    for word in text.split():
        size = display_width(word)
        if not empty and used + 1 + size > width:
            lines.append(line)
            line, used, empty = rest, display_width(rest), True
        line += ("" if empty else " ") + word
        used += size + (0 if empty else 1)
        empty = False
    if not empty or not lines:
        lines.append(line)
    return lines


def terminal_width() -> int:
    """The width to reflow to: the terminal's, at most 100 columns (long lines are hard to read)."""
    return max(20, min(shutil.get_terminal_size((80, 24)).columns - 1, 100))


# ----- markdown -------------------------------------------------------------------------------
# one pass, left to right, so a `*` inside code or math is never taken for emphasis
_INLINE = re.compile(
    r"`([^`]+)`|\$([^$]+)\$|\*\*(.+?)\*\*|\*(?=\S)([^*]+?)(?<=\S)\*|\[([^\]]+)\]\(([^)]+)\)"
)
_BULLET = re.compile(r"(\s*)([-*+]|\d+[.)])\s+(.*)")


def _inline(text: str, color: bool) -> str:
    def replace(m):
        code, math, bold, italic, link_text, link_url = m.groups()
        if code is not None:
            return code
        if math is not None:
            return render_math(math)
        if bold is not None:
            inner = _inline(bold, color)
            return f"{_BOLD}{inner}{_RESET}" if color else inner
        if italic is not None:
            inner = _inline(italic, color)
            return f"{_ITALIC}{inner}{_RESET}" if color else f"*{inner}*"
        return f"{_inline(link_text, color)} ({link_url})"

    return _INLINE.sub(replace, text)


def _blocks(text: str):
    """The markdown's blocks in order: ``(kind, lines)`` with kind one of "code", "math",
    "heading", "item", "quote", "table", "paragraph"."""
    lines, i = text.splitlines(), 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if not stripped:
            i += 1
        elif stripped.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```")), len(lines))
            yield "code", lines[i + 1 : end]
            i = end + 1
        elif stripped.startswith("$$"):
            end = i if (stripped.endswith("$$") and len(stripped) > 2) else next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip().endswith("$$")), len(lines) - 1)
            yield "math", [part.strip() for part in lines[i : end + 1]]
            i = end + 1
        elif re.match(r"#{1,6}\s", stripped):
            yield "heading", [stripped]
            i += 1
        else:
            kind = ("item" if _BULLET.match(line) else "quote" if stripped.startswith(">")
                    else "table" if stripped.startswith("|") else "paragraph")
            block, i = [line], i + 1
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i], kind):
                block.append(lines[i])
                i += 1
            yield kind, block


def _starts_block(line: str, kind: str) -> bool:
    """Whether ``line`` begins a new block rather than continuing one of ``kind``."""
    stripped = line.strip()
    if stripped.startswith(("```", "$$")) or re.match(r"#{1,6}\s", stripped) or _BULLET.match(line):
        return True
    if kind == "quote":
        return not stripped.startswith(">")
    if kind == "table":
        return not stripped.startswith("|")
    indented = line[:1].isspace()  # a list item's continuation, whatever it starts with
    return not indented and stripped.startswith((">", "|"))


def _math_text(lines) -> str:
    joined = " ".join(lines).strip()
    return render_math(joined[2:-2] if joined.endswith("$$") and len(joined) >= 4 else joined[2:])


def render_markdown(text: str, color: bool = False, width: int | None = None) -> str:
    """Markdown as terminal text, reflowed to ``width`` columns (default: :func:`terminal_width`).

    Headings are underlined (and bold with ``color``), ``**bold**`` and ``*italic*`` are bold and
    italic with ``color`` (else ``bold`` and ``*italic*``), ``$...$`` and ``$$...$$`` maths is
    Unicode, bullets are •, numbered items keep their numbers, quotes get a bar, code blocks and
    tables are kept as written.  Lines break only at spaces.
    """
    width = width or terminal_width()
    out, previous = [], None
    for kind, lines in _blocks(text):
        if out and not (kind == previous == "item"):  # a list's items follow one another
            out.append("")
        previous = kind
        if kind == "code":
            out.extend("    " + line for line in lines)
        elif kind == "math":
            out.extend(wrap(_math_text(lines), width, "    ", "      "))
        elif kind == "heading":
            level, title = re.match(r"(#{1,6})\s+(.*)", lines[0]).groups()
            title = _inline(title, color=False)
            out.append(f"{_BOLD}{title}{_RESET}" if color else title)
            out.append(("═" if len(level) == 1 else "─") * min(display_width(title), width))
        elif kind == "item":
            indent, mark, first = _BULLET.match(lines[0]).groups()
            mark = "•" if mark in "-*+" else mark
            body = _inline(" ".join([first] + [line.strip() for line in lines[1:]]), color)
            lead = f"{indent}{mark} "
            out.extend(wrap(body, width, lead, " " * display_width(lead)))
        elif kind == "quote":
            body = _inline(" ".join(line.strip().lstrip(">").strip() for line in lines), color)
            out.extend(wrap(body, width, "│ ", "│ "))
        elif kind == "table":
            out.extend(_inline(line.strip(), color) for line in lines)
        else:
            out.extend(wrap(_inline(" ".join(line.strip() for line in lines), color), width))
    return "\n".join(out)
