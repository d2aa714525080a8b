"""What the rights pages and API share: who is acting (an API key or a signed-in account), views.

Form posts are guarded by the app-wide CSRF check (``xinyong.web.csrf``): the forms carry the hidden field ``csrf``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends

from xinyong.accounts.models import Account, Role
from xinyong.accounts.web import OptionalAccount, actor_of
from xinyong.audit.service import Actor
from xinyong.core.deps import OptionalActor, SessionDep
from xinyong.core.errors import Unauthenticated
from xinyong.rights.deadlines import DueItem


def rights_actor(session: SessionDep, actor: OptionalActor, account: OptionalAccount) -> Actor:
    """An API key (source units' systems, a subject's own key) or the session cookie (subjects, unit and office staff
    in the browser)."""
    if actor is not None:
        if actor.role == Role.SUBJECT.value and actor.subject_id is None and actor.account_id is not None:
            # A subject's key acts for the subject its account is bound to (as /api/v1/evaluation reads it).
            owner = session.get(Account, actor.account_id)
            return replace(actor, subject_id=owner.subject_id if owner else None)
        return actor
    if account is not None:
        return actor_of(account)
    raise Unauthenticated("请先登录（或在请求头中提供 Authorization: Bearer <密钥>）")


RightsActor = Annotated[Actor, Depends(rights_actor)]

# Form posts use the shared request session (``SessionDep``): it commits before the response is sent, so the page a
# redirect leads to already sees the write.
FormSession = SessionDep
FormAccount = OptionalAccount


def due_view(item: DueItem) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "id": item.id,
        "no": item.no,
        "subject_id": item.subject_id,
        "source_unit_id": item.source_unit_id,
        "status": item.status,
        "status_label": item.status_label,
        "waiting_for": item.waiting_for,
        "step": item.step,
        "step_label": item.step_label,
        "due": item.due,
        "provisional": item.provisional,
        "overdue": item.overdue,
        "days_left": item.days_left,
    }
