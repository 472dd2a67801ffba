"""Tasks in chat through the real endpoint: a ticket routed to the building's member household
arrives as a message; 接单 (the reporter hears a neighbour took it), 完成 (a photo attaches),
转交 (back to the grid worker), 我的任务 — and only the person it is assigned to may act."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.texts import members as t
from storage.ticket_models import Ticket, TicketAttachment, TicketEvent
from tests.members.conftest import add_household, file_ticket, load, outbox_to, texts_of


async def ticket_count(db) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Ticket))


async def last_event(db, ticket_id: int) -> TicketEvent:
    async with db.sessions() as session:
        return await session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                    .order_by(TicketEvent.id.desc()).limit(1))


async def test_the_task_arrives_as_a_message_with_number_place_description_and_deadline(services, place):
    ticket = await file_ticket(services, place)
    assert (ticket.status, ticket.assignee_resident_id) == ("assigned", place.people["o_member"])
    [task] = texts_of(await outbox_to(services.db, "o_member", "ticket_task"))
    assert ticket.number in task and "3栋" in task and "楼道灯不亮" in task and "前处理完成" in task


async def test_taking_a_task_tells_the_reporter_a_neighbour_took_it(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    reply = await chat.say(f"接单 {ticket.number}")
    assert reply.startswith(f"已接单：{ticket.number}（报修·照明）") and f"完成 {ticket.number}" in reply
    taken = await load(services.db, Ticket, ticket.id)
    assert taken.first_response_at == services.clock() and taken.assignee_resident_id == place.people["o_member"]
    event = await last_event(services.db, ticket.id)
    assert (event.actor_kind, event.actor_id, event.note) == ("member", place.people["o_member"], "接单")
    told = texts_of(await outbox_to(services.db, "o_li", "ticket_status"))
    assert told == [f"您的工单 {ticket.number}（报修·照明）楼栋党员中心户已接单，正在处理，"
                    f"预计{_expected(taken)}处理完。"]

    assert await chat.say(f"接单 {ticket.number}") == t.ALREADY_ACCEPTED.format(number=ticket.number)
    assert len(await outbox_to(services.db, "o_li", "ticket_status")) == 1  # told once


def _expected(ticket) -> str:
    from storage.tickets import expected_date_text

    return expected_date_text(ticket)


async def test_natural_phrasings_take_and_complete_the_only_open_task_after_asking(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert (await chat.say(f"{ticket.number} 我接了")).startswith("已接单")
    assert await chat.say("那个灯修好了") == t.CONFIRM_DONE.format(number=ticket.number, summary="报修·照明",
                                                               note="那个灯修好了")
    assert (await load(services.db, Ticket, ticket.id)).status == "assigned"  # not before the answer
    assert await chat.say("是") == t.DONE.format(number=ticket.number)
    done = await load(services.db, Ticket, ticket.id)
    assert done.status == "resolved"
    assert (await last_event(services.db, ticket.id)).note == "那个灯修好了"


async def test_saying_no_to_the_question_leaves_the_task_open(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert (await chat.say("完成了")).startswith(f"确认完成工单 {ticket.number}")
    assert await chat.say("不是") == t.DONE_CANCELLED.format(number=ticket.number)
    assert await chat.say("是") != t.DONE.format(number=ticket.number)  # the question is gone
    assert (await load(services.db, Ticket, ticket.id)).status == "assigned"


async def test_a_voice_message_that_sounds_done_is_asked_about_too(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    delivery = await chat.voice("灯已经修好了。")
    assert delivery.text.startswith(f"确认完成工单 {ticket.number}")
    assert await chat.say("对，修好了") == t.DONE.format(number=ticket.number)
    assert (await load(services.db, Ticket, ticket.id)).status == "resolved"


async def test_completing_records_the_note_asks_the_reporter_to_rate_and_a_photo_attaches(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    before = await ticket_count(services.db)
    assert await chat.say(f"完成 {ticket.number}") == t.DONE_NEEDS_NOTE.format(number=ticket.number)
    assert await chat.say(f"完成 {ticket.number} 已更换灯泡") == t.DONE.format(number=ticket.number)
    assert await ticket_count(services.db) == before  # a command, never a new report
    resolved = await load(services.db, Ticket, ticket.id)
    assert resolved.status == "resolved"
    event = await last_event(services.db, ticket.id)
    assert (event.to_status, event.note, event.actor_kind) == ("resolved", "已更换灯泡", "member")
    [notice] = texts_of(await outbox_to(services.db, "o_li", "ticket_status"))
    assert "处理情况：已更换灯泡" in notice and "满意" in notice

    delivery = await chat.send("image", {"PicUrl": "http://img.example/1.jpg", "MediaId": "MEDIA_1"})
    assert delivery.text == t.PHOTO_ATTACHED.format(number=ticket.number)
    async with services.db.sessions() as session:
        photos = list(await session.scalars(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)))
    assert [(p.kind, p.media_id, p.added_by_kind) for p in photos] == [("image", "MEDIA_1", "member")]


async def test_handing_back_goes_to_the_grid_worker_with_the_reason(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert await chat.say(f"转交 {ticket.number}") == t.TRANSFER_NEEDS_REASON.format(number=ticket.number)
    reply = await chat.say(f"转交 {ticket.number} 需要专业电工")
    assert reply == t.TRANSFERRED.format(number=ticket.number, to="网格员")
    moved = await load(services.db, Ticket, ticket.id)
    assert (moved.assignee_team, moved.assignee_resident_id) == ("grid_worker", place.people["o_grid"])
    assert (await last_event(services.db, ticket.id)).note == "转交：需要专业电工"
    [assigned] = texts_of(await outbox_to(services.db, "o_grid", "ticket_task"))[-1:]
    assert assigned.startswith(f"【工单交办】{ticket.number}") and "需要专业电工" in assigned
    assert await chat.say(f"完成 {ticket.number} 修好了") == t.TASK_NOT_YOURS.format(number=ticket.number)


async def test_only_the_assignee_acts_and_residents_get_an_explanation(wechat, services, place):
    ticket = await file_ticket(services, place)
    assert await wechat.resident("o_other").say(f"完成 {ticket.number} 修好了") == \
        t.TASK_NOT_YOURS.format(number=ticket.number)
    assert await wechat.resident("o_other").say(f"接单 {ticket.number}") == \
        t.TASK_NOT_YOURS.format(number=ticket.number)
    assert await wechat.resident("o_li").say(f"接单 {ticket.number}") == t.ROLE_ONLY.format(command="接单")
    assert await wechat.resident("o_li").say("我的任务") == t.ROLE_ONLY.format(command="我的任务")
    ours = ("“", "您手上", "已接单", "已记录", t.NO_TASKS)
    for everyday in ("转交给物业一封信", "灯修好了", "我接了", f"{ticket.number} 收到"):  # not commands from residents
        assert not (await wechat.resident("o_li").say(everyday) or "").startswith(ours)
    assert await wechat.resident("o_member").say("接单 20261123-9999") == \
        t.TASK_NOT_FOUND.format(number="20261123-9999")
    still = await load(services.db, Ticket, ticket.id)
    assert (still.status, still.first_response_at) == ("assigned", None)


async def test_another_member_household_of_the_building_may_take_it_until_someone_responds(wechat, services, place):
    from storage.tickets import link_member_household

    async with services.db.sessions.begin() as session:  # 王志强 also looks after 3栋
        await link_member_household(session, community_id=place.community_id, resident_id=place.people["o_other"],
                                    building_id=place.buildings["3栋"])
    ticket = await file_ticket(services, place)
    assert ticket.assignee_resident_id == place.people["o_member"]  # routing names the first
    assert (await wechat.resident("o_other").say(f"接单 {ticket.number}")).startswith("已接单")
    taken = await load(services.db, Ticket, ticket.id)
    assert taken.assignee_resident_id == place.people["o_other"]
    assert await wechat.resident("o_member").say(f"接单 {ticket.number}") == \
        t.TASK_NOT_YOURS.format(number=ticket.number)


async def test_my_tasks_lists_open_tickets_and_due_visits(wechat, services, place):
    first = await file_ticket(services, place)
    second = await file_ticket(services, place, description="3栋门禁坏了", category="door_access")
    await add_household(services, place)
    reply = await wechat.resident("o_member").say("我的任务")
    assert reply.startswith("您的待办：\n工单 2 件：\n")
    assert f"1. {first.number} 报修·照明｜3栋｜已交办" in reply and f"2. {second.number} 报修·门禁" in reply
    assert "走访 1 户：\n1. 王奶奶（独居老人）5栋301｜应于11月23日（周一）走访" in reply
    assert await wechat.resident("o_grid").say("我的任务") == t.MY_TASKS_EMPTY
    assert (await wechat.resident("o_member").say("灯修好了")).startswith("您手上有 2 个任务")


async def photos_of(db, ticket_id: int) -> list[str]:
    async with db.sessions() as session:
        return list(await session.scalars(select(TicketAttachment.media_id)
                                          .where(TicketAttachment.ticket_id == ticket_id)
                                          .order_by(TicketAttachment.id)))


async def test_a_photo_sent_before_completing_is_offered_to_the_task_not_read_as_a_report(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    before = await ticket_count(services.db)
    first = await chat.send("image", {"PicUrl": "http://img.example/1.jpg", "MediaId": "MEDIA_1"})
    assert first.text == t.PHOTO_OFFER.format(number=ticket.number, summary="报修·照明")
    assert await chat.say("是") == t.PHOTO_ATTACHED.format(number=ticket.number)
    assert await chat.say(f"完成 {ticket.number} 已更换灯泡") == t.DONE.format(number=ticket.number)
    assert await ticket_count(services.db) == before
    assert await photos_of(services.db, ticket.id) == ["MEDIA_1"]

    declined = await chat.send("image", {"PicUrl": "http://img.example/2.jpg", "MediaId": "MEDIA_2"})
    assert declined.text == t.PHOTO_ATTACHED.format(number=ticket.number)  # within the photo window: attached


async def test_a_photo_hours_after_completing_is_still_offered_to_that_ticket(wechat, services, place, clock):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    await chat.say(f"完成 {ticket.number} 已修好")
    clock.advance(hours=3)  # the photo window (the dialog) has closed
    late = await chat.send("image", {"PicUrl": "http://img.example/3.jpg", "MediaId": "MEDIA_3"})
    assert late.text == t.PHOTO_OFFER.format(number=ticket.number, summary="报修·照明")
    assert await chat.say("不是") == t.PHOTO_NOT_ATTACHED
    assert await photos_of(services.db, ticket.id) == []
    clock.advance(days=2)  # long after: an ordinary photo
    assert (await chat.send("image", {"PicUrl": "http://img.example/4.jpg", "MediaId": "MEDIA_4"})).text \
        .startswith("图片已收到")
