"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.checks.models import Check, CheckFeedback, Matter, Measure
from xinyong.exchange.models import Authorisation, ChangeEvent, ExternalUnit, PushLog, Subscriber, WebhookDelivery
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.lists.models import ListEntry, ListEvent, ListType
from xinyong.portal.models import Article
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "Article",
    "AuditEvent",
    "Authorisation",
    "Batch",
    "ChangeEvent",
    "Check",
    "CheckFeedback",
    "ExternalUnit",
    "ListEntry",
    "ListEvent",
    "ListType",
    "Matter",
    "Measure",
    "PushLog",
    "QuarantinedRow",
    "Record",
    "RecordVersion",
    "Resource",
    "SourceUnit",
    "Subject",
    "SubjectCode",
    "SubjectName",
    "Subscriber",
    "UnitResource",
    "WebhookDelivery",
]
