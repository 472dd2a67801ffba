"""The custom menu: built from config within WeChat's limits, pushed to the fake API."""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.config import MenuButton
from bot.wechat.menu import MenuError, build_menu, push_menu
from tests.conftest import make_settings

MENU = [
    {"name": "我要报事", "type": "click", "key": "REPORT"},
    {"name": "办事服务", "sub_button": [
        {"name": "我的工单", "type": "click", "key": "MY_TICKETS"},
        {"name": "积分超市", "type": "view", "url": "https://example.org/points"},
    ]},
]


async def test_push_menu_lands_on_fake(db_url, db, fake_wechat):
    settings = make_settings(db_url, fake_wechat.base_url)
    settings.accounts[0].menu = [MenuButton.model_validate(button) for button in MENU]
    async with aiohttp.ClientSession() as http:
        assert (await push_menu(settings, "test", http, db=db))["errcode"] == 0
    assert fake_wechat.menus == [{"button": [
        {"type": "click", "name": "我要报事", "key": "REPORT"},
        {"name": "办事服务", "sub_button": [
            {"type": "click", "name": "我的工单", "key": "MY_TICKETS"},
            {"type": "view", "name": "积分超市", "url": "https://example.org/points"}]},
    ]}]


@pytest.mark.parametrize("buttons, message", [
    ([], "no [[accounts.menu]]"),
    ([{"name": "a", "key": "A"}] * 4, "at most 3"),
    ([{"name": "超过十六个字节的名字", "key": "A"}], "bytes"),
    ([{"name": "报事"}], "needs a key"),
    ([{"name": "网页", "type": "view", "url": "ftp://x"}], "http(s) url"),
    ([{"name": "更多", "sub_button": [{"name": "x", "key": "X"}] * 6}], "at most 5"),
])
def test_bad_menus_are_explained(buttons, message):
    with pytest.raises(MenuError, match=re.escape(message)):
        build_menu([MenuButton.model_validate(button) for button in buttons])
