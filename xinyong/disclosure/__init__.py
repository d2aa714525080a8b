"""公示 — the disclosure engine: the one place the publication rules (DESIGN §4.1, §4.3) live.

Use:

- ``decide(record, resource, viewer)`` → ``Decision`` (visible?, public?, reason in Chinese, period, objection mark,
  masking, repair date) for one record;
- ``visible_filter(session=…, viewer=…)`` → a SQL WHERE clause over ``record`` selecting the same records, for lists;
- ``repair_eligible_from(record, resource)`` → the end of the minimum period (for the repair workflow);
- ``mask_identifiers`` / ``mask_value`` → mask citizen ID numbers in text and JSON for views that must mask;
- ``get_rules()`` → the thresholds in force (``data/rules.yaml`` merged with XINYONG_DISCLOSURE_RULES).
"""

from xinyong.disclosure.engine import (
    OBJECTION_MARK,
    Decision,
    Viewer,
    ViewerKind,
    decide,
    mask_identifiers,
    mask_value,
    repair_eligible_from,
)
from xinyong.disclosure.query import public_filter, shared_filter, visible_filter
from xinyong.disclosure.rules import DisclosureRules, SeverityTerms, add_months, get_rules, load_rules

__all__ = [
    "OBJECTION_MARK",
    "Decision",
    "DisclosureRules",
    "SeverityTerms",
    "Viewer",
    "ViewerKind",
    "add_months",
    "decide",
    "get_rules",
    "load_rules",
    "mask_identifiers",
    "mask_value",
    "public_filter",
    "repair_eligible_from",
    "shared_filter",
    "visible_filter",
]
