"""Saving a resident's first dialog row when another message may have saved one meanwhile.

A message that found no conversation row builds one; normally nobody else can write the
resident's row before it is saved (the resident's turn, storage.turns). Under overload a message
can outlive its turn's lease, and then the next message, on another process, starts from no row
too: two first rows for one resident. The second to be saved replaces the first (its dialog is
the resident's latest) instead of failing on the unique constraint — failing would lose the whole
reply record: the reply never sent, the key left running.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation

COLUMNS = tuple(c.name for c in Conversation.__table__.columns if c.name != "id")


_MANAGER = Conversation._sa_class_manager


def new_row(community_id: int, resident_id: int) -> Conversation:
    """A resident's first conversation row, not saved until it holds something (it is inserted
    with the reply record, or a handler's transaction). Built without the mapped class's
    __init__, whose attribute events cost six times as much, for a row most messages only read."""
    row = _MANAGER.new_instance()
    row.__dict__.update(community_id=community_id, resident_id=resident_id, state=None, data={}, expires_at=None,
                        handoff=False, handoff_at=None, handoff_active_at=None, misunderstood=0)
    return row  # id and updated_at stay unset: the database and the model's default give them


def first_row_values(row: Conversation, now: datetime) -> dict:
    """The columns of a row never saved, with the model's defaults where the handler set none."""
    values = {name: getattr(row, name) for name in COLUMNS}
    return {**values, "data": values["data"] or {}, "handoff": bool(values["handoff"]),
            "misunderstood": values["misunderstood"] or 0, "updated_at": now}


def changes(row: Conversation, now: datetime) -> dict[str, Any]:
    """A changed conversation row for a plain-statement save (storage.admission_pg and
    admission_sqlite): its values, its id (None for a first row) and the columns that changed
    (all of them for a first row) — only those are written, as the ORM would."""
    state = inspect(row)
    if state.has_identity:
        values = {name: getattr(row, name) for name in COLUMNS}
        changed = [name for name in COLUMNS if state.attrs[name].history.has_changes()]
    else:
        values, changed = first_row_values(row, now), list(COLUMNS)
    return {**values, "id": row.id if state.has_identity else None, "updated_at": now, "changed": changed}


async def save_first_row(session: AsyncSession, row: Conversation, now: datetime) -> None:
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = first_row_values(row, now)
    statement = dialect_insert(Conversation).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["resident_id"],
        set_={name: statement.excluded[name] for name in COLUMNS if name not in ("community_id", "resident_id")}))
