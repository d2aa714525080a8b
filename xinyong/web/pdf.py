"""The platform's one PDF engine: HTML (a Jinja template) → PDF through WeasyPrint.

Credit reports and the console's monthly summary both go through here, so there is one way to lay out Chinese text:
Noto Sans CJK (Debian fonts-noto-cjk) found through fontconfig, embedded as a subset with its ToUnicode map, so the
text of every PDF can be extracted, searched and checked by tests.
"""

from __future__ import annotations

import logging
from pathlib import Path

from xinyong.core.errors import ConfigurationError

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# WeasyPrint logs every CSS property it ignores (flex details, screen rules) at WARNING; not useful to operators.
logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


def html_to_pdf(document: str) -> bytes:
    """A4 PDF of an HTML document whose CSS names "Noto Sans CJK SC"."""
    if not NOTO_CJK.exists():
        # Without it Pango would silently fall back to a font with no Chinese glyphs: boxes instead of text.
        raise ConfigurationError(f"缺少中文字体 {NOTO_CJK}（请安装 fonts-noto-cjk）")
    from weasyprint import HTML  # imported late: loading Pango takes a moment and most commands never need it

    return bytes(HTML(string=document).write_pdf())
