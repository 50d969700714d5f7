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
