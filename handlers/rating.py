"""回访: the resident's 满意 / 基本满意 / 不满意 after a ticket is resolved.

The question is sent by the ticket domain's notification when a ticket is resolved; this router
catches the answer. The words are caught anywhere (they mean nothing else on their own); a bare
1/2/3 only when no dialog is open, so it never steals a numbered answer from another question.
"""

from __future__ import annotations

import re

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import tickets as t
from handlers.intake_form import bare, shorten
from storage import tickets

router = Router("rating")

_WORDS = re.compile(r"(?P<unsatisfied>(?:很|非常|特别|太)?不(?:太)?满意)|(?P<basic>基本满意|比较满意|还算满意)"
                    r"|(?P<satisfied>(?:很|非常|特别|挺|十分)?满意)")
_TAIL = re.compile(r"(?:了|的|吧|啊|呀|哈)*")
_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}


def rating_of(text: str | None) -> str | None:
    """"满意" → satisfied, "基本满意" → basic, "不满意" → unsatisfied; the whole message only."""
    word = bare(text)
    m = _WORDS.match(word)
    if not m or not _TAIL.fullmatch(word[m.end():]):
        return None
    return m.lastgroup


def _rating_word(ctx: Context) -> bool:
    return ctx.event.kind in ("text", "voice") and rating_of(ctx.text) is not None


def _bare_number(ctx: Context) -> bool:
    return (ctx.event.kind == "text" and bare(ctx.text) in _NUMBERS
            and ctx.dialog is not None and not ctx.dialog.state)


@router.on(_rating_word)
async def rate_by_word(ctx: Context) -> Reply:
    return await _rate(ctx, rating_of(ctx.text))


@router.on(_bare_number)
async def rate_by_number(ctx: Context) -> Reply:
    reply = await _rate(ctx, _NUMBERS[bare(ctx.text)], quiet=True)
    return reply or Text(t.NUMBER_WITHOUT_QUESTION.format(number=bare(ctx.text)) + texts.SERVICE_MENU)


async def _rate(ctx: Context, rating: str, *, quiet: bool = False) -> Reply | None:
    """Rate the oldest ticket waiting for this resident's rating; quiet: None if there is none."""
    session = await ctx.db()
    ticket = await tickets.awaiting_rating(session, community_id=ctx.community_id, resident_id=ctx.resident.id)
    if ticket is None:
        return None if quiet else Text(t.NOTHING_TO_RATE)
    try:
        ticket = await tickets.rate(session, ticket_id=ticket.id, resident=ctx.resident, rating=rating, now=ctx.now,
                                    settings=ctx.settings)
    except tickets.Conflict:
        raise  # the transaction is spoilt; the resident gets the apology and may simply answer again
    except tickets.TicketError:  # raised before anything was written: no longer awaiting a rating
        return Text(t.RATING_FAILED)
    reply = (t.RATED_UNSATISFIED if rating == "unsatisfied" else t.RATED).format(number=ticket.number)
    waiting = await tickets.awaiting_rating(session, community_id=ctx.community_id, resident_id=ctx.resident.id)
    if waiting is not None:
        reply += t.MORE_TO_RATE.format(number=waiting.number, description=shorten(waiting.description))
    return Text(reply)
