"""Normalisation of values as they arrive from department files."""

from __future__ import annotations

import re

# Full-width ASCII (U+FF01–U+FF5E) maps to U+0021–U+007E by a fixed offset; U+3000 is the ideographic space.
_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Control characters that are not white space (C0 but TAB…CR and the separators 0x1C–0x1F, DEL, C1 but NEL): never
# part of a name, code or text, and NUL cannot even be stored in a PostgreSQL text column. A regex class body, shared
# with the fast paths in xinyong.ingest.values.
CONTROL_CLASS = "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
CONTROL_CODES = [*range(0x00, 0x09), *range(0x0E, 0x1C), *range(0x7F, 0x85), *range(0x86, 0xA0)]
# Invisible characters that Excel and Windows tools leave behind, and the control characters above.
_INVISIBLE = dict.fromkeys([0xFEFF, 0x200B, 0x200C, 0x200D, 0x2060, 0x00A0, *CONTROL_CODES], None)
_SPACES = re.compile(r"\s+")


def to_half_width(text: str) -> str:
    return text.translate(_FULL_TO_HALF)


def clean(text: str | None) -> str:
    """Full-width → half-width, invisible and control characters removed, runs of white space collapsed, trimmed."""
    if text is None:
        return ""
    return _SPACES.sub(" ", to_half_width(text).translate(_INVISIBLE)).strip()


def normalise_code(text: str | None) -> str:
    """A code as compared and stored: no spaces at all, half-width, upper case."""
    return _SPACES.sub("", clean(text)).upper()


def normalise_name(text: str | None) -> str:
    """A subject name in its canonical form: trimmed, with the full-width brackets that registers use."""
    return clean(text).replace("(", "（").replace(")", "）")


def name_key(text: str | None) -> str:
    """A comparison key for names: no spaces, brackets unified."""
    return normalise_name(text).replace(" ", "")
