"""Logging in and out: argon2 hashes, the rate limit, cookie flags, CSRF, sessions, the audit log."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select
from yarl import URL

from bot.texts import console as texts
from storage.staff_models import LoginAttempt, StaffAccount, StaffAudit, StaffSession
from tests.console.conftest import PASSWORD, _field, logged_in


async def test_pages_need_a_login(console, place):
    response = await console.get("/console/tickets?status=open")
    assert response.status == 303
    location = URL(response.headers["Location"])
    assert location.path == "/console/login" and location.query["next"] == "/console/tickets?status=open"
    htmx = await console.get("/console/tickets", headers={"HX-Request": "true"})
    assert htmx.status == 401 and htmx.headers["HX-Redirect"].startswith("/console/login")
    post = await console.post("/console/logout", csrf=False)
    assert post.status == 401


async def test_login_sets_a_safe_cookie_and_stores_only_a_hash(console, place, db):
    response = await console.login("admin")
    assert response.status == 303 and response.headers["Location"] == "/console/"
    cookie = response.cookies["linli_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    assert not cookie["secure"]  # the test config says plain HTTP
    async with db.sessions() as session:
        row = await session.scalar(select(StaffSession))
        account = await session.scalar(select(StaffAccount).where(StaffAccount.username == "admin"))
    assert row.token_hash != cookie.value and len(row.token_hash) == 64
    assert account.password_hash.startswith("$argon2id$") and PASSWORD not in account.password_hash
    page = await console.page("/console/tickets")
    assert "ADMIN · 系统管理员" in page


async def test_secure_cookie_when_configured(aiohttp_client, db_url, fake_wechat, nlu_engine, place, clock):
    from bot.app import create_app
    from tests.console.conftest import console_settings

    settings = console_settings(db_url, fake_wechat.base_url, console={"cookie_secure": True})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=clock, scheduler=False,
                                             outbox_worker=False))
    page = await client.get("/console/login")
    login_cookie = page.cookies["linli_console_login"]
    assert login_cookie["secure"] and login_cookie["samesite"] == "Strict"
    # the test client (plain HTTP) does not send Secure cookies back, so hand it over as a browser on HTTPS would
    response = await client.post("/console/login", headers={"Cookie": f"linli_console_login={login_cookie.value}"},
                                 data={"username": "admin", "password": PASSWORD, "_csrf": login_cookie.value},
                                 allow_redirects=False)
    assert response.status == 303 and response.cookies["linli_console"]["secure"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(console, place, db):
    wrong = await console.login("admin", "not-the-password")
    unknown = await console.login("nobody", "not-the-password")
    for response in (wrong, unknown):
        assert response.status == 401
        assert texts.LOGIN_FAILED in await response.text()
        assert "linli_console" not in response.cookies
    async with db.sessions() as session:
        attempts = list(await session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))
    assert [(a.username, a.success) for a in attempts] == [("admin", False), ("nobody", False)]


async def test_login_needs_its_form_token(console, place):
    response = await console.client.post("/console/login", data={"username": "admin", "password": PASSWORD},
                                         allow_redirects=False)
    assert response.status == 403 and texts.LOGIN_FORM_EXPIRED in await response.text()


async def test_rate_limit_per_username_then_the_window_passes(console, place, clock):
    for _ in range(5):
        assert (await console.login("staff", "bad-password-1")).status == 401
    blocked = await console.login("staff")  # even the right password is not checked now
    assert blocked.status == 429
    assert texts.LOGIN_THROTTLED.format(minutes=15) in await blocked.text()
    assert (await console.login("admin")).status == 303  # other accounts are not affected
    clock.advance(minutes=16)
    assert (await console.login("staff")).status == 303


async def test_rate_limit_per_address(console, place, services):
    services.settings.console.login_max_failures_per_ip = 3
    for name in ("a1", "a2", "a3"):
        await console.login(name, "bad-password-1")
    assert (await console.login("admin")).status == 429


async def _simultaneous_logins(console, username: str, password: str, count: int) -> Counter:
    token = _field(await (await console.client.get("/console/login")).text(), "_csrf")
    form = {"username": username, "password": password, "_csrf": token}
    responses = await asyncio.gather(*(console.client.post("/console/login", data=form, allow_redirects=False)
                                       for _ in range(count)))
    return Counter(r.status for r in responses)


async def test_simultaneous_wrong_logins_stay_within_the_limit(console, place, db):
    assert await _simultaneous_logins(console, "staff", "bad-password-1", 20) == {401: 5, 429: 15}
    async with db.sessions() as session:
        attempts = list(await session.scalars(select(LoginAttempt)))
    assert len(attempts) == 5 and not any(a.success for a in attempts)
    assert (await console.login("staff")).status == 429  # locked, even with the right password


async def test_simultaneous_right_logins_all_succeed_and_are_recorded_so(console, place, db):
    assert await _simultaneous_logins(console, "staff", PASSWORD, 4) == {303: 4}
    async with db.sessions() as session:
        assert [a.success for a in await session.scalars(select(LoginAttempt))] == [True] * 4


async def test_a_success_clears_the_username_count(console, place):
    for _ in range(4):
        await console.login("staff", "bad-password-1")
    assert (await console.login("staff")).status == 303
    for _ in range(4):
        assert (await console.login("staff", "bad-password-1")).status == 401
    assert (await console.login("staff")).status == 303


async def test_next_is_kept_but_never_leaves_the_console(console, place):
    page = await console.page("/console/login?next=/console/threads")
    assert 'name="next" value="/console/threads"' in page
    for evil in ("https://evil.example/", "//evil.example/console/", "/other"):
        page = await console.page(f"/console/login?next={evil}")
        assert 'name="next" value="/console/"' in page


async def test_logout_ends_the_session_everywhere(console, place, db):
    await logged_in(console, "staff")
    cookie = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/console/"))["linli_console"]
    response = await console.post("/console/logout")
    assert response.status == 303 and response.headers["Location"] == "/console/login"
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession)) is None
    console.client.session.cookie_jar.update_cookies({"linli_console": cookie.value},
                                                     console.client.make_url("/console/"))
    assert (await console.get("/console/tickets")).status == 303  # the old cookie is dead


async def test_post_without_csrf_is_refused(console, place, db):
    await logged_in(console, "staff")
    for headers, data in (({}, {}), ({}, {"_csrf": "0" * 64}), ({"X-CSRF-Token": "bad"}, {})):
        response = await console.client.post("/console/logout", data=data, headers=headers, allow_redirects=False)
        assert response.status == 403 and texts.CSRF_FAILED in await response.text()
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession)) is not None  # still logged in
    header = await console.client.post("/console/logout", headers={"X-CSRF-Token": console.csrf},
                                       allow_redirects=False)
    assert header.status == 303


async def test_idle_and_absolute_expiry(console, place, clock):
    await logged_in(console, "staff")
    clock.advance(hours=11)
    assert (await console.get("/console/tickets")).status == 200
    clock.advance(hours=11)
    assert (await console.get("/console/tickets")).status == 200  # used 11 h ago: still alive
    clock.advance(hours=12, minutes=1)
    assert (await console.get("/console/tickets")).status == 303  # idle for more than 12 h


async def test_disabled_account_is_logged_out(console, place, db):
    await logged_in(console, "staff")
    async with db.sessions.begin() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.username == "staff"))
        account.active = False
    assert (await console.get("/console/tickets")).status == 303
    assert (await console.login("staff")).status == 401


async def test_logins_and_logouts_are_audited(console, place, db):
    await logged_in(console, "staff")
    await console.post("/console/logout")
    async with db.sessions() as session:
        rows = list(await session.scalars(select(StaffAudit).order_by(StaffAudit.id)))
    assert [(r.staff_name, r.action, r.community_id) for r in rows] == [
        ("staff", "login", place.community_id), ("staff", "logout", place.community_id)]


async def test_security_headers(console, place):
    response = await console.get("/console/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


async def test_static_files_are_served_locally(console):
    for name in ("htmx.min.js", "echarts.common.min.js", "console.js", "console.css"):
        response = await console.get(f"/console/static/{name}")
        assert response.status == 200, name


async def test_housekeeping_purges_expired_sessions_and_old_attempts(console, place, services, clock, db):
    from bot.console.jobs import purge_sessions

    await logged_in(console, "staff")
    await console.login("staff", "bad-password-1")
    assert await purge_sessions(services) == 0
    clock.advance(days=31)
    assert await purge_sessions(services) == 3  # the session and two attempts (a success, a failure)
    async with db.sessions() as session:
        assert await session.scalar(select(StaffSession)) is None
        assert await session.scalar(select(LoginAttempt)) is None
