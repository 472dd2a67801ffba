"""Consultations answered from the community's FAQ (BM25 over jieba tokens, in nlp.faq)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from handlers.misunderstood import not_understood
from storage import faq

router = Router("consult")


@dataclass
class _CachedIndex:
    version: Any
    index: Any


async def faq_index(ctx: Context):
    """The community's search index, rebuilt only when its entries change (checked per question)."""
    from nlp.faq import FaqEntry, FaqIndex

    indexes: dict[int, _CachedIndex] = ctx.services.extras.setdefault("faq_indexes", {})
    session = await ctx.db()
    current = await faq.version(session, ctx.community_id)
    cached = indexes.get(ctx.community_id)
    if cached is None or cached.version != current:
        rows = await faq.enabled_entries(session, ctx.community_id)
        entries = [FaqEntry(id=r.id, question=r.question, answer=r.answer, keywords=list(r.keywords or []))
                   for r in rows]
        cached = _CachedIndex(current, FaqIndex(entries, ctx.services.nlu.tokenize))
        indexes[ctx.community_id] = cached
    return cached.index


@router.on(intent="consult")
async def answer(ctx: Context) -> Reply:
    best = (await faq_index(ctx)).best(ctx.text)
    if best is None:
        return Text(texts.FAQ_NO_MATCH)
    return Text(texts.FAQ_ANSWER.format(answer=best.answer))


@router.on(intent="other")
async def not_for_us(ctx: Context) -> Reply:
    return not_understood(ctx, Text(texts.OTHER))
