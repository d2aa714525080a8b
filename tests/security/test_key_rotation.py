"""Rotating the personal-data key re-encrypts every *_cipher column, while old rows stay readable meanwhile."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from tests.conftest import Database
from xinyong.core import crypto
from xinyong.core.settings import DEV_PII_KEY, reset_settings
from xinyong.security import keys
from xinyong.subjects.models import Subject, SubjectKind

NEW_KEY = base64.b64encode(b"n" * 32).decode()


def test_cipher_columns_are_all_found() -> None:
    found = {f"{t.name}.{c.name}" for t, c in keys.cipher_columns()}
    assert {
        "subject.id_cipher",
        "record.pii_cipher",
        "record_version.pii_cipher",
        "quarantined_row.raw_cipher",
    } <= found


def test_rotation_round_trip(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(fresh_db.engine) as session:
        people = [factories.subject(session, kind=SubjectKind.NATURAL_PERSON) for _ in range(7)]
        legacy = session.get(Subject, people[0].id)
        assert legacy is not None
        numbers = {p.id: crypto.decrypt(p.id_cipher) for p in people}  # type: ignore[arg-type]
        session.commit()

    monkeypatch.setenv("XINYONG_PII_KEY", NEW_KEY)
    monkeypatch.setenv("XINYONG_PII_KEYS_OLD", DEV_PII_KEY)
    reset_settings()
    with Session(fresh_db.engine) as session:  # still readable before the rotation ran
        assert {s.id: crypto.decrypt(s.id_cipher) for s in session.scalars(sa.select(Subject))} == numbers  # type: ignore[arg-type]
    done = keys.rotate(engine=fresh_db.engine, chunk=3)
    assert done["subject.id_cipher"] == 7
    assert keys.rotate(engine=fresh_db.engine)["subject.id_cipher"] == 0  # nothing left under the old key

    monkeypatch.setenv("XINYONG_PII_KEYS_OLD", "")
    reset_settings()
    with Session(fresh_db.engine) as session:  # the old key is gone and every row still decrypts
        rows = session.scalars(sa.select(Subject)).all()
        assert all(crypto.is_current(s.id_cipher) for s in rows)  # type: ignore[arg-type]
        assert {s.id: crypto.decrypt(s.id_cipher) for s in rows} == numbers  # type: ignore[arg-type]


def test_without_the_old_key_rows_do_not_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = crypto.encrypt("370302198001010011")
    monkeypatch.setenv("XINYONG_PII_KEY", NEW_KEY)
    reset_settings()
    with pytest.raises(ValueError, match="XINYONG_PII_KEYS_OLD"):
        crypto.decrypt(blob)
