"""Schemathesis against the application's own OpenAPI schema, with a real credential for every operation.

Shared by the short run in the suite (``tests/security/test_schemathesis.py``) and the long one (``bench/fuzz.py``):
``build_world`` puts two units, two subjects, an API key per role, a signed-in subject and exchange subscribers into a
migrated database; ``run`` generates requests for every operation of ``/openapi.json`` (valid ones and, in negative
mode, ones that break the schema), sends each with the credential the access matrix asks for, and records every
response that is a server error (5xx), does not match its documented schema, or has the wrong content type.

Failures are collected, not raised, so one run reports all of them (the suite then asserts there are none).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from schemathesis.core.failures import Failure as CheckFailure
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests import factories
from tests.ingest.fixtures import PENALTY, valid_penalty_row
from xinyong.accounts import access
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import session_token
from xinyong.audit.service import Actor
from xinyong.exchange import subscribers
from xinyong.exchange.models import SubscriberKind
from xinyong.subjects.codes import make_uscc
from xinyong.web import csrf

try:  # the generic check lives in schemathesis.checks in 4.x
    from schemathesis.checks import not_a_server_error
except ImportError:  # pragma: no cover - older layout
    from schemathesis.specs.openapi.checks import not_a_server_error  # type: ignore[no-redef,attr-defined]

UNIT_B_USCC = make_uscc("1", "1", "370300", "00400888")
# Which role speaks for a route when several may call it: the narrowest scope first (a unit for unit-scoped routes, the
# subject for its own), else the office, whose key reaches the most code.
_PREFERENCE = ("credit_office", "admin", "checker", "source_unit", "subject")


@dataclass
class FuzzWorld:
    keys: dict[str, str] = field(default_factory=dict)  # role → API key
    subject_cookie: str = ""
    subscriber_keys: dict[str, str] = field(default_factory=dict)  # subscriber kind → key
    codes: list[str] = field(default_factory=list)  # subjects' USCCs (for examples that hit real rows)


def build_world(engine: Engine) -> FuzzWorld:
    world = FuzzWorld()
    cli = Actor.cli()
    with Session(engine) as session:
        unit_a = factories.unit(session)
        factories.unit(session, uscc_code=UNIT_B_USCC, name="淄博市市场监督管理局", short_name="淄市监")
        subject_a = factories.subject(session, name="甲公司")
        subject_b = factories.subject(session, name="乙公司")
        world.codes = [str(subject_a.uscc), str(subject_b.uscc)]
        for role in Role:
            unit = unit_a if role is Role.SOURCE_UNIT else None
            issued = accounts.create_api_key(session=session, actor=cli, role=role, unit=unit)
            if role is Role.SUBJECT:
                session.get(Account, issued.api_key.account_id).subject_id = subject_a.id  # type: ignore[union-attr]
            world.keys[role.value] = issued.key
        account = accounts.create_account(
            session=session, username="fuzz-subject", role=Role.SUBJECT, password="pw-123456", subject_id=subject_a.id
        )
        world.subject_cookie = session_token(account)
        for kind in SubscriberKind:
            made = subscribers.create_subscriber(
                session=session, actor=cli, name=f"fuzz-{kind.value}", kind=kind,
                unit=unit_a if kind is SubscriberKind.DEPARTMENT else None,
            )  # fmt: skip
            world.subscriber_keys[kind.value] = made.key
        session.commit()
    return world


def seed_records(app: FastAPI, world: FuzzWorld) -> None:
    """A batch of penalties through the real API, so reads find rows, batches and rejects."""
    from fastapi.testclient import TestClient

    rows = [valid_penalty_row(i, CF_SJLYDM=factories.UNIT_USCC) for i in range(5)]
    rows.append(valid_penalty_row(9, CF_XDR_SHXYM="bad"))
    with TestClient(app) as client:
        response = client.post(
            f"/api/v1/batches/{PENALTY}", json=rows, headers={"Authorization": f"Bearer {world.keys['source_unit']}"}
        )
    assert response.status_code in (200, 201), response.text


def credentials(method: str, path: str, world: FuzzWorld, role: str | None = None) -> tuple[str, dict[str, str]]:
    """(who, headers) for calling ``method path`` as the matrix allows; ``role`` picks one of the allowed roles."""
    rule = access.rule_for(method, path)
    if rule is None or rule.allows(access.ANONYMOUS):
        return "anonymous", {}
    if not rule.roles and rule.subscribers:
        return "subscriber", {"Authorization": f"Bearer {world.subscriber_keys['agency']}"}
    if rule.channel is access.Channel.COOKIE:
        cookie = world.subject_cookie
        return "subject(cookie)", {"Cookie": f"{csrf.COOKIE}={cookie}", "X-CSRF-Token": csrf.token_for(cookie)}
    if role is None:
        wanted = {access.Scope.UNIT: "source_unit", access.Scope.SUBJECT: "subject", access.Scope.OWN: "subject"}
        first = wanted.get(rule.scope)
        order = ((first,) if first else ()) + _PREFERENCE
        role = next(r for r in order if rule.allows(r))
    return role, {"Authorization": f"Bearer {world.keys[role]}"}


def roles_for(method: str, path: str) -> list[str | None]:
    """Every role that may call the route by API key (None: the single credential ``credentials`` picks)."""
    rule = access.rule_for(method, path)
    if rule is None or rule.allows(access.ANONYMOUS) or rule.channel is access.Channel.COOKIE or not rule.roles:
        return [None]
    return [r for r in _PREFERENCE if rule.allows(r)]


@dataclass
class Failure:
    operation: str
    who: str
    mode: str
    status: int | None
    problem: str
    reproduce: str


@dataclass
class FuzzReport:
    cases: int = 0
    operations: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    def distinct_failures(self) -> list[Failure]:
        seen: dict[tuple[str, str, str], Failure] = {}
        for failure in self.failures:
            seen.setdefault((failure.operation, failure.who, failure.problem.splitlines()[0][:120]), failure)
        return list(seen.values())

    def summary(self) -> str:
        lines = [
            f"{self.operations} operations, {self.cases} requests in {self.seconds:.1f} s; "
            f"statuses: {dict(sorted(self.statuses.items()))}; failures: {len(self.failures)} "
            f"({len(self.distinct_failures())} distinct)"
        ]
        for failure in self.distinct_failures():
            lines.append(f"  ✗ {failure.operation} as {failure.who} [{failure.mode}] → {failure.status}: "
                         f"{failure.problem.splitlines()[0][:300]}")  # fmt: skip
            lines.append(f"      {failure.reproduce[:400]}")
        return "\n".join(lines)


_CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def run(
    app: FastAPI,
    world: FuzzWorld,
    *,
    max_examples: int,
    modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    all_roles: bool = False,
    seed: int | None = 0,
    only: str | None = None,
) -> FuzzReport:
    """Fuzz every operation; ``only`` restricts to operations whose "METHOD /path" contains it."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    report = FuzzReport()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if only and only not in label:
            continue
        report.operations += 1
        for role in roles_for(operation.method.upper(), operation.path) if all_roles else [None]:
            who, headers = credentials(operation.method.upper(), operation.path, world, role)
            for mode in modes:
                _fuzz_operation(operation, label, who, headers, mode, max_examples, seed, report)
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(
    operation: Any,
    label: str,
    who: str,
    headers: dict[str, str],
    mode: GenerationMode,
    max_examples: int,
    seed: int | None,
    report: FuzzReport,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode)

    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=seed is not None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is kept and reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def one(case: Any) -> None:
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # Starlette re-raises after answering 500; that is the finding
            report.cases += 1
            report.statuses[500] += 1
            where = _where(exc)
            report.failures.append(Failure(label, who, mode.value, 500, f"{type(exc).__name__}: {exc} @ {where}",
                                           _curl(case)))  # fmt: skip
            return
        report.cases += 1
        report.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=_CHECKS, headers=headers)
        except (CheckFailure, FailureGroup) as exc:  # a failed check: keep it and go on with the next case
            report.failures.append(
                Failure(label, who, mode.value, response.status_code, _describe(exc, response), _curl(case))
            )

    # A schema that cannot produce a negative case (e.g. no parameters) has nothing to send.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        one()


def _where(exc: BaseException) -> str:
    """The innermost frame of the platform's own code that the exception passed through."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/xinyong/" in f.filename]
    return f"{frames[-1].filename.rsplit('/xinyong/', 1)[1]}:{frames[-1].lineno}" if frames else "?"


def _describe(exc: BaseException, response: Any) -> str:
    if isinstance(exc, FailureGroup):
        exc = exc.exceptions[0]
    text = str(getattr(exc, "title", "") or exc).strip() or type(exc).__name__
    body = getattr(response, "text", "")[:300]
    return f"{text.splitlines()[0] if text else type(exc).__name__} | {body}"


def _curl(case: Any) -> str:
    try:
        return str(case.as_curl_command())
    except Exception:  # only a hint for the reader
        return f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"[:400]
