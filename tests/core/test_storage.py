"""The schema comes from the migrations and behaves the same on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import Database
from xinyong.audit import service as audit
from xinyong.audit.models import AuditEvent
from xinyong.audit.service import Actor
from xinyong.catalog import service as catalog
from xinyong.catalog.models import Resource


def test_builtin_catalog_is_loaded_by_upgrade(session: Session) -> None:
    codes = set(session.scalars(sa.select(Resource.code)))
    assert {
        "administrative_penalty",
        "administrative_license",
        "serious_dishonesty_list",
        "abnormal_operation",
        "dishonest_judgment_debtor",
        "tax_credit_a",
        "government_dishonesty",
    } <= codes
    penalty = catalog.get_resource(session=session, code="administrative_penalty")
    assert {f["code"] for f in penalty.fields} >= {"CF_XDR_MC", "CF_WSH", "CF_CFLB", "CF_SJLYDM"}


def test_loading_the_catalog_twice_changes_nothing(session: Session) -> None:
    assert catalog.load_builtin(session=session) == 0


def test_audit_log_refuses_update_and_delete(fresh_db: Database) -> None:
    with Session(fresh_db.engine) as sess, sess.begin():
        event_id = audit.record(session=sess, actor=Actor.cli(), action="test.write")
    for statement in (
        sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="changed"),
        sa.delete(AuditEvent).where(AuditEvent.id == event_id),
    ):
        with pytest.raises(sa.exc.DBAPIError, match="审计日志只允许追加"), fresh_db.engine.begin() as conn:
            conn.execute(statement)
    with fresh_db.engine.connect() as conn:
        assert conn.scalar(sa.select(AuditEvent.action).where(AuditEvent.id == event_id)) == "test.write"


def test_unit_registration_and_grants(session: Session) -> None:
    unit = catalog.register_unit(
        session=session,
        uscc="914403001922038216",
        name="测试市生态环境局",
        region="370303",
        resources=["administrative_penalty"],
    )
    penalty = catalog.get_resource(session=session, code="administrative_penalty")
    license_ = catalog.get_resource(session=session, code="administrative_license")
    assert catalog.may_push(session=session, unit_id=unit.id, resource_id=penalty.id)
    assert not catalog.may_push(session=session, unit_id=unit.id, resource_id=license_.id)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_postgresql_plans_are_not_jit_compiled(db: Database) -> None:
    # An expensive plan (far above jit_above_cost) is planned without JIT: compiling cost 1.8 s per chunk of
    # collection at 50M records (xinyong/core/database.py).
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SHOW jit")).scalar_one() == "off"
        plan = conn.execute(
            sa.text("EXPLAIN SELECT count(*) FROM generate_series(1, 10000000) a CROSS JOIN generate_series(1, 1000) b")
        ).scalars()
        assert not [line for line in plan if "JIT" in line]
