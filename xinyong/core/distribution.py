"""The platform's layout on a Citus cluster (docs/scaling.md), as data, and a checker of the SQL the services send.

Every table is one of:
- distributed by a column (``DISTRIBUTED``): the subject's rows — its records, list entries, objections, scores … —
  distributed by the subject id and co-located, so everything about one subject lives on one shard;
- a reference table (``REFERENCE``): the catalogs and accounts, small and read everywhere, replicated to every node;
- a coordinator table (``COORDINATOR``): append-only logs whose order is global (the audit hash chain, the change
  feed's cursor, job runs, batches and their quarantine), kept on the coordinator.

``unkeyed(statement)`` reads one SQL statement as SQLAlchemy renders it and names every occurrence of a distributed
table that is not pinned to one shard: neither compared with a value (``= :p``, ``IN (…)``) on its distribution column,
nor joined on the distribution column to an occurrence that is. It follows the subquery columns SQLAlchemy labels
(``subject.id AS subject_id`` … ``anon_1.subject_id = :p``). It is a reader of generated SQL, not a parser of any
SQL: unqualified column references (other than in INSERT column lists) are not recognised, which errs on the side of
reporting a statement as not keyed.

Identity lookups — one subject by its USCC, by the keyed hash of its ID number, or by a legacy code — are the way in
for every hot path (a check, a subject page). On Citus they go through a lookup table distributed by the code
(``subject_code``, which then also carries the USCC and ID-hash keys; see docs/scaling.md), so they reach one shard:
``IDENTITY_KEYS`` lists the columns such a lookup may be pinned by instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DISTRIBUTED: dict[str, str] = {
    # co-located by subject
    "subject": "id",
    "record": "subject_id",
    "subject_name": "subject_id",
    "list_entry": "subject_id",
    "commitment": "subject_id",
    "objection": "subject_id",
    "repair_application": "subject_id",
    "dishonesty_notice": "subject_id",
    "self_declaration": "subject_id",
    "registration": "subject_id",
    "evaluation_current": "subject_id",
    "evaluation_result": "subject_id",
    "evaluation_scope": "subject_id",
    "industry_member": "subject_id",
    "inspection_draw": "subject_id",
    "inspector_conflict": "subject_id",
    "exchange_authorisation": "subject_id",
    "credit_report": "subject_id",
    "employment": "person_id",
    # their own groups
    "record_version": "record_id",  # read per record; written by INSERT … SELECT from record (repartitioned)
    "subject_code": "code",  # the lookup table: code → subject
    "credit_check": "check_no",  # a check may find no subject; read back by its number
    "check_feedback": "check_id",
}

REFERENCE: frozenset[str] = frozenset(
    {
        "resource",
        "source_unit",
        "unit_resource",
        "list_type",
        "measure",
        "matter",
        "evaluation_model",
        "account",
        "api_key",
        "article",
        "inspector",
        "inspection_campaign",
        "exchange_subscriber",
        "exchange_external_unit",
        "catalog_change",
        "behaviour_item",
        "application_item",
    }
)

COORDINATOR: frozenset[str] = frozenset(
    {
        "audit_event",
        "audit_chain_head",
        "change_event",
        "job_run",
        "batch",
        "quarantined_row",
        "evaluation_run",
        "exchange_push",
        "webhook_delivery",
        "outbox_message",
        "governance_issue",
        "subject_merge",
        "list_event",
        "rights_event",
        "rights_attachment",
    }
)

# (table, column) pairs an identity lookup may be pinned by (on Citus: a lookup in subject_code, one shard).
IDENTITY_KEYS: frozenset[tuple[str, str]] = frozenset({("subject", "uscc"), ("subject", "id_hash")})

_KEYWORDS = frozenset(
    {
        "where", "join", "left", "right", "inner", "outer", "full", "cross", "on", "group", "order", "limit", "offset",
        "union", "set", "values", "select", "returning", "having", "and", "or", "as", "for", "natural", "using",
        "window", "except", "intersect", "default", "fetch",
    }
)  # fmt: skip

_TABLE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\"?(\w+)\"?", re.IGNORECASE)
_ALIAS = re.compile(r"\s+(?:AS\s+)?(\w+)", re.IGNORECASE)
_VALUE = r"(?:%\(\w+\)s|\?|:\w+|\(|'|\d|\[POSTCOMPILE)"
_PINNED = re.compile(r"\b(\w+)\.(\w+)(?:::\w+)?\s*(?:=|\bIN\b|=\s*ANY)\s*" + _VALUE, re.IGNORECASE)
_PINNED_LEFT = re.compile(r"(?:%\(\w+\)s|\?|:\w+)(?:::\w+)?\s*=\s*(\w+)\.(\w+)\b")
_EQUAL = re.compile(r"\b(\w+)\.(\w+)\s*=\s*(\w+)\.(\w+)\b")
_LABEL = re.compile(r"\b(\w+)\.(\w+)\s+AS\s+(\w+)", re.IGNORECASE)
_SUBQUERY_ALIAS = re.compile(r"\)\s+AS\s+(\w+)", re.IGNORECASE)
_CTE = re.compile(r"(?:\bWITH|,)\s*(\w+)\s+AS\s*\(", re.IGNORECASE)
# An INSERT that is the statement, or one of its common table expressions (``WITH x AS (INSERT …)``).
_INSERT = re.compile(r"(?:^\s*|\bAS\s*\(\s*)INSERT\s+INTO\s+\"?(\w+)\"?\s*\(([^)]*)\)\s*(VALUES|SELECT)", re.IGNORECASE)


@dataclass(frozen=True)
class Occurrence:
    table: str
    alias: str


def _occurrences(sql: str) -> list[Occurrence]:
    found = []
    for match in _TABLE.finditer(sql):
        # The alias is read without consuming it: "FROM record JOIN subject" holds two tables.
        after = _ALIAS.match(sql, match.end())
        table, alias = match.group(1).lower(), (after.group(1) if after else "")
        if alias.lower() in _KEYWORDS or not alias:
            alias = table
        found.append(Occurrence(table, alias.lower()))
    return found


def unknown_tables(statement: str) -> list[str]:
    """Tables the statement names that the layout does not classify (a new table must be given a place); the
    statement's own common table expressions are not tables."""
    known = DISTRIBUTED.keys() | REFERENCE | COORDINATOR | {name.lower() for name in _CTE.findall(statement)}
    return sorted({o.table for o in _occurrences(statement) if o.table not in known and not o.table.startswith("pg_")})


def unkeyed(statement: str) -> list[str]:
    """The distributed table occurrences (``table AS alias``) of ``statement`` not pinned to one shard."""
    sql = " ".join(statement.split())
    occurrences = [o for o in _occurrences(sql) if o.table in DISTRIBUTED]
    if not occurrences:
        return []
    by_alias: dict[str, list[Occurrence]] = {}
    for o in occurrences:
        by_alias.setdefault(o.alias, []).append(o)

    # Subquery output columns: anon_1.subject_id stands for whichever alias.column was labelled subject_id inside.
    labels: dict[str, set[tuple[str, str]]] = {}
    for alias, column, label in _LABEL.findall(sql):
        labels.setdefault(label.lower(), set()).add((alias.lower(), column.lower()))
    subqueries = {a.lower() for a in _SUBQUERY_ALIAS.findall(sql)}

    def columns(alias: str, column: str) -> set[tuple[str, str]]:
        """The (alias, column) pairs a qualified reference stands for. A label that stands for a non-key column in
        any branch (a UNION of a record's own subject and an employer's id) pins nothing: one of its branches reads
        rows of other subjects."""
        alias, column = alias.lower(), column.lower()
        if alias in subqueries and column in labels:
            pairs = labels[column]
            return pairs if all(is_key(*pair) or is_identity(*pair) for pair in pairs) else set()
        return {(alias, column)}

    def is_key(alias: str, column: str) -> bool:
        return any(DISTRIBUTED[o.table] == column for o in by_alias.get(alias, []))

    def is_identity(alias: str, column: str) -> bool:
        return any((o.table, column) in IDENTITY_KEYS for o in by_alias.get(alias, []))

    pinned: set[str] = set()
    for regex in (_PINNED, _PINNED_LEFT):
        for alias, column in regex.findall(sql):
            for a, c in columns(alias, column):
                if is_key(a, c) or is_identity(a, c):
                    pinned.add(a)
    for insert in _INSERT.finditer(sql):
        table = insert.group(1).lower()
        named = {c.strip().strip('"') for c in insert.group(2).split(",")}
        # INSERT … VALUES is routed by the distribution column it names; INSERT … SELECT writes the target where the
        # selected rows are, and the SELECT must be keyed itself.
        if insert.group(3).upper() == "SELECT" or DISTRIBUTED.get(table) in named:
            pinned.add(table)

    # Joins on the distribution column carry a pin from one occurrence to the other (co-located joins).
    edges: list[tuple[str, str]] = []
    for a1, c1, a2, c2 in _EQUAL.findall(sql):
        for left in columns(a1, c1):
            for right in columns(a2, c2):
                if is_key(*left) and is_key(*right):
                    edges.append((left[0], right[0]))
    changed = True
    while changed:
        changed = False
        for one, other in edges:
            if (one in pinned) != (other in pinned):
                pinned.update((one, other))
                changed = True
    return sorted({f"{o.table} AS {o.alias}" for o in occurrences if o.alias not in pinned})
