"""Scheduled work: a small job runner whose job-run table makes every job idempotent.

Each job has a period function (the day, or the month it works on); a run is keyed by (job, period), so running the
worker twice in the same period does nothing the second time, and a failed run is retried on the next round.
Other domains plug their work in with ``register_job`` (deadline alerts for objections and repair, incremental
evaluation, the change feed) — until then those jobs run a no-op that says the module is not installed.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from xinyong.core import clock
from xinyong.core.database import session_scope, unavailable_reason
from xinyong.core.errors import NotFound
from xinyong.core.logging import get_logger
from xinyong.core.settings import get_settings
from xinyong.monitoring import exports, governance, maintenance
from xinyong.monitoring.models import JobRun, JobState

log = get_logger(__name__)

# A run still marked running after this long died with its worker (killed, machine restarted): run it again.
STALE_AFTER = dt.timedelta(hours=6)

JobBody = Callable[[Session, str], dict[str, Any]]


def daily(today: dt.date) -> str:
    return today.isoformat()


def previous_month(today: dt.date) -> str:
    return f"{today.replace(day=1) - dt.timedelta(days=1):%Y-%m}"


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    period: Callable[[dt.date], str]
    body: JobBody


JOBS: dict[str, Job] = {}


def register_job(
    name: str, description: str, period: Callable[[dt.date], str], body: JobBody, *, before: str | None = None
) -> None:
    """Add a job, or replace a placeholder of the same name (keeping its place). ``before``: a new job runs ahead of
    that one in each round (e.g. list entries are synced before the incremental evaluation reads them)."""
    JOBS[name] = Job(name, description, period, body)
    if before in JOBS and list(JOBS).index(name) > list(JOBS).index(before):
        order = list(JOBS)
        order.remove(name)
        order.insert(order.index(before), name)
        for key in order:
            JOBS[key] = JOBS.pop(key)


def _not_installed(module: str) -> JobBody:
    def body(_session: Session, _period: str) -> dict[str, Any]:
        return {"skipped": f"{module}模块尚未接入"}

    return body


def _governance_scan(session: Session, _period: str) -> dict[str, Any]:
    return {
        "duplicate_records": governance.scan_duplicate_records(session=session),
        "duplicate_subjects": governance.scan_duplicate_subjects(session=session),
    }


def _volume_alerts(session: Session, period: str) -> dict[str, Any]:
    return {"alerts": governance.scan_volume(session=session, month=period)}


def _monthly_summary(session: Session, period: str) -> dict[str, Any]:
    folder = get_settings().data_dir / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"monitoring-summary-{period}.pdf"
    path.write_bytes(exports.monthly_pdf(session=session, month=period))
    return {"file": str(path)}


def _vacuum_analyze(session: Session, _period: str) -> dict[str, Any]:
    return maintenance.vacuum_analyze(session.get_bind().engine)


def _partitions_ahead(session: Session, period: str) -> dict[str, Any]:
    return maintenance.ensure_month_partitions(session.get_bind().engine, today=dt.date.fromisoformat(period))


register_job("deadline_alerts", "异议、修复办理期限提醒", daily, _not_installed("异议与修复"))
register_job("evaluation_incremental", "增量综合评价", daily, _not_installed("综合评价"))
register_job("feeds", "共享交换变更订阅推送", daily, _not_installed("共享交换"))
register_job("governance_scan", "疑似重复记录与主体扫描", daily, _governance_scan)
register_job("volume_alerts", "上月报送量异常预警", previous_month, _volume_alerts)
register_job("monthly_summary", "上月监测月报 PDF", previous_month, _monthly_summary)
register_job("partitions_ahead", "按月分区：提前创建变更事件表未来三个月的分区", daily, _partitions_ahead)
register_job("vacuum_analyze", "数据库维护：按死元组与修改量执行 VACUUM / ANALYZE", daily, _vacuum_analyze)


@dataclass(frozen=True)
class Outcome:
    job: str
    period: str
    state: str  # done / failed / skipped (already done for this period)
    result: dict[str, Any]


def run_job(engine: Engine, name: str, *, today: dt.date | None = None) -> Outcome:
    """Run one job for its current period unless it already succeeded for that period."""
    if name not in JOBS:
        raise NotFound(f"没有名为 {name} 的任务（可用：{'、'.join(JOBS)}）")
    job = JOBS[name]
    period = job.period(today or clock.today())
    with session_scope(engine, write=True) as session:
        run = session.scalar(sa.select(JobRun).where(JobRun.job == name, JobRun.period == period))
        stale = run is not None and run.started_at < clock.now() - STALE_AFTER
        if run is not None and (run.state == JobState.DONE or (run.state == JobState.RUNNING and not stale)):
            return Outcome(name, period, "skipped", run.result)
        if run is None:
            run = JobRun(job=name, period=period, state=JobState.RUNNING, attempts=1, result={}, started_at=clock.now())
            session.add(run)
        else:
            run.state, run.attempts, run.started_at, run.error = JobState.RUNNING, run.attempts + 1, clock.now(), None
        try:
            session.flush()
        except IntegrityError:  # another worker claimed this period a moment ago
            session.rollback()
            return Outcome(name, period, "skipped", {})
        run_id = run.id
    try:
        with session_scope(engine, write=True) as session:
            result = job.body(session, period)
            finished = session.get(JobRun, run_id)
            assert finished is not None
            finished.state, finished.result, finished.finished_at = JobState.DONE, result, clock.now()
        log.info("job done", job=name, period=period, result=result)
        return Outcome(name, period, JobState.DONE, result)
    except Exception as exc:  # a failing job must not stop the others; it is retried on the next round
        reason = unavailable_reason(exc)
        if reason is None:
            log.exception("job failed", job=name, period=period)
        else:  # not a bug: no traceback. If the database is still away, marking the run fails too and the round ends.
            log.error(f"任务 {name} 中断：{reason}", job=name, period=period)
        with session_scope(engine, write=True) as session:
            failed = session.get(JobRun, run_id)
            if failed is not None:
                failed.state, failed.error, failed.finished_at = JobState.FAILED, repr(exc), clock.now()
        return Outcome(name, period, JobState.FAILED, {"error": repr(exc)})


def run_due(engine: Engine, *, only: str | None = None, today: dt.date | None = None) -> list[Outcome]:
    from xinyong import hooks

    hooks.install()  # the domains' jobs, whoever started the worker
    names = [only] if only else list(JOBS)
    return [run_job(engine, name, today=today) for name in names]


def loop(engine: Engine, *, only: str | None = None, interval: int | None = None, rounds: int | None = None) -> int:
    """Run the due jobs every ``interval`` seconds, for ever (or ``rounds`` times); returns the rounds lost to an
    unavailable database.

    A database that is down or restarting costs a round, not the worker: the round is logged in Chinese and retried
    after the pause (the failed run, if it got as far as starting, is picked up again as stale or failed).
    """
    pause = get_settings().worker_interval if interval is None else interval
    lost = 0
    done = 0
    while rounds is None or done < rounds:
        try:
            run_due(engine, only=only)
        except DBAPIError as exc:
            reason = unavailable_reason(exc)
            if reason is None:
                raise
            lost += 1
            log.error(f"{reason}：本轮定时任务未执行，{pause} 秒后重试", error=str(exc.orig).strip().splitlines()[:1])
        done += 1
        if rounds is None or done < rounds:
            time.sleep(pause)
    return lost


def recent_runs(*, session: Session, limit: int = 30) -> list[JobRun]:
    return list(session.scalars(sa.select(JobRun).order_by(JobRun.id.desc()).limit(limit)))
