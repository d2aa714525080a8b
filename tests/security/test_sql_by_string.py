"""No SQL is built by string: every ``text()`` / ``exec_driver_sql()`` / ``execute()`` whose SQL is an f-string, a
%-format, a ``.format()``, a ``join`` or a concatenation with a non-constant value is found in the source (ast), and
the test fails unless it is in the short allow-list below, each entry with the reason a bound parameter cannot do.

Values always travel as bound parameters (``:name``); only identifiers that SQL cannot bind (a database name, a table
name from a fixed tuple in the code) may be formatted in, and those are listed here by file and function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The application (routes, services, migrations). bench/ and tests/ create and drop their own databases by generated
# names and are not reachable by any request.
SCANNED = ("xinyong",)
SQL_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "executescript"}

# (file, enclosing function) → why the SQL must be formatted. Keep it short; a new entry needs a real reason.
ALLOWED: dict[tuple[str, str], str] = {
    ("xinyong/core/database.py", "analyze_stale"): (
        "ANALYZE of table names its callers fix in code (ingest's _ANALYZED, evaluation's two tables), only those "
        "pg_class knows"
    ),
    ("xinyong/migrations/versions/0001_foundation.py", "_append_only_audit"): "trigger DDL per verb of a fixed tuple",
    ("xinyong/migrations/versions/0002_portal.py", "downgrade"): "DROP TRIGGER names from a fixed tuple of suffixes",
    ("xinyong/core/database.py", "_set_busy_timeout"): "PRAGMA takes no bound parameter; an int, :d",
    ("xinyong/backup/service.py", "_scratch_database"): "CREATE/DROP DATABASE of a name the code generates (hex)",
    ("xinyong/monitoring/maintenance.py", "vacuum_analyze"): "VACUUM/ANALYZE of table names read from pg_stat, quoted",
    ("xinyong/monitoring/maintenance.py", "ensure_month_partitions"): "partition DDL: names and month bounds computed",
    ("xinyong/demo/bulk.py", "_pg_secondary"): "index DDL of the bulk loader from fixed tuples of tables",
    ("xinyong/demo/bulk.py", "_sqlite_secondary"): "index DDL of the bulk loader from fixed tuples of tables",
    ("xinyong/demo/bulk.py", "bulk_load"): "setval/VACUUM of table names from fixed tuples",
    ("xinyong/migrations/versions/0010_partitioning.py", "upgrade"): "partitioning DDL over fixed tuples of names",
    ("xinyong/migrations/versions/0010_partitioning.py", "downgrade"): "partitioning DDL over fixed tuples of names",
    ("xinyong/migrations/versions/0010_partitioning.py", "_partitioned_copy"): "DDL over fixed tuples of names",
    ("xinyong/migrations/versions/0010_partitioning.py", "_plain_copy"): "DDL over fixed tuples of names",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    function: str
    call: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} in {self.function}(): {self.call}() with SQL built by string"


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant)


def _built_by_string(node: ast.AST, assignments: dict[str, list[ast.AST]], seen: frozenset[str] = frozenset()) -> bool:
    """Whether ``node`` (an SQL argument) is text assembled from non-constant parts."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return not (_is_constant(node.left) and _is_constant(node.right))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # "a" "b" split over lines is one constant; "a" + "b" is harmless; anything else adds a variable part
        return not (_is_constant(node.left) and _is_constant(node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
        # "...".format(x) / ", ".join(xs) build text; select(...).join(...) builds a statement object
        receiver = node.func.value
        return isinstance(receiver, ast.Constant) or _built_by_string(receiver, assignments, seen)
    if isinstance(node, ast.Name) and node.id not in seen:
        return any(_built_by_string(value, assignments, seen | {node.id}) for value in assignments.get(node.id, []))
    return False


def _assignments(scope: ast.AST) -> dict[str, list[ast.AST]]:
    found: dict[str, list[ast.AST]] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            found.setdefault(node.target.id, []).append(node.value)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.setdefault(node.target.id, []).append(ast.BinOp(ast.Name(node.target.id), node.op, node.value))
    return found


def scan_source(source: str, path: str = "<snippet>") -> list[Finding]:
    tree = ast.parse(source)
    module_assignments = {k: v for k, v in _assignments(tree).items()}
    findings: list[Finding] = []

    def visit(node: ast.AST, function: str, assignments: dict[str, list[ast.AST]]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                local = {**module_assignments, **_assignments(child)}
                visit(child, child.name, local)
                continue
            if isinstance(child, ast.Call) and _call_name(child) in SQL_CALLS:
                sql = child.args[0] if child.args else next(
                    (k.value for k in child.keywords if k.arg in ("statement", "text", "sql", "clause")), None
                )  # fmt: skip
                if sql is not None and _built_by_string(sql, assignments):
                    findings.append(Finding(path, child.lineno, function, str(_call_name(child))))
            visit(child, function, assignments)

    visit(tree, "<module>", module_assignments)
    return findings


def scan_tree() -> list[Finding]:
    findings: list[Finding] = []
    for top in SCANNED:
        for file in sorted((ROOT / top).rglob("*.py")):
            rel = file.relative_to(ROOT).as_posix()
            findings.extend(scan_source(file.read_text(encoding="utf-8"), rel))
    return findings


def test_no_sql_is_built_by_string_outside_the_allow_list() -> None:
    findings = scan_tree()
    unexpected = [f for f in findings if (f.path, f.function) not in ALLOWED]
    assert not unexpected, "SQL built by string (use bound parameters):\n" + "\n".join(map(str, unexpected))
    stale = set(ALLOWED) - {(f.path, f.function) for f in findings}
    assert not stale, f"allow-list entries that no longer match anything (remove them): {sorted(stale)}"


def test_the_scanner_finds_each_way_of_building_sql() -> None:
    built = """
import sqlalchemy as sa
from sqlalchemy import text

def by_fstring(session, name):
    session.execute(sa.text(f"SELECT * FROM subject WHERE name = '{name}'"))

def by_percent(conn, name):
    conn.exec_driver_sql("SELECT * FROM subject WHERE name = '%s'" % name)

def by_format(conn, name):
    conn.execute(text("SELECT * FROM subject WHERE name = '{}'".format(name)))

def by_concatenation(conn, name):
    conn.execute(text("SELECT * FROM subject WHERE name = '" + name + "'"))

def by_variable(conn, table):
    sql = f"ANALYZE {table}"
    conn.exec_driver_sql(sql)

def by_join(conn, names):
    conn.execute(sa.text(" UNION ".join(names)))

def by_augmented(conn, where):
    sql = "SELECT 1"
    sql += where
    conn.execute(sa.text(sql))
"""
    found = scan_source(built)
    assert [f.function for f in found] == [
        "by_fstring", "by_percent", "by_format", "by_concatenation", "by_variable", "by_join", "by_augmented"
    ]  # fmt: skip

    bound = """
import sqlalchemy as sa

QUERY = sa.text("SELECT id FROM subject WHERE uscc = :code")

def bound(session, code):
    session.execute(sa.text("SELECT * FROM subject WHERE uscc = :code"), {"code": code})
    session.execute(sa.text("SELECT 1 "
                            "FROM subject"))
    session.execute(QUERY, {"code": code})
    session.execute(sa.select(1).where(sa.literal(code) == "x"))
    label = f"not SQL {code}"
    return label
"""
    assert scan_source(bound) == []
