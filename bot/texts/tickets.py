"""What residents read while reporting a problem, asking about their tickets and rating them.

Short sentences and numbered choices: many residents are elderly and type little. A full phone
number is never shown back (it may be read over someone's shoulder); see nlp.slots.mask_phone.
"""

KIND_WORDS = {"repair": "报修", "complaint": "投诉", "suggestion": "建议"}

# ---- the intake form --------------------------------------------------------------------------

DESCRIBE = {
    "repair": "请简单说说哪里坏了，例如：“3栋2单元楼道灯坏了”。",
    "complaint": "请简单说说要反映什么问题，例如：“楼下饭店油烟太大”。",
    "suggestion": "请说说您的建议，例如：“建议小区多装几个充电桩”。",
}
ASK_DESCRIPTION = {kind: "好的，" + ask for kind, ask in DESCRIBE.items()}  # DESCRIBE alone after another sentence
DESCRIPTION_TOO_SHORT = "请再多说几个字，说说是什么问题。"
NOTED = "收到您的{kind}：{what}。\n"  # read back first, so the resident knows they were understood
DESCRIPTION_JOINER = "；"  # between the first words and what the resident added (a danger said later)

ASK_LOCATION = "请问在哪里？例如“3栋2单元502”或“小区东门”，也可以发送位置。"
CONFIRM_LOCATION = "是在{place}吗？回复“是”，或直接说新地点。"
LOCATION_UNCLEAR = "没听清地点。请说楼栋单元（如“3栋2单元502”）或大概位置（如“小区东门”），也可以发送位置。"
LOCATION_CONFIRM_UNCLEAR = "抱歉，没听明白。是在{place}吗？回复“是”，或直接说新地点（如“3栋2单元502”“小区东门”）。"
UNKNOWN_BUILDING = "本小区没有找到“{building}”，请再确认一下楼栋号（例如：{examples}）。"

ASK_CATEGORY = "请问属于哪一类？回复数字：\n{options}"
CATEGORY_UNCLEAR = "请回复上面列表里的数字，例如“1”。"
OTHER_CATEGORY = "其他"

ASK_PHOTO = "可以发一张现场照片，方便工作人员了解情况；没有请回复“跳过”。"
PHOTO_GO_AHEAD = "好的，请直接发照片：点输入框右边的“+”，选“照片”或“拍摄”。没有照片请回复“跳过”。"
PHOTO_RECEIVED = "照片收到了。"
ASK_PHONE_REGISTERED = ("工作人员可能需要电话联系您。回复“1”使用登记的电话 {masked}；"
                        "也可以直接发新号码；不留电话请回复“跳过”。")
ASK_PHONE = "方便留个联系电话吗？直接发号码即可；不留电话请回复“跳过”。"
PHONE_UNCLEAR = "没有认出电话号码。请发手机号（11位）或座机号，不留电话请回复“跳过”。"

SUMMARY = "请核对您的{kind}：\n{lines}\n回复“确认”提交，“修改”更改内容，“取消”不提交。"
SUMMARY_CATEGORY = "类别：{value}"
SUMMARY_DESCRIPTION = "问题：{value}"
SUMMARY_LOCATION = "地点：{value}"
SUMMARY_PHOTOS = "照片：{value}张"
SUMMARY_PHONE = "电话：{value}"
NO_PHONE = "不留"
CONFIRM_UNCLEAR = "请回复“确认”提交，“修改”更改内容，或“取消”不提交。"

ASK_EDIT = "请问要改哪一项？回复数字：\n{options}"
EDIT_FIELDS = {"description": "问题描述", "location": "地点", "category": "类别", "photo": "照片", "phone": "电话"}

CORRECTED = "好的，已改为：{value}。"
UNIT = "{unit}单元"  # in a read-back address: "3栋" + "2单元" + "502"
PLACE_FROM_MAP = "（已发送位置）"  # a location message without a name
LOCATION_NOTED = "位置收到了：{value}。"

FORM_STILL_OPEN = "{answer}\n\n您正在填写的{kind}还没有提交：{question}"
ANOTHER_PROBLEM = "这像是另一个问题，我们先把这次的{kind}填完，提交后再告诉我就行。\n"

CANCELLED = "好的，已取消，这次的{kind}没有提交。有需要随时找我。"
EXPIRED = "您刚才的{kind}超过{minutes}分钟没有完成，已自动取消，没有提交。需要的话请重新说一下是什么问题。"
TIMEOUT_NOTICE = ("您刚才的{kind}还没提交，超过{minutes}分钟没有回复，已自动取消。"
                  "需要的话请重新发消息说明问题，我们会尽快处理。")
RESTARTED_AFTER_EXPIRY = "（之前没有完成的{kind}已超时取消。）\n"

DUPLICATE_FOUND = ("附近已有同类工单 {number}（{label}），正在处理中。\n"
                   "回复“1”加入关注（有进展一起通知您），回复“2”仍然单独提交。")
# Someone else's ticket as a resident who joins it sees it: where (the building, or a public
# spot) and what kind of problem — never the reporter's flat or words.
SHARED_LABEL = "{place}·{category}"
SHARED_AREA = "小区公共区域"
DUPLICATE_UNCLEAR = "请回复“1”加入关注已有工单，或回复“2”单独提交。"
JOINED = "已加入关注工单 {number}，有进展会一起通知您。可回复“我的工单”查看进度。"
ALREADY_JOINED = "您已经在关注工单 {number}，有进展会通知您。可回复“我的工单”查看进度。"

FILED = ("已提交，工单号 {number}，预计{expected}处理完成。\n"
         "处理有进展会通知您，也可回复“我的工单”查看进度。")
FILED_RED = ("【紧急】已立即上报社区和街道，工单号 {number}，工作人员会尽快赶到，预计{expected}处理完成。\n"
             "{advice}\n紧急情况请直接拨打119（火警）、120（急救）或110（报警）。\n"
             "如方便，可直接发送现场照片或位置，我们会补充到工单里。")
RED_JOINED = ("【紧急】这个情况刚刚已有居民上报，工单号 {number}，社区和街道已收到，工作人员正在处理，"
              "预计{expected}处理完成。已把您加入这张工单，有进展会通知您。\n"
              "{advice}\n紧急情况请直接拨打119（火警）、120（急救）或110（报警）。\n"
              "如方便，可直接发送现场照片或位置，我们会补充到工单里。")
FOLLOWUP_ATTACHED = "已补充到工单 {number}，谢谢。"

SAFETY_ADVICE = {
    "gas": "请不要开关任何电器、不要使用明火，立即开窗通风，能安全操作的话关闭燃气总阀，然后到室外拨打燃气抢修电话。",
    "fire": "请立即离开到安全地带，不要乘坐电梯，用湿毛巾捂住口鼻，尽快拨打119。",
    "elevator": "被困人员请保持冷静，按电梯里的警铃或拨打电梯内的救援电话，不要强行扒门。",
    "electricity": "请远离漏电处，不要用手碰电线或触电的人；能安全操作的话先拉下电闸，有人受伤请拨打120。",
    "water": "请关闭家里的总水阀，拔掉积水附近电器的插头，注意防滑。",
    "general": "请注意安全，远离危险区域。",
}

# ---- my tickets -------------------------------------------------------------------------------

NO_OPEN_TICKETS = "您目前没有未办结的工单。需要报修或投诉，直接告诉我是什么问题就行，例如：“3栋楼道灯坏了”。"
OPEN_TICKETS = "您有{count}张未办结的工单：\n{lines}\n{hint}"
TICKET_LINE = "{n}. {number} {description}（{status}，{expected}）"
LINE_EXPECTED = "预计{expected}"
LINE_DONE = "已处理"
PICK_HINT = "回复序号查看详情。"
NUMBER_HINT = "发送“工单 单号”查看详情。"
PICK_OUT_OF_RANGE = "请回复1到{count}之间的序号。"
NO_MATCHING_TICKET = "没有找到您未办结的相关工单。需要报修吗？直接告诉我是什么问题就行，例如：“3栋楼道灯坏了”。"
NOT_MATCHED_LIST = "没有找到完全对应的工单。您未办结的工单有：\n{lines}\n{hint}"
SEVERAL_MATCHED = "找到{count}张可能相关的工单：\n{lines}\n{hint}"
TICKET_NOT_FOUND = "没有查到工单 {number}，或者它不是您提交或关注的。请核对单号，或回复“我的工单”查看。"

TICKET_DETAIL = "工单 {number}\n{lines}"
DETAIL_KIND = "类型：{value}"
KIND_WITH_CATEGORY = "{kind}（{category}）"
DETAIL_DESCRIPTION = "问题：{value}"
DETAIL_LOCATION = "地点：{value}"
DETAIL_STATUS = "状态：{value}"
DETAIL_EXPECTED = "预计：{value}处理完成"
DETAIL_RATE_HINT = "已处理完成，请回复“满意”“基本满意”或“不满意”评价。"

# ---- rating -----------------------------------------------------------------------------------

RATED = "感谢您的评价！工单 {number} 已完成回访。"
RATED_UNSATISFIED = "很抱歉没有让您满意。工单 {number} 已重新办理，工作人员会尽快与您电话联系。"
MORE_TO_RATE = "\n您还有工单 {number}（{description}）等待评价，请回复“满意”“基本满意”或“不满意”。"
NOTHING_TO_RATE = "谢谢您！目前没有需要评价的工单。"
RATING_FAILED = "抱歉，这张工单刚刚有了新进展，暂时不能评价。请回复“我的工单”查看，或回复“转人工”。"
NUMBER_WITHOUT_QUESTION = "您回复了“{number}”，不过现在没有需要选择的事项。\n"
