"""Stories of meeting decisions (会议决定): employment, completed and closed; flood prevention under
rectification. May import: the standard library, the domain, ``services.demo.story`` and
``services.supervision``.
"""

from __future__ import annotations

from datetime import date

from domain.assignment import Assignee
from services.demo.story import Story
from services.supervision import NewItem


def employment_meeting(st: Story) -> None:
    """会议决定 carried out by an internal unit: completed, accepted and closed."""
    item = st.register(
        "employment-meeting",
        "state-council",
        date(2026, 4, 8),
        NewItem(
            title="国务院常务会议关于稳就业政策落实的决定",
            source_kind="meeting",
            source_ref="国务院常务会议纪要〔2026〕第12次",
            issued_on=date(2026, 4, 8),
            objective="梳理稳就业政策落实情况，形成评估报告",
            content="汇总各地稳岗补贴发放、重点群体就业数据，提出改进建议",
            executing_unit="国务院办公厅督查室",
            responsible_person="刘芳",
            deadline=date(2026, 6, 30),
            importance=4,
            urgency=3,
        ),
    )
    st.act(
        date(2026, 4, 9),
        "state-council",
        "supervisor",
        item,
        "assign",
        assignees=[Assignee("unit", "督查一组", "lead"), Assignee("unit", "督查三组", "co")],
    )
    st.act(date(2026, 4, 9), "state-council", "clerk", item, "acknowledge")
    st.act(
        date(2026, 5, 20),
        "state-council",
        "clerk",
        item,
        "report-progress",
        text="已收集28个省份数据",
        percent=70,
    )
    st.act(
        date(2026, 6, 25),
        "state-council",
        "clerk",
        item,
        "report-completion",
        text="评估报告已报送",
        attachments=[{"name": "稳就业政策落实评估报告.pdf", "size": 1843200}],
    )
    st.act(date(2026, 6, 29), "state-council", "leader", item, "accept-completion", comment="同意")
    st.act(
        date(2026, 6, 29),
        "state-council",
        "supervisor",
        item,
        "record-finding",
        kind="experience",
        text="多地推行“直补快办”，稳岗补贴平均发放时间缩短至5个工作日",
        recommendation="在全国推广免申即享做法",
    )
    st.act(date(2026, 6, 30), "state-council", "leader", item, "close", reason="已办结")


def sichuan_rectification(st: Story) -> None:
    """A province's meeting decision: completion returned, rectification ordered and reported."""
    item = st.register(
        "sc-flood",
        "sichuan",
        date(2026, 5, 11),
        NewItem(
            title="省政府常务会议关于汛期地质灾害防治的决定",
            source_kind="meeting",
            source_ref="四川省政府常务会议纪要〔2026〕第8次",
            issued_on=date(2026, 5, 11),
            objective="完成地质灾害隐患点搬迁避让",
            content="对全省重大地质灾害隐患点实施工程治理或搬迁避让",
            executing_unit="四川省自然资源厅",
            responsible_person="杨帆",
            deadline=date(2026, 10, 31),
        ),
    )
    st.act(date(2026, 5, 12), "sichuan", "clerk", item, "acknowledge")
    st.act(date(2026, 9, 30), "sichuan", "clerk", item, "report-completion", text="已完成治理")
    st.act(
        date(2026, 10, 9),
        "sichuan",
        "leader",
        item,
        "return-completion",
        reason="抽查发现3处隐患点未落实搬迁",
    )
    st.act(
        date(2026, 10, 10),
        "sichuan",
        "supervisor",
        item,
        "order-rectification",
        requirements="对未落实搬迁的隐患点限期整改，并追究相关责任",
        deadline=date(2026, 11, 30),
    )
    st.act(
        date(2026, 11, 12),
        "sichuan",
        "clerk",
        item,
        "report-rectification",
        text="3处隐患点群众已全部搬迁，责任人已约谈",
    )
