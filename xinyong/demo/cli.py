"""``xinyong generate`` (synthetic department files) and ``xinyong demo`` (build a demo database and serve it)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import structlog
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from xinyong.core.database import create_db_engine, is_sqlite
from xinyong.core.errors import Conflict
from xinyong.core.settings import get_settings, reset_settings

DEMO_URL = "sqlite:///var/demo.db"
console = Console()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def generate(
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="信用主体数量")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（同一种子生成同样的数据）")] = 20250101,
    records_per_subject: Annotated[
        float, typer.Option("--records-per-subject", min=1.0, help="每个主体平均记录数")
    ] = 5.0,
    encoding: Annotated[str, typer.Option("--encoding", help="utf-8 / gb18030")] = "utf-8",
    fmt: Annotated[str, typer.Option("--format", help="csv / jsonl")] = "csv",
    headers: Annotated[str, typer.Option("--headers", help="表头：codes（字段代码）/ names（中文名称）")] = "codes",
    region: Annotated[str | None, typer.Option("--region", help="平台所在行政区划（默认 XINYONG_REGION）")] = None,
    resource: Annotated[list[str], typer.Option("--resource", help="只生成这些信息资源（可多次）")] = [],  # noqa: B006
    per_unit: Annotated[bool, typer.Option("--per-unit", help="每个单位每类资源一个文件")] = False,
    messy: Annotated[float, typer.Option("--messy", min=0.0, max=1.0, help="含不规范写法的行所占比例")] = 0.0,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="最多生成的记录数")] = None,
) -> None:
    """生成模拟的部门报送文件：单位清单与每类信息资源一个文件（可直接用 xinyong ingest 导入）。"""
    from xinyong.demo.generator import ALL_RESOURCES, DemoData
    from xinyong.demo.writers import write_dataset, write_units

    if encoding.lower().replace("_", "-") not in ("utf-8", "gb18030", "utf-8-sig", "gbk"):
        raise typer.BadParameter("编码只能是 utf-8、utf-8-sig、gbk 或 gb18030", param_hint="--encoding")
    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter("格式只能是 csv 或 jsonl", param_hint="--format")
    if headers not in ("codes", "names"):
        raise typer.BadParameter("表头只能是 codes 或 names", param_hint="--headers")
    unknown = [r for r in resource if r not in ALL_RESOURCES]
    if unknown:
        raise typer.BadParameter(f"未知的信息资源：{'、'.join(unknown)}", param_hint="--resource")
    data = DemoData(
        subjects=subjects,
        seed=seed,
        records_per_subject=records_per_subject,
        region=region or get_settings().region,
        messy=messy,
        resources=tuple(resource) or None,
        limit=limit,
    )
    out.mkdir(parents=True, exist_ok=True)
    units_file = write_units(data.units, out / "units.csv", encoding=encoding)
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("生成记录", total=subjects)
        seen = 0

        def on_row(record: object) -> None:
            nonlocal seen
            index = getattr(record, "subject_index", -1)
            if index >= seen:
                seen = index + 1
                if seen % 500 == 0:
                    bar.update(task, completed=seen)

        files = write_dataset(
            data.records(),
            out,
            fmt="csv" if fmt == "csv" else "jsonl",
            encoding=encoding,
            headers="names" if headers == "names" else "codes",
            per_unit=per_unit,
            on_row=on_row,
        )
        bar.update(task, completed=subjects)
    total = sum(f.rows for f in files)
    elapsed = time.perf_counter() - started
    console.print(f"单位清单：{units_file}（{len(data.units)} 个单位）")
    for data_file in files if len(files) <= 20 else []:
        console.print(f"  {data_file.path}：{data_file.rows:,} 行")
    console.print(f"共 {len(files)} 个文件、{total:,} 条记录，用时 {elapsed:.1f} 秒")


def demo(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="删除已有演示库并重新生成")] = False,
    subjects: Annotated[int | None, typer.Option("--subjects", min=1, help="信用主体数量（默认 12000）")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="随机种子")] = None,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="建好后是否启动网站")] = True,
) -> None:
    """用模拟数据建一个演示库（经真实归集流程导入），然后启动网站与 API。"""
    from xinyong.demo import builder

    url = os.environ.get("XINYONG_DATABASE_URL") or DEMO_URL
    os.environ["XINYONG_DATABASE_URL"] = url
    reset_settings()
    # The pipeline logs every batch at INFO; here the progress bar tells the story.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    wanted = subjects or builder.DEMO_SUBJECTS
    engine = create_db_engine(url)
    where = url.split("@")[-1]

    done = builder.completed_build(engine)
    if done is not None and not rebuild and (subjects is None or done.get("subjects") == subjects):
        console.print(
            f"使用已有演示库 {where}：{done.get('subjects', 0):,} 个主体、{done.get('accepted', 0):,} 条记录"
            f"（生成于“今天”= {done.get('today')}；加 --rebuild 可重新生成）"
        )
    else:
        if done is not None or builder.holds_records(engine) or rebuild:
            if not rebuild and not _is_default_demo(url) and builder.holds_records(engine):
                raise Conflict(f"数据库 {where} 已有数据，但不是完整的演示库；确认可以清空后加 --rebuild 重试")
            console.print(f"清空演示库 {where}")
            engine = _wipe(engine, url)
        _build(engine, wanted, seed if seed is not None else builder.DEMO_SEED)
    engine.dispose()
    if serve:
        import uvicorn

        from xinyong.app import create_app

        console.print(
            f"[bold]网站与 API：http://{host}:{port}/[/bold]  （API 文档：http://{host}:{port}/docs，Ctrl+C 退出）"
        )
        uvicorn.run(create_app(), host=host, port=port, log_level="warning")


def _is_default_demo(url: str) -> bool:
    return url == DEMO_URL


def _build(engine: sa.Engine, subjects: int, seed: int) -> None:
    from xinyong.demo import builder

    started = time.perf_counter()
    with _progress() as bar:
        tasks: dict[str, object] = {}
        labels = {"generate": "生成模拟数据", "ingest": "归集入库"}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        result = builder.build_demo(
            engine=engine,
            subjects=subjects,
            seed=seed,
            region=get_settings().region,
            say=lambda message: bar.console.print(message),
            advance=advance,
        )
    elapsed = time.perf_counter() - started
    console.print(
        f"演示库已建成：{result.units} 个信息提供单位，{result.files} 个报送文件，收到 {result.received:,} 行，"
        f"入库 {result.accepted:,} 条，拒收 {result.rejected:,} 行，新建主体 {result.subjects_created:,} 个，"
        f"用时 {elapsed:.0f} 秒"
    )
    for message in result.errors[:5]:
        console.print(f"[yellow]拒收示例：{message}[/yellow]")
    if result.keys:
        console.print("演示用 API 密钥与网站账号（只显示这一次；系统只保存其散列）：")
        for label, key in (result.keys | result.logins).items():
            console.print(f"  {label}：{key}", soft_wrap=True)
        _save_keys(result.keys | result.logins)


def _save_keys(keys: dict[str, str]) -> None:
    # The demo is a local playground: keep its keys next to its data so a restart does not lose them.
    path = get_settings().data_dir / "demo-keys.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{label}\t{key}\n" for label, key in keys.items()), encoding="utf-8")
    path.chmod(0o600)
    console.print(f"  （也已保存到 {path}）")


def _wipe(engine: sa.Engine, url: str) -> sa.Engine:
    engine.dispose()
    if is_sqlite(url):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(database + suffix).unlink(missing_ok=True)
        return create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    return create_db_engine(url)


def bulk(
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="信用主体数量")] = 100_000,
    records: Annotated[int, typer.Option("--records", min=1, help="记录数（约数，按演示数据的分布）")] = 1_000_000,
    seed: Annotated[int, typer.Option("--seed", help="随机种子（同一种子生成同样的数据）")] = 20250101,
    jobs: Annotated[
        int, typer.Option("--jobs", min=1, help="并行进程数（PostgreSQL 并行 COPY；SQLite 并行生成、单进程写入）")
    ] = 1,
    pool: Annotated[int, typer.Option("--pool", min=1, help="记录模板取自多少个演示主体")] = 5000,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="目标数据库（默认 XINYONG_DATABASE_URL）；须为空库")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="平台所在行政区划（默认 XINYONG_REGION）")] = None,
) -> None:
    """大规模模拟数据：按演示数据的分布直接批量写入主体与记录表（COPY / executemany），用于性能测试。"""
    from xinyong.demo.bulk import bulk_load

    if records < subjects:
        raise typer.BadParameter("记录数不能少于主体数", param_hint="--records")
    url = database_url or get_settings().database_url
    engine = create_db_engine(url)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    labels = {"load": "写入主体与记录", "index": "重建索引"}
    started = time.perf_counter()
    with _progress() as bar:
        tasks: dict[str, object] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)  # type: ignore[arg-type]

        result = bulk_load(
            engine=engine,
            subjects=subjects,
            records=records,
            seed=seed,
            region=region or get_settings().region,
            jobs=jobs,
            pool=pool,
            say=lambda message: bar.console.print(message),
            advance=advance,
        )
    engine.dispose()
    elapsed = time.perf_counter() - started
    phases = "，".join(f"{name} {seconds:.0f} 秒" for name, seconds in result.seconds.items())
    console.print(
        f"已写入 {result.subjects:,} 个主体、{result.records:,} 条记录、{result.list_entries:,} 条名单，"
        f"用时 {elapsed:.0f} 秒（{phases}）；记录模板来自 {result.pool_subjects:,} 个演示主体的 "
        f"{result.pool_records:,} 条记录"
    )


def register(app: typer.Typer) -> None:
    """Add this domain's commands to ``app``."""
    app.command("generate")(generate)
    app.command("demo")(demo)
    app.command("bulk")(bulk)
