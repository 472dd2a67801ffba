"""Notice templates kept per community in the console, editable by admins, and the outbox's
45015 fallback reading them before the config (checked on the fake WeChat API)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Resident
from storage.staff_models import NoticeTemplate, StaffAudit
from tests.console.conftest import logged_in

FORM = {"template_id": "TPL_CONSOLE_REPLY", "url": "", "field_0": "thing1", "source_0": "content",
        "field_1": "first", "source_1": "title"}


async def test_admin_sets_and_resets_a_template(console, place, db):
    await logged_in(console, "admin")
    page = await console.page("/console/manage/templates?edit=reply")
    assert 'action="/console/manage/templates/reply"' in page and "TPL_REPLY" in page  # prefilled from the config
    assert (await console.post("/console/manage/templates/reply", FORM)).status == 303
    page = await console.page("/console/manage/templates")
    assert "TPL_CONSOLE_REPLY" in page and "thing1←内容" in page and "控制台设置" in page
    async with db.sessions() as session:
        row = await session.scalar(select(NoticeTemplate))
        audit = await session.scalar(select(StaffAudit).where(StaffAudit.action == "template.save"))
    assert (row.community_id, row.notice_kind, row.fields) == (place.community_id, "reply",
                                                                {"thing1": "content", "first": "title"})
    assert audit.detail["template_id"] == "TPL_CONSOLE_REPLY"
    assert (await console.post("/console/manage/templates/reply/delete")).status == 303
    assert "TPL_CONSOLE_REPLY" not in await console.page("/console/manage/templates")
    assert (await console.post("/console/manage/templates/reply/delete")).status == 404


async def test_bad_templates_are_refused_in_chinese(console, place, db):
    await logged_in(console, "admin")
    for form, words in ((dict(FORM, template_id="有空格 的id"), "模板ID只能"),
                        ({"template_id": "TPL_X"}, "至少要填一个模板字段"),
                        (dict(FORM, field_0="1abc"), "字母开头"),
                        (dict(FORM, source_0="password"), "选择要填入"),
                        (dict(FORM, url="javascript:alert(1)"), "https://")):
        response = await console.post("/console/manage/templates/reply", form)
        assert response.status == 400 and words in await response.text(), form
    assert (await console.post("/console/manage/templates/nonsense", FORM)).status == 404
    async with db.sessions() as session:
        assert await session.scalar(select(NoticeTemplate)) is None


async def test_only_admins_change_templates(console, new_console, place, db):
    staff = await logged_in(console, "staff")
    page = await staff.page("/console/manage/templates?edit=reply")
    assert "TPL_REPLY" in page and 'action="/console/manage/templates/reply"' not in page  # read-only
    assert (await staff.post("/console/manage/templates/reply", FORM)).status == 403
    grid1 = await logged_in(await new_console(), "grid1")
    assert (await grid1.get("/console/manage/templates")).status == 403
    assert (await grid1.post("/console/manage/templates/reply", FORM)).status == 403
    async with db.sessions() as session:
        assert await session.scalar(select(NoticeTemplate)) is None


async def test_the_window_fallback_uses_the_edited_template(console, place, db, worker, fake_wechat, services):
    from tests.console.conftest import make_ticket

    ticket = await make_ticket(services, place)
    async with db.sessions.begin() as session:
        session.add(Resident(community_id=place.other_community_id, openid="o_far", name="远方", subscribed=True))
    await logged_in(console, "admin")
    assert (await console.post("/console/manage/templates/reply", FORM)).status == 303
    fake_wechat.outside_window.update({"o_zhang", "o_far"})
    reply = await console.post(f"/console/tickets/{ticket.id}/reply", {
        "text": "电工下午到", "form_key": "tpl1", "resident_id": str(place.residents["o_zhang"])})
    assert reply.status == 303
    await worker.drain()
    [sent] = [m for m in fake_wechat.sent_to("o_zhang") if m["kind"] == "template"]
    assert sent["template_id"] == "TPL_CONSOLE_REPLY"
    assert sent["data"]["thing1"] == {"value": "电工下午到"}
    # the other community has no template of its own: the config's is used there
    from storage.staff import replies
    async with db.sessions.begin() as session:
        await replies.send(session, community_id=place.other_community_id, account="other", openid="o_far",
                           text="你好", now=services.clock(), form_key="tpl2")
    await worker.drain()
    [far] = fake_wechat.sent_to("o_far")
    assert far["kind"] == "template" and far["template_id"] == "TPL_REPLY"
