"""``xinyong report`` and ``xinyong report-batch``: the credit office issues reports from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from xinyong.audit.service import Actor
from xinyong.core.database import get_engine, session_scope
from xinyong.core.errors import InvalidInput, XinyongError
from xinyong.reports import service


def _date(value: str | None, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{option}：日期格式应为 YYYY-MM-DD") from None


def _format_of(path: Path) -> str:
    return "html" if path.suffix.lower() in (".html", ".htm") else "pdf"


def report(
    code: Annotated[str, typer.Argument(help="信用主体代码（统一社会信用代码、旧代码或 P<编号>）")],
    out: Annotated[Path, typer.Option("--out", help="输出文件（.pdf；以 .html 结尾则输出 HTML）")],
    kind: Annotated[
        str, typer.Option("--kind", help="public（公开版）/ full（完整版）/ no_violation（无违法违规记录版）")
    ] = "public",
    date_from: Annotated[str | None, typer.Option("--from", help="报告期间起 YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="报告期间止 YYYY-MM-DD（默认今天）")] = None,
    domain: Annotated[list[str], typer.Option("--domain", help="无违法违规记录版的领域（可多次；默认全部）")] = [],  # noqa: B006
) -> None:
    """出具一份信用报告；最后一行输出报告编号。"""
    with session_scope(get_engine(), write=True) as session:
        issued = service.issue(
            session=session, code=code, kind=kind, actor=Actor.cli(), channel="cli", file_format=_format_of(out),
            period_from=_date(date_from, "--from"), period_to=_date(date_to, "--to"), domains=list(domain) or None,
        )  # fmt: skip
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(issued.data)  # written before the commit: a registered report always has its file
    content = issued.content
    typer.echo(f"已出具 {content.kind_label}：{content.subject.name}，验证码 {content.verification_code}，文件 {out}")
    typer.echo(issued.report.report_no)


def report_batch(
    codes: Annotated[Path, typer.Option("--codes", help="主体代码文件（每行一个，# 开头为注释）")],
    out: Annotated[Path, typer.Option("--out", help="输出目录")],
    kind: Annotated[str, typer.Option("--kind", help="public / full / no_violation")] = "public",
    date_from: Annotated[str | None, typer.Option("--from", help="报告期间起 YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="报告期间止 YYYY-MM-DD")] = None,
    domain: Annotated[list[str], typer.Option("--domain", help="无违法违规记录版的领域（可多次）")] = [],  # noqa: B006
) -> None:
    """批量出具信用报告：每个主体一份 PDF（文件名为报告编号），并写出清单 index.csv。"""
    try:
        lines = codes.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise InvalidInput(f"无法读取代码文件 {codes}：{exc.strerror}") from None
    wanted = [c.strip() for c in lines if c.strip() and not c.strip().startswith("#")]
    if not wanted:
        raise InvalidInput(f"代码文件 {codes} 中没有主体代码")
    period_from, period_to = _date(date_from, "--from"), _date(date_to, "--to")
    out.mkdir(parents=True, exist_ok=True)
    index = ["code,report_no,file,result"]
    failed = 0
    for code in wanted:
        try:
            # One transaction per report: a failure leaves the others issued.
            with session_scope(get_engine(), write=True) as session:
                issued = service.issue(
                    session=session, code=code, kind=kind, actor=Actor.cli(), channel="batch",
                    period_from=period_from, period_to=period_to, domains=list(domain) or None,
                )  # fmt: skip
                target = out / issued.filename
                target.write_bytes(issued.data)
            index.append(f"{code},{issued.report.report_no},{target.name},已出具")
            typer.echo(f"{code}\t{issued.report.report_no}")
        except XinyongError as exc:
            failed += 1
            index.append(f"{code},,,{exc.message.replace(',', '，')}")
            typer.echo(f"{code}\t失败：{exc.message}", err=True)
    (out / "index.csv").write_text("\n".join(index) + "\n", encoding="utf-8-sig")
    typer.echo(f"批量出具完成：成功 {len(wanted) - failed} 份，失败 {failed} 份；清单 {out / 'index.csv'}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("report-batch")(report_batch)
