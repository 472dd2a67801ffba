"""Editing a community's named rows (FAQ entries, canned replies): the row to change, or a new one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession


async def edit_or_new(session: AsyncSession, model: Any, *, community_id: int, row_id: int | None, name_column: Any,
                      name: str, taken: str) -> Any:
    """The community's row ``row_id`` (LookupError if it is not theirs), or a new row when None.

    ``name`` must be unique in the community: another row holding it raises ValueError(taken).
    """
    row = None
    if row_id is not None:
        row = await session.scalar(select(model).where(model.id == row_id, model.community_id == community_id))
        if row is None:
            raise LookupError(row_id)
    clash = await session.scalar(select(model.id).where(model.community_id == community_id, name_column == name))
    if clash is not None and clash != row_id:
        raise ValueError(taken)
    if row is None:
        row = model(community_id=community_id)
        session.add(row)
    return row


async def remove(session: AsyncSession, model: Any, *, community_id: int, row_id: int) -> bool:
    """Delete the community's row; False if it has no such row."""
    result = await session.execute(delete(model).where(model.id == row_id, model.community_id == community_id))
    return bool(result.rowcount)
