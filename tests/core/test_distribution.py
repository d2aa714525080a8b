"""Every hot path stays on one shard of a Citus cluster (docs/scaling.md).

The statements the services send for a check by code, the subject API, the subject's own view, the evaluation of one
subject and the list lookups are captured (``before_cursor_execute``) and each one that touches a distributed table
must pin it by the distribution column (or be an identity lookup, which Citus answers from the code-keyed lookup
table), or touch only reference and coordinator tables. The checker itself is tested on counterexamples first: a
checker that accepts everything would make the rest meaningless.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.checks.conftest import put_on_list
from tests.conftest import Database
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.accounts.web import COOKIE, session_token
from xinyong.app import create_app
from xinyong.audit.service import Actor
from xinyong.core import distribution
from xinyong.core.database import Base
from xinyong.core.deps import get_session
from xinyong.core.settings import reset_settings
from xinyong.evaluation import service as evaluation
from xinyong.lists import service as lists
from xinyong.portal.publicity import forget_figures
from xinyong.web import csrf

# --- the checker ------------------------------------------------------------------------------------------------------

KEYED = [
    # pinned by a bound value (psycopg, SQLite and named styles), or an IN list
    "SELECT record.id FROM record WHERE record.subject_id = %(subject_id_1)s::BIGINT",
    "SELECT record.id FROM record WHERE record.subject_id = ? AND record.status = ?",
    "SELECT record.id FROM record WHERE record.subject_id IN (%(p_1)s::BIGINT, %(p_2)s::BIGINT)",
    # a co-located join carries the pin
    "SELECT record.id FROM record JOIN subject ON subject.id = record.subject_id WHERE subject.id = %(id_1)s",
    "SELECT list_entry.id FROM list_entry LEFT OUTER JOIN record ON record.id = list_entry.record_id "
    "AND record.subject_id = list_entry.subject_id WHERE list_entry.subject_id = %(subject_id)s",
    # a subquery's labelled column stands for the column inside
    "SELECT anon_1.n FROM (SELECT commitment.subject_id AS subject_id, count(*) AS n FROM commitment "
    "GROUP BY commitment.subject_id) AS anon_1 WHERE anon_1.subject_id = %(subject_id_1)s",
    # an identity lookup (Citus: the code-keyed lookup table)
    "SELECT subject.id FROM subject WHERE subject.uscc = %(uscc)s",
    # an insert that names the distribution column, and reference/coordinator tables alone
    "INSERT INTO evaluation_current (subject_id, model_id, score) VALUES (%(subject_id)s, %(m)s, %(s)s)",
    "SELECT resource.id FROM resource WHERE resource.code = %(code)s",
    "INSERT INTO audit_event (at, actor, action) VALUES (%(at)s, %(actor)s, %(action)s)",
    # an insert in a common table expression, as a check's row goes in with its audit entry
    "WITH head AS (SELECT audit_chain_head.id AS id FROM audit_chain_head LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "audited_row AS (INSERT INTO credit_check (check_no, at) SELECT %(c)s, %(at)s FROM head RETURNING credit_check.id) "
    "SELECT audited_row.id FROM audited_row",
]

NOT_KEYED = [
    # by record id only: every shard is asked
    ("SELECT record.id FROM record WHERE record.id = %(pk_1)s::BIGINT", ["record AS record"]),
    # a range on a hash-distributed column is every shard
    ("SELECT record.id FROM record WHERE record.subject_id > %(p)s", ["record AS record"]),
    # the join is not on the distribution column: the record side is unpinned
    (
        "SELECT list_entry.id FROM list_entry LEFT OUTER JOIN record ON record.id = list_entry.record_id "
        "WHERE list_entry.subject_id = %(subject_id)s",
        ["record AS record"],
    ),
    # pinned in one place does not pin another alias of the same table
    (
        "SELECT record.id FROM record JOIN record AS record_1 ON record_1.doc_no = record.doc_no "
        "WHERE record.subject_id = %(s)s",
        ["record AS record_1"],
    ),
    # a name search reads every shard of subject_name
    (
        "SELECT subject_name.subject_id FROM subject_name WHERE subject_name.name LIKE %(n)s",
        ["subject_name AS subject_name"],
    ),
    # a union label that is an employer's id in one branch pins nothing
    (
        "SELECT anon_1.n FROM (SELECT record.subject_id AS eval_subject_id, 1 AS n FROM record UNION ALL "
        "SELECT employment.firm_id AS eval_subject_id, 1 AS n FROM record JOIN employment ON "
        "employment.person_id = record.subject_id) AS anon_1 WHERE anon_1.eval_subject_id = %(s)s",
        ["employment AS employment", "record AS record"],
    ),
    # an insert without the distribution column cannot be routed
    ("INSERT INTO record (resource_id, doc_no) VALUES (%(r)s, %(d)s)", ["record AS record"]),
    # … in a common table expression too
    (
        "WITH x AS (INSERT INTO record (resource_id, doc_no) VALUES (%(r)s, %(d)s) RETURNING record.id) SELECT x.id "
        "FROM x",
        ["record AS record"],
    ),
]


@pytest.mark.parametrize("statement", KEYED)
def test_checker_accepts_keyed_statements(statement: str) -> None:
    assert distribution.unkeyed(statement) == []


@pytest.mark.parametrize(("statement", "expected"), NOT_KEYED)
def test_checker_names_what_is_not_keyed(statement: str, expected: list[str]) -> None:
    assert distribution.unkeyed(statement) == expected


def test_every_table_has_a_place_in_the_layout() -> None:
    import xinyong.models  # noqa: F401  (every table registered)

    classified = distribution.DISTRIBUTED.keys() | distribution.REFERENCE | distribution.COORDINATOR
    assert set(Base.metadata.tables) == classified
    assert not distribution.DISTRIBUTED.keys() & distribution.REFERENCE
    assert not (distribution.DISTRIBUTED.keys() | distribution.REFERENCE) & distribution.COORDINATOR


# --- the hot paths ---------------------------------------------------------------------------------------------------


class Captured:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def violations(self) -> list[tuple[list[str], str]]:
        return [(bad, s) for s in self.statements if (bad := distribution.unkeyed(s))]


@contextmanager
def capturing(engine: sa.Engine) -> Iterator[Captured]:
    captured = Captured()
    sa.event.listen(engine, "before_cursor_execute", captured)
    try:
        yield captured
    finally:
        sa.event.remove(engine, "before_cursor_execute", captured)


@pytest.fixture
def client(session: Session, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    forget_figures()
    app = create_app(engine=db.engine)

    def _same_session() -> Iterator[Session]:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _same_session
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    forget_figures()


def _world(session: Session) -> tuple[Any, Any]:
    """A company with records of several kinds, a list entry, a record under objection, and a score."""
    company = factories.subject(session, name="淄博恒信化工有限公司", established_on=dt.date(2015, 3, 1))
    factories.record(session, subject_row=company, decision_date=dt.date(2026, 1, 5), severity="general")
    factories.record(session, subject_row=company, severity="serious", objection_open=True)
    factories.record(
        session, subject_row=company, resource="administrative_license", valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2030, 1, 1),
    )  # fmt: skip
    put_on_list(session, company, "government_procurement")
    other = factories.subject(session)
    factories.record(session, subject_row=other)
    evaluation.evaluate(session=session, actor=Actor.cli())
    return company, other


def test_hot_paths_touch_one_shard(session: Session, client: TestClient, db: Database) -> None:
    company, _ = _world(session)
    clerk = accounts.create_api_key(session=session, actor=Actor.cli(), role=Role.CHECKER)
    owner = accounts.create_account(
        session=session, username="hengxin", role=Role.SUBJECT, password="pw-12345678", subject_id=company.id
    )
    cookie = session_token(owner)
    own_headers = {"Cookie": f"{COOKIE}={cookie}", "X-CSRF-Token": csrf.token_for(cookie)}
    session.flush()

    paths: dict[str, Any] = {
        "check by code": lambda: client.post(
            "/api/v1/checks",
            json={"code": company.uscc, "matter": "government_procurement"},
            headers={"Authorization": f"Bearer {clerk.key}"},
        ),
        "subject API": lambda: client.get(f"/api/v1/subjects/{company.uscc}"),
        "subject page": lambda: client.get(f"/subjects/{company.uscc}", headers={"Accept": "text/html"}),
        "own view": lambda: client.get("/api/v1/me", headers=own_headers),
        "evaluation of one subject": lambda: evaluation.explain(session=session, subject_id=company.id),
        "grade": lambda: evaluation.grade_for(session=session, subject_id=company.id),
        "list lookup": lambda: lists.active_entries(session=session, subject_id=company.id),
        "list entries": lambda: lists.entries_of(session=session, subject_id=company.id),
    }
    for name, call in paths.items():
        with capturing(db.engine) as captured:
            response = call()
        if hasattr(response, "status_code"):
            assert response.status_code == 200, (name, response.text[:300])
        touched = [s for s in captured.statements if any(o in s for o in ("record", "list_entry", "evaluation"))]
        assert touched, f"{name}: captured no statement on the subject's tables"
        assert captured.violations() == [], name
        assert [t for s in captured.statements for t in distribution.unknown_tables(s)] == [], name
