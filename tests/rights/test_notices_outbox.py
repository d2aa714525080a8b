"""失信告知 from the collection pipeline (idempotent), the outbox delivered once, the CLI on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.conftest import Database
from tests.rights.conftest import World
from xinyong.rights import notices, outbox
from xinyong.rights.models import DishonestyNotice, OutboxMessage

REPO = Path(__file__).resolve().parents[2]


def test_notice_says_what_who_how_long_and_how_to_object(session: Session, world: World) -> None:
    assert notices.notify_records(session=session, record_ids=[world.penalty.id, world.others_penalty.id]) == 2
    assert notices.notify_records(session=session, record_ids=[world.penalty.id]) == 0  # idempotent
    notice = session.scalar(sa.select(DishonestyNotice).where(DishonestyNotice.record_id == world.penalty.id))
    assert notice is not None
    assert world.penalty.doc_no in notice.body and world.unit.name in notice.body
    assert "2026-01-05 至 2027-01-04" in notice.body and "2026-04-05" in notice.body
    assert "异议" in notice.body and "信用修复" in notice.body
    assert notice.facts["published_until"] == "2027-01-04"


def test_send_pending_tells_the_untold_records_once_each(session: Session, world: World) -> None:
    """The sweep's limit counts only records still owed a notice: the one told already takes no place in it."""
    assert notices.notify_records(session=session, record_ids=[world.penalty.id]) == 1
    assert notices.send_pending(session=session, limit=1).records == 1
    told = session.scalars(sa.select(DishonestyNotice.record_id).where(DishonestyNotice.record_id.is_not(None)))
    assert sorted(told) == sorted([world.penalty.id, world.others_penalty.id])
    assert notices.send_pending(session=session).records == 0  # idempotent


class _Failing:
    name = "test"

    def send(self, message: OutboxMessage, recipients: list[str]) -> None:
        raise OSError("smtp down")


class _Collecting:
    name = "test"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, message: OutboxMessage, recipients: list[str]) -> None:
        self.sent.append(message.key)


def test_outbox_is_delivered_once_and_failures_retried(session: Session, world: World) -> None:
    outbox.enqueue(session=session, key="t:1", kind="accepted", title="标题", body="正文", subject_id=world.company.id)
    outbox.enqueue(session=session, key="t:1", kind="accepted", title="标题", body="正文", subject_id=world.company.id)
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "t:1")) == 1
    failed = outbox.deliver_outbox(session=session, sender=_Failing())
    assert failed.failed >= 1
    message = session.scalar(sa.select(OutboxMessage).where(OutboxMessage.key == "t:1"))
    assert message is not None and message.sent_at is None and "smtp down" in (message.last_error or "")
    sender = _Collecting()
    outbox.deliver_outbox(session=session, sender=sender)
    outbox.deliver_outbox(session=session, sender=sender)
    assert sender.sent.count("t:1") == 1
    assert message.sent_at is not None and message.attempts == 2


def test_pipeline_sends_notices_in_the_chunk_and_cli_delivers(fresh_db: Database, tmp_path: Path) -> None:
    from tests.ingest.fixtures import UNIT_USCC, valid_penalty_row, write_csv

    env = {
        **os.environ,
        "XINYONG_DATABASE_URL": fresh_db.url,
        "PYTHONPATH": str(REPO),
        "XINYONG_DATA_DIR": str(tmp_path),
    }
    path = write_csv(tmp_path / "penalties.csv", [valid_penalty_row(i) for i in range(3)])
    run = [sys.executable, "-m", "xinyong"]
    add_unit = [
        *run,
        "unit",
        "add",
        "--uscc",
        UNIT_USCC,
        "--name",
        "淄博市生态环境局",
        "--resource",
        "administrative_penalty",
    ]
    unit = subprocess.run(add_unit, env=env, capture_output=True, text=True)
    assert unit.returncode == 0, unit.stderr
    for _ in range(2):  # the second run stores duplicates and must not tell anyone twice
        ingest = [*run, "ingest", str(path), "--resource", "administrative_penalty", "--json"]
        done = subprocess.run(ingest, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    with fresh_db.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(DishonestyNotice)) == 3
        assert (
            conn.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "notice"))
            == 3
        )
    deliver = subprocess.run([*run, "rights", "deliver"], env=env, capture_output=True, text=True)
    assert deliver.returncode == 0 and "已发送 3" in deliver.stdout, deliver.stderr
    again = subprocess.run([*run, "rights", "deliver"], env=env, capture_output=True, text=True)
    assert "已发送 0" in again.stdout
