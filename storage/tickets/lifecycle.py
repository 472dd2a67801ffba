"""The ticket lifecycle: received 受理 → triaged 研判 → assigned 交办 → resolved 化解 → feedback
反馈 → closed 办结, with supervised 督办 (overdue) and reopened 重办 (the resident is not satisfied).

The table below is the whole rule; everything else asks ``check``.
"""

from __future__ import annotations

from bot.texts import notices
from storage.tickets.drafts import IllegalTransition

TRANSITIONS: dict[str, frozenset[str]] = {
    # closing before work starts is for spam and reports that are no ticket (a note says why)
    "received": frozenset({"triaged", "assigned", "supervised", "closed"}),
    "triaged": frozenset({"assigned", "supervised", "closed"}),
    "assigned": frozenset({"resolved", "supervised"}),
    "supervised": frozenset({"assigned", "resolved"}),
    "resolved": frozenset({"feedback", "reopened"}),
    "feedback": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"assigned", "supervised", "resolved"}),
    "closed": frozenset(),
}
STATUSES = tuple(TRANSITIONS)

# Being worked on: these count as duplicates of a new report and are watched for deadlines.
ACTIVE = frozenset({"received", "triaged", "assigned", "supervised", "reopened"})
SUPERVISABLE = ACTIVE - {"supervised"}
AWAITING_FEEDBACK = frozenset({"resolved", "feedback"})
NEEDS_REASON = frozenset({("received", "closed"), ("triaged", "closed")})


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check(number: str, current: str, target: str) -> None:
    """Raise IllegalTransition (with a sentence staff can read) unless current → target is allowed."""
    if not allowed(current, target):
        raise IllegalTransition(notices.ILLEGAL_TRANSITION.format(
            number=number, current=notices.STATUS_NAMES.get(current, current),
            target=notices.STATUS_NAMES.get(target, target)))
