"""The staff audit log: one row per staff action, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff_models import StaffAudit


async def record(session: AsyncSession, *, community_id: int | None, staff_id: int | None, staff_name: str,
                 action: str, now: datetime, target: str | None = None, detail: dict[str, Any] | None = None,
                 ip: str | None = None) -> None:
    session.add(StaffAudit(community_id=community_id, staff_id=staff_id, staff_name=staff_name[:64], action=action,
                           target=target, detail=detail, ip=(ip or "")[:64] or None, at=now))


async def page(session: AsyncSession, *, community_id: int, offset: int, limit: int,
               action: str | None = None) -> tuple[list[StaffAudit], int]:
    """The community's entries (and deployment-level ones such as logins), newest first."""
    where = [(StaffAudit.community_id == community_id) | StaffAudit.community_id.is_(None)]
    if action:
        where.append(StaffAudit.action == action)
    total = await session.scalar(select(func.count()).select_from(StaffAudit).where(*where)) or 0
    rows = await session.scalars(select(StaffAudit).where(*where).order_by(StaffAudit.id.desc())
                                 .offset(offset).limit(limit))
    return list(rows), total


def _named_columns() -> dict[str, tuple[Any, Any]]:
    """Per target kind ("resident" in "resident:7"): the model and the column that names a row."""
    from storage.member_models import BindingCode, CareHousehold
    from storage.models import Building, FaqEntry, Grid, Resident
    from storage.points_models import Activity, MallItem, MallOrder
    from storage.staff_models import CannedReply, NoticeTemplate, StaffAccount
    from storage.ticket_models import Ticket

    return {"ticket": (Ticket, Ticket.number), "resident": (Resident, Resident.name),
            "staff": (StaffAccount, StaffAccount.username), "grid": (Grid, Grid.name),
            "building": (Building, Building.name), "faq": (FaqEntry, FaqEntry.question),
            "canned": (CannedReply, CannedReply.title), "mall_item": (MallItem, MallItem.name),
            "order": (MallOrder, MallOrder.pickup_code), "activity": (Activity, Activity.title),
            "binding_code": (BindingCode, BindingCode.label), "care_household": (CareHousehold, CareHousehold.name),
            "notice_template": (NoticeTemplate, NoticeTemplate.notice_kind)}


async def target_names(session: AsyncSession, rows: list[StaffAudit]) -> dict[str, str | None]:
    """What the rows' targets are called now ("resident:7" → "张建国"); a target that is gone
    is left out, one that has no name maps to None."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        kind, _, number = (row.target or "").partition(":")
        if number.isdigit():
            wanted.setdefault(kind, set()).add(int(number))
    columns, names = _named_columns(), {}
    for kind, ids in wanted.items():
        if kind not in columns:
            continue
        model, column = columns[kind]
        for row_id, name in (await session.execute(select(model.id, column).where(model.id.in_(ids)))).all():
            names[f"{kind}:{row_id}"] = name
    return names
