"""The worker's rights jobs: overdue alerts and outbox delivery, each done once however often the worker runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import sqlalchemy as sa

from tests import factories
from tests.conftest import Database
from xinyong.audit.service import Actor
from xinyong.core.database import session_scope
from xinyong.monitoring import worker
from xinyong.objections import service as objections
from xinyong.rights.models import OutboxMessage


def test_alerts_and_delivery_run_once(fresh_db: Database, set_today: Callable[[dt.date], None]) -> None:
    set_today(dt.date(2026, 9, 30))
    with session_scope(fresh_db.engine, write=True) as session:
        unit = factories.unit(session)
        company = factories.subject(session, name="淄博恒信化工有限公司")
        record = factories.record(session, subject_row=company, unit_row=unit, decision_date=dt.date(2026, 1, 5))
        filed = objections.submit(
            session=session, actor=Actor(name="company-user", role="subject", subject_id=company.id),
            record_id=record.id, reasons="处罚决定书载明的金额与记录不符", request="correct",
        )  # fmt: skip
        assert filed.accept_due == dt.date(2026, 10, 8)

    set_today(dt.date(2026, 10, 9))  # one day late
    rounds = [
        {o.job: o for o in worker.run_due(fresh_db.engine, only=job)}
        for _ in range(2)
        for job in ("deadline_alerts", "outbox_delivery")
    ]
    first_alerts, first_delivery, second_alerts, second_delivery = (
        r[j] for r, j in zip(rounds, ["deadline_alerts", "outbox_delivery"] * 2, strict=True)
    )
    assert (first_alerts.state, first_alerts.result) == ("done", {"alerts": 1})
    assert second_alerts.state == "skipped"
    assert first_delivery.state == "done" and first_delivery.result == {"sent": 2, "failed": 0}  # submitted, overdue
    assert second_delivery.state == "skipped" or second_delivery.result == {"sent": 0, "failed": 0}
    with session_scope(fresh_db.engine) as session:
        messages = session.execute(sa.select(OutboxMessage.kind, OutboxMessage.attempts, OutboxMessage.sent_via)).all()
        assert sorted(messages) == [("overdue", 1, "log"), ("submitted", 1, "log")]

    # The next day the alert is not raised again for the same step (the outbox key), even though the job runs.
    set_today(dt.date(2026, 10, 10))
    again = worker.run_due(fresh_db.engine, only="deadline_alerts")[0]
    assert (again.state, again.result) == ("done", {"alerts": 1})
    with session_scope(fresh_db.engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
