"""The dashboard's figures and charts, its scope, and the CSV / Excel exports."""

from __future__ import annotations

import csv
import io
import json
import re

from openpyxl import load_workbook
from sqlalchemy import select

from storage import tickets
from storage.staff_models import StaffAudit
from tests.console.conftest import logged_in, make_ticket


def chart(page: str, index: int) -> dict:
    specs = re.findall(r"data-chart='([^']*)'", page)
    return json.loads(specs[index].replace("&#34;", '"'))


async def test_figures_rates_and_overdue(console, place, services, clock, db):
    lamp = await make_ticket(services, place)
    clock.advance(days=1)
    leak = await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                             category="water_drain")
    red = await make_ticket(services, place, description="电梯困人", category="elevator", grade="red")
    async with db.sessions.begin() as session:  # the red one handled and resolved in time
        staff = tickets.Actor("staff", 1, "王芳")
        await tickets.transition(session, ticket_id=red.id, to="resolved", actor=staff, now=clock.now,
                                 settings=services.settings, note="已解救")
        await tickets.add_note(session, ticket_id=lamp.id, actor=staff, note="已联系电工", now=clock.now)
    clock.advance(days=1, hours=1)  # leak (24 h) is now overdue; lamp (answered, 7 working days) is not
    await logged_in(console, "staff")
    page = await console.page("/console/dashboard?from=2026-11-20&to=2026-11-25")
    per_day = chart(page, 0)
    assert per_day["labels"][:6] == ["11-20", "11-21", "11-22", "11-23", "11-24", "11-25"]
    assert per_day["values"] == [0, 0, 0, 1, 2, 0]
    categories = dict(zip(chart(page, 1)["labels"], chart(page, 1)["values"]))
    assert categories == {"照明": 1, "给排水": 1, "电梯": 1}
    assert dict(zip(chart(page, 2)["labels"], chart(page, 2)["values"])) == {"红色": 1, "蓝色": 2}
    assert dict(zip(chart(page, 3)["labels"], chart(page, 3)["values"])) == {"第一网格": 2, "第二网格": 1}
    assert "收到工单</span><b>3</b>" in page
    assert "当前超期</span><b>1</b>" in page and leak.number in page.split("超期工单")[1]
    assert lamp.number not in page.split("超期工单")[1]
    assert "100.0%" in page  # the red ticket: responded and resolved in time


async def test_grid_worker_sees_only_its_grids_figures(console, place, services):
    await make_ticket(services, place)
    await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                      category="water_drain")
    await logged_in(console, "grid1")
    page = await console.page("/console/dashboard")
    assert "收到工单</span><b>1</b>" in page and "第二网格" not in page and "志愿服务时长" not in page
    rows = list(csv.reader(io.StringIO((await (await console.get("/console/dashboard/export.csv")).read())
                                       .decode("utf-8-sig"))))
    assert len(rows) == 2 and "漏水" not in str(rows)


async def test_csv_export_defuses_formulas(console, place, services, db):
    await make_ticket(services, place, description="=HYPERLINK(\"http://evil\",\"点我\")", category=None)
    await logged_in(console, "staff")
    response = await console.get("/console/dashboard/export.csv?from=2026-11-01&to=2026-11-30")
    assert response.status == 200 and 'filename="tickets-20261101-20261130.csv"' in response.headers["Content-Disposition"]
    body = await response.read()
    assert body.startswith("\ufeff".encode())
    header, row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert header[:3] == ["编号", "提交时间", "类型"] and row[header.index("内容")].startswith("'=HYPERLINK")
    assert row[header.index("状态")] == "已交办"


async def test_excel_export_has_tickets_and_rates(console, place, services, db):
    await make_ticket(services, place, description="=1+1")
    await logged_in(console, "staff")
    response = await console.get("/console/dashboard/export.xlsx")
    assert response.status == 200
    book = load_workbook(io.BytesIO(await response.read()))
    assert book.sheetnames == ["工单", "三率", "每日工单", "按类别", "按等级", "按网格", "志愿服务与积分"]
    sheet = book["工单"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("内容") + 1)
    assert cell.value == "=1+1" and cell.data_type == "s"  # text, never a formula
    assert [c.value for c in book["三率"][2]][:3] == ["合计", "合计", 1]
    async with db.sessions() as session:
        [exported] = list(await session.scalars(select(StaffAudit).where(StaffAudit.action == "export")))
    assert exported.detail["kind"] == "xlsx" and exported.detail["tickets"] == 1


async def test_a_reversed_or_bad_period_is_handled(console, place):
    await logged_in(console, "staff")
    page = await console.page("/console/dashboard?from=2026-11-30&to=2026-11-01")
    assert 'value="2026-11-01"' in page and 'value="2026-11-30"' in page
    await console.page("/console/dashboard?from=nonsense")


async def volunteering_day(services, place, clock):
    """On Sat 28 Nov: a two-hour activity where 王志强 checks in (20 points), a 5-point award on
    the 23rd and a 20-point redemption on the 28th."""
    from datetime import datetime, timedelta

    from nlp.timephrase import SHANGHAI
    from storage.points import activities, ledger, mall

    starts = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
    async with services.db.sessions.begin() as session:
        activity = await activities.create(session, community_id=place.community_id, title="清洁日", place="广场",
                                           starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=5,
                                           actor="test", now=clock.now, per_hour=10)
        await ledger.award(session, community_id=place.community_id, resident_id=place.residents["o_zhang"],
                           points=5, reason="随手拍", source_key="d1", now=clock.now)
        item = await mall.add_item(session, community_id=place.community_id, name="洗衣液", cost=20, stock=3,
                                   actor="test", now=clock.now)
    clock.now = starts.astimezone(clock.now.tzinfo) + timedelta(minutes=30)
    async with services.db.sessions.begin() as session:
        await activities.mark_attended(session, activity=activity, resident_id=place.residents["o_wang"],
                                       actor="test", now=clock.now, grace=timedelta(days=1))
        await mall.redeem(session, community_id=place.community_id, resident_id=place.residents["o_wang"],
                          item_id=item.id, source_key="r1", now=clock.now)


async def test_volunteer_hours_and_points_over_the_period(console, place, services, clock):
    await volunteering_day(services, place, clock)
    await logged_in(console, "staff")
    page = await console.page("/console/dashboard?from=2026-11-23&to=2026-11-29")
    spec = chart(page, 5)
    assert spec["labels"] == ["11-23", "11-24", "11-25", "11-26", "11-27", "11-28", "11-29"]
    hours, awarded, redeemed = (s["values"] for s in spec["series"])
    assert hours == [0, 0, 0, 0, 0, 2.0, 0]
    assert awarded == [5, 0, 0, 0, 0, 20, 0] and redeemed == [0, 0, 0, 0, 0, 20, 0]
    assert [s.get("axis", 0) for s in spec["series"]] == [0, 1, 1]
    assert "志愿服务时长</span><b>2.0 小时</b>" in page and "发放积分</span><b>25</b>" in page


async def test_grid_workers_get_no_volunteering_chart_or_table(console, place, services, clock):
    await volunteering_day(services, place, clock)
    await logged_in(console, "grid1")
    page = await console.page("/console/dashboard?from=2026-11-23&to=2026-11-29")
    assert "志愿服务与积分" not in page and len(re.findall(r"data-chart='", page)) == 5
    refused = await console.get("/console/dashboard/export.csv?table=volunteering")
    assert refused.status == 404
    book = load_workbook(io.BytesIO(await (await console.get("/console/dashboard/export.xlsx")).read()))
    assert "志愿服务与积分" not in book.sheetnames


async def test_summary_tables_as_csv_and_sheets(console, place, services, clock):
    await make_ticket(services, place)
    await make_ticket(services, place, description="电梯困人", category="elevator", grade="red")
    await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                      category="water_drain")
    await volunteering_day(services, place, clock)
    await logged_in(console, "staff")
    period = "from=2026-11-23&to=2026-11-29"

    async def table(name: str) -> list[list[str]]:
        response = await console.get(f"/console/dashboard/export.csv?{period}&table={name}")
        assert response.status == 200 and f'filename="{name}-20261123-20261129.csv"' in \
            response.headers["Content-Disposition"]
        return list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    days = await table("days")
    assert days[0] == ["日期", "工单数"] and days[1] == ["2026-11-23", "3"] and len(days) == 8
    assert (await table("grades"))[1:] == [["红色", "1", "33.3%"], ["黄色", "0", "0.0%"], ["蓝色", "2", "66.7%"]]
    assert sorted(r[:2] for r in (await table("categories"))[1:]) == [["照明", "1"], ["电梯", "1"], ["给排水", "1"]]
    assert sorted(r[:2] for r in (await table("grids"))[1:]) == [["第一网格", "2"], ["第二网格", "1"]]
    volunteering = await table("volunteering")
    assert volunteering[0][:2] == ["日期", "志愿服务时长（小时）"]
    assert volunteering[6] == ["2026-11-28", "2.0", "1", "20", "20"] and volunteering[-1] == ["合计", "2.0", "1", "25", "20"]
    assert (await console.get(f"/console/dashboard/export.csv?{period}&table=nonsense")).status == 404
    book = load_workbook(io.BytesIO(await (await console.get(f"/console/dashboard/export.xlsx?{period}")).read()))
    assert [c.value for c in book["按等级"][2]] == ["红色", 1, "33.3%"]
    assert [c.value for c in book["志愿服务与积分"][7]] == ["2026-11-28", 2.0, 1, 20, 20]
