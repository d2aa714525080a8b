"""The SQL filter selects exactly the records the Python decision makes visible, on both engines."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests import factories
from xinyong.catalog.models import Resource
from xinyong.core import clock
from xinyong.disclosure import Viewer, decide, get_rules, visible_filter
from xinyong.records.models import Record

TODAYS = [
    dt.date(2025, 1, 31),
    dt.date(2025, 2, 28),
    dt.date(2025, 6, 10),
    dt.date(2026, 3, 9),
    dt.date(2026, 6, 15),
    dt.date(2028, 2, 29),
]


def _matrix(session: Session, subject_ids: list[int], unit_id: int) -> None:
    rng = random.Random(20260615)
    resources = {r.code: r for r in session.scalars(sa.select(Resource))}
    dates = [dt.date(2023, 1, 1) + dt.timedelta(days=d) for d in range(0, 1500, 23)]
    dates += [dt.date(2024, 1, 31), dt.date(2024, 2, 29), dt.date(2025, 1, 31), dt.date(2025, 3, 31)]
    rows = []
    now = clock.now()
    n = itertools.count()
    for code, resource in resources.items():
        for kind, severity, status, repaired, objection in itertools.product(
            ["legal_person", "individual_business", "natural_person"],
            [None, "minor", "general", "serious", "odd"],
            ["active", "revoked", "deleted"],
            [False, True],
            [False, True],
        ):
            for decision in rng.sample(dates, 4):
                valid_to = rng.choice([None, decision + dt.timedelta(days=rng.randint(0, 900)), dt.date(2099, 12, 31)])
                rows.append(
                    {
                        "resource_id": resource.id,
                        "subject_id": rng.choice(subject_ids),
                        "source_unit_id": unit_id,
                        "doc_no": f"矩阵{next(n)}",
                        "decision_date": rng.choice([decision, decision, None]) if code != "x" else decision,
                        "valid_from": rng.choice([None, decision, decision + dt.timedelta(days=10)]),
                        "valid_to": valid_to,
                        "publish_until": rng.choice([None, None, decision + dt.timedelta(days=rng.randint(0, 1200))]),
                        "severity": severity,
                        "status": status,
                        "objection_open": objection,
                        "repaired_at": now if repaired else None,
                        "region": "370302",
                        "subject_name": "矩阵主体",
                        "subject_kind": kind,
                        "payload": {"XK_ZT": rng.choice(["有效", "吊销", "", "有效"])} if rng.random() < 0.8 else {},
                        "content_hash": "0" * 64,
                        "version": 1,
                        "received_at": now,
                        "updated_at": now,
                    }
                )
    session.execute(sa.insert(Record), rows)
    session.flush()


def test_sql_filter_matches_decide(session: Session) -> None:
    unit = factories.unit(session)
    subjects = [factories.subject(session).id for _ in range(3)]
    _matrix(session, subjects, unit.id)
    resources = {r.id: r for r in session.scalars(sa.select(Resource))}
    records = session.scalars(sa.select(Record)).all()
    assert len(records) > 5000
    rules = get_rules()
    viewers = [Viewer.public(), Viewer.shared(), Viewer.subject(subjects[0]), Viewer.credit_office()]
    for today, viewer in itertools.product(TODAYS, viewers):
        expected = {
            r.id for r in records if decide(r, resources[r.resource_id], viewer, today=today, rules=rules).visible
        }
        where = visible_filter(session=session, viewer=viewer, today=today, rules=rules)
        got = set(session.scalars(sa.select(Record.id).where(where)))
        assert got == expected, (today, viewer, sorted(got ^ expected)[:10])
        if viewer.kind.value == "public":
            assert 0 < len(expected) < len(records)
