"""High-precision rules for commands and menu keys; they bypass the model with score 1.0.

Residents learn a few commands from the menu and replies ("报名 3", "签到 4821", "转人工").
These must never be misread by a statistical model, so they are matched whole (the entire
normalised message), which keeps the rules from firing inside longer free text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RuleHit:
    intent: str
    slots: dict = field(default_factory=dict)


_POLITE = r"(?:请|麻烦|帮我|我要|我想|给我)?"
_TAIL = r"(?:吧|呀|啊|一下|谢谢|,|!)*"


def _whole(pattern: str) -> re.Pattern:
    return re.compile(rf"{_POLITE}(?:{pattern}){_TAIL}")


# (compiled pattern, intent, fixed slots); the first match wins, so order matters.
_RULES: list[tuple[re.Pattern, str, dict]] = [
    (_whole(r"转人工(?:客服|服务)?|人工(?:客服|服务)?|转接人工|真人客服|在线客服|找人工"), "handoff", {}),
    (_whole(r"(?:查询?)?(?:我的)?积分(?:查询|余额)?|查积分|查询积分"), "points_query", {"action": "balance"}),
    (_whole(r"(?:我的)?积分(?:明细|记录)|(?:我的)?兑换记录"), "points_query", {"action": "history"}),
    (_whole(r"(?:我的)?积分(?:排名|排行榜?|榜)|比积分|亮积分|排行榜?|排名|我(?:的积分)?排(?:在)?第几(?:名|位)?了?"),
     "points_query", {"action": "rank"}),
    (_whole(r"(?:退订|取消|不要|不看|不想(?:再)?(?:收到?|看到?|接收|要)|别(?:再)?发)(?:积分)?排行榜?(?:消息)?了?"),
     "points_query", {"action": "rank_off"}),
    (_whole(r"(?:订阅|恢复)(?:积分)?排行榜?"), "points_query", {"action": "rank_on"}),
    (_whole(r"我的(?:兑换|订单)|兑换订单|取货码"), "points_query", {"action": "orders"}),
    (_whole(r"积分(?:超市|商城)|积分兑换|兑换"), "points_query", {"action": "mall"}),
    (_whole(r"(?:查询?|查一下)(?:我的)?(?:工单|报修|投诉)(?:进度|记录)?|我的(?:工单|报修|投诉)(?:进度|记录)?"
            r"|工单(?:进度|记录)?|(?:报修|投诉)(?:进度|记录)|查进度"), "ticket_status", {}),
    (_whole(r"志愿活动(?:列表)?|活动列表|近期活动|最新活动|志愿者活动"), "volunteer_signup", {"action": "list"}),
    (_whole(r"我的(?:报名|活动)"), "volunteer_signup", {"action": "mine"}),
    (_whole(r"(?:活动)?签到"), "volunteer_signup", {"action": "checkin"}),
    (_whole(r"(?:我要|我想)?(?:投诉|举报)(?:一下)?"), "complaint", {}),
    (_whole(r"(?:我要|我想)?报(?:个)?修(?:一下)?"), "repair", {}),
    (_whole(r"(?:我要|我想|我有个?)?(?:提个?)?(?:建议|意见)"), "suggestion", {}),
    (_whole(r"(?:我要|我想)?咨询(?:一下)?"), "consult", {}),
    (_whole(r"你好|您好|你们好|hi|hello|hey|嗨|哈喽|在吗|在不在|在么|早上好|上午好|下午好|晚上好|早安"), "greeting", {}),
    (_whole(r"帮助|菜单|主菜单|功能菜单|帮助菜单|help|menu|\?"), "greeting", {"action": "menu"}),
    (_whole(r"谢谢(?:你|你们|啦)?|多谢|感谢|thanks|thank you|thx"), "greeting", {"action": "thanks"}),
    (_whole(r"good morning|morning|3q|ok|okay|好的?|好嘞|行|收到|知道了|明白了?|了解了?|懂了|嗯+|哦+|噢+"), "greeting", {"action": "ack"}),
    (_whole(r"再见|拜拜|bye|晚安|下次再聊"), "greeting", {"action": "bye"}),
    (re.compile(r"取消|算了|不用了|退出|cancel"), "other", {"action": "cancel"}),
]
# All of them as one alternation, tried in the same order: fullmatch takes the first
# alternative that matches the whole text, as the loop over _RULES would, in one call instead
# of twenty (the rules run on every message). The patterns have no groups of their own.
_ANY_RULE = re.compile("|".join(f"(?P<r{index}>{pattern.pattern})" for index, (pattern, _, _) in enumerate(_RULES)))

# Commands with an argument.
_SIGNUP = re.compile(r"报名\s*(?:第)?(\d{1,3})(?:号|个)?")
_UNSIGN = re.compile(r"取消报名\s*(?:第)?(\d{1,3})?(?:号|个)?")
_CHECKIN = re.compile(r"(?:活动)?签到\s*(?:码)?[:\s]*(\d{4,6})")
_REDEEM = re.compile(r"兑换\s*(?:第)?(\d{1,3})(?:号|个)?(?:商品)?")
_REDEEM_ITEM = re.compile(r"兑换\s*(?!记录|规则|订单|什么|啥|哪些|多少|方法|流程)([^\d\s].{0,19})")
_UNREDEEM = re.compile(r"取消兑换\s*(?:第)?(\d{1,3})?(?:号|个)?")
_TICKET = re.compile(r"(?:查询?|查一下)?(?:我的)?(?:工单|单号|工单号|报修)?\s*[:#]?\s*(\d{8}-\d{4})\s*(?:进度|怎么样了?)?")


# What every command with an argument contains: a number, or 报名 / 兑换 (which may go without).
_ARGUMENT_HINT = re.compile(r"\d|报名|兑换")


def _argument_rule(text: str) -> RuleHit | None:
    if not _ARGUMENT_HINT.search(text):
        return None
    if m := _UNSIGN.fullmatch(text):
        return RuleHit("volunteer_signup", {"action": "cancel"} | ({"number": int(m.group(1))} if m.group(1) else {}))
    if m := _SIGNUP.fullmatch(text):
        return RuleHit("volunteer_signup", {"action": "signup", "number": int(m.group(1))})
    if m := _CHECKIN.fullmatch(text):
        return RuleHit("volunteer_signup", {"action": "checkin", "checkin_code": m.group(1)})
    if m := _UNREDEEM.fullmatch(text):
        return RuleHit("points_query", {"action": "cancel_redeem"} | ({"number": int(m.group(1))} if m.group(1) else {}))
    if m := _REDEEM.fullmatch(text):
        return RuleHit("points_query", {"action": "redeem", "number": int(m.group(1))})
    if m := _REDEEM_ITEM.fullmatch(text):
        return RuleHit("points_query", {"action": "redeem", "item": m.group(1).strip()})
    if m := _TICKET.fullmatch(text):
        return RuleHit("ticket_status", {"ticket_no": m.group(1)})
    return None


def match(normalized: str) -> RuleHit | None:
    """The rule that the whole message matches, if any."""
    text = normalized.strip()
    if not text or len(text) > 40:
        return None
    hit = _argument_rule(text)
    if hit:
        return hit
    if rule := _ANY_RULE.fullmatch(text):
        _, intent, slots = _RULES[int(rule.lastgroup[1:])]
        return RuleHit(intent, dict(slots))
    return None
