"""Commands: publish a model, evaluate (with a progress bar), explain a subject, inspectors and 双随机 campaigns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.audit.service import Actor
from xinyong.core.database import get_engine, session_scope
from xinyong.core.errors import InvalidInput
from xinyong.evaluation import service, supervision

evaluation_app = typer.Typer(help="信用评价模型与说明", no_args_is_help=True)
inspection_app = typer.Typer(help="分级分类监管：检查人员与双随机抽查", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(evaluation_app, name="evaluation")
    app.add_typer(inspection_app, name="inspection")
    app.command("evaluate")(evaluate)


def evaluate(
    model: Annotated[str | None, typer.Option("--model", help="模型代码（默认 XINYONG_EVALUATION_MODEL）")] = None,
    all_subjects: Annotated[bool, typer.Option("--all", help="评价全部主体（默认）")] = False,
    changed: Annotated[bool, typer.Option("--changed", help="只评价自上次运行以来信息有变化的主体")] = False,
    chunk: Annotated[int, typer.Option("--chunk", help="每批主体 id 区间大小（0 = 一次完成）")] = 100_000,
) -> None:
    """批量评价（在数据库中按模型聚合计算），只为分数、等级或模型版本变化的主体新增结果。"""
    if all_subjects and changed:
        raise InvalidInput("--all 与 --changed 只能选一个")
    with (
        session_scope(get_engine(), write=True) as session,
        Progress(TextColumn("评价"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True) as bar,
    ):
        task = bar.add_task("evaluate", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        run = service.evaluate(
            session=session,
            actor=Actor.cli(),
            model_code=model,
            changed_only=changed,
            chunk_size=chunk or None,
            progress=advance,
        )
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
        model_row = session.get(service.EvaluationModel, run.model_id)
        assert model_row is not None
        typer.echo(
            f"模型 {model_row.code} v{model_row.version}（{run.mode}）：评价 {run.subjects_evaluated} 个主体，"
            f"新增结果 {run.results_written} 条，用时 {seconds:.1f} 秒"
        )


@evaluation_app.command("publish")
def publish(file: Annotated[Path, typer.Argument(help="模型文件（YAML 或 JSON）")]) -> None:
    """发布评价模型的新版本（校验后存入数据库；旧版本与其结果保留）。"""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"无法读取模型文件 {file}：{exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"模型文件 {file.name} 不是有效的 YAML/JSON：{exc}") from None
    with session_scope(get_engine(), write=True) as session:
        service.ensure_builtin(session=session)
        row = service.publish(session=session, actor=Actor.cli(), raw=raw)
        typer.echo(f"已发布模型 {row.code} v{row.version}（{row.name}）")


@evaluation_app.command("models")
def models() -> None:
    """列出已发布的评价模型及版本。"""
    with session_scope(get_engine()) as session:
        for row in service.list_models(session=session):
            typer.echo(f"{row.code}\tv{row.version}\t{row.name}\t{row.published_at:%Y-%m-%d %H:%M}")


@evaluation_app.command("explain")
def explain(
    code: Annotated[str, typer.Argument(help="主体统一社会信用代码")],
    model: Annotated[str | None, typer.Option("--model")] = None,
) -> None:
    """逐项说明一个主体的得分（JSON）。"""
    with session_scope(get_engine(), write=True) as session:
        subject = service.find_subject(session=session, code=code)
        explained = service.explain(session=session, subject_id=subject.id, model=model)
        from xinyong.audit import service as audit

        audit.record(
            session=session,
            actor=Actor.cli(),
            action="evaluation.view",
            target_type="subject",
            target_id=subject.id,
            subject_id=subject.id,
            purpose="命令行查看评价说明",
        )
        typer.echo(json.dumps(explained.as_dict(), ensure_ascii=False, indent=2))


@evaluation_app.command("industry-add")
def industry_add(
    industry: Annotated[str, typer.Option("--industry", help="行业代码，如 property_management")],
    codes: Annotated[list[str], typer.Argument(help="主体统一社会信用代码（可多个）")],
) -> None:
    """把主体纳入行业名录（行业评价模型与按行业抽查用）。"""
    with session_scope(get_engine(), write=True) as session:
        for code in codes:
            subject = service.find_subject(session=session, code=code)
            service.add_industry_member(session=session, actor=Actor.cli(), industry=industry, subject_id=subject.id)
    typer.echo(f"已纳入 {industry} 名录 {len(codes)} 个主体")


@evaluation_app.command("employ")
def employ(
    person: Annotated[str, typer.Option("--person", help="从业人员身份证号或代码")],
    firm: Annotated[str, typer.Option("--firm", help="企业统一社会信用代码")],
    role: Annotated[str, typer.Option("--role", help="岗位，如 project_manager")] = "project_manager",
    start: Annotated[str, typer.Option("--start", help="任职起始日 YYYY-MM-DD")] = "",
    end: Annotated[str | None, typer.Option("--end", help="任职终止日 YYYY-MM-DD")] = None,
) -> None:
    """登记从业人员的任职关系（其记录在任职期间同时计入企业）。"""
    try:
        start_on = dt.date.fromisoformat(start)
        end_on = dt.date.fromisoformat(end) if end else None
    except ValueError:
        raise InvalidInput("--start/--end 应为 YYYY-MM-DD 格式的日期") from None
    with session_scope(get_engine(), write=True) as session:
        p = service.find_subject(session=session, code=person)
        f = service.find_subject(session=session, code=firm)
        service.add_employment(
            session=session,
            actor=Actor.cli(),
            person_id=p.id,
            firm_id=f.id,
            role=role,
            start_on=start_on,
            end_on=end_on,
        )
    typer.echo(f"已登记任职：{role} → {f.name}")


@inspection_app.command("inspector-add")
def inspector_add(
    code: Annotated[str, typer.Option("--code", help="执法证号")],
    name: Annotated[str, typer.Option("--name", help="姓名")],
    department: Annotated[str, typer.Option("--department", help="所属部门")],
) -> None:
    """登记检查人员。"""
    with session_scope(get_engine(), write=True) as session:
        supervision.add_inspector(session=session, actor=Actor.cli(), code=code, name=name, department=department)
    typer.echo(f"已登记检查人员 {name}（{code}）")


@inspection_app.command("draw")
def draw(
    code: Annotated[str, typer.Option("--code", help="抽查任务编号")],
    name: Annotated[str, typer.Option("--name", help="抽查任务名称")],
    industry: Annotated[str | None, typer.Option("--industry", help="按行业名录筛选")] = None,
    region: Annotated[str | None, typer.Option("--region", help="按行政区划代码筛选")] = None,
    seed: Annotated[str | None, typer.Option("--seed", help="随机种子（默认随机生成并记录）")] = None,
    model: Annotated[str | None, typer.Option("--model", help="按哪个评价模型的等级分层")] = None,
) -> None:
    """双随机抽取：按等级比例抽主体、为每个主体随机派两名检查人员；种子与名录快照一并记录。"""
    with session_scope(get_engine(), write=True) as session:
        campaign = supervision.create_campaign(
            session=session,
            actor=Actor.cli(),
            code=code,
            name=name,
            industry=industry,
            region=region,
            seed=seed,
            model_code=model,
        )
        drawn = supervision.verify(session=session, code=campaign.code)["drawn"]
        typer.echo(f"已抽取 {drawn} 个主体；随机种子 {campaign.seed}")


@inspection_app.command("publish")
def publish_campaign(code: Annotated[str, typer.Argument(help="抽查任务编号")]) -> None:
    """公示抽查任务（公开种子、各等级数量与抽中的主体）。"""
    with session_scope(get_engine(), write=True) as session:
        supervision.publish(session=session, actor=Actor.cli(), code=code)
    typer.echo(f"已公示抽查任务 {code}")


@inspection_app.command("verify")
def verify(code: Annotated[str, typer.Argument(help="抽查任务编号")]) -> None:
    """按记录的种子与名录快照复现抽取并核对；不一致时退出码为 1。"""
    with session_scope(get_engine()) as session:
        result = supervision.verify(session=session, code=code)
    typer.echo(json.dumps(result, ensure_ascii=False))
    if not result["valid"]:
        raise typer.Exit(1)
