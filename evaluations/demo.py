"""Demo data for the evaluations app (评比表彰), built by `branches.demo.DemoBuilder` once the
organization tree, the demo accounts and the pairings exist, and flushed by
`branches.demo.flush()` before the tree and the demo accounts go (an application and a title
protect their organization, a review sheet its reviewer).

What it builds, from the figures of shared/docs/domain.md (Tianjin's "双示范": 217 site and 180
position applications over three years, 107 sites awarded: 10 committees, 8 general branches,
89 branches; 96 positions), per city of the scale:

- two past programs: the demonstration sites (示范点) of two years ago, a title valid for two
  years, and the demonstration positions (示范阵地) of last year, valid for three (a trimmed mean
  from three reviewers on). Each with the standard criteria and the four stages (thresholds 60,
  65, 70, 75), and at city scale some 60 to 80 applications from committees, general branches
  and branches: a few drafts never submitted, a few withdrawn, a few nominated by staff; the
  rest reviewed stage by stage by two or three reviewers (the demo's staff and inspector
  accounts, never one of the organization under review: `rules.conflict_of_interest`), each
  scoring every criterion; an application failing a stage is not awarded there; those passing
  the last stage are ranked and awarded within the quota per organization kind (some 35 titles
  per program at city scale), the rest not awarded;
- the titles (designations), valid from the award for the program's years. The sites' titles
  have come due: most were re-reviewed and kept for another term (复评复审), one or a few
  revoked with the reason (优进劣出: the title stays, revoked), a few still listed and waiting;
- one open program (五星达标党支部, branches only), its window including today, with drafts and
  submitted applications, none decided: the first demo secretary has a draft, the second none
  (they may apply).

The numbers agree with the services: sheet totals are `rules.sheet_total` of the scores, stage
results `rules.stage_result` of the totals (what `selectors.stage_results` computes), an
application goes on only when its result reaches the stage's threshold, a title is valid
`program.valid_years` from its award, and a re-review that keeps a title extends it as
`services.re_review` does.

Deterministic: its own random stream (`builder.rng_for("evaluations")`), every choice made in
the tree's order, never by primary key; dates relative to the builder's today, nothing after
it. Fast: drafts in memory, then plain rows per table (`insert_with_ids`, `insert_rows`), no
query per row: at city scale (~160 applications, ~1,000 review sheets, ~5,300 scores) about
0.1 s on SQLite, 0.3 s on PostgreSQL; at province scale (~1,600 applications, ~11,000 sheets,
~55,000 scores) under two seconds.

The reviewers are the demo's staff and inspector accounts (admin, inspector1, inspector_city):
three, so two or three per stage; none belongs to an organization, so the conflict rule never
bites here, but it is asked all the same.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from branches.demo import OrgPlan, insert_rows, insert_with_ids, truncate
from branches.models import OrganizationKind

from . import rules
from .defaults import seed_program
from .models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ProgramKind,
    ReReview,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    SelfAssessment,
    Stage,
)
from .rules import years_after

if TYPE_CHECKING:
    from branches.demo import DemoBuilder

K = OrganizationKind
S = ApplicationStatus
DAY = datetime.timedelta(days=1)
HALF = Decimal("0.5")
KINDS = (K.COMMITTEE, K.GENERAL_BRANCH, K.BRANCH)
THRESHOLDS = (Decimal("60.00"), Decimal("65.00"), Decimal("70.00"), Decimal("75.00"))
# The past programs' calendar, relative to the award day: a month's window five months before,
# then the four stages a month each.
OPENS_BEFORE_AWARD = 170  # days
WINDOW_DAYS = 30
STAGE_DAYS = 30
AWARD_LAG = 75  # last year's program was awarded this many days more than a year ago
# Shares of the applications of a past program
DRAFTS = 0.03  # never submitted
WITHDRAWN = 0.05
NOMINATED = 0.03  # by staff, without a self-assessment
# The titles of the sites' program when they came due
REVOKED = 0.06
WAITING = 0.06  # listed, not re-reviewed yet


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    kind: str
    name: str  # {year}, {prefix}
    title: str  # {prefix}
    valid_years: int
    trimmed_mean_from: int
    apply: dict[str, float]  # share of the organizations of each kind applying
    quota: dict[str, float]  # awards per kind, as a share of the organizations of that kind
    min_apply: dict[str, int]
    min_quota: dict[str, int]


SITES = ProgramSpec(
    key="sites",
    kind=ProgramKind.DEMONSTRATION_SITE,
    name="{year}年度{prefix}基层党建工作示范点",
    title="{prefix}基层党建工作示范点",
    valid_years=2,
    trimmed_mean_from=5,
    # city: 8 committees, 7 general branches, 61 branches apply; 3 + 3 + 30 awards
    apply={K.COMMITTEE: 0.13, K.GENERAL_BRANCH: 0.2, K.BRANCH: 0.105},
    quota={K.COMMITTEE: 0.05, K.GENERAL_BRANCH: 0.086, K.BRANCH: 0.052},
    min_apply={K.COMMITTEE: 2, K.GENERAL_BRANCH: 2, K.BRANCH: 6},
    min_quota={K.COMMITTEE: 1, K.GENERAL_BRANCH: 1, K.BRANCH: 3},
)
POSITIONS = ProgramSpec(
    key="positions",
    kind=ProgramKind.DEMONSTRATION_POSITION,
    name="{year}年度{prefix}党建工作示范阵地",
    title="{prefix}党建工作示范阵地",
    valid_years=3,
    trimmed_mean_from=3,
    # city: 6 + 6 + 50 apply; 2 + 2 + 27 awards
    apply={K.COMMITTEE: 0.1, K.GENERAL_BRANCH: 0.17, K.BRANCH: 0.087},
    quota={K.COMMITTEE: 0.04, K.GENERAL_BRANCH: 0.06, K.BRANCH: 0.047},
    min_apply={K.COMMITTEE: 2, K.GENERAL_BRANCH: 1, K.BRANCH: 5},
    min_quota={K.COMMITTEE: 1, K.GENERAL_BRANCH: 1, K.BRANCH: 2},
)
FIVE_STAR = ProgramSpec(
    key="five_star",
    kind=ProgramKind.FIVE_STAR,
    name="{year}年度{prefix}五星达标党支部",
    title="{prefix}五星达标党支部",
    valid_years=3,
    trimmed_mean_from=5,
    # open now: 20 branches at city scale so far, 35 titles to give (Putian: 100 five-star)
    apply={K.BRANCH: 0.035},
    quota={K.BRANCH: 0.06},
    min_apply={K.BRANCH: 3},
    min_quota={K.BRANCH: 3},
)
OPEN_SUBMITTED = 0.6  # share of the open program's applications submitted so far

# --------------------------------------------------------------------------------------------
# Text (Chinese data stays Chinese)
# --------------------------------------------------------------------------------------------

SUMMARIES = [
    "坚持“三会一课”制度，打造“{brand}”党建品牌，党员先锋岗作用发挥明显。",
    "以“{brand}”为抓手推动党建与业务深度融合，结对共建成效明显，群众满意度高。",
    "支部班子团结有力，组织生活规范有序，创建“{brand}”特色品牌，示范带动作用突出。",
    "建成标准化党员活动阵地，常态化开展主题党日，“{brand}”品牌在系统内推广。",
    "围绕中心服务大局，党员带头攻坚克难，“{brand}”获上级肯定。",
]
BRANDS = [
    "红色引擎", "党建+服务", "先锋堡垒", "初心驿站", "红旗飘飘", "党员示范岗", "一支部一品牌",
    "红心向党", "匠心党建", "数智党建", "清风廉韵", "铸魂育人", "服务零距离", "红色引领",
]  # fmt: skip
EVIDENCE = {
    "班子坚强": ["党委班子成员配备齐全，按期完成换届", "班子民主生活会会议记录、整改清单"],
    "党员一流": ["党员先锋岗、责任区设岗定责台账", "党员年度民主评议结果，优秀等次占比高"],
    "制度健全": ["全年“三会一课”记录完整，按期召开", "议事规则、发展党员等制度汇编"],
    "业绩突出": ["结对共建协议及帮扶台账", "年度重点工作完成情况，获上级表彰"],
    "阵地规范": ["党员活动室“七有”标准建设照片", "阵地使用登记台账，月均开放20天以上"],
    "支部班子好": ["支部委员会按期换届选举材料", "支部书记述职评议结果为“好”"],
    "党员队伍好": ["党员积分管理台账", "党员志愿服务记录，人均服务时长超过20小时"],
    "工作机制好": ["“三会一课”、主题党日记录完整", "组织生活会、民主评议党员材料齐全"],
    "工作业绩好": ["“1+1”结对共建走访及帮扶记录", "业务工作考核优秀，服务群众典型事例"],
    "群众反映好": ["群众满意度测评结果95%以上", "问题整改清单全部销号"],
}
LOW_COMMENTS = [
    "台账资料不够完整",
    "特色亮点不够突出",
    "制度执行与要求有差距",
    "阵地建设有待规范",
    "示范带动作用不够明显",
]
HIGH_COMMENTS = ["特色鲜明，示范作用明显", "资料翔实，成效突出", "组织生活规范，记录完整"]
KEPT_REASONS = [
    "复评复审合格，示范作用持续发挥，保留称号",
    "实地复查合格，组织生活规范，继续保留称号",
    "复查各项标准均达到要求，保留称号",
]
REVOKED_REASONS = [
    "复查发现“三会一课”落实不到位，组织生活记录不全，已不符合示范标准",
    "班子未按期换届，整改不到位，已不符合示范标准",
    "党员活动阵地挪作他用，示范带动作用弱化，已不符合示范标准",
]


# --------------------------------------------------------------------------------------------
# Drafts in memory
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class SheetDraft:
    stage: Stage
    reviewer: User
    scores: list[tuple[Criterion, Decimal, str]]
    total: Decimal
    submitted_at: datetime.datetime
    pk: int | None = None


@dataclass(eq=False)
class AppDraft:
    program: Program
    plan: OrgPlan
    order: int  # tree order
    status: str = S.DRAFT
    nominated: bool = False
    quality: float = 0.0
    summary: str = ""
    created_by: User | None = None
    created_at: datetime.datetime | None = None
    submitted_at: datetime.datetime | None = None
    decided_at: datetime.datetime | None = None
    stage: Stage | None = None
    assessments: list[tuple[Criterion, Decimal | None, str]] = field(default_factory=list)
    sheets: list[SheetDraft] = field(default_factory=list)
    results: dict[int, Decimal] = field(default_factory=dict)  # stage order -> result
    pk: int | None = None

    @property
    def kind(self) -> str:
        return self.plan.kind


@dataclass(eq=False)
class TitleDraft:
    app: AppDraft
    awarded_on: datetime.date
    valid_until: datetime.date
    status: str = DesignationStatus.CURRENT
    listed_on: datetime.date | None = None
    revoked_on: datetime.date | None = None
    revoke_reason: str = ""
    reviews: list[tuple[datetime.date, str, str, datetime.date]] = field(default_factory=list)
    pk: int | None = None


@dataclass(eq=False)
class ProgramPlan:
    spec: ProgramSpec
    program: Program
    award_on: datetime.date | None  # None: open
    criteria: dict[str, list[Criterion]]
    stages: list[Stage]
    quota: dict[str, int]
    apps: list[AppDraft] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# The builder
# --------------------------------------------------------------------------------------------


class EvaluationsDemo:
    def __init__(self, builder: DemoBuilder) -> None:
        self.builder = builder
        self.rng = builder.rng_for("evaluations")
        self.today: datetime.date = builder.today
        self.prefix = "省直机关" if builder.scale.cities > 1 else "市级机关"
        self.order = {id(p): i for i, p in enumerate(builder.plans)}
        self.by_kind: dict[str, list[OrgPlan]] = defaultdict(list)
        for plan in builder.plans:
            if plan.kind in KINDS:
                self.by_kind[plan.kind].append(plan)
        usernames = [a.username for a in builder.accounts]
        accounts = User.objects.filter(username__in=usernames).select_related("organization")
        self.staff = sorted((u for u in accounts if u.role == Role.STAFF), key=lambda u: u.username)
        inspectors = [u for u in accounts if u.role == Role.INSPECTOR]
        self.inspectors = sorted(inspectors, key=lambda u: u.username)
        self.reviewers = self.staff + self.inspectors  # the pool, by username
        self.admin = self.staff[0] if self.staff else None
        self.secretaries = {
            u.organization_id: u for u in accounts if u.role == Role.SECRETARY and u.organization_id
        }
        self.demo_plans = builder._demo_branch_plans()  # secretary1's, secretary2's
        self.programs: list[ProgramPlan] = []
        self.titles: list[TitleDraft] = []

    # ---- the whole thing ----------------------------------------------------------------------

    def build(self) -> dict:
        award_last = years_after(self.today, -1) - AWARD_LAG * DAY
        award_before = years_after(award_last, -1)
        sites = self._program(SITES, award_before)
        positions = self._program(POSITIONS, award_last)
        five_star = self._program(FIVE_STAR, None)
        for plan in (sites, positions):
            self._past_applications(plan)
            self._review(plan)
            self._decide(plan)
        self._re_review(sites)
        self._open_applications(five_star)
        self._write()
        return self._summary()

    # ---- programs -----------------------------------------------------------------------------

    def _program(self, spec: ProgramSpec, award_on: datetime.date | None) -> ProgramPlan:
        if award_on is None:  # open: from three weeks ago for another six weeks
            opens_on, closes_on = self.today - 20 * DAY, self.today + 40 * DAY
            year = self.today.year
        else:
            opens_on = award_on - OPENS_BEFORE_AWARD * DAY
            closes_on = opens_on + WINDOW_DAYS * DAY
            year = award_on.year
        kinds = [k for k in KINDS if k in spec.apply]
        counts = {k: len(self.by_kind[k]) for k in kinds}
        quota = {
            k: min(counts[k], max(spec.min_quota[k], round(counts[k] * spec.quota[k])))
            for k in kinds
            if counts[k]
        }
        name = spec.name.format(year=year, prefix=self.prefix)
        if Program.objects.filter(name=name).exists():  # staff's own, on a database without units
            name += "（演示）"
        program = Program.objects.create(
            name=name,
            kind=spec.kind,
            year=year,
            opens_on=opens_on,
            closes_on=closes_on,
            quota=quota,
            title=spec.title.format(prefix=self.prefix),
            valid_years=spec.valid_years,
            trimmed_mean_from=spec.trimmed_mean_from,
        )
        # Staff set the program up three weeks before the window opened.
        Program.objects.filter(pk=program.pk).update(created_at=self._at(opens_on - 21 * DAY, 10))
        program.reviewers.set(self.inspectors)
        seed_program(program, Criterion, Stage, kinds=kinds)
        for order, threshold in enumerate(THRESHOLDS, start=1):
            Stage.objects.filter(program=program, order=order).update(pass_threshold=threshold)
        criteria: dict[str, list[Criterion]] = defaultdict(list)
        for c in Criterion.objects.filter(program=program).order_by("sort_order", "pk"):
            criteria[c.organization_kind].append(c)
        stages = list(Stage.objects.filter(program=program).order_by("order"))
        plan = ProgramPlan(spec, program, award_on, dict(criteria), stages, quota)
        self.programs.append(plan)
        return plan

    def _applicants(self, spec: ProgramSpec, kind: str, exclude: set[int]) -> list[OrgPlan]:
        candidates = [p for p in self.by_kind[kind] if id(p) not in exclude]
        wanted = max(spec.min_apply[kind], round(len(self.by_kind[kind]) * spec.apply[kind]))
        chosen = self.rng.sample(candidates, min(wanted, len(candidates)))
        return sorted(chosen, key=lambda p: self.order[id(p)])

    # ---- past programs: applications ----------------------------------------------------------

    def _past_applications(self, plan: ProgramPlan) -> None:
        rng = self.rng
        spec = plan.spec
        secretary_branch = self.demo_plans[0] if self.demo_plans else None
        forced = {id(secretary_branch)} if spec is SITES and secretary_branch else set()
        plans: list[OrgPlan] = []
        for kind in KINDS:
            if kind not in plan.quota:
                continue
            chosen = self._applicants(spec, kind, forced)
            if kind == K.BRANCH and forced and chosen:
                chosen = [*chosen[:-1], secretary_branch]
            plans += chosen
        apps = sorted(
            (AppDraft(plan.program, p, self.order[id(p)]) for p in plans), key=lambda a: a.order
        )
        plan.apps = apps
        # Who drops out or is nominated: never the demo secretary's branch (it is reviewed).
        pool = [a for a in apps if id(a.plan) not in forced]
        rng.shuffle(pool)
        n = len(apps)
        n_draft = max(1, round(n * DRAFTS))
        n_withdrawn = max(1, round(n * WITHDRAWN))
        n_nominated = round(n * NOMINATED)
        drafts = {id(a) for a in pool[:n_draft]}
        withdrawn = {id(a) for a in pool[n_draft : n_draft + n_withdrawn]}
        nominated = {
            id(a) for a in pool[n_draft + n_withdrawn : n_draft + n_withdrawn + n_nominated]
        }
        for app in apps:
            if id(app) in drafts:
                app.status = S.DRAFT
            elif id(app) in withdrawn:
                app.status = S.WITHDRAWN
            else:
                app.status = S.SUBMITTED
                app.nominated = id(app) in nominated
        self._qualities(plan)
        program = plan.program
        window = (program.closes_on - program.opens_on).days
        for app in apps:
            app.summary = self._summary_text()
            created = program.opens_on + rng.randrange(window - 5) * DAY
            app.created_at = self._at(created, rng.randint(9, 17), rng.randrange(60))
            submitted = self._at(
                min(created + rng.randint(1, 10) * DAY, program.closes_on),
                rng.randint(9, 17),
                rng.randrange(60),
            )
            if app.nominated:  # services.nominate: submitted at once, no self-assessment
                app.created_by = self.admin
                app.submitted_at = app.created_at
                continue
            app.created_by = self.secretaries.get(app.plan.obj.pk)
            app.assessments = self._self_assessment(plan, app, app.status != S.DRAFT)
            if app.status == S.SUBMITTED or (app.status == S.WITHDRAWN and rng.random() < 0.5):
                app.submitted_at = submitted  # some withdrawn after submitting, before review

    def _qualities(self, plan: ProgramPlan) -> None:
        """How good each application is (a share of the full marks). Per kind, as many of the
        submitted ones as the quota get a strong one (so the quota is used, as in Tianjin), the
        others anything from weak to strong."""
        rng = self.rng
        by_kind: dict[str, list[AppDraft]] = defaultdict(list)
        for app in plan.apps:
            if app.status == S.SUBMITTED:
                by_kind[app.kind].append(app)
            else:
                app.quality = rng.uniform(60, 90)
        for kind in KINDS:
            apps = by_kind.get(kind, [])
            strong = set(rng.sample(range(len(apps)), min(plan.quota.get(kind, 0), len(apps))))
            for i, app in enumerate(apps):
                app.quality = rng.uniform(84, 96) if i in strong else rng.uniform(52, 88)

    def _self_assessment(
        self, plan: ProgramPlan, app: AppDraft, complete: bool
    ) -> list[tuple[Criterion, Decimal | None, str]]:
        """Every criterion of the organization's kind; a draft leaves some unscored."""
        rng = self.rng
        rows = []
        for criterion in plan.criteria[app.kind]:
            if not complete and rng.random() < 0.4:
                rows.append((criterion, None, ""))
                continue
            # secretaries rate their own a little higher than the reviewers will
            score = self._points(criterion, app.quality + 5 + rng.gauss(0, 4))
            rows.append((criterion, score, rng.choice(EVIDENCE.get(criterion.name, [""]))))
        return rows

    def _summary_text(self) -> str:
        template = self.rng.choice(SUMMARIES)
        return template.format(brand=self.rng.choice(BRANDS))

    # ---- past programs: review ----------------------------------------------------------------

    def _review(self, plan: ProgramPlan) -> None:
        """Every submitted application, stage by stage, until it fails one (not awarded there,
        as `services.close_stage` decides) or passes them all."""
        rng = self.rng
        reviewed = [a for a in plan.apps if a.status == S.SUBMITTED]
        bias = {u.pk: rng.gauss(0, 2) for u in self.reviewers}
        for app in reviewed:
            app.status = S.UNDER_REVIEW
            eligible = [
                u for u in self.reviewers if not rules.conflict_of_interest(u, app.plan.obj)
            ]
            if not eligible:
                raise RuntimeError("evaluations demo: no reviewer may score this application")
            for stage in plan.stages:
                start, end = self._stage_span(plan, stage)
                app.stage = stage
                k = min(len(eligible), rng.choice((2, 3)))
                reviewers = sorted(rng.sample(eligible, k), key=lambda u: u.username)
                totals = []
                for reviewer in reviewers:
                    sheet = self._sheet(plan, app, stage, reviewer, bias[reviewer.pk], start, end)
                    app.sheets.append(sheet)
                    totals.append(sheet.total)
                result = rules.stage_result(totals, plan.program.trimmed_mean_from)
                app.results[stage.order] = result
                if result < stage.pass_threshold:  # services.close_stage
                    app.status = S.NOT_AWARDED
                    app.decided_at = self._at(end, 16)
                    break

    def _sheet(self, plan, app, stage, reviewer, bias, start, end) -> SheetDraft:
        rng = self.rng
        mood = rng.gauss(0, 3)
        scores = []
        for criterion in plan.criteria[app.kind]:
            score = self._points(criterion, app.quality + bias + mood + rng.gauss(0, 5))
            comment = ""
            share = score / criterion.max_score
            if share <= Decimal("0.65") and rng.random() < 0.7:
                comment = rng.choice(LOW_COMMENTS)
            elif share >= Decimal("0.95") and rng.random() < 0.2:
                comment = rng.choice(HIGH_COMMENTS)
            scores.append((criterion, score, comment))
        total = rules.sheet_total({c.pk: s for c, s, _c in scores}, plan.criteria[app.kind])
        day = start + rng.randrange((end - start).days) * DAY
        return SheetDraft(
            stage, reviewer, scores, total, self._at(day, rng.randint(9, 17), rng.randrange(60))
        )

    def _decide(self, plan: ProgramPlan) -> None:
        """Those who passed the last stage, best first, awarded within the quota per kind."""
        last = plan.stages[-1].order
        finalists: dict[str, list[AppDraft]] = defaultdict(list)
        for app in plan.apps:
            if app.status == S.UNDER_REVIEW:
                finalists[app.kind].append(app)
        decided_at = self._at(plan.award_on, 10)
        valid_until = years_after(plan.award_on, plan.program.valid_years)
        for kind, apps in finalists.items():
            apps.sort(key=lambda a: (-a.results[last], a.order))
            for rank, app in enumerate(apps):
                app.decided_at = decided_at
                if rank < plan.quota.get(kind, 0):
                    app.status = S.AWARDED
                    self.titles.append(TitleDraft(app, plan.award_on, valid_until))
                else:
                    app.status = S.NOT_AWARDED

    # ---- re-review of the titles that came due ------------------------------------------------

    def _re_review(self, plan: ProgramPlan) -> None:
        """The program's titles have come due: each listed a month before; most re-reviewed and
        kept for another term, some revoked with the reason, a few still waiting."""
        rng = self.rng
        titles = [t for t in self.titles if t.app.program is plan.program]
        titles.sort(key=lambda t: t.app.order)
        if not titles:
            return
        n = len(titles)
        n_revoked = max(1, round(n * REVOKED))
        n_waiting = max(1, round(n * WAITING)) if n >= 3 else 0
        shuffled = titles[:]
        rng.shuffle(shuffled)
        # The demo secretary's branch keeps its title, if it has one.
        shuffled.sort(key=lambda t: t.app.created_by is not None and not t.app.nominated)
        revoked = shuffled[:n_revoked]
        waiting = shuffled[n_revoked : n_revoked + n_waiting]
        for title in titles:
            due = title.valid_until
            title.listed_on = due - 31 * DAY  # services.list_due_re_reviews
            if title in waiting:
                continue
            on = min(due + rng.randint(-25, 20) * DAY, self.today - DAY)
            if title in revoked:
                reason = rng.choice(REVOKED_REASONS)
                title.reviews.append((due, ReReviewOutcome.REVOKED, reason, on))
                title.status = DesignationStatus.REVOKED
                title.revoked_on = on
                title.revoke_reason = reason
            else:  # services.re_review: kept for another term, off the list
                title.reviews.append((due, ReReviewOutcome.KEPT, rng.choice(KEPT_REASONS), on))
                title.valid_until = years_after(max(due, on), plan.program.valid_years)
                title.listed_on = None

    # ---- the open program ---------------------------------------------------------------------

    def _open_applications(self, plan: ProgramPlan) -> None:
        """Drafts and submitted applications, none decided. The first demo secretary has a
        draft, three criteria scored so far; the second has none and may apply."""
        rng = self.rng
        demo = {id(p) for p in self.demo_plans}
        apps = [
            AppDraft(plan.program, p, self.order[id(p)])
            for p in self._applicants(plan.spec, K.BRANCH, demo)
        ]
        for i in rng.sample(range(len(apps)), round(len(apps) * OPEN_SUBMITTED)):
            apps[i].status = S.SUBMITTED
        if self.demo_plans:
            mine = self.demo_plans[0]
            apps.append(AppDraft(plan.program, mine, self.order[id(mine)]))
        apps.sort(key=lambda a: a.order)
        first = plan.program.opens_on
        days = (self.today - first).days  # up to yesterday: nothing dated after now
        for app in apps:
            app.quality = rng.uniform(65, 95)
            app.summary = self._summary_text()
            app.created_by = self.secretaries.get(app.plan.obj.pk)
            created = first + rng.randrange(days) * DAY
            app.created_at = self._at(created, rng.randint(9, 17), rng.randrange(60))
            if app.status == S.SUBMITTED:
                app.assessments = self._self_assessment(plan, app, complete=True)
                day = min(created + rng.randint(0, 6) * DAY, self.today - DAY)
                app.submitted_at = self._at(day, 18, 30)
            elif id(app.plan) in demo:
                app.assessments = [
                    (c, None, "") if i >= 3 else (c, s, e)
                    for i, (c, s, e) in enumerate(self._self_assessment(plan, app, True))
                ]
            else:
                app.assessments = self._self_assessment(plan, app, complete=rng.random() < 0.5)
        plan.apps = apps

    # ---- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _points(criterion: Criterion, percent: float) -> Decimal:
        """A score of the criterion worth `percent` of its maximum, to half a point."""
        raw = Decimal(str(round(float(criterion.max_score) * percent / 100 * 2) / 2))
        return min(max(raw, Decimal("0.0")), criterion.max_score).quantize(Decimal("0.01"))

    @staticmethod
    def _stage_span(plan: ProgramPlan, stage: Stage) -> tuple[datetime.date, datetime.date]:
        start = plan.program.closes_on + (7 + STAGE_DAYS * (stage.order - 1)) * DAY
        return start, start + (STAGE_DAYS - 4) * DAY

    @staticmethod
    def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))

    # ---- rows ---------------------------------------------------------------------------------

    def _write(self) -> None:
        apps = [a for p in self.programs for a in p.apps]
        ids = insert_with_ids(
            Application,
            [
                "program",
                "organization",
                "status",
                "stage",
                "summary",
                "nominated",
                "created_by",
                "created_at",
                "submitted_at",
                "decided_at",
            ],
            [
                (
                    a.program.pk,
                    a.plan.obj.pk,
                    a.status,
                    a.stage.pk if a.stage else None,
                    a.summary,
                    a.nominated,
                    a.created_by.pk if a.created_by else None,
                    a.created_at,
                    a.submitted_at,
                    a.decided_at,
                )
                for a in apps
            ],
        )
        for app, pk in zip(apps, ids, strict=True):
            app.pk = pk
        insert_rows(
            SelfAssessment,
            ["application", "criterion", "score", "evidence"],
            [(a.pk, c.pk, s, e) for a in apps for c, s, e in a.assessments],
        )
        sheets = [(a, s) for a in apps for s in a.sheets]
        ids = insert_with_ids(
            ReviewSheet,
            ["application", "stage", "reviewer", "total", "submitted_at"],
            [(a.pk, s.stage.pk, s.reviewer.pk, s.total, s.submitted_at) for a, s in sheets],
        )
        for (_app, sheet), pk in zip(sheets, ids, strict=True):
            sheet.pk = pk
        insert_rows(
            Score,
            ["sheet", "criterion", "score", "comment"],
            [(s.pk, c.pk, v, comment) for _a, s in sheets for c, v, comment in s.scores],
        )
        titles = sorted(self.titles, key=lambda t: (t.app.program.pk, t.app.order))
        ids = insert_with_ids(
            Designation,
            [
                "program",
                "organization",
                "application",
                "title",
                "awarded_on",
                "valid_until",
                "status",
                "re_review_listed_on",
                "revoked_on",
                "revoke_reason",
            ],
            [
                (
                    t.app.program.pk,
                    t.app.plan.obj.pk,
                    t.app.pk,
                    t.app.program.title,
                    t.awarded_on,
                    t.valid_until,
                    t.status,
                    t.listed_on,
                    t.revoked_on,
                    t.revoke_reason,
                )
                for t in titles
            ],
        )
        for title, pk in zip(titles, ids, strict=True):
            title.pk = pk
        decided_by = self.admin.pk if self.admin else None
        insert_rows(
            ReReview,
            ["designation", "due_on", "outcome", "reason", "decided_on", "decided_by"],
            [
                (t.pk, due, outcome, reason, on, decided_by)
                for t in titles
                for due, outcome, reason, on in t.reviews
            ],
        )

    # ---- figures ------------------------------------------------------------------------------

    def _summary(self) -> dict:
        apps = [a for p in self.programs for a in p.apps]
        status = Counter(a.status for a in apps)
        kinds = Counter(t.app.kind for t in self.titles)
        outcomes = Counter(o for t in self.titles for _d, o, _r, _on in t.reviews)
        return {
            "programs": len(self.programs),
            "open": sum(p.award_on is None for p in self.programs),
            "applications": len(apps),
            "drafts": status[S.DRAFT],
            "submitted": status[S.SUBMITTED],
            "withdrawn": status[S.WITHDRAWN],
            "nominated": sum(a.nominated for a in apps),
            "awarded": status[S.AWARDED],
            "not_awarded": status[S.NOT_AWARDED],
            "committees": kinds[K.COMMITTEE],
            "general_branches": kinds[K.GENERAL_BRANCH],
            "branches": kinds[K.BRANCH],
            "sheets": sum(len(a.sheets) for a in apps),
            "scores": sum(len(s.scores) for a in apps for s in a.sheets),
            "self_assessments": sum(len(a.assessments) for a in apps),
            "reviewers": len(self.reviewers),
            "kept": outcomes[ReReviewOutcome.KEPT],
            "revoked": outcomes[ReReviewOutcome.REVOKED],
            "due": sum(
                t.listed_on is not None and t.status == DesignationStatus.CURRENT
                for t in self.titles
            ),
            "by_program": {
                p.program.name: {
                    "applications": len(p.apps),
                    "quota": p.quota,
                    "awarded": dict(Counter(a.kind for a in p.apps if a.status == S.AWARDED)),
                    "status": dict(Counter(a.status for a in p.apps)),
                }
                for p in self.programs
            },
        }


def build_evaluations(builder: DemoBuilder) -> dict:
    """Build the evaluations demo on what `builder` has written; return its figures."""
    return EvaluationsDemo(builder).build()


# --------------------------------------------------------------------------------------------
# Flush
# --------------------------------------------------------------------------------------------

# Children first: every program with everything in it (the demo's program names come back).
FLUSHED = [
    ReReview,
    Score,
    ReviewSheet,
    SelfAssessment,
    ApplicationAttachment,
    Designation,
    Application,
    Criterion,
    Stage,
    Program.reviewers.through,
    Program,
]
FLUSH_KEYS = {
    Program: "programs",
    Application: "applications",
    Designation: "designations",
    ReviewSheet: "review_sheets",
}


def flush() -> dict[str, int]:
    """Delete every evaluation program and everything in it: on PostgreSQL in one TRUNCATE,
    elsewhere one DELETE per table, children first; a table something outside points into goes
    through the ORM's delete. Attachment files go once the transaction commits."""
    storage = ApplicationAttachment._meta.get_field("file").storage
    names = [n for n in ApplicationAttachment.objects.values_list("file", flat=True) if n]
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
