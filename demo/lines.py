"""Everything the demo prints or has people type, in the transcript's language.

Chinese by default; ``python -m demo --lang en`` gives an English transcript in which the
residents and staff use English as their Telegram language and the bot runs with
HEATBOT_LANG=en, so the bot's replies are English too.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["Lines", "LINES"]


@dataclass(frozen=True)
class Lines:
    lang: str
    # -------- narration
    types: str
    replies: str
    taps: str
    shares: str
    joins: str
    in_chat: str
    sweep: str
    nothing_sent: str
    bot_sends: str
    bot_edits: str
    bot_deletes: str
    # -------- the demo world's names
    dispatch: str
    customer_service: str
    leadership: str
    # -------- story 1: a cold flat
    s1_title: str
    zhang: str
    stranger: str
    report: str
    cold: str
    heping_query: str
    heping: str
    address_zhang: str
    skip: str
    description_zhang: str
    confirm: str
    accept: str
    arrived: str
    done: str
    note: str
    not_solved: str
    still_cold: str
    solved: str
    five_stars: str
    comment: str
    s1_end: str
    # -------- story 2: the deadline clock
    s2_title: str
    li: str
    leak: str
    yangguang_query: str
    yangguang: str
    description_li: str
    ack: str
    delay: str
    delay_reason: str
    approve_delay: str
    s2_end: str
    # -------- story 3: an emergency shutdown
    s3_title: str
    chen: str
    liu: str
    subscribe: str
    emergency: str
    done_choosing: str
    valves: str
    area: str
    reason: str
    now: str
    duration: str
    submit: str
    no_report: str
    posted: str
    restored: str
    s3_end: str
    # -------- story 4: a 12345 work order through the Open311 API
    s4_title: str
    platform: str
    api_calls: str
    api_answers: str
    api_address: str
    api_description: str
    api_note: str
    s4_end: str
    # -------- story 5: the night duty centre and the morning handover (交接班)
    s5_title: str
    zhou: str
    zhou_address: str
    description_zhou: str
    handover_ack: str
    s5_end: str
    # -------- the dispatch board (printed on stderr: the address changes from run to run)
    board_url: str
    board_serving: str
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")


ZH = Lines(
    lang="zh",
    types=" 输入：{text}", replies=" 回复机器人：{text}", taps=" 点按 [{button}]",
    shares=" 点按 [{button}]（发送自己的手机号）", joins=" 加入了「{chat}」", in_chat=" 在「{chat}」",
    sweep="时间过去了，机器人的定时任务检查各项时限", nothing_sent="（机器人没有发消息）",
    bot_sends="→ {chat}：", bot_edits="✎ 修改了「{chat}」里的消息：", bot_deletes="🗑 删除了「{chat}」里的消息：",
    dispatch="调度中心", customer_service="客服中心", leadership="领导",
    s1_title="一 · 居民报修：家中不热", zhang="张大爷", stranger="路人甲",
    report="我要报修", cold="家中不热", heping_query="和平", heping="和平苑", address_zhang="3号楼2单元501",
    skip="跳过", description_zhang="暖气片冰凉，从昨晚开始", confirm="确认提交",
    accept="受理", arrived="已到场", done="处理完成", note="户内阀门堵塞，已清洗，室温回升到 18℃",
    not_solved="还没解决", still_cold="卧室的暖气片还是凉的", solved="解决了", five_stars="5⭐", comment="师傅很耐心，谢谢",
    s1_end="报修 → 工单卡片 → 受理 → 到场 → 完成，每一步都告诉了居民；陌生人点按钮被拒绝；"
           "完成时马上回访，“还没解决”重新打开工单，再次完成后居民评了 5 星。",
    s2_title="二 · 时限：提醒、超时告警、延时审批", li="李阿姨",
    leak="户内或楼内漏水", yangguang_query="阳光", yangguang="阳光花园", description_li="楼上漏水到我家厨房",
    ack="已知悉", delay="申请延时", delay_reason="楼上住户不在家，约好 16:00 入户", approve_delay="批准延时",
    s2_end="时限前提醒，超时告警并由调度认领；时限前申请的延时经调度批准后改变时限，原时限不再告警。",
    s3_title="三 · 紧急停热：通知、停热期间的报修、恢复供热", chen="陈阿姨", liu="刘大爷",
    subscribe="/subscribe 和平苑", emergency="紧急停热", done_choosing="选好了", valves="2 个 DN200",
    area="和平苑 1-6 号楼", reason="一次网主管道爆管，正在抢修", now="现在", duration="6小时", submit="提交",
    no_report="不报修了", posted="已张贴", restored="已恢复供热",
    s3_end="紧急停热通知 → 停热期间的“家中不热”报修由通知答复 → 张贴通知 → 恢复供热。",
    s4_title="四 · 12345 工单经 Open311 接口转来", platform="市12345平台", api_calls=" 调用接口：{call}",
    api_answers="接口答复 {status}：{body}", api_address="幸福里 6-1-402", api_description="市民来电：家中暖气不热，老人在家",
    api_note="楼栋供水阀未全开，已调整，室温 19℃",
    s4_end="12345 工单经接口提交 → 按小区派到中心，列为重大并报告领导 → 受理、到场、完成 → 平台查询到“已完成”和处理说明。",
    s5_title="五 · 夜间值班与早上交接班", zhou="周女士", zhou_address="2号楼3单元101",
    description_zhou="半夜暖气突然不热了，孩子在家", handover_ack="已接班",
    s5_end="凌晨 2 点南区的报修按排班派给北区夜班（值班中心代管），卡片 @ 到值班的李师傅；"
           "早上 8 点交接班消息列出未结工单和本班内到期的时限，白班王师傅点“已接班”；"
           "15 分钟无人接班的中心，负责人收到提醒。",
    board_url="🖥 调度看板：{url}\n   以调度员孙丽的身份登录（一次性链接，5 分钟内有效）：{link}",
    board_serving="看板保持运行中，按 Ctrl-C 结束。",
)

EN = Lines(
    lang="en",
    types=" types: {text}", replies=" replies to the bot: {text}", taps=" taps [{button}]",
    shares=" taps [{button}] (sends their own number)", joins=" joins “{chat}”", in_chat=" in “{chat}”",
    sweep="time passes; the bot's scheduled sweep checks every deadline", nothing_sent="(the bot sends nothing)",
    bot_sends="→ {chat}: ", bot_edits="✎ edits its message in “{chat}”: ", bot_deletes="🗑 deletes its message in “{chat}”: ",
    dispatch="Dispatch", customer_service="Customer service", leadership="Leadership",
    s1_title="1 · A resident reports a cold flat", zhang="Mr Zhang", stranger="A passer-by",
    report="Report a problem", cold="Home not warm", heping_query="heping", heping="Heping Garden",
    address_zhang="3-2-501", skip="Skip", description_zhang="The radiators have been cold since last night",
    confirm="Confirm", accept="Accept", arrived="Arrived", done="Done",
    note="Clogged valve in the flat, cleaned; the room is back to 18 °C",
    not_solved="Not solved", still_cold="The bedroom radiator is still cold", solved="Solved", five_stars="5⭐",
    comment="A patient crew, thank you",
    s1_end="report → card → accept → arrived → done, the resident told at each step; a stranger's press refused; "
           "asked at once at Done, \"not solved\" reopened the ticket, and after the second Done the resident gave 5 stars.",
    s2_title="2 · Deadlines: reminder, escalation, an approved delay", li="Mrs Li",
    leak="Leak or damaged facility", yangguang_query="yangguang", yangguang="Sunshine Garden",
    description_li="Water from upstairs is leaking into my kitchen", ack="Seen, I'm on it", delay="Report delay",
    delay_reason="The upstairs neighbours are out; we agreed to go in at 16:00", approve_delay="Approve delay",
    s2_end="reminder before the limit, escalation at it taken by dispatch; a delay asked in time and approved "
           "moves the limit, so the old one raises no alarm.",
    s3_title="3 · An emergency shutdown: notice, a cold-home report meanwhile, restoration", chen="Mrs Chen",
    liu="Mr Liu", subscribe="/subscribe heping", emergency="Emergency shutdown", done_choosing="Done choosing",
    valves="2 × DN200", area="Heping Garden buildings 1-6", reason="A burst on the primary main; repairs under way",
    now="now", duration="6 hours", submit="Submit", no_report="No report", posted="Notice posted",
    restored="Heating restored",
    s3_end="emergency notice → a cold-home report answered by it → notice posted → heating restored.",
    s4_title="4 · A 12345 work order through the Open311 API", platform="The city's 12345 platform",
    api_calls=" calls the API: {call}", api_answers="the API answers {status}: {body}", api_address="Xingfu Li 6-1-402",
    api_description="Caller says the radiators are cold; an elderly resident at home",
    api_note="The building's supply valve was not fully open; adjusted, room at 19 °C",
    s4_end="12345 order posted → routed by community, major, leadership told → accepted, reached, done → "
           "the platform reads closed with the crew's note.",
    s5_title="5 · The night duty centre and the morning handover", zhou="Ms Zhou", zhou_address="2-3-101",
    description_zhou="The heating stopped in the middle of the night; a child at home", handover_ack="Shift taken over",
    s5_end="at 02:00 a south report goes to the north night shift (the duty centre) by the roster and its card mentions "
           "Li on duty; at 08:00 the handover lists open tickets and what falls due in the shift, Wang takes it over; "
           "a centre whose handover nobody takes within 15 minutes has its lead told.",
    board_url="🖥 Dispatch board: {url}\n   Log in as the dispatcher 孙丽 (one-time link, valid 5 minutes): {link}",
    board_serving="The board keeps running; press Ctrl-C to stop.",
)

LINES = {"zh": ZH, "en": EN}
