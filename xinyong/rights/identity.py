"""Subject accounts: an enterprise or a person registers, its identity is confirmed by a pluggable verifier, and
only then is an account with role ``subject`` bound to the subject.

A verifier implements ``IdentityVerifier``: ``start`` checks the claim and returns a challenge (what the applicant
must do next), ``confirm`` checks the applicant's answer. The development verifier (default) checks that the USCC or
citizen ID number is valid and belongs to a known subject whose name matches, and shows a one-time code on screen;
it refuses to run with XINYONG_ENV=production. A real verifier — 电子营业执照 (the SAMR e-licence app's scan-to-sign),
a bank-card four-element check or a face check for persons — is a class named by XINYONG_IDENTITY_VERIFIER as
``package.module:ClassName``: ``start`` calls the provider and keeps its transaction id in ``Challenge.state``,
``confirm`` asks the provider whether that transaction succeeded (``answer`` may be a callback token).
"""

from __future__ import annotations

import datetime as dt
import hmac
import importlib
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Account, Role
from xinyong.audit import service as audit
from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.crypto import keyed_hash
from xinyong.core.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from xinyong.core.settings import get_settings
from xinyong.core.text import normalise_code
from xinyong.rights.models import Registration
from xinyong.subjects.codes import id_number_error, uscc_error
from xinyong.subjects.models import Subject, SubjectKind

CODE_MINUTES = 10
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IdentityClaim:
    """Who the applicant says it is: a USCC (enterprise, organisation, individual business) or a citizen ID."""

    code: str
    name: str


@dataclass
class Challenge:
    subject: Subject
    message: str  # what the applicant must do next, in Chinese
    shown_code: str | None = None  # development only: the code, shown on screen instead of sent
    secret_hash: str | None = None  # keyed hash of a code to compare the answer with
    state: dict[str, Any] = field(default_factory=dict)  # a real verifier's own state (transaction id …)


class IdentityVerifier(Protocol):
    name: str

    def start(self, *, session: Session, claim: IdentityClaim) -> Challenge: ...

    def confirm(self, *, session: Session, registration: Registration, answer: str) -> bool: ...


def find_claimed_subject(session: Session, claim: IdentityClaim) -> Subject:
    """The known subject the claim names: a valid code of a subject whose current name matches."""
    code = normalise_code(claim.code)
    if uscc_error(code) is None:
        subject = session.scalar(sa.select(Subject).where(Subject.uscc == code))
    elif id_number_error(code) is None:
        subject = session.scalar(sa.select(Subject).where(Subject.id_hash == keyed_hash(code)))
    else:
        raise InvalidInput(f"证件号码无效：{uscc_error(code)}（公民身份号码：{id_number_error(code)}）")
    if subject is None or subject.name != claim.name.strip():
        raise InvalidInput("证件号码与名称不符，或平台尚无该主体的信用信息（请核对后重试）")
    return subject


class DevelopmentVerifier:
    """For development and demos: the code is valid and matches a known subject; a one-time code shown on screen."""

    name = "development"

    def start(self, *, session: Session, claim: IdentityClaim) -> Challenge:
        if get_settings().env == "production":
            raise ConfigurationError("生产环境不能使用开发用身份核验（请设置 XINYONG_IDENTITY_VERIFIER）")
        subject = find_claimed_subject(session, claim)
        code = f"{secrets.randbelow(1_000_000):06d}"
        return Challenge(
            subject=subject,
            message="开发环境：验证码直接显示在本页（正式环境将通过电子营业执照或银行卡等方式核验）",
            shown_code=code,
            secret_hash=keyed_hash(code),
        )

    def confirm(self, *, session: Session, registration: Registration, answer: str) -> bool:
        expected = registration.challenge_hash or ""
        return bool(expected) and hmac.compare_digest(expected, keyed_hash(answer.strip()))


def load_verifier() -> IdentityVerifier:
    spec = get_settings().identity_verifier
    if spec == "development":
        return DevelopmentVerifier()
    module_name, _, class_name = spec.partition(":")
    try:
        verifier: IdentityVerifier = getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"无法载入身份核验方式 {spec}（{exc}）") from exc
    return verifier


def start_registration(
    *,
    session: Session,
    claim: IdentityClaim,
    username: str,
    password: str,
    email: str | None = None,
    phone: str | None = None,
    verifier: IdentityVerifier | None = None,
) -> tuple[Registration, Challenge]:
    username = username.strip()
    if not username or len(username) > 64:
        raise InvalidInput("登录名：必填，最长 64 个字符")
    if len(password) < 8:
        raise InvalidInput("密码：至少 8 位")
    if email and "@" not in email:
        raise InvalidInput("邮箱格式不正确")
    if session.scalar(sa.select(Account.id).where(Account.username == username)) is not None:
        raise Conflict(f"登录名“{username}”已被使用")
    verifier = verifier or load_verifier()
    challenge = verifier.start(session=session, claim=claim)
    now = clock.now()
    registration = Registration(
        token=secrets.token_urlsafe(16)[:32],
        subject_id=challenge.subject.id,
        username=username,
        display_name=challenge.subject.name[:100],
        password_hash=accounts.hash_password(password),
        email=(email or "").strip() or None,
        phone=(phone or "").strip() or None,
        verifier=verifier.name,
        challenge_hash=challenge.secret_hash,
        verifier_state=challenge.state,
        attempts=0,
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        created_at=now,
    )
    session.add(registration)
    session.flush()
    audit.record(
        session=session,
        actor=Actor(name=f"register:{username}"[:64], role=None),
        action="account.register_start",
        target_type="registration",
        target_id=registration.id,
        subject_id=challenge.subject.id,
        detail={"verifier": verifier.name},
    )
    return registration, challenge


def confirm_registration(
    *, session: Session, token: str, answer: str, verifier: IdentityVerifier | None = None
) -> Account:
    registration = session.scalar(sa.select(Registration).where(Registration.token == token))
    if registration is None:
        raise NotFound("注册申请不存在，请重新注册")
    if registration.account_id is not None:
        raise Conflict("该注册申请已完成，请直接登录")
    if registration.expires_at < clock.now() or registration.attempts >= MAX_ATTEMPTS:
        raise InvalidInput("验证码已失效，请重新注册")
    verifier = verifier or load_verifier()
    if not verifier.confirm(session=session, registration=registration, answer=answer):
        registration.attempts += 1
        session.flush()
        raise InvalidInput(f"验证码错误（还可尝试 {MAX_ATTEMPTS - registration.attempts} 次）")
    if session.scalar(sa.select(Account.id).where(Account.username == registration.username)) is not None:
        raise Conflict(f"登录名“{registration.username}”已被使用")
    subject = session.get(Subject, registration.subject_id)
    assert subject is not None
    account = accounts.create_account(
        session=session,
        username=registration.username,
        role=Role.SUBJECT,
        display_name=registration.display_name,
        subject_id=subject.id,
        region=subject.region,
    )
    account.password_hash = registration.password_hash
    registration.account_id = account.id
    registration.confirmed_at = clock.now()
    session.flush()
    audit.record(
        session=session,
        actor=Actor(name=account.username, role=Role.SUBJECT.value, account_id=account.id, subject_id=subject.id),
        action="account.register",
        target_type="account",
        target_id=account.id,
        subject_id=subject.id,
        detail={"verifier": registration.verifier, "kind": SubjectKind(subject.kind).value},
    )
    return account
