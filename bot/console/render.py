"""Jinja2 set-up for the console: autoescaping on, filters for local times and Chinese names.

Autoescaping is what keeps a resident's "<script>" complaint a piece of text on every page;
nothing resident-supplied is ever marked safe.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.texts import console as texts
from bot.texts import notices
from nlp.timephrase import SHANGHAI

TEMPLATES = Path(__file__).with_name("templates")


def setup(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                               undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(local=local, local_date=local_date, duration=duration, status=_names(notices.STATUS_NAMES),
                       kind=_names(notices.KIND_NAMES), grade=_names(notices.GRADE_NAMES),
                       category=_names(notices.CATEGORY_NAMES), team=_names(notices.TEAM_NAMES),
                       rating=_names(notices.RATING_NAMES), role=_names(texts.ROLE_NAMES),
                       delivery=_names(texts.DELIVERY_NAMES), sla_rule=_names(texts.SLA_RULE_NAMES),
                       audit_action=_names(texts.AUDIT_ACTIONS, texts.ACTION_OTHER),
                       points_action=_names(texts.POINTS_ACTIONS, texts.ACTION_OTHER),
                       percent=percent, message_text=message_text, choices=choices)
    env.globals.update(STATUS_NAMES=notices.STATUS_NAMES, KIND_NAMES=notices.KIND_NAMES,
                       GRADE_NAMES=notices.GRADE_NAMES, CATEGORY_NAMES=notices.CATEGORY_NAMES,
                       TEAM_NAMES=notices.TEAM_NAMES, ROLE_NAMES=texts.ROLE_NAMES)


def _names(table: dict[str, str], unknown: str | None = None):
    """A filter naming codes in Chinese; a code not in the table shows as ``unknown`` when given."""
    def name(value: Any) -> str:
        if value is None:
            return ""
        return table.get(value, unknown if unknown is not None else str(value))
    return name


def local(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """Stored UTC shown as Asia/Shanghai time."""
    return moment.astimezone(SHANGHAI).strftime(fmt) if moment else ""


def local_date(moment: datetime | None) -> str:
    return local(moment, "%Y-%m-%d")


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return texts.DURATION_DAYS.format(days=days, hours=hours)
    if hours:
        return texts.DURATION_HOURS.format(hours=hours, minutes=minutes)
    return texts.DURATION_MINUTES.format(minutes=minutes)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def message_text(message) -> str:
    """A logged message as one line of plain text: what was written, else "[照片]",
    "[位置] 3栋门口", "[点击菜单]" — never the log's English type codes."""
    kind = message.msg_type or ""
    if kind == "text":
        return message.content or ""
    if kind.startswith("event:"):
        return f"[{texts.EVENT_NAMES.get(kind[6:], texts.EVENT_NAMES['other'])}]"
    name = texts.MESSAGE_TYPES.get(kind, texts.MESSAGE_OTHER)
    detail = message.label if kind == "location" else message.content
    if kind == "voice" and not detail:
        detail = texts.VOICE_UNRECOGNISED
    return f"[{name}] {detail}" if detail else f"[{name}]"


def choices(rows) -> list[tuple[int, str]]:
    """Rows with an id and a name (buildings, grids) as (value, text) pairs for a form."""
    return [(row.id, row.name) for row in rows]
