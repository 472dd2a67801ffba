"""Staff-facing sentences of the console that are not in its templates (errors, notices, names).

Simplified Chinese; staff read these, residents never do.
"""

ROLE_NAMES = {
    "admin": "系统管理员",
    "community_staff": "社区工作人员",
    "grid_worker": "网格员",
    "street_staff": "街道工作人员",
}

LOGIN_FAILED = "用户名或密码不正确。"
LOGIN_THROTTLED = "登录失败次数过多，请{minutes}分钟后再试。"
LOGIN_FORM_EXPIRED = "登录页面已过期，请重新输入。"
FORBIDDEN = "您没有权限进行这个操作。"
NOT_FOUND = "找不到这个页面，或者它不在您负责的范围内。"
CSRF_FAILED = "页面已过期或来源不明，请刷新页面后重试。"
SESSION_ENDED = "登录已过期，请重新登录。"

REPLY_EMPTY = "回复内容不能为空。"
REPLY_TOO_LONG = "回复内容太长了（最多{limit}字），请分几条发送。"
NO_ACCOUNT_FOR_COMMUNITY = "这个社区没有配置公众号，无法发送消息。"
RESIDENT_UNSUBSCRIBED = "这位居民已取消关注公众号，消息无法送达。"
NOT_A_REPORTER = "只能回复这个工单的报告人。"
NOTE_EMPTY = "备注不能为空。"
BAD_STATUS = "请选择要改成的状态。"
BAD_ASSIGNEE = "请选择承办人或承办团队。"
THREAD_NOT_ESCALATED = "这位居民的会话不在人工服务中。"
THREAD_TAKEN_BY = "{name}已接管这个会话。"
BAD_INPUT = "填写有误：{what}"

# After an action (redirect ?done=…): what happened.
DONE = {
    "replied": "回复已放入发送队列。",
    "noted": "内部备注已保存。",
    "assigned": "已交办。",
    "status": "状态已更新。",
    "taken": "已接管会话，居民的新消息会显示在这里。",
    "closed": "会话已结束，居民回到自助服务。",
    "saved": "已保存。",
    "deleted": "已删除。",
    "created": "已创建。",
    "community": "已切换社区。",
    "revoked": "绑定码已作废。",
}

DELIVERY_NAMES = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已送达微信",
    "failed": "发送失败",
    "cancelled": "已取消",
    "passive": "已即时回复",
    "customer_service": "客服消息",
    "template": "模板消息",
    "none": "",
}

ACCOUNT_ERRORS = {
    "bad_role": "角色只能是系统管理员、社区工作人员、网格员或街道工作人员。",
    "username_taken": "这个用户名已被使用。",
    "grid_needed": "网格员账号至少要负责一个网格。",
    "bad_grid": "所选网格不属于这个社区。",
    "bad_username": "用户名不能为空、不能有空格，最多64个字符。",
    "too_short": "密码至少需要10个字符。",
    "like_username": "密码不能和用户名相同或相近。",
    "last_admin": "不能停用最后一个系统管理员，也不能改变他的角色。",
    "bad_community": "所选社区不存在。",
}

AUDIT_ACTIONS = {
    "login": "登录",
    "logout": "退出",
    "ticket.reply": "回复居民（工单）",
    "ticket.note": "内部备注",
    "ticket.assign": "交办",
    "ticket.status": "改变工单状态",
    "thread.take": "接管会话",
    "thread.reply": "回复居民（会话）",
    "thread.close": "结束人工服务",
    "resident.update": "修改居民信息",
    "grid.create": "新建网格",
    "grid.rename": "网格改名",
    "grid.delete": "删除网格",
    "building.save": "保存楼栋",
    "faq.save": "保存常见问题",
    "faq.delete": "删除常见问题",
    "canned.save": "保存常用回复",
    "canned.delete": "删除常用回复",
    "staff.create": "新建工作人员账号",
    "staff.update": "修改工作人员账号",
    "staff.role": "修改工作人员角色与范围",
    "points.adjust": "调整积分",
    "mall.add": "上架积分商品",
    "mall.restock": "补充库存",
    "mall.enable": "上下架商品",
    "order.pickup": "兑换核销",
    "order.cancel": "取消兑换",
    "activity.create": "发布志愿活动",
    "activity.attend": "标记签到",
    "code.issue": "发放绑定码",
    "code.revoke": "作废绑定码",
    "care.add": "登记重点户",
    "care.assign": "更换走访人",
    "care.schedule": "更改走访安排",
    "care.remove": "移除重点户",
    "template.save": "保存通知模板",
    "template.delete": "删除通知模板",
    "export": "导出数据",
    "community.switch": "切换社区",
}

# The default [[tickets.sla]] rules by name; a rule an operator adds shows under its own name.
SLA_RULE_NAMES = {
    "red": "红色紧急（30分钟响应，2小时办结）",
    "utilities": "水电气暖（2小时响应，24小时办结）",
    "complex": "复杂事项（24小时响应，15个工作日办结）",
    "general": "一般事项（24小时响应，7个工作日办结）",
}
SLA_RESPOND = "响应期限"
SLA_RESOLVE = "办结期限"
SLA_LEFT = "还剩{left}"
SLA_OVER = "已超时{over}"
SLA_DONE_IN_TIME = "按期化解（用时{took}）"
SLA_DONE_LATE = "超期化解（用时{took}）"
DURATION_DAYS = "{days}天{hours}小时"
DURATION_HOURS = "{hours}小时{minutes}分"
DURATION_MINUTES = "{minutes}分钟"

REPLY_NOTE = "回复{name}：{text}"
NOTE_PREFIX = "【内部备注】"

EVENT_ACTIONS = {
    "created": "提交",
    "transition": "状态变更",
    "assign": "交办",
    "note": "备注",
    "attach": "补充附件",
    "join": "加入报告",
    "rate": "评价",
    "no_feedback": "未评价",
}
ACTOR_KINDS = {
    "resident": "居民",
    "member": "党员中心户",
    "grid_worker": "网格员",
    "staff": "工作人员",
    "system": "系统",
}

GRID_EXISTS = "这个网格已经存在。"
FAQ_EXISTS = "已经有同样的问题了，请修改原来的那条。"
CANNED_EXISTS = "已经有同名的常用回复了。"
SELF_DISABLE = "不能停用自己的账号。"
ACCOUNT_REFUSED = "账号未能保存，请检查填写的内容。"
SELF_ROLE = "不能修改自己的角色和负责范围，请让另一位系统管理员修改。"

CHART_TICKETS = "工单数"
CHART_HOURS = "志愿服务时长（小时）"
CHART_AWARDED = "发放积分"
CHART_REDEEMED = "兑换积分"
CHART_HOURS_AXIS = "小时"
CHART_POINTS_AXIS = "积分"
RATE_NAMES = {"response_rate": "响应率", "resolution_rate": "解决率", "satisfaction_rate": "满意率"}
EXPORT_COLUMNS = ("编号", "提交时间", "类型", "类别", "等级", "状态", "网格", "地点", "内容", "报告人", "承办",
                  "响应期限", "办结期限", "首次响应", "化解时间", "评价", "超期")
RATE_COLUMNS = ("范围", "名称", "工单数", "响应率", "解决率", "满意率")
RATE_TOTAL = "合计"
RATE_BY_GRID = "按网格"
RATE_BY_CATEGORY = "按类别"
SHEET_TICKETS = "工单"
SHEET_RATES = "三率"
# The summary tables of an export: Excel sheet names, and what the CSV links are called.
EXPORT_TABLES = {
    "rates": SHEET_RATES,
    "days": "每日工单",
    "categories": "按类别",
    "grades": "按等级",
    "grids": "按网格",
    "volunteering": "志愿服务与积分",
}
DAY_COLUMNS = ("日期", "工单数")
CATEGORY_COLUMNS = ("类别", "工单数", "占比")
GRADE_COLUMNS = ("等级", "工单数", "占比")
GRID_COLUMNS = ("网格", "工单数", "占比")
VOLUNTEERING_COLUMNS = ("日期", "志愿服务时长（小时）", "签到人次", "发放积分", "兑换积分")
YES = "是"

RESIDENT_NOT_FOUND = "找不到这位居民，请输入登记的电话号码或完整姓名。"
RESIDENT_AMBIGUOUS = "有多位居民叫这个名字，请改用电话号码。"
POINTS_REFUSED = "操作未能完成，请检查填写的内容。"
POINTS_ERRORS = {
    "InsufficientPoints": "居民的积分不够扣减。",
    "OutOfStock": "库存不足。",
    "NotCancellable": "找不到待领取的兑换（取货码不对，或已经领取、取消）。",
    "ValueError": "填写有误：时间、数量或积分不合理（结束要晚于开始，数量和积分要大于零）。",
}

# Notices that may go out as template messages ([accounts.templates.<kind>] in the config).
NOTICE_KINDS = {
    "reply": "工作人员回复",
    "ticket_status": "工单进度（给报告人）",
    "ticket_task": "新工单待处理（给承办人）",
    "ticket_alert": "红色工单、督办、重办提醒",
    "activity_reminder": "志愿活动提醒",
    "waitlist_promoted": "候补转正",
    "activity_cancelled": "志愿活动取消",
    "leaderboard": "月度积分榜",
    "member_reminder": "走访提醒",
    "member_alert": "走访督办",
    "member_digest": "每日待办摘要",
}

# How a message that is not plain text appears in thread lists and lines: "[照片]", "[位置] 3栋门口".
MESSAGE_TYPES = {
    "image": "照片",
    "voice": "语音",
    "video": "视频",
    "shortvideo": "小视频",
    "location": "位置",
    "link": "链接",
    "file": "文件",
    "unknown": "其他消息",
}
EVENT_NAMES = {
    "subscribe": "关注公众号",
    "unsubscribe": "取消关注",
    "scan": "扫描二维码",
    "click": "点击菜单",
    "view": "打开菜单链接",
    "location": "上报位置",
    "other": "其他事件",
}
MESSAGE_OTHER = "其他消息"
VOICE_UNRECOGNISED = "（未识别）"

# Notice templates (manage/templates): what a notice offers a template field, and refusals.
NOTICE_FIELD_NAMES = {
    "title": "标题",
    "content": "内容",
    "number": "工单编号",
    "summary": "摘要",
    "status": "状态",
    "time": "时间",
}
TEMPLATE_ERRORS = {
    "bad_template_id": "模板ID只能由字母、数字、下划线和横线组成（从微信公众平台“模板消息”里复制）。",
    "no_fields": "至少要填一个模板字段，最多8个。",
    "bad_field": "模板字段名应是字母开头的英文名，如 first、keyword1、thing2。",
    "bad_source": "请为每个模板字段选择要填入的通知内容。",
    "bad_url": "跳转链接必须以 https:// 开头，也可以不填。",
}

GRID_IN_USE = {
    "buildings": "这个网格里还有楼栋，请先把楼栋划到别的网格，再删除。",
    "staff": "还有工作人员账号负责这个网格，请先在“工作人员账号”里修改他们的负责网格。",
    "grid_workers": "还有网格员负责这个网格，请先在“居民与角色”里修改。",
    "tickets": "这个网格已有工单记录，不能删除；如需调整，可以给它改名。",
}

# Care households (重点户) and their visits.
RECURRENCE_NAMES = {"weekly": "每周", "fortnightly": "每两周", "monthly": "每月"}
VISIT_STATES = {"open": "待走访", "missed": "逾期未走访", "logged": "已走访", "cancelled": "已取消"}
CARE_BAD_CATEGORY = "请选择重点户类别：独居老人、低保户、特困户或三留守。"
CARE_BAD_RECURRENCE = "请选择走访频率：每周、每两周或每月。"
CARE_NOT_MEMBER = "{name}还不是党员中心户：请先在“居民与角色”里登记，或发给他一个党员中心户绑定码。"
CARE_UNNAMED = "这位居民"
CARE_REFUSED = "走访安排有误：从第一次走访日期起排不出走访，请检查频率和日期。"

# The points audit's actions (storage.points), for the points page's history (filter points_action).
POINTS_ACTIONS = {
    "adjust": "积分调整",
    "award": "发放积分",
    "item_add": "上架商品",
    "item_restock": "补充库存",
    "item_enable": "上架商品",
    "item_disable": "下架商品",
    "order_pickup": "兑换核销",
    "order_cancel": "取消兑换",
    "activity_create": "发布活动",
    "activity_update": "修改活动",
    "activity_cancel": "取消活动",
    "activity_capacity": "调整活动人数",
    "checkin_mark": "标记签到",
}
ACTION_OTHER = "其他操作"

# What an audit row is about ("resident:2" → "居民 张建国"), by the kind before the colon.
AUDIT_TARGETS = {
    "ticket": "工单",
    "resident": "居民",
    "staff": "工作人员",
    "grid": "网格",
    "building": "楼栋",
    "faq": "常见问题",
    "canned": "常用回复",
    "mall_item": "积分商品",
    "order": "兑换",
    "activity": "志愿活动",
    "binding_code": "绑定码",
    "care_household": "重点户",
    "notice_template": "通知模板",
}
AUDIT_TARGET_GONE = "{kind}（已删除）"

# Error pages (auth.errors) for what is not 403 / 404.
HTTP_ERRORS = {
    400: "请求有误，请返回上一页检查后重试。",
    405: "这个页面不能这样打开，请从工作台的菜单进入。",
    413: "提交的内容太大了。",
    429: "操作太频繁，请稍后再试。",
}
HTTP_ERROR = "请求没有完成，请返回上一页重试。"
SERVER_ERROR = "系统出了点问题，这次操作没有完成。请稍后重试；如果一直这样，请联系系统管理员。"
