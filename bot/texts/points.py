"""What residents read about points (积分), the points mall, volunteer activities and the
resources list; plus the few helpers that turn times, names and lists into those sentences.

Times are shown in the community's local time (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime

from nlp.timephrase import SHANGHAI as LOCAL

WEEKDAYS = "一二三四五六日"

# ---- points -------------------------------------------------------------------------------------

BALANCE = ("您现有 {balance} 积分（累计获得 {earned} 分），{ranks}。\n\n最近记录：\n{lines}\n\n"
           "回复“积分明细”看全部记录，“积分超市”看能兑换什么，“比积分”看排行。")
NO_POINTS = ("您目前还没有积分。参加志愿活动、反映的问题经核实、参与邻里调解都能获得积分。\n"
             "回复“志愿活动”看看最近的活动。")
RANK_COMMUNITY = "在社区排第 {position} 名（共 {among} 人有积分）"
RANK_GRID = "在{grid}排第 {position} 名（共 {among} 人）"
NO_RANK = "还没有排名，获得积分后就有了"

HISTORY = "积分明细（第 {page} 页）：\n{lines}"
HISTORY_LINE = "{line}（余 {balance}）"
HISTORY_MORE = "\n\n回复“下一页”查看更早的记录。"
HISTORY_END = "\n\n以上是全部记录。"
HISTORY_EMPTY = "您还没有积分记录。回复“志愿活动”看看怎么获得积分。"
NO_MORE_PAGES = "没有更早的记录了。"

RANKING = "比积分：您累计获得 {earned} 分，{ranks}。\n\n本月社区积分榜：\n{top}\n\n每月1日会发来上月排行榜，不想收到请回复“退订排行”。"
BOARD_EMPTY = "本月还没有人获得积分，快来参加志愿活动吧！"
BOARD_LINE = "{rank}. {who} {points} 分"

OPTED_OUT = "已退订每月积分排行榜：不会再给您发排行消息，榜单上也不显示您的名字。想重新订阅，回复“订阅排行”。"
OPTED_IN = "已订阅每月积分排行榜，每月1日发给您上月的排行。"

MONTHLY = "{month}积分排行榜\n社区前 {size} 名：\n{top}{grid_part}\n\n{mine}\n\n不想再收到，回复“退订排行”。"
MONTHLY_GRID = "\n\n{grid}前 {size} 名：\n{top}"
MONTHLY_MINE = "您上月获得 {points} 分，社区第 {rank} 名。继续加油！"
MONTHLY_NONE = "您上月还没有获得积分，本月参加志愿活动赢积分吧！回复“志愿活动”看看。"
LEADERBOARD_TITLE = "积分排行榜"

# ---- the mall -----------------------------------------------------------------------------------

MALL = "积分超市（您现有 {balance} 分）：\n{items}\n\n兑换请回复“兑换 编号”，例如“兑换 {example}”。"
MALL_LINE = "{number}. {name}：{cost} 分（剩 {stock} 件）"
MALL_LINE_SOLD_OUT = "{number}. {name}：{cost} 分（已兑完）"
MALL_EMPTY = "积分超市暂时没有商品，请留意社区通知。"
REDEEM_NOT_FOUND = "没有找到“{wanted}”，请回复商品编号。\n\n{mall}"
REDEEM_OUT_OF_STOCK = "抱歉，“{name}”已经兑完了。回复“积分超市”看看别的。"
REDEEM_SHORT = ("兑换“{name}”需要 {cost} 分，您现有 {balance} 分，还差 {missing} 分。\n"
                "参加志愿活动可以获得积分，回复“志愿活动”看看。")
REDEEM_CONFIRM = "确认用 {cost} 分兑换“{name}”吗？兑换后剩 {after} 分。\n回复“确认”兑换，回复“不换了”取消。"
REDEEM_DONE = ("兑换成功！“{name}”扣 {cost} 分，剩 {balance} 分。\n取货码：{code}\n"
               "请凭取货码到社区服务站领取。如需取消，回复“取消兑换”。")
REDEEM_ABANDONED = "好的，这次不兑换了。"
REDEEM_EXPIRED = "这次兑换等待确认太久，已经取消了。如还要兑换，请重新回复“兑换 编号”。"
REDEEM_INTERRUPTED = "这次兑换没有在提问后马上确认，已经取消了，积分没有扣。如还要兑换，请重新回复“兑换 编号”。"
REDEEM_SAY_CONFIRM = "为免误扣积分，请回复“确认”兑换“{name}”，或回复“不换了”取消。"

ORDERS = "您待领取的兑换：\n{orders}\n\n请凭取货码到社区服务站领取；不要了可以回复“取消兑换 编号”。"
ORDERS_NONE = "您没有待领取的兑换。回复“积分超市”看看能兑换什么。"
ORDER_LINE = "{n}. {name}（取货码 {code}）"
CANCEL_WHICH = "您有 {count} 个待领取的兑换：\n{orders}\n\n请回复“取消兑换 编号”，例如“取消兑换 1”。"
CANCEL_NO_SUCH = "没有第 {n} 个待领取的兑换。\n\n" + ORDERS
CANCEL_DONE = "已取消兑换“{name}”，{cost} 分已退回，您现有 {balance} 分。"
CANCEL_TOO_LATE = "这个兑换已经领取或取消了，不能再取消。"

# Ledger reasons: what a resident reads next to each line of 积分明细.
REASON_REDEEM = "兑换：{name}"
REASON_REFUND = "取消兑换：{name}"
REASON_ATTEND = "参加志愿活动：{title}"
REASON_MEDIATION = "参与调解，矛盾已化解（工单 {number}）"

# ---- volunteer activities -----------------------------------------------------------------------

ACTIVITIES = ("近期志愿活动：\n{items}\n\n报名请回复“报名 编号”，例如“报名 {example}”；"
              "回复“我的活动”查看已报名的。")
ACTIVITY_LINE = "{number}. {title}\n   {when}，{place}\n   {points} 积分，名额 {taken}/{capacity}{note}"
NOTE_FULL = "（已满，可候补）"
NOTE_ONGOING = "（进行中）"
NOTE_CLOSED = "（报名已截止）"
NO_ACTIVITIES = ("近期没有志愿活动，有新活动会在这里公布。\n"
                 "也可以登记自己的特长和空闲时间，直接说，例如“我会修电器，周末有空”。")
ACTIVITY_NOT_FOUND = "没有编号为 {number} 的活动。回复“志愿活动”看看近期活动。"
SIGNUP_WHICH = "请告诉我报名哪个活动，例如“报名 1”。\n\n{listing}"

SIGNED_UP = ("报名成功！\n{title}\n时间：{when}\n地点：{place}\n"
             "活动前一天和开始前会提醒您。到场后回复“签到 签到码”（签到码在现场公布），可得 {points} 积分。\n"
             "不能参加请回复“取消报名 {number}”。")
WAITLISTED = "“{title}”名额已满，已为您排队候补，目前第 {position} 位。有人取消时按顺序递补，递补后会通知您。"
ALREADY_CONFIRMED = "您已经报名了“{title}”（{when}），到时见！"
ALREADY_WAITLISTED = "您已在“{title}”的候补名单中，目前第 {position} 位。"
SIGNUP_CLOSED = "“{title}”已经截止报名了。回复“志愿活动”看看其他活动。"

UNSIGN_WHICH = "请回复“取消报名 编号”，例如“取消报名 1”。回复“我的活动”可查看已报名的活动。"
UNSIGNED = "已取消报名“{title}”。欢迎下次参加！"
UNSIGN_NOT_SIGNED = "您没有报名“{title}”。"
UNSIGN_STARTED = "“{title}”已经开始，不能取消了；如有特殊情况请联系现场工作人员。"
UNSIGN_CHECKED_IN = "您已经签到参加了“{title}”，谢谢您的付出！签到后就不能取消报名了，如有疑问请联系社区工作人员。"

PROMOTED = ("好消息：有人取消了报名，您已从候补转为正式报名！\n{title}\n时间：{when}\n地点：{place}\n"
            "不能参加请回复“取消报名 {number}”。")
PROMOTED_TITLE = "候补递补通知"

MINE = "您报名的活动：\n{items}\n\n不能参加请回复“取消报名 编号”。"
MINE_LINE = "{number}. {title}：{when}，{place}，{state}"
STATE_CONFIRMED = "已报名"
STATE_WAITLISTED = "候补第 {position} 位"
STATE_CHECKED_IN = "已签到"
MINE_EMPTY = "您还没有报名活动。回复“志愿活动”看看近期活动。"

CHECKIN_ASK = "请回复“签到”加上现场公布的签到码，例如“签到 4821”。"
CHECKED_IN = "签到成功！感谢参加“{title}”，已为您加 {points} 积分，您现有 {balance} 分。"
CHECKED_IN_NO_POINTS = "签到成功！感谢参加“{title}”。"
CHECKIN_ALREADY = "您已经签到过“{title}”了，积分不会重复发放。"
CHECKIN_TOO_EARLY = "“{title}”还没开始，请在 {start} 以后签到。"
CHECKIN_TOO_LATE = "“{title}”已经在 {end} 结束，不能签到了。如有疑问请联系社区工作人员。"
CHECKIN_NOT_SIGNED = "您没有报名“{title}”（或还在候补），请找现场工作人员登记签到。"
CHECKIN_UNKNOWN = "签到码 {code} 不对，请核对现场公布的签到码后再试。"
CHECKIN_LOCKED = "签到码输错次数太多了，请 {minutes} 分钟后再试，或请现场工作人员帮您签到。"

REMINDER_DAY_BEFORE = ("活动提醒：您报名的“{title}”明天 {time} 开始，地点：{place}。\n"
                       "到场后回复“签到 签到码”领积分；不能参加请回复“取消报名 {number}”。")
REMINDER_SOON = "活动提醒：“{title}”将于 {time} 开始，地点：{place}。到场后回复“签到 签到码”领积分。"
REMINDER_TITLE = "志愿活动提醒"

ACTIVITY_CANCELLED = ("很抱歉，您报名的志愿活动“{title}”（{when}，{place}）已取消。{reason}\n"
                      "给您带来不便，敬请谅解。回复“志愿活动”看看其他活动。")
ACTIVITY_CANCELLED_REASON = "原因：{reason}。"
ACTIVITY_CANCELLED_TITLE = "志愿活动取消通知"

# ---- the resources list -------------------------------------------------------------------------

OFFER_RECORDED = "谢谢您！已登记到社区资源清单：\n会做的事：{skills}\n有空的时间：{times}\n社区有需要时会联系您。"
OFFER_NOT_SAID = "（还没说，可以再告诉我）"
ANY_TIME = "随时"  # a free time said without naming one ("我有空")
OFFER_ASK = "欢迎参加社区志愿服务！请告诉我您会做什么、什么时候有空，例如“我会修电器，周末有空”。"


# ---- the console (staff read these) -------------------------------------------------------------

STAFF_ATTEND_OUTSIDE = "只能在活动开始后（{start}）到 {until} 之间标记签到。"
STAFF_ACTIVITY_CANCELLED = "这个活动已经取消了。"


# ---- helpers ------------------------------------------------------------------------------------

def local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL)


def day(moment: datetime) -> str:
    """"11月28日（周六）"."""
    moment = local(moment)
    return f"{moment.month}月{moment.day}日（周{WEEKDAYS[moment.weekday()]}）"


def clock(moment: datetime) -> str:
    return local(moment).strftime("%H:%M")


def moment(value: datetime) -> str:
    """"11月28日（周六）09:00"."""
    return f"{day(value)}{clock(value)}"


def span(starts: datetime, ends: datetime) -> str:
    """"11月28日（周六）09:00-11:00", with the end's day when it ends on another day."""
    end = clock(ends) if local(starts).date() == local(ends).date() else moment(ends)
    return f"{moment(starts)}-{end}"


def signed(delta: int) -> str:
    return f"+{delta}" if delta > 0 else str(delta)


def short_date(value: datetime) -> str:
    value = local(value)
    return f"{value.month}月{value.day}日"


def masked(name: str | None) -> str:
    """Names on a published board are partly hidden: 张建国 → 张*国, 李娜 → 李*."""
    if not name:
        return "热心居民"
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def who(name: str | None, building: str | None) -> str:
    return f"{building} {masked(name)}" if building else masked(name)


def month_name(value: datetime) -> str:
    value = local(value)
    return f"{value.year}年{value.month}月"


def board_lines(top) -> str:
    """(rank, standing) pairs as "1. 3栋 张*国 40 分" lines."""
    return "\n".join(BOARD_LINE.format(rank=rank, who=who(s.name, s.building), points=s.points) for rank, s in top)
