"""Attachments of objections, repair applications and self-declarations: bounded in size and type, stored under
``XINYONG_DATA_DIR/attachments`` by content hash, described by a ``rights_attachment`` row."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from xinyong.audit.service import Actor
from xinyong.core import clock
from xinyong.core.errors import InvalidInput, TooLarge
from xinyong.core.settings import get_settings
from xinyong.rights.models import Attachment

# The first bytes each allowed type must start with, so a renamed executable is not accepted as a PDF.
_MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
_CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
MAX_PER_ITEM = 10


def allowed_types() -> list[str]:
    return [t.strip().lower().lstrip(".") for t in get_settings().attachment_types.split(",") if t.strip()]


def check_file(filename: str, content: bytes) -> str:
    """The file's type (extension) when it may be attached; otherwise InvalidInput/TooLarge naming the file."""
    name = PurePath(filename or "").name or "附件"
    limit = get_settings().attachment_max_bytes
    if len(content) > limit:
        raise TooLarge(f"附件“{name}”超过大小上限（{limit // 1024} KB）")
    if not content:
        raise InvalidInput(f"附件“{name}”是空文件")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = allowed_types()
    if ext not in allowed:
        raise InvalidInput(f"附件“{name}”类型不允许（可上传：{'、'.join(allowed)}）")
    magic = _MAGIC.get(ext)
    if magic and not content.startswith(magic):
        raise InvalidInput(f"附件“{name}”的内容与扩展名 .{ext} 不符")
    return ext


def store(
    *,
    session: Session,
    actor: Actor,
    owner_type: str,
    owner_id: int,
    filename: str,
    content: bytes,
    item: str | None = None,
) -> Attachment:
    ext = check_file(filename, content)
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(Attachment)
        .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
    )
    if (count or 0) >= MAX_PER_ITEM * 3:
        raise InvalidInput("附件数量已达上限")
    digest = hashlib.sha256(content).hexdigest()
    relative = Path("attachments") / owner_type / str(owner_id) / f"{digest}.{ext}"
    target = get_settings().data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(target)
    row = Attachment(
        owner_type=owner_type,
        owner_id=owner_id,
        item=item,
        filename=PurePath(filename).name[:200],
        content_type=_CONTENT_TYPES.get(ext, "application/octet-stream"),
        size=len(content),
        sha256=digest,
        path=str(relative),
        uploaded_by=actor.name[:64],
        uploaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def of(*, session: Session, owner_type: str, owner_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            sa.select(Attachment)
            .where(Attachment.owner_type == owner_type, Attachment.owner_id == owner_id)
            .order_by(Attachment.id)
        )
    )


def content_of(row: Attachment) -> bytes:
    return (get_settings().data_dir / row.path).read_bytes()
