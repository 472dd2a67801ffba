"""Every sentence a resident reads, in one place so it can be reviewed.

Simplified Chinese, short, polite, and easy for elderly residents: numbered choices, no jargon.
"""

SERVICE_MENU = (
    "您可以直接说要办的事，例如：\n"
    "1. 报修：“3栋2单元楼道灯坏了”\n"
    "2. 投诉：“楼下半夜很吵”\n"
    "3. 建议：“建议多装几个充电桩”\n"
    "4. 咨询：“居住证怎么办理”\n"
    "5. 积分：“我的积分”\n"
    "6. 志愿活动：“志愿活动”\n"
    "7. 查进度：“我的工单”\n"
    "8. 找工作人员：“转人工”"
)

WELCOME = "您好，欢迎关注{community}！我是社区小助手“邻里”。\n" + SERVICE_MENU
WELCOME_WITH_BUILDING = "您好，欢迎关注{community}！已记下您扫码的位置：{scene}。\n" + SERVICE_MENU
SCAN_RECORDED = "已记下您扫码的位置：{scene}。有什么需要，直接发消息告诉我就行。"

GREETING = "您好！我是社区小助手“邻里”，有什么可以帮您？\n" + SERVICE_MENU
THANKS = "不客气！有事随时找我。"

APOLOGY = "抱歉，系统刚才出了点问题，您的消息已经记下，请稍后再试，或回复“转人工”。"
RECEIVED_WHILE_DOWN = "您的消息已收到。系统正在维护，稍后会在这里给您回复，请不用重复发送。"

ACKNOWLEDGED = "收到，您的留言已记录，社区工作人员会尽快处理。"

HANDOFF_STARTED = ("好的，已为您转接社区工作人员，请直接留言，工作人员会尽快回复。\n"
                   "如需回到自助服务，请回复“返回”。")  # outside office hours a note says when (bot/texts/handoff.py)
HANDOFF_ALREADY = "工作人员已收到您的留言，请稍候。如需回到自助服务，请回复“返回”。"
HANDOFF_ENDED = "已回到自助服务。\n" + SERVICE_MENU

IMAGE_RECEIVED = "图片已收到。请再用一句话说说是什么事、在哪里，方便我们处理。"
LOCATION_RECEIVED = "位置已收到：{label}。请再说说是什么事。"
VOICE_UNCLEAR = "抱歉，没有听清您的语音，请再说一遍，或者直接打字告诉我。"
MEDIA_RECEIVED = "已收到，谢谢。如需办事，请用文字或语音告诉我。"
UNSUPPORTED = "抱歉，暂时处理不了这类消息。请用文字或语音告诉我您要办的事。"
EMPTY_TEXT = "您好像发了一条空消息。有什么需要，直接告诉我就行。"

# Names of what a resident may want, for numbered choices.
INTENT_LABELS = {
    "complaint": "投诉反映问题",
    "repair": "报修",
    "suggestion": "提意见建议",
    "consult": "咨询办事",
    "points_query": "查积分",
    "volunteer_signup": "志愿活动",
    "ticket_status": "查工单进度",
    "handoff": "找工作人员",
    "greeting": "看看能办什么",
}
CLARIFY = "我不太确定您的意思，您是想：\n{options}\n请回复数字。都不是的话，换个说法告诉我，或回复“转人工”。"

FAQ_ANSWER = "{answer}\n\n如还有疑问，回复“转人工”找社区工作人员。"
FAQ_NO_MATCH = "抱歉，这个问题我暂时答不上来。回复“转人工”，社区工作人员会为您解答。"
OTHER = "抱歉，这个我帮不上忙。我是社区小助手，能帮您办这些事：\n" + SERVICE_MENU
