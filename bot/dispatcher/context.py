"""Context: what a handler gets — the event, the resident, the dialog, what the NLU understood."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import inspect
from sqlalchemy.orm.attributes import instance_state

from bot.events import IncomingEvent
from storage import outbox, writes

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services
    from storage.models import Conversation, Resident


def _nothing() -> None:
    pass


class Dialog:
    """The resident's conversation row seen as a small state machine with expiry."""

    def __init__(self, row: "Conversation", now: datetime, ttl: timedelta) -> None:
        self.row = row
        self.now = now
        self.ttl = ttl
        self.expired_state: str | None = None
        self.changed = False
        if row.state and row.expires_at and row.expires_at <= now:
            self.expired_state = row.state
            self._clear()

    @property
    def state(self) -> str | None:
        return self.row.state

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.row.data or {})

    def goto(self, state: str, **data: Any) -> None:
        """Move to a step, merging data; every step renews the expiry."""
        self.changed = True
        self.row.state = state
        self.row.data = {**(self.row.data or {}), **data}
        self.row.expires_at = self.now + self.ttl

    def finish(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self.changed = self.changed or self.row.state is not None
        self.row.state = None
        self.row.data = {}
        self.row.expires_at = None

    @property
    def in_handoff(self) -> bool:
        return bool(self.row.handoff)

    def start_handoff(self) -> None:
        self.changed = True
        self.row.handoff = True
        self.row.handoff_at = self.now

    def end_handoff(self) -> None:
        self.changed = True
        self.row.handoff = False

    def note_understood(self, understood: bool) -> int:
        """Count consecutive misunderstandings (staff take over after two)."""
        self.changed = True
        self.row.misunderstood = 0 if understood else (self.row.misunderstood or 0) + 1
        return self.row.misunderstood


@dataclass
class Context:
    event: IncomingEvent
    services: "Services"
    community_id: int
    now: datetime
    session: "AsyncSession | None" = None
    resident: "Resident | None" = None
    dialog: Dialog | None = None
    nlu: Any = None  # nlp.Understanding
    duplicate: bool = False
    spooled: bool = False  # the database was down: the message waits in the spool (bot/spool.py)
    turn_of: int | None = None  # the resident whose turn this message holds (storage.turns), given back when recorded
    extras: dict[str, Any] = field(default_factory=dict)
    release: Callable[[], None] = _nothing  # frees the resident's ordering lock (Dispatcher.record calls it)
    rows_settled: bool = False  # the resident's and dialog's changes were committed (or rolled back) with ctx.db()

    def __post_init__(self) -> None:
        self._said = (self.event.text or "").strip()  # read by a dozen route filters per message

    @property
    def text(self) -> str:
        """What the resident said; after a numbered clarification, the original sentence."""
        return self.extras.get("clarified_text") or self._said

    @property
    def intent(self) -> str | None:
        return getattr(self.nlu, "intent", None)

    @property
    def settings(self):
        return self.services.settings

    async def db(self) -> "AsyncSession":
        """A transaction for handlers that read or write more than the resident and dialog.

        Opened on first use and committed by the dispatcher when the handler returns (handlers
        never commit); the resident and conversation rows join it, so their changes commit with
        the handler's writes — or not at all. Events that never ask skip a transaction, and one
        that only read ends with a rollback: its resident and dialog go with the reply record.
        """
        if self.session is None:
            session = self.services.db.sessions()
            await session.begin()
            for row in (self.resident, self.dialog.row if self.dialog else None):
                if row is not None and inspect(row).has_identity:
                    session.add(row)
            self.session = session
        return self.session

    async def close_db(self, *, commit: bool) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        if commit and not writes.wrote_anything(session, besides=self._own_rows()):
            await self._end_reading(session)
            return
        try:
            if commit and self.dialog is not None and self.dialog.changed:
                session.add(self.dialog.row)  # a first conversation row is inserted only once it holds something
            queued = outbox.queued_anything(session)
            await (session.commit() if commit else session.rollback())
            if commit and queued:
                self.services.wake_outbox()  # the handler queued notices: send them now, not at the next tick
        finally:
            self.rows_settled = True
            await session.close()

    def _own_rows(self) -> tuple[Any, ...]:
        return (self.resident, self.dialog.row if self.dialog else None)

    async def _end_reading(self, session: "AsyncSession") -> None:
        """The handler only read: end its transaction, and let the resident's and dialog's
        changes go with the reply record, as for a handler that never asked for one."""
        try:
            for row in self._own_rows():
                if row is not None and row in session:
                    session.expunge(row)  # detached with their changes, which the record saves
            await session.rollback()
        finally:
            await session.close()

    def changed_rows(self) -> list[Any]:
        """Resident and dialog rows changed without ctx.db(): the reply record saves them."""
        if self.rows_settled:
            return []
        rows = []
        if self.resident is not None and instance_state(self.resident).modified:
            rows.append(self.resident)
        if self.dialog is not None and self.dialog.changed:
            rows.append(self.dialog.row)
        return rows
