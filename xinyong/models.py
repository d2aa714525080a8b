"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.portal.models import Article
from xinyong.records.models import Record, RecordVersion
from xinyong.reports.models import IssuedReport
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "Article",
    "AuditEvent",
    "Batch",
    "IssuedReport",
    "QuarantinedRow",
    "Record",
    "RecordVersion",
    "Resource",
    "SourceUnit",
    "Subject",
    "SubjectCode",
    "SubjectName",
    "UnitResource",
]
