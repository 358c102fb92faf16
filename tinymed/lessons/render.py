"""Markdown and LaTeX math as terminal text: what stepping through a lesson shows of its explanations."""

from __future__ import annotations

import re

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "sum": "Σ", "prod": "∏", "nabla": "∇", "partial": "∂", "cdot": "·", "times": "×",
    "odot": "⊙", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "approx": "≈", "equiv": "≡", "sim": "~", "pm": "±", "to": "→", "rightarrow": "→",
    "leftarrow": "←", "Rightarrow": "⇒", "infty": "∞", "in": "∈", "forall": "∀",
    "ldots": "…", "dots": "…", "cdots": "⋯", "lfloor": "⌊", "rfloor": "⌋", "lVert": "‖",
    "rVert": "‖", "|": "‖", "langle": "⟨", "rangle": "⟩", "top": "ᵀ", "ell": "ℓ",
    "quad": "  ", "qquad": "    ", ",": " ", ";": " ", ":": " ", "!": "", " ": " ",
    "{": "{", "}": "}", "_": "_", "%": "%", "left": "", "right": "", "big": "", "Big": "",
}
_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307"}
_PLAIN_ARG = ("text", "mathrm", "mathbf", "mathit", "operatorname", "textbf", "boldsymbol")
_SUBSCRIPT = dict(zip("0123456789+-=()aehijklmnoprstuvxβγρφχ", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓᵦᵧᵨᵩᵪ"))
_SUPERSCRIPT = dict(zip(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVWβγθφχ′",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂᵝᵞᶿᵠᵡ′",
))


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
    command = re.match(r"\\([A-Za-z]+|.)", tex[i:])
    if command:
        return command.group(0), i + len(command.group(0))
    return tex[i], i + 1


def _script(text: str, table: dict, mark: str) -> str:
    if text and all(ch in table for ch in text):
        return "".join(table[ch] for ch in text)
    return mark + (text if len(text) == 1 else f"({text})")


def _wrap(text: str) -> str:
    return text if re.fullmatch(r"√?[\w.′\u0300-\u036f]+", text) else f"({text})"


def render_math(tex: str) -> str:
    r"""LaTeX math as plain Unicode text: ``\frac{1}{n}\sum_i (y_i - \hat y_i)^2`` -> ``1/n Σᵢ (yᵢ - ŷᵢ)²``."""
    out, i = [], 0
    while i < len(tex):
        ch = tex[i]
        if ch == "\\":
            name = re.match(r"\\([A-Za-z]+|.)", tex[i:]).group(1)
            i += 1 + len(name)
            if name == "frac":
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                out.append(f"{_wrap(render_math(top))}/{_wrap(render_math(bottom))}")
                if i < len(tex) and (tex[i].isalnum() or tex[i] in "\\("):
                    out.append(" ")  # 1/n Σ..., not 1/nΣ...
            elif name == "sqrt":
                arg, i = _group(tex, i)
                out.append("√" + _wrap(render_math(arg)))
            elif name in _ACCENTS:
                arg, i = _group(tex, i)
                arg = render_math(arg)
                out.append(arg + _ACCENTS[name] if len(arg) == 1 else f"{name}({arg})")
            elif name == "mathbb":
                arg, i = _group(tex, i)
                out.append({"R": "ℝ", "N": "ℕ", "Z": "ℤ", "E": "𝔼"}.get(arg, arg))
            elif name in _PLAIN_ARG:
                arg, i = _group(tex, i)
                out.append(render_math(arg))
            else:
                out.append(_SYMBOLS.get(name, name))
        elif ch in "_^":
            arg, i = _group(tex, i + 1)
            table = _SUBSCRIPT if ch == "_" else _SUPERSCRIPT
            out.append(_script(render_math(arg), table, ch))
        elif ch in "{}":
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_BOLD, _DIM, _ITALIC, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[3m", "\x1b[0m"
# one pass, left to right, so a `*` inside code or math is never taken for emphasis
_INLINE = re.compile(
    r"`([^`]+)`|\$([^$]+)\$|\*\*(.+?)\*\*|\*(?=\S)([^*]+?)(?<=\S)\*|\[([^\]]+)\]\(([^)]+)\)"
)


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


def render_markdown(text: str, color: bool = False) -> str:
    """Markdown as terminal text: headings underlined (and bold with ``color``), ``**bold**`` and
    ``*italic*`` in bold and italic with ``color`` (else as ``bold`` and ``*italic*``), ``$...$``
    and ``$$...$$`` math turned into Unicode, bullets as •, code blocks indented."""
    out, math, in_code = [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            out.append("    " + line)
        elif math is not None:  # inside a $$ ... $$ block
            if stripped.endswith("$$"):
                math.append(stripped[:-2])
                out.append("    " + render_math(" ".join(math).strip()))
                math = None
            else:
                math.append(stripped)
        elif stripped.startswith("$$"):
            body = stripped[2:]
            if body.endswith("$$"):
                out.append("    " + render_math(body[:-2].strip()))
            else:
                math = [body]
        elif heading := re.match(r"(#{1,6})\s+(.*)", stripped):
            title = _inline(heading.group(2), color=False)
            rule = ("═" if len(heading.group(1)) == 1 else "─") * len(title)
            out.append(f"{_BOLD}{title}{_RESET}" if color else title)
            out.append(rule)
        elif bullet := re.match(r"(\s*)[-*+]\s+(.*)", line):
            out.append(f"{bullet.group(1)}• {_inline(bullet.group(2), color)}")
        else:
            out.append(_inline(line, color))
    return "\n".join(out)
