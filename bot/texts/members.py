"""What member households (党员中心户), grid workers (网格员) and staff read about binding, tasks,
follow-up visits (走访) and the daily digest.

Commands are spelled out in the replies themselves ("回复“完成 单号 处理情况”"), because many of
the people who use them are elderly and learn them from the messages they get.
"""

ROLE_NAMES = {"member_household": "党员中心户", "grid_worker": "网格员"}
CATEGORY_NAMES = {"elderly_alone": "独居老人", "dibao": "低保户", "tekun": "特困户", "left_behind": "三留守"}
WEEKDAYS = "一二三四五六日"
DAY = "{month}月{day}日（周{weekday}）"

# ---- binding (绑定) -----------------------------------------------------------------------------
BIND_HOWTO = "请发送“绑定”加上社区工作人员给您的6位数字绑定码，例如：绑定 123456"
BIND_OK = "绑定成功！您已登记为{scope}的{role}。\n"
BIND_OK_MEMBER = BIND_OK + "楼栋的工单任务和走访提醒会发到这里，发送“我的任务”可随时查看。"
BIND_OK_GRID = BIND_OK + "网格的工单、逾期走访提醒会发到这里，发送“我的任务”可随时查看。"
BIND_SCOPE_NONE = "本社区"
BIND_WRONG = "绑定码不正确，请核对后重新发送，例如：绑定 123456"
BIND_USED = "这个绑定码已经用过了，每个绑定码只能用一次。如需重新绑定，请联系社区工作人员。"
BIND_EXPIRED = "这个绑定码已过期，请联系社区工作人员重新获取。"
BIND_BLOCKED = "绑定码输错次数过多，为保护账号安全，请{minutes}分钟后再试，或联系社区工作人员。"

# ---- tasks (工单任务) ---------------------------------------------------------------------------
ROLE_ONLY = "“{command}”是党员中心户和网格员处理任务用的。如需登记，请联系社区工作人员获取绑定码。"
CMD_TAKE, CMD_DONE, CMD_BACK, CMD_MINE = "接单", "完成", "转交", "我的任务"  # as the replies spell them
TASK_NOT_FOUND = "没有找到工单 {number}，请核对单号。"
TASK_NOT_YOURS = "工单 {number} 没有交办给您，不能操作。如有疑问，请联系网格员。"
TASK_CLOSED = "工单 {number} 现在是“{status}”，不用再处理了。"
TASK_CONFLICT = "工单 {number} 刚刚有人改过，请再发一次。"
ACCEPTED = ("已接单：{number}（{summary}）\n地点：{place}\n内容：{description}\n请于{due}处理完成。"
            "处理好后回复“完成 {number} 处理情况”。")
ALREADY_ACCEPTED = "您已经接过工单 {number} 了。处理好后回复“完成 {number} 处理情况”。"
ACCEPTED_NOTICE = "您的工单 {number}（{summary}）楼栋党员中心户已接单，正在处理，预计{expected}处理完。"
DONE_NEEDS_NOTE = "请说明处理情况，例如：完成 {number} 已更换灯泡"
DONE = "已记录：工单 {number} 处理完成，系统会请居民评价。\n如有现场照片，现在直接发过来就能附到工单上。"
PHOTO_ATTACHED = "照片已附到工单 {number}。还有的话继续发。"
TRANSFER_NEEDS_REASON = "请说明转交原因，例如：转交 {number} 需要专业电工"
TRANSFERRED = "工单 {number} 已转交{to}处理，原因已记下。谢谢！"
NOBODY_TO_TAKE_OVER = "社区工作人员"
NO_TASKS = "您目前没有待处理的工单任务。"
WHICH_TASK = "您手上有 {count} 个任务，请带上单号，例如：{command} {number} …\n{lines}"
CONFIRM_DONE = "确认完成工单 {number}（{summary}）吗？\n处理情况：{note}\n回复“是”确认，回复“不是”取消。"
DONE_CANCELLED = "好的，工单 {number} 先不标记完成。处理好后回复“完成 {number} 处理情况”。"
DONE_NOT_YET = "好的。处理好后请回复“完成 单号 处理情况”告诉我们，例如：完成 {number} 已更换灯泡"
PHOTO_OFFER = "这张照片要附到工单 {number}（{summary}）上吗？回复“是”附上，回复“不是”不附。"
PHOTO_NOT_ATTACHED = "好的，照片没有附到工单上。如要反映新问题，请直接说说情况。"
PHOTO_WHICH_TASK = ("您手上有 {count} 个任务，不知道这张照片是哪一个的。请先回复“完成 单号 处理情况”，再发照片。\n"
                    "{lines}")

# Notes on the ticket's event log (staff read them; the new assignee's task message quotes them).
ACCEPT_NOTE = "接单"
TRANSFER_NOTE = "转交：{reason}"
RELEASED_NOTE = "原承办人已不再担任{role}，自动转交"
RELEASED_UNSUBSCRIBED_NOTE = "原承办人已取消关注公众号，自动转交"

MY_TASKS = "您的待办：\n{sections}"
MY_TASKS_EMPTY = "您目前没有待处理的工单，也没有到期的走访。"
TASKS_SECTION = "工单 {count} 件：\n{lines}\n回复“接单 单号”“完成 单号 处理情况”“转交 单号 原因”。"
TASK_LINE = "{n}. {number} {summary}｜{place}｜{status}，{due}完成"
VISITS_SECTION = "走访 {count} 户：\n{lines}\n走访后回复“走访 房号 情况”记录。"
MISSED_SECTION = "辖区逾期未走访 {count} 户：\n{lines}"
VISIT_LINE = "{n}. {household}（{category}）{place}｜应于{due}走访{late}"
VISIT_LATE = "，已逾期"
MISSED_LINE = "{n}. {household}（{category}）{place}｜应于{due}走访｜负责：{member}"
NO_MEMBER = "暂无负责人"

# ---- follow-up visits (走访) --------------------------------------------------------------------
TITLE_VISIT = "走访提醒"
TITLE_ESCALATION = "走访督办"
VISIT_DUE = ("【走访提醒】今天请走访{household}（{category}，{place}）。\n"
             "走访后回复“走访 {place} 情况”记录，例如：走访 {place} 老人身体不错")
VISIT_AGAIN = ("【走访再提醒】{household}（{category}，{place}）应于{due}走访，还没有记录。\n"
               "走访后请回复“走访 {place} 情况”。")
VISIT_ESCALATION = ("【走访督办】{household}（{category}，{place}）应于{due}走访，负责的党员中心户{member}"
                    "至今没有记录。请跟进。")
VISIT_LOGGED = "已记录对{household}的走访。谢谢您！{next}"
VISIT_LOGGED_LATE = "已补记对{household}（应于{due}）的走访。谢谢您！{next}"
VISIT_NEXT = "下次走访：{day}。"
VISIT_OFFER_TICKET = "\n您提到“{need}”，需要为他们报一个工单吗？回复“是”报单，回复“不用”跳过。"
VISIT_TICKET_CREATED = "已报单：工单号 {number}，预计{expected}处理完。"
VISIT_TICKET_SKIPPED = "好的，不报单。"
VISIT_TICKET_DESCRIPTION = "走访{household}（{category}）时发现：{note}"
VISIT_NOT_FOUND = "没有找到您负责走访的“{what}”。您负责走访的是：\n{lines}"
VISIT_SOMEONE = "走访对象"
VISIT_NONE_ASSIGNED = "您目前没有负责走访的重点户。如有疑问，请联系社区工作人员。"
VISIT_WHICH = "您负责走访好几户，请说明是哪一户，例如：走访 {example} 老人身体不错\n{lines}"
VISIT_NEEDS_NOTE = "请说说走访情况，例如：走访 {place} 老人身体不错"
HOUSEHOLD_LINE = "{n}. {household}（{category}）{place}"
NO_PLACE = "地址未登记"
PLACE_UNIT = "{unit}单元"

# ---- staff registering care households (console, `linli members`) -----------------------------
CARE_BAD_CATEGORY = "类别只能是：{choices}"
CARE_CATEGORY_CHOICE = "{key}（{name}）"
CARE_BAD_CLOCK = "免打扰时间“{clock}”应写成 22:00 这样的格式。"
CARE_BAD_HOUR = "提醒时间（小时）应在 0 到 23 之间。"
CARE_HOUR_IN_QUIET = ("提醒时间 {hour} 点在免打扰时段（{start}–{end}）内，走访当天的提醒会推迟到第二天。"
                      "请选免打扰时段以外的时间。")
CARE_NOT_MEMBER = "{name} 还不是党员中心户，请先登记（绑定码或 members grant）。"
RECURRENCE_UNKNOWN = "看不懂周期“{spec}”：请写 weekly、fortnightly、monthly 或 RRULE（如 FREQ=WEEKLY;BYDAY=MO）。"
RECURRENCE_BAD = "周期规则“{spec}”有误：{error}"
RECURRENCE_ONE_RULE = "一个走访计划只能写一条 RRULE。"
RECURRENCE_TOO_OFTEN = "走访周期最短为一天。"
RECURRENCE_EMPTY = "周期“{spec}”从 {anchor} 起没有任何走访日期。"

# ---- the daily digest ---------------------------------------------------------------------------
TITLE_DIGEST = "每日待办"
DIGEST = "【每日待办】{name}您好，今天是{day}。\n{sections}\n回复“我的任务”随时查看。"
DIGEST_NAME = "您"
