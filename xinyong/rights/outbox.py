"""Notifications: messages are written to the ``outbox_message`` table in the same transaction as the step that
causes them, and delivered later by ``deliver_outbox`` (the worker, or ``xinyong rights deliver``).

Each message has a unique key (e.g. ``objection:12:accepted``), so writing it twice changes nothing, and a message
is marked sent once delivered, so delivering twice sends nothing twice. Senders are pluggable: ``LogSender``
(default; writes the message to the log) and ``SmtpSender`` (XINYONG_NOTIFY_SENDER=smtp and the SMTP_* settings).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.errors import ConfigurationError
from xinyong.core.logging import get_logger
from xinyong.core.settings import get_settings
from xinyong.rights.models import OutboxMessage, Registration
from xinyong.subjects.service import insert_ignoring_conflicts

log = get_logger(__name__)
MAX_ATTEMPTS = 5
_outbox = OutboxMessage.__table__


def enqueue(
    *,
    session: Session,
    key: str,
    kind: str,
    title: str,
    body: str,
    subject_id: int | None = None,
    unit_id: int | None = None,
    to_office: bool = False,
    ref_type: str | None = None,
    ref_id: int | None = None,
) -> None:
    """Add a message unless one with ``key`` exists."""
    statement = insert_ignoring_conflicts(session, _outbox)  # type: ignore[arg-type]
    session.execute(
        statement,
        [
            {
                "key": key[:120],
                "kind": kind,
                "subject_id": subject_id,
                "unit_id": unit_id,
                "to_office": to_office,
                "title": title[:200],
                "body": body,
                "ref_type": ref_type,
                "ref_id": ref_id,
                "created_at": clock.now(),
                "attempts": 0,
            }
        ],
    )


class Sender(Protocol):
    name: str

    def send(self, message: OutboxMessage, recipients: list[str]) -> None: ...


class LogSender:
    """Writes each message to the log (development, or where the portal inbox is the only channel)."""

    name = "log"

    def send(self, message: OutboxMessage, recipients: list[str]) -> None:
        log.info(
            "notification",
            kind=message.kind,
            key=message.key,
            to=recipients or ["（站内）"],
            title=message.title,
        )


class SmtpSender:
    """E-mail through the SMTP server in the settings (465: implicit TLS; otherwise STARTTLS when offered)."""

    name = "smtp"

    def __init__(self) -> None:
        settings = get_settings()
        if not settings.smtp_host or not settings.smtp_from:
            raise ConfigurationError("XINYONG_NOTIFY_SENDER=smtp 需要设置 XINYONG_SMTP_HOST 与 XINYONG_SMTP_FROM")
        self.settings = settings

    def send(self, message: OutboxMessage, recipients: list[str]) -> None:
        if not recipients:
            return
        s = self.settings
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = s.smtp_from, ", ".join(recipients), message.title
        email.set_content(message.body)
        context = ssl.create_default_context()
        if s.smtp_port == 465:
            with smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, context=context, timeout=30) as server:
                if s.smtp_user:
                    server.login(s.smtp_user, s.smtp_password)
                server.send_message(email)
            return
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as server:
            if server.has_extn("starttls"):
                server.starttls(context=context)
            if s.smtp_user:
                server.login(s.smtp_user, s.smtp_password)
            server.send_message(email)


def default_sender() -> Sender:
    return SmtpSender() if get_settings().notify_sender == "smtp" else LogSender()


def recipients_of(session: Session, message: OutboxMessage) -> list[str]:
    """E-mail addresses: the subject's verified accounts; the credit office's address for office alerts."""
    addresses: list[str] = []
    if message.subject_id is not None:
        addresses += [
            e
            for e in session.scalars(
                sa.select(Registration.email).where(
                    Registration.subject_id == message.subject_id,
                    Registration.account_id.is_not(None),
                    Registration.email.is_not(None),
                )
            )
            if e
        ]
    if message.to_office and get_settings().office_email:
        addresses.append(get_settings().office_email)
    return sorted(set(addresses))


@dataclass
class DeliverySummary:
    sent: int = 0
    failed: int = 0


def deliver_outbox(*, session: Session, sender: Sender | None = None, limit: int = 200) -> DeliverySummary:
    """Send up to ``limit`` pending messages. Safe to run from several workers at once on PostgreSQL (rows are
    claimed with SKIP LOCKED) and to run again: a sent message is never sent twice. A failure is counted and retried
    on the next run, up to MAX_ATTEMPTS times."""
    sender = sender or default_sender()
    summary = DeliverySummary()
    pending = session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for message in pending:
        to = recipients_of(session, message)
        message.attempts += 1
        try:
            sender.send(message, to)
        except Exception as exc:  # any delivery failure is kept on the message and retried later
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            summary.failed += 1
            continue
        message.sent_at = clock.now()
        message.sent_via = sender.name
        message.sent_to = ", ".join(to)[:300] or "（站内消息）"
        message.last_error = None
        summary.sent += 1
    session.flush()
    return summary


def messages_for_subject(*, session: Session, subject_id: int, limit: int = 50) -> list[OutboxMessage]:
    return list(
        session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.subject_id == subject_id)
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )
