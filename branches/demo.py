"""Demo data for the portal: a municipal organ tree with realistic Chinese units, party
organizations, terms, members, one demo account per role, and the organizational life of the
last months (activity records with their attendance). Three scales: small (6 units, ~400
members), city (60 units, ~20,000 members, ~930,000 attendance rows over 24 months) and province
(the catalogue once per city of ten: 600 units, ~8,350 organizations, ~200,000 members, ~9.3
million attendance rows).

Plain functions and one builder; the `seed_demo` management command only parses options and
prints. Everything is deterministic: the same seed on the same day gives the same data (dates are
relative to `timezone.localdate()`). Each step draws from its own random stream
(`DemoBuilder.rng_for(step)`), so adding a later step (activity records, pairings...) does not
change what the earlier steps produce.

Speed: rows are built in memory and written in batches, inside one transaction; no per-row save
and no per-row query. Organizations go with `bulk_create`; members and terms with
`save_objects` (one COPY on PostgreSQL, bulk_create elsewhere); later changes with
`update_objects` (not bulk_update, whose CASE per row is slow by the thousand). None of them
calls `save()`, so the tree path, depth and the term due date are computed here. Activity
records and attendance are plain tuples streamed through `RowWriter` (COPY on PostgreSQL,
`executemany` elsewhere) as `_records` yields them: building a model instance per row would
triple the time, and holding ten million rows would take gigabytes. On PostgreSQL the tables
being filled lose their foreign keys and indexes while loading (`bulk_loading`), which are then
rebuilt and validated in one pass each. At the end `_finish()` refreshes the stored counts and
runs ANALYZE (`analyze()`): the planner has no statistics for tables just filled. Pass
`progress` to hear a line per step (the command does at province scale and with -v 2).
Province scale on PostgreSQL: about three minutes, under 500 MB of memory.

Extending: add a `build_<thing>()` method to `DemoBuilder`, call it from `build()` and read what
the earlier steps left on the builder: `units`, `organizations`, `branches`, `branch_members`
(branch pk -> its members), `groups_by_branch` (branch pk -> its groups).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import io
import itertools
import operator
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import connections, models, router, transaction
from django.db.models import Max
from django.db.models.deletion import get_candidate_relations_to_delete
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Role, User

from .compliance import COMMITTEE_MIN_SIZE, compute_compliance
from .counts import deferred, refresh_counts
from .dates import add_months
from .defaults import seed_activity_types
from .models import (
    COLLEGE_OR_ABOVE,
    COMMITTEE_DUTIES,
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    AttendanceStatus,
    ComplianceRule,
    HostType,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
    Term,
    Unit,
    years_ago,
)
from .periods import MONTHS_IN, Period

DEFAULT_SEED = 71  # 七一
DEMO_PASSWORD = "Demo-2026-jiguan"
DEMO_EMAIL_DOMAIN = "demo.invalid"  # marks the accounts this module created, for --flush
BATCH = 1000
ROW_BATCH = 5000  # rows per executemany (SQLite)
COPY_BATCH = 50_000  # rows per COPY (PostgreSQL)
RECORD_CHUNK = 10_000  # activity records written (and their pks read back) at a time
SQLITE_ANALYSIS_LIMIT = 1000  # rows ANALYZE samples per index on SQLite
PROGRESS_ROWS = 1_000_000  # a progress line per this many attendance rows
ACTIVITY_MONTHS = 24  # organizational life: this many full months back, plus this month so far
CITY = "江城"  # the fictional city, only where a real name needs one

K = OrganizationKind


# --------------------------------------------------------------------------------------------
# Scales
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    name: str
    units: int  # how many units of UNIT_CATALOGUE, from the top
    members: int  # target member count (rule-breaking branches move it a little)
    branch_size: int  # average members per branch
    general_branch_from: int  # a unit with this many branches groups them in 党总支
    nested_committee_from: int  # an organ with this many branches gets a 机关党委 under its 党委
    group_share: float  # share of branches with 20+ members that have 党小组
    # deliberate breaches of the branch work regulations, so the warnings have something to show
    tiny: int  # fewer than 3 full members
    huge: int  # more than 50 members
    no_committee: int  # 7+ full members, a secretary alone
    no_secretary: int  # secretary post vacant
    # More than one: the catalogue once per city of PROVINCE_CITIES, the names carrying the city
    # (江城市统计局, 临州市统计局...), each city's members in proportion to its factor.
    cities: int = 1
    whole: str = "全市"  # the scope of the staff and city-wide accounts, as the output says it


SCALES: dict[str, Scale] = {
    "small": Scale("small", 6, 400, 16, 7, 99, 0.4, 1, 1, 1, 1),
    "city": Scale("city", 60, 20300, 35, 12, 24, 0.1, 4, 3, 5, 3),
    # 省直机关工委 or a whole province's organs: ten cities' worth, ~600 units, ~8,000
    # organizations, ~200,000 members, ~10 million attendance rows over 24 months.
    "province": Scale(
        "province", 60, 203000, 35, 12, 24, 0.1, 40, 30, 50, 30, cities=10, whole="全省"
    ),
}


# --------------------------------------------------------------------------------------------
# Reference data (Chinese data stays Chinese)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    name: str
    short: str
    host: str
    category: str  # picks branch names and positions, see DEPARTMENTS / POSITIONS
    weight: float  # relative member count
    leader: str = "副局长"  # the unit's deputy head title
    joint_with: str = ""  # name of the unit whose committee this one joins (联合党委)


ORGAN, PUBLIC, ENTERPRISE = HostType.ORGAN, HostType.PUBLIC_INSTITUTION, HostType.ENTERPRISE

# The first six are the small scale: the joint committee, organs, a hospital, an enterprise.
UNIT_CATALOGUE: list[UnitSpec] = [
    UnitSpec("市统计局", "统计局", ORGAN, "stats", 1.0),
    UnitSpec(
        f"国家统计局{CITY}调查队", "调查队", ORGAN, "survey", 0.7, "副队长", joint_with="市统计局"
    ),
    UnitSpec("市水务局", "水务局", ORGAN, "water", 1.6),
    UnitSpec("市财政局", "财政局", ORGAN, "finance", 1.5),
    UnitSpec("市人民医院", "人民医院", PUBLIC, "hospital", 4.0, "副院长"),
    UnitSpec("市供电公司", "供电公司", ENTERPRISE, "power", 3.0, "副总经理"),
    UnitSpec("市教育局", "教育局", ORGAN, "organ", 1.5),
    UnitSpec("市卫生健康委员会", "卫健委", ORGAN, "organ", 1.3, "副主任"),
    UnitSpec("市人民法院", "法院", ORGAN, "court", 2.5, "副院长"),
    UnitSpec("市人民检察院", "检察院", ORGAN, "procuratorate", 1.8, "副检察长"),
    UnitSpec("市第一中学", "一中", PUBLIC, "school", 1.6, "副校长"),
    UnitSpec("市公安局", "公安局", ORGAN, "police", 5.0),
    UnitSpec("市委办公室", "市委办", ORGAN, "organ", 1.0, "副主任"),
    UnitSpec("市政府办公室", "市政府办", ORGAN, "organ", 1.1, "副主任"),
    UnitSpec("市人大常委会办公室", "人大办", ORGAN, "organ", 0.8, "副主任"),
    UnitSpec("市政协办公室", "政协办", ORGAN, "organ", 0.7, "副主任"),
    UnitSpec("市纪委监委机关", "纪委监委", ORGAN, "organ", 1.4, "副主任"),
    UnitSpec("市委组织部", "组织部", ORGAN, "organ", 0.9, "副部长"),
    UnitSpec("市委宣传部", "宣传部", ORGAN, "organ", 0.7, "副部长"),
    UnitSpec("市委统战部", "统战部", ORGAN, "organ", 0.6, "副部长"),
    UnitSpec("市委政法委员会", "政法委", ORGAN, "organ", 0.6, "副书记"),
    UnitSpec("市发展和改革委员会", "发改委", ORGAN, "organ", 1.2, "副主任"),
    UnitSpec("市科学技术局", "科技局", ORGAN, "organ", 0.7),
    UnitSpec("市工业和信息化局", "工信局", ORGAN, "organ", 0.9),
    UnitSpec("市民政局", "民政局", ORGAN, "organ", 1.0),
    UnitSpec("市司法局", "司法局", ORGAN, "organ", 1.1),
    UnitSpec("市人力资源和社会保障局", "人社局", ORGAN, "organ", 1.3),
    UnitSpec("市自然资源和规划局", "自然资源局", ORGAN, "organ", 1.6),
    UnitSpec("市生态环境局", "生态环境局", ORGAN, "organ", 1.2),
    UnitSpec("市住房和城乡建设局", "住建局", ORGAN, "organ", 1.4),
    UnitSpec("市交通运输局", "交通局", ORGAN, "organ", 1.5),
    UnitSpec("市农业农村局", "农业农村局", ORGAN, "organ", 1.4),
    UnitSpec("市商务局", "商务局", ORGAN, "organ", 0.8),
    UnitSpec("市文化和旅游局", "文旅局", ORGAN, "organ", 1.0),
    UnitSpec("市退役军人事务局", "退役军人局", ORGAN, "organ", 0.6),
    UnitSpec("市应急管理局", "应急局", ORGAN, "organ", 0.8),
    UnitSpec("市审计局", "审计局", ORGAN, "organ", 0.8),
    UnitSpec("市市场监督管理局", "市场监管局", ORGAN, "organ", 1.8),
    UnitSpec("市医疗保障局", "医保局", ORGAN, "organ", 0.6),
    UnitSpec("市林业局", "林业局", ORGAN, "organ", 0.7),
    UnitSpec("市体育局", "体育局", ORGAN, "organ", 0.5),
    UnitSpec("市信访局", "信访局", ORGAN, "organ", 0.4),
    UnitSpec("市机关事务管理局", "机关事务局", ORGAN, "organ", 0.6),
    UnitSpec("市行政审批服务局", "审批局", ORGAN, "organ", 0.7),
    UnitSpec("市城市管理局", "城管局", ORGAN, "organ", 1.3),
    UnitSpec("市总工会", "总工会", ORGAN, "organ", 0.5, "副主席"),
    UnitSpec("共青团市委", "团市委", ORGAN, "organ", 0.3, "副书记"),
    UnitSpec("市妇女联合会", "妇联", ORGAN, "organ", 0.3, "副主席"),
    UnitSpec("市档案馆", "档案馆", PUBLIC, "institution", 0.4, "副馆长"),
    UnitSpec("市中医院", "中医院", PUBLIC, "hospital", 2.2, "副院长"),
    UnitSpec("市第二人民医院", "市二院", PUBLIC, "hospital", 2.0, "副院长"),
    UnitSpec("市妇幼保健院", "妇幼保健院", PUBLIC, "hospital", 1.2, "副院长"),
    UnitSpec("市疾病预防控制中心", "疾控中心", PUBLIC, "institution", 0.8, "副主任"),
    UnitSpec("市实验小学", "实验小学", PUBLIC, "school", 0.8, "副校长"),
    UnitSpec("市职业技术学院", "职业技术学院", PUBLIC, "college", 1.8, "副院长"),
    UnitSpec("市广播电视台", "广电台", PUBLIC, "institution", 1.0, "副台长"),
    UnitSpec("市住房公积金管理中心", "公积金中心", PUBLIC, "institution", 0.5, "副主任"),
    UnitSpec("市城市建设投资集团有限公司", "城投集团", ENTERPRISE, "enterprise", 1.5, "副总经理"),
    UnitSpec("市水务集团有限公司", "水务集团", ENTERPRISE, "enterprise", 1.3, "副总经理"),
    UnitSpec("市公共交通集团有限公司", "公交集团", ENTERPRISE, "enterprise", 1.6, "副总经理"),
]
# Province scale: the cities whose units repeat the catalogue (fictional names), with how big
# each is next to the city scale (the factors sum to 10: ten times the city's members).
PROVINCE_CITIES: list[tuple[str, float]] = [
    (CITY, 1.0),
    ("临州", 1.3),
    ("云川", 0.8),
    ("安平", 1.1),
    ("白河", 0.9),
    ("南屏", 1.2),
    ("石桥", 0.7),
    ("丰原", 1.0),
    ("青阳", 0.85),
    ("宁川", 1.15),
]


def unit_specs(scale: Scale) -> list[UnitSpec]:
    """The units of a scale, in order: the top of the catalogue, or at province scale the
    catalogue once per city (a joint committee's host still comes before the unit joining it)."""
    specs = UNIT_CATALOGUE[: scale.units]
    if scale.cities <= 1:
        return list(specs)
    return [
        _in_city(spec, city, factor)
        for city, factor in PROVINCE_CITIES[: scale.cities]
        for spec in specs
    ]


def _in_city(spec: UnitSpec, city: str, factor: float) -> UnitSpec:
    """A catalogue unit in `city`: 市统计局 -> 临州市统计局, 共青团市委 -> 共青团临州市委,
    国家统计局江城调查队 -> 国家统计局临州调查队; its branches are named after 临州统计局."""

    def named(name: str) -> str:
        if not name:
            return name
        return name.replace(CITY, city) if CITY in name else name.replace("市", f"{city}市", 1)

    return dataclasses.replace(
        spec,
        name=named(spec.name),
        short=f"{city}{spec.short}",
        weight=spec.weight * factor,
        joint_with=named(spec.joint_with),
    )


_ORGAN_DEPTS = ["办公室", "政策法规科", "人事科", "财务科", "综合规划科", "行政审批科"]
_ORGAN_DEPTS += ["执法监督科", "信息中心", "宣传教育科", "机关服务中心"]
# Branch names (without 党支部) by category, for branches directly under the committee; when
# the list runs out: 机关第十一党支部, ...
DEPARTMENTS: dict[str, list[str]] = {
    "organ": ["机关第一", "机关第二", *_ORGAN_DEPTS],
    "stats": ["机关第一", "机关第二", "综合核算科", "工业交通统计科", "统计执法监督科", "普查中心"],
    "survey": ["机关", "住户调查科", "价格调查科", "农业调查科"],
    "water": ["机关第一", "机关第二", "水资源科", "河湖管理科", "防汛抗旱科", "水文站"],
    "finance": ["机关第一", "机关第二", "预算科", "国库科", "税政科", "财政投资评审中心"],
    "hospital": ["行政第一", "行政第二", "护理部", "门诊部", "感染科", "康复医学科", "后勤保障"],
    "power": ["机关第一", "调度控制中心", "安全监察部", "物资供应中心", "营销部", "运维检修部"],
    "court": ["机关第一", "立案庭", "刑事审判庭", "民事审判第一庭", "行政审判庭", "执行局"],
    "procuratorate": ["机关第一", "第一检察部", "第二检察部", "第三检察部", "第四检察部"],
    "police": ["机关第一", "机关第二", "指挥中心", "政治部", "警务督察支队", "法制支队"],
    "school": ["行政", "高一年级", "高二年级", "高三年级", "语文教研组", "数学教研组"],
    "college": ["行政", "机电工程系", "信息工程系", "经济管理系", "建筑工程系", "医学护理系"],
    "institution": ["机关第一", "办公室", "业务第一", "业务第二", "综合服务部"],
    "enterprise": ["机关第一", "综合管理部", "财务部", "工程管理部", "运营部", "安全质量部"],
}
# Big units group their branches in 党总支: (label, branch names inside); when a list runs out:
# 直属单位第三党支部, ...
_GB = list[tuple[str, list[str]]]
GENERAL_BRANCHES: dict[str, _GB] = {
    "hospital": [
        ("内科", ["心血管内科", "呼吸内科", "消化内科", "神经内科", "肾内科", "内分泌科"]),
        ("外科", ["普外科", "骨科", "神经外科", "泌尿外科", "胸外科", "心脏外科"]),
        ("医技", ["检验科", "放射科", "药剂科", "超声医学科", "病理科"]),
        ("妇儿", ["妇产科", "儿科", "新生儿科"]),
        ("急诊重症", ["急诊科", "重症医学科", "麻醉科"]),
    ],
    "power": [
        ("运维检修", ["变电运维中心", "输电运检中心", "配电运检中心"]),
        ("营销服务", ["客户服务中心", "计量中心", "电费核算中心"]),
        ("基层供电所", ["城区供电所", "东城供电所", "西城供电所", "南郊供电所", "北郊供电所"]),
    ],
    "police": [
        ("刑侦", ["刑侦支队", "经侦支队", "网安支队", "禁毒支队"]),
        ("治安", ["治安支队", "特警支队", "出入境管理支队", "监所管理支队"]),
        ("交通管理", ["交警支队第一", "交警支队第二", "交警支队第三", "车辆管理所"]),
        ("东城分局", ["东城分局第一", "东城分局第二", "东城分局第三"]),
        ("西城分局", ["西城分局第一", "西城分局第二", "西城分局第三"]),
        ("南湖分局", ["南湖分局第一", "南湖分局第二"]),
    ],
    "court": [
        ("审判业务", ["民事审判第二庭", "审判监督庭", "少年家事审判庭", "环境资源审判庭"]),
        ("执行", ["执行局第一", "执行局第二", "执行指挥中心"]),
        ("综合部门", ["审判管理办公室", "政治部", "司法警察支队", "办公室"]),
    ],
    "school": [("教研", ["英语教研组", "理科综合", "文科综合", "体育艺术"])],
    "college": [
        ("教学", ["基础部", "马克思主义学院", "继续教育学院"]),
        ("行政后勤", ["教务处", "学生工作处", "后勤处"]),
    ],
    "enterprise": [
        ("分公司", ["第一分公司", "第二分公司", "第三分公司", "第四分公司"]),
        ("项目一线", ["第一项目部", "第二项目部", "第三项目部"]),
    ],
}
GENERAL_BRANCHES_FALLBACK: _GB = [("直属单位", []), ("业务科室", []), ("执法队伍", [])]
RETIREE_DEPT = "离退休"

POSITIONS: dict[str, tuple[list[str], list[str], list[str]]] = {
    # (junior, middle, senior); the unit's deputy head title is added to senior
    "organ": (
        ["科员", "一级科员", "四级主任科员", "三级主任科员"],
        ["二级主任科员", "一级主任科员", "副科长", "科长", "四级调研员"],
        ["三级调研员", "二级调研员", "科长", "办公室主任"],
    ),
    "court": (
        ["书记员", "法官助理", "司法警察"],
        ["审判员", "一级法官", "执行员", "副庭长"],
        ["庭长", "四级高级法官", "审判委员会专职委员"],
    ),
    "procuratorate": (
        ["书记员", "检察官助理"],
        ["检察官", "一级检察官", "副主任"],
        ["检察部主任", "四级高级检察官", "检察委员会专职委员"],
    ),
    "police": (
        ["民警", "一级警员", "辅警管理员"],
        ["一级警长", "二级警长", "副中队长", "副所长"],
        ["大队长", "支队长", "所长", "三级高级警长"],
    ),
    "hospital": (
        ["住院医师", "护师", "护士", "药师", "技师"],
        ["主治医师", "主管护师", "主管药师", "主管技师", "副主任医师"],
        ["主任医师", "科主任", "护士长", "副主任护师"],
    ),
    "school": (
        ["二级教师", "教师", "辅导员"],
        ["一级教师", "年级组长", "教研组长", "讲师"],
        ["高级教师", "教务处主任", "副教授", "正高级教师"],
    ),
    "power": (
        ["技术员", "助理工程师", "运维员", "营业员"],
        ["工程师", "班组长", "供电所副所长", "专责"],
        ["高级工程师", "部门经理", "供电所所长"],
    ),
    "enterprise": (
        ["职员", "助理工程师", "业务员"],
        ["工程师", "主管", "部门副经理"],
        ["高级工程师", "部门经理", "项目经理"],
    ),
    "institution": (
        ["专业技术人员", "管理岗九级", "助理馆员"],
        ["管理岗八级", "中级职称人员", "副科长", "科长"],
        ["高级职称人员", "部门主任", "管理岗六级"],
    ),
}
POSITION_CATEGORY = {
    "stats": "organ",
    "survey": "organ",
    "water": "organ",
    "finance": "organ",
    "college": "school",
}

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
)
# Roughly by frequency: the first ten carry about 40% of people.
SURNAME_WEIGHTS = [
    7.1,
    7.0,
    6.8,
    5.4,
    4.5,
    3.1,
    2.3,
    2.2,
    2.0,
    1.9,
    *([1.2] * 20),
    *([0.6] * 30),
    *([0.35] * (len(SURNAMES) - 60)),
]
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁浩凯健俊帆旭宇晨阳龙林峰建国志文东海亮成"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪琳慧颖倩洁欣悦萍红梅莉兰琴云丹璐佳怡晶月蓉媛薇"
GIVEN_MALE_OLD = [
    "建国",
    "建华",
    "国强",
    "国庆",
    "卫东",
    "志强",
    "志刚",
    "德胜",
    "建军",
    "红军",
    "永红",
    "长青",
    "福生",
    "树林",
    "振华",
]
GIVEN_FEMALE_OLD = [
    "秀英",
    "桂兰",
    "玉兰",
    "秀兰",
    "桂英",
    "淑珍",
    "凤英",
    "玉梅",
    "秀珍",
    "丽华",
    "美华",
    "素芬",
]
GIVEN_MALE_MID = [
    "志伟",
    "建军",
    "海涛",
    "晓东",
    "文杰",
    "俊峰",
    "国平",
    "立新",
    "永强",
    "明辉",
    "晓明",
    "建平",
    "海波",
    "振宇",
    "宏伟",
    "春雷",
    "向东",
    "卫国",
    "东升",
    "家豪",
    "子健",
    "少华",
    "德明",
    "雪松",
]
GIVEN_FEMALE_MID = [
    "晓燕",
    "丽娜",
    "海燕",
    "春梅",
    "秀丽",
    "桂芳",
    "晓红",
    "丽萍",
    "雪梅",
    "玉洁",
    "静怡",
    "慧敏",
    "晓丽",
    "艳红",
    "美玲",
    "婷婷",
    "文静",
    "雅琴",
    "淑芳",
    "红梅",
    "晓霞",
    "丹丹",
    "佳慧",
    "玉婷",
]
GIVEN_MALE_YOUNG = ["浩然", "宇轩", "子豪", "思远", "一鸣", "俊杰", "博文", "子轩", "天佑", "明哲"]
GIVEN_FEMALE_YOUNG = ["子涵", "梓萱", "欣怡", "雨桐", "诗琪", "佳琪", "梦瑶", "晨曦", "若溪"]

COMMUNITIES = [
    "凤凰社区",
    "东湖社区",
    "西苑社区",
    "南门社区",
    "北关社区",
    "龙桥社区",
    "桂花社区",
    "锦绣社区",
    "滨江社区",
    "青年路社区",
    "新华社区",
    "文昌社区",
    "和平社区",
    "阳光社区",
    "翠苑社区",
    "梅岭社区",
    "建设路社区",
    "朝阳社区",
    "金山社区",
    "清源社区",
]
VILLAGE_HEADS = "东西南北上下前后大小新石龙麦"
VILLAGE_TAILS = ["岭", "坑", "山", "溪", "洋", "门", "潭", "口", "坂", "坪", "林", "桥", "斜"]
APPROVALS = [
    "市直机关工委组织部〔{y}〕{n}号批复",
    "市直机关工委〔{y}〕{n}号",
    "市委组织部组通〔{y}〕{n}号",
]
EDUCATION_MIX = {
    # postgraduate, bachelor, college, secondary, below
    "default": (0.15, 0.63, 0.15, 0.06, 0.01),
    "expert": (0.30, 0.58, 0.09, 0.03, 0.00),  # hospitals, courts, schools
    "enterprise": (0.08, 0.50, 0.26, 0.13, 0.03),
    "retired": (0.02, 0.33, 0.37, 0.21, 0.07),
}
EDUCATIONS = ["postgraduate", "bachelor", "college", "secondary", "below"]
MALE_SHARE = {
    "hospital": 0.35,
    "school": 0.38,
    "power": 0.72,
    "enterprise": 0.68,
    "police": 0.8,
    "retired": 0.6,
}


# --------------------------------------------------------------------------------------------
# Organizational life: topics, places and minutes, by activity type code
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    text: str  # "{year}" becomes the year reviewed (年度组织生活会)
    months: tuple[int, ...] = ()  # only in these months (seasonal); () any month
    start: datetime.date | None = None  # only from / until these days (plenums, campaigns)
    end: datetime.date | None = None
    place: str = ""  # where it happens, when not in the branch's own meeting room

    def fits(self, day: datetime.date) -> bool:
        return (
            (not self.months or day.month in self.months)
            and (self.start is None or self.start <= day)
            and (self.end is None or day <= self.end)
        )


_D = datetime.date
_PLENUM_3 = _D(2024, 7, 20)  # 二十届三中全会 closed on 18 July 2024
_PLENUM_4 = _D(2025, 10, 25)  # 二十届四中全会 closed on 23 October 2025
_PLENUM_4_STUDIED = _D(2026, 9, 30)  # a topic of its own for about a year
_DISCIPLINE = (_D(2024, 4, 1), _D(2024, 7, 31))  # 党纪学习教育
_EIGHT_RULES = (_D(2025, 3, 15), _D(2025, 7, 31))  # 深入贯彻中央八项规定精神学习教育
_COMMUNITY = "社区党群服务中心"

LECTURE_SUBJECTS = [
    "坚定理想信念，筑牢信仰之基",
    "以党的创新理论武装头脑、指导实践",
    "弘扬伟大建党精神，赓续红色血脉",
    "严守政治纪律和政治规矩",
    "树立和践行正确政绩观",
    "践行全心全意为人民服务的根本宗旨",
    "深刻领悟“两个确立”的决定性意义",
    "从党史中汲取奋进力量",
    "以高质量党建引领高质量发展",
    "锤炼过硬作风，勇于担当作为",
    "守住廉洁底线，永葆清正本色",
]

TOPICS: dict[str, list[Topic]] = {
    "general_meeting": [
        Topic("讨论接收预备党员"),
        Topic("讨论预备党员转正"),
        Topic("讨论确定发展对象"),
        Topic("学习传达上级会议精神，部署下阶段工作"),
        Topic("通报党费收缴情况"),
        Topic("通报支部季度工作情况"),
        Topic("审议支部年度工作计划", months=(1, 2, 3)),
        Topic("推荐评选优秀共产党员", months=(5, 6)),
        Topic("通报上半年支部工作情况", months=(6, 7)),
        Topic("总结支部年度工作，部署来年任务", months=(11, 12)),
    ],
    "committee_meeting": [
        Topic("研究本月党建工作安排"),
        Topic("研究部署本月主题党日活动"),
        Topic("研究发展党员工作"),
        Topic("研究党费收缴和使用情况"),
        Topic("分析党员思想状况"),
        Topic("研究“三会一课”落实情况"),
        Topic("传达学习上级党组织文件精神"),
        Topic("研究制定支部年度工作计划", months=(1, 2)),
        Topic("研究困难党员帮扶慰问工作", months=(1, 2, 12)),
        Topic("研究推荐优秀共产党员人选", months=(5, 6)),
        Topic("研究年度组织生活会筹备工作", months=(11, 12, 1)),
        Topic("研究民主评议党员工作方案", months=(12, 1)),
    ],
    "group_meeting": [
        Topic("集中学习党的创新理论"),
        Topic("交流学习心得体会"),
        Topic("开展谈心谈话"),
        Topic("学习上级文件精神"),
        Topic("学习《中国共产党章程》"),
        Topic("收集党员群众意见建议"),
        Topic("讨论本组党员思想和工作情况"),
        Topic("学习身边先进典型事迹"),
        Topic("学习贯彻党的二十届三中全会精神", start=_PLENUM_3, end=_PLENUM_4),
        Topic("学习贯彻党的二十届四中全会精神", start=_PLENUM_4, end=_PLENUM_4_STUDIED),
    ],
    "party_lecture": [
        *(Topic(f"书记讲党课：{s}") for s in LECTURE_SUBJECTS),
        *(Topic(f"专题党课：{s}") for s in LECTURE_SUBJECTS[:6]),
        Topic("警示教育党课：以案为鉴、以案促改"),
        Topic("党员讲党课：立足岗位作贡献"),
        Topic("“七一”专题党课：弘扬伟大建党精神", months=(6, 7)),
        Topic("专题党课：学习贯彻党的二十届三中全会精神", start=_PLENUM_3, end=_D(2025, 6, 30)),
        Topic("党纪学习教育专题党课：知纪明纪守纪", start=_DISCIPLINE[0], end=_DISCIPLINE[1]),
        Topic("专题党课：深入贯彻中央八项规定精神", start=_EIGHT_RULES[0], end=_EIGHT_RULES[1]),
        Topic("专题党课：学习贯彻党的二十届四中全会精神", start=_PLENUM_4, end=_PLENUM_4_STUDIED),
    ],
    "theme_day": [
        Topic("学习贯彻习近平新时代中国特色社会主义思想"),
        Topic("重温入党誓词，牢记初心使命"),
        Topic("走进社区开展志愿服务", place=_COMMUNITY),
        Topic("参观廉政教育基地，接受警示教育", place="市廉政教育基地"),
        Topic("开展“我为群众办实事”实践活动"),
        Topic("观看红色教育影片并交流观后感"),
        Topic("与结对社区开展联学共建", place=_COMMUNITY),
        Topic("开展文明城市创建志愿服务", place="城区文明劝导岗"),
        Topic("学习身边榜样先进事迹"),
        Topic("开展“党员亮身份、岗位作贡献”活动"),
        Topic("开展垃圾分类宣传志愿服务", place=_COMMUNITY),
        Topic("参观革命历史纪念馆，传承红色基因", place="市革命历史纪念馆"),
        Topic("新春走访慰问困难党员和老党员", months=(1, 2), place="困难党员和老党员家中"),
        Topic("开展学雷锋志愿服务活动", months=(3,), place=_COMMUNITY),
        Topic("学习贯彻全国两会精神", months=(3, 4)),
        Topic("清明祭扫烈士陵园，缅怀革命先烈", months=(4,), place="市烈士陵园"),
        Topic("开展全民国家安全教育日主题学习", months=(4,)),
        Topic("传承五四精神，青年党员座谈交流", months=(5,)),
        Topic("庆祝建党节，重温入党誓词", months=(6, 7)),
        Topic("“七一”走访慰问老党员", months=(6, 7), place="老党员家中"),
        Topic("“八一”走访慰问退役军人党员", months=(7, 8), place="退役军人党员家中"),
        Topic("开展全民国防教育日主题活动", months=(9,)),
        Topic("喜迎国庆，学习新中国史", months=(9, 10)),
        Topic("冬季消防安全宣传志愿服务", months=(11,), place=_COMMUNITY),
        Topic("开展国家宪法日学习宣传活动", months=(12,)),
        Topic("开展国家公祭日悼念活动", months=(12,)),
        Topic("学习贯彻党的二十大精神", end=_D(2024, 6, 30)),
        Topic(
            "开展学习贯彻习近平新时代中国特色社会主义思想主题教育集中学习",
            start=_D(2023, 4, 1),
            end=_D(2024, 1, 31),
        ),
        Topic(
            "党纪学习教育：逐章学习《中国共产党纪律处分条例》",
            start=_DISCIPLINE[0],
            end=_DISCIPLINE[1],
        ),
        Topic("学习贯彻党的二十届三中全会精神", start=_PLENUM_3, end=_PLENUM_4),
        Topic(
            "深入贯彻中央八项规定精神学习教育集中学习",
            start=_EIGHT_RULES[0],
            end=_EIGHT_RULES[1],
        ),
        Topic(
            "开展纪念中国人民抗日战争暨世界反法西斯战争胜利80周年主题活动",
            start=_D(2025, 8, 1),
            end=_D(2025, 9, 30),
        ),
        Topic("学习贯彻党的二十届四中全会精神", start=_PLENUM_4, end=_PLENUM_4_STUDIED),
    ],
    # Held around the turn of the year; the topic names the year reviewed.
    "life_meeting": [
        Topic("{year}年度专题组织生活会"),
        Topic("{year}年度组织生活会：对照检查，开展批评和自我批评"),
    ],
    "democratic_appraisal": [Topic("{year}年度民主评议党员")],
}

# Short minutes: {chair} the secretary, {expected}/{present} the headcount, {leave} who was not
# there, {topic} and {subject} (a lecture's subject), {speaker}.
MINUTES: dict[str, str] = {
    "general_meeting": (
        "{chair}主持会议，应到党员{expected}名，实到{present}名{leave}。"
        "会议{topic}，与会党员进行了认真讨论。"
    ),
    "committee_meeting": (
        "{chair}主持，应到支委{expected}名，实到{present}名{leave}。"
        "会议{topic}，明确了责任分工和时间节点。"
    ),
    "group_meeting": (
        "{chair}主持，应到{expected}人，实到{present}人{leave}。"
        "{topic}，大家结合本职工作作了交流发言。"
    ),
    "party_lecture": (
        "{speaker}以“{subject}”为题讲授党课，应到{expected}人，实到{present}人{leave}。"
        "党员们认真聆听，并结合工作实际交流了学习体会。"
    ),
    "theme_day": (
        "支部组织党员{topic}，应到{expected}人，实到{present}人{leave}。活动结束后党员们交流了感想。"
    ),
    "life_meeting": (
        "{chair}代表支委会作对照检查，党员逐一发言，开展批评和自我批评。应到{expected}人，"
        "实到{present}人{leave}。会后形成问题清单，明确整改措施和时限。"
    ),
    "democratic_appraisal": (
        "采取个人自评、党员互评、民主测评的方式进行，应到{expected}人，实到{present}人{leave}。"
        "评议结果已报上级党组织。"
    ),
}
MINUTES_OTHER = "应到{expected}人，实到{present}人{leave}。"
NO_QUORUM_NOTE = "实到人数未过半数，会议不作决定，另行召开。"
LECTURE_SPEAKERS = {
    "书记讲党课": ["{chair}"],
    "专题党课": ["{chair}", "单位党委书记", "市委党校教师", "支部副书记"],
    "警示教育党课": ["驻局纪检监察组负责同志", "{chair}"],
    "党员讲党课": ["优秀党员代表"],
}

MEETING_ROOMS: dict[str, list[str]] = {
    "organ": ["机关三楼会议室", "党员活动室", "二楼小会议室", "五楼会议室", "党建活动室"],
    "hospital": ["行政楼三楼会议室", "门诊楼六楼会议室", "科室示教室", "党员活动室"],
    "school": ["行政楼会议室", "学校党员活动室", "图书馆报告厅"],
    "power": ["公司三楼会议室", "党建活动中心", "调度楼会议室"],
    "enterprise": ["公司三楼会议室", "党建活动中心", "项目部会议室"],
    "police": ["指挥中心会议室", "党员活动室", "警营文化室"],
    "institution": ["二楼会议室", "党员活动室", "综合楼会议室"],
}
RETIREE_ROOMS = ["老干部活动中心", "老年活动室", "党员之家"]

# When in its period an activity is usually held (by type code; other types: any weekday).
DATE_STYLE = {
    "theme_day": "fixed",  # a fixed day of the month (每月相对固定一天)
    "committee_meeting": "early",  # early in the month, to plan it
    "life_meeting": "year_turn",  # reviewing the year: in January-February or in December
    "democratic_appraisal": "year_turn",
}
YEAR_TURN_WEIGHTS = [30, 22, 6, 2, 1, 1, 1, 1, 1, 2, 9, 24]
THEME_DAYS = [1, 5, 8, 10, 12, 15, 18, 20, 25, 28]
# Often held the same day as another activity: (that type's code, how often).
ALONGSIDE = {
    "party_lecture": ("general_meeting", 0.35),
    "democratic_appraisal": ("life_meeting", 0.6),
}
# How often an organization holds one more than it owes in a period.
EXTRA = {"theme_day": 0.06, "party_lecture": 0.12, "group_meeting": 0.03}
NO_QUORUM = 0.03  # committee meetings that fall short of a quorum (then 60% are held again)
FILED_AT = datetime.time(20, 0)  # secretaries file in the evening
RECORD_FIELDS = [
    "organization",
    "activity_type",
    "type_name",
    "date",
    "topic",
    "place",
    "content",
    "counts_for_compliance",
    "filed_by",
    "filed_at",
    "updated_at",
    "present_count",
    "excused_count",
    "absent_count",
]
# No meetings on public holidays: New Year's Day, 1-5 May, 1-7 October, and the Spring Festival
# (the official week; 2027 and 2028 approximate).
FIXED_HOLIDAYS = {(1, 1)} | {(5, d) for d in range(1, 6)} | {(10, d) for d in range(1, 8)}
SPRING_FESTIVAL = {
    y: (_D(y, m1, d1), _D(y, m2, d2))
    for y, m1, d1, m2, d2 in [
        (2022, 1, 31, 2, 6),
        (2023, 1, 21, 1, 27),
        (2024, 2, 10, 2, 17),
        (2025, 1, 28, 2, 4),
        (2026, 2, 15, 2, 23),
        (2027, 2, 5, 2, 11),
        (2028, 1, 25, 1, 31),
    ]
}


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 1 -> 一, 10 -> 十, 12 -> 十二, 40 -> 四十, 45 -> 四十五."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder): the parts sum to `total`."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def chunked(items: Sequence, size: int = BATCH) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def batched(items: Iterable, size: int) -> Iterator[list]:
    """Lists of `size` items from any iterable (the last one shorter); nothing is read ahead."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def peak_rss_mb() -> int:
    """The process's peak resident memory so far, in MB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // (1024 * 1024) if sys.platform == "darwin" else peak // 1024


# --------------------------------------------------------------------------------------------
# Plans: the tree before it is written
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class OrgPlan:
    kind: str
    name: str
    unit: Unit
    spec: UnitSpec
    parent: OrgPlan | None = None
    children: list[OrgPlan] = field(default_factory=list)
    size: int = 0  # branches: members to create
    retired: bool = False  # 离退休党支部
    breach: str = ""  # tiny / huge / no_committee / no_secretary
    joint_units: list[Unit] = field(default_factory=list)  # a 联合党委's other units
    obj: Organization | None = None

    def add(self, child: OrgPlan) -> OrgPlan:
        child.parent = self
        self.children.append(child)
        return child

    def walk(self) -> Iterable[OrgPlan]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class DemoAccount:
    role: str
    username: str
    password: str  # "" when the account already existed and was left as it was
    scope: str
    url: str
    created: bool = True


@dataclass
class DemoResult:
    scale: str
    seed: int
    counts: dict[str, int]
    accounts: list[DemoAccount]
    pairings: dict = field(default_factory=dict)  # `pairings.demo`'s figures
    evaluations: dict = field(default_factory=dict)  # `evaluations.demo`'s figures
    campaigns: dict = field(default_factory=dict)  # `campaigns.demo`'s figures


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


class DemoBuilder:
    """Builds the demo data set step by step. `build()` runs every step in one transaction."""

    def __init__(
        self,
        scale: str | Scale = "small",
        seed: int = DEFAULT_SEED,
        today=None,
        activity_months: int = ACTIVITY_MONTHS,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.scale = SCALES[scale] if isinstance(scale, str) else scale
        self.progress = progress  # told a line per step (and per million attendance rows)
        self.seed = seed
        self.activity_months = max(0, activity_months)
        self.today: datetime.date = today or timezone.localdate()
        self.units: list[Unit] = []
        self.specs: dict[int, UnitSpec] = {}  # unit pk -> spec
        self.roots: list[OrgPlan] = []
        self.plans: list[OrgPlan] = []  # every organization, tree order
        self.organizations: list[Organization] = []
        self.branches: list[Organization] = []
        self.branch_members: dict[int, list[Member]] = {}
        self.groups_by_branch: dict[int, list[Organization]] = {}
        self.members: list[Member] = []
        self.terms: list[Term] = []
        self.accounts: list[DemoAccount] = []
        self.activity_record_count = 0
        self.attendance_count = 0
        self.pairing_figures: dict = {}
        self.evaluation_figures: dict = {}
        self.campaign_figures: dict = {}
        self._types_by_code: dict[str, ActivityType] = {}
        self._codes: Counter[int] = Counter()
        self._unit_numbers: dict[int, int] = {}  # unit pk -> its place in `units`, from 1

    def rng_for(self, step: str) -> random.Random:
        """A random stream of its own for each step (string seeds hash stably)."""
        return random.Random(f"{self.seed}:{step}")

    # ---- the whole thing ------------------------------------------------------------------

    def build(self) -> DemoResult:
        with transaction.atomic():
            self.build_units()
            self.plan_organizations()
            self.say(f"units: {len(self.units):,}; organizations planned: {len(self.plans):,}")
            self.build_organizations()
            self.say(f"organizations: {len(self.organizations):,}")
            self.build_members()
            self.say(f"members: {len(self.members):,}")
            self.build_terms()
            self.say(f"terms: {len(self.terms):,}")
            self.build_users()
            self.build_activity_records()  # after the accounts: the secretaries file them
            self.build_pairings()  # after the activity records: a visit may be a theme day
            self.build_evaluations()  # after the accounts: they review
            self.build_campaigns()  # after the records, pairings and titles: it reads them
            self._finish()
        return DemoResult(
            self.scale.name,
            self.seed,
            self.counts(),
            self.accounts,
            self.pairing_figures,
            self.evaluation_figures,
            self.campaign_figures,
        )

    def _finish(self) -> None:
        """The last step, in the transaction, once every row is written."""
        # The bulk writes above bypass the signals that keep the stored counts; before ANALYZE,
        # so the statistics include them.
        self.say("counts")
        refresh_counts()
        self.say("analyze")
        analyze()  # fresh tables have no statistics: the planner would guess (see analyze())
        self.say("done")

    def say(self, message: str) -> None:
        """Where the build is, when someone listens (`progress`)."""
        if self.progress is not None:
            self.progress(message)

    def counts(self) -> dict[str, int]:
        kinds = Counter(o.kind for o in self.organizations)
        return {
            "units": len(self.units),
            "organizations": len(self.organizations),
            "committees": kinds[K.COMMITTEE],
            "general_branches": kinds[K.GENERAL_BRANCH],
            "branches": kinds[K.BRANCH],
            "groups": kinds[K.GROUP],
            "members": len(self.members),
            "probationary": sum(m.status == MemberStatus.PROBATIONARY for m in self.members),
            "terms": len(self.terms),
            "overdue": sum(t.ended_on is None and t.due_on < self.today for t in self.terms),
            "due_soon": sum(
                t.ended_on is None
                and self.today
                <= t.due_on
                <= self.today + datetime.timedelta(days=settings.TERM_DUE_SOON_DAYS)
                for t in self.terms
            ),
            "users": len(self.accounts),
            "activity_months": self.activity_months,
            "activity_records": self.activity_record_count,
            "attendance": self.attendance_count,
        }

    # ---- units ----------------------------------------------------------------------------

    def build_units(self) -> list[Unit]:
        specs = unit_specs(self.scale)
        units = [
            Unit(name=s.name, short_name=s.short, sort_order=(i + 1) * 10)
            for i, s in enumerate(specs)
        ]
        self.units = Unit.objects.bulk_create(units)
        self.specs = {u.pk: s for u, s in zip(self.units, specs, strict=True)}
        return self.units

    # ---- the organization tree, planned in memory -------------------------------------------

    def plan_organizations(self) -> list[OrgPlan]:
        """Decide the tree in memory: per unit a committee (or a lone branch), general
        branches in big units, branches with their member counts, groups, and the breaches."""
        rng = self.rng_for("tree")
        jitter = [self.specs[u.pk].weight * rng.uniform(0.85, 1.15) for u in self.units]
        unit_members = allocate(self.scale.members, jitter)
        by_name = {u.name: u for u in self.units}
        roots_by_unit: dict[int, OrgPlan] = {}
        for unit, total in zip(self.units, unit_members, strict=True):
            spec = self.specs[unit.pk]
            host = by_name.get(spec.joint_with)
            if host is not None:
                # A survey team's branches sit in the statistics bureau's joint committee.
                joint = roots_by_unit[host.pk]
                direct, _gbs, retired = self._plan_branches(unit, spec, total, rng, False)
                for branch in direct + retired:
                    joint.add(branch)
                joint.joint_units.append(unit)
                names = [u.name for u in [joint.unit, *joint.joint_units]]
                joint.name = "、".join(names) + "联合党委"
                continue
            hosts_joint = any(s.joint_with == unit.name for s in self.specs.values())
            root = self._plan_unit_tree(unit, spec, total, rng, force_committee=hosts_joint)
            roots_by_unit[unit.pk] = root
            self.roots.append(root)
        self.plans = [p for root in self.roots for p in root.walk()]
        self._plan_breaches(rng)
        self._plan_groups(rng)
        self.plans = [p for root in self.roots for p in root.walk()]
        return self.plans

    def _plan_branches(
        self, unit: Unit, spec: UnitSpec, total: int, rng: random.Random, may_group: bool
    ) -> tuple[list[OrgPlan], list[tuple[str, list[OrgPlan]]], list[OrgPlan]]:
        """The unit's branches, sized: (directly under the committee, by general branch,
        retirees)."""
        sc = self.scale
        n = max(1, round(total / sc.branch_size))
        with_retired = n >= 3 and spec.category != "survey"
        n_active = n - with_retired
        layout = GENERAL_BRANCHES.get(spec.category, GENERAL_BRANCHES_FALLBACK)
        gb_sizes: list[int] = []
        if may_group and n >= sc.general_branch_from and n_active >= 6:
            n_direct = max(2, round(n_active * 0.3))
            rest = n_active - n_direct
            n_gb = min(len(layout), max(2, rest // 6))
            gb_sizes = allocate(rest, [rng.uniform(0.7, 1.3) for _ in range(n_gb)])
            n_active = n_direct
        inside_gbs = {name for _label, names in layout for name in names}
        names = DEPARTMENTS.get(spec.category, DEPARTMENTS["organ"])
        names = [d for d in names if d not in inside_gbs or not gb_sizes][:n_active]
        numbered = sum(d.startswith("机关第") for d in names)
        while len(names) < n_active:
            numbered += 1
            names.append(f"机关第{chinese_number(numbered)}")
        if n == 1:
            names = ["机关"]
        direct = [OrgPlan(K.BRANCH, f"{spec.short}{d}党支部", unit, spec) for d in names]
        gbs = []
        for (label, depts), size in zip(layout, gb_sizes, strict=False):
            depts = list(depts[:size])
            depts += [f"{label}第{chinese_number(i)}" for i in range(len(depts) + 1, size + 1)]
            gbs.append(
                (label, [OrgPlan(K.BRANCH, f"{spec.short}{d}党支部", unit, spec) for d in depts])
            )
        retired = []
        if with_retired:
            retired.append(
                OrgPlan(K.BRANCH, f"{spec.short}{RETIREE_DEPT}党支部", unit, spec, retired=True)
            )
        every = direct + [b for _label, part in gbs for b in part] + retired
        weights = [rng.uniform(1.3, 2.0) if p.retired else rng.uniform(0.55, 1.45) for p in every]
        for plan, size in zip(every, allocate(total, weights), strict=True):
            plan.size = min(max(size, 4), 49)
        return direct, gbs, retired

    def _plan_unit_tree(
        self, unit: Unit, spec: UnitSpec, total: int, rng: random.Random, force_committee: bool
    ) -> OrgPlan:
        direct, gbs, retired = self._plan_branches(unit, spec, total, rng, True)
        if len(direct) == 1 and not gbs and not retired and not force_committee:
            direct[0].name = f"{unit.name}机关党支部"
            return direct[0]
        n = len(direct) + sum(len(part) for _label, part in gbs) + len(retired)
        committee_name = f"{unit.name}机关党委" if spec.host == ORGAN else f"{unit.name}党委"
        root = OrgPlan(K.COMMITTEE, committee_name, unit, spec)
        home = root
        if spec.host == ORGAN and n >= self.scale.nested_committee_from:
            # 市公安局党委 > 市公安局机关党委 (the bureau's own offices) + general branches
            root.name = f"{unit.name}党委"
            home = root.add(OrgPlan(K.COMMITTEE, f"{unit.name}机关党委", unit, spec))
        for branch in direct:
            home.add(branch)
        for label, part in gbs:
            gb = root.add(OrgPlan(K.GENERAL_BRANCH, f"{spec.short}{label}党总支", unit, spec))
            for branch in part:
                gb.add(branch)
        for branch in retired:
            root.add(branch)
        return root

    def _plan_breaches(self, rng: random.Random) -> None:
        sc = self.scale
        demo_branches = {id(p) for p in self._demo_branch_plans()}
        candidates = [
            p
            for p in self.plans
            if p.kind == K.BRANCH and not p.retired and id(p) not in demo_branches
        ]
        rng.shuffle(candidates)
        wanted = [
            ("tiny", sc.tiny),
            ("huge", sc.huge),
            ("no_committee", sc.no_committee),
            ("no_secretary", sc.no_secretary),
        ]
        for breach, count in wanted:
            for _ in range(count):
                if not candidates:
                    return
                plan = candidates.pop()
                plan.breach = breach
                if breach == "tiny":
                    plan.size = 3  # 2 full members and 1 probationary
                elif breach == "huge":
                    plan.size = 55
                elif breach == "no_committee":
                    plan.size = max(plan.size, 12)

    def _plan_groups(self, rng: random.Random) -> None:
        demo_branches = {id(p) for p in self._demo_branch_plans()}
        for plan in self.plans:
            if plan.kind != K.BRANCH:
                continue
            forced = id(plan) in demo_branches or plan.breach == "huge"
            if forced:
                plan.size = max(plan.size, 18)
            if forced or (plan.size >= 20 and rng.random() < self.scale.group_share):
                n_groups = min(4, max(2, plan.size // 12))
                for i in range(n_groups):
                    plan.add(
                        OrgPlan(K.GROUP, f"第{chinese_number(i + 1)}党小组", plan.unit, plan.spec)
                    )

    def _demo_branch_plans(self) -> list[OrgPlan]:
        """The branches the demo secretaries run: the first branch of the first two units
        (the statistics bureau and the water bureau at both scales)."""
        found = []
        for root in self.roots[:2]:
            branch = next(
                (
                    p
                    for p in root.walk()
                    if p.kind == K.BRANCH and not p.retired and p.unit is root.unit
                ),
                None,
            )
            if branch is not None:
                found.append(branch)
        return found

    # ---- organizations, written level by level -----------------------------------------------

    def build_organizations(self) -> list[Organization]:
        rng = self.rng_for("organizations")
        levels: dict[int, list[OrgPlan]] = {}
        depth_of: dict[int, int] = {}
        for plan in self.plans:  # tree order: a parent comes before its children
            depth = depth_of[id(plan.parent)] + 1 if plan.parent else 0
            depth_of[id(plan)] = depth
            levels.setdefault(depth, []).append(plan)
        sort_orders: Counter[int] = Counter()
        for depth in sorted(levels):
            objs = []
            for plan in levels[depth]:
                sort_orders[id(plan.parent)] += 1
                plan.obj = Organization(
                    code=self._code(plan),
                    name=plan.name,
                    kind=plan.kind,
                    host_type=plan.spec.host,
                    unit=plan.unit,
                    parent=plan.parent.obj if plan.parent else None,
                    path="",
                    depth=depth,
                    founded_on=self._founded_on(rng, plan),
                    sort_order=sort_orders[id(plan.parent)] * 10,
                )
                objs.append(plan.obj)
            Organization.objects.bulk_create(objs, batch_size=BATCH)
            for plan in levels[depth]:
                parent_path = plan.parent.obj.path if plan.parent else "/"
                plan.obj.path = Organization.build_path(parent_path, plan.obj.pk)
                plan.obj.depth = plan.obj.path.count("/") - 2
        self.organizations = [p.obj for p in self.plans]
        update_objects(Organization, self.organizations, ["path", "depth"])
        for plan in self.plans:
            if plan.joint_units:
                plan.obj.joint_units.add(*plan.joint_units)
            if plan.kind == K.GROUP:
                self.groups_by_branch.setdefault(plan.parent.obj.pk, []).append(plan.obj)
        self.branches = [p.obj for p in self.plans if p.kind == K.BRANCH]
        return self.organizations

    def _founded_on(self, rng: random.Random, plan: OrgPlan) -> datetime.date:
        """Long-standing organizations; a group a little younger than its branch."""
        if plan.kind == K.GROUP:
            founded = plan.parent.obj.founded_on + datetime.timedelta(days=rng.randint(30, 2000))
            return min(founded, self.today - datetime.timedelta(days=30))
        return self.today - datetime.timedelta(days=rng.randint(4, 40) * 365 + rng.randint(0, 364))

    def _code(self, plan: OrgPlan) -> str:
        if len(self._unit_numbers) != len(self.units):
            self._unit_numbers = {u.pk: i + 1 for i, u in enumerate(self.units)}
        unit_no = self._unit_numbers[plan.unit.pk]
        self._codes[unit_no] += 1
        return f"JG{unit_no:03d}{self._codes[unit_no]:03d}"

    # ---- members ------------------------------------------------------------------------------

    def build_members(self) -> list[Member]:
        rng = self.rng_for("members")
        branch_plans = [p for p in self.plans if p.kind == K.BRANCH]
        number = 0
        for plan in branch_plans:
            members = []
            for i in range(plan.size):
                number += 1
                status = None
                if plan.breach == "tiny" and i == plan.size - 1:
                    status = MemberStatus.PROBATIONARY
                elif plan.breach == "tiny":
                    status = MemberStatus.FULL
                members.append(self._member(rng, plan, number, status))
            self._assign_duties(rng, plan, members)
            self._assign_groups(rng, plan, members)
            self.branch_members[plan.obj.pk] = members
            self.members.extend(members)
        self._assign_extras(rng)
        self._assign_higher_secretaries(rng)
        with bulk_loading(Member):
            save_objects(Member, self.members)
        with_secretary = [o for o in self.organizations if o.secretary is not None]
        update_objects(Organization, with_secretary, ["secretary"])
        return self.members

    def _member(self, rng: random.Random, plan: OrgPlan, number: int, status: str | None) -> Member:
        spec = plan.spec
        category = "retired" if plan.retired else spec.category
        today = self.today
        if status is None:
            young_enough = not plan.retired
            status = (
                MemberStatus.PROBATIONARY
                if young_enough and rng.random() < 0.055
                else MemberStatus.FULL
            )
        if plan.retired:
            age = rng.randint(61, 76)
        elif status == MemberStatus.PROBATIONARY:
            age = rng.randint(23, 34)
        else:
            age = min(59, max(23, int(rng.triangular(23, 60, 41))))
        birth = today - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
        male = rng.random() < MALE_SHARE.get(category, 0.6)
        if status == MemberStatus.PROBATIONARY:
            joined = today - datetime.timedelta(days=rng.randint(20, 350))
            full_on = None
        else:
            join_age = rng.choices([18, 22, 26, 32], weights=[0.2, 0.45, 0.25, 0.1])[0]
            join_age += rng.randint(0, 4)
            joined = years_ago(birth, -join_age) + datetime.timedelta(days=rng.randint(0, 364))
            latest = today - datetime.timedelta(days=366 + rng.randint(0, 60))
            if joined > latest:
                joined = latest
            earliest = years_ago(birth, -18) + datetime.timedelta(days=1)
            joined = max(joined, earliest)
            full_on = add_months(joined, 12)
        mix = EDUCATION_MIX[
            "retired"
            if plan.retired
            else "expert"
            if spec.category in ("hospital", "court", "procuratorate", "school", "college")
            else "enterprise"
            if spec.host == ENTERPRISE
            else "default"
        ]
        return Member(
            member_no=f"DY{number:07d}",
            name=self._name(rng, male, birth.year),
            sex="male" if male else "female",
            birth_date=birth,
            joined_on=joined,
            status=status,
            full_member_on=full_on,
            education=rng.choices(EDUCATIONS, weights=mix)[0],
            position=self._position(rng, spec, age, plan.retired),
            branch=plan.obj,
            phone="1" + rng.choice("35789") + f"{rng.randint(0, 999_999_999):09d}",
        )

    @staticmethod
    def _name(rng: random.Random, male: bool, born: int) -> str:
        surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        if born < 1965 and rng.random() < 0.5:
            return surname + rng.choice(GIVEN_MALE_OLD if male else GIVEN_FEMALE_OLD)
        if born >= 1990 and rng.random() < 0.35:
            return surname + rng.choice(GIVEN_MALE_YOUNG if male else GIVEN_FEMALE_YOUNG)
        pool = GIVEN_MALE if male else GIVEN_FEMALE
        draw = rng.random()
        if draw < 0.3:
            return surname + rng.choice(pool)
        if draw < 0.75:
            return surname + rng.choice(GIVEN_MALE_MID if male else GIVEN_FEMALE_MID)
        return surname + rng.choice(pool) + rng.choice(pool)

    @staticmethod
    def _position(rng: random.Random, spec: UnitSpec, age: int, retired: bool) -> str:
        if retired:
            return "退休干部" if spec.host == ORGAN else "退休职工"
        category = POSITION_CATEGORY.get(spec.category, spec.category)
        junior, middle, senior = POSITIONS.get(category, POSITIONS["organ"])
        if age < 30:
            pool = junior
        elif age < 40:
            pool = junior if rng.random() < 0.4 else middle
        elif age < 50:
            pool = middle if rng.random() < 0.7 else senior
        else:
            pool = middle if rng.random() < 0.45 else senior
        return rng.choice(pool)

    def _assign_duties(self, rng: random.Random, plan: OrgPlan, members: list[Member]) -> None:
        if plan.breach == "no_secretary" or not members:
            return
        full = [m for m in members if m.status == MemberStatus.FULL]
        if not full:
            return
        # The secretary: a full member in mid career (or any retiree in a retirees' branch).
        seniors = [m for m in full if m.birth_date <= years_ago(self.today, 35)] or full
        secretary = rng.choice(seniors)
        secretary.duty = PartyDuty.SECRETARY
        secretary.is_party_worker = rng.random() < 0.35
        plan.obj.secretary = secretary
        if len(full) < 7 or plan.breach == "no_committee":
            return
        size = rng.choice([3, 3, 4, 5]) if len(full) < 15 else rng.choice([3, 4, 5, 5])
        others = rng.sample([m for m in full if m is not secretary], size - 1)
        if size >= 4 or rng.random() < 0.5:
            others[0].duty = PartyDuty.DEPUTY_SECRETARY
            others = others[1:]
        for m in others:
            m.duty = PartyDuty.COMMITTEE_MEMBER
        # 组织委员 and the like often keep the books: party affairs cadres.
        if others:
            others[0].is_party_worker = True

    def _assign_groups(self, rng: random.Random, plan: OrgPlan, members: list[Member]) -> None:
        groups = [c.obj for c in plan.children if c.kind == K.GROUP]
        if not groups:
            return
        order = list(members)
        rng.shuffle(order)
        # Most members sit in a group; the secretary and a few others are attached to none.
        for i, m in enumerate(order):
            if m.duty == PartyDuty.SECRETARY or rng.random() < 0.08:
                continue
            m.group = groups[i % len(groups)]
        for group in groups:
            plain = [m for m in order if m.group is group and not m.duty]
            if plain:
                plain[0].duty = PartyDuty.GROUP_LEADER

    def _assign_extras(self, rng: random.Random) -> None:
        """Community registrations, first secretaries in villages, hardship members."""
        in_service = []
        for m in self.members:
            retired = m.position.startswith("退休")
            if not retired:
                in_service.append(m)
                if rng.random() < 0.4:
                    m.community = rng.choice(COMMUNITIES)
            if rng.random() < (0.045 if retired else 0.004):
                m.is_hardship = True
        villages = [h + t + "村" for h in VILLAGE_HEADS for t in VILLAGE_TAILS]
        rng.shuffle(villages)
        n_first = max(2, round(len(self.members) * 0.002))
        pool = [
            m
            for m in in_service
            if m.duty not in (PartyDuty.SECRETARY, PartyDuty.DEPUTY_SECRETARY)
            and m.status == MemberStatus.FULL
            and years_ago(self.today, 50) <= m.birth_date <= years_ago(self.today, 28)
        ]
        for m, village in zip(rng.sample(pool, min(n_first, len(pool))), villages, strict=False):
            m.first_secretary_village = village
            m.community = ""

    def _assign_higher_secretaries(self, rng: random.Random) -> None:
        """Committees and general branches: their secretary is a member of a branch below.

        A committee's secretary is a leader of the unit (its deputy head), helped by a full-time
        deputy secretary (专职副书记); a general branch is run by its first branch's secretary.
        """
        taken: set[int] = set()
        for plan in self.plans:
            if plan.kind not in (K.COMMITTEE, K.GENERAL_BRANCH):
                continue
            branch = next((c for c in plan.walk() if c.kind == K.BRANCH and not c.retired), None)
            if branch is None:
                continue
            if plan.kind == K.GENERAL_BRANCH and branch.obj.secretary is not None:
                plan.obj.secretary = branch.obj.secretary
                plan.obj.secretary.is_party_worker = True
                continue
            members = self.branch_members[branch.obj.pk]
            full = [m for m in members if m.status == MemberStatus.FULL and id(m) not in taken]
            free = [
                m
                for m in full
                if not m.duty
                and not m.first_secretary_village
                and m.education in COLLEGE_OR_ABOVE
                and m.birth_date <= years_ago(self.today, 40)
            ]
            pool = free or full
            if not pool:
                continue
            chief = rng.choice(pool)
            taken.add(id(chief))
            chief.position = plan.spec.leader if plan.kind == K.COMMITTEE else "办公室主任"
            chief.is_party_worker = True
            plan.obj.secretary = chief
            rest = [m for m in free if id(m) not in taken]
            if plan.kind == K.COMMITTEE and rest:
                deputy = rng.choice(rest)
                taken.add(id(deputy))
                if plan.joint_units:
                    title = "联合党委"
                elif plan.name.endswith("机关党委"):
                    title = "机关党委"
                else:
                    title = "党委"
                deputy.position = f"{title}专职副书记"
                deputy.is_party_worker = True

    # ---- terms --------------------------------------------------------------------------------

    def build_terms(self) -> list[Term]:
        rng = self.rng_for("terms")
        elected = [p.obj for p in self.plans if p.kind != K.GROUP]
        n = len(elected)
        order = list(range(n))
        rng.shuffle(order)
        n_over = max(2, round(n * 0.06))
        n_soon = max(2, round(n * 0.07))
        n_ext = max(1, round(n * 0.03))
        state = ["normal"] * n
        for i in order[:n_over]:
            state[i] = "overdue"
        for i in order[n_over : n_over + n_soon]:
            state[i] = "soon"
        for i in order[n_over + n_soon : n_over + n_soon + n_ext]:
            state[i] = "extended"
        day = datetime.timedelta(days=1)
        terms = []
        refounded = []
        for org, st in zip(elected, state, strict=True):
            years = settings.TERM_YEARS_BY_KIND.get(org.kind, 3)
            span = years * 365
            ext, approval = 0, ""
            if st == "overdue":
                ago = span + rng.randint(10, 420)
            elif st == "soon":
                ago = span - rng.randint(5, 85)
            elif st == "extended":
                ago = span + rng.randint(10, 150)
                ext = rng.choice([6, 6, 9, 12])
                approval = rng.choice(APPROVALS).format(
                    y=self.today.year - 1 if self.today.month < 4 else self.today.year,
                    n=rng.randint(3, 60),
                )
            else:
                ago = rng.randint(30, span - 100)
            started = self.today - ago * day
            terms.append(
                Term(
                    organization=org,
                    started_on=started,
                    length_years=years,
                    extension_months=ext,
                    extension_approval=approval,
                    due_on=Term.compute_due_on(started, years, ext),
                )
            )
            # Most organizations have held an election before: the previous term, ended.
            previous_start = add_months(started, -years * 12 + rng.randint(-4, 4))
            if org.founded_on and org.founded_on < previous_start and rng.random() < 0.6:
                terms.append(
                    Term(
                        organization=org,
                        started_on=previous_start,
                        length_years=years,
                        due_on=Term.compute_due_on(previous_start, years, 0),
                        ended_on=started,
                    )
                )
            elif org.founded_on and org.founded_on > started:
                # A young organization: founded shortly before its first election.
                org.founded_on = started - rng.randint(0, 400) * day
                refounded.append(org)
        save_objects(Term, terms)
        update_objects(Organization, refounded, ["founded_on"])
        self.terms = terms
        return terms

    # ---- organizational life: activity records and attendance ---------------------------------

    def build_activity_records(self) -> int:
        """What the organizations held over the last `activity_months` full months and this
        month so far, with who attended.

        Driven by the ComplianceRule rows (the migration seeds them; staff may change them):
        for every rule in force, every period of the window and every organization that owes
        it, each owed activity is held with the organization's diligence. Most branches are
        near-perfect, some patchy, a handful chronically behind; a group follows its branch.
        Sometimes an organization holds one more than it owes (two theme days in a month); a
        few committee meetings fall short of a quorum (then most are held again that month).
        Nothing is dated today or later (what was held today is filed tonight), before the
        window or before the organization's founding (a period counts only for an organization
        founded by its first day). Each is filed the evening of its day. Records of the
        window's first quarter and year that would fall before it are simply not there: as if
        the portal went live then.
        """
        if not self.activity_months:
            return 0
        rng = self.rng_for("activity_records")
        today = self.today
        if not ActivityType.objects.exists():  # a database flushed by hand: the defaults again
            seed_activity_types(ActivityType, ComplianceRule)
        window_start = add_months(today.replace(day=1), -self.activity_months)
        rules = sorted(
            ComplianceRule.objects.select_related("activity_type"),
            # finer periods first: a quarterly rule of a type counts what a monthly one produced
            key=lambda r: (
                MONTHS_IN[r.period],
                r.activity_type.sort_order,
                r.activity_type_id,
                r.active_from,
                r.pk,
            ),
        )
        self._types_by_code = {r.activity_type.code: r.activity_type for r in rules}
        lives = self._lives(rng)
        taken: dict[tuple[int, int], set[datetime.date]] = defaultdict(set)
        drafts: list[tuple[datetime.date, _Life, ActivityType, bool]] = []
        for rule in rules:
            activity_type = rule.activity_type
            kinds = set(rule.organization_kinds) & set(activity_type.organization_kinds)
            for period in _periods(rule.period, window_start, today):
                if rule.active_from > period.start or (
                    rule.active_to is not None and rule.active_to < period.start
                ):
                    continue
                first, last = period.start, period.end
                for life in lives:
                    org = life.plan.obj
                    if org.kind not in kinds:
                        continue
                    if org.founded_on is not None and org.founded_on > period.start:
                        continue
                    if activity_type.committee_only and len(life.committee) < COMMITTEE_MIN_SIZE:
                        continue
                    dates = taken[(org.pk, activity_type.pk)]
                    owed = rule.minimum_count - sum(first <= d <= last for d in dates)
                    if owed <= 0:
                        continue
                    p = life.diligence if period.kind == "month" else (1 + life.diligence) / 2
                    n = sum(rng.random() < p for _ in range(owed))
                    if n == owed and rng.random() < EXTRA.get(activity_type.code, 0):
                        n += 1
                    for _ in range(n):
                        self._draft(rng, drafts, taken, life, activity_type, period, window_start)
        drafts.sort(key=lambda d: (d[0], d[1].order, d[2].sort_order, d[2].pk))
        self.say(f"activity records planned: {len(drafts):,}")
        self._write_records(self._records(rng, drafts))
        return self.activity_record_count

    def _write_records(self, records: Iterable[tuple[tuple, list[int], list[str]]]) -> None:
        """Write the records and their attendance as they come, RECORD_CHUNK records at a time:
        the records, their pks read back, then their attendance rows (streamed: ten million at
        province scale are never in memory at once).

        Plain rows, not bulk_create: `filed_at` is auto_now_add, which bulk_create would set to
        now; and building a model instance per row costs more than writing it."""
        record_count = attendance_count = 0
        report_at = PROGRESS_ROWS
        attendance_fields = ["record", "member", "status"]
        with (
            bulk_loading(ActivityRecord, Attendance),
            RowWriter(Attendance, attendance_fields) as attendance,
        ):
            for chunk in batched(records, RECORD_CHUNK):
                before = ActivityRecord.objects.aggregate(last=models.Max("pk"))["last"] or 0
                insert_rows(ActivityRecord, RECORD_FIELDS, [record for record, _m, _s in chunk])
                pks = {
                    (org_id, type_id, day): pk
                    for pk, org_id, type_id, day in ActivityRecord.objects.filter(pk__gt=before)
                    .order_by()
                    .values_list("pk", "organization_id", "activity_type_id", "date")
                }
                for record, member_ids, statuses in chunk:
                    pk = pks[(record[0], record[1], record[3])]
                    attendance.extend(zip(itertools.repeat(pk), member_ids, statuses))
                    attendance_count += len(member_ids)
                record_count += len(chunk)
                if attendance_count >= report_at:
                    report_at += PROGRESS_ROWS
                    self.say(
                        f"activity records: {record_count:,}; attendance rows: {attendance_count:,}"
                    )
            self.say(f"activity records: {record_count:,}; attendance rows: {attendance_count:,}")
            if attendance.postgresql:
                self.say("rebuilding the indexes and foreign keys of the activity tables")
        self.activity_record_count = record_count
        self.attendance_count = attendance_count

    def _lives(self, rng: random.Random) -> list[_Life]:
        """Per organization: how diligent it is, who is expected, where it meets, who files."""
        demo = {id(p) for p in self._demo_branch_plans()}
        branch_plans = [p for p in self.plans if p.kind == K.BRANCH]
        order = list(branch_plans)
        rng.shuffle(order)
        n_behind = max(3, round(len(order) * 0.05))
        n_patchy = round(len(order) * 0.15)
        tier: dict[int, str] = {}
        for plan in [p for p in order if id(p) not in demo][:n_behind]:
            tier[id(plan)] = "behind"
        for plan in [p for p in order if id(p) not in tier][:n_patchy]:
            tier[id(plan)] = "patchy"
        secretaries = {
            u.organization_id: u
            for u in User.objects.filter(
                role=Role.SECRETARY, organization_id__in=[p.obj.pk for p in branch_plans]
            )
        }
        by_group: dict[int, list[Member]] = defaultdict(list)
        for m in self.members:
            if m.group_id:
                by_group[m.group_id].append(m)
        lives: dict[int, _Life] = {}
        for order_no, plan in enumerate(self.plans):
            org = plan.obj
            if plan.kind == K.BRANCH:
                behind = tier.get(id(plan))
                if behind == "behind":
                    diligence = rng.uniform(0.5, 0.65)
                elif behind == "patchy":
                    diligence = rng.uniform(0.8, 0.92)
                else:
                    diligence = rng.uniform(0.94, 1.0)
                members = self.branch_members.get(org.pk, [])
                if plan.retired:
                    rooms = RETIREE_ROOMS
                else:
                    category = POSITION_CATEGORY.get(plan.spec.category, plan.spec.category)
                    rooms = MEETING_ROOMS.get(category, MEETING_ROOMS["organ"])
                secretary = org.secretary
                deputy = next((m for m in members if m.duty == PartyDuty.DEPUTY_SECRETARY), None)
                chair = (
                    f"支部书记{secretary.name}"
                    if secretary is not None
                    else f"支部副书记{deputy.name}"
                    if deputy is not None
                    else "支部委员"
                )
                presence = 0.8 if plan.retired else 0.93
                if behind == "behind":
                    presence -= 0.06
                lives[id(plan)] = _Life(
                    plan=plan,
                    order=order_no,
                    diligence=diligence,
                    members=members,
                    committee=[m for m in members if m.duty in COMMITTEE_DUTIES],
                    rooms=rooms,
                    room=rng.choice(rooms),
                    theme_day=rng.choice(THEME_DAYS),
                    chair=chair,
                    presence=presence,
                    filed_by=secretaries.get(org.pk),
                )
            elif plan.kind == K.GROUP and id(plan.parent) in lives:
                branch = lives[id(plan.parent)]
                members = by_group.get(org.pk, [])
                leader = next((m for m in members if m.duty == PartyDuty.GROUP_LEADER), None)
                lives[id(plan)] = _Life(
                    plan=plan,
                    order=order_no,
                    diligence=min(1.0, max(0.4, branch.diligence + rng.uniform(-0.05, 0.03))),
                    members=members,
                    committee=[],
                    rooms=branch.rooms,
                    room=branch.room,
                    theme_day=branch.theme_day,
                    chair=f"党小组长{leader.name}" if leader is not None else "党小组长",
                    presence=branch.presence,
                    filed_by=branch.filed_by,
                )
            else:  # committees, general branches: only if staff give them a rule
                lives[id(plan)] = _Life(
                    plan=plan,
                    order=order_no,
                    diligence=0.95,
                    members=[],
                    committee=[],
                    rooms=MEETING_ROOMS["organ"],
                    room=MEETING_ROOMS["organ"][0],
                    theme_day=15,
                    chair="党组织书记",
                    presence=0.93,
                    filed_by=None,
                )
        return list(lives.values())

    def _draft(self, rng, drafts, taken, life, activity_type, period, window_start) -> None:
        day = self._activity_day(rng, life, activity_type, period, taken, period.start)
        if day is None or day < window_start or day >= self.today:
            return  # before the window, or not held (and filed) yet
        taken[(life.plan.obj.pk, activity_type.pk)].add(day)
        no_quorum = activity_type.committee_only and rng.random() < NO_QUORUM
        drafts.append((day, life, activity_type, no_quorum))
        if no_quorum and rng.random() < 0.6:  # held again later in the period, with a quorum
            lo = day + datetime.timedelta(days=3)
            again = self._activity_day(rng, life, activity_type, period, taken, lo, "any")
            if again is not None and again < self.today:
                taken[(life.plan.obj.pk, activity_type.pk)].add(again)
                drafts.append((again, life, activity_type, False))

    def _activity_day(
        self, rng, life, activity_type, period, taken, lo, style=None
    ) -> datetime.date | None:
        """A working day in [lo, period end] free for this organization and type, or None."""
        hi = period.end
        if lo > hi:
            return None
        org_pk = life.plan.obj.pk
        used = taken[(org_pk, activity_type.pk)]
        style = style or DATE_STYLE.get(activity_type.code, "any")
        day = None
        partner = ALONGSIDE.get(activity_type.code)
        if partner and rng.random() < partner[1] and partner[0] in self._types_by_code:
            other = taken[(org_pk, self._types_by_code[partner[0]].pk)]
            same = sorted(d for d in other if lo <= d <= hi and d not in used)
            if same:
                return rng.choice(same)
        if style == "fixed" and period.kind == "month" and rng.random() < 0.85:
            # its fixed day, or the nearest working day (after it, unless the month ends)
            fixed = period.start.replace(day=min(life.theme_day, period.end.day))
            for step in (0, 1, 2, 3, -1, -2, -3, 4, 5, 6, 7, -4, -5, -6, -7):
                day = fixed + datetime.timedelta(days=step)
                if lo <= day <= hi and day not in used and not _day_off(day):
                    return day
        for _attempt in range(20):
            if style == "early" and period.kind == "month" and rng.random() < 0.75:
                day = period.start + datetime.timedelta(days=rng.randint(0, 11))
            elif style == "year_turn" and period.kind == "year":
                month = rng.choices(range(1, 13), weights=YEAR_TURN_WEIGHTS)[0]
                first = period.start.replace(month=month)
                length = (add_months(first, 1) - first).days
                day = first + datetime.timedelta(days=rng.randint(0, length - 1))
            else:
                day = lo + datetime.timedelta(days=rng.randint(0, (hi - lo).days))
            if lo <= day <= hi and day not in used and not _day_off(day):
                return day
        return None

    def _records(self, rng, drafts) -> Iterator[tuple[tuple, list[int], list[str]]]:
        """The records one by one in date order: (values in RECORD_FIELDS order, the pks of the
        members expected, their attendance statuses). The counts on a record are those of its
        statuses."""
        present_, excused_, absent_ = (
            AttendanceStatus.PRESENT.value,
            AttendanceStatus.EXCUSED.value,
            AttendanceStatus.ABSENT.value,
        )
        last_topic: dict[tuple[int, int], str] = {}
        filed_at = self._filing_times(rng, {d[0] for d in drafts})
        random_ = rng.random
        for day, life, activity_type, no_quorum in drafts:
            if activity_type.committee_only:
                expected = life.committee
            else:
                expected = [m for m in life.members if m.joined_on <= day]
            if not expected and life.plan.kind in (K.BRANCH, K.GROUP):
                continue  # nobody to hold it
            if no_quorum:
                k = len(expected) // 2  # at most half: no quorum
                came = set(rng.sample(range(len(expected)), rng.randint(max(0, k - 1), k)))
                statuses = [
                    present_ if i in came else excused_ if random_() < 0.85 else absent_
                    for i in range(len(expected))
                ]
            else:
                statuses = []
                for m in expected:
                    # a first secretary in a village is mostly away, with leave
                    p = 0.45 if m.first_secretary_village else life.presence
                    r = random_()
                    statuses.append(
                        present_ if r < p else excused_ if r < p + (1 - p) * 0.75 else absent_
                    )
            present = statuses.count(present_)
            excused = statuses.count(excused_)
            absent = len(statuses) - present - excused
            counts = not activity_type.committee_only or present * 2 > len(statuses)
            topic, place = self._topic(rng, life, activity_type, day, last_topic)
            leave = f"，请假{excused}人" if excused else ""
            leave += f"，缺席{absent}人" if absent else ""
            prefix, _sep, subject = topic.rpartition("：")
            speakers = LECTURE_SPEAKERS.get(prefix, ["{chair}"])
            values = dict(
                chair=life.chair,
                expected=len(statuses),
                present=present,
                leave=leave,
                topic=topic,
                subject=subject,
                speaker=rng.choice(speakers).format(chair=life.chair),
            )
            if counts:
                content = MINUTES.get(activity_type.code, MINUTES_OTHER).format(**values)
            else:
                content = MINUTES_OTHER.format(**values) + NO_QUORUM_NOTE
            filer = life.filed_by
            yield (
                (
                    life.plan.obj.pk,
                    activity_type.pk,
                    activity_type.name,
                    day,
                    topic[:200],
                    place[:100],
                    content,
                    counts,
                    filer.pk if filer is not None else None,
                    filed_at[day],
                    filed_at[day],
                    present,
                    excused,
                    absent,
                ),
                [m.id for m in expected],
                statuses,
            )

    def _filing_times(self, rng, days) -> dict[datetime.date, datetime.datetime]:
        """Filed the evening of the day (never later than now)."""
        tz = timezone.get_default_timezone()
        now = timezone.now()
        times = {}
        for day in sorted(days):
            evening = datetime.datetime.combine(day, FILED_AT, tzinfo=tz)
            times[day] = min(evening + datetime.timedelta(minutes=rng.randint(-60, 120)), now)
        return times

    @staticmethod
    def _topic(rng, life, activity_type, day, last_topic) -> tuple[str, str]:
        """A topic that fits the day (season, campaigns, plenums) and where it was held."""
        fitting, weights = _fitting_topics(activity_type.code, day)
        if not fitting:
            return activity_type.name, life.room
        key = (life.plan.obj.pk, activity_type.pk)
        topic = rng.choices(fitting, weights=weights)[0]
        if topic.text == last_topic.get(key) and len(fitting) > 1:
            topic = rng.choices(fitting, weights=weights)[0]
        last_topic[key] = topic.text
        text = topic.text
        if "{year}" in text:  # the year reviewed: the last one when held in its first half
            text = text.format(year=day.year - 1 if day.month <= 6 else day.year)
        place = topic.place or (life.room if rng.random() < 0.8 else rng.choice(life.rooms))
        return text, place

    # ---- pairings (结对共建): `pairings.demo` ----------------------------------------------------

    def build_pairings(self) -> dict:
        from pairings.demo import build_pairings

        self.say("pairings")
        self.pairing_figures = build_pairings(self)
        f = self.pairing_figures
        self.say(f"pairings: {f['pairings']:,}; help records: {f['help_records']:,}")
        return self.pairing_figures

    # ---- evaluations (评比表彰): `evaluations.demo` ---------------------------------------------

    def build_evaluations(self) -> dict:
        from evaluations.demo import build_evaluations

        self.say("evaluations")
        self.evaluation_figures = build_evaluations(self)
        f = self.evaluation_figures
        self.say(f"evaluations: {f['applications']:,} applications; {f['sheets']:,} sheets")
        return self.evaluation_figures

    # ---- campaigns (专项活动与督导): `campaigns.demo` ----------------------------------------

    def build_campaigns(self) -> dict:
        from campaigns.demo import build_campaigns

        self.say("campaigns")
        self.campaign_figures = build_campaigns(self)
        f = self.campaign_figures
        self.say(f"campaigns: {f['campaigns']:,}; problems: {f['problems']:,}")
        return self.campaign_figures

    # ---- demo accounts ------------------------------------------------------------------------

    def build_users(self) -> list[DemoAccount]:
        demo = self._demo_branch_plans()
        first_unit = self.units[0]
        entries = [
            ("admin", Role.STAFF, None, [], False),
            ("secretary1", Role.SECRETARY, demo[0].obj if demo else None, [], False),
            ("secretary2", Role.SECRETARY, demo[1].obj if len(demo) > 1 else None, [], False),
            ("inspector1", Role.INSPECTOR, None, [first_unit], False),
            ("inspector_city", Role.INSPECTOR, None, [], True),
        ]
        for username, role, organization, units, city_wide in entries:
            if role == Role.SECRETARY and organization is None:
                continue
            self.accounts.append(self._account(username, role, organization, units, city_wide))
        return self.accounts

    def _password_hash(self) -> str:
        # Hashing is slow on purpose (~0.3 s): hash the shared demo password once.
        if not hasattr(self, "_hash"):
            self._hash = make_password(DEMO_PASSWORD)
        return self._hash

    def _account(self, username, role, organization, units, city_wide) -> DemoAccount:
        user = User.objects.filter(username=username).first()
        created = user is None
        staff = role == Role.STAFF
        if created:
            user = User(username=username, email=f"{username}@{DEMO_EMAIL_DOMAIN}")
        user.role = role
        user.is_staff = staff
        user.is_superuser = staff or (not created and user.is_superuser)
        user.organization = organization
        user.city_wide = city_wide
        if organization is not None and organization.secretary is not None:
            name = organization.secretary.name
            user.last_name, user.first_name = name[:1], name[1:]
        if created:
            validate_password(DEMO_PASSWORD, user)
            user.password = self._password_hash()
        user.save()
        user.units.set(units)
        if staff or city_wide:
            scope = self.scale.whole
        elif organization is not None:
            scope = f"{organization.name}（{organization.unit.name}）"
        else:
            scope = "、".join(u.name for u in units)
        return DemoAccount(
            role=str(Role(role).label),
            username=username,
            password=DEMO_PASSWORD if created else "",
            scope=scope,
            url="/admin/" if staff else "/portal/",
            created=created,
        )


@dataclass(eq=False)
class _Life:
    """What the activity step knows of one organization."""

    plan: OrgPlan
    order: int  # tree order, to sort a day's records
    diligence: float  # chance of holding an owed activity (monthly; coarser ones more)
    members: list[Member]  # expected at its activities (those who had joined by then)
    committee: list[Member]  # expected at a committee meeting
    rooms: list[str]
    room: str  # where it usually meets
    theme_day: int  # its fixed day of the month for 主题党日
    chair: str
    presence: float  # chance a member comes
    filed_by: User | None


@functools.cache
def _fitting_topics(code: str, day: datetime.date) -> tuple[list[Topic], list[int]]:
    """The topics of a type that fit the day; seasonal and campaign ones weigh more."""
    fitting = [t for t in TOPICS.get(code, []) if t.fits(day)]
    return fitting, [3 if (t.months or t.start or t.end) else 1 for t in fitting]


def _periods(kind: str, first: datetime.date, last: datetime.date) -> Iterable[Period]:
    """The periods of `kind` that overlap [first, last]."""
    period = Period.containing(kind, first)
    while period.start <= last:
        yield period
        period = Period(kind, add_months(period.start, period.months))


def _day_off(day: datetime.date) -> bool:
    """A weekend or a public holiday (New Year, Spring Festival, Labour Day, National Day)."""
    if day.weekday() >= 5 or (day.month, day.day) in FIXED_HOLIDAYS:
        return True
    spring = SPRING_FESTIVAL.get(day.year)
    return spring is not None and spring[0] <= day <= spring[1]


class RowWriter:
    """Plain tuples (values of `fields`, in that order) into `model`'s table as they come, a
    batch at a time: COPY on PostgreSQL, `executemany` elsewhere. No model instances, no signals,
    no auto_now: for values the code made itself (numbers, text, booleans, dates, aware
    datetimes, None), written as they are. A context manager: the last batch goes at the end
    (or call `close()`); `count` is how many rows were written.

    Rows are held only until their batch goes, so millions can stream through (attendance at
    province scale) without being in memory at once."""

    def __init__(self, model, fields: Sequence[str], batch: int | None = None) -> None:
        self.connection = connections[router.db_for_write(model)]
        self.postgresql = self.connection.vendor == "postgresql"
        qn = self.connection.ops.quote_name
        table = qn(model._meta.db_table)
        model_fields = [model._meta.get_field(f) for f in fields]
        columns = ", ".join(qn(f.column) for f in model_fields)
        self.batch = batch or (COPY_BATCH if self.postgresql else ROW_BATCH)
        self.count = 0
        self._rows: list[tuple] = []
        if self.postgresql:
            self._sql = f"COPY {table} ({columns}) FROM STDIN"
            convert = [_copy_converter(f) for f in model_fields]
            # One %-format per row; values that are their own text (not-null integers, plain
            # choices) go as they are.
            self._line = "\t".join(["%s"] * len(fields)) + "\n"
        else:
            self._sql = (
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            )
            convert = [_param_converter(f, self.connection) for f in model_fields]
        self._convert = None if all(c is None for c in convert) else convert

    def add(self, row: tuple) -> None:
        self._rows.append(row)
        if len(self._rows) >= self.batch:
            self.flush()

    def extend(self, rows: Iterable[tuple]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        convert = self._convert
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            for chunk in chunked(rows, self.batch):
                if self.postgresql and hasattr(raw, "copy_expert"):  # psycopg2
                    line = self._line
                    if convert is None:
                        text = "".join([line % row for row in chunk])
                    else:
                        text = "".join(
                            [
                                line
                                % tuple(
                                    [
                                        v if c is None else c(v)
                                        for c, v in zip(convert, row, strict=True)
                                    ]
                                )
                                for row in chunk
                            ]
                        )
                    raw.copy_expert(self._sql, io.StringIO(text))
                elif self.postgresql:  # psycopg 3 adapts the values itself
                    with raw.copy(self._sql) as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    if convert is not None:
                        chunk = [
                            tuple(
                                v if c is None else c(v) for c, v in zip(convert, row, strict=True)
                            )
                            for row in chunk
                        ]
                    cursor.executemany(self._sql, list(chunk))
        self.count += len(rows)

    def close(self) -> int:
        self.flush()
        return self.count

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()


def insert_rows(
    model, fields: Sequence[str], rows: Iterable[tuple], batch: int | None = None
) -> int:
    """Write plain tuples (values of `fields`, in that order) into `model`'s table: see
    `RowWriter`. Returns how many."""
    with RowWriter(model, fields, batch) as writer:
        writer.extend(rows)
    return writer.count


def save_objects(model, objs: list, batch: int = BATCH) -> list:
    """New instances of `model` into its table, like `bulk_create` (no save(), no signals;
    defaults and auto_now fields filled in, pks set on the instances).

    On PostgreSQL: the pks are drawn from the table's sequence first (the ones bulk_create would
    have got, in the same order), then every row goes in one COPY, instead of an INSERT ...
    RETURNING per thousand rows. Elsewhere: bulk_create."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or not objs:
        return model.objects.bulk_create(objs, batch_size=batch)
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk and not f.generated]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
            [meta.db_table, pk.column, len(objs)],
        )
        pks = [row[0] for row in cursor.fetchall()]
    # Most values are their own database value: read them straight off the instances (one
    # attrgetter call per row); the others (auto_now, datetimes, anything unusual) go through
    # pre_save and get_db_prep_save, as bulk_create does.
    plain = [i for i, f in enumerate(fields) if _is_plain(f)]
    other = [i for i in range(len(fields)) if i not in plain]
    read = operator.attrgetter(*[fields[i].attname for i in plain])
    order = plain + other  # the columns in the order the values come
    rows = []
    for obj, pk_value in zip(objs, pks, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = connection.alias
        values = read(obj) if len(plain) > 1 else (read(obj),)
        prepped = [_db_value(obj, fields[i], connection) for i in other]
        rows.append((pk_value, *values, *prepped))
    insert_rows(model, [pk.name, *(fields[i].name for i in order)], rows)
    return objs


def _is_plain(field) -> bool:
    """Is the attribute's value of `field` what the database stores (no conversion, no
    pre_save)? Text, booleans, integers, dates that are not auto_now."""
    if field.is_relation:
        return False  # see _db_value
    internal = field.get_internal_type()
    if internal == "DateField":
        return not (field.auto_now or field.auto_now_add)
    return internal in _PLAIN_TYPES and type(field).pre_save is models.Field.pre_save


def _db_value(obj, field, connection, adding: bool = True):
    """The database value of `field` on `obj`, as bulk_create (`adding`) and bulk_update write
    it: a foreign key from the related instance when one is set (assigned before it was saved,
    its pk came later); the rest through get_db_prep_save, after pre_save when adding."""
    if field.is_relation and field.is_cached(obj):
        related = field.get_cached_value(obj)
        if related is not None and related.pk is None:
            raise ValueError(f"{field.name} of {obj!r} is not saved yet")
        return None if related is None else related.pk
    value = field.pre_save(obj, True) if adding else getattr(obj, field.attname)
    return field.get_db_prep_save(value, connection)


def update_objects(model, objs: Sequence, fields: Sequence[str], batch: int = ROW_BATCH) -> int:
    """Write `fields` of `objs` (saved instances of `model`) back, like `bulk_update` (no save(),
    no signals), `batch` rows per statement: on PostgreSQL one UPDATE ... FROM (VALUES ...),
    elsewhere an `executemany` of one UPDATE per row by pk. Faster than bulk_update for
    thousands of rows: it builds a CASE with a branch per row, which Django compiles and the
    database tests row by row."""
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    meta = model._meta
    table, pk_column = qn(meta.db_table), qn(meta.pk.column)
    model_fields = [meta.get_field(f) for f in fields]
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        # Typed placeholders: a VALUES list does not know its columns' types.
        casts = [
            meta.pk.cast_db_type(connection),
            *(f.cast_db_type(connection) for f in model_fields),
        ]
        row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
        names = ", ".join(f"v{i}" for i in range(len(casts)))
        assignments = ", ".join(f"{qn(f.column)} = v.v{i + 1}" for i, f in enumerate(model_fields))
    else:
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in model_fields)
        sql = f"UPDATE {table} SET {assignments} WHERE {pk_column} = %s"
    with connection.cursor() as cursor:
        for chunk in chunked(objs, batch):
            rows = [
                (*[_db_value(obj, f, connection, adding=False) for f in model_fields], obj.pk)
                for obj in chunk
            ]
            if postgresql:
                cursor.execute(
                    f"UPDATE {table} AS t SET {assignments} "
                    f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({names}) "
                    f"WHERE t.{pk_column} = v.v0",
                    [value for row in rows for value in (row[-1], *row[:-1])],
                )
            else:
                cursor.executemany(sql, rows)
    return len(objs)


@contextlib.contextmanager
def bulk_loading(*load_models):
    """While many rows go into the tables of `load_models`, on PostgreSQL: their foreign keys,
    and every plain index no remaining foreign key relies on (primary key and unique constraints
    included; not partial or expression ones), are dropped, and put back as they were at the
    end. One validating query per key
    and one sorted build per index, instead of a deferred check per row at commit and an index
    update per row: at city scale the commit alone, checking the attendance rows' keys one by
    one, took longer than writing them, and keeping four indexes up to date while inserting
    three million attendance rows took 42 s against 17 s for inserting and then building them.

    Uniqueness is still checked, when the index is built: a duplicate fails the step. Inside a
    savepoint of the caller's transaction: on an error the schema comes back with the rollback.
    The tables (and those their keys point at) are locked against other sessions until the
    transaction ends. Elsewhere: nothing."""
    connection = connections[router.db_for_write(load_models[0])]
    if connection.vendor != "postgresql":
        yield
        return
    qn = connection.ops.quote_name
    tables = [qn(model._meta.db_table) for model in load_models]
    # an index that a foreign key relies on (the key's referenced side) stays
    needed = "EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = {})"
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # Checks still deferred on a referenced table (rows written earlier in this transaction)
        # would make ALTER TABLE refuse: run them now.
        connection.check_constraints()
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE contype IN ('p', 'u') "
            f"AND conrelid = ANY(%s::regclass[]) AND NOT {needed.format('c.conindid')} "
            "ORDER BY 1, 2",
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {qn(name)}")
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            "WHERE indrelid = ANY(%s::regclass[]) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            # a partial or expression index would come back re-parsed, not word for word
            "AND i.indpred IS NULL AND i.indexprs IS NULL "
            f"AND NOT {needed.format('i.indexrelid')} ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")  # regclass text: quoted as needed
        yield
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")
        for _name, definition in indexes:
            cursor.execute(definition)
        connection.check_constraints()
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {qn(name)} {definition}")


def analyze(*of_models, using: str | None = None) -> None:
    """Give the query planner fresh statistics: ANALYZE the tables of `of_models`, or the whole
    database. On SQLite it samples about SQLITE_ANALYSIS_LIMIT rows per index (a full ANALYZE
    reads every index: 9 s at province scale), then PRAGMA optimize. Other databases: nothing.

    Tables just filled by the builder have no statistics, and autovacuum may be off or not come
    round for a while: until then the planner guesses their sizes and selectivities."""
    alias = using or router.db_for_write(of_models[0] if of_models else Unit)
    connection = connections[alias]
    qn = connection.ops.quote_name
    tables = [qn(model._meta.db_table) for model in of_models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(tables) if tables else "ANALYZE")
        elif connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit")
            row = cursor.fetchone()  # None before SQLite 3.32: then the limit is ignored
            limit = row[0] if row else 0
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            for statement in [f"ANALYZE {t}" for t in tables] or ["ANALYZE"]:
                cursor.execute(statement)
            cursor.execute("PRAGMA optimize")
            cursor.execute(f"PRAGMA analysis_limit = {int(limit)}")


def insert_with_ids(model, fields: Sequence[str], rows: list[tuple]) -> list[int]:
    """Plain rows (values of `fields`) into `model`'s table; their new ids, in order. On
    PostgreSQL the ids come from the table's sequence first and go in with the rows (one COPY);
    elsewhere the rows go in (executemany) and their ids are read back: all above the largest
    before, ascending in insertion order (the caller's transaction holds the table)."""
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                "FROM generate_series(1, %s) ORDER BY 1",
                [meta.db_table, meta.pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        insert_rows(
            model,
            [meta.pk.name, *fields],
            [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
        )
        return ids
    before = model._base_manager.aggregate(last=Max("pk"))["last"] or 0
    insert_rows(model, fields, rows)
    ids = list(
        model._base_manager.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True)
    )
    if len(ids) != len(rows):  # someone else wrote into the table meanwhile
        raise RuntimeError(f"{meta.label}: {len(rows)} rows written, {len(ids)} read back")
    return ids


def _copy_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


_INTEGER_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_PLAIN_TYPES = {"CharField", "TextField", "SlugField", "BooleanField", *_INTEGER_TYPES}


def _copy_converter(field):
    """How a value of `field` becomes COPY text on PostgreSQL; None: `str()` of it is the text
    (integers of a not-null column; the values of a not-null column with plain choices)."""
    target = field.target_field if field.is_relation else field
    internal = target.get_internal_type()
    if not field.null:
        if internal in _INTEGER_TYPES:
            return None
        if field.choices and all(
            isinstance(value, str) and value == _copy_text(value) and value != "\\N"
            for value, _label in field.flatchoices
        ):
            return None
    if internal == "BooleanField":
        return lambda v: "\\N" if v is None else "t" if v else "f"
    if internal in ("CharField", "TextField", "SlugField"):
        return lambda v: "\\N" if v is None else _copy_text(v)
    if internal in ("DateField", "DateTimeField"):
        return lambda v: "\\N" if v is None else v.isoformat()
    return lambda v: "\\N" if v is None else str(v)


def _param_converter(field, connection):
    """How a value of `field` is passed to `executemany` (None: as it is)."""
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if internal == "DateField":
        return connection.ops.adapt_datefield_value
    return None


# --------------------------------------------------------------------------------------------
# Entry points for the command
# --------------------------------------------------------------------------------------------


def has_data() -> bool:
    return Unit.objects.exists()


def build(
    scale: str = "small",
    seed: int = DEFAULT_SEED,
    activity_months: int = ACTIVITY_MONTHS,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    return DemoBuilder(scale, seed, activity_months=activity_months, progress=progress).build()


@dataclass
class ComplianceSummary:
    periods: list[Period]
    owed: int
    held: int
    branches: int  # branches that owed anything
    behind: list[tuple[int, float]]  # (branch pk, rate) below the threshold, worst first
    threshold: float

    @property
    def rate(self) -> float | None:
        return self.held / self.owed if self.owed else None


def compliance_summary(
    months: int = 12, today: datetime.date | None = None, threshold: float = 0.75
) -> ComplianceSummary:
    """What the compliance engine itself says of the last `months` full months, over every
    organization: the share of what was owed that was held (sum held / sum owed; monthly rules,
    since a month owes no quarterly or yearly one), and the branches below `threshold` over
    those months. A group counts once: inside its branch's rolled-up 党小组会 line."""
    today = today or timezone.localdate()
    periods = [Period.containing("month", today).previous()]
    while len(periods) < months:
        periods.insert(0, periods[0].previous())
    owed = held = 0
    per_branch: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    organizations = Organization.objects.all()
    for period in periods:
        for result in compute_compliance(organizations, period, today=today).values():
            if result.kind == K.GROUP:
                continue
            owed += result.owed
            held += result.held
            if result.kind == K.BRANCH:
                per_branch[result.organization_id][0] += result.owed
                per_branch[result.organization_id][1] += result.held
    rates = {pk: h / o for pk, (o, h) in per_branch.items() if o}
    behind = sorted(((pk, r) for pk, r in rates.items() if r < threshold), key=lambda x: x[1])
    return ComplianceSummary(periods, owed, held, len(rates), behind, threshold)


def flush() -> dict[str, int]:
    """Delete every unit, organization, term and member (and their history rows), the
    organizational life filed for them (activity records, attendance, attachments), and the
    accounts this module created.

    Rows elsewhere that protect them are deleted first: they belong to the organizations going
    away. Other accounts stay; any that pointed at a deleted organization lose it (secretaries
    among them are deactivated: they have nothing to run).
    """
    from campaigns.demo import flush as flush_campaigns
    from evaluations.demo import flush as flush_evaluations
    from pairings.demo import flush as flush_pairings
    from reminders.models import Reminder
    from reports.models import Bulletin

    deleted: dict[str, int] = {}
    # deferred(): the counts are refreshed once at the end, not after each row deleted.
    with transaction.atomic(), override_settings(SIMPLE_HISTORY_ENABLED=False), deferred():
        # Bulletins were built from the data going away: they would describe nobody.
        deleted["bulletins"] = Bulletin.objects.all().delete()[1].get(Bulletin._meta.label, 0)
        # Reminders (and their deliveries) were about the organizations going away.
        deleted["reminders"] = Reminder.objects.all().delete()[1].get(Reminder._meta.label, 0)
        # Problems, participations, reports and key measures protect their organizations, a
        # tagged theme day points at its record, groups and histories at the demo accounts.
        deleted.update(flush_campaigns())
        # Pairings protect their organizations, and help records point at activity records.
        deleted.update(flush_pairings())
        # Applications and titles protect their organizations, review sheets their reviewers.
        deleted.update(flush_evaluations())
        deleted.update(_flush_activity_records())
        deleted["users"] = (
            User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
            .delete()[1]
            .get(User._meta.label, 0)
        )
        orphaned = User.objects.filter(organization__isnull=False)
        orphaned.filter(role=Role.SECRETARY, is_superuser=False).update(is_active=False)
        orphaned.update(organization=None)
        for model in (Member, Organization, Unit):
            _delete_protecting_rows(model)
        Organization.objects.update(secretary=None)
        deleted["members"] = _wipe(Member)
        deleted["terms"] = Term.objects.all().delete()[1].get(Term._meta.label, 0)
        # All at once: a parent is protected only from being deleted without its children.
        deleted["organizations"] = _wipe(Organization)
        deleted["units"] = Unit.objects.all().delete()[1].get(Unit._meta.label, 0)
        Member.history.all().delete()
        Organization.history.all().delete()
    return deleted


def _flush_activity_records() -> dict[str, int]:
    """Attendance and attachments in one DELETE each, then the records (on PostgreSQL the three
    tables in one TRUNCATE when nothing else points into them); their files go once the
    transaction commits."""
    storage = Attachment._meta.get_field("file").storage
    names = [n for n in Attachment.objects.values_list("file", flat=True) if n]
    emptied = truncate(Attendance, Attachment, ActivityRecord)
    if emptied is not None:
        ActivityRecord.history.all().delete()
        if names:
            transaction.on_commit(lambda: [storage.delete(n) for n in names])
        return {
            "attendance": emptied[Attendance],
            "attachments": emptied[Attachment],
            "activity_records": emptied[ActivityRecord],
        }
    deleted = {
        "attendance": Attendance.objects.all().delete()[0],
        "attachments": Attachment.objects.all().delete()[0],
    }
    records = ActivityRecord.objects.all()
    others = {rel.related_model for rel in ActivityRecord._meta.related_objects} - {
        Attendance,
        Attachment,
    }
    if not any(model._base_manager.exists() for model in others):
        # Nothing else points at a record (the pairings' help records went first): one DELETE,
        # instead of loading every record to send it a delete signal (history is off here).
        deleted["activity_records"] = records._raw_delete(records.db)
    else:
        deleted["activity_records"] = records.delete()[0]
    ActivityRecord.history.all().delete()
    if names:
        transaction.on_commit(lambda: [storage.delete(n) for n in names])
    return deleted


def truncate(*table_models) -> dict[type[models.Model], int] | None:
    """On PostgreSQL, when no foreign key of another table with rows points into these tables:
    count their rows, then empty them in one TRUNCATE (instant; a DELETE of ten million
    attendance rows takes minutes, and each deleted record queues a check). Empty tables that
    point in (the pairings' help records, flushed first) join the TRUNCATE, locked first, so
    nothing is lost. No signals, no history: only for rows nothing listens to. None (and
    nothing done) elsewhere, or when a table with rows points in."""
    connection = connections[router.db_for_write(table_models[0])]
    if connection.vendor != "postgresql":
        return None
    qn = connection.ops.quote_name
    tables = [qn(m._meta.db_table) for m in table_models]
    with connection.cursor() as cursor:
        also: list[str] = []  # empty tables pointing in, and those pointing into them
        while True:
            inside = tables + also
            cursor.execute(
                "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = ANY(%s::regclass[]) AND NOT conrelid = ANY(%s::regclass[]) "
                "ORDER BY 1",
                [inside, inside],
            )
            pointing = [row[0] for row in cursor.fetchall()]
            if not pointing:
                break
            cursor.execute(f"LOCK TABLE {', '.join(pointing)} IN SHARE MODE")
            for table in pointing:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
                if cursor.fetchone()[0]:
                    return None
            also += pointing
        counts = {}
        for model, table in zip(table_models, tables, strict=True):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[model] = cursor.fetchone()[0]
        # Rows written earlier in this transaction leave deferred foreign-key checks pending,
        # and PostgreSQL refuses to TRUNCATE a table with pending trigger events: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables + also)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return counts


def _wipe(model) -> int:
    """Delete every row of `model` in one statement. First, table-wide, what `QuerySet.delete()`
    would do row by row to the rows pointing at them: CASCADE ones deleted (through their own
    `delete()`), SET_NULL ones set to null; DO_NOTHING ones (the history's) left. PROTECT and
    RESTRICT ones must be gone already (`_delete_protecting_rows`): if any is left, the
    collector decides, as before.

    No delete signals: `flush` switches the history off, and the stored counts go with their
    organizations and units. Django's collector would load every row to send them (200,000
    members at province scale) and refuse a parent before its children."""
    rows = model._base_manager.all()
    for rel in get_candidate_relations_to_delete(model._meta):
        related = rel.related_model
        if related is model:  # a tree (parent): its rows all go together
            continue
        pointing = related._base_manager.filter(**{f"{rel.field.name}__isnull": False})
        if rel.on_delete is models.CASCADE:
            pointing.delete()
        elif rel.on_delete is models.SET_NULL:
            pointing.update(**{rel.field.name: None})
        elif rel.on_delete is not models.DO_NOTHING and pointing.exists():
            return rows.delete()[1].get(model._meta.label, 0)
    return rows._raw_delete(rows.db)


def _delete_protecting_rows(model) -> None:
    """Delete the rows of other models that point at `model` through a PROTECT/RESTRICT key
    (every row of `model` is about to go, so every such row would block it)."""
    handled = {Unit, Organization, Member, Term, User}
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model in handled:
            continue
        if rel.on_delete in (models.PROTECT, models.RESTRICT):
            rel.related_model._base_manager.filter(**{f"{rel.field.name}__isnull": False}).delete()
