"""Stories of major decisions (重大决策部署): incomes, reported complete on time and published. May
import: the standard library, ``services.demo.story`` and ``services.supervision``.
"""

from __future__ import annotations

from datetime import date

from services.demo.story import Story
from services.supervision import NewItem


def income_decision(st: Story) -> None:
    """重大决策部署 assigned to a ministry with a co-executor; completion reported on time."""
    item = st.register(
        "income-decision",
        "state-council",
        date(2026, 7, 1),
        NewItem(
            title="关于推进城乡居民增收的重大决策部署",
            source_kind="decision",
            source_ref="中办发〔2026〕9号",
            issued_on=date(2026, 7, 1),
            objective="制定城乡居民增收实施方案并推动落实",
            content="国家发展改革委牵头，财政部配合，提出增收政策清单和分工方案",
            executing_unit="国务院办公厅督查室",
            responsible_person="孙伟",
            deadline=date(2026, 12, 31),
            importance=5,
            urgency=3,
        ),
    )
    tasks = st.assign_down(date(2026, 7, 2), "state-council", item, "ndrc", ("mof",))
    st.act(date(2026, 7, 3), "ndrc", "clerk", tasks["ndrc"], "acknowledge")
    st.act(date(2026, 7, 6), "mof", "clerk", tasks["mof"], "acknowledge")
    st.act(
        date(2026, 9, 30),
        "ndrc",
        "clerk",
        tasks["ndrc"],
        "report-progress",
        text="增收政策清单已形成，正在征求部门意见",
        percent=75,
    )
    st.act(
        date(2026, 11, 16),
        "ndrc",
        "clerk",
        tasks["ndrc"],
        "report-completion",
        text="实施方案已印发",
        attachments=[{"name": "城乡居民增收实施方案.pdf"}],
    )
    st.act(
        date(2026, 11, 16),
        "state-council",
        "supervisor",
        item,
        "publish",
        summary="城乡居民增收实施方案已印发实施",
    )
