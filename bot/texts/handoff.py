"""What residents read about the hand-off to staff (转人工) beyond the channel texts."""

# Appended to the hand-off message outside office hours ([console] office_hours).
OFF_HOURS = "现在是非工作时间，工作人员将于{when}后回复您，请直接留言。"
TODAY = "今天{time}"
TOMORROW = "明天{time}"
LATER = "{month}月{day}日（周{weekday}）{time}"

# The bot did not understand twice in a row: a person takes over.
AUTO_HANDOFF = ("抱歉，我没能理解您的意思，已为您转接社区工作人员，请直接留言说明情况。\n"
                "如需回到自助服务，请回复“返回”。")

# Staff closed the thread from the console.
CLOSED_BY_STAFF = "本次人工服务已结束，感谢您的耐心。如还有需要，直接发消息给我即可。"
