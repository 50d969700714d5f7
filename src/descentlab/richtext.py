"""Course text (glossary definitions, quiz prompts) to HTML for ``ipywidgets.HTMLMath``.

The YAML files hold plain text with LaTeX between ``$...$`` or ``$$...$$``, plus two bits
of markup outside maths: ```code``` and ``**bold**``. HTMLMath puts our HTML in the page
and asks JupyterLab's MathJax to typeset the maths in it, so the maths must reach the page
as text: we escape ``<``, ``>`` and ``&`` everywhere (the browser turns them back into
characters before MathJax reads them) and apply the markup only outside maths.
"""
from __future__ import annotations

import html
import re

_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.S)
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def to_html(text: str) -> str:
    """HTML for ``text``: escaped, maths untouched, `code` and **bold** marked up,
    blank lines as paragraph breaks."""
    parts = []
    for i, piece in enumerate(_MATH.split(text)):
        escaped = html.escape(piece, quote=False)
        if i % 2 == 0:  # outside maths
            escaped = _CODE.sub(r"<code>\1</code>", escaped)
            escaped = _BOLD.sub(r"<b>\1</b>", escaped)
            escaped = re.sub(r"\n\s*\n", "<br><br>", escaped)
        parts.append(escaped)
    return "".join(parts)


# ----------------------------------------------------------------------------- plain text
# For a terminal (`descentlab glossary`): the maths as Unicode a reader can take in at a
# glance (η, θ ← θ − η∇J, x², ŷ), not LaTeX source. Only the notation the course uses is
# translated; any other command keeps its name without the backslash.

_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "sigma": "σ", "tau": "τ", "phi": "φ", "pi": "π",
    "Delta": "Δ", "Sigma": "Σ", "sum": "Σ", "prod": "Π", "nabla": "∇", "partial": "∂",
    "leftarrow": "←", "rightarrow": "→", "to": "→", "approx": "≈", "sim": "~", "le": "≤",
    "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "in": "∈", "times": "×",
    "cdot": "·", "dots": "…", "ldots": "…", "cdots": "⋯", "infty": "∞", "ell": "ℓ",
    "lVert": "‖", "rVert": "‖", "Vert": "‖", "top": "ᵀ", "pm": "±", "sqrt": "√",
}
_SUPERSCRIPT = str.maketrans("0123456789-+()nT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ⁿᵀ")
_SUBSCRIPT = str.maketrans("0123456789-+()ijknmt", "₀₁₂₃₄₅₆₇₈₉₋₊₍₎ᵢⱼₖₙₘₜ")
_GROUP = r"\{([^{}]*)\}"


def _plain_math(tex: str) -> str:
    text = tex
    for _ in range(4):  # nested \frac{\frac{..}{..}}{..}: innermost first
        text = re.sub(r"\\frac" + _GROUP + _GROUP, lambda m: f"{_wrap(m[1])}/{_wrap(m[2])} ", text)
    text = re.sub(r"\\sqrt" + _GROUP, lambda m: "√" + _wrap(m[1]), text)
    text = re.sub(r"\\sqrt\s+(\w)", r"√\1", text)
    text = re.sub(r"\\(log|ln|exp|max|min)(?=\\)", r"\\\1 ", text)
    text = re.sub(r"\\hat\s*\{?([A-Za-z])\}?", lambda m: m[1] + "\u0302", text)
    text = re.sub(r"\\(?:text|mathrm|mathbf|mathit|operatorname)" + _GROUP, r"\1", text)
    text = re.sub(r"\\mathbb\{R\}", "ℝ", text)
    text = re.sub(r"\\(?:mathcal|mathbb)" + _GROUP, r"\1", text)
    text = re.sub(r"\\(?:mathcal|mathbb)\s*([A-Za-z])", r"\1", text)
    text = re.sub(r"\\(?:left|right|big|Big|bigg|Bigg)\b", "", text)
    text = re.sub(r"\\[,;:!]|\\ ", " ", text)
    text = re.sub(r"\^\\top", "ᵀ", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _SYMBOLS.get(m[1], m[1]), text)
    text = re.sub(r"\^" + _GROUP + r"|\^(.)", lambda m: _sup(m[1] if m[1] is not None else m[2]), text)
    text = re.sub(r"_" + _GROUP + r"|_(.)", lambda m: _sub(m[1] if m[1] is not None else m[2]), text)
    text = text.replace("{", "").replace("}", "").replace("-", "−")
    text = re.sub(r"‖ (\w)", r"‖\1", text)
    text = re.sub(r" ([)\],])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _wrap(part: str) -> str:
    part = part.strip()
    return part if re.fullmatch(r"[\w.\\^]+", part) else f"({part})"


def _convert(body: str, table: dict, mark: str) -> str:
    if body and all(ord(ch) in table for ch in body):
        return body.translate(table)
    return f"{mark}{body}" if len(body) == 1 else f"{mark}({body})"


def _sup(body: str) -> str:
    return _convert(body, _SUPERSCRIPT, "^")


def _sub(body: str) -> str:
    return _convert(body, _SUBSCRIPT, "_")


def to_plain(text: str) -> str:
    """``text`` for a terminal: maths as Unicode (see above), ``**bold**`` unmarked,
    ```code``` kept as written."""
    parts = []
    for i, piece in enumerate(_MATH.split(text)):
        if i % 2:
            parts.append(_plain_math(piece.strip("$")))
        else:
            parts.append(_BOLD.sub(r"\1", piece))
    return "".join(parts)
