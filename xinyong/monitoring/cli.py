"""``xinyong worker``: scheduled jobs (for cron: ``--once``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from xinyong.core.database import get_engine
from xinyong.core.migrate import require_current
from xinyong.monitoring import worker


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker_command(
        once: Annotated[bool, typer.Option("--once", help="执行到期任务后退出（供 cron 调用）")] = False,
        job: Annotated[str | None, typer.Option("--job", help="只执行指定任务")] = None,
        interval: Annotated[int | None, typer.Option("--interval", help="循环间隔秒数")] = None,
    ) -> None:
        """定时任务：期限提醒、增量评价、订阅推送、监测月报、治理扫描、报送量预警（每周期只执行一次）。"""
        engine = get_engine()
        require_current(engine)
        if once:
            for outcome in worker.run_due(engine, only=job):
                typer.echo(
                    json.dumps(
                        {
                            "job": outcome.job,
                            "period": outcome.period,
                            "state": outcome.state,
                            "result": outcome.result,
                        },
                        ensure_ascii=False,
                    )
                )
            return
        worker.loop(engine, only=job, interval=interval)
