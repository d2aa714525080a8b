"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.checks.models import Check, CheckFeedback, Matter, Measure
from xinyong.commitments.models import Commitment
from xinyong.declarations.models import SelfDeclaration
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.lists.models import ListEntry, ListEvent, ListType
from xinyong.objections.models import Objection
from xinyong.portal.models import Article
from xinyong.records.models import Record, RecordVersion
from xinyong.repair.models import RepairApplication
from xinyong.rights.models import Attachment, DishonestyNotice, OutboxMessage, Registration, RightsEvent
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "Article",
    "Attachment",
    "AuditEvent",
    "Batch",
    "Check",
    "CheckFeedback",
    "Commitment",
    "DishonestyNotice",
    "ListEntry",
    "ListEvent",
    "ListType",
    "Matter",
    "Measure",
    "Objection",
    "OutboxMessage",
    "QuarantinedRow",
    "Record",
    "RecordVersion",
    "Registration",
    "RepairApplication",
    "Resource",
    "RightsEvent",
    "SelfDeclaration",
    "SourceUnit",
    "Subject",
    "SubjectCode",
    "SubjectName",
    "UnitResource",
]
