"""信用报告: issue a report (content → HTML/PDF → registry) and verify one (number, verification code, file hash).

Issuing is audited. The registry keeps the SHA-256 of the issued file and only a keyed hash of the verification code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.catalog.models import SourceUnit
from xinyong.core import clock, crypto
from xinyong.core.errors import Forbidden, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.core.text import to_half_width
from xinyong.disclosure import Viewer, add_months
from xinyong.ingest.models import Batch
from xinyong.records.models import RecordStatus
from xinyong.reports import providers
from xinyong.reports.content import (
    CHINESE_NUMERALS,
    DomainFinding,
    ReportContent,
    ReportItem,
    ReportSection,
    SourceLine,
    SubjectFacts,
)
from xinyong.reports.domains import Domain, domain_catalog
from xinyong.reports.models import REPORT_EDITIONS, REPORT_KIND_LABELS, IssuedReport, ReportKind
from xinyong.subjects.models import SUBJECT_KIND_LABELS, Subject, SubjectKind, SubjectStatus
from xinyong.subjects.profile import STATUS_LABELS, RecordEntry, SubjectProfile, profile
from xinyong.subjects.search import find_by_code, subject_ref

# Verification codes avoid characters that are confused when typed from paper (0/O, 1/I).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
NO_VIOLATION_DEFAULT_YEARS = 3
OFFICE_ROLES = ("admin", "credit_office")
CHANNEL_LABELS = {"portal": "信用主体自助下载", "office": "信用办依申请出具", "cli": "命令行出具", "batch": "批量出具"}


@dataclass(frozen=True)
class IssuedFile:
    report: IssuedReport
    content: ReportContent
    data: bytes
    media_type: str
    filename: str


@dataclass(frozen=True)
class Verification:
    """The answer of the verification page and API."""

    found: bool
    report_no: str
    report: IssuedReport | None = None
    code_checked: bool = False
    code_valid: bool | None = None
    file_checked: bool = False
    file_matches: bool | None = None
    file_sha256: str | None = None

    @property
    def valid(self) -> bool:
        """Genuine: the number is registered, and every check that was asked for passed."""
        return self.found and self.code_valid is not False and self.file_matches is not False

    @property
    def message(self) -> str:
        if not self.found:
            return f"报告编号 {self.report_no} 不存在：本平台未出具过该编号的报告"
        if self.code_valid is False:
            return "验证码不正确：请核对报告上的验证码；不一致的报告不可采信"
        if self.file_matches is False:
            return "文件与出具时登记的文件不一致：该文件可能已被修改，不可采信"
        if self.file_matches:
            return "文件与出具时登记的文件完全一致，报告真实有效"
        if self.code_valid:
            return "验证码正确，报告由本平台出具"
        return "该编号的报告由本平台出具；请输入验证码或上传 PDF 文件以核对内容"


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def normalise_code(code: str) -> str:
    return "".join(ch for ch in to_half_width(code).upper() if ch.isalnum())


def _code_hash(code: str) -> str:
    return crypto.keyed_hash("report-code:" + normalise_code(code))


def mask_name(name: str) -> str:
    """A natural person's name as the verification page shows it (张** for 张三丰)."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def verify_base() -> str:
    return get_settings().public_url.rstrip("/") + "/reports/verify/"


def verify_url(report_no: str, code: str) -> str:
    return f"{verify_base()}{report_no}?code={format_code(code)}"


# ---- who may issue ------------------------------------------------------------------------------------------------


def ensure_may_issue(*, actor: Actor, subject: Subject) -> None:
    """The credit office issues any subject's report on request; a subject its own; nobody else."""
    if actor.role in OFFICE_ROLES:
        return
    if actor.role == "subject" and actor.subject_id == subject.id:
        return
    raise Forbidden("只有信用主体本人或信用办可以出具该主体的信用报告")


def parse_kind(kind: str) -> ReportKind:
    try:
        return ReportKind(kind.strip().lower())
    except ValueError:
        raise InvalidInput("报告类型应为 public（公开版）、full（完整版）或 no_violation（无违法违规记录版）") from None


# ---- content -------------------------------------------------------------------------------------------------------


def _bare_profile(subject: Subject) -> SubjectProfile:
    """A natural person's public profile when nothing about them is published (the portal has no page for them, but
    the person may still ask for a public report stating that)."""
    return SubjectProfile(
        code=subject_ref(subject),
        subject_id=subject.id,
        name=subject.name,
        kind=subject.kind,
        kind_label=SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind),
        uscc=subject.uscc,
        id_number_masked=subject.id_masked,
        region=subject.region,
        status=subject.status,
        status_label=STATUS_LABELS.get(SubjectStatus(subject.status), subject.status),
        legal_rep=None,
        established_on=subject.established_on,
        former_names=[],
        sections=[],
        viewer=Viewer.public().kind,
        last_modified=subject.updated_at,
    )


def _profile_for(
    *, session: Session, subject: Subject, kind: ReportKind, actor: Actor | None, today: dt.date
) -> tuple[SubjectProfile, Viewer]:
    viewer = Viewer.public() if kind is ReportKind.PUBLIC else Viewer.subject(subject.id)
    try:
        found = profile(session=session, code=subject_ref(subject), viewer=viewer, actor=actor, today=today)
    except NotFound:
        if kind is not ReportKind.PUBLIC:
            raise
        found = _bare_profile(subject)
    return found, viewer


def _facts(found: SubjectProfile) -> SubjectFacts:
    person = found.kind == SubjectKind.NATURAL_PERSON.value
    return SubjectFacts(
        name=found.name,
        code=(found.id_number_masked or "") if person else (found.uscc or found.code),
        kind=found.kind,
        kind_label=found.kind_label,
        uscc=found.uscc,
        id_number_masked=found.id_number_masked,
        legal_rep=found.legal_rep,
        status_label=found.status_label,
        region=found.region,
        established_on=found.established_on,
        former_names=found.former_names,
    )


def _counts_as_finding(entry: RecordEntry) -> bool:
    """A record is a finding of the 无违法违规 report unless its decision was revoked, it was deleted after an
    objection, or publication was ended by credit repair (国办发〔2025〕22号: repaired information is not used)."""
    return entry.record.status == RecordStatus.ACTIVE and entry.record.repaired_at is None


def _domain_findings(
    *, session: Session, ctx: providers.ReportContext, domains: list[Domain], units: dict[int, SourceUnit]
) -> list[DomainFinding]:
    catalog = domain_catalog()
    candidates = [e for e in ctx.entries() if e.resource.code in catalog.resources and _counts_as_finding(e)]
    findings: list[DomainFinding] = []
    for domain in domains:
        searched = [u for u in units.values() if domain.matches_unit(u)]
        items = [
            ReportItem.of(e)
            for e in candidates
            if e.record.source_unit_id in units
            and domain.matches_record(e.record, e.resource, units[e.record.source_unit_id])
        ]
        period = f"{ctx.period_from} 至 {ctx.period_to}"
        if items:
            verdict = f"{period}期间，发现该主体在{domain.label}领域的违法违规记录 {len(items)} 条，详见下表。"
        elif searched:
            verdict = (
                f"{period}期间，未发现该主体在{domain.label}领域因违法违规受到行政处罚或被列入严重失信主体名单的记录。"
            )
        else:
            verdict = f"本平台尚未归集{domain.label}领域信息提供单位的数据，无法对该领域作出结论。"
        findings.append(
            DomainFinding(
                key=domain.key, label=domain.label, items=items, units=[u.name for u in searched], verdict=verdict
            )
        )
    return findings


def _sources(
    *, session: Session, items: list[ReportItem], searched_units: list[int], units: dict[int, SourceUnit]
) -> list[SourceLine]:
    by_unit: dict[int, list[ReportItem]] = defaultdict(list)
    for item in items:
        if item.unit_id is not None:
            by_unit[item.unit_id].append(item)
    unit_ids = sorted(set(by_unit) | set(searched_units))
    if not unit_ids:
        return []
    last_batch = dict(
        session.execute(
            sa.select(Batch.source_unit_id, sa.func.max(Batch.finished_at))
            .where(Batch.source_unit_id.in_(unit_ids))
            .group_by(Batch.source_unit_id)
        ).all()
    )
    lines = []
    for unit_id in unit_ids:
        unit = units[unit_id]
        unit_items = by_unit.get(unit_id, [])
        last = last_batch.get(unit_id)
        newest_item = max((i.updated_at for i in unit_items), default=None)
        if newest_item is not None and (last is None or newest_item > last):
            last = newest_item
        lines.append(
            SourceLine(
                unit_name=unit.name,
                unit_uscc=unit.uscc,
                resources="、".join(sorted({i.resource_name for i in unit_items})) or "（本期无相关记录）",
                items=len(unit_items),
                last_update=last,
            )
        )
    return lines


def _notes(*, kind: ReportKind, site: str, issued_at: dt.datetime, period_text: str, verify_page: str) -> list[str]:
    cutoff = issued_at.astimezone(clock.CHINA).strftime("%Y年%m月%d日 %H:%M")
    notes = [
        f"本报告由{site}公共信用信息平台根据截至 {cutoff}（数据截止时间）归集的公共信用信息自动生成，"
        f"反映{period_text}的信息；信息内容以信息提供单位报送的为准。",
    ]
    if kind is ReportKind.PUBLIC:
        notes.append(
            "本报告为公开版，仅列示依规向社会公开、且在公示期内的信息；不公开的信息、公示期已满或已完成信用修复的信息不在本报告中。"
        )
    elif kind is ReportKind.FULL:
        notes.append(
            "本报告为完整版，供信用主体本人使用，包含不向社会公开的信息；每条信息注明是否公开及依据的公示规则。"
            "请妥善保管，向第三方提供前请确认其必要性。"
        )
    else:
        notes.append(
            "本报告为无违法违规记录版，按所选领域列示报告期间内（以决定日期计）该主体受到的行政处罚和列入严重失信主体名单的记录；"
            "决定已撤销、经异议核实删除或已完成信用修复的信息不作为违法违规记录列示。"
            "某领域标明“尚未归集”的，本报告不对该领域作出结论。"
        )
    notes += [
        "“暂无数据来源”表示本平台尚未接入该类信息，不代表该主体无相关信息。",
        f"核验：扫描报告首页二维码，或访问 {verify_page} 并输入报告编号与验证码；"
        "也可上传本报告 PDF 文件核对是否被改动。",
        "对报告所列信息有异议的，可通过信用门户或向信息提供单位提出异议申请；符合条件的失信信息可申请信用修复。",
    ]
    return notes


def default_period_from(period_to: dt.date) -> dt.date:
    """The first day of the 无违法违规 report's default period: three years up to ``period_to``."""
    return add_months(period_to, -12 * NO_VIOLATION_DEFAULT_YEARS) + dt.timedelta(days=1)


def report_period(
    *, kind: ReportKind, period_from: dt.date | None, period_to: dt.date | None, today: dt.date
) -> tuple[dt.date | None, dt.date]:
    """The period a report covers (decision dates), checked; the 无违法违规 report defaults to the last three years."""
    period_to = period_to or today
    if kind is ReportKind.NO_VIOLATION and period_from is None:
        period_from = default_period_from(period_to)
    if period_from is not None and period_from > period_to:
        raise InvalidInput(f"报告期间有误：起始日期 {period_from} 晚于截止日期 {period_to}")
    if period_to > today:
        raise InvalidInput(f"报告期间截止日期 {period_to} 不能晚于今天（{today}）")
    return period_from, period_to


def build_content(
    *,
    session: Session,
    subject: Subject,
    kind: ReportKind,
    report_no: str,
    verification_code: str,
    issued_at: dt.datetime,
    actor: Actor | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    domain_keys: list[str] | None = None,
) -> ReportContent:
    """The report's content for ``subject`` as of ``issued_at``, each item decided by the disclosure engine."""
    settings = get_settings()
    today = issued_at.astimezone(clock.CHINA).date()
    period_from, period_to = report_period(kind=kind, period_from=period_from, period_to=period_to, today=today)
    found, viewer = _profile_for(session=session, subject=subject, kind=kind, actor=actor, today=today)
    ctx = providers.ReportContext(
        session=session, subject=subject, profile=found, viewer=viewer, kind=kind.value, today=today,
        period_from=period_from, period_to=period_to,
    )  # fmt: skip
    units = {u.id: u for u in session.scalars(sa.select(SourceUnit))}
    sections: list[ReportSection] = []
    findings: list[DomainFinding] = []
    searched: list[int] = []
    if kind is ReportKind.NO_VIOLATION:
        chosen = domain_catalog().pick(domain_keys)
        findings = _domain_findings(session=session, ctx=ctx, domains=chosen, units=units)
        searched = [u.id for u in units.values() if any(d.matches_unit(u) for d in chosen)]
        items = [i for f in findings for i in f.items]
    else:
        for n, (key, title, parts) in enumerate(providers.SECTION_LAYOUT, start=2):
            sections.append(
                ReportSection(CHINESE_NUMERALS[n - 1], key, title, [providers.provide(p, ctx) for p in parts])
            )
        items = [i for s in sections for p in s.parts for i in p.items]
    period_text = f"{period_from} 至 {period_to} 期间" if period_from is not None else f"截至 {period_to}"
    verify_page = verify_base().rstrip("/")
    return ReportContent(
        kind=kind.value,
        kind_label=REPORT_KIND_LABELS[kind],
        edition=REPORT_EDITIONS[kind],
        site_name=settings.site_name,
        issuer_label=f"{settings.site_name}公共信用信息平台",
        report_no=report_no,
        verification_code=format_code(verification_code),
        verify_url=verify_url(report_no, verification_code),
        verify_page=verify_page,
        issued_at=issued_at,
        subject=_facts(found),
        period_from=period_from,
        period_to=period_to,
        sections=sections,
        domains=findings,
        sources=_sources(session=session, items=items, searched_units=searched, units=units),
        units_total=len(units),
        notes=_notes(kind=kind, site=settings.site_name, issued_at=issued_at, period_text=period_text,
                     verify_page=verify_page),
    )  # fmt: skip


# ---- issuing -------------------------------------------------------------------------------------------------------


def _report_no(report: IssuedReport) -> str:
    day = report.issued_at.astimezone(clock.CHINA).strftime("%Y%m%d")
    return f"XY-{get_settings().region}-{day}-{report.id:06d}"


def issue(
    *,
    session: Session,
    code: str,
    kind: ReportKind | str = ReportKind.PUBLIC,
    actor: Actor,
    channel: str = "office",
    file_format: str = "pdf",
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    domains: list[str] | None = None,
) -> IssuedFile:
    """Issue a report on the subject with ``code``: number it, render it, register its hash, audit it."""
    from xinyong.reports import render

    kind = parse_kind(kind) if isinstance(kind, str) else kind
    if file_format not in ("pdf", "html"):
        raise InvalidInput("报告格式应为 pdf 或 html")
    subject = find_by_code(session=session, code=code)
    if subject is None:
        raise NotFound(f"未找到代码为 {code.strip()} 的信用主体")
    ensure_may_issue(actor=actor, subject=subject)
    issued_at = clock.now()
    # Refuse bad input before anything is registered.
    report_period(kind=kind, period_from=period_from, period_to=period_to, today=clock.today())
    if kind is ReportKind.NO_VIOLATION:
        domain_catalog().pick(domains)
    verification_code = new_verification_code()
    report = IssuedReport(
        report_no=f"pending-{secrets.token_hex(8)}",
        kind=kind.value,
        subject_id=subject.id,
        subject_name=subject.name,
        subject_code=(subject.id_masked or "")
        if subject.kind == SubjectKind.NATURAL_PERSON.value
        else (subject.uscc or ""),
        subject_kind=subject.kind,
        issued_at=issued_at,
        issuer=actor.name[:64],
        issuer_role=actor.role,
        channel=channel,
        file_format=file_format,
        file_sha256="",
        file_size=0,
        code_hash=_code_hash(verification_code),
        options={},
    )
    session.add(report)
    session.flush()  # the number is built from the row id: unique without a counter table
    report.report_no = _report_no(report)
    content = build_content(
        session=session, subject=subject, kind=kind, report_no=report.report_no, verification_code=verification_code,
        issued_at=issued_at, actor=actor, period_from=period_from, period_to=period_to, domain_keys=domains,
    )  # fmt: skip
    if file_format == "pdf":
        data, media_type = render.pdf(content), "application/pdf"
    else:
        data, media_type = render.html(content).encode("utf-8"), "text/html; charset=utf-8"
    report.file_sha256 = hashlib.sha256(data).hexdigest()
    report.file_size = len(data)
    report.period_from = content.period_from
    report.period_to = content.period_to
    report.options = {
        "domains": [d.key for d in content.domains],
        "counts": content.counts(),
    }
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="report.issue",
        target_type="credit_report",
        target_id=report.report_no,
        subject_id=subject.id,
        purpose=CHANNEL_LABELS.get(channel, channel),
        detail={"kind": kind.value, "format": file_format, "sha256": report.file_sha256},
    )
    return IssuedFile(
        report=report,
        content=content,
        data=data,
        media_type=media_type,
        filename=f"{report.report_no}.{file_format}",
    )


def reports_of(*, session: Session, subject_id: int, limit: int = 50) -> list[IssuedReport]:
    return list(
        session.scalars(
            sa.select(IssuedReport)
            .where(IssuedReport.subject_id == subject_id)
            .order_by(IssuedReport.issued_at.desc(), IssuedReport.id.desc())
            .limit(limit)
        )
    )


# ---- verification --------------------------------------------------------------------------------------------------


def get(*, session: Session, report_no: str) -> IssuedReport | None:
    number = to_half_width(report_no).strip().upper()
    return session.scalar(sa.select(IssuedReport).where(IssuedReport.report_no == number))


def verify(
    *, session: Session, report_no: str, code: str | None = None, file_data: bytes | None = None
) -> Verification:
    """Whether ``report_no`` was issued here, and (when given) whether the code and the file match the registry."""
    report = get(session=session, report_no=report_no)
    if report is None:
        return Verification(found=False, report_no=report_no.strip())
    code_valid = None
    if code is not None and code.strip():
        code_valid = hmac.compare_digest(_code_hash(code), report.code_hash)
    file_matches, digest = None, None
    if file_data is not None:
        digest = hashlib.sha256(file_data).hexdigest()
        file_matches = hmac.compare_digest(digest, report.file_sha256)
    return Verification(
        found=True,
        report_no=report.report_no,
        report=report,
        code_checked=code_valid is not None,
        code_valid=code_valid,
        file_checked=file_matches is not None,
        file_matches=file_matches,
        file_sha256=digest,
    )


def shown_subject_name(report: IssuedReport) -> str:
    """The subject's name as the public verification shows it: masked for natural persons."""
    return (
        mask_name(report.subject_name)
        if report.subject_kind == SubjectKind.NATURAL_PERSON.value
        else report.subject_name
    )
