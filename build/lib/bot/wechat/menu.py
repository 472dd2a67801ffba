"""The account's custom menu (自定义菜单), built from config and pushed with menu/create.

WeChat rejects a bad menu with a terse errcode, so the limits are checked here first and the
operator gets a message naming the button: at most 3 top-level buttons of at most 16 bytes,
at most 5 sub-buttons of at most 60 bytes, a click button needs a key (≤128 bytes), a view
button an http(s) url (≤1024 bytes), and a button with sub-buttons has neither.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.config import MenuButton, Settings
from bot.wechat.api import WeChatApi
from bot.wechat.token import TokenManager
from storage.db import Database

MAX_TOP, MAX_SUB = 3, 5
TOP_NAME_BYTES, SUB_NAME_BYTES = 16, 60


class MenuError(ValueError):
    """The configured menu breaks one of WeChat's limits."""


def build_menu(buttons: list[MenuButton]) -> dict[str, Any]:
    """The menu/create body for the configured buttons."""
    if not buttons:
        raise MenuError("the account has no [[accounts.menu]] buttons")
    if len(buttons) > MAX_TOP:
        raise MenuError(f"at most {MAX_TOP} top-level buttons, got {len(buttons)}")
    return {"button": [_top(button) for button in buttons]}


def _top(button: MenuButton) -> dict[str, Any]:
    _check_name(button.name, TOP_NAME_BYTES)
    if not button.sub_button:
        return _leaf(button)
    if len(button.sub_button) > MAX_SUB:
        raise MenuError(f"button {button.name!r}: at most {MAX_SUB} sub-buttons, got {len(button.sub_button)}")
    return {"name": button.name, "sub_button": [_sub(sub) for sub in button.sub_button]}


def _sub(button: MenuButton) -> dict[str, Any]:
    _check_name(button.name, SUB_NAME_BYTES)
    if button.sub_button:
        raise MenuError(f"button {button.name!r}: sub-buttons cannot have sub-buttons")
    return _leaf(button)


def _leaf(button: MenuButton) -> dict[str, Any]:
    if button.type == "click":
        if not button.key or len(button.key.encode()) > 128:
            raise MenuError(f"button {button.name!r}: a click button needs a key of at most 128 bytes")
        return {"type": "click", "name": button.name, "key": button.key}
    if not button.url.startswith(("http://", "https://")) or len(button.url.encode()) > 1024:
        raise MenuError(f"button {button.name!r}: a view button needs an http(s) url of at most 1024 bytes")
    return {"type": "view", "name": button.name, "url": button.url}


def _check_name(name: str, limit: int) -> None:
    if not name or len(name.encode("utf-8")) > limit:
        raise MenuError(f"button name {name!r} must be 1–{limit} bytes (a Chinese character is 3)")


async def push_menu(settings: Settings, account_name: str, http: aiohttp.ClientSession, *,
                    db: Database | None = None) -> dict[str, Any]:
    """Validate and upload the account's menu; uses (or opens) the database for the shared token."""
    account = settings.account(account_name)
    if account is None:
        raise MenuError(f"no account named {account_name!r} in the config")
    menu = build_menu(account.menu)
    own_db = db is None
    database = db or Database(settings.database.url, echo=settings.database.echo)
    try:
        tokens = TokenManager(database, http, base_url=settings.wechat.base_url, appid=account.appid,
                              secret=account.secret, margin_seconds=settings.wechat.token_refresh_margin_seconds,
                              timeout=settings.wechat.timeout_seconds)
        api = WeChatApi(http, base_url=settings.wechat.base_url, tokens=tokens, timeout=settings.wechat.timeout_seconds)
        return await api.create_menu(menu)
    finally:
        if own_db:
            await database.dispose()
