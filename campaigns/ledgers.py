"""The campaigns app's ledgers (台账): problems and their rectification (问题整改台账), the
campaigns' targets (专项活动目标台账) and participation by unit (专项活动参与台账).

Rows and scope:

- problems (`problems`): one row per problem the user sees (`selectors.visible_problems`: a
  secretary their organizations' problems, an inspector those of their units and those their
  own inspection groups found, staff and city-wide inspectors all), with its campaign and group,
  the responsible organization, the last answer's measures and date, how many times it was sent
  back and when it was accepted.
- targets (`campaign_targets`): one row per target of each campaign chosen, with its goal, its
  progress as the campaign's page has it (`selectors.target_progress`: entered by hand, or live)
  and the share of the goal reached. A campaign's targets are the city's plan and their live
  figures city-wide: every user gets the same rows, so this ledger has no unit or organization
  filter.
- participation (`campaign_participation`): the framework declares a ledger's columns once, and
  a campaign has a variable number of targets and of participating units, so the campaign's
  figures are two ledgers rather than one sheet of both. This one is one row per campaign and
  unit: the organizations taking part (those that filed, and those whose tagged theme day
  counts without a filing, as `selectors.participation_totals` counts them), the members, money
  and goods value filed, exact (summed in whole fen, `config.money`), within the user's scope
  (`selectors.visible_participations`) and the unit or organization chosen. A joint committee's
  filing is counted under its host unit, as `participation_totals` counts it; the unit filter
  takes it in for each unit it spans (`Organization.objects.of_unit`).

Filters: a campaign (`CampaignFilter`) and an inspection group (`InspectionGroupFilter`), both
offered whole (campaigns and groups are the committee's public plan; the rows stay those of the
user's scope), the problem's state and the campaign's kind (`ChoicesFilter`), a unit and an
organization (the framework's, through `Ledger.organizations()`), and a period. What a period
means: problems found in it; targets and participation of the campaigns running at some time in
it (started by its last day and not ended before its first).

Queries, whatever the number of rows: the problem ledger one (the last answer, the sent-back
count and the acceptance are subqueries); the participation ledger three (the filings grouped by
campaign and unit, their goods grouped the same way, the tagged theme days without a filing);
an inspector's scope adds one to each (two to the participation ledger: filings and tagged
records), as `branches.selectors.within_scope` reads its ids first. The target ledger reads the
campaigns and their targets in two, plus, for each campaign with targets counted live, the one
query per live source that `selectors.live_counts` makes (none for targets entered by hand).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from branches.selectors import SubqueryCount, within_scope
from config.money import fen_sum, yuan
from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    MONEY,
    PERCENT,
    ChoicesFilter,
    Column,
    Computed,
    Label,
    Ledger,
    LedgerFilter,
    OrganizationFilter,
    PeriodFilter,
    Row,
    UnitFilter,
    Value,
    register,
)

from . import rules
from .models import (
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    Severity,
    Target,
    TargetSource,
)
from .selectors import target_progress, visible_participations, visible_problems

if TYPE_CHECKING:
    from accounts.models import User


# -- filters ----------------------------------------------------------------------------------


class CampaignFilter(LedgerFilter):
    """A campaign. Every campaign is offered (the committee's plan is public); the rows stay
    those of the user's scope."""

    name = "campaign"
    label = _("Campaign")
    api_type = "integer"
    api_help = "The id of a campaign."

    def form_field(self, user: User | None) -> forms.Field:
        return forms.ModelChoiceField(
            label=self.label,
            queryset=Campaign.objects.order_by("-starts_on", "name"),
            required=self.required,
            empty_label=_("All campaigns"),
        )

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Campaign: %(name)s") % {"name": value.name}

    def filename_part(self, value: Any) -> str:
        return f"campaign{value.pk}"


class InspectionGroupFilter(LedgerFilter):
    """An inspection group (督导组), named with its campaign. Every group is offered, like the
    campaigns; the rows stay those of the user's scope."""

    name = "inspection_group"
    label = _("Inspection group")
    api_type = "integer"
    api_help = "The id of an inspection group."

    def form_field(self, user: User | None) -> forms.Field:
        field = forms.ModelChoiceField(
            label=self.label,
            queryset=InspectionGroup.objects.select_related("campaign").order_by(
                "-campaign__starts_on", "campaign__name", "pk"
            ),
            required=self.required,
            empty_label=_("All inspection groups"),
        )
        field.label_from_instance = lambda g: f"{g.campaign.name} {g.name}"
        return field

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Inspection group: %(name)s") % {
            "name": f"{value.campaign.name} {value.name}"
        }

    def filename_part(self, value: Any) -> str:
        return f"group{value.pk}"


def state_filter() -> ChoicesFilter:
    return ChoicesFilter("state", _("Problem state"), ProblemState, empty_label=_("Every state"))


def campaign_kind_filter() -> ChoicesFilter:
    return ChoicesFilter(
        "campaign_kind", _("Campaign kind"), CampaignKind, empty_label=_("Every kind of campaign")
    )


# -- what the ledgers share -------------------------------------------------------------------


class CampaignLedgerBase(Ledger):
    """The campaigns chosen: by campaign, kind and period (running at some time in it)."""

    def campaigns(self) -> QuerySet[Campaign]:
        params = self.params
        campaigns = Campaign.objects.all()
        if params.get("campaign") is not None:
            campaigns = campaigns.filter(pk=params["campaign"].pk)
        if params.get("campaign_kind") is not None:
            campaigns = campaigns.filter(kind=params["campaign_kind"])
        if (period := params.get("period")) is not None:
            campaigns = campaigns.filter(starts_on__lte=period.end, ends_on__gte=period.start)
        return campaigns.order_by("-starts_on", "name", "pk")

    def narrowed(self) -> bool:
        return self.params.get("unit") is not None or self.params.get("organization") is not None


def _local_date(path: str) -> Computed:
    """The day (Asia/Shanghai) of a moment the row holds under `path`."""
    return Computed(
        lambda row: None if row[path] is None else timezone.localtime(row[path]).date(), path
    )


class OverdueNow(Value):
    """Past its deadline and not accepted, today (`rules.is_overdue`, today read once)."""

    fields = ("state", "deadline")

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        today = timezone.localdate()
        return lambda row: rules.is_overdue(row["state"], row["deadline"], today)


# -- 问题整改台账 ---------------------------------------------------------------------------------


def _events(to_state: str) -> QuerySet[ProblemEvent]:
    return ProblemEvent.objects.filter(problem=OuterRef("pk"), to_state=to_state)


@register
class ProblemLedger(CampaignLedgerBase):
    """Every problem in scope with its rectification, by unit and organization."""

    code = "problems"
    title = _("Problem and rectification ledger")
    description = _(
        "Every problem found by an inspection group or in an annual report: the responsible "
        "organization, the deadline, the state of its rectification, when it became overdue, "
        "the last answer, how many times it was sent back and when it was accepted."
    )
    filters = [
        CampaignFilter(),
        InspectionGroupFilter(),
        state_filter(),
        UnitFilter(),
        OrganizationFilter(),
        PeriodFilter(),
    ]
    columns = [
        Column(_("Campaign"), "group__campaign__name", 24),
        Column(_("Inspection group"), "group__name", 14),
        Column(_("Annual report year"), "annual_report__year", 8, INT),
        Column(_("Unit"), "organization__unit__name", 24),
        Column(_("Responsible organization"), "organization__name", 26),
        Column(_("Organization code"), "organization__code", 12),
        Column(_("Problem category"), "category", 14),
        Column(_("Problem"), "description", 40),
        Column(_("Severity"), Label("severity", Severity), 8),
        Column(_("Found on"), "found_on", 12, DATE),
        Column(_("Rectify by"), "deadline", 12, DATE),
        Column(_("Problem state"), Label("state", ProblemState), 12),
        Column(_("Overdue now"), OverdueNow(), 8, BOOL),
        Column(_("Overdue since"), "overdue_since", 12, DATE),
        Column(_("Measures taken (last answer)"), "last_measures", 40),
        Column(_("Last answered at"), "last_answered_at", 16, DATETIME),
        Column(_("Times sent back"), "sent_back_count", 8, INT),
        Column(_("Accepted on"), _local_date("accepted_at"), 12, DATE),
    ]

    def queryset(self) -> QuerySet[Problem]:
        params = self.params
        problems = visible_problems(self.user)
        if not access.sees_whole_city(self.user):
            # An inspector's are their scope's or their groups' (a join that repeats rows):
            # read as ids, each problem once.
            problems = Problem.objects.filter(pk__in=problems.values("pk"))
        if params["campaign"] is not None:
            problems = problems.filter(group__campaign=params["campaign"])
        if params["inspection_group"] is not None:
            problems = problems.filter(group=params["inspection_group"])
        if params["state"] is not None:
            problems = problems.filter(state=params["state"])
        if (period := params["period"]) is not None:
            problems = problems.filter(found_on__gte=period.start, found_on__lte=period.end)
        if self.narrowed():
            problems = problems.filter(organization__in=self.organizations().values("pk"))
        return problems.order_by(
            "organization__unit__sort_order",
            "organization__unit_id",
            "organization__path",
            "deadline",
            "pk",
        )

    def annotate(self, queryset: QuerySet) -> QuerySet:
        last = Rectification.objects.filter(problem=OuterRef("pk")).order_by("-submitted_at", "-pk")
        accepted = _events(ProblemState.ACCEPTED).order_by("-at", "-pk")
        return queryset.annotate(
            last_measures=Subquery(last.values("measures")[:1]),
            last_answered_at=Subquery(
                last.values("submitted_at")[:1], output_field=DateTimeField()
            ),
            sent_back_count=SubqueryCount(_events(ProblemState.SENT_BACK).values("pk")),
            accepted_at=Subquery(accepted.values("at")[:1], output_field=DateTimeField()),
        )


# -- 专项活动目标台账 -----------------------------------------------------------------------------


def _share(row: Row) -> float | None:
    goal = row["goal"]
    return float(row["progress"] / goal) if goal else None


@register
class TargetLedger(CampaignLedgerBase):
    """Every target of the campaigns chosen, with its progress and share of the goal."""

    code = "campaign_targets"
    title = _("Campaign target ledger")
    description = _(
        "Every target of a campaign: the indicator and its goal, where its progress is counted "
        "from, the progress so far (live from the portal's data, or entered by hand) and the "
        "share of the goal reached. The same city-wide figures for every user."
    )
    filters = [CampaignFilter(), campaign_kind_filter(), PeriodFilter()]
    columns = [
        Column(_("Campaign"), "campaign_name", 28),
        Column(_("Campaign kind"), Label("campaign_kind", CampaignKind), 12),
        Column(_("Starts on"), "starts_on", 12, DATE),
        Column(_("Ends on"), "ends_on", 12, DATE),
        Column(_("Led by"), "owner", 14),
        Column(_("Indicator"), "indicator", 28),
        Column(_("Unit of measure"), "unit_of_measure", 8),
        Column(_("Goal"), "goal", 10, DECIMAL),
        Column(_("Progress counted from"), Label("source", TargetSource), 20),
        Column(_("Progress"), "progress", 10, DECIMAL),
        Column(_("Share of the goal"), Computed(_share), 10, PERCENT),
    ]

    def queryset(self) -> QuerySet[Target]:
        return Target.objects.filter(campaign__in=self.campaigns().values("pk")).order_by(
            "campaign__starts_on", "campaign__name", "campaign_id", "sort_order", "pk"
        )

    def rows(self) -> Iterable[Row]:
        campaigns = self.campaigns().prefetch_related(
            Prefetch("targets", queryset=Target.objects.order_by("sort_order", "pk"))
        )
        for campaign in campaigns:
            for line in target_progress(campaign):
                target = line.target
                yield {
                    "campaign_name": campaign.name,
                    "campaign_kind": campaign.kind,
                    "starts_on": campaign.starts_on,
                    "ends_on": campaign.ends_on,
                    "owner": campaign.owner,
                    "indicator": target.indicator,
                    "unit_of_measure": target.unit_of_measure,
                    "goal": target.goal,
                    "source": target.source,
                    "progress": line.progress,
                }


# -- 专项活动参与台账 -----------------------------------------------------------------------------


@register
class ParticipationLedger(CampaignLedgerBase):
    """Participation in the campaigns chosen, by campaign and unit, within the scope."""

    code = "campaign_participation"
    title = _("Campaign participation ledger")
    description = _(
        "For each campaign, by unit: the organizations taking part (by a filing, or by a theme "
        "day tagged with the campaign), the members taking part, and the money and the value "
        "of the goods given."
    )
    filters = [
        CampaignFilter(),
        campaign_kind_filter(),
        UnitFilter(),
        OrganizationFilter(),
        PeriodFilter(),
    ]
    columns = [
        Column(_("Campaign"), "campaign_name", 28),
        Column(_("Campaign kind"), Label("campaign_kind", CampaignKind), 12),
        Column(_("Starts on"), "starts_on", 12, DATE),
        Column(_("Ends on"), "ends_on", 12, DATE),
        Column(_("Unit"), "unit_name", 24),
        Column(_("Organizations taking part"), "organizations", 10, INT),
        Column(_("Of which by a tagged theme day"), "tagged", 10, INT),
        Column(_("Members taking part"), "members", 10, INT),
        Column(_("Money (yuan)"), "money", 14, MONEY),
        Column(_("Goods value (yuan)"), "goods_value", 14, MONEY),
    ]

    CAMPAIGN = ("campaign_id", "campaign__name", "campaign__kind", "campaign__starts_on",
                "campaign__ends_on")  # fmt: skip

    def queryset(self) -> QuerySet[Participation]:
        """The filings in scope (the lines are counted by `count()`)."""
        filed = visible_participations(self.user).filter(campaign__in=self.campaigns().values("pk"))
        if self.narrowed():
            filed = filed.filter(organization__in=self.organizations().values("pk"))
        return filed

    def tagged(self) -> QuerySet[CampaignActivity]:
        """Theme days tagged with a campaign chosen, in scope, whose organization did not file
        (it takes part through them, once however many it tagged)."""
        tags = within_scope(
            CampaignActivity.objects.filter(campaign__in=self.campaigns().values("pk")),
            self.user,
            "record__organization",
        )
        if self.narrowed():
            tags = tags.filter(record__organization__in=self.organizations().values("pk"))
        filing = Participation.objects.filter(
            campaign=OuterRef("campaign"), organization=OuterRef("record__organization")
        )
        return tags.exclude(Exists(filing))

    @cached_property
    def lines(self) -> list[dict[str, Any]]:
        """One line per campaign and unit, sorted by campaign (newest first) and unit."""
        found: dict[tuple[int, int], dict[str, Any]] = {}

        def line(row: dict[str, Any], unit: str) -> dict[str, Any]:
            key = (row["campaign_id"], row[f"{unit}_id"])
            if key not in found:
                found[key] = {
                    "campaign_name": row["campaign__name"],
                    "campaign_kind": row["campaign__kind"],
                    "starts_on": row["campaign__starts_on"],
                    "ends_on": row["campaign__ends_on"],
                    "unit_name": row[f"{unit}__name"],
                    "unit_order": (row[f"{unit}__sort_order"], row[f"{unit}_id"]),
                    "organizations": 0,
                    "tagged": 0,
                    "members": 0,
                    "money_fen": 0,
                    "goods_fen": 0,
                }
            return found[key]

        unit = "organization__unit"
        filed = self.queryset()
        for row in (
            filed.order_by()
            .values(*self.CAMPAIGN, f"{unit}_id", f"{unit}__name", f"{unit}__sort_order")
            .annotate(n=Count("pk"), member_sum=Sum("members"), money_fen=fen_sum("money"))
        ):
            into = line(row, unit)
            into["organizations"] += row["n"]
            into["members"] += row["member_sum"] or 0
            into["money_fen"] += row["money_fen"] or 0
        for row in (
            ParticipationGoods.objects.filter(participation__in=filed.values("pk"))
            .order_by()
            .values("participation__campaign_id", f"participation__{unit}_id")
            .annotate(value_fen=fen_sum("value"))
        ):
            key = (row["participation__campaign_id"], row[f"participation__{unit}_id"])
            found[key]["goods_fen"] += row["value_fen"] or 0
        tagged_unit = "record__organization__unit"
        for row in (
            self.tagged()
            .order_by()
            .values(
                *self.CAMPAIGN,
                "record__organization_id",
                f"{tagged_unit}_id",
                f"{tagged_unit}__name",
                f"{tagged_unit}__sort_order",
            )
            .distinct()
        ):
            into = line(row, tagged_unit)
            into["organizations"] += 1
            into["tagged"] += 1
        lines = sorted(
            found.values(),
            key=lambda x: (-x["starts_on"].toordinal(), x["campaign_name"], x["unit_order"]),
        )
        for x in lines:
            x["money"] = yuan(x.pop("money_fen"))
            x["goods_value"] = yuan(x.pop("goods_fen"))
        return lines

    def count(self) -> int:
        return len(self.lines)

    def rows(self) -> Iterable[Row]:
        return iter(self.lines)
