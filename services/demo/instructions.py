"""Stories of leaders' instructions (领导批示): a coal-mine accident assigned down three levels with
an extension at the bottom; a province's river instruction. May import: the standard library,
``services.demo.story`` and ``services.supervision``.
"""

from __future__ import annotations

from datetime import date

from services.demo.story import Story
from services.supervision import NewItem


def coal_mine_instruction(st: Story) -> None:
    """领导批示 on a coal-mine accident, assigned down three levels; extended at the bottom."""
    item = st.register(
        "coal-mine",
        "state-council",
        date(2026, 9, 14),
        NewItem(
            title="关于白银市平川区煤矿安全事故的批示",
            source_kind="instruction",
            source_ref="国办督〔2026〕批字第37号",
            issued_on=date(2026, 9, 14),
            objective="查明事故原因，依法严肃追责，全面排查整治煤矿安全隐患",
            content="甘肃省牵头，应急管理部配合，开展事故调查和全省煤矿安全生产大排查",
            executing_unit="国务院办公厅督查室",
            responsible_person="王建国",
            importance=5,
            urgency=5,
        ),
    )
    tasks = st.assign_down(date(2026, 9, 15), "state-council", item, "gansu", ("mem",))
    st.act(date(2026, 9, 16), "gansu", "clerk", tasks["gansu"], "acknowledge")
    st.act(date(2026, 9, 16), "mem", "clerk", tasks["mem"], "acknowledge")
    city = st.assign_down(
        date(2026, 9, 17), "gansu", tasks["gansu"], "baiyin", responsible_person="李明"
    )
    st.act(date(2026, 9, 18), "baiyin", "clerk", city["baiyin"], "acknowledge")
    county = st.assign_down(
        date(2026, 9, 21),
        "baiyin",
        city["baiyin"],
        "pingchuan",
        responsible_person="赵强",
        deadline=date(2026, 10, 23),  # a week before the city's own, to compile its report
    )
    bottom = county["pingchuan"]
    st.act(date(2026, 9, 22), "pingchuan", "clerk", bottom, "acknowledge")
    st.act(
        date(2026, 10, 15),
        "pingchuan",
        "clerk",
        bottom,
        "report-progress",
        text="已完成事故现场勘查，关闭涉事矿井，对全区12处煤矿开展隐患排查",
        percent=60,
    )
    st.act(
        date(2026, 10, 20),
        "pingchuan",
        "clerk",
        bottom,
        "request-extension",
        new_deadline=date(2026, 10, 30),
        reason="事故技术鉴定需省级专家组复核，预计10月底完成",
        progress="隐患排查已完成，整改进行中",
    )
    st.act(
        date(2026, 10, 21),
        "baiyin",
        "supervisor",
        city["baiyin"],
        "grant-extension",
        assignee="pingchuan",
        comment="同意延期，请每周报送进展",
    )
    st.act(
        date(2026, 11, 9),
        "mem",
        "clerk",
        tasks["mem"],
        "report-progress",
        text="派出工作组赴甘肃指导事故调查",
        percent=50,
    )


def gansu_river(st: Story) -> None:
    """A provincial leader's instruction with the 30-working-day default: overdue, escalated."""
    item = st.register(
        "gs-river",
        "gansu",
        date(2026, 9, 1),
        NewItem(
            title="关于黄河流域白银段生态保护问题的批示",
            source_kind="instruction",
            source_ref="甘政批〔2026〕21号",
            issued_on=date(2026, 9, 1),
            objective="整治黄河白银段违规排污问题",
            content="排查沿河企业排污口，依法关停违规企业",
            executing_unit="甘肃省生态环境厅",
            responsible_person="马晓东",
            urgency=4,
        ),
    )
    tasks = st.assign_down(date(2026, 9, 2), "gansu", item, "baiyin", ("lanzhou",))
    st.act(date(2026, 9, 3), "baiyin", "clerk", tasks["baiyin"], "acknowledge")
    st.act(
        date(2026, 9, 25),
        "baiyin",
        "clerk",
        tasks["baiyin"],
        "report-progress",
        text="已排查排污口46个",
        percent=30,
    )
    st.act(
        date(2026, 10, 21),
        "gansu",
        "supervisor",
        item,
        "urge",
        message="已逾期，请白银市立即报送整治进展",
    )
    st.act(
        date(2026, 11, 2),
        "gansu",
        "supervisor",
        item,
        "escalate",
        to="省政府分管副省长",
        reason="逾期未完成且进展缓慢",
    )
