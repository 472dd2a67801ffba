"""Staff accounts and their scopes (which communities, which grids)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Community, Grid
from storage.staff_models import ROLES, StaffAccount, StaffScope


class AccountError(ValueError):
    """A bad account request; ``code`` names the problem (mapped to Chinese in bot/texts/console)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Reach:
    """What an account may see: communities, and (grid workers) only these grids in them."""

    community_ids: frozenset[int]
    grid_ids: frozenset[int] | None  # None: every grid of those communities


async def create(session: AsyncSession, *, username: str, display_name: str, password_hash: str, role: str,
                 community_id: int, now: datetime, grid_ids: list[int] = (),
                 more_community_ids: list[int] = ()) -> StaffAccount:
    """A new account with its scopes; a grid worker needs at least one grid of its community."""
    username = normalise_username(username)
    if role not in ROLES:
        raise AccountError("bad_role", role)
    if await by_username(session, username) is not None:
        raise AccountError("username_taken", username)
    if role == "grid_worker" and not grid_ids:
        raise AccountError("grid_needed")
    account = StaffAccount(username=username, display_name=display_name.strip() or username,
                           password_hash=password_hash, role=role, community_id=community_id, active=True,
                           created_at=now, password_changed_at=now)
    session.add(account)
    await session.flush()
    await set_scopes(session, account, grid_ids=list(grid_ids), more_community_ids=list(more_community_ids))
    return account


async def change_role(session: AsyncSession, account: StaffAccount, *, role: str, grid_ids: list[int],
                      more_community_ids: list[int]) -> None:
    """A new role and scope; the last active admin stays an admin (so someone can manage accounts)."""
    if role not in ROLES:
        raise AccountError("bad_role", role)
    if role == "grid_worker" and not grid_ids:
        raise AccountError("grid_needed")
    if account.role == "admin" and role != "admin" and account.active and await count_admins(session) <= 1:
        raise AccountError("last_admin")
    known = set(await session.scalars(select(Community.id).where(Community.id.in_(list(more_community_ids)))))
    if known != set(more_community_ids):
        raise AccountError("bad_community")
    account.role = role
    await set_scopes(session, account, grid_ids=list(grid_ids), more_community_ids=list(more_community_ids))


async def scope_ids(session: AsyncSession, account: StaffAccount) -> tuple[set[int], set[int]]:
    """The account's scope rows as (grid ids, community ids besides its home)."""
    rows = list(await session.scalars(select(StaffScope).where(StaffScope.staff_id == account.id)))
    return ({r.grid_id for r in rows if r.grid_id is not None},
            {r.community_id for r in rows if r.grid_id is None and r.community_id != account.community_id})


async def set_scopes(session: AsyncSession, account: StaffAccount, *, grid_ids: list[int],
                     more_community_ids: list[int] = ()) -> None:
    """Replace the account's scopes: its grids (grid workers) or its communities (everyone else)."""
    await session.execute(delete(StaffScope).where(StaffScope.staff_id == account.id))
    if account.role == "grid_worker":
        grids = list(await session.scalars(select(Grid).where(Grid.id.in_(grid_ids))))
        if len(grids) != len(set(grid_ids)) or any(g.community_id != account.community_id for g in grids):
            raise AccountError("bad_grid")
        session.add_all(StaffScope(staff_id=account.id, community_id=g.community_id, grid_id=g.id) for g in grids)
    else:
        for community_id in dict.fromkeys([account.community_id, *more_community_ids]):
            session.add(StaffScope(staff_id=account.id, community_id=community_id, grid_id=None))
    await session.flush()


def normalise_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise AccountError("bad_username", username)
    return username


async def by_username(session: AsyncSession, username: str) -> StaffAccount | None:
    return await session.scalar(select(StaffAccount).where(StaffAccount.username == username.strip().lower()))


async def reach(session: AsyncSession, account: StaffAccount) -> Reach:
    """Admins reach every community; the others what their scope rows say."""
    if account.role == "admin":
        ids = frozenset(await session.scalars(select(Community.id)))
        return Reach(ids, None)
    rows = list(await session.scalars(select(StaffScope).where(StaffScope.staff_id == account.id)))
    communities = frozenset(r.community_id for r in rows)
    if account.role == "grid_worker":
        return Reach(communities, frozenset(r.grid_id for r in rows if r.grid_id is not None))
    return Reach(communities, None)


async def in_community(session: AsyncSession, community_id: int) -> list[StaffAccount]:
    """Accounts whose home is this community, or who reach it through a scope."""
    scoped = select(StaffScope.staff_id).where(StaffScope.community_id == community_id)
    query = select(StaffAccount).where((StaffAccount.community_id == community_id) | StaffAccount.id.in_(scoped))
    return list(await session.scalars(query.order_by(StaffAccount.role, StaffAccount.username)))


async def grid_names_of(session: AsyncSession, account_ids: list[int]) -> dict[int, list[str]]:
    rows = await session.execute(select(StaffScope.staff_id, Grid.name).join(Grid, Grid.id == StaffScope.grid_id)
                                 .where(StaffScope.staff_id.in_(account_ids)).order_by(Grid.name))
    names: dict[int, list[str]] = {}
    for staff_id, name in rows.all():
        names.setdefault(staff_id, []).append(name)
    return names


async def count_admins(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(StaffAccount)
                                .where(StaffAccount.role == "admin", StaffAccount.active.is_(True))) or 0


async def communities(session: AsyncSession) -> list[Community]:
    """Every community of the deployment (an admin gives accounts further ones)."""
    return list(await session.scalars(select(Community).order_by(Community.id)))
