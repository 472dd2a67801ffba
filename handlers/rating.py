"""回访: the resident's 满意 / 基本满意 / 不满意 after a ticket is resolved.

The question is sent by the ticket domain's notification when a ticket is resolved; this router
catches the answer. The words are caught at the start of a message ("满意，谢谢！", "不满意，灯还是
不亮" — the rest is kept as the resident's comment: the reopen note and the staff alert say it);
a bare 1/2/3 only when no dialog is open, so it never steals a numbered answer from another
question. The words are read in the normalised text, so "不滿意" counts too.
"""

from __future__ import annotations

import re

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import tickets as t
from handlers import intake
from handlers.intake_form import bare
from handlers.ticket_status import brief
from nlp.intents import TICKET_INTENTS
from storage import tickets

router = Router("rating")

_WORDS = re.compile(r"(?P<unsatisfied>(?:很|非常|特别|太)?不(?:太)?满意)|(?P<basic>基本满意|比较满意|还算满意)"
                    r"|(?P<satisfied>(?:很|非常|特别|挺|十分)?满意)")
_TAIL = re.compile(r"(?:了|的|吧|啊|呀|哈)*")
_CLAUSE = re.compile(r"^[\s,.!?;:，。！？；：、~～…]+(?P<comment>.*)$", re.S)
_NUMBERS = {"1": "satisfied", "2": "basic", "3": "unsatisfied"}


def rating_with_comment(text: str | None) -> tuple[str, str | None] | None:
    """"满意" → ("satisfied", None); "不满意，灯还是不亮" → ("unsatisfied", "灯还是不亮").

    The word must open the message and stand alone — the end, or a punctuation mark before the
    rest — so "满意吗", "满意度调查是什么" and "我对物业不满意" are no ratings.
    """
    text = (text or "").strip()
    m = _WORDS.match(text)
    if not m:
        return None
    tail = _TAIL.match(text, m.end())
    rest = text[tail.end():]
    if not rest:
        return m.lastgroup, None
    clause = _CLAUSE.match(rest)
    if clause is None:
        return None
    return m.lastgroup, (clause.group("comment").strip(" ,.!?;:，。！？；：、~～…") or None)


def rating_of(text: str | None) -> str | None:
    found = rating_with_comment(text)
    return found[0] if found else None


def _normalized(ctx: Context) -> str:
    return (ctx.nlu.normalized if ctx.nlu is not None and ctx.nlu.normalized else None) or ctx.text


def _rating_word(ctx: Context) -> bool:
    return ctx.event.kind in ("text", "voice") and rating_of(_normalized(ctx)) is not None


def _bare_number(ctx: Context) -> bool:
    return (ctx.event.kind == "text" and bare(_normalized(ctx)) in _NUMBERS
            and ctx.dialog is not None and not ctx.dialog.state)


@router.on(_rating_word)
async def rate_by_word(ctx: Context) -> Reply:
    """With nothing to rate, "不满意，楼下饭店油烟太大" is a complaint: the report form takes it."""
    rating, comment = rating_with_comment(_normalized(ctx))
    own = rating_with_comment(ctx.text)  # the comment in the resident's own words, when they can be found
    reply = await _rate(ctx, rating, quiet=True, comment=own[1] if own else comment)
    if reply is not None:
        return reply
    if comment and ctx.intent in TICKET_INTENTS:
        return await intake.start(ctx)
    return Text(t.NOTHING_TO_RATE)


@router.on(_bare_number)
async def rate_by_number(ctx: Context) -> Reply:
    number = bare(_normalized(ctx))
    reply = await _rate(ctx, _NUMBERS[number], quiet=True)
    return reply or Text(t.NUMBER_WITHOUT_QUESTION.format(number=number) + texts.SERVICE_MENU)


async def _rate(ctx: Context, rating: str, *, quiet: bool = False, comment: str | None = None) -> Reply | None:
    """Rate the oldest ticket waiting for this resident's rating; quiet: None if there is none."""
    session = await ctx.db()
    ticket = await tickets.awaiting_rating(session, community_id=ctx.community_id, resident_id=ctx.resident.id)
    if ticket is None:
        return None if quiet else Text(t.NOTHING_TO_RATE)
    try:
        ticket = await tickets.rate(session, ticket_id=ticket.id, resident=ctx.resident, rating=rating, now=ctx.now,
                                    settings=ctx.settings, comment=comment)
    except tickets.Conflict:
        raise  # the transaction is spoilt; the resident gets the apology and may simply answer again
    except tickets.TicketError:  # raised before anything was written: no longer awaiting a rating
        return Text(t.RATING_FAILED)
    reply = (t.RATED_UNSATISFIED if rating == "unsatisfied" else t.RATED).format(number=ticket.number)
    waiting = await tickets.awaiting_rating(session, community_id=ctx.community_id, resident_id=ctx.resident.id)
    if waiting is not None:
        reply += t.MORE_TO_RATE.format(number=waiting.number,
                                       description=await brief(session, waiting, ctx.resident.id))
    return Text(reply)
