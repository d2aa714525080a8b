"""Every domain's ORM models, imported once so ``Base.metadata`` is complete (for Alembic and tests)."""

from xinyong.accounts.models import Account, ApiKey
from xinyong.audit.models import AuditEvent
from xinyong.catalog.models import Resource, SourceUnit, UnitResource
from xinyong.evaluation.models import (
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
from xinyong.ingest.models import Batch, QuarantinedRow
from xinyong.records.models import Record, RecordVersion
from xinyong.subjects.models import Subject, SubjectCode, SubjectName

__all__ = [
    "Account",
    "ApiKey",
    "AuditEvent",
    "Batch",
    "Employment",
    "EvaluationCurrent",
    "EvaluationModel",
    "EvaluationResult",
    "EvaluationRun",
    "EvaluationScope",
    "IndustryMember",
    "InspectionCampaign",
    "InspectionDraw",
    "Inspector",
    "InspectorConflict",
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
