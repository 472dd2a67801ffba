"""`linli members …`: the staff side of member households until the console has pages for it.

    linli members code --role member_household --building 3栋 --building 4栋 --name 张建国
                                            (a one-time 6-digit code; the person sends "绑定 123456")
    linli members grant --openid o_x --role grid_worker --grid 第一网格
    linli members revoke --openid o_x --role member_household
    linli members list                       (role holders, what they look after, usable codes)
    linli members care add --name 王奶奶 --category elderly_alone --building 5栋 --room 301 \\
        --member o_x --every weekly --start 2026-11-24 [--hour 9] [--quiet 22:00-08:00]
    linli members care assign 3 --member o_y | care remove 3 | care list

Times are Asia/Shanghai; staff read the output, so it is in Chinese.
"""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_support import community_option, config_option, run_in_community
from bot.config import Settings
from bot.texts import members as t
from storage.member_models import CareHousehold
from storage.members import care, codes, roles, visits
from storage.models import Building, Grid, Resident
from storage.reminders import LOCAL

role_option = click.option("--role", type=click.Choice(roles.ROLES), required=True)
buildings_option = click.option("--building", "buildings", multiple=True, help="A building it looks after (repeat).")
grids_option = click.option("--grid", "grids", multiple=True, help="A grid it works (repeat).")

async def _resident(session: AsyncSession, community_id: int, openid: str) -> Resident:
    found = await session.scalar(select(Resident).where(Resident.community_id == community_id,
                                                        Resident.openid == openid))
    if found is None:
        raise LookupError(f"找不到 {openid}：此人需先关注公众号并发过消息；或发一个绑定码给他（members code）。")
    return found


async def _ids(session: AsyncSession, community_id: int, model, names: tuple[str, ...]) -> list[int]:
    """Building or grid names → ids; an unknown name stops the command."""
    if not names:
        return []
    rows = dict((await session.execute(select(model.name, model.id).where(model.community_id == community_id,
                                                                          model.name.in_(names)))).all())
    missing = [name for name in names if name not in rows]
    if missing:
        raise LookupError(f"没有这些{'楼栋' if model is Building else '网格'}：{'、'.join(missing)}")
    return [rows[name] for name in names]


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


@click.group()
def members() -> None:
    """Member households (党员中心户), grid workers and care households (走访)."""


@members.command("code")
@config_option
@community_option
@role_option
@buildings_option
@grids_option
@click.option("--name", default=None, help="Whom the code is for (shown in listings).")
@click.option("--by", "actor", default=None, help="Your name, kept with the code.")
def issue_code(config_path, community, role, buildings, grids, name, actor) -> None:
    """Issue a one-time binding code for a role."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        code = await codes.issue(session, community_id=community_id, role=role, now=now, settings=settings.members,
                                 building_ids=await _ids(session, community_id, Building, buildings),
                                 grid_ids=await _ids(session, community_id, Grid, grids), label=name,
                                 issued_by=actor)
        return (f"绑定码 {code.code}（{t.ROLE_NAMES[role]}，{_local(code.expires_at)} 前有效，只能用一次）\n"
                f"请对方在公众号里发送：绑定 {code.code}")
    run_in_community(config_path, community, work)


@members.command()
@config_option
@community_option
@click.option("--openid", required=True)
@role_option
@buildings_option
@grids_option
def grant(config_path, community, openid, role, buildings, grids) -> None:
    """Give a resident who already wrote to the account a role directly."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        resident = await _resident(session, community_id, openid)
        await roles.grant(session, resident=resident, role=role,
                          building_ids=await _ids(session, community_id, Building, buildings),
                          grid_ids=await _ids(session, community_id, Grid, grids))
        return f"{resident.name or openid} 已登记为{t.ROLE_NAMES[role]}"
    run_in_community(config_path, community, work)


@members.command()
@config_option
@community_option
@click.option("--openid", required=True)
@role_option
def revoke(config_path, community, openid, role) -> None:
    """Take a role away: its buildings or grids, its reminders, its care households' visits."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        resident = await _resident(session, community_id, openid)
        orphans = await visits.households_of(session, resident.id) if role == roles.MEMBER else []
        stopped = await roles.revoke(session, resident=resident, role=role, now=now, settings=settings)
        note = f"；{len(orphans)} 户重点户需另派走访人（members care assign）" if orphans else ""
        return f"{resident.name or openid} 不再是{t.ROLE_NAMES[role]}，停止了 {stopped} 条提醒{note}"
    run_in_community(config_path, community, work)


@members.command("list")
@config_option
@community_option
def list_members(config_path, community) -> None:
    """Role holders, what they look after, and the binding codes still usable."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        lines = []
        for person in await roles.holders(session, community_id=community_id):
            scope = []
            if roles.has_role(person, roles.MEMBER):
                names = await roles.building_names(session, await roles.building_ids_of(session, person))
                scope.append(f"党员中心户：{'、'.join(names) or '未指定楼栋'}")
            if roles.has_role(person, roles.GRID_WORKER):
                grids = await roles.grid_ids_of(session, person)
                names = list(await session.scalars(select(Grid.name).where(Grid.id.in_(grids))
                                                   .order_by(Grid.id))) if grids else []
                scope.append(f"网格员：{'、'.join(names) or '未指定网格'}")
            lines.append(f"{person.name or '（未登记姓名）'} {person.openid}｜{'；'.join(scope)}")
        for code in await codes.listing(session, community_id=community_id, now=now):
            lines.append(f"未使用的绑定码 {code.code}（{t.ROLE_NAMES[code.role]}，{code.label or ''}，"
                         f"{_local(code.expires_at)} 前有效）")
        return "\n".join(lines) or "还没有党员中心户或网格员。"
    run_in_community(config_path, community, work)


# ---- care households ------------------------------------------------------------------------

@members.group("care")
def care_group() -> None:
    """Care households (重点户) and their visit schedules."""


def _quiet(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    start, _, end = value.partition("-")
    return start.strip(), end.strip()


@care_group.command("add")
@config_option
@community_option
@click.option("--name", required=True, help="How the visitor names them, e.g. 王奶奶.")
@click.option("--category", type=click.Choice(care.CATEGORIES), required=True)
@click.option("--building", default=None)
@click.option("--unit", default=None)
@click.option("--room", default=None)
@click.option("--phone", default=None)
@click.option("--note", default=None)
@click.option("--member", "member_openid", default=None, help="Openid of the member household who visits.")
@click.option("--every", "every", required=True, help="weekly | fortnightly | monthly | RRULE:FREQ=…")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First visit day (default: today).")
@click.option("--hour", type=click.IntRange(0, 23), default=None, help="Local hour of the reminder.")
@click.option("--quiet", default=None, help='Quiet hours, e.g. "21:00-08:00" (default: [reminders]).')
def care_add(config_path, community, name, category, building, unit, room, phone, note, member_openid, every, start,
             hour, quiet) -> None:
    """Register a care household with its visit schedule."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        member = await _resident(session, community_id, member_openid) if member_openid else None
        building_ids = await _ids(session, community_id, Building, (building,) if building else ())
        anchor = start.date() if start else visits.local_today(now)
        quiet_start, quiet_end = _quiet(quiet)
        household = await care.add_household(
            session, community_id=community_id, name=name, category=category, member=member,
            building_id=building_ids[0] if building_ids else None, unit=unit, room=room, phone=phone, note=note,
            plan=care.Plan(every, anchor, hour, quiet_start, quiet_end), now=now, settings=settings)
        return await _describe(session, household, "已登记")
    run_in_community(config_path, community, work)


async def _household(session: AsyncSession, community_id: int, household_id: int) -> CareHousehold:
    household = await session.get(CareHousehold, household_id)
    if household is None or household.community_id != community_id or not household.active:
        raise LookupError(f"没有编号为 {household_id} 的重点户")
    return household


async def _describe(session: AsyncSession, household: CareHousehold, verb: str) -> str:
    info = await visits.facts(session, household)
    upcoming = await care.next_visit(session, household.id)
    nxt = f"，下次走访 {visits.day_text(upcoming.due_date)}" if upcoming else ""
    return f"{verb}重点户 {household.id}：{info.household}（{info.category}，{info.place}）{nxt}"


@care_group.command("assign")
@config_option
@community_option
@click.argument("household_id", type=int)
@click.option("--member", "member_openid", default=None, help="Openid of the new visitor (omit: nobody for now).")
def care_assign(config_path, community, household_id, member_openid) -> None:
    """Hand a care household to another member household."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        household = await _household(session, community_id, household_id)
        member = await _resident(session, community_id, member_openid) if member_openid else None
        await care.assign_member(session, household, member, now=now, settings=settings)
        visitor = (member.name or member.openid) if member else "（暂无人）"
        return await _describe(session, household, f"已改由{visitor}走访")
    run_in_community(config_path, community, work)


@care_group.command("remove")
@config_option
@community_option
@click.argument("household_id", type=int)
def care_remove(config_path, community, household_id) -> None:
    """Stop visiting a care household (its reminders stop at once)."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        household = await _household(session, community_id, household_id)
        stopped = await care.remove_household(session, household, now=now)
        return f"已移除重点户 {household.id}（{household.name}），停止了 {stopped} 条提醒"
    run_in_community(config_path, community, work)


@care_group.command("list")
@config_option
@community_option
def care_list(config_path, community) -> None:
    """Care households, who visits them, how often, and the next visit."""
    async def work(session: AsyncSession, community_id: int, now: datetime, settings: Settings) -> str:
        lines = []
        for household, schedule, visit in await care.households(session, community_id=community_id):
            info = await visits.facts(session, household)
            member = await session.get(Resident, household.member_resident_id) if household.member_resident_id else None
            due = f"{visits.day_text(visit.due_date)}（{'逾期' if visit.status == 'missed' else '待走访'}）" \
                if visit else "无"
            lines.append(f"{household.id}. {info.household}（{info.category}，{info.place}）｜走访人："
                         f"{(member.name or member.openid) if member else t.NO_MEMBER}｜周期："
                         f"{schedule.recurrence if schedule else '-'}｜下次：{due}")
        return "\n".join(lines) or "还没有登记重点户。"
    run_in_community(config_path, community, work)
