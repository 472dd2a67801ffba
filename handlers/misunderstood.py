"""Two misunderstandings in a row hand the resident to staff (issue 7).

A misunderstanding is an answer that did not help: asking back because the NLU was unsure
(clarify), the catch-all acknowledgement (fallback), and "this is not something I can do"
(consult's "other"). Those handlers wrap their reply in ``not_understood``; the second one in a
row starts the hand-off instead, with the same office-hours note as "转人工".

The count is ``Conversation.misunderstood`` (Dialog.note_understood). It starts again whenever
the NLU understands a message with confidence: ``router`` comes first in the root router and
its one filter resets the count as a side effect and never matches, so no handler has to
remember to do it.
"""

from __future__ import annotations

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import handoff as texts
from handlers.handoff import with_office_hours

LIMIT = 2
NOT_UNDERSTOOD_INTENTS = frozenset({"other"})

router = Router("misunderstood")


def _reset_when_understood(ctx: Context) -> bool:
    dialog, nlu = ctx.dialog, ctx.nlu
    if (dialog is not None and dialog.row.misunderstood and nlu is not None and getattr(nlu, "confident", False)
            and ctx.intent not in NOT_UNDERSTOOD_INTENTS):
        dialog.note_understood(True)
    return False


@router.on(_reset_when_understood)
async def _never(ctx: Context) -> Reply | None:  # pragma: no cover - the filter never matches
    return None


def not_understood(ctx: Context, reply: Reply) -> Reply:
    """The reply, or — the second time in a row — the hand-off to staff."""
    if ctx.dialog is None or ctx.dialog.in_handoff:
        return reply
    if ctx.dialog.note_understood(False) < LIMIT:
        return reply
    ctx.dialog.finish()
    ctx.dialog.note_understood(True)
    ctx.dialog.start_handoff()
    return Text(with_office_hours(ctx, texts.AUTO_HANDOFF))
