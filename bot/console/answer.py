"""Checks shared by every page that answers a resident (a ticket, an escalated thread)."""

from __future__ import annotations

from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from storage.models import Resident
from storage.staff import replies


def check_text(text: str) -> None:
    if not text:
        raise cw.Refused(texts.REPLY_EMPTY)
    if len(text) > replies.MAX_LENGTH:
        raise cw.Refused(texts.REPLY_TOO_LONG.format(limit=replies.MAX_LENGTH))


def account_to_reach(request: web.Request, resident: Resident) -> str:
    """The account that can message the resident, or Refused saying why none can."""
    account = cw.account_for(request, resident.community_id)
    if account is None:
        raise cw.Refused(texts.NO_ACCOUNT_FOR_COMMUNITY, 409)
    if not resident.subscribed:
        raise cw.Refused(texts.RESIDENT_UNSUBSCRIBED, 409)
    return account
