"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
    Employment,
    EvaluationCurrent,
    EvaluationModel,
    EvaluationResult,
    EvaluationRun,
    EvaluationScope,
    IndustryMember,
    InspectionCampaign,
    InspectionDraw,
    Inspector,
    InspectorConflict,
)
from xinyong.checks.models import Check, CheckFeedback, Matter, Measure
from xinyong.console.models import ApplicationItem, BehaviourItem, CatalogChange, SubjectMerge
from xinyong.evaluation.models import (
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.lists.models import ListEntry, ListEvent, ListType
from xinyong.monitoring.models import GovernanceIssue, JobRun
from xinyong.portal.models import Article
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "ApplicationItem",
    "Article",
    "AuditEvent",
    "Batch",
    "BehaviourItem",
    "CatalogChange",
    "Check",
    "CheckFeedback",
    "Employment",
    "EvaluationCurrent",
    "EvaluationModel",
    "EvaluationResult",
    "EvaluationRun",
    "EvaluationScope",
    "GovernanceIssue",
    "IndustryMember",
    "InspectionCampaign",
    "InspectionDraw",
    "Inspector",
    "InspectorConflict",
    "JobRun",
    "ListEntry",
    "ListEvent",
    "ListType",
    "Matter",
    "Measure",
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
