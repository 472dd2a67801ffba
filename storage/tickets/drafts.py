"""What the chat side hands in (drafts), who acts (Actor), and the errors staff read."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("complaint", "repair", "suggestion")
GRADES = ("red", "yellow", "blue")
RATINGS = ("satisfied", "basic", "unsatisfied")
ACTOR_KINDS = ("resident", "member", "grid_worker", "staff", "system")


@dataclass
class AttachmentDraft:
    kind: str  # "image" | "location"
    media_id: str | None = None
    url: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None


@dataclass
class TicketDraft:
    kind: str  # "complaint" | "repair" | "suggestion"
    category: str | None  # nlp.slots category key, or None / "other"
    description: str
    grade: str | None = None  # None → decided by rules (tickets.grade_by_category, default_grade)
    building_id: int | None = None
    unit: str | None = None
    room: str | None = None
    address: str | None = None  # free-text place ("小区东门", "3栋2单元502")
    outdoor: bool = False  # a public/outdoor place: the duplicate check goes by grid, not building
    phone: str | None = None
    phone_consent: bool = False
    attachments: list[AttachmentDraft] = field(default_factory=list)
    source_key: str | None = None  # the creating message's dedup key: creating twice is a no-op
    grid_id: int | None = None  # an outdoor place's grid when known; else from the building or reporter


@dataclass(frozen=True)
class Actor:
    kind: str  # "resident" | "member" | "grid_worker" | "staff" | "system"
    id: int | None = None
    name: str | None = None

    @property
    def handles_tickets(self) -> bool:
        """Actions by these count as the ticket's response (三率: first action within SLA)."""
        return self.kind in ("member", "grid_worker", "staff")


SYSTEM = Actor("system", name="系统")


class TicketError(Exception):
    """``message`` is a readable Simplified Chinese sentence for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(TicketError):
    pass


class Conflict(TicketError):
    """Someone else changed the ticket first (version mismatch)."""
