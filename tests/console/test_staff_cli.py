"""`linli staff add | passwd | list` against a real migrated database."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import Community, Grid
from storage.staff_models import StaffAccount, StaffScope, StaffSession
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_TOKEN


@pytest.fixture
def config_file(tmp_path, db_url):
    path = tmp_path / "config.toml"
    path.write_text(f'''
[database]
url = "{db_url}"
[[communities]]
slug = "main"
name = "示范社区"
[[communities]]
slug = "east"
name = "东区社区"
[[accounts]]
name = "main"
community = "main"
appid = "{TEST_APPID}"
token = "{TEST_TOKEN}"
encoding_aes_key = "{TEST_AES_KEY}"
''', encoding="utf-8")
    return str(path)


def run(args, password="a-long-password-1", **env):
    return CliRunner().invoke(main, args, env={"LINLI_STAFF_PASSWORD": password, **env})


async def _accounts(db_url):
    db = Database(db_url)
    try:
        async with db.sessions() as session:
            rows = list(await session.execute(select(StaffAccount, Community.slug)
                                              .join(Community, Community.id == StaffAccount.community_id)))
            scopes = list(await session.scalars(select(StaffScope)))
            return rows, scopes
    finally:
        await db.dispose()


def test_add_the_first_admin(config_file, db_url):
    result = run(["staff", "add", "--config", config_file, "--username", "WangFang", "--name", "王芳",
                  "--role", "admin", "--community", "main"])
    assert result.exit_code == 0, result.output
    assert "created staff account wangfang (admin)" in result.output
    [(account, slug)], _ = asyncio.run(_accounts(db_url))
    assert (account.username, account.display_name, account.role, slug) == ("wangfang", "王芳", "admin", "main")
    assert account.password_hash.startswith("$argon2id$")
    assert "a-long-password-1" not in result.output
    listed = run(["staff", "list", "--config", config_file])
    assert listed.output.strip() == "wangfang\tadmin\tmain\tactive"


def test_password_is_prompted_when_not_in_the_environment(config_file, db_url):
    result = CliRunner().invoke(main, ["staff", "add", "--config", config_file, "--username", "li",
                                       "--role", "community_staff", "--community", "main"],
                                input="another-password-2\nanother-password-2\n", env={"LINLI_STAFF_PASSWORD": None})
    assert result.exit_code == 0, result.output
    assert "another-password-2" not in result.output


def test_street_staff_with_two_communities_and_a_grid_worker(config_file, db_url):
    assert run(["staff", "add", "--config", config_file, "--username", "jd", "--role", "street_staff",
                "--community", "main", "--community", "east"]).exit_code == 0
    missing = run(["staff", "add", "--config", config_file, "--username", "liu", "--role", "grid_worker",
                   "--community", "main", "--grid", "第一网格"])
    assert missing.exit_code != 0 and "no grid named '第一网格'" in missing.output

    async def add_grid():
        db = Database(db_url)
        async with db.sessions.begin() as session:
            community = await session.scalar(select(Community).where(Community.slug == "main"))
            session.add(Grid(community_id=community.id, name="第一网格"))
        await db.dispose()
    asyncio.run(add_grid())
    assert run(["staff", "add", "--config", config_file, "--username", "liu", "--role", "grid_worker",
                "--community", "main", "--grid", "第一网格"]).exit_code == 0
    rows, scopes = asyncio.run(_accounts(db_url))
    by_name = {a.username: a for a, _ in rows}
    assert sorted(s.community_id for s in scopes if s.staff_id == by_name["jd"].id) == [1, 2]
    assert [s.grid_id is not None for s in scopes if s.staff_id == by_name["liu"].id] == [True]


def test_bad_requests_say_why(config_file):
    weak = run(["staff", "add", "--config", config_file, "--username", "a", "--role", "admin", "--community", "main"],
               password="short")
    assert weak.exit_code != 0 and "too_short" in weak.output
    unknown = run(["staff", "add", "--config", config_file, "--username", "a", "--role", "admin",
                   "--community", "nowhere"])
    assert unknown.exit_code != 0 and "'nowhere' is not in the config" in unknown.output
    assert run(["staff", "add", "--config", config_file, "--username", "a", "--role", "admin",
                "--community", "main"]).exit_code == 0
    again = run(["staff", "add", "--config", config_file, "--username", "A", "--role", "admin", "--community", "main"])
    assert again.exit_code != 0 and "username_taken" in again.output
    no_grid = run(["staff", "add", "--config", config_file, "--username", "g", "--role", "grid_worker",
                   "--community", "main"])
    assert no_grid.exit_code != 0 and "grid_needed" in no_grid.output


def test_passwd_changes_the_hash_and_ends_sessions(config_file, db_url):
    assert run(["staff", "add", "--config", config_file, "--username", "a", "--role", "admin",
                "--community", "main"]).exit_code == 0
    before = asyncio.run(_accounts(db_url))[0][0][0].password_hash

    async def open_session():
        from datetime import datetime, timedelta, timezone

        from storage.staff import sessions
        db = Database(db_url)
        async with db.sessions.begin() as session:
            account = await session.scalar(select(StaffAccount))
            await sessions.start(session, account, now=datetime.now(timezone.utc), ip=None, user_agent=None,
                                 lifetime=sessions.Lifetime(timedelta(hours=1), timedelta(days=1)))
        async with db.sessions() as session:
            count = len(list(await session.scalars(select(StaffSession))))
        await db.dispose()
        return count
    assert asyncio.run(open_session()) == 1
    result = run(["staff", "passwd", "--config", config_file, "--username", "a"], password="a-new-password-3")
    assert result.exit_code == 0, result.output
    after = asyncio.run(_accounts(db_url))[0][0][0].password_hash
    assert after != before

    async def count_sessions():
        db = Database(db_url)
        async with db.sessions() as session:
            count = len(list(await session.scalars(select(StaffSession))))
        await db.dispose()
        return count
    assert asyncio.run(count_sessions()) == 0
