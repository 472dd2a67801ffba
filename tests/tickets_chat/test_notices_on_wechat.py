"""What reaches the (fake) WeChat API, not just the outbox: 督办 and 重办 alerts to the people who
act, and the reporter's status notice as a template message once their 48-hour window closed."""

from __future__ import annotations

import pytest

from bot import ticket_jobs
from bot.config import validate
from storage import tickets
from tests.conftest import make_settings
from tests.tickets_chat.conftest import conversation, only_ticket

LAMP = ["楼道灯坏了", "是", "跳过", "跳过", "确认"]
FIELDS = {"first": "title", "keyword1": "number", "keyword2": "status", "remark": "content"}


@pytest.fixture
def settings(db_url, fake_wechat):
    """The chat test settings, with template messages for the ticket notices."""
    teams = {"test": {"staff": ["o_staff"], "street": ["o_street"], "mediation": ["o_mediator"]}}
    data = make_settings(db_url, fake_wechat.base_url, tickets={"teams": teams}).model_dump()
    for kind in ("ticket_status", "ticket_task", "ticket_alert"):
        data["accounts"][0]["templates"][kind] = {"template_id": f"TPL_{kind.upper()}", "fields": FIELDS}
    return validate(data)


async def _staff_resolves(services, clock, ticket, note="已更换灯泡"):
    async with services.db.sessions.begin() as session:
        await tickets.transition(session, ticket_id=ticket.id, to="resolved", actor=tickets.Actor("staff", name="王芳"),
                                 now=clock(), settings=services.settings, note=note)


def _texts(fake_wechat, openid: str) -> list[str]:
    return [m["content"] for m in fake_wechat.sent_to(openid) if m["kind"] == "text"]


async def test_the_reporter_gets_a_template_once_the_window_closed(wechat, db, place, services, clock, worker,
                                                                   fake_wechat):
    await conversation(wechat.resident("o_zhang"), *LAMP)
    ticket = await only_ticket(db)
    clock.advance(hours=49)  # the resident has not written since
    await _staff_resolves(services, clock, ticket)
    await worker.drain()
    [sent] = fake_wechat.sent_to("o_zhang")
    assert (sent["kind"], sent["template_id"]) == ("template", "TPL_TICKET_STATUS")
    assert sent["data"]["keyword1"]["value"] == ticket.number
    assert sent["data"]["keyword2"]["value"] == "已化解"
    assert sent["data"]["remark"]["value"].startswith(f"您的工单 {ticket.number}（报修·照明）已处理完成。处理情况：已更换灯泡")


async def test_inside_the_window_the_reporter_gets_a_customer_service_message(wechat, db, place, services, clock,
                                                                              worker, fake_wechat):
    await conversation(wechat.resident("o_zhang"), *LAMP)
    ticket = await only_ticket(db)
    clock.advance(hours=47)
    await _staff_resolves(services, clock, ticket)
    await worker.drain()
    assert _texts(fake_wechat, "o_zhang") == [
        f"您的工单 {ticket.number}（报修·照明）已处理完成。处理情况：已更换灯泡\n请您评价：回复“满意”“基本满意”或“不满意”。"]


async def test_the_reopen_alert_with_the_residents_reason_reaches_staff(wechat, db, place, services, clock, worker,
                                                                        fake_wechat):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *LAMP)
    ticket = await only_ticket(db)
    clock.advance(hours=5)
    await _staff_resolves(services, clock, ticket)
    await chat.say("不满意，灯还是不亮")
    await worker.drain()
    alerts = [text for text in _texts(fake_wechat, "o_staff") if text.startswith("【重办】")]
    assert len(alerts) == 1
    assert alerts[0].startswith(f"【重办】居民对工单 {ticket.number}（报修·照明）的处理结果不满意，工单已重办，请重新处理。\n"
                                "居民说：灯还是不亮\n地点：3栋2单元502\n")
    # the grid worker who has the ticket never wrote to the account: a template message
    grid = [m for m in fake_wechat.sent_to("o_grid") if m["kind"] == "template"
            and m["data"]["keyword1"]["value"] == ticket.number and "【重办】" in m["data"]["remark"]["value"]]
    assert [m["template_id"] for m in grid] == ["TPL_TICKET_ALERT"]


async def test_the_supervision_alert_reaches_staff(wechat, db, place, services, clock, worker, fake_wechat):
    await conversation(wechat.resident("o_zhang"), *LAMP)
    ticket = await only_ticket(db)
    clock.now = ticket.respond_due_at  # Tuesday 10:00: nobody has responded in 24 hours
    clock.advance(minutes=30)
    assert await ticket_jobs.supervise_overdue(services) == 1
    await worker.drain()
    alerts = [text for text in _texts(fake_wechat, "o_staff") if text.startswith("【督办】")]
    assert alerts == [f"【督办】工单 {ticket.number}（报修·照明）已超期：应于11月24日（周二）10:00前响应。\n"
                      "当前状态：已交办，承办：网格员。\n地点：3栋2单元502\n请尽快处理并反馈。"]
    status = [m for m in fake_wechat.sent_to("o_zhang")]
    assert [m.get("content") for m in status] == [
        f"您的工单 {ticket.number}（报修·照明）处理超时，社区已督办，会尽快为您处理。"]
