"""FilterSets of the campaigns API: campaigns, participation, tagged theme days, problems,
annual reports, inspection groups and their visits, key tasks.

Like `branches.filters`, they only narrow a query set that is already scoped (the viewsets'
`scoped_queryset`), never widen it: foreign keys are filtered by plain ids written in digits
only (an id outside the scope matches nothing, it is not a 400 that would confirm it exists).
"Belongs to a unit" is `Organization.objects.of_unit`, "and everything under it" `subtree_of`.
A yes/no filter sent empty (`?overdue=`) is refused (`ExplicitChoiceForm`).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from branches.filters import PERIOD_PATTERN, ExplicitChoiceForm, IdFilter, PeriodField
from branches.models import Organization
from branches.periods import Period
from evaluations.filters import YearFilter
from pairings.filters import DatePeriodFilter

from .models import (
    AnnualReport,
    Assessment,
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    Problem,
    ProblemState,
    Severity,
    VisitLog,
    VisitMethod,
)

PERIOD_HELP = _("2026-03 (month), 2026-Q1 (quarter) or 2026 (year).")


def _campaign_filter(field_name: str = "campaign") -> IdFilter:
    return IdFilter(field_name=field_name, label=_("Campaign id"))


def _unit_filter() -> IdFilter:
    return IdFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: its organizations (joint committees included)."),
    )


def _organization_filter() -> IdFilter:
    return IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: it and everything under it."),
    )


class OnOrganizationFilterMixin:
    """`unit` and `organization` of rows that hang on an organization (`organization_path`)."""

    organization_path = "organization"

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        organizations = Organization.objects.of_unit(value).values("pk")
        return queryset.filter(**{f"{self.organization_path}__in": organizations})

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        organizations = Organization.objects.subtree_of(value).values("pk")
        return queryset.filter(**{f"{self.organization_path}__in": organizations})


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-Q1"})
class OverlappingPeriodFilter(filters.Filter):
    """Campaigns running at some time within a month, a quarter or a year."""

    field_class = PeriodField

    def filter(self, qs: QuerySet, value: Period | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(starts_on__lte=value.end, ends_on__gte=value.start)


class CampaignFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=CampaignKind.choices, label=_("Campaign kind"))
    period = OverlappingPeriodFilter(
        label=_("Period"),
        help_text=_("Campaigns running within 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."),
    )
    current = filters.BooleanFilter(
        method="filter_current",
        label=_("Running today"),
        help_text=_("true: campaigns running today; false: the others."),
    )

    class Meta:
        model = Campaign
        form = ExplicitChoiceForm
        fields = ["kind", "period", "current"]

    def filter_current(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        today = timezone.localdate()
        running = Q(starts_on__lte=today, ends_on__gte=today)
        return queryset.filter(running) if value else queryset.exclude(running)


class ParticipationFilter(OnOrganizationFilterMixin, filters.FilterSet):
    campaign = _campaign_filter()
    unit = _unit_filter()
    organization = _organization_filter()

    class Meta:
        model = Participation
        fields = ["campaign", "unit", "organization"]


class CampaignActivityFilter(OnOrganizationFilterMixin, filters.FilterSet):
    organization_path = "record__organization"

    campaign = _campaign_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    period = DatePeriodFilter(field_name="record__date", label=_("Period"), help_text=PERIOD_HELP)

    class Meta:
        model = CampaignActivity
        fields = ["campaign", "unit", "organization", "period"]


class ProblemFilter(OnOrganizationFilterMixin, filters.FilterSet):
    campaign = _campaign_filter("group__campaign")
    group = IdFilter(field_name="group", label=_("Inspection group id"))
    annual_report = IdFilter(field_name="annual_report", label=_("Annual report id"))
    unit = _unit_filter()
    organization = _organization_filter()
    state = filters.ChoiceFilter(choices=ProblemState.choices, label=_("State"))
    severity = filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    period = DatePeriodFilter(
        field_name="found_on",
        label=_("Found in"),
        help_text=_("Problems found in 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."),
    )
    overdue = filters.BooleanFilter(
        method="filter_overdue",
        label=_("Overdue"),
        help_text=_("true: past the deadline and not accepted (as of today); false: the others."),
    )

    class Meta:
        model = Problem
        form = ExplicitChoiceForm
        fields = [
            "campaign",
            "group",
            "annual_report",
            "unit",
            "organization",
            "state",
            "severity",
            "period",
            "overdue",
        ]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # rules.is_overdue, as a condition: not accepted and past the deadline (Shanghai days).
        overdue = ~Q(state=ProblemState.ACCEPTED) & Q(deadline__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class AnnualReportFilter(OnOrganizationFilterMixin, filters.FilterSet):
    year = YearFilter(field_name="year", label=_("Year"))
    unit = _unit_filter()
    organization = _organization_filter()
    assessment = filters.ChoiceFilter(choices=Assessment.choices, label=_("Assessment"))
    assessed = filters.BooleanFilter(
        method="filter_assessed",
        label=_("Assessed"),
        help_text=_("true: assessed by the committee; false: not yet."),
    )

    class Meta:
        model = AnnualReport
        form = ExplicitChoiceForm
        fields = ["year", "unit", "organization", "assessment", "assessed"]

    def filter_assessed(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.exclude(assessment="") if value else queryset.filter(assessment="")


class InspectionGroupFilter(filters.FilterSet):
    campaign = _campaign_filter()
    unit = IdFilter(
        field_name="units", label=_("Unit"), help_text=_("Unit id: groups visiting it.")
    )

    class Meta:
        model = InspectionGroup
        fields = ["campaign", "unit"]


class VisitLogFilter(filters.FilterSet):
    campaign = _campaign_filter("group__campaign")
    group = IdFilter(field_name="group", label=_("Inspection group id"))
    method = filters.ChoiceFilter(choices=VisitMethod.choices, label=_("Method"))
    period = DatePeriodFilter(field_name="date", label=_("Period"), help_text=PERIOD_HELP)

    class Meta:
        model = VisitLog
        fields = ["campaign", "group", "method", "period"]


class KeyTaskFilter(filters.FilterSet):
    campaign = _campaign_filter()
    unit = IdFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: tasks with a measure owned by one of its organizations."),
    )
    organization = IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: tasks with a measure owned by it or one under it."),
    )

    class Meta:
        model = KeyTask
        fields = ["campaign", "unit", "organization"]

    @staticmethod
    def _with_measures_of(queryset: QuerySet, organizations: QuerySet) -> QuerySet:
        measures = KeyMeasure.objects.filter(organization__in=organizations.values("pk"))
        return queryset.filter(pk__in=measures.values("task"))

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return self._with_measures_of(queryset, Organization.objects.of_unit(value))

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return self._with_measures_of(queryset, Organization.objects.subtree_of(value))
