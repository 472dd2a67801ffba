"""`linli demo` shows the console: a demo admin whose random password is in the banner."""

from __future__ import annotations

import re

import aiohttp

from bot.demo import banner, start_demo
from storage.staff import demo as staff_demo


async def test_the_demo_banner_gives_a_working_console_login(tmp_path, nlu_engine):
    data_dir = tmp_path / "demo"
    handle = await start_demo("127.0.0.1", 0, data_dir, nlu=nlu_engine, app_options={"scheduler": False})
    try:
        text = banner(handle)
        password = (data_dir / staff_demo.PASSWORD_FILE).read_text(encoding="utf-8").strip()
        assert f"{handle.base_url}/console/" in text and f"用户名 {staff_demo.USERNAME} / 密码 {password}" in text
        assert len(password) >= 12
        assert handle.settings.console.office_hours == ["08:30-12:00", "14:30-17:30"]  # the off-hours note shows
        assert "office_hours" in (data_dir / "demo.toml").read_text(encoding="utf-8")
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base_url=handle.base_url, cookie_jar=jar) as http:
            login = await (await http.get("/console/login")).text()
            token = re.search(r'name="_csrf" value="([^"]+)"', login).group(1)
            response = await http.post("/console/login", data={"username": staff_demo.USERNAME, "password": password,
                                                                "_csrf": token})
            page = await response.text()
            assert response.status == 200 and "演示管理员" in page and "襄阳市樊城区示范社区" in page
            canned = await (await http.get("/console/manage/canned")).text()
            assert "已派人处理" in canned
    finally:
        await handle.stop()
    again = await start_demo("127.0.0.1", 0, data_dir, nlu=nlu_engine, app_options={"scheduler": False})
    try:  # a second run keeps the account and its password
        assert again.console_password == password
    finally:
        await again.stop()
