"""Stories of government documents (政府文件): winter safety with one province on time and one
overdue; a province's business environment, commended; a city's elderly care and its circular. May
import: the standard library, the domain, ``services.demo.story`` and ``services.supervision``.
"""

from __future__ import annotations

from datetime import date

from domain.assignment import Assignee
from services.demo.story import Story, demo_id
from services.supervision import NewItem


def safety_document(st: Story) -> None:
    """政府文件 on winter production safety: one province on time, one overdue."""
    item = st.register(
        "winter-safety",
        "state-council",
        date(2026, 9, 1),
        NewItem(
            title="关于做好2026年冬春安全生产工作的通知",
            source_kind="document",
            source_ref="国办发〔2026〕18号",
            issued_on=date(2026, 9, 1),
            objective="坚决遏制重特大事故，确保冬春季节安全生产形势稳定",
            content="开展危险化学品、矿山、消防、交通等重点行业领域安全检查",
            executing_unit="国务院办公厅督查室",
            responsible_person="陈立",
            deadline=date(2026, 10, 30),
            importance=4,
            urgency=4,
        ),
    )
    tasks = st.assign_down(date(2026, 9, 2), "state-council", item, "mem", ("guangdong", "sichuan"))
    st.act(date(2026, 9, 3), "mem", "clerk", tasks["mem"], "acknowledge")
    st.act(date(2026, 9, 3), "guangdong", "clerk", tasks["guangdong"], "acknowledge")
    st.act(
        date(2026, 10, 20),
        "mem",
        "clerk",
        tasks["mem"],
        "report-progress",
        text="已部署全国冬春安全检查，完成31个省份督导",
        percent=80,
    )
    st.act(
        date(2026, 10, 26),
        "guangdong",
        "clerk",
        tasks["guangdong"],
        "report-completion",
        text="全省完成重点行业安全检查，整改隐患1,204处",
    )
    st.act(
        date(2026, 11, 5),
        "state-council",
        "supervisor",
        item,
        "urge",
        message="四川省尚未签收，请于3个工作日内签收并报送进展",
    )


def business_environment(st: Story) -> None:
    """A province's own document item: accepted, commended and published."""
    item = st.register(
        "gd-business",
        "guangdong",
        date(2026, 3, 16),
        NewItem(
            title="关于进一步优化营商环境的若干措施",
            source_kind="document",
            source_ref="粤府办〔2026〕12号",
            issued_on=date(2026, 3, 16),
            objective="企业开办时间压缩至1个工作日",
            content="推行企业开办“一网通办”，实现营业执照、印章、发票一次办结",
            executing_unit="广东省政务服务数据管理局",
            responsible_person="黄志强",
            deadline=date(2026, 9, 30),
        ),
    )
    st.act(
        date(2026, 3, 17),
        "guangdong",
        "supervisor",
        item,
        "assign",
        assignees=[Assignee("unit", "省政务服务数据管理局", "lead")],
    )
    st.act(date(2026, 3, 18), "guangdong", "clerk", item, "acknowledge")
    st.act(
        date(2026, 8, 28),
        "guangdong",
        "clerk",
        item,
        "report-completion",
        text="全省企业开办平均用时0.8个工作日",
    )
    st.act(date(2026, 9, 4), "guangdong", "leader", item, "accept-completion", comment="成效明显")
    st.act(
        date(2026, 9, 10),
        "guangdong",
        "leader",
        item,
        "commend",
        reason="提前完成任务，企业开办便利度全国领先",
    )
    st.act(
        date(2026, 9, 10),
        "guangdong",
        "supervisor",
        item,
        "publish",
        summary="广东省企业开办时间压缩至1个工作日以内",
    )


def chengdu_circular(st: Story) -> None:
    """A prefecture's document item with a recorded problem, and a circular."""
    item = st.register(
        "cd-elderly",
        "chengdu",
        date(2026, 6, 1),
        NewItem(
            title="关于加快社区养老服务设施建设的通知",
            source_kind="document",
            source_ref="成办发〔2026〕30号",
            issued_on=date(2026, 6, 1),
            objective="新建社区养老服务综合体20个",
            content="各区（市）县按分解任务推进建设",
            executing_unit="成都市民政局",
            responsible_person="何丽",
            deadline=date(2026, 12, 31),
        ),
    )
    tasks = st.assign_down(date(2026, 6, 2), "chengdu", item, "pidu")
    st.act(date(2026, 6, 3), "pidu", "clerk", tasks["pidu"], "acknowledge")
    st.act(
        date(2026, 10, 12),
        "pidu",
        "clerk",
        tasks["pidu"],
        "record-finding",
        kind="problem",
        text="部分项目用地指标落实难",
        recommendation="建议市级统筹存量用地",
    )
    st.clock.on(date(2026, 11, 18))
    st.s.issue_circular(
        st.person("chengdu", "leader"),
        "chengdu",
        "关于社区养老服务设施建设进展情况的通报",
        "各区（市）县人民政府",
        "郫都区进展较快，予以表扬",
        ["郫都区"],
        [],
        demo_id("cd-circular"),
    )
