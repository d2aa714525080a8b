"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.console.models import ApplicationItem, BehaviourItem, CatalogChange, SubjectMerge
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.monitoring.models import GovernanceIssue, JobRun
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "ApplicationItem",
    "AuditEvent",
    "Batch",
    "BehaviourItem",
    "CatalogChange",
    "GovernanceIssue",
    "JobRun",
    "QuarantinedRow",
    "Record",
    "RecordVersion",
    "Resource",
    "SourceUnit",
    "Subject",
    "SubjectCode",
    "SubjectMerge",
    "SubjectName",
    "UnitResource",
]
