"""The closed set of intents the bot routes on.

The order is part of the model artifact (class order), so append new intents at the end
and retrain rather than reordering.
"""

INTENTS: tuple[str, ...] = (
    "complaint",
    "repair",
    "suggestion",
    "consult",
    "points_query",
    "volunteer_signup",
    "ticket_status",
    "handoff",
    "greeting",
    "other",
)

# Resident-facing names, used when the bot asks back with numbered choices.
INTENT_NAMES: dict[str, str] = {
    "complaint": "投诉反映",
    "repair": "报修",
    "suggestion": "意见建议",
    "consult": "政策咨询",
    "points_query": "积分查询",
    "volunteer_signup": "志愿活动",
    "ticket_status": "工单进度",
    "handoff": "转人工",
    "greeting": "问候/菜单",
    "other": "其他",
}

# Intents that open a ticket; slot `grade` defaults to "blue" for these.
TICKET_INTENTS: frozenset[str] = frozenset({"complaint", "repair", "suggestion"})
