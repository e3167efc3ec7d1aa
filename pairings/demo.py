"""Demo data for the pairings app (结对共建), built by `branches.demo.DemoBuilder` once the
organization tree, the members and the activity records exist, and flushed by
`branches.demo.flush()` before the tree goes (every pairing protects its organization).

What it builds, from the figures of shared/docs/domain.md, per city of the scale (江城 at the
small and city scales, ten cities at province scale):

- partners outside the organ tree: villages in the towns of each city's counties, communities
  and 邻里中心 in the subdistricts of its urban districts, a few enterprises and schools (the
  schools and a spare village are not paired yet), each with a contact, a (masked) phone and
  what it lacks;
- "1+1" 好支部共建: every branch with a village of its own (as 822 of 827 in Liaocheng: a few
  planned, not docked yet; a handful with no pairing at all; one village shared by two small
  branches, flagged with the reason; a few branches that changed village, the old pairing
  ended), and members paired with village members or key households;
- "1+2" 邻里中心共建: a dozen communities, each helped by two organ organizations that each lead
  a co-building project (one community with only one organization so far; one organization
  with no project yet), some overdue, some with milestones;
- 挂钩帮扶 (a few villages with two organizations), 近邻党建 (communities with one or more
  organizations), 联创 (the enterprises' committees with a village or a cooperative);
- needs (缺什么补什么) with measures, some met, some open;
- a year of help up to today: visits (who went, from the organization's members; some counted
  as the branch's 主题党日: linked to a theme day the activity step filed that day, with its
  attendees), funds and goods; a few pairings unvisited for more than 90 days.

Deterministic: its own random stream (`builder.rng_for("pairings")`), and every choice made in
the tree's order, never by primary key (a reseed after a flush gets new ones). Nothing is dated
after today.

Speed: drafts in memory (small dataclasses, not model instances), then plain rows per table:
`insert_with_ids` where the ids are needed back (the ids drawn from the sequence and one COPY on
PostgreSQL; executemany and one read back elsewhere), `insert_rows` for the rest; on PostgreSQL
inside `bulk_loading` (keys and indexes rebuilt once). No query per row: at province scale
(~6,500 pairings, ~45,000 help records, ~190,000 participant rows) a few seconds.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from branches.demo import (
    CITY,
    PROVINCE_CITIES,
    VILLAGE_HEADS,
    VILLAGE_TAILS,
    OrgPlan,
    _day_off,
    bulk_loading,
    insert_rows,
    insert_with_ids,
    truncate,
)
from branches.models import (
    ActivityRecord,
    Attendance,
    AttendanceStatus,
    HostType,
    Member,
    Organization,
    OrganizationKind,
)

from .defaults import seed_schemes
from .models import (
    CounterpartKind,
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Milestone,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)

if TYPE_CHECKING:
    from branches.demo import DemoBuilder

K = OrganizationKind
DAY = datetime.timedelta(days=1)
CENT = Decimal("0.01")
HELP_DAYS = 365  # help records: this many days up to today
UNVISITED_DAYS = 100  # "unvisited" pairings: the last visit at least this long ago
THEME_DAY = "theme_day"  # the activity type a pairing visit may count as

# --------------------------------------------------------------------------------------------
# Figures per city (the small scale has a handful of each)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    one_plus_two: int  # communities under "1+2"
    support_orgs: int  # organ organizations under 挂钩帮扶 ...
    support_shared: int  # ... of which this many share a village with another
    neighbourhood_orgs: int  # organ organizations under 近邻党建 ...
    neighbourhood_communities: int  # ... with this many communities
    spare_schools: int  # partners not paired yet
    spare_villages: int


FIGURES = {
    "small": Figures(3, 3, 1, 3, 2, 1, 1),
    "city": Figures(12, 20, 2, 15, 10, 2, 2),
}
# Shares of the branches under "1+1" (at least one of each at every scale)
UNPAIRED = 0.003  # no pairing at all
PLANNED = 0.005  # paired, not docked yet
ENDED = 0.01  # changed village: the old pairing ended
LATE = 0.08  # paired within the last year (new branches)
MEMBER_PAIRS = 0.4  # docked "1+1" pairings whose members pair too
THEME_DAY_VISITS = 0.25  # docked "1+1" pairings with a visit counted as a theme day
UNVISITED = 0.03  # current docked pairings not visited for more than 90 days

# --------------------------------------------------------------------------------------------
# Reference data (Chinese data stays Chinese)
# --------------------------------------------------------------------------------------------

COUNTY_HEADS = "清白龙石安永长平青云丰宁金凤桃"
COUNTY_TAILS = "河溪泉门山源阳川"
URBAN_SECOND = ["湖滨区", "江北区", "城东区", "新城区", "高新区", "滨江区", "东湖区", "开发区"]
TOWN_NAMES = [
    "城关", "河口", "白沙", "龙门", "石桥", "黄田", "马坑", "杨梅", "柳溪", "桃源",
    "青山", "金竹", "大洋", "东林", "西坑", "南岭", "北洋", "上坂", "下洋", "高峰",
    "双溪", "三元", "水口", "凤山", "梅林", "塘头", "新店", "古田", "坪山", "溪口",
    "莲花", "官庄", "洪塘", "长岭", "潭头", "樟湖", "竹岐", "小沧", "盘谷", "赤岸",
]  # fmt: skip
SUBDISTRICT_NAMES = [
    "城南", "城北", "城东", "城西", "东湖", "西湖", "滨江", "江北", "新华", "人民",
    "解放", "文昌", "兴华", "和平", "建设", "凤凰", "朝阳", "南门", "长安", "光明",
]  # fmt: skip
EXTRA_VILLAGE_HEADS = "杨柳黄白马高桃李梅竹松凤云金安"
EXTRA_VILLAGE_TAILS = ["田", "塘", "源", "庄", "埔", "头", "洲", "湾", "垄", "墩", "寨"]
COMMUNITY_BASES = [
    "幸福", "和平", "阳光", "锦绣", "文化", "翠苑", "花园", "桂园", "滨河", "五一",
    "向阳", "胜利", "光明", "长青", "东风", "金桥", "丽水", "华庭", "新村", "凤鸣",
    "青年路", "建设路", "解放路", "中山路", "人民路", "民主路", "府前", "学院", "南苑", "北苑",
]  # fmt: skip
ENTERPRISES = [
    "{town}农业专业合作社党支部",
    "{town}食品有限公司党支部",
    "{town}茶业有限公司党支部",
    "绿源生态农业有限公司{town}基地党支部",
]
SCHOOLS = ["{town}中心小学党支部", "{town}初级中学党支部"]

# (what the partner lacks, the need found, the measures against it)
VILLAGE_SITUATIONS = [
    (
        "村“两委”班子年龄偏大，后备力量不足",
        "村级后备力量薄弱",
        ["选派党员骨干与村后备干部结对“传帮带”", "组织村后备干部到机关跟班学习"],
    ),
    (
        "村党群服务中心场所老旧，设施简陋",
        "村党群服务中心活动室设施老旧",
        ["捐赠办公桌椅和电教设备", "筹集资金修缮活动室"],
    ),
    (
        "集体经济薄弱，年经营性收入不足10万元",
        "村集体经济增收渠道少",
        ["协助谋划特色种养项目", "开展消费帮扶，对接农产品销售渠道"],
    ),
    (
        "低保户、特困户较多，困难群众生活帮扶任务重",
        "困难群众生活帮扶",
        ["党员与困难户一对一结对", "节日走访慰问困难群众"],
    ),
    (
        "村内道路破损，夜间无路灯",
        "村道破损、路灯缺失",
        ["协调交通部门纳入村道改造计划", "筹资安装太阳能路灯"],
    ),
    (
        "组织生活不够规范，党员教育管理薄弱",
        "“三会一课”落实不规范",
        ["指导规范组织生活记录", "联合开展主题党日，共上党课"],
    ),
    (
        "留守老人、留守儿童较多",
        "留守儿童课后看护缺位",
        ["开设周末“四点半课堂”", "捐赠图书充实农家书屋"],
    ),
    (
        "饮水设施老化，雨季水质不稳定",
        "安全饮水设施老化",
        ["协调水务部门检修供水管网", "捐建净水设备"],
    ),
    (
        "青壮年外出务工多，缺少产业带头人",
        "缺乏致富带头人",
        ["邀请农技专家开展种养技术培训", "引导在外能人回乡创业"],
    ),
]
COMMUNITY_SITUATIONS = [
    (
        "老旧小区多，物业管理缺位",
        "老旧小区环境脏乱",
        ["组织党员志愿者开展环境整治", "协调引入物业服务"],
    ),
    (
        "独居老人多，为老服务需求大",
        "独居老人助餐服务不足",
        ["共建社区“长者食堂”", "党员志愿者定期上门探访"],
    ),
    ("居民活动场所不足", "邻里中心活动空间不足", ["协调闲置用房改造为活动室"]),
    ("流动人口多，流动党员管理难", "流动党员底数不清", ["协助开展流动党员排查登记"]),
    ("小区停车难，道路拥堵", "小区停车难", ["协调规划增设停车位", "错时开放机关停车场"]),
    ("青少年课外活动缺乏", "青少年假期托管需求大", ["开设暑期托管班", "组织青年党员志愿辅导"]),
    ("社区工作力量不足", "社区治理力量不足", ["机关党员到社区报到，认领服务岗位"]),
]
SCHOOL_SITUATIONS = [
    (
        "留守儿童多，课后辅导和心理关爱不足",
        "留守儿童关爱需求大",
        ["组织党员志愿者开展“周末课堂”", "设立留守儿童心理辅导室"],
    ),
    ("教学设备陈旧，图书室藏书少", "图书室藏书不足", ["捐赠图书和电教设备"]),
]
ENTERPRISE_SITUATIONS = [
    (
        "产品销路窄，缺少品牌和电商渠道",
        "农产品销售渠道单一",
        ["对接机关食堂开展消费帮扶", "协助开设电商销售渠道"],
    ),
    ("技术力量薄弱，带动农户增收能力不足", "技术力量薄弱", ["邀请农技专家驻点指导"]),
]
SITUATIONS = {PartnerKind.SCHOOL: SCHOOL_SITUATIONS, PartnerKind.ENTERPRISE: ENTERPRISE_SITUATIONS}

VILLAGE_VISITS = [
    "走访{partner}，与村“两委”班子座谈，共同梳理需求清单。",
    "到{partner}开展结对共建走访，入户看望困难党员和群众{n}户。",
    "到{partner}调研村集体经济发展情况，实地查看种养项目。",
    "组织党员志愿者到{partner}开展义诊和惠民政策宣讲。",
    "协助{partner}开展人居环境整治，清理村道沟渠、整治村容村貌。",
    "回访{partner}结对帮扶户{n}户，了解帮扶措施落实情况。",
    "与{partner}党员共上党课，交流支部建设经验。",
]
COMMUNITY_VISITS = [
    "到{partner}开展“双报到”志愿服务，参与小区治理。",
    "走访{partner}，与社区党组织共商共建项目进展。",
    "到{partner}开展政策宣讲和法律咨询志愿服务。",
    "组织党员到{partner}开展垃圾分类宣传和环境整治。",
    "走访{partner}独居老人{n}户，送去生活用品。",
]
THEME_DAY_VISIT = (
    "联合主题党日：支部党员赴{partner}开展结对共建活动，与当地党员共同学习、共办实事。"
)
# who came along on a visit: the partner's contact, now and then
OTHERS = {True: "村党组织书记{name}陪同", False: "社区党组织书记{name}陪同"}
FUNDS = [
    ("捐赠{partner}活动场所修缮资金", "village"),
    ("春节前慰问{partner}困难群众", "any"),
    ("支持{partner}村集体经济项目", "village"),
    ("资助{partner}村道硬化工程", "village"),
    ("资助{partner}“四点半课堂”运行经费", "any"),
    ("设立助学金，资助{partner}困难家庭学生", "any"),
    ("支持{partner}“长者食堂”运营", "community"),
]
# item, unit of measure, unit price in yuan (from, to), what it was for, months it is given in
GOODS = [
    ("棉被", "床", (120, 260), "冬季送温暖：为{partner}困难群众送去棉被", (11, 12, 1, 2)),
    ("大米", "袋", (55, 90), "节日走访慰问{partner}困难群众", (1, 2, 9, 10)),
    ("食用油", "桶", (60, 120), "节日走访慰问{partner}困难群众", (1, 2, 9, 10)),
    ("书籍", "册", (20, 60), "捐赠图书，充实{partner}农家书屋", ()),
    ("办公桌椅", "套", (600, 1200), "捐赠办公桌椅，改善{partner}办公条件", ()),
    ("电脑", "台", (3200, 5600), "捐赠电脑，用于{partner}党员远程教育", ()),
    ("羽绒服", "件", (180, 400), "为{partner}留守儿童送去冬衣", (11, 12, 1)),
    ("学习用品", "套", (30, 90), "为{partner}留守儿童送去学习用品", (8, 9)),
    ("慰问品", "份", (100, 300), "七一走访慰问{partner}老党员", (6, 7)),
]
GOODS_DRAWN = GOODS + [GOODS[0]] * 2  # quilts most of all (206 in Liaocheng)
GOODS_QUANTITY = {"棉被": (5, 20), "电脑": (1, 5), "办公桌椅": (2, 10), "书籍": (50, 400)}
COMMUNITY_PROJECTS = [
    ("邻里中心“长者食堂”建设", (80_000, 300_000)),
    ("社区“四点半课堂”", (10_000, 50_000)),
    ("老旧小区微改造", (100_000, 500_000)),
    ("口袋公园建设", (50_000, 200_000)),
    ("智慧安防监控改造", (60_000, 180_000)),
    ("党群服务阵地提升", (30_000, 150_000)),
    ("社区健康驿站共建", (20_000, 80_000)),
    ("“法律明白人”工作室", (0, 20_000)),
    ("垃圾分类示范小区创建", (10_000, 60_000)),
    ("志愿服务积分超市", (5_000, 30_000)),
    ("电动车集中充电棚建设", (30_000, 120_000)),
]
VILLAGE_PROJECTS = [
    ("村道硬化及路灯安装", (100_000, 400_000)),
    ("村级光伏发电项目", (200_000, 600_000)),
    ("食用菌种植大棚", (80_000, 250_000)),
    ("村党群服务中心改造提升", (50_000, 200_000)),
    ("农产品电商服务站", (20_000, 80_000)),
]
MILESTONES = ["方案论证", "资金落实", "开工建设", "主体完工", "验收投用"]
KEY_HOUSEHOLD_NOTES = ["低保户，常年患病", "独居老人", "留守儿童家庭", "残疾人家庭", "脱贫监测户"]
VILLAGE_MEMBER_NOTES = ["老党员", "种养大户", "村后备干部", "返乡创业青年", "村民小组长"]


# --------------------------------------------------------------------------------------------
# Drafts
# --------------------------------------------------------------------------------------------


@dataclass
class Place:
    """A town or subdistrict: where partners sit, names unique within it."""

    district: str
    base: str  # the name without 镇, 乡 or 街道
    town: str
    room: int  # partners it still takes
    names: set[str] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class PartnerDraft:
    """A partner before it is written (the demo writes plain rows, not model instances)."""

    name: str
    kind: str
    district: str
    town: str
    contact_name: str
    contact_phone: str
    situation: str
    situations: list[tuple[str, str, list[str]]]  # what it lacks, the needs and measures
    pk: int | None = None


PARTNER_FIELDS = [
    "name",
    "kind",
    "district",
    "town",
    "contact_name",
    "contact_phone",
    "situation",
    "created_at",
]


@dataclass(slots=True, eq=False)
class PairingDraft:
    scheme: Scheme
    plan: OrgPlan  # the organ organization's
    partner: PartnerDraft
    status: str
    started_on: datetime.date
    docked_on: datetime.date | None
    ended_on: datetime.date | None = None
    override_reason: str = ""
    note: str = ""
    projects: int = 0  # co-building projects it leads
    overdue: bool = False  # its first project is overdue
    pk: int | None = None

    @property
    def organization(self) -> Organization:
        return self.plan.obj


PAIRING_FIELDS = [
    "scheme",
    "organization",
    "partner",
    "status",
    "started_on",
    "docked_on",
    "ended_on",
    "override_reason",
    "note",
    "created_by",
    "created_at",
]


@dataclass(slots=True, eq=False)
class NeedDraft:
    pairing: PairingDraft
    description: str
    found_on: datetime.date
    met_on: datetime.date | None
    measures: list[str]
    pk: int | None = None


@dataclass(slots=True, eq=False)
class ProjectDraft:
    pairing: PairingDraft
    name: str
    budget: Decimal
    started_on: datetime.date
    due_on: datetime.date
    status: str
    done_on: datetime.date | None
    milestones: bool
    pk: int | None = None


PROJECT_FIELDS = ["pairing", "name", "budget", "started_on", "due_on", "status", "done_on"]


@dataclass
class Geography:
    """One city's districts, towns and subdistricts, filled as partners are drawn."""

    city: str
    counties: list[str]
    urban: list[str]
    towns: list[Place] = field(default_factory=list)
    subdistricts: list[Place] = field(default_factory=list)


@dataclass(slots=True)
class Help:
    """A help record before it is written (plain rows: tens of thousands at province scale)."""

    pairing: PairingDraft
    kind: str
    date: datetime.date
    description: str
    others: str = ""
    amount: Decimal | None = None
    item: str = ""
    quantity: Decimal | None = None
    unit_of_measure: str = ""
    value: Decimal | None = None
    activity_record: int | None = None  # the theme day it counts as
    went: list[Member] = field(default_factory=list)
    pk: int | None = None


HELP_FIELDS = [
    "pairing",
    "kind",
    "date",
    "description",
    "others",
    "amount",
    "item",
    "quantity",
    "unit_of_measure",
    "value",
    "activity_record",
    "filed_by",
    "filed_at",
]
VISITED_WITH_CONTACT = {PartnerKind.VILLAGE, PartnerKind.COMMUNITY}
# the tables the demo fills (on PostgreSQL: keys and indexes rebuilt once, see bulk_loading)
LOADED = [
    PartnerOrganization,
    Pairing,
    Need,
    Measure,
    Project,
    Milestone,
    MemberPair,
    HelpRecord,
    HelpRecord.participants.through,
]
# chance a pairing gave funds, goods over the year, by scheme
HELP_SHARES = {
    "one_plus_one": (0.03, 0.1),
    "one_plus_two": (0.25, 0.15),
    "village_support": (0.3, 0.4),
    "neighbourhood": (0.15, 0.2),
    "co_creation": (0.2, 0.2),
}


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


class PairingsDemo:
    def __init__(self, builder: DemoBuilder) -> None:
        self.builder = builder
        self.rng = builder.rng_for("pairings")
        self.today: datetime.date = builder.today
        self.window_start = self.today - HELP_DAYS * DAY
        scale = builder.scale
        self.figures = FIGURES.get(scale.name, FIGURES["city"])
        self.cities = max(1, scale.cities)
        self.units_per_city = scale.units
        self.unit_index = {u.pk: i for i, u in enumerate(builder.units)}
        self.partners: list[PartnerDraft] = []
        self.pairings: list[PairingDraft] = []
        self.used_names: set[tuple[str, str]] = set()  # (town, name): unique across the data
        self.county_names_used: set[str] = set()
        self.geographies = [self._geography(i) for i in range(self.cities)]
        self.plans = builder.plans
        self.members_under: dict[int, list[Member]] = self._members_under()

    # ---- the whole thing ----------------------------------------------------------------------

    def build(self) -> dict:
        seed_schemes(Scheme)  # a database flushed by hand: the defaults again
        self.schemes = {s.code: s for s in Scheme.objects.all()}
        self.admin = User.objects.filter(username="admin", role=Role.STAFF).first()
        self.secretaries = {
            u.organization_id: u
            for u in User.objects.filter(role=Role.SECRETARY, organization__isnull=False)
        }
        by_city: dict[int, list[OrgPlan]] = defaultdict(list)
        for plan in self.plans:
            by_city[self._city_of(plan)].append(plan)
        demo_branches = {id(p) for p in self.builder._demo_branch_plans()}
        for city_no in range(self.cities):
            plans = by_city[city_no]
            geo = self.geographies[city_no]
            self._one_plus_one(geo, plans, demo_branches)
            self._one_plus_two(geo, plans, city_no)
            self._village_support(geo, plans)
            self._neighbourhood(geo, plans)
            self._co_creation(geo, plans)
            self._spare_partners(geo)
        self.pairings = self._within_rules(self.pairings)
        # On PostgreSQL the tables lose their foreign keys and indexes while they fill, then
        # get them back in one pass each (see bulk_loading): 200,000 rows at province scale.
        with bulk_loading(*LOADED):
            self._write_partners_and_pairings()
            needs, measures = self._needs()
            projects, milestones = self._projects()
            member_pairs = self._member_pairs()
            helps, participants = self._help_records()
        figures = self._summary(needs, measures, projects, milestones, member_pairs, helps)
        figures["participants"] = len(participants)
        return figures

    # ---- geography ----------------------------------------------------------------------------

    def _geography(self, city_no: int) -> Geography:
        city = PROVINCE_CITIES[city_no][0] if self.cities > 1 else CITY
        counties = []
        while len(counties) < 3:
            name = self.rng.choice(COUNTY_HEADS) + self.rng.choice(COUNTY_TAILS) + "县"
            if name not in self.county_names_used:
                self.county_names_used.add(name)
                counties.append(name)
        urban = [f"{city}区", URBAN_SECOND[city_no % len(URBAN_SECOND)]]
        return Geography(city, counties, urban)

    def _place(self, geo: Geography, urban: bool) -> Place:
        """The place with room for one more partner: the last one, or a new one."""
        places = geo.subdistricts if urban else geo.towns
        if places and places[-1].room > 0:
            return places[-1]
        pool = SUBDISTRICT_NAMES if urban else TOWN_NAMES
        taken = {p.base for p in places}
        free = [n for n in pool if n not in taken] or [
            f"{n}{m}" for n in pool for m in "东西南北" if f"{n}{m}" not in taken
        ]
        base = self.rng.choice(free)
        if urban:
            district = geo.urban[len(places) % len(geo.urban)]
            place = Place(district, base, f"{base}街道", self.rng.randint(4, 8))
        else:
            district = geo.counties[len(places) % len(geo.counties)]
            suffix = "乡" if self.rng.random() < 0.15 else "镇"
            place = Place(district, base, f"{base}{suffix}", self.rng.randint(14, 26))
        places.append(place)
        return place

    def _partner(self, geo: Geography, kind: str, wanted: str | None = None) -> PartnerDraft:
        """A new partner of `kind` in the city (a village named `wanted`, when it is free)."""
        rng = self.rng
        urban = kind in (PartnerKind.COMMUNITY, PartnerKind.NEIGHBOURHOOD_CENTRE)
        place = self._place(geo, urban)
        town_base = place.base
        for attempt in range(200):
            if kind == PartnerKind.VILLAGE:
                if wanted and attempt == 0:
                    base = wanted.removesuffix("村")
                elif attempt < 60:
                    base = rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS)
                else:
                    base = rng.choice(EXTRA_VILLAGE_HEADS) + rng.choice(
                        VILLAGE_TAILS + EXTRA_VILLAGE_TAILS
                    )
                name = f"{base}村党支部" if rng.random() < 0.8 else f"{base}村党总支"
                key = base
            elif kind == PartnerKind.COMMUNITY:
                base = rng.choice(COMMUNITY_BASES)
                name = f"{base}社区党委" if rng.random() < 0.6 else f"{base}社区党支部"
                key = base
            elif kind == PartnerKind.NEIGHBOURHOOD_CENTRE:
                base = rng.choice(COMMUNITY_BASES)
                name = f"{base}邻里中心党支部"
                key = base
            elif kind == PartnerKind.ENTERPRISE:
                name = rng.choice(ENTERPRISES).format(town=town_base)
                key = name
            else:
                name = rng.choice(SCHOOLS).format(town=town_base)
                key = name
            if key not in place.names and (place.town, name) not in self.used_names:
                break
        else:  # this town has no free name of the kind left: the next town
            place.room = 0
            return self._partner(geo, kind)
        place.names.add(key)
        place.room -= 1
        self.used_names.add((place.town, name))
        pool = SITUATIONS.get(kind, COMMUNITY_SITUATIONS if urban else VILLAGE_SITUATIONS)
        situations = rng.sample(pool, min(len(pool), rng.choice([1, 2, 2, 3])))
        contact = self.builder._name(rng, rng.random() < 0.7, self.today.year - rng.randint(30, 58))
        phone = f"1{rng.choice('3589')}{rng.randint(0, 9)}****{rng.randint(0, 9999):04d}"
        partner = PartnerDraft(
            name=name,
            kind=kind,
            district=place.district,
            town=place.town,
            contact_name=contact,
            contact_phone=phone,
            situation="；".join(s[0] for s in situations) + "。",
            situations=situations,
        )
        self.partners.append(partner)
        return partner

    # ---- the schemes --------------------------------------------------------------------------

    def _scheme(self, code: str) -> Scheme | None:
        scheme = self.schemes.get(code)
        return scheme if scheme is not None and scheme.active else None

    def _pair(
        self,
        scheme: Scheme,
        plan: OrgPlan,
        partner: PartnerDraft,
        started: datetime.date,
        docked: datetime.date | None,
        ended: datetime.date | None = None,
        override: str = "",
        note: str = "",
    ) -> PairingDraft:
        started = min(started, self.today)
        if docked is not None:
            docked = min(max(docked, started), self.today)
        status = (
            PairingStatus.ENDED
            if ended is not None
            else PairingStatus.DOCKED
            if docked is not None
            else PairingStatus.PLANNED
        )
        pairing = PairingDraft(
            scheme=scheme,
            plan=plan,
            partner=partner,
            status=status,
            started_on=started,
            docked_on=docked,
            ended_on=ended,
            override_reason=override,
            note=note,
        )
        self.pairings.append(pairing)
        return pairing

    def _started(self, lo: int, hi: int) -> datetime.date:
        return self.today - self.rng.randint(lo, hi) * DAY

    def _one_plus_one(self, geo: Geography, plans: list[OrgPlan], demo: set[int]) -> None:
        """Each branch with a village of its own (822 of 827 docked)."""
        scheme = self._scheme("one_plus_one")
        if (
            scheme is None
            or K.BRANCH not in scheme.organization_kinds
            or PartnerKind.VILLAGE not in scheme.partner_kinds
        ):
            return
        rng = self.rng
        branches = [p for p in plans if p.kind == K.BRANCH]
        if not branches:
            return
        others = [i for i, p in enumerate(branches) if id(p) not in demo]
        rng.shuffle(others)
        n = len(branches)
        counts = [
            max(1, round(n * share)) for share in (UNPAIRED, PLANNED, ENDED, LATE)
        ]  # unpaired, planned, ended, late
        state: dict[int, str] = {}
        for name, count in zip(("unpaired", "planned", "ended", "late"), counts, strict=True):
            for i in others[:count]:
                state[i] = name
            others = others[count:]
        # One branch shares the village of the branch before it, in the same unit (flagged).
        shared = next(
            (
                i
                for i in others
                if i > 0 and branches[i - 1].unit.pk == branches[i].unit.pk and i - 1 not in state
            ),
            None,
        )
        village_of: dict[int, PartnerDraft] = {}
        for i, plan in enumerate(branches):
            st = state.get(i, "docked")
            if st == "unpaired":
                continue
            if i == shared and i - 1 in village_of and state.get(i - 1, "docked") == "docked":
                previous = village_of[i - 1]
                started = self._started(300, 500)
                self._pair(
                    scheme,
                    plan,
                    previous,
                    started,
                    started + rng.randint(7, 30) * DAY,
                    override="两个支部党员人数较少，经工委研究同意共同结对帮扶该村",
                )
                continue
            wanted = next(
                (
                    m.first_secretary_village
                    for m in self._branch_members(plan)
                    if m.first_secretary_village
                ),
                None,
            )
            village = self._partner(geo, PartnerKind.VILLAGE, wanted)
            village_of[i] = village
            if st == "planned":
                self._pair(scheme, plan, village, self._started(10, 60), None)
                continue
            if st == "ended":
                old = self._partner(geo, PartnerKind.VILLAGE)
                started = self._started(650, 800)
                ended = self._started(330, 420)
                self._pair(
                    scheme,
                    plan,
                    old,
                    started,
                    started + rng.randint(10, 40) * DAY,
                    ended=ended,
                    note="该村已摘帽出列，调整结对对象",
                )
                restart = ended + rng.randint(0, 10) * DAY
                self._pair(scheme, plan, village, restart, restart + rng.randint(7, 30) * DAY)
                continue
            started = self._started(60, 300) if st == "late" else self._started(420, 640)
            self._pair(scheme, plan, village, started, started + rng.randint(7, 45) * DAY)

    def _organ_plans(self, plans: list[OrgPlan], kinds: Sequence[str]) -> list[OrgPlan]:
        return [p for p in plans if p.kind in kinds and not p.retired]

    def _one_plus_two(self, geo: Geography, plans: list[OrgPlan], city_no: int) -> None:
        """A dozen communities, two organ organizations each, each leading projects."""
        scheme = self._scheme("one_plus_two")
        if scheme is None:
            return
        rng = self.rng
        kinds = [k for k in (PartnerKind.NEIGHBOURHOOD_CENTRE, PartnerKind.COMMUNITY)]
        kinds = [k for k in kinds if k in scheme.partner_kinds]
        if not kinds:
            return
        committees = self._organ_plans(plans, [K.COMMITTEE, K.GENERAL_BRANCH])
        branches = self._organ_plans(plans, [K.BRANCH])
        committees = [p for p in committees if p.kind in scheme.organization_kinds]
        branches = [p for p in branches if p.kind in scheme.organization_kinds]
        rng.shuffle(committees)
        rng.shuffle(branches)
        pool = [p for pair in zip(committees, branches, strict=False) for p in pair]
        pool += committees[len(branches) :] + branches[len(committees) :]
        wanted = scheme.max_organizations_per_partner or max(
            2, scheme.min_organizations_per_partner
        )
        n = self.figures.one_plus_two
        for c in range(n):
            orgs = pool[c * wanted : (c + 1) * wanted]
            if not orgs:
                break
            if c == n - 1:
                orgs = orgs[:1]  # incomplete: the second organization not found yet
            kind = kinds[0] if c % 3 != 2 else kinds[-1]
            community = self._partner(geo, kind)
            started = self._started(200, 520)
            for o, plan in enumerate(orgs):
                pairing = self._pair(
                    scheme, plan, community, started, started + rng.randint(10, 40) * DAY
                )
                # the second organization of the second community leads no project yet
                pairing.projects = 0 if (c == 1 and o == 1) else rng.choice([1, 1, 2])
                pairing.overdue = c == 0 and o == 0

    def _village_support(self, geo: Geography, plans: list[OrgPlan]) -> None:
        """挂钩帮扶: organ committees with villages, a few villages with two."""
        scheme = self._scheme("village_support")
        if scheme is None or PartnerKind.VILLAGE not in scheme.partner_kinds:
            return
        rng = self.rng
        orgs = [
            p
            for p in self._organ_plans(plans, [K.COMMITTEE, K.GENERAL_BRANCH, K.BRANCH])
            if p.spec.host == HostType.ORGAN and p.kind in scheme.organization_kinds
        ]
        orgs.sort(key=lambda p: ["committee", "general_branch", "branch"].index(p.kind))
        orgs = orgs[: self.figures.support_orgs]
        villages: list[PartnerDraft] = []
        shared = 0
        most = scheme.max_organizations_per_partner
        for o, plan in enumerate(orgs):
            # every other one, a few times: a village with two organizations (82 with 75)
            if o % 2 and shared < self.figures.support_shared and (most is None or most >= 2):
                village = villages[-1]
                shared += 1
            else:
                village = self._partner(geo, PartnerKind.VILLAGE)
                villages.append(village)
            started = self._started(300, 900)
            pairing = self._pair(scheme, plan, village, started, started + rng.randint(7, 30) * DAY)
            pairing.projects = 1 if rng.random() < 0.3 else 0

    def _neighbourhood(self, geo: Geography, plans: list[OrgPlan]) -> None:
        """近邻党建: organ organizations with communities near them."""
        scheme = self._scheme("neighbourhood")
        if scheme is None or PartnerKind.COMMUNITY not in scheme.partner_kinds:
            return
        rng = self.rng
        orgs = [
            p
            for p in self._organ_plans(plans, [K.BRANCH, K.COMMITTEE])
            if p.kind in scheme.organization_kinds
        ]
        orgs = rng.sample(orgs, min(len(orgs), self.figures.neighbourhood_orgs))
        communities: list[PartnerDraft] = []
        taken: dict[int, list[int]] = defaultdict(list)
        for o, plan in enumerate(orgs):
            if o < self.figures.neighbourhood_communities:
                community = self._partner(geo, PartnerKind.COMMUNITY)
                communities.append(community)
            else:
                community = rng.choice(communities)
            if id(plan) in taken[id(community)]:
                continue
            taken[id(community)].append(id(plan))
            started = self._started(120, 700)
            self._pair(scheme, plan, community, started, started + rng.randint(5, 30) * DAY)

    def _co_creation(self, geo: Geography, plans: list[OrgPlan]) -> None:
        """联创: the enterprises' party committees with a village (and a cooperative)."""
        scheme = self._scheme("co_creation")
        if scheme is None or PartnerKind.VILLAGE not in scheme.partner_kinds:
            return
        rng = self.rng
        roots = [
            p
            for p in plans
            if p.parent is None
            and p.spec.host == HostType.ENTERPRISE
            and p.kind in scheme.organization_kinds
        ]
        for r, plan in enumerate(roots):
            village = self._partner(geo, PartnerKind.VILLAGE)
            started = self._started(200, 600)
            pairing = self._pair(scheme, plan, village, started, started + rng.randint(7, 30) * DAY)
            pairing.projects = 1
            if r < 2 and PartnerKind.ENTERPRISE in scheme.partner_kinds:
                cooperative = self._partner(geo, PartnerKind.ENTERPRISE)
                started = self._started(100, 300)
                self._pair(scheme, plan, cooperative, started, started + rng.randint(7, 30) * DAY)

    def _spare_partners(self, geo: Geography) -> None:
        """Partners registered, not paired yet."""
        for _ in range(self.figures.spare_schools):
            self._partner(geo, PartnerKind.SCHOOL)
        for _ in range(self.figures.spare_villages):
            self._partner(geo, PartnerKind.VILLAGE)

    def _within_rules(self, pairings: list[PairingDraft]) -> list[PairingDraft]:
        """Drop any current pairing the scheme's limits (as staff may have changed them) would
        refuse, unless it carries a reason: the demo passes the rules it shows."""
        per_partner: Counter = Counter()
        per_org: Counter = Counter()
        kept = []
        for p in pairings:
            scheme = p.scheme
            if p.plan.kind not in scheme.organization_kinds:
                continue
            if p.partner.kind not in scheme.partner_kinds:
                continue
            if p.status != PairingStatus.ENDED:
                pk, ok = (scheme.code, id(p.partner)), (scheme.code, id(p.plan))
                most_p = scheme.max_organizations_per_partner
                most_o = scheme.max_partners_per_organization
                over = (most_p is not None and per_partner[pk] >= most_p) or (
                    most_o is not None and per_org[ok] >= most_o
                )
                if over and not p.override_reason:
                    continue
                per_partner[pk] += 1
                per_org[ok] += 1
            kept.append(p)
        return kept

    def _write_partners_and_pairings(self) -> None:
        now = timezone.now()
        rows = [
            (
                d.name,
                d.kind,
                d.district,
                d.town,
                d.contact_name,
                d.contact_phone,
                d.situation,
                now,
            )
            for d in self.partners
        ]
        for partner, pk in zip(
            self.partners, insert_with_ids(PartnerOrganization, PARTNER_FIELDS, rows), strict=True
        ):
            partner.pk = pk
        admin = self.admin.pk if self.admin is not None else None
        rows = [
            (
                p.scheme.pk,
                p.plan.obj.pk,
                p.partner.pk,
                p.status,
                p.started_on,
                p.docked_on,
                p.ended_on,
                p.override_reason,
                p.note,
                admin,
                now,
            )
            for p in self.pairings
        ]
        for pairing, pk in zip(
            self.pairings, insert_with_ids(Pairing, PAIRING_FIELDS, rows), strict=True
        ):
            pairing.pk = pk

    # ---- what the pairings carry ----------------------------------------------------------------

    def _active_span(self, p: PairingDraft) -> tuple[datetime.date, datetime.date] | None:
        """The days of the help window the pairing was docked: None if none."""
        if p.status == PairingStatus.PLANNED or p.docked_on is None:
            return None
        first = max(p.docked_on, self.window_start)
        last = min(p.ended_on or self.today, self.today)
        return (first, last) if first <= last else None

    def _needs(self) -> tuple[list[NeedDraft], list[tuple]]:
        rng = self.rng
        needs: list[NeedDraft] = []
        share = {"one_plus_one": 0.7, "neighbourhood": 0.6, "co_creation": 0.5}
        for p in self.pairings:
            if p.status == PairingStatus.PLANNED:
                continue
            if rng.random() >= share.get(p.scheme.code, 1.0) and not self._is_demo(p):
                continue
            situations = list(p.partner.situations)
            if self._is_demo(p) and len(situations) < 2:  # the demo secretaries see both kinds
                pool = [s for s in VILLAGE_SITUATIONS if s not in situations]
                situations.append(rng.choice(pool))
            demo = self._is_demo(p)
            taken = situations[: max(2, rng.randint(1, 3)) if demo else rng.randint(1, 3)]
            for j, (_situation, need_text, measures) in enumerate(taken):
                start = p.docked_on or p.started_on
                found = min(start + rng.randint(0, 60) * DAY, self.today)
                met = None
                if (rng.random() < 0.55 or (demo and j == 0)) and not (
                    demo and j == len(taken) - 1
                ):
                    met = found + rng.randint(30, 300) * DAY
                    if met > self.today or (p.ended_on and met > p.ended_on):
                        met = None
                if demo and j == 0 and met is None:
                    met = min(found + 30 * DAY, self.today)
                if p.status == PairingStatus.ENDED and met is None:
                    met = p.ended_on if p.ended_on >= found else None
                measures = measures[: rng.randint(1, len(measures))]
                needs.append(NeedDraft(p, need_text, found, met, measures))
        rows = [(n.pairing.pk, n.description, n.found_on, n.met_on) for n in needs]
        fields = ["pairing", "description", "found_on", "met_on"]
        for need, pk in zip(needs, insert_with_ids(Need, fields, rows), strict=True):
            need.pk = pk
        rows = []
        for need in needs:
            for text in need.measures:
                due = need.found_on + rng.randint(30, 180) * DAY
                done = None
                if need.met_on is not None:
                    done = max(need.found_on, need.met_on - rng.randint(0, 20) * DAY)
                elif due <= self.today and rng.random() < 0.4:
                    done = min(due + rng.randint(-10, 10) * DAY, self.today)
                    done = max(done, need.found_on)
                rows.append((need.pk, text, due, done))
        insert_rows(Measure, ["need", "description", "due_on", "done_on"], rows)
        return needs, rows

    def _projects(self) -> tuple[list[ProjectDraft], list[tuple]]:
        rng = self.rng
        projects: list[ProjectDraft] = []
        today = self.today
        for p in self.pairings:
            count = p.projects
            if not count or p.status != PairingStatus.DOCKED:
                continue
            pool = COMMUNITY_PROJECTS if p.partner.kind != PartnerKind.VILLAGE else VILLAGE_PROJECTS
            for j, (name, (lo, hi)) in enumerate(rng.sample(pool, count)):
                budget = Decimal(rng.randint(lo // 100, hi // 100) * 100).quantize(CENT)
                started = min(p.docked_on + rng.randint(0, 90) * DAY, today)
                due = started + rng.randint(60, 360) * DAY
                overdue = p.overdue and j == 0
                if overdue:
                    due = max(started, today - rng.randint(10, 60) * DAY)
                done_on = None
                if overdue:
                    status = ProjectStatus.UNDERWAY
                elif due < today:
                    r = rng.random()
                    if r < 0.7:
                        status = ProjectStatus.DONE
                        done_on = min(due + rng.randint(-30, 20) * DAY, today)
                        done_on = max(done_on, started)
                    elif r < 0.9 or j == 0:  # an organization's first project stands
                        status = ProjectStatus.UNDERWAY  # overdue
                    else:
                        status = ProjectStatus.CANCELLED
                else:
                    fresh = started >= today - 30 * DAY or rng.random() < 0.15
                    status = ProjectStatus.PLANNED if fresh else ProjectStatus.UNDERWAY
                milestones = overdue or rng.random() < 0.5
                projects.append(
                    ProjectDraft(p, name, budget, started, due, status, done_on, milestones)
                )
        rows = [
            (pr.pairing.pk, pr.name, pr.budget, pr.started_on, pr.due_on, pr.status, pr.done_on)
            for pr in projects
        ]
        for project, pk in zip(
            projects, insert_with_ids(Project, PROJECT_FIELDS, rows), strict=True
        ):
            project.pk = pk
        rows = []
        for project in projects:
            if not project.milestones:
                continue
            steps = MILESTONES[rng.randint(0, 1) : rng.randint(3, 5)]
            span = (project.due_on - project.started_on).days
            for k, name in enumerate(steps, start=1):
                due = project.started_on + (span * k // len(steps)) * DAY
                done = None
                if project.status == ProjectStatus.DONE:
                    done = min(due, project.done_on)
                elif due < self.today and project.status == ProjectStatus.UNDERWAY:
                    # an overdue project is held up at its last step
                    late = project.due_on < self.today and k == len(steps)
                    if not late and rng.random() < 0.8:
                        done = min(due + rng.randint(-5, 15) * DAY, self.today)
                rows.append((project.pk, name, due, done))
        insert_rows(Milestone, ["project", "name", "due_on", "done_on"], rows)
        return projects, rows

    def _member_pairs(self) -> list[tuple]:
        rng = self.rng
        rows = []
        for p in self.pairings:
            if not p.scheme.member_pairs or p.status != PairingStatus.DOCKED:
                continue
            if rng.random() >= MEMBER_PAIRS and not self._is_demo(p):
                continue
            members = self.members_under.get(p.organization.pk, [])
            if not members:
                continue
            for member in rng.sample(members, min(len(members), rng.randint(1, 3))):
                household = rng.random() < 0.45
                name = self.builder._name(
                    rng, rng.random() < 0.5, self.today.year - rng.randint(25, 80)
                )
                kind = (
                    CounterpartKind.KEY_HOUSEHOLD if household else CounterpartKind.VILLAGE_MEMBER
                )
                note = rng.choice(KEY_HOUSEHOLD_NOTES if household else VILLAGE_MEMBER_NOTES)
                started = min(p.docked_on + rng.randint(0, 60) * DAY, self.today)
                rows.append((p.pk, member.id, kind.value, name, note, started))
        insert_rows(
            MemberPair,
            ["pairing", "member", "counterpart_kind", "counterpart_name", "note", "started_on"],
            rows,
        )
        return rows

    # ---- help -----------------------------------------------------------------------------------

    def _help_records(self) -> tuple[list[Help], list[tuple]]:
        rng = self.rng
        today = self.today
        theme_days = self._theme_days()
        current = [
            p for p in self.pairings if p.status == PairingStatus.DOCKED and not self._is_demo(p)
        ]
        unvisited = (
            {id(p) for p in rng.sample(current, max(1, round(len(current) * UNVISITED)))}
            if current
            else set()
        )
        helps: list[Help] = []
        counted: set[int] = set()  # theme days a visit counts as
        for p in self.pairings:
            span = self._active_span(p)
            if span is None:
                continue
            first, last = span
            if id(p) in unvisited:
                last = min(last, today - (UNVISITED_DAYS + rng.randint(0, 60)) * DAY)
            village = p.partner.kind == PartnerKind.VILLAGE
            partner = p.partner.name
            members = self.members_under.get(p.organization.pk, [])
            days = set()
            # visits: one every month or two (each stretch of 40 to 75 days has one)
            stretch = rng.randint(40, 75)
            n = -(-((last - first).days + 1) // stretch) if first <= last else 0
            templates = VILLAGE_VISITS if village else COMMUNITY_VISITS
            for k in range(n):
                lo = first + k * stretch * DAY
                day = self._weekday(lo, min(lo + (stretch - 1) * DAY, last))
                if day is None:
                    continue
                days.add(day)
                text = rng.choice(templates).format(partner=partner, n=rng.randint(3, 12))
                helps.append(
                    Help(
                        p,
                        HelpKind.VISIT,
                        day,
                        text,
                        others=self._others(p.partner, village),
                        went=self._went(members, day),
                    )
                )
            # a visit counted as the branch's theme party day
            records = theme_days.get(p.organization.pk, [])
            if (
                p.scheme.code == "one_plus_one"
                and records
                and (self._is_demo(p) or rng.random() < THEME_DAY_VISITS)
            ):
                fitting = [
                    (d, pk)
                    for d, pk in records
                    if first <= d <= last and d not in days and pk not in counted
                ]
                if fitting:
                    day, record_pk = rng.choice(fitting)
                    days.add(day)
                    counted.add(record_pk)
                    text = THEME_DAY_VISIT.format(partner=partner)
                    helps.append(Help(p, HelpKind.VISIT, day, text, activity_record=record_pk))
            # funds and goods
            funds_p, goods_p = HELP_SHARES.get(p.scheme.code, HELP_SHARES["one_plus_one"])
            if self._is_demo(p):
                funds_p = goods_p = 1.0
            if rng.random() < funds_p:
                for _ in range(rng.choice([1, 1, 2]) if p.scheme.code == "village_support" else 1):
                    helps.append(self._funds(p, span, village))
            if rng.random() < goods_p:
                for _ in range(rng.choice([1, 1, 2])):
                    helps.append(self._goods(p, span))
        # who went to the theme days: those present at them
        present = self._present_at([h.activity_record for h in helps if h.activity_record])
        for h in helps:
            if h.activity_record:
                h.went = present.get(h.activity_record, [])
        now = timezone.now()
        secretaries = {pk: u.pk for pk, u in self.secretaries.items()}
        rows = [
            (
                h.pairing.pk,
                h.kind,
                h.date,
                h.description,
                h.others,
                h.amount,
                h.item,
                h.quantity,
                h.unit_of_measure,
                h.value,
                h.activity_record,
                secretaries.get(h.pairing.organization.pk),
                now,
            )
            for h in helps
        ]
        for h, pk in zip(helps, insert_with_ids(HelpRecord, HELP_FIELDS, rows), strict=True):
            h.pk = pk
        participants = [(h.pk, m.id) for h in helps for m in h.went]
        insert_rows(HelpRecord.participants.through, ["helprecord", "member"], participants)
        return helps, participants

    def _weekday(self, first: datetime.date, last: datetime.date) -> datetime.date | None:
        for _ in range(10):
            day = first + self.rng.randint(0, (last - first).days) * DAY
            if not _day_off(day):
                return day
        return None

    def _others(self, partner: PartnerDraft, village: bool) -> str:
        if self.rng.random() >= 0.4 or partner.kind not in VISITED_WITH_CONTACT:
            return ""
        return OTHERS[village].format(name=partner.contact_name)

    def _went(self, members: list[Member], day: datetime.date) -> list[Member]:
        """Two to five of the members, among those who had joined by then."""
        rng = self.rng
        wanted = rng.randint(2, 5)
        went = {}
        for m in rng.choices(members, k=wanted + 3) if members else ():
            if m.joined_on <= day:
                went[id(m)] = m
        return sorted(list(went.values())[:wanted], key=lambda m: m.member_no)

    def _occasion(self, span, months: Sequence[int] = ()) -> datetime.date:
        """A day in the span, in one of `months` when the span has one (mostly)."""
        first, last = span
        length = (last - first).days
        for _ in range(40 if months else 0):
            day = first + self.rng.randint(0, length) * DAY
            if day.month in months:
                return day
        return first + self.rng.randint(0, length) * DAY

    def _funds(self, p: PairingDraft, span, village: bool) -> Help:
        rng = self.rng
        fitting = [t for t, where in FUNDS if where == "any" or (where == "village") == village]
        text = rng.choice(fitting)
        months = (1, 2) if "春节" in text else ()
        day = self._occasion(span, months)
        if rng.random() < 0.15:  # an odd amount: exact sums matter
            amount = Decimal(f"{rng.randint(2000, 9000)}.{rng.randint(0, 99):02d}")
        elif p.scheme.code == "village_support":
            amount = Decimal(rng.randint(100, 500) * 100)
        else:
            amount = Decimal(rng.choice([20, 30, 50, 50, 80, 100, 100, 150, 200]) * 100)
        text = text.format(partner=p.partner.name)
        return Help(p, HelpKind.FUNDS, day, text, amount=amount.quantize(CENT))

    def _goods(self, p: PairingDraft, span) -> Help:
        rng = self.rng
        item, unit, (lo, hi), text, months = rng.choice(GOODS_DRAWN)
        q_lo, q_hi = GOODS_QUANTITY.get(item, (10, 60))
        quantity = Decimal(rng.randint(q_lo, q_hi))
        price = Decimal(rng.randint(lo, hi))
        day = self._occasion(span, months)
        return Help(
            p,
            HelpKind.GOODS,
            day,
            text.format(partner=p.partner.name),
            item=item,
            quantity=quantity.quantize(CENT),
            unit_of_measure=unit,
            value=(quantity * price).quantize(CENT) if rng.random() < 0.95 else None,
        )

    def _theme_days(self) -> dict[int, list[tuple[datetime.date, int]]]:
        """Branch pk -> its theme days in the help window, (date, record pk), by date."""
        found: dict[int, list[tuple[datetime.date, int]]] = defaultdict(list)
        rows = (
            ActivityRecord.objects.filter(
                activity_type__code=THEME_DAY,
                organization__kind=K.BRANCH,
                date__gte=self.window_start,
                date__lte=self.today,
            )
            .order_by("organization_id", "date")
            .values_list("organization_id", "date", "pk")
        )
        for org_id, day, pk in rows.iterator(chunk_size=10_000):
            found[org_id].append((day, pk))
        return found

    def _present_at(self, record_pks: list[int]) -> dict[int, list[Member]]:
        """Record pk -> the members present at it, by member number."""
        if not record_pks:
            return {}
        members = {m.pk: m for m in self.builder.members}
        present: dict[int, list[Member]] = defaultdict(list)
        for i in range(0, len(record_pks), 500):
            rows = Attendance.objects.filter(
                record_id__in=record_pks[i : i + 500], status=AttendanceStatus.PRESENT
            ).values_list("record_id", "member_id")
            for record_id, member_id in rows:
                if member_id in members:
                    present[record_id].append(members[member_id])
        for went in present.values():
            went.sort(key=lambda m: m.member_no)
        return present

    # ---- helpers --------------------------------------------------------------------------------

    def _city_of(self, plan: OrgPlan) -> int:
        if self.cities <= 1:
            return 0
        return min(self.cities - 1, self.unit_index[plan.unit.pk] // self.units_per_city)

    def _branch_members(self, plan: OrgPlan) -> list[Member]:
        return self.builder.branch_members.get(plan.obj.pk, [])

    def _members_under(self) -> dict[int, list[Member]]:
        """Organization pk -> the members of its branches (itself if a branch), tree order."""
        under: dict[int, list[Member]] = {}
        for plan in self.plans:
            if plan.kind == K.GROUP:
                continue
            under[plan.obj.pk] = [
                m
                for p in plan.walk()
                if p.kind == K.BRANCH
                for m in self.builder.branch_members.get(p.obj.pk, [])
            ]
        return under

    def _is_demo(self, p: PairingDraft) -> bool:
        return p.organization.pk in self.secretaries and p.scheme.code == "one_plus_one"

    def _summary(self, needs, measures, projects, milestones, member_pairs, helps) -> dict:
        status = Counter(p.status for p in self.pairings)
        kinds = Counter(h.kind for h in helps)
        one = [p for p in self.pairings if p.scheme.code == "one_plus_one"]
        branches = sum(1 for p in self.plans if p.kind == K.BRANCH)
        current_one = {id(p.plan) for p in one if p.status != PairingStatus.ENDED}
        docked_one = {id(p.plan) for p in one if p.status == PairingStatus.DOCKED}
        return {
            "partners": len(self.partners),
            "pairings": len(self.pairings),
            "docked": status[PairingStatus.DOCKED],
            "planned": status[PairingStatus.PLANNED],
            "ended": status[PairingStatus.ENDED],
            "flagged": sum(bool(p.override_reason) for p in self.pairings),
            "branches": branches,
            "branches_paired": len(current_one),
            "branches_docked": len(docked_one),
            "by_scheme": dict(Counter(p.scheme.code for p in self.pairings)),
            "member_pairs": len(member_pairs),
            "needs": len(needs),
            "needs_open": sum(n.met_on is None for n in needs),
            "measures": len(measures),
            "projects": len(projects),
            "overdue_projects": sum(
                pr.status in (ProjectStatus.PLANNED, ProjectStatus.UNDERWAY)
                and pr.due_on < self.today
                for pr in projects
            ),
            "milestones": len(milestones),
            "help_records": len(helps),
            "visits": kinds[HelpKind.VISIT],
            "theme_day_visits": sum(h.activity_record is not None for h in helps),
            "funds_records": kinds[HelpKind.FUNDS],
            "funds": sum((h.amount for h in helps if h.kind == HelpKind.FUNDS), Decimal("0.00")),
            "goods_records": kinds[HelpKind.GOODS],
            "goods_value": sum(
                (h.value for h in helps if h.kind == HelpKind.GOODS and h.value is not None),
                Decimal("0.00"),
            ),
        }


def build_pairings(builder: DemoBuilder) -> dict:
    """Build the pairings demo on what `builder` has written; return its figures."""
    return PairingsDemo(builder).build()


# --------------------------------------------------------------------------------------------
# Flush
# --------------------------------------------------------------------------------------------

# Children first; the schemes stay (they are configuration, seeded by the migration).
FLUSHED = [
    HelpPhoto,
    HelpRecord.participants.through,
    HelpRecord,
    Milestone,
    Project,
    Measure,
    Need,
    MemberPair,
    Pairing,
    PartnerOrganization,
]
FLUSH_KEYS = {
    HelpPhoto: "help_photos",
    HelpRecord: "help_records",
    Milestone: "milestones",
    Project: "projects",
    Measure: "measures",
    Need: "needs",
    MemberPair: "member_pairs",
    Pairing: "pairings",
    PartnerOrganization: "partners",
}


def flush() -> dict[str, int]:
    """Delete every pairing, partner and what they carry (the schemes stay): on PostgreSQL in
    one TRUNCATE, elsewhere one DELETE per table, children first; a table something outside
    points into goes through the ORM's delete. Photo files go once the transaction commits."""
    storage = HelpPhoto._meta.get_field("file").storage
    names = [n for n in HelpPhoto.objects.values_list("file", flat=True) if n]
    with transaction.atomic():
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
    return {key: emptied.get(model, 0) for model, key in FLUSH_KEYS.items()}
