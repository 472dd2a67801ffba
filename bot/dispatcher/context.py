"""Context: what a handler gets — the event, the resident, the dialog, what the NLU understood."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.events import IncomingEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.services import Services
    from storage.models import Conversation, Resident


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
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What the resident said; after a numbered clarification, the original sentence."""
        return self.extras.get("clarified_text") or (self.event.text or "").strip()

    @property
    def intent(self) -> str | None:
        return getattr(self.nlu, "intent", None)

    @property
    def settings(self):
        return self.services.settings

    async def db(self) -> "AsyncSession":
        """The event's transaction, for handlers that read or write more than the resident and dialog.

        Committed by the dispatcher together with the reply record; handlers never commit. The
        resident and conversation rows are part of it, so changes to them are saved too.
        """
        assert self.session is not None, "no database session for this event"
        return self.session
