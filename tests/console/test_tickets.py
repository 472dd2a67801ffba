"""The inbox and the ticket page: filters, search, sorting, paging, the page's parts, and actions."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage import tickets
from storage.models import MessageLog, OutboxMessage, Resident
from storage.staff_models import CannedReply, StaffAudit
from storage.ticket_models import Ticket, TicketEvent
from tests.console.conftest import logged_in, make_ticket


def numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/console/tickets/\d+">(\d{8}-\d{4})</a>', html)


async def test_inbox_lists_open_tickets_newest_first(console, place, services, clock):
    first = await make_ticket(services, place, description="3栋楼道灯坏了")
    clock.advance(minutes=5)
    second = await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                               category="water_drain")
    await logged_in(console, "staff")
    page = await console.page("/console/tickets")
    assert numbers(page) == [second.number, first.number]
    assert "共 2 个工单" in page and "6栋门口漏水" in page
    oldest_first = await console.page("/console/tickets?sort=created")
    assert numbers(oldest_first) == [first.number, second.number]


async def test_sorting_by_grade_both_ways(console, place, services, clock):
    blue = await make_ticket(services, place, description="3栋楼道灯坏了")
    clock.advance(minutes=1)
    red = await make_ticket(services, place, description="电梯困人", category="elevator", grade="red")
    clock.advance(minutes=1)
    yellow = await make_ticket(services, place, description="楼上装修太吵", kind="complaint", category="noise",
                               grade="yellow")
    await logged_in(console, "staff")
    assert numbers(await console.page("/console/tickets?sort=grade")) == [red.number, yellow.number, blue.number]
    page = await console.page("/console/tickets?sort=-grade")
    assert numbers(page) == [blue.number, yellow.number, red.number]
    assert "sort=grade" in page and "等级 ↓" in page  # the header toggles back


def test_every_sort_the_headers_offer_is_known():
    import re as re_
    from pathlib import Path

    from storage.staff.inbox import SORTS

    template = (Path(__file__).parents[2] / "bot/console/templates/tickets/_results.html").read_text("utf-8")
    offered = re_.findall(r'sort_link\("([^"]+)"', template)
    assert offered
    for key in offered:
        flipped = key[1:] if key.startswith("-") else "-" + key
        assert key in SORTS and flipped in SORTS, key


async def test_filters_search_and_htmx_fragment(console, place, services, clock):
    lamp = await make_ticket(services, place, description="3栋楼道灯坏了")
    leak = await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                             category="water_drain")
    noise = await make_ticket(services, place, description="楼上装修太吵", kind="complaint", category="noise",
                              grade="yellow")
    await logged_in(console, "staff")
    assert numbers(await console.page(f"/console/tickets?grid={place.grids['第二网格']}")) == [leak.number]
    assert numbers(await console.page("/console/tickets?grade=yellow")) == [noise.number]
    assert numbers(await console.page("/console/tickets?kind=complaint")) == [noise.number]
    assert numbers(await console.page("/console/tickets?category=lighting")) == [lamp.number]
    assert numbers(await console.page("/console/tickets?q=漏水")) == [leak.number]
    assert numbers(await console.page("/console/tickets?q=王志强")) == [leak.number]  # the reporter's name
    assert numbers(await console.page(f"/console/tickets?q={lamp.number}")) == [lamp.number]
    assert numbers(await console.page("/console/tickets?q=%25")) == []  # a LIKE wildcard is just a character
    fragment = await console.get("/console/tickets?grade=yellow", headers={"HX-Request": "true", "HX-Target": "results"})
    body = await fragment.text()
    assert fragment.status == 200 and "<html" not in body and noise.number in body and lamp.number not in body
    assert numbers(await console.page("/console/tickets?grade=nonsense&sort=evil&page=-3")) == []


async def test_search_ignores_letter_case_on_every_database(console, place, services):
    """SQLite's LIKE ignores ASCII case and PostgreSQL's does not: the search must not depend on it."""
    wifi = await make_ticket(services, place, description="3栋WiFi信号很差", kind="complaint", category=None)
    await logged_in(console, "staff")
    assert numbers(await console.page("/console/tickets?q=wifi")) == [wifi.number]
    assert numbers(await console.page("/console/tickets?q=WIFI")) == [wifi.number]


async def test_assignee_status_and_overdue_filters(console, place, services, clock):
    lamp = await make_ticket(services, place)  # blue, 3栋: the member household o_mh takes it
    red = await make_ticket(services, place, description="电梯困人", category="elevator", grade="red")
    await logged_in(console, "staff")
    assert numbers(await console.page(f"/console/tickets?assignee=r{place.residents['o_mh']}")) == [lamp.number]
    assert numbers(await console.page("/console/tickets?assignee=tstaff")) == [red.number]
    assert numbers(await console.page("/console/tickets?overdue=1")) == []
    clock.advance(hours=3)  # red: resolve within 2 h
    page = await console.page("/console/tickets?overdue=1")
    assert numbers(page) == [red.number] and "超期" in page
    assert numbers(await console.page("/console/tickets?status=assigned")) == [red.number, lamp.number]
    assert numbers(await console.page("/console/tickets?status=closed")) == []


async def test_paging(console, place, services, clock):
    services.settings.console.page_size = 5
    made = []
    for n in range(7):
        made.append(await make_ticket(services, place, description=f"第{n}个问题", category=None))
        clock.advance(minutes=1)
    await logged_in(console, "staff")
    first, second = await console.page("/console/tickets"), await console.page("/console/tickets?page=2")
    assert numbers(first) == [t.number for t in reversed(made)][:5] and "第 1 / 2 页" in first
    assert numbers(second) == [made[1].number, made[0].number] and "上一页" in second


async def test_ticket_page_shows_thread_photos_events_and_sla(console, place, services, db):
    photo = tickets.AttachmentDraft(kind="image", media_id="m1", url="http://mmbiz.qpic.cn/lamp.jpg")
    ticket = await make_ticket(services, place, attachments=[photo])
    async with db.sessions.begin() as session:
        session.add(MessageLog(community_id=place.community_id, openid="o_zhang", direction="in", msg_type="text",
                               content="3栋楼道灯坏了，晚上很黑", created_at=services.clock()))
    await logged_in(console, "staff")
    page = await console.page(f"/console/tickets/{ticket.id}")
    assert ticket.number in page and "3栋楼道灯坏了，晚上很黑" in page
    assert '<img src="http://mmbiz.qpic.cn/lamp.jpg"' in page and 'referrerpolicy="no-referrer"' in page
    assert "提交" in page and "按规则定级" in page  # the event log
    assert "办结期限" in page and "还剩" in page and "响应期限" in page  # the SLA clock
    assert "张建国（首报）" in page and "李秀英" in page  # reporter; assignee (member household)


async def test_script_in_a_complaint_is_shown_as_text(console, place, services, db):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ticket = await make_ticket(services, place, description=evil, category=None)
    async with db.sessions.begin() as session:
        session.add(MessageLog(community_id=place.community_id, openid="o_zhang", direction="in", msg_type="text",
                               content=evil, created_at=services.clock()))
        resident = await session.scalar(select(Resident).where(Resident.openid == "o_zhang"))
        resident.name = "<b>张</b>"
    await logged_in(console, "staff")
    for path in (f"/console/tickets/{ticket.id}", "/console/tickets"):
        page = await console.page(path)
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>张</b>" not in page
        assert "&lt;script&gt;alert(" in page


async def test_reply_goes_through_the_outbox_and_shows_its_delivery(console, place, services, db, worker,
                                                                    fake_wechat):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    page = await console.page(f"/console/tickets/{ticket.id}")
    form_key = re.search(r'name="form_key" value="([0-9a-f]+)"', page).group(1)
    form = {"text": "您好，已安排电工今天下午维修。", "resident_id": str(place.residents["o_zhang"]), "form_key": form_key}
    response = await console.post(f"/console/tickets/{ticket.id}/reply", form)
    assert response.status == 303 and "done=replied" in response.headers["Location"]
    again = await console.post(f"/console/tickets/{ticket.id}/reply", form)  # a double click
    assert again.status == 303
    await worker.drain()
    assert [m["content"] for m in fake_wechat.sent_to("o_zhang") if m["kind"] == "text"] == [
        "您好，已安排电工今天下午维修。"]
    async with db.sessions() as session:
        out = list(await session.scalars(select(MessageLog).where(MessageLog.direction == "out",
                                                                  MessageLog.openid == "o_zhang")))
        queued = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.notice_kind == "reply")))
        notes = list(await session.scalars(select(TicketEvent).where(TicketEvent.action == "note")))
        audit = list(await session.scalars(select(StaffAudit).where(StaffAudit.action == "ticket.reply")))
        fresh = await session.get(Ticket, ticket.id)
    assert len(out) == 1 and out[0].outbox_id == queued[0].id and len(queued) == 1
    assert [n.note for n in notes] == ["回复张建国：您好，已安排电工今天下午维修。"] and notes[0].actor_kind == "staff"
    assert fresh.first_response_at == services.clock() and len(audit) == 1
    page = await console.page(f"/console/tickets/{ticket.id}")
    assert "您好，已安排电工今天下午维修。" in page and "已送达微信" in page


async def test_reply_refusals(console, place, services, db):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    empty = await console.post(f"/console/tickets/{ticket.id}/reply",
                               {"text": " ", "resident_id": str(place.residents["o_zhang"])})
    assert empty.status == 400 and "回复内容不能为空" in await empty.text()
    long = await console.post(f"/console/tickets/{ticket.id}/reply",
                              {"text": "长" * 601, "resident_id": str(place.residents["o_zhang"])})
    assert long.status == 400 and "最多600字" in await long.text()
    stranger = await console.post(f"/console/tickets/{ticket.id}/reply",
                                  {"text": "你好", "resident_id": str(place.residents["o_wang"])})
    assert stranger.status == 400 and "只能回复这个工单的报告人" in await stranger.text()
    async with db.sessions.begin() as session:
        (await session.get(Resident, place.residents["o_zhang"])).subscribed = False
    gone = await console.post(f"/console/tickets/{ticket.id}/reply",
                              {"text": "你好", "resident_id": str(place.residents["o_zhang"])})
    assert gone.status == 409 and "已取消关注" in await gone.text()
    async with db.sessions() as session:
        assert await session.scalar(select(OutboxMessage).where(OutboxMessage.notice_kind == "reply")) is None


async def test_assign_status_and_note(console, place, services, db):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    assigned = await console.post(f"/console/tickets/{ticket.id}/assign",
                                  {"assignee": "tmediation", "note": "需要调解", "version": str(ticket.version)})
    assert assigned.status == 303
    async with db.sessions() as session:
        fresh = await session.get(Ticket, ticket.id)
    assert (fresh.assignee_team, fresh.assignee_resident_id) == ("mediation", None)
    resolved = await console.post(f"/console/tickets/{ticket.id}/status",
                                  {"to": "resolved", "note": "已更换灯泡", "version": str(fresh.version)})
    assert resolved.status == 303
    noted = await console.post(f"/console/tickets/{ticket.id}/note", {"note": "居民很满意"})
    assert noted.status == 303
    async with db.sessions() as session:
        fresh = await session.get(Ticket, ticket.id)
        events = list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                            .order_by(TicketEvent.id)))
        actions = [r.action for r in await session.scalars(select(StaffAudit).order_by(StaffAudit.id))]
    assert fresh.status == "resolved"
    assert [(e.action, e.to_status, e.actor_name) for e in events[-3:]] == [
        ("assign", "assigned", "STAFF"), ("transition", "resolved", "STAFF"), ("note", None, "STAFF")]
    assert events[-1].note == "【内部备注】居民很满意"
    assert actions[-3:] == ["ticket.assign", "ticket.status", "ticket.note"]


async def test_ticket_errors_are_shown_in_chinese(console, place, services):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    illegal = await console.post(f"/console/tickets/{ticket.id}/status", {"to": "closed", "version": str(ticket.version)})
    assert illegal.status == 409 and "不能改为“已办结”" in await illegal.text()
    stale = await console.post(f"/console/tickets/{ticket.id}/status",
                               {"to": "resolved", "version": str(ticket.version - 1)})
    assert stale.status == 409 and "已被其他人修改" in await stale.text()
    nobody = await console.post(f"/console/tickets/{ticket.id}/assign", {"assignee": "x"})
    assert nobody.status == 400 and "请选择承办人" in await nobody.text()
    empty = await console.post(f"/console/tickets/{ticket.id}/note", {"note": ""})
    assert empty.status == 400


async def test_two_staff_on_one_ticket_one_wins(console, new_console, place, services, db):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    other = await logged_in(await new_console(), "admin")
    version = str(ticket.version)
    first = await console.post(f"/console/tickets/{ticket.id}/status", {"to": "resolved", "version": version})
    second = await other.post(f"/console/tickets/{ticket.id}/assign", {"assignee": "tstaff", "version": version})
    assert first.status == 303 and second.status == 409
    assert "已被其他人修改" in await second.text()


async def test_canned_replies_are_offered(console, place, services, db):
    ticket = await make_ticket(services, place)
    async with db.sessions.begin() as session:
        session.add(CannedReply(community_id=place.community_id, title="已派人", body="您好，已安排人员上门。"))
        session.add(CannedReply(community_id=place.other_community_id, title="别的社区", body="不该出现"))
    await logged_in(console, "staff")
    page = await console.page(f"/console/tickets/{ticket.id}")
    assert '<option value="您好，已安排人员上门。">已派人</option>' in page and "不该出现" not in page
