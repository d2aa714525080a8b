"""Rotating the personal-data key: re-encrypt every ``*_cipher`` column under the current key, chunk by chunk.

The platform keeps serving during a rotation: the new key is XINYONG_PII_KEY, the previous one is listed in
XINYONG_PII_KEYS_OLD, so rows not yet re-encrypted still decrypt; each chunk is its own short transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import xinyong.models  # noqa: F401  (every table registered on the metadata)
from xinyong.core import crypto
from xinyong.core.database import Base, session_scope


def cipher_columns() -> list[tuple[sa.Table, sa.Column[bytes]]]:
    """Every encrypted column of the schema (found by name, so a new ``*_cipher`` column is rotated too)."""
    return [(t, c) for t in Base.metadata.sorted_tables for c in t.columns if c.name.endswith("_cipher")]


def rotate(*, engine: Engine, chunk: int = 1000) -> dict[str, int]:
    """Re-encrypt what is not under the current key; returns rows re-encrypted per ``table.column``."""
    done: dict[str, int] = {}
    for table, column in cipher_columns():
        (pk,) = table.primary_key.columns
        last, count = None, 0
        while True:
            with session_scope(engine, write=True) as session:
                query = sa.select(pk, column).where(column.is_not(None)).order_by(pk).limit(chunk)
                rows = session.execute(query if last is None else query.where(pk > last)).all()
                for key, blob in rows:
                    if not crypto.is_current(blob):
                        fresh = crypto.encrypt(crypto.decrypt(blob))
                        session.execute(sa.update(table).where(pk == key).values({column.name: fresh}))
                        count += 1
            if not rows:
                break
            last = rows[-1][0]
        done[f"{table.name}.{column.name}"] = count
    return done
