"""Whether a session has written anything: a flush, or an INSERT, UPDATE or DELETE run through it.

The dispatcher opens a transaction for a handler that asks for one (Context.db). Most of them
only read — a points balance, the tickets of a resident, the buildings — and committing such a
session costs a flush of the dialog row through the ORM's unit of work and a COMMIT, when the
dialog could simply go with the reply record like every other message's (storage.admission).
This tells the two apart.
"""

from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

WROTE = "linli_wrote"


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, flush_context, instances) -> None:
    if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        session.info[WROTE] = True


def wrote_anything(session: AsyncSession, *, besides: Iterable[Any] = ()) -> bool:
    """True once the session flushed or ran a write, or when it holds changes to rows other
    than `besides` (which the caller saves another way)."""
    sync = session.sync_session
    if sync.info.get(WROTE) or sync.new or sync.deleted:
        return True
    spared = {id(row) for row in besides if row is not None}
    return any(id(obj) not in spared and sync.is_modified(obj) for obj in sync.dirty)
