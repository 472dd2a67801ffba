"""Ticket notices: what reporters, member households, grid workers and staff read about tickets.

Residents get one short message per status change; people who handle tickets get the facts they
need to act (place, description, contact, deadline) in one message.
"""

from nlp import slots

STATUS_NAMES = {
    "received": "已受理",
    "triaged": "研判中",
    "assigned": "已交办",
    "supervised": "督办中",
    "resolved": "已化解",
    "feedback": "回访中",
    "closed": "已办结",
    "reopened": "重办中",
}
KIND_NAMES = {"complaint": "投诉", "repair": "报修", "suggestion": "建议"}
CATEGORY_NAMES = {**slots.REPAIR_CATEGORY_NAMES, **slots.COMPLAINT_CATEGORY_NAMES, "other": "其他"}
GRADE_NAMES = slots.GRADE_NAMES
TEAM_NAMES = {
    "member_household": "党员中心户",
    "grid_worker": "网格员",
    "staff": "社区工作人员",
    "mediation": "社区调解团队",
    "street": "街道",
}
RATING_NAMES = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意", "none": "未评价"}
WEEKDAYS = "一二三四五六日"

MOMENT = "{month}月{day}日（周{weekday}）{time}"
BEFORE = "{moment}前"
UNASSIGNED = "社区工作人员"
NO_PLACE = "未说明"
ANONYMOUS = "居民"
NO_PHONE = "未留电话"
ASK_RATING = "请您评价：回复“满意”“基本满意”或“不满意”。"

# To reporters (every status change). {summary} is e.g. "报修·照明".
STATUS_NOTICE = {
    "triaged": "您的工单 {number}（{summary}）已完成研判，正在安排处理人员。",
    "assigned": "您的工单 {number}（{summary}）已交办给{assignee}处理，预计{expected}处理完。",
    "supervised": "您的工单 {number}（{summary}）处理超时，社区已督办，会尽快为您处理。",
    "resolved": "您的工单 {number}（{summary}）已处理完成。{note}\n" + ASK_RATING,
    "feedback": "您的工单 {number}（{summary}）已进入回访。如您还没有评价，" + ASK_RATING,
    "closed": "您的工单 {number}（{summary}）已办结，感谢您的支持！",
    "reopened": "您的工单 {number}（{summary}）已重新办理，预计{expected}处理完。",
}
HANDLER_NOTE = "处理情况：{note}"

# Template message titles (outside the 48-hour window).
TITLE_STATUS = "工单进度通知"
TITLE_TASK = "新工单待处理"
TITLE_ALERT = "工单紧急提醒"

# To the people who handle the ticket.
TASK = ("【新工单】{number}（{grade}）\n{summary}\n地点：{place}\n内容：{description}\n联系人：{contact}\n"
        "请于{respond_due}前联系居民，{resolve_due}前处理完成。")
RED_ALERT = ("【红色紧急】{number}\n{summary}\n地点：{place}\n内容：{description}\n联系人：{contact}\n"
             "请立即处置，{respond_due}前响应，{resolve_due}前处理完成。")
ASSIGNED_TO_YOU = ("【工单交办】{number}（{grade}）\n{summary}\n地点：{place}\n内容：{description}\n"
                   "联系人：{contact}\n请于{resolve_due}前处理完成。{note}")
SUPERVISE = ("【督办】工单 {number}（{summary}）已超期：应于{due}前{what}。\n当前状态：{status}，承办：{assignee}。\n"
             "地点：{place}\n请尽快处理并反馈。")
REOPEN_COMMENT = "居民说：{comment}\n"
RATING_WITH_COMMENT = "{rating}：{comment}"
SUPERVISE_RESPOND = "响应"
SUPERVISE_RESOLVE = "处理完成"
REOPENED_ALERT = ("【重办】居民对工单 {number}（{summary}）的处理结果不满意，工单已重办，请重新处理。\n{comment}"
                  "地点：{place}\n内容：{description}\n新的期限：{resolve_due}前。")

# Notes on the audit trail written by the system.
TRIAGE_NOTE = "按规则定级：{grade}"  # the deadline rule is shown by name on the ticket page (its config name is a code)
SUPERVISE_NOTE = "超期未{what}（期限 {due}）"

# Errors shown to staff.
ILLEGAL_TRANSITION = "工单{number}当前为“{current}”，不能改为“{target}”。"
CONFLICT = "工单{number}刚刚已被其他人修改，请刷新后再操作。"
NOT_FOUND = "找不到这个工单。"
NOT_A_REPORTER = "您不是工单{number}的报告人，不能评价。"
NOT_AWAITING_RATING = "工单{number}现在不需要评价。"
BAD_RATING = "评价只能是“满意”“基本满意”或“不满意”。"
NOBODY_TO_ASSIGN = "请指定承办人或承办团队。"
UNKNOWN_TEAM = "没有“{team}”这个承办团队。"
EMPTY_NOTE = "备注不能为空。"
BAD_KIND = "工单类型只能是投诉、报修或建议。"
BAD_GRADE = "工单等级只能是红色、黄色或蓝色。"
NO_DESCRIPTION = "请说明是什么问题。"
NO_SUCH_ASSIGNEE = "找不到这位承办人。"
BAD_ATTACHMENT = "附件只能是照片或位置。"
CLOSE_NEEDS_REASON = "不受理就关闭的工单，请在备注里说明原因。"

# The place of a ticket as handlers read it: "3栋2单元502（小区东门）".
PLACE_UNIT = "{unit}单元"
PLACE_WITH_ADDRESS = "{place}（{address}）"

# The points history (积分明细) line of a report that led to a fix.
VERIFIED_REPORT_REASON = "反映问题已化解（工单 {number}）"

# `linli report`: the three rates (三率) for staff.
NO_GRID = "未划分网格"
REPORT_TITLE = "{community} 工单三率 {first} 至 {last}（统计于 {as_of}）"
REPORT_BY_GRID = "按网格"
REPORT_GRID = "网格"
REPORT_BY_CATEGORY = "按类别"
REPORT_CATEGORY = "类别"
REPORT_TOTAL = "合计"
REPORT_COLUMNS = ("工单数", "响应率", "解决率", "满意率")
REPORT_NOTE = ("响应率：在响应期限内有首次处理动作的工单占比；解决率：在处理期限内化解的工单占比"
               "（未到期且未化解的不计）；满意率：满意与基本满意占全部评价的比例（未评价不计）。")
REPORT_CALENDAR_GAP = ("【注意】节假日日历还没有{year}年的安排：按工作日计算的期限只跳过周末和元旦、劳动节、国庆节前三天。"
                       "请升级 chinesecalendar，或在配置 tickets.holidays / tickets.extra_workdays 里填上国务院公布的放假和调休日期。")
