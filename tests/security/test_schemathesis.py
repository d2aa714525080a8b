"""Schemathesis over the whole OpenAPI schema, short version: every operation, valid and schema-breaking requests, sent
with the credential the access matrix asks for, on both engines. Zero server errors and no response that breaks its
documented schema. The long run is ``bench/fuzz.py``."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel
from schemathesis.generation import GenerationMode

from tests.conftest import Database
from tests.security import fuzzing
from xinyong.app import create_app
from xinyong.core.settings import reset_settings

# Per operation and generation mode; deterministic (derandomised), so a failure here fails every run until fixed.
EXAMPLES = 2


def test_no_server_errors_and_responses_match_the_schema(fresh_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINYONG_RATE_LIMIT_PER_MINUTE", "0")
    reset_settings()
    world = fuzzing.build_world(fresh_db.engine)
    app = create_app(fresh_db.engine)
    fuzzing.seed_records(app, world)
    report = fuzzing.run(app, world, max_examples=EXAMPLES)
    assert report.operations >= 70, report.summary()
    assert report.cases >= report.operations * 2, report.summary()
    assert not report.failures, report.summary()
    # the credentials worked: most operations answered something other than "who are you" / "not you"
    refused = report.statuses[401] + report.statuses[403]
    assert refused < report.cases / 4, report.summary()


def test_the_harness_reports_a_server_error_and_a_schema_violation() -> None:
    """The run above can fail: a toy API with a crash on one input and a response that breaks its model."""
    toy = FastAPI()

    class Out(BaseModel):
        n: int

    @toy.get("/crash")
    def crash(n: int = Query(ge=0, le=10)) -> dict[str, int]:
        return {"n": 1 // (n - n)}  # ZeroDivisionError for every n

    @toy.get("/lies", response_model=None, responses={200: {"model": Out}})
    def lies() -> dict[str, str]:
        return {"n": "not a number"}

    report = fuzzing.run(toy, fuzzing.FuzzWorld(), max_examples=3, modes=[GenerationMode.POSITIVE])
    problems = {(f.operation, f.status) for f in report.failures}
    assert ("GET /crash", 500) in problems, report.summary()
    assert ("GET /lies", 200) in problems, report.summary()
