"""Typed input values shared by every domain's routes and request schemas."""

from __future__ import annotations

from typing import Annotated

import annotated_types

# The largest value a 64-bit integer column holds. An id or cursor beyond it cannot exist, and SQLite cannot even bind
# it (OverflowError): such input is refused at validation with a Chinese 422 ("数值过大"), never sent to the database.
MAX_DB_INT = 2**63 - 1

RowId = Annotated[int, annotated_types.Ge(1), annotated_types.Le(MAX_DB_INT)]
"""A row id in a path, query, form or JSON body."""

Cursor = Annotated[int, annotated_types.Ge(0), annotated_types.Le(MAX_DB_INT)]
"""A change-feed position or an offset."""
