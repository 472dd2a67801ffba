"""The demo's console login: one admin account, with a random password kept beside the demo's
data (never in the repo), created on the first run and left alone afterwards."""

from __future__ import annotations

import secrets
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff import accounts, passwords

USERNAME = "demo-admin"
PASSWORD_FILE = "console-admin-password.txt"


def demo_password(data_dir: Path) -> str:
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12) + "\n", encoding="utf-8")
        with suppress(OSError):
            path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


async def ensure_admin(session: AsyncSession, *, community_id: int, password: str, now: datetime) -> None:
    """Create the demo admin if missing (its password is whatever the file says at creation),
    and the demo's canned replies."""
    if await accounts.by_username(session, USERNAME) is None:
        await accounts.create(session, username=USERNAME, display_name="演示管理员", role="admin",
                              password_hash=await passwords.hash_async(password), community_id=community_id, now=now)
    await ensure_canned(session, community_id=community_id, now=now)


CANNED = (
    ("已派人处理", "您好，您反映的问题我们已安排工作人员处理，预计今天内上门，请保持电话畅通。"),
    ("需要更多信息", "您好，为了尽快处理，请补充一下具体位置（几栋几单元）和现场照片。"),
    ("已处理完毕", "您好，问题已处理完毕。如还有问题，请随时留言，感谢您对社区工作的支持！"),
)


async def ensure_canned(session: AsyncSession, *, community_id: int, now: datetime) -> None:
    """A few canned replies, so the demo's reply box has something to offer."""
    from storage.staff import canned

    existing = {r.title for r in await canned.all_of(session, community_id)}
    for title, body in CANNED:
        if title not in existing:
            await canned.save(session, community_id=community_id, title=title, body=body, by=USERNAME, now=now)
