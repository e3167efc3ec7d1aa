"""Demo data for the campaigns app (专项活动与督导), built by `branches.demo.DemoBuilder` once the
organization tree, the demo accounts, the organizational life, the pairings and the evaluations
exist, and flushed by `branches.demo.flush()` first of all (problems, participations, annual
reports and key measures protect their organization; a tagged theme day points at its activity
record; an inspection group and a problem's history point at the demo accounts).

What it builds, from the figures of shared/docs/domain.md (section Campaigns and supervision):

- Putian's "十百千万" plan for this year: 10 demonstration bases, 100 five-star branches, a
  1,000-person commemoration and a 10,000-person chorus (by hand, except the five-star branches:
  live, the titles of the five-star program awarded this year; the evaluations demo has that
  program open, none awarded yet, so it shows 0 until staff award them), and a fifth target,
  live and never empty: in-service members registered at their community (党员到社区报到),
  the goal being every in-service member. Two live targets, three by hand;
- a "献爱心、送温暖" theme-day campaign for last month, with its topic: about 40% of the branches
  file their part (members, money to the fen, goods by item and unit: at city scale some 230
  branches, 2,200 members and goods worth about 400,000 yuan, as Putian's 232 branches, 2,230
  members and 400,000 yuan), and some tag the theme day the activity step filed for them that
  month (CampaignActivity), some of those having filed too: each branch counts once;
- a volunteer deployment: 5 teams, 3 batches of two weeks within the campaign's dates, 128
  members per city deployed once each (at least 25 at small scale);
- one inspection round (督导检查): 4 groups per city made of the demo's staff and inspector
  accounts (inspector1 in the group visiting its unit), visiting about 21 units per city
  (every unit at small scale) with their visit logs (听、看、查、访, villages of the units'
  "1+1" pairings included: the towns visited come from there), and the problems found (some
  150 per city; Putian's special checks found 167), each in one of the five states with the
  history of how it got there (`rules.TRANSITIONS` only, each step by the side
  `rules.MOVED_BY` says), an answer (Rectification) for every submission, some sent back and
  answered again. About one in ten, past its deadline and not accepted, is overdue:
  `services.mark_overdue` marks them and tells their secretaries, then the day they were
  marked is put back to the day after the deadline, as the nightly task would have done.
  secretary1's branch has an open problem and an overdue one;
- last year's annual reports (述职评议) of every committee and general branch and about half
  of the branches, assessed good / fairly good / average / poor early this year, some 71 per
  city with problems found (annual_report set), handled through the same states;
- a key-task list (重点任务清单): 11 tasks, 37 measures at every scale, owned by the units'
  committees, with deadlines through the year, progress notes, most of those due done.

The numbers agree with the selectors: the live targets are `selectors.live_counts`, the
participation totals `selectors.participation_totals`; a problem's last event is its state.

Deterministic: its own random stream (`builder.rng_for("campaigns")`), every choice made in the
tree's order, never by primary key; dates relative to the builder's today, nothing happened
after it (deadlines and the plans' end dates may lie ahead). Fast: drafts in memory, then plain
rows per table (`insert_with_ids`, `insert_rows`), one query for the theme days of the month and
one for the pairings' villages: at city scale (~3,000 rows) 0.3 s on SQLite, 0.2 s on
PostgreSQL; at province scale (~30,000 rows) under two seconds.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone, translation

from accounts.models import Notice, Role, User
from branches.demo import (
    COMMUNITIES,
    OrgPlan,
    allocate,
    chinese_number,
    insert_rows,
    insert_with_ids,
    truncate,
)
from branches.models import ActivityRecord, MemberStatus, OrganizationKind

from . import services
from .models import (
    AnnualReport,
    Assessment,
    Campaign,
    CampaignActivity,
    CampaignKind,
    Deployment,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Severity,
    Target,
    TargetSource,
    VisitLog,
    VisitMethod,
    VolunteerBatch,
    VolunteerTeam,
)

if TYPE_CHECKING:
    from branches.demo import DemoBuilder

K = OrganizationKind
P = ProblemState
DAY = datetime.timedelta(days=1)
CENT = Decimal("0.01")
THEME_DAY = "theme_day"
REPORTED = (K.COMMITTEE, K.GENERAL_BRANCH, K.BRANCH)  # who reports, who is inspected

# --- figures per city (domain.md) ---------------------------------------------------------------
THEME_SHARE = 0.36  # branches filing their part: with the tagged ones, ~232 of 577 (city)
TAGGED_OF_FILED = 0.5  # of those with a theme day that month, also tagged it
TAGGED_ONLY = 0.07  # branches not filing that tagged their theme day all the same
VOLUNTEERS = 128  # per city of CITY_MEMBERS members; 5 teams, 3 batches
CITY_MEMBERS = 19900  # about the members the city scale builds
MIN_VOLUNTEERS = 25
TEAMS = 5
BATCHES = 3
BATCH_DAYS = 14
VOLUNTEER_STARTS = 140  # days ago
GROUPS = 4  # inspection groups per city
UNITS_VISITED = 21  # per city (every unit of a smaller city)
INSPECTION_STARTS = 80  # days ago
INSPECTION_DAYS = 45
PROBLEMS_PER_ORGANIZATION = ([0, 1, 2, 3], [50, 38, 10, 2])  # about 167 per city
VILLAGES_PER_GROUP = 7  # 29 villages in 20 towns for 4 groups
REPORTED_BRANCHES = 0.5  # share of branches whose secretary reports (all committees do)
REPORTS_WITH_PROBLEMS = 71  # per CITY_REPORTING organizations
CITY_REPORTING = 672  # committees, general branches and branches of the city scale
ASSESSMENTS = (
    [Assessment.GOOD, Assessment.FAIRLY_GOOD, Assessment.AVERAGE, Assessment.POOR],
    [55, 30, 12, 3],
)
TASK_MEASURES = [4, 3, 4, 3, 3, 4, 3, 4, 3, 3, 3]  # 11 tasks, 37 measures
# Problem states drawn (weights), inspection round and annual reports
STATES = [P.OPEN, P.RECTIFYING, P.SUBMITTED, P.ACCEPTED, P.SENT_BACK]
INSPECTION_STATES = [13, 20, 15, 40, 12]
REPORT_STATES = [8, 14, 12, 56, 10]
OVERDUE = {P.OPEN: 0.2, P.RECTIFYING: 0.2, P.SENT_BACK: 0.2, P.SUBMITTED: 0.05}
SECOND_ROUND = 0.25  # accepted or submitted ones that were sent back once before
STRAIGHT_TO_SUBMITTED = 0.3  # answered without a "rectifying" step first

# --------------------------------------------------------------------------------------------
# Text (Chinese data stays Chinese)
# --------------------------------------------------------------------------------------------

PLAN_NAME = "{year}年{prefix}“十百千万”计划"
PLAN_DESCRIPTION = (
    "建设十个机关党建示范引领基地、创建百个五星达标党支部、举办千人纪念活动、开展机关党员干部"
    "万人大合唱，献礼建党{years}周年，深化机关党建品牌，推动党建和业务工作同频共振。"
)
THEME_NAME = "{year}年{month}月“献爱心、送温暖”主题党日活动"
THEME_TOPIC = "献爱心、送温暖"
THEME_DESCRIPTION = (
    "各党支部以“献爱心、送温暖”为主题开展主题党日活动，走访慰问困难党员、困难群众和老党员，"
    "捐款捐物，报送参与党员人数、捐款和物资。"
)
VOLUNTEER_NAME = "{year}年机关党员志愿服务队下沉社区行动"
VOLUNTEER_DESCRIPTION = (
    "抽调机关在职党员组建志愿服务队，分批下沉社区，参与文明城市创建、政策宣传和走访服务。"
)
INSPECTION_NAME = "{year}年度{prefix}基层党建工作专项督导"
INSPECTION_DESCRIPTION = (
    "督导组采取听取汇报、实地查看、查阅资料、走访党员群众（听、看、查、访）的方式，对基层党组织"
    "落实组织生活、班子建设、党员管理等情况开展督导，形成问题清单，限期整改，跟踪销号。"
)
TASKS_NAME = "{year}年{prefix}党建工作重点任务清单"
TASKS_DESCRIPTION = "年度重点任务逐项明确责任单位、完成时限，按月调度进展。"

THEME_NOTES = [
    "走访慰问困难党员{a}户、困难群众{b}户",
    "慰问老党员{a}名，为结对村困难家庭送去生活物资",
    "党员自愿捐款，走访慰问困难职工{a}户",
    "到结对社区慰问独居老人{a}户、留守儿童{b}名",
]
# item, unit, quantity range, unit price range (yuan)
GOODS = [
    ("大米", "袋", (4, 20), (55, 80)),
    ("食用油", "桶", (4, 20), (60, 90)),
    ("棉被", "床", (2, 10), (150, 260)),
    ("牛奶", "箱", (5, 20), (45, 70)),
    ("羽绒服", "件", (2, 6), (200, 380)),
    ("书包文具", "套", (5, 20), (60, 120)),
    ("慰问礼包", "份", (5, 15), (100, 200)),
]
TEAM_NAMES = ["第一服务队", "第二服务队", "第三服务队", "第四服务队", "第五服务队"]

TARGETS = [
    # indicator, unit of measure, goal, source
    ("建设机关党建示范引领基地", "个", 10, TargetSource.MANUAL),
    ("创建五星达标党支部", "个", 100, TargetSource.FIVE_STAR_AWARDED),
    ("千人纪念活动参与人数", "人", 1000, TargetSource.MANUAL),
    ("机关党员干部万人大合唱参与人数", "人", 10000, TargetSource.MANUAL),
    ("在职党员到社区报到", "名", None, TargetSource.MEMBERS_REGISTERED),  # every in-service one
]

# category -> (problem, measures taken)
PROBLEMS: dict[str, list[tuple[str, str]]] = {
    "组织生活": [
        (
            "“三会一课”记录不完整，部分支部委员会会议未记录议题和决定事项",
            "补齐会议记录，统一记录模板，支委会逐月检查记录情况",
        ),
        (
            "主题党日活动形式单一，与业务工作结合不紧",
            "制定年度主题党日计划，结合业务工作开展实践活动",
        ),
        (
            "组织生活会查摆问题不具体，批评和自我批评辛辣味不足",
            "重新梳理问题清单，逐条明确整改措施、责任人和时限",
        ),
    ],
    "班子建设": [
        (
            "支部委员分工不明确，“一岗双责”落实不到位",
            "调整支委分工并印发，明确各委员职责",
        ),
        (
            "支部书记抓党建主体责任落实不到位，专题研究党建工作次数偏少",
            "建立季度专题研究制度，书记每季度至少专题研究一次党建工作",
        ),
    ],
    "党员队伍": [
        (
            "发展党员程序不规范，入党积极分子培养考察记录缺失",
            "补齐培养考察材料，对照发展党员工作细则逐项核查",
        ),
        (
            "个别党员长期不参加组织生活，未及时教育提醒",
            "开展谈心谈话，建立党员参加组织生活情况台账",
        ),
    ],
    "党费管理": [
        (
            "党费交纳基数核定不准确，部分党员少交党费",
            "重新核定交纳基数，补交差额并公示",
        ),
        ("党费收缴台账登记不及时", "规范党费收缴台账，按月登记、按季公示"),
    ],
    "阵地建设": [
        (
            "党员活动室挪作他用，上墙制度内容陈旧",
            "恢复活动室功能，更新上墙制度和宣传内容",
        ),
    ],
    "制度落实": [
        (
            "“三重一大”事项未经党组织前置研究",
            "修订议事规则，明确党组织前置研究事项清单",
        ),
        (
            "谈心谈话制度落实不到位，支部书记与党员谈心谈话覆盖面不足",
            "制定谈心谈话计划，年内实现全覆盖",
        ),
    ],
    "作风建设": [
        (
            "落实中央八项规定精神监督检查不经常",
            "开展专项自查，建立常态化监督检查机制",
        ),
    ],
    "基础台账": [
        (
            "党员信息采集更新不及时，系统信息与实际不符",
            "全面核对党员信息，及时更新党员信息管理系统",
        ),
        (
            "结对共建活动台账不完整，帮扶成效缺少佐证",
            "补齐结对共建走访和帮扶记录，完善佐证材料",
        ),
    ],
}
REPORT_PROBLEMS: list[tuple[str, str, str]] = [
    (
        "述职评议",
        "抓基层党建工作思路不清，党建与业务“两张皮”",
        "制定党建业务融合工作清单，逐项推进并按季总结",
    ),
    (
        "述职评议",
        "对所属党支部标准化规范化建设指导不够",
        "建立班子成员联系支部制度，每季度到联系支部指导",
    ),
    (
        "述职评议",
        "落实意识形态工作责任制有差距，研判分析不经常",
        "每半年开展一次意识形态形势研判，形成分析报告",
    ),
    (
        "述职评议",
        "党员教育管理失之于宽，日常监督不到位",
        "完善党员积分管理办法，开展经常性教育提醒",
    ),
    (
        "述职评议",
        "支部书记培训覆盖不全，履职能力有待提升",
        "年内完成支部书记轮训，建立培训档案",
    ),
    (
        "述职评议",
        "上年度述职评议问题整改不彻底",
        "对照上年度问题清单逐项复查，未完成的重新明确时限",
    ),
]
EVIDENCE = [
    "整改前后照片、会议记录",
    "整改台账及相关制度文件",
    "支委会会议记录、谈心谈话记录",
    "补充完善的台账资料",
    "整改情况报告",
]
SEND_BACK_REASONS = [
    "整改佐证材料不充分，请补充会议记录和照片",
    "整改措施未针对问题根源，请重新制定",
    "现场复查仍存在同类问题，整改尚未到位",
]
ACCEPT_NOTES = ["经复核，整改到位，同意销号", "整改资料齐全，同意销号", ""]
VISITS = {
    VisitMethod.LISTEN: ("{unit}", "听取{unit}党组织抓基层党建工作情况汇报"),
    VisitMethod.LOOK: ("{unit}党员活动室", "实地查看党员活动阵地建设和制度上墙情况"),
    VisitMethod.CHECK: ("{unit}", "查阅“三会一课”记录、党费收缴台账和发展党员档案"),
    VisitMethod.VISIT: ("{unit}", "个别访谈党员群众{n}人，了解支部工作开展情况"),
}
VILLAGE_VISIT = "走访{village}，了解“1+1”结对共建和帮扶措施落实情况"
REPORT_TEXT = (
    "{year}年，{name}坚持以党的政治建设为统领，认真落实“三会一课”、主题党日等组织生活制度，"
    "{strength}。存在的不足：{weakness}。下一步将{plan}。"
)
STRENGTHS = [
    "扎实开展结对共建，帮扶村（社区）办实事{n}件",
    "按期完成换届选举，班子分工明确",
    "创建“一支部一品牌”，党建与业务融合有新进展",
    "常态化开展党员志愿服务，累计服务{n}人次",
    "建立党员先锋岗{n}个，党员作用发挥明显",
]
WEAKNESSES = [
    "理论学习深度不够",
    "组织生活质量有待提高",
    "党建创新办法不多",
    "对党员日常教育管理抓得不够细",
    "基础台账规范化程度不高",
]
PLANS = [
    "进一步压实主体责任，推动组织生活规范化",
    "聚焦党建业务融合，打造特色党建品牌",
    "加强党员教育管理，发挥党员先锋模范作用",
]
KEY_TASKS: list[tuple[str, list[str]]] = [
    (
        "深入学习贯彻党的创新理论",
        [
            "制定理论学习中心组年度学习计划，每月集中学习不少于1次",
            "举办机关党组织书记读书班",
            "开展“书记讲党课”活动，支部书记年内讲党课不少于1次",
            "组织青年理论学习小组开展学习交流",
        ],
    ),
    (
        "加强机关党组织标准化规范化建设",
        [
            "开展党支部标准化规范化建设达标验收",
            "创建五星达标党支部",
            "建设机关党建示范引领基地",
        ],
    ),
    (
        "严格落实组织生活制度",
        [
            "督促落实“三会一课”制度，按月通报落实情况",
            "规范开展主题党日活动",
            "召开年度组织生活会、开展民主评议党员",
            "开展组织生活专项检查",
        ],
    ),
    (
        "抓好党组织按期换届",
        [
            "梳理任期届满党组织清单",
            "督促到期党组织按期换届",
            "规范换届选举程序和材料归档",
        ],
    ),
    (
        "加强党员教育管理",
        [
            "开展党员集中轮训",
            "落实在职党员到社区报到",
            "关心关爱困难党员和老党员",
        ],
    ),
    (
        "深化结对共建",
        [
            "推动机关党支部与村（社区）党组织“1+1”结对全覆盖",
            "开展“1+2”邻里中心共建项目",
            "落实“缺什么补什么”帮扶措施",
            "每季度开展结对走访不少于1次",
        ],
    ),
    (
        "实施“十百千万”计划",
        [
            "举办千人纪念活动",
            "组织机关党员干部万人大合唱",
            "组织示范引领基地观摩交流",
        ],
    ),
    (
        "强化督导检查和问题整改",
        [
            "组织开展基层党建专项督导",
            "建立问题清单和整改台账",
            "对逾期未整改问题通报督办",
            "开展整改情况“回头看”",
        ],
    ),
    (
        "做好党组织书记述职评议考核",
        [
            "组织开展党组织书记抓基层党建述职评议",
            "反馈述职评议问题清单",
            "跟踪述职评议问题整改",
        ],
    ),
    (
        "加强机关作风和纪律建设",
        [
            "开展党纪学习教育",
            "开展警示教育活动",
            "落实中央八项规定精神常态化监督检查",
        ],
    ),
    (
        "推进党建业务深度融合",
        [
            "培育“一支部一品牌”",
            "设立党员先锋岗、责任区",
            "开展党建与业务融合典型案例评选",
        ],
    ),
]
DONE_NOTES = ["已完成。{detail}", "按时完成，{detail}", "已完成，材料已归档。"]
DOING_NOTES = ["正在推进，已完成{pct}%。", "按计划推进中，{detail}", "已部署，各单位正在落实。"]
LATE_NOTES = ["进度滞后，已督促加快推进。", "尚未完成，已列入督办。"]
DETAILS = ["各单位已报送落实情况。", "已形成工作总结。", "已通报完成情况。"]


# --------------------------------------------------------------------------------------------
# Drafts in memory
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class ProblemDraft:
    plan: OrgPlan
    category: str
    description: str
    measures: str
    found_on: datetime.date
    state: str = P.OPEN
    overdue: bool = False
    deadline: datetime.date | None = None
    severity: str = Severity.NORMAL
    group: GroupDraft | None = None
    report: ReportDraft | None = None
    recorder: User | None = None
    # (from, to, by, at, note)
    events: list[tuple[str, str, User | None, datetime.datetime, str]] = field(default_factory=list)
    answers: list[tuple[str, str, User | None, datetime.datetime]] = field(default_factory=list)
    pk: int | None = None


@dataclass(eq=False)
class GroupDraft:
    name: str
    members: list[User]
    units: list  # Unit
    towns: list[str] = field(default_factory=list)
    villages: list[tuple[str, str]] = field(default_factory=list)  # (town, village)
    visits: list[tuple[datetime.date, str, str, str]] = field(default_factory=list)
    visit_days: dict[int, datetime.date] = field(default_factory=dict)  # unit pk -> day
    pk: int | None = None


@dataclass(eq=False)
class ReportDraft:
    plan: OrgPlan
    text: str
    assessment: str
    assessed_on: datetime.date
    pk: int | None = None


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


class CampaignsDemo:
    def __init__(self, builder: DemoBuilder) -> None:
        self.builder = builder
        self.rng = builder.rng_for("campaigns")
        self.today: datetime.date = builder.today
        self.yesterday = self.today - DAY
        self.cities = max(1, builder.scale.cities)
        self.prefix = "省直机关" if self.cities > 1 else "市直机关"
        self.order = {id(p): i for i, p in enumerate(builder.plans)}
        self.plan_of = {p.obj.pk: p for p in builder.plans}
        self.unit_index = {u.pk: i for i, u in enumerate(builder.units)}
        usernames = [a.username for a in builder.accounts]
        accounts = sorted(
            User.objects.filter(username__in=usernames).prefetch_related("units"),
            key=lambda u: u.username,
        )
        self.staff = [u for u in accounts if u.role == Role.STAFF]
        self.inspectors = [u for u in accounts if u.role == Role.INSPECTOR]
        self.admin = self.staff[0] if self.staff else None
        self.secretaries = {
            u.organization_id: u for u in accounts if u.role == Role.SECRETARY and u.organization_id
        }
        # inspector -> the unit pks they see (None: the whole city)
        self.inspector_units = {
            u.pk: None if u.city_wide else {unit.pk for unit in u.units.all()}
            for u in self.inspectors
        }
        self.demo_plans = builder._demo_branch_plans()  # secretary1's, secretary2's
        self.campaigns: list[Campaign] = []
        self.groups: list[GroupDraft] = []
        self.reports: list[ReportDraft] = []
        self.problems: list[ProblemDraft] = []
        self.figures: dict = {}

    # ---- the whole thing ----------------------------------------------------------------------

    def build(self) -> dict:
        self.taken = set(Campaign.objects.values_list("name", flat=True))  # staff's own, if any
        self._plan()
        self._theme_day()
        self._volunteers()
        self._inspection()
        self._annual_reports()
        self._key_tasks()
        self._write_problems()
        self._mark_overdue()
        return self.figures

    def _campaign(self, **fields) -> Campaign:
        name = fields.pop("name")
        if name in self.taken:
            name += "（演示）"
        created = self._at(fields["starts_on"] - 10 * DAY, 10)
        campaign = Campaign(name=name, owner=f"{self.prefix}工委", **fields)
        (campaign.pk,) = insert_with_ids(
            Campaign,
            [
                "name",
                "kind",
                "starts_on",
                "ends_on",
                "owner",
                "description",
                "topic",
                "theme_month",
                "created_at",
            ],
            [
                (
                    campaign.name,
                    campaign.kind,
                    campaign.starts_on,
                    campaign.ends_on,
                    campaign.owner,
                    campaign.description,
                    campaign.topic,
                    campaign.theme_month,
                    min(created, self._at(self.yesterday, 10)),
                )
            ],
        )
        self.campaigns.append(campaign)
        return campaign

    # ---- the "十百千万" plan ------------------------------------------------------------------

    def _plan(self) -> None:
        year = self.today.year
        start = datetime.date(year, 1, 1)
        campaign = self._campaign(
            name=PLAN_NAME.format(year=year, prefix=self.prefix),
            kind=CampaignKind.PLAN,
            starts_on=start,
            ends_on=datetime.date(year, 12, 31),
            description=PLAN_DESCRIPTION.format(years=year - 1921),
            topic="",
            theme_month=None,
        )
        # By hand, as staff enter them: how far the year has come.
        share = (self.today - start).days / 365
        in_service = sum(not m.position.startswith("退休") for m in self.builder.members)
        manual = {
            0: Decimal(min(10, round(9 * share))),
            2: Decimal(1000 if self.today >= datetime.date(year, 7, 1) else 0),
            3: Decimal(min(10000, round(10000 * share * 0.95 / 50) * 50)),
        }
        rows = []
        for i, (indicator, unit, goal, source) in enumerate(TARGETS):
            if goal is None:  # every in-service member, to the hundred
                goal = max(100, -(-in_service // 100) * 100)
            rows.append(
                (campaign.pk, indicator, unit, Decimal(goal), source, manual.get(i, Decimal(0)), i)
            )
        insert_rows(
            Target,
            [
                "campaign",
                "indicator",
                "unit_of_measure",
                "goal",
                "source",
                "manual_progress",
                "sort_order",
            ],
            rows,
        )
        self.figures["targets"] = len(rows)
        self.figures["live_targets"] = sum(r[4] != TargetSource.MANUAL for r in rows)

    # ---- "献爱心、送温暖" ---------------------------------------------------------------------

    def _theme_day(self) -> None:
        rng = self.rng
        month = (self.today.replace(day=1) - DAY).replace(day=1)  # last month
        last = (month + 32 * DAY).replace(day=1) - DAY
        campaign = self._campaign(
            name=THEME_NAME.format(year=month.year, month=month.month),
            kind=CampaignKind.THEME_DAY,
            starts_on=month,
            ends_on=last,
            description=THEME_DESCRIPTION,
            topic=THEME_TOPIC,
            theme_month=month,
        )
        branches = [p for p in self.builder.plans if p.kind == K.BRANCH]
        demo = {id(p) for p in self.demo_plans}
        mine = self.demo_plans[0] if self.demo_plans else None
        others = [p for p in branches if id(p) not in demo]
        filing = rng.sample(others, min(len(others), round(len(branches) * THEME_SHARE)))
        if mine is not None:
            filing.append(mine)  # secretary1's branch files; secretary2's may still
        filing.sort(key=lambda p: self.order[id(p)])
        # The theme days the activity step filed for the branches that month: the first of each.
        theme_days: dict[int, tuple[datetime.date, str, int]] = {}
        for pk, org, day, topic in ActivityRecord.objects.filter(
            activity_type__code=THEME_DAY,
            organization__kind=K.BRANCH,
            date__gte=month,
            date__lte=last,
        ).values_list("pk", "organization_id", "date", "topic"):
            key = (day, topic, pk)
            if org not in theme_days or key < theme_days[org]:
                theme_days[org] = key
        rows, goods_rows = [], []
        filed_at_day = min(last, self.yesterday)
        for plan in filing:
            size = len(self.builder.branch_members.get(plan.obj.pk, [])) or 3
            members = max(2, min(size, round(size * rng.uniform(0.15, 0.45))))
            money = Decimal(sum(rng.choice((50, 100, 100, 200)) for _ in range(members)))
            if rng.random() < 0.3:
                money += Decimal(rng.randrange(1, 100) * 10 + rng.choice((0, 50))) / 100
            a, b = rng.randint(2, 6), rng.randint(1, 5)
            note = rng.choice(THEME_NOTES).format(a=a, b=b)
            day = min(filed_at_day, month + rng.randrange((last - month).days + 1) * DAY)
            filed_by = self.secretaries.get(plan.obj.pk)
            rows.append(
                (
                    campaign.pk,
                    plan.obj.pk,
                    members,
                    money.quantize(CENT),
                    note,
                    filed_by.pk if filed_by else None,
                    self._at(day, 20, rng.randrange(60)),
                )
            )
            goods = []
            for item, unit, (q_lo, q_hi), (p_lo, p_hi) in sorted(
                rng.sample(GOODS, rng.choice((1, 1, 2, 2, 3))), key=GOODS.index
            ):
                quantity = rng.randint(q_lo, q_hi)
                value = Decimal(quantity * rng.randint(p_lo, p_hi))
                if rng.random() < 0.2:
                    value += Decimal(rng.choice((50, 80))) / 100 * quantity
                goods.append((item, Decimal(quantity), unit, value.quantize(CENT)))
            goods_rows.append(goods)
        ids = insert_with_ids(
            Participation,
            ["campaign", "organization", "members", "money", "note", "filed_by", "filed_at"],
            rows,
        )
        insert_rows(
            ParticipationGoods,
            ["participation", "item", "quantity", "unit_of_measure", "value"],
            [(pk, *g) for pk, goods in zip(ids, goods_rows, strict=True) for g in goods],
        )
        # Tagged theme days: half of the filing branches with one, a tenth of the others.
        filed = {id(p) for p in filing}
        tagged = []
        for plan in branches:
            if plan.obj.pk not in theme_days:
                continue
            if id(plan) in filed:
                share = 1 if plan is mine else TAGGED_OF_FILED
            else:
                share = 0 if id(plan) in demo else TAGGED_ONLY
            if rng.random() < share:
                tagged.append(plan)
        if not any(id(p) not in filed for p in tagged):  # one at least counts by its record
            spare = [
                p
                for p in branches
                if p.obj.pk in theme_days and id(p) not in filed and id(p) not in demo
            ]
            if spare:
                tagged.append(spare[0])
                tagged.sort(key=lambda p: self.order[id(p)])
        insert_rows(
            CampaignActivity,
            ["campaign", "record"],
            [(campaign.pk, theme_days[p.obj.pk][2]) for p in tagged],
        )
        tagged_only = sum(id(p) not in filed for p in tagged)
        self.figures.update(
            {
                "theme_campaign": campaign.name,
                "participations": len(rows),
                "tagged": len(tagged),
                "theme_organizations": len(rows) + tagged_only,
                "theme_members": sum(r[2] for r in rows),
                "theme_money": sum((r[3] for r in rows), Decimal("0.00")),
                "goods_value": sum((g[3] for gs in goods_rows for g in gs), Decimal("0.00")),
            }
        )

    # ---- volunteer deployment ---------------------------------------------------------------

    def _volunteers(self) -> None:
        rng = self.rng
        start = self.today - VOLUNTEER_STARTS * DAY
        end = start + (BATCHES * BATCH_DAYS - 1) * DAY
        campaign = self._campaign(
            name=VOLUNTEER_NAME.format(year=start.year),
            kind=CampaignKind.VOLUNTEER,
            starts_on=start,
            ends_on=end,
            description=VOLUNTEER_DESCRIPTION,
            topic="",
            theme_month=None,
        )
        team_ids = insert_with_ids(
            VolunteerTeam, ["campaign", "name"], [(campaign.pk, n) for n in TEAM_NAMES[:TEAMS]]
        )
        places = rng.sample(COMMUNITIES, BATCHES)
        batch_ids = insert_with_ids(
            VolunteerBatch,
            ["campaign", "number", "place", "starts_on", "ends_on"],
            [
                (
                    campaign.pk,
                    n + 1,
                    places[n],
                    start + n * BATCH_DAYS * DAY,
                    start + ((n + 1) * BATCH_DAYS - 1) * DAY,
                )
                for n in range(BATCHES)
            ],
        )
        # In-service full members of working age, from every branch, in the tree's order.
        pool = [
            m
            for p in self.builder.plans
            if p.kind == K.BRANCH
            for m in self.builder.branch_members.get(p.obj.pk, [])
            if not m.position.startswith("退休")
            and m.status == MemberStatus.FULL
            and 23 <= (self.today - m.birth_date).days // 365 <= 55
        ]
        wanted = min(
            len(pool),
            VOLUNTEERS * self.cities,
            max(MIN_VOLUNTEERS, round(VOLUNTEERS * len(self.builder.members) / CITY_MEMBERS)),
        )
        chosen = rng.sample(pool, wanted)
        sizes = allocate(wanted, [1] * BATCHES)
        rows, i = [], 0
        for batch, size in zip(batch_ids, sizes, strict=True):
            for k in range(size):
                rows.append((batch, team_ids[k % TEAMS], chosen[i].pk))
                i += 1
        insert_rows(Deployment, ["batch", "team", "member"], rows)
        self.figures.update({"volunteers": len(rows), "teams": TEAMS, "batches": BATCHES})

    # ---- the inspection round ---------------------------------------------------------------

    def _inspection(self) -> None:
        rng = self.rng
        start = self.today - INSPECTION_STARTS * DAY
        end = start + INSPECTION_DAYS * DAY
        campaign = self._campaign(
            name=INSPECTION_NAME.format(year=start.year, prefix=self.prefix),
            kind=CampaignKind.INSPECTION,
            starts_on=start,
            ends_on=end,
            description=INSPECTION_DESCRIPTION,
            topic="",
            theme_month=None,
        )
        units = self.builder.units
        per_city = max(1, len(units) // self.cities)
        must = {p.unit.pk for p in self.demo_plans}
        for seen in self.inspector_units.values():
            must |= seen or set()
        visited = []
        for c in range(self.cities):
            mine = units[c * per_city : (c + 1) * per_city]
            if len(mine) <= UNITS_VISITED:
                visited.append(list(mine))
                continue
            forced = [u for u in mine if u.pk in must]
            rest = [u for u in mine if u.pk not in must]
            picked = forced + rng.sample(rest, UNITS_VISITED - len(forced))
            visited.append(sorted(picked, key=lambda u: self.unit_index[u.pk]))
        villages = self._villages([u.pk for city in visited for u in city])
        city_wide = [u for u in self.inspectors if self.inspector_units[u.pk] is None]
        for city_units in visited:
            n_groups = min(GROUPS, len(city_units))
            taken = 0
            for g, size in enumerate(allocate(len(city_units), [1] * n_groups)):
                group_units = city_units[taken : taken + size]
                taken += size
                members = list(city_wide[:1])
                if g % 2 == 0 or not members:
                    members += self.staff[:1]
                for inspector in self.inspectors:  # an inspector of a unit goes with its group
                    seen = self.inspector_units[inspector.pk]
                    if seen and seen & {u.pk for u in group_units} and inspector not in members:
                        members.insert(0, inspector)
                if not members:
                    raise RuntimeError("campaigns demo: no staff or inspector account")
                name = f"第{chinese_number(len(self.groups) + 1)}督导组"
                self.groups.append(GroupDraft(name, members, group_units))
        day_span = INSPECTION_DAYS - 3
        for group in self.groups:
            days = sorted(rng.sample(range(day_span), min(day_span, len(group.units))))
            for unit, offset in zip(group.units, days, strict=False):
                day = start + offset * DAY
                while day.weekday() >= 5:
                    day -= DAY
                group.visit_days[unit.pk] = max(day, start)
            self._visit_logs(group, villages)
        self._group_problems()
        group_ids = insert_with_ids(
            InspectionGroup,
            ["campaign", "name", "towns"],
            [(campaign.pk, g.name, "、".join(g.towns)[:200]) for g in self.groups],
        )
        for group, pk in zip(self.groups, group_ids, strict=True):
            group.pk = pk
        insert_rows(
            InspectionGroup.members.through,
            ["inspectiongroup", "user"],
            [(g.pk, u.pk) for g in self.groups for u in g.members],
        )
        insert_rows(
            InspectionGroup.units.through,
            ["inspectiongroup", "unit"],
            [(g.pk, u.pk) for g in self.groups for u in g.units],
        )
        insert_rows(
            VisitLog,
            ["group", "date", "method", "place", "notes"],
            [(g.pk, *v) for g in self.groups for v in g.visits],
        )
        self.figures.update(
            {
                "groups": len(self.groups),
                "units_visited": sum(len(g.units) for g in self.groups),
                "towns": len({t for g in self.groups for t in g.towns}),
                "villages": len({v for g in self.groups for v in g.villages}),
                "visits": sum(len(g.visits) for g in self.groups),
            }
        )

    def _villages(self, unit_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """The villages the units' organizations are paired with ("1+1"), per unit, in the
        tree's order: where the groups go to 访."""
        from pairings.models import Pairing, PartnerKind

        found: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for org, unit, town, name in Pairing.objects.filter(
            organization__unit_id__in=unit_ids, partner__kind=PartnerKind.VILLAGE
        ).values_list("organization_id", "organization__unit_id", "partner__town", "partner__name"):
            plan = self.plan_of.get(org)
            if plan is not None:
                found[unit].append((self.order[id(plan)], town, name))
        return {unit: [(t, n) for _o, t, n in sorted(rows)] for unit, rows in found.items()}

    def _visit_logs(self, group: GroupDraft, villages: dict) -> None:
        rng = self.rng
        for unit in group.units:
            day = group.visit_days[unit.pk]
            name = unit.name
            for method, (place, notes) in VISITS.items():
                group.visits.append(
                    (
                        day,
                        method,
                        place.format(unit=name)[:100],
                        notes.format(unit=name, n=rng.randint(3, 8)),
                    )
                )
            # two of the unit's villages, in towns the group has not been to if it can
            paired = [v for v in villages.get(unit.pk, []) if v not in group.villages]
            paired.sort(key=lambda v: v[0] in group.towns)  # stable: the tree's order
            for town, village in paired[:2]:
                if len(group.villages) >= VILLAGES_PER_GROUP:
                    break
                group.villages.append((town, village))
                if town not in group.towns:
                    group.towns.append(town)
                group.visits.append(
                    (
                        min(day + DAY, self.yesterday),
                        VisitMethod.VISIT,
                        f"{town}{village}"[:100],
                        VILLAGE_VISIT.format(village=village),
                    )
                )

    def _group_problems(self) -> None:
        rng = self.rng
        values, weights = PROBLEMS_PER_ORGANIZATION
        mine = self.demo_plans[0] if self.demo_plans else None
        catalogue = [(c, d, m) for c, items in PROBLEMS.items() for d, m in items]
        found: list[ProblemDraft] = []
        for group in self.groups:
            unit_ids = {u.pk for u in group.units}
            for plan in self.builder.plans:
                if plan.kind not in REPORTED or plan.unit.pk not in unit_ids:
                    continue
                n = rng.choices(values, weights)[0]
                if plan is mine:
                    n = max(n, 2)
                day = group.visit_days[plan.unit.pk]
                for category, description, measures in rng.sample(catalogue, n):
                    found.append(
                        ProblemDraft(
                            plan,
                            category,
                            description,
                            measures,
                            min(day + rng.choice((0, 0, 1)) * DAY, self.yesterday),
                            severity=rng.choices(
                                [Severity.MINOR, Severity.NORMAL, Severity.SERIOUS], [25, 60, 15]
                            )[0],
                            group=group,
                        )
                    )
        # secretary1's branch shows an open problem and an overdue one
        own = [p for p in found if p.plan is mine]
        fixed = {}
        if len(own) >= 2:
            fixed = {id(own[0]): (P.OPEN, False), id(own[1]): (P.RECTIFYING, True)}
        self._states(found, INSPECTION_STATES, fixed)
        for problem in found:
            problem.recorder = self._recorder(problem.group, problem.plan)
            self._history(problem)
        self.problems += found
        self.figures["inspection_problems"] = len(found)

    def _recorder(self, group: GroupDraft, plan: OrgPlan) -> User | None:
        """Who of the group recorded it: an inspector who sees the organization, else staff."""
        inspectors = [
            u
            for u in group.members
            if u.role == Role.INSPECTOR
            and (self.inspector_units[u.pk] is None or plan.unit.pk in self.inspector_units[u.pk])
        ]
        if inspectors:
            return self.rng.choice(inspectors)
        staff = [u for u in group.members if u.role == Role.STAFF]
        return staff[0] if staff else self.admin

    # ---- annual reports ---------------------------------------------------------------------

    def _annual_reports(self) -> None:
        rng = self.rng
        year = self.today.year - 1
        # Assessed from 10 January to mid-March; early in the year, the month before two weeks ago.
        first, last = datetime.date(year + 1, 1, 10), datetime.date(year + 1, 3, 15)
        last = min(last, self.today - 15 * DAY)
        first = min(first, last - 30 * DAY)
        span = (last - first).days
        plans = [
            p
            for p in self.builder.plans
            if p.kind in (K.COMMITTEE, K.GENERAL_BRANCH)
            or (p.kind == K.BRANCH and (p in self.demo_plans or rng.random() < REPORTED_BRANCHES))
        ]
        values, weights = ASSESSMENTS
        for plan in plans:
            text = REPORT_TEXT.format(
                year=year,
                name=plan.obj.name,
                strength=rng.choice(STRENGTHS).format(n=rng.randint(3, 40)),
                weakness=rng.choice(WEAKNESSES),
                plan=rng.choice(PLANS),
            )
            day = first + rng.randint(0, span) * DAY
            while day.weekday() >= 5:
                day -= DAY
            self.reports.append(ReportDraft(plan, text, rng.choices(values, weights)[0], day))
        # Problem lists: the weakest reports first, as many as the figure says.
        reporting = sum(p.kind in REPORTED for p in self.builder.plans)
        wanted = round(REPORTS_WITH_PROBLEMS * reporting / CITY_REPORTING)
        wanted = min(len(self.reports), max(6, wanted))
        rank = {Assessment.POOR: 0, Assessment.AVERAGE: 1, Assessment.FAIRLY_GOOD: 2}
        candidates = [r for r in self.reports if r.assessment in rank]
        rng.shuffle(candidates)
        candidates.sort(key=lambda r: rank[r.assessment])
        listed = sorted(candidates[:wanted], key=lambda r: self.order[id(r.plan)])
        found = []
        catalogue = REPORT_PROBLEMS + [(c, d, m) for c, items in PROBLEMS.items() for d, m in items]
        for report in listed:
            n = rng.choice((1, 1, 2, 3))
            for category, description, measures in rng.sample(catalogue, n):
                found.append(
                    ProblemDraft(
                        report.plan,
                        category,
                        description,
                        measures,
                        report.assessed_on,
                        report=report,
                        recorder=self.admin,
                    )
                )
        self._states(found, REPORT_STATES)
        for problem in found:
            self._history(problem)
        self.problems += found
        ids = insert_with_ids(
            AnnualReport,
            ["organization", "year", "report", "assessment", "assessed_on"],
            [(r.plan.obj.pk, year, r.text, r.assessment, r.assessed_on) for r in self.reports],
        )
        for report, pk in zip(self.reports, ids, strict=True):
            report.pk = pk
        assessed = Counter(r.assessment for r in self.reports)
        self.figures.update(
            {
                "reports": len(self.reports),
                "reports_with_problems": len(listed),
                "report_problems": len(found),
                "assessments": {str(k): assessed[k] for k in values},
            }
        )

    # ---- states and history -----------------------------------------------------------------

    def _states(
        self, problems: list[ProblemDraft], weights: list[int], fixed: dict | None = None
    ) -> None:
        """Draw each problem's state and whether it is past its deadline (`fixed`: id of a
        draft -> both, chosen); every state at least once, and at least one overdue."""
        rng = self.rng
        fixed = fixed or {}
        for problem in problems:
            problem.state = rng.choices(STATES, weights)[0]
            problem.overdue = rng.random() < OVERDUE.get(problem.state, 0)
            if id(problem) in fixed:
                problem.state, problem.overdue = fixed[id(problem)]
        seen = Counter(p.state for p in problems)
        spare = [p for p in problems if id(p) not in fixed]
        for state in STATES:
            while not seen[state] and spare:
                problem = spare.pop()
                if seen[problem.state] < 2:
                    continue  # the only one of its state stays
                seen[problem.state] -= 1
                problem.state, problem.overdue = state, False
                seen[state] += 1
        if problems and not any(p.overdue for p in problems):
            unresolved = [p for p in problems if p.state in (P.OPEN, P.RECTIFYING)]
            if unresolved:
                unresolved[-1].overdue = True

    def _path(self, problem: ProblemDraft) -> list[str]:
        """The states it went through, from open to its state (`rules.TRANSITIONS` only)."""
        rng = self.rng
        answer = [P.SUBMITTED]
        if rng.random() >= STRAIGHT_TO_SUBMITTED:
            answer.insert(0, P.RECTIFYING)
        state = problem.state
        if state == P.OPEN:
            return [P.OPEN]
        if state == P.RECTIFYING:
            return [P.OPEN, P.RECTIFYING]
        if state == P.SENT_BACK:
            return [P.OPEN, *answer, P.SENT_BACK]
        again = [P.SENT_BACK, rng.choice([P.RECTIFYING, P.SUBMITTED])]
        if again[-1] == P.RECTIFYING:
            again.append(P.SUBMITTED)
        path = [P.OPEN, *answer, *(again if rng.random() < SECOND_ROUND else [])]
        return path + ([P.ACCEPTED] if state == P.ACCEPTED else [])

    def _history(self, problem: ProblemDraft) -> None:
        """Dates, deadline, events and answers that fit the state: every step between the day
        it was found and yesterday; an accepted one by its deadline; an overdue one past it."""
        rng = self.rng
        found = problem.found_on
        room = (self.yesterday - found).days
        if problem.state == P.ACCEPTED:
            deadline = found + rng.choice((30, 45, 60, 90)) * DAY
            last = min(deadline, self.yesterday)
        elif problem.overdue and room >= 1:
            deadline = found + rng.randint(min(room - 1, 14), room - 1) * DAY
            last = self.yesterday
        else:
            problem.overdue = False
            deadline = max(
                found + rng.choice((30, 60, 90)) * DAY, self.today + rng.randint(5, 60) * DAY
            )
            last = self.yesterday
        problem.deadline = deadline
        path = self._path(problem)
        span = (last - found).days
        offsets = sorted(rng.randint(1, span) if span >= 1 else 0 for _ in path[1:])
        secretary = self.secretaries.get(problem.plan.obj.pk)
        checkers = self._checkers(problem)
        previous, hour = "", 15
        day = found
        for state, offset in zip(path, [0, *offsets], strict=True):
            this_day = found + offset * DAY
            hour = hour + 1 if this_day == day else rng.randint(9, 17)
            day = this_day
            at = self._at(day, min(hour, 23), rng.randrange(60))
            if state == P.OPEN:
                by, note = problem.recorder, ""
            elif state in (P.RECTIFYING, P.SUBMITTED):
                by, note = secretary, ""
            else:
                by = rng.choice(checkers) if checkers else None
                note = (
                    rng.choice(SEND_BACK_REASONS)
                    if state == P.SENT_BACK
                    else rng.choice(ACCEPT_NOTES)
                )
            problem.events.append((previous, state, by, at, note))
            if state == P.SUBMITTED:
                problem.answers.append((problem.measures, rng.choice(EVIDENCE), secretary, at))
            previous = state

    def _checkers(self, problem: ProblemDraft) -> list[User]:
        """Who accepts or sends back: the group's inspectors (staff when it has none); for an
        annual report's problem, staff."""
        if problem.group is not None:
            inspectors = [u for u in problem.group.members if u.role == Role.INSPECTOR]
            if inspectors:
                return inspectors
            return [u for u in problem.group.members if u.role == Role.STAFF]
        return self.staff[:1]

    # ---- key tasks --------------------------------------------------------------------------

    def _key_tasks(self) -> None:
        rng = self.rng
        year = self.today.year
        campaign = self._campaign(
            name=TASKS_NAME.format(year=year, prefix=self.prefix),
            kind=CampaignKind.PLAN,
            starts_on=datetime.date(year, 1, 1),
            ends_on=datetime.date(year, 12, 31),
            description=TASKS_DESCRIPTION,
            topic="",
            theme_month=None,
        )
        owners = [p for p in self.builder.plans if p.kind == K.COMMITTEE and p.parent is None]
        owners = owners or [p for p in self.builder.plans if p.kind in REPORTED]
        task_ids = insert_with_ids(
            KeyTask,
            ["campaign", "title", "sort_order"],
            [(campaign.pk, title, i + 1) for i, (title, _m) in enumerate(KEY_TASKS)],
        )
        rows = []
        for task_id, (_title, measures), n in zip(task_ids, KEY_TASKS, TASK_MEASURES, strict=True):
            for description in measures[:n]:
                month = rng.randint(3, 12)
                deadline = (datetime.date(year, month, 1) + 32 * DAY).replace(day=1) - DAY
                owner = rng.choice(owners)
                done_on = None
                if deadline < self.today and rng.random() < 0.85:
                    done_on = min(deadline - rng.randint(0, 20) * DAY, self.yesterday)
                elif deadline >= self.today and rng.random() < 0.2:  # early
                    done_on = max(self.yesterday - rng.randint(0, 30) * DAY, campaign.starts_on)
                    done_on = min(done_on, self.today)
                detail = rng.choice(DETAILS)
                if done_on is not None:
                    progress = rng.choice(DONE_NOTES).format(detail=detail)
                elif deadline < self.today:
                    progress = rng.choice(LATE_NOTES)
                else:
                    progress = rng.choice(DOING_NOTES).format(
                        pct=rng.choice((30, 50, 60, 80)), detail=detail
                    )
                rows.append((task_id, description, owner.obj.pk, deadline, progress, done_on))
        insert_rows(
            KeyMeasure,
            ["task", "description", "organization", "deadline", "progress", "done_on"],
            rows,
        )
        self.figures.update(
            {
                "key_tasks": len(task_ids),
                "key_measures": len(rows),
                "measures_done": sum(r[5] is not None for r in rows),
            }
        )

    # ---- rows -------------------------------------------------------------------------------

    def _write_problems(self) -> None:
        problems = sorted(
            self.problems,
            key=lambda p: (p.report is not None, self.order[id(p.plan)], p.found_on),
        )
        ids = insert_with_ids(
            Problem,
            [
                "organization",
                "group",
                "annual_report",
                "category",
                "description",
                "severity",
                "found_on",
                "deadline",
                "evidence",
                "state",
                "overdue_since",
                "created_by",
                "created_at",
            ],
            [
                (
                    p.plan.obj.pk,
                    p.group.pk if p.group else None,
                    p.report.pk if p.report else None,
                    p.category,
                    p.description,
                    p.severity,
                    p.found_on,
                    p.deadline,
                    "督导现场查阅资料发现" if p.group else "述职评议反馈",
                    p.state,
                    None,  # services.mark_overdue marks them (_mark_overdue)
                    p.recorder.pk if p.recorder else None,
                    p.events[0][3],
                )
                for p in problems
            ],
        )
        for problem, pk in zip(problems, ids, strict=True):
            problem.pk = pk
        insert_rows(
            ProblemEvent,
            ["problem", "from_state", "to_state", "by", "at", "note"],
            [
                (p.pk, before, after, by.pk if by else None, at, note)
                for p in problems
                for before, after, by, at, note in p.events
            ],
        )
        insert_rows(
            Rectification,
            ["problem", "measures", "evidence", "submitted_by", "submitted_at"],
            [
                (p.pk, measures, evidence, by.pk if by else None, at)
                for p in problems
                for measures, evidence, by, at in p.answers
            ],
        )
        states = Counter(p.state for p in problems)
        self.figures.update(
            {
                "problems": len(problems),
                "states": {s: states[s] for s in STATES},
                "overdue": sum(p.overdue for p in problems),
            }
        )
        self.problems = problems

    def _mark_overdue(self) -> None:
        """The daily task's work: `services.mark_overdue` marks the problems past their deadline
        and leaves a notice for each of their secretaries (in the portal's language, no e-mail
        to the demo's addresses). Then each is dated the day after its deadline, as the task
        running every night would have dated it, and so are the notices."""
        with translation.override(settings.LANGUAGE_CODE), override_settings(NOTICE_EMAIL=False):
            services.mark_overdue(self.today)
        by_day: dict[datetime.date, list[int]] = defaultdict(list)
        for problem in self.problems:
            if problem.overdue:
                by_day[problem.deadline + DAY].append(problem.pk)
        for day, pks in sorted(by_day.items()):
            Problem.objects.filter(pk__in=pks).update(overdue_since=day)
            Notice.objects.filter(
                kind=services.OVERDUE_NOTICE, key__in=[str(pk) for pk in pks]
            ).update(created_at=self._at(day, 0, 10))  # the beat runs at 00:10
        self.figures["notices"] = Notice.objects.filter(kind=services.OVERDUE_NOTICE).count()
        self.figures["campaigns"] = len(self.campaigns)

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def build_campaigns(builder: DemoBuilder) -> dict:
    """Build the campaigns demo on what `builder` has written; return its figures."""
    return CampaignsDemo(builder).build()


# --------------------------------------------------------------------------------------------
# Flush
# --------------------------------------------------------------------------------------------

# Children first: every campaign with everything in it, the problems and the annual reports.
FLUSHED = [
    RectificationPhoto,
    Rectification,
    ProblemEvent,
    Problem,
    AnnualReport,
    KeyMeasure,
    KeyTask,
    Deployment,
    VolunteerBatch,
    VolunteerTeam,
    VisitLog,
    InspectionGroup.members.through,
    InspectionGroup.units.through,
    InspectionGroup,
    CampaignActivity,
    ParticipationGoods,
    Participation,
    Target,
    Campaign,
]
FLUSH_KEYS = {
    Campaign: "campaigns",
    Participation: "participations",
    Problem: "problems",
    AnnualReport: "annual_reports",
    KeyMeasure: "key_measures",
}


def flush() -> dict[str, int]:
    """Delete every campaign and everything in it, every problem and annual report, and the
    overdue notices about the problems: on PostgreSQL in one TRUNCATE, elsewhere one DELETE per
    table, children first; a table something outside points into goes through the ORM's
    delete. Photo files go once the transaction commits."""
    storage = RectificationPhoto._meta.get_field("file").storage
    names = [n for n in RectificationPhoto.objects.values_list("file", flat=True) if n]
    with transaction.atomic():
        notices = Notice.objects.filter(kind=services.OVERDUE_NOTICE).delete()[0]
        emptied = truncate(*FLUSHED)
        if emptied is None:
            emptied = {}
            for model in FLUSHED:
                rows = model._base_manager.all()
                outside = {rel.related_model for rel in model._meta.related_objects} - set(FLUSHED)
                if outside:
                    emptied[model] = rows.delete()[1].get(model._meta.label, 0)
                else:
                    emptied[model] = rows._raw_delete(rows.db)
        if names:
            transaction.on_commit(lambda: [storage.delete(n) for n in names])
    deleted = {key: emptied.get(model, 0) for model, key in FLUSH_KEYS.items()}
    deleted["overdue_notices"] = notices
    return deleted
