"""A realistic demo: the State Council General Office, ministries, provinces, prefectures and
counties, with items from all four source kinds at every stage (as of 2026-11-20).

Every id is derived from a fixed key, and a story whose first item exists is skipped, so
seeding twice adds nothing. The demo keeps its own clock: each step happens on its own date.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import click

from domain.assignment import Assignee
from domain.tasks import Task
from domain.values import Actor
from services.bootstrap import Platform, build_platform
from services.clock import at_noon
from services.supervision import NewItem, SupervisionService
from services.users import UserDirectory

DEMO_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ducha:demo")
DEMO_TODAY = date(2026, 11, 20)

OFFICES: list[tuple[str, str, str, str | None]] = [
    ("state-council", "国务院办公厅", "central", None),
    ("ndrc", "国家发展和改革委员会", "ministry", "state-council"),
    ("mof", "财政部", "ministry", "state-council"),
    ("mem", "应急管理部", "ministry", "state-council"),
    ("guangdong", "广东省人民政府办公厅", "province", "state-council"),
    ("guangzhou", "广州市人民政府办公厅", "prefecture", "guangdong"),
    ("tianhe", "广州市天河区人民政府办公室", "county", "guangzhou"),
    ("shenzhen", "深圳市人民政府办公厅", "prefecture", "guangdong"),
    ("sichuan", "四川省人民政府办公厅", "province", "state-council"),
    ("chengdu", "成都市人民政府办公厅", "prefecture", "sichuan"),
    ("pidu", "成都市郫都区人民政府办公室", "county", "chengdu"),
    ("mianyang", "绵阳市人民政府办公室", "prefecture", "sichuan"),
    ("gansu", "甘肃省人民政府办公厅", "province", "state-council"),
    ("lanzhou", "兰州市人民政府办公室", "prefecture", "gansu"),
    ("baiyin", "白银市人民政府办公室", "prefecture", "gansu"),
    ("pingchuan", "白银市平川区人民政府办公室", "county", "baiyin"),
    ("jingyuan", "靖远县人民政府办公室", "county", "baiyin"),
]


class DemoClock:
    """The demo's own time: set to each step's day."""

    def __init__(self) -> None:
        self.now = at_noon(DEMO_TODAY)

    def __call__(self) -> datetime:
        return self.now

    def on(self, day: date) -> None:
        self.now = at_noon(day)


@dataclass(frozen=True)
class Summary:
    offices: int
    items: int


class Story:
    """Helpers a story uses to act as the people of each office."""

    def __init__(self, service: SupervisionService, clock: DemoClock) -> None:
        self.s = service
        self.clock = clock

    @staticmethod
    def person(office: str, role: str) -> Actor:
        return Actor(f"{office}-{role}", office, role)

    def register(self, key: str, office: str, day: date, new: NewItem) -> str:
        self.clock.on(day)
        item_id = demo_id(key)
        self.s.register_item(self.person(office, "supervisor"), office, new, item_id)
        return str(item_id)

    def act(
        self, day: date, office: str, role: str, item_id: str, action: str, **params: object
    ) -> None:
        self.clock.on(day)
        self.s.act(self.person(office, role), office, item_id, action, None, **params)

    def assign_down(
        self,
        day: date,
        office: str,
        item_id: str,
        lead: str,
        co: tuple[str, ...] = (),
        **kw: object,
    ) -> dict[str, str]:
        """Assign to offices; the process manager creates their tasks (ids are derived)."""
        assignees = [Assignee("office", lead, "lead")] + [Assignee("office", c, "co") for c in co]
        self.act(day, office, "supervisor", item_id, "assign", assignees=assignees, **kw)
        return {t: str(Task.create_id(office, item_id, t)) for t in (lead, *co)}


def demo_id(key: str) -> UUID:
    return uuid5(DEMO_NAMESPACE, key)


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
        date(2026, 9, 21), "baiyin", city["baiyin"], "pingchuan", responsible_person="赵强"
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
        date(2026, 10, 28),
        "pingchuan",
        "clerk",
        bottom,
        "request-extension",
        new_deadline=date(2026, 12, 15),
        reason="事故技术鉴定需省级专家组复核，预计12月上旬完成",
        progress="隐患排查已完成，整改进行中",
    )
    st.act(
        date(2026, 10, 29),
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


STORIES: list[tuple[str, str, Callable[[Story], None]]] = [
    ("state-council", "coal-mine", coal_mine_instruction),
    ("state-council", "winter-safety", safety_document),
    ("state-council", "employment-meeting", employment_meeting),
    ("state-council", "income-decision", income_decision),
    ("guangdong", "gd-business", business_environment),
    ("sichuan", "sc-flood", sichuan_rectification),
    ("gansu", "gs-river", gansu_river),
    ("chengdu", "cd-elderly", chengdu_circular),
]
"""(office, key of the story's first item, story)."""


def seed(platform: Platform, progress: bool = False) -> Summary:
    """Register the demo offices and play each story not played yet, on the demo's clock."""
    clock = DemoClock()
    demo = build_platform(platform.settings, clock=clock)
    try:
        return play(demo, clock, progress)
    finally:
        demo.close()


def play(demo: Platform, clock: DemoClock, progress: bool) -> Summary:
    admin = Actor("demo", "platform", "admin")
    clock.on(date(2026, 1, 5))
    for code, name, level, parent in OFFICES:
        if not demo.registry.exists(code):
            demo.registry.register(admin, code, name, level, parent)
    story = Story(demo.supervision, clock)
    bar = click.progressbar(STORIES, label="seeding demo", file=sys.stderr, show_pos=True)
    with bar if progress else nullcontext(STORIES) as stories:
        for office, key, play_story in stories:
            if not demo.supervision.exists(office, demo_id(key)):
                play_story(story)
    items = sum(len(demo.supervision.list_cases(code)) for code, *_ in OFFICES)
    return Summary(offices=len(OFFICES), items=items)


DEMO_USERS: list[tuple[str, str, str]] = [
    ("state-council", "admin", "平台管理员"),
    ("state-council", "leader", "国办督查室主任"),
    ("state-council", "supervisor", "国办督查专员"),
    ("state-council", "auditor", "国办审计专员"),
    ("gansu", "leader", "甘肃省政府办公厅督查室主任"),
    ("gansu", "supervisor", "甘肃省督查专员"),
    ("gansu", "clerk", "甘肃省办公厅经办人"),
    ("baiyin", "clerk", "白银市办公室经办人"),
    ("pingchuan", "clerk", "平川区办公室经办人"),
    ("sichuan", "leader", "四川省政府办公厅督查室主任"),
]
"""Who can sign in to the demo: (office, role, name)."""


def seed_users(users: UserDirectory, tokens_file: Path) -> list[dict[str, str]]:
    """Demo users, once. Their tokens are kept in ``tokens_file`` (demo only: a real
    deployment hands each token to its holder and keeps nothing but the hash)."""
    if tokens_file.exists():
        kept: list[dict[str, str]] = json.loads(tokens_file.read_text(encoding="utf-8"))
        return kept
    admin = Actor("demo", "state-council", "admin")
    seeded = []
    for office, role, name in DEMO_USERS:
        user, token = users.add(admin, office, role, name)
        seeded.append({"office": office, "role": role, "name": name, "id": user.id, "token": token})
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps(seeded, ensure_ascii=False, indent=2), encoding="utf-8")
    tokens_file.chmod(0o600)
    return seeded
