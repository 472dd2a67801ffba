"""What member households and grid workers say in chat, read by plain functions: taking a task
(接单), reporting it done (完成), handing it back (转交), asking for the list (我的任务), yes and
no, and whether a visit note says something needs doing.

Kept apart from the handlers so every phrasing can be checked without a chat. The people who use
these are often elderly and many speak (voice arrives as text ending in "。"), so a leading
acknowledgement ("好的，", "收到，") and a trailing 了 / 啦 / punctuation are allowed everywhere.

Reporting done is the one that must not guess: "明天就修好了", "快修好了" and "灯还没有修好了吗"
all contain 修好了, and each would close a ticket the resident is still waiting on. A done verb
counts only in a clause without negation, future or question words (``done_reading``).
"""

from __future__ import annotations

import re

NUMBER = r"(\d{8}-\d{4})"
_ACK = r"(?:(?:好的|好嘞|好|收到|嗯|行|可以|明白|没问题|ok|OK)[，,。！!、\s]*)?"
_END = r"(?:了|啦)?[。.!！~～\s]*"
_SEP = r"\s*[:：#,，。]?\s*"

TAKE = re.compile(rf"{_ACK}(?:我来接单|我接单|接单|领单|接)\s*[:：#]?\s*{NUMBER}{_END}")
TAKE_NUMBER_FIRST = re.compile(rf"{_ACK}{NUMBER}\s*[，,]?\s*(?:我来接|我接了|我接|我来处理|我去处理|我来|接了|收到){_END}")
TAKE_BARE = re.compile(rf"{_ACK}(?:这单我接|这个我接|我接这个单|我来接单|我接单|接单|我来接|我接|"
                       rf"这个我来处理|这单我来处理|我来处理|我去处理){_END}")

DONE = re.compile(rf"{_ACK}(?:完成|已完成|办结|处理完成|已处理)\s*[:：#]?\s*{NUMBER}{_SEP}(.*)", re.S)
DONE_NUMBER_FIRST = re.compile(rf"{NUMBER}{_SEP}(.*(?:好了|完了|解决了|搞定了|办好了|处理了|完成了|完毕).*)", re.S)
_DONE_VERB = (r"(?:修好|弄好|处理好|解决好?|搞定|办好|换好|清理好|疏通好?|修复好?|处理完毕|处理完|修完|弄完|办完|"
              r"干完|做完|完成|完工|办结|已处理)")
_DONE_SHORT = re.compile(rf"{_ACK}(?:已经?|都)?{_DONE_VERB}(?:了|啦|毕)?[。.!！~～\s]*")
_DONE_IN_SENTENCE = re.compile(rf"{_DONE_VERB}(?:了|啦)|处理完毕|已完成")
_CLAUSE_END = "，,。.;；!！?？\n"
_QUESTION = re.compile(r"[吗呢么嘛?？]|什么时候|啥时候|几时|多久|是否|是不是|有没有|能不能|可不可以|了没")
_NOT_YET = re.compile(r"[没未不别快就等再将会要]|明天|后天|下周|下星期|下个?月|过几天|改天|回头|晚点|待会|一会|"
                      r"马上|准备|打算|估计|应该|争取|尽快")

BACK = re.compile(rf"{_ACK}(?:转交|转给网格员|交给网格员|退回)\s*[:：#]?\s*{NUMBER}?{_SEP}(.*)", re.S)
BACK_NUMBER_FIRST = re.compile(rf"{NUMBER}\s*(?:转交|转给网格员|退回){_SEP}(.*)", re.S)
BACK_LATER = re.compile(rf"(.+?)[，,。]\s*(?:转交(?:给)?(?:网格员)?|转给网格员|交给网格员)(?:吧)?(?:[，,。]\s*(.*))?", re.S)

MINE = re.compile(r"(?:我的任务|任务列表|查任务|查看任务|我的待办|待办事项|我的走访)[。?？]*")
MINE_NATURAL = re.compile(r"(?:(?:查看|查询|查一下|看看|看一下|看下|查)?(?:我的|今天的)?(?:任务|待办|走访任务)(?:列表)?"
                          r"|我?(?:还)?有(?:什么|哪些|啥)(?:任务|待办|工单要处理))[。?？!！]*")

YES = frozenset({"是", "是的", "对", "对的", "确认", "确定", "要", "需要", "好", "好的", "报", "报单", "可以", "行", "嗯",
                 "附上", "ok"})
NO = frozenset({"不", "不是", "否", "不对", "不用", "不要", "不需要", "算了", "取消", "不报", "不用了", "还没",
                "没有", "不附"})

# A visit note needs something doing when a clause names a problem or asks for help — unless the
# asking is negated ("不需要帮助", "没什么困难").
_PROBLEM = re.compile(r"漏|渗水|坏了|坏掉|不亮|不热|不通|不转|堵|停水|停电|没水|没电|没暖气|维修|修一下|要修|没人管|"
                      r"生病|病了|住院|摔|吃完|用完|没药|药没了|断了|裂了|发霉")
_REQUEST = re.compile(r"需要|要买|帮忙|帮助|麻烦|困难|找人|想找|想请|希望|申请|求助")
_NEGATED = re.compile(r"(?:没什么|没啥|没有|不用|无需|不需|暂无|没|不|无)(?:什么|啥|太)?(?:需要|要)?"
                      r"(?:帮助|帮忙|困难|麻烦|需求|需要|问题)")
_NOTE_CLAUSE = re.compile(r"[^,，。;；!！?？]+")


def takes(text: str) -> tuple[bool, str | None] | None:
    """(explicit, number) when the text takes a task; explicit = a command with its number."""
    if m := TAKE.fullmatch(text):
        return True, m.group(1)
    if m := TAKE_NUMBER_FIRST.fullmatch(text):
        return False, m.group(1)
    return (False, None) if TAKE_BARE.fullmatch(text) else None


def done_command(text: str) -> tuple[bool, str, str] | None:
    """(explicit, number, note) for "完成 <no> <说明>" and "<no> 修好了"; the latter not when hedged."""
    if m := DONE.fullmatch(text):
        return True, m.group(1), m.group(2).strip()
    m = DONE_NUMBER_FIRST.fullmatch(text)
    if m and done_reading(m.group(2)) == "done":
        return False, m.group(1), m.group(2).strip()
    return None


def done_reading(text: str) -> str | None:
    """How a sentence without a ticket number speaks of finishing: "done", "question" ("修好了吗"),
    "not_yet" ("明天就修好了", "还没修好") — or None when it does not speak of it at all."""
    if _DONE_SHORT.fullmatch(text):
        return "done"
    readings = {_reading(_clause_around(text, m.start(), m.end())) for m in _DONE_IN_SENTENCE.finditer(text)}
    for reading in ("question", "not_yet", "done"):
        if reading in readings:
            return reading
    return None


def _clause_around(text: str, start: int, end: int) -> str:
    """The clause holding text[start:end], with the punctuation that closes it (a "？" counts)."""
    left = max((text.rfind(c, 0, start) for c in _CLAUSE_END), default=-1) + 1
    rights = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i != -1]
    right = min(rights) + 1 if rights else len(text)
    return text[left:right]


def _reading(clause: str) -> str:
    if _QUESTION.search(clause):
        return "question"
    return "not_yet" if _NOT_YET.search(clause) else "done"


def hands_back(text: str) -> tuple[str | None, str] | None:
    """(number or None, reason) for "转交 <no> <原因>", "<no> 转交 <原因>" and "这个我处理不了，
    转交网格员，需要电工" (the reason after 转交, or else before it)."""
    if m := BACK.fullmatch(text) or BACK_NUMBER_FIRST.fullmatch(text):
        return m.group(1), m.group(2).strip()
    if m := BACK_LATER.fullmatch(text):
        return None, ((m.group(2) or "").strip(" ，,。") or m.group(1).strip())
    return None


def need_in(note: str) -> str | None:
    """The clause of a visit note that says something needs doing, if one does."""
    for clause in _NOTE_CLAUSE.findall(note):
        rest = _NEGATED.sub("", clause)
        if _PROBLEM.search(rest) or _REQUEST.search(rest):
            return clause.strip()
    return None
