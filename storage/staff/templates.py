"""Notice templates (模板消息) kept per community in the console.

Outside WeChat's 48-hour window a notice can only go out as a template message, whose id comes
from the WeChat console and whose fields differ from template to template. Admins enter them on
the console's templates page; the outbox's fallback (bot/outbox_worker) reads the community's
entry here first and the account's ``[accounts.templates.<kind>]`` in the config as the default,
so a new template takes effect without a restart or a deploy.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import TemplateSettings
from storage.staff_models import NoticeTemplate

# What a notice's payload offers a template field (config.example.toml documents them per kind).
NOTICE_FIELDS = ("title", "content", "number", "summary", "status", "time")
MAX_FIELDS = 8
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")


class TemplateError(ValueError):
    """A template staff must correct; ``code`` names the problem (Chinese in bot/texts/console)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check(template_id: str, fields: dict[str, str], url: str) -> None:
    """Refuse what WeChat would refuse, or what would send a field empty."""
    if not _TEMPLATE_ID.match(template_id):
        raise TemplateError("bad_template_id")
    if not fields or len(fields) > MAX_FIELDS:
        raise TemplateError("no_fields")
    if any(not _FIELD.match(name) for name in fields):
        raise TemplateError("bad_field")
    if any(source not in NOTICE_FIELDS for source in fields.values()):
        raise TemplateError("bad_source")
    if url and not url.startswith("https://"):
        raise TemplateError("bad_url")


async def all_of(session: AsyncSession, community_id: int) -> dict[str, NoticeTemplate]:
    rows = await session.scalars(select(NoticeTemplate).where(NoticeTemplate.community_id == community_id))
    return {row.notice_kind: row for row in rows}


async def save(session: AsyncSession, *, community_id: int, notice_kind: str, template_id: str,
               fields: dict[str, str], url: str, by: str, now: datetime) -> NoticeTemplate:
    """Add or replace the community's template for one kind of notice."""
    check(template_id, fields, url)
    row = await session.scalar(select(NoticeTemplate).where(NoticeTemplate.community_id == community_id,
                                                            NoticeTemplate.notice_kind == notice_kind))
    if row is None:
        row = NoticeTemplate(community_id=community_id, notice_kind=notice_kind)
        session.add(row)
    row.template_id, row.fields, row.url, row.updated_by, row.updated_at = template_id, dict(fields), url, by, now
    await session.flush()
    return row


async def remove(session: AsyncSession, *, community_id: int, notice_kind: str) -> bool:
    """Back to the config's template (if any); False if the community had none of its own."""
    result = await session.execute(delete(NoticeTemplate).where(NoticeTemplate.community_id == community_id,
                                                                NoticeTemplate.notice_kind == notice_kind))
    return bool(result.rowcount)


async def for_notice(session: AsyncSession, *, community_id: int, notice_kind: str) -> TemplateSettings | None:
    """The community's template for a notice, in the config's shape (None: use the config's)."""
    row = await session.scalar(select(NoticeTemplate).where(NoticeTemplate.community_id == community_id,
                                                            NoticeTemplate.notice_kind == notice_kind))
    if row is None:
        return None
    return TemplateSettings(template_id=row.template_id, fields=dict(row.fields or {}), url=row.url or "")
