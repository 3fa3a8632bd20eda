"""The Chinese words documents use for the platform's codes (statuses, lights, source kinds).

Documents are always in Chinese, as offices file them; the screens translate the same codes
through their catalog. May import: nothing but the standard library.
"""

from __future__ import annotations

STATUS = {
    "registered": "已立项",
    "received": "待签收",
    "acknowledged": "已签收",
    "in_progress": "办理中",
    "completion_reported": "已报办结",
    "completed": "已办结",
    "closed": "已销号",
    "concluded": "已终结",
}
LIGHT = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
SOURCE = {
    "decision": "重大决策部署",
    "document": "政府文件",
    "meeting": "会议决定",
    "instruction": "领导批示",
}
