"""FilterSets of the pairings API: partners, pairings and what is recorded on them.

Like `branches.filters`, they only narrow a query set that is already scoped
(`pairings.selectors`), never widen it; foreign keys are filtered by plain ids (an id outside
the scope matches nothing, it is not a 400 that would confirm it exists). "Belongs to a unit"
is `Organization.objects.of_unit`, "and everything under it" `subtree_of`. Dates combine: a
period and a first and a last day narrow each other (no match is an empty list, not a 400).
"""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from branches.filters import PERIOD_PATTERN, ExplicitChoiceForm, IdFilter, PeriodField
from branches.models import Organization
from branches.periods import Period

from .models import HelpRecord, Measure, MemberPair, Need, Pairing, PartnerOrganization, Project

MAX_ID = 2**63 - 1


def scheme_condition(value: str, prefix: str = "") -> Q | None:
    """A scheme given by id or by code (e.g. one_plus_one); None: no scheme can match."""
    value = value.strip()
    if value.isascii() and value.isdecimal():
        if int(value) > MAX_ID:
            return None
        return Q(**{f"{prefix}scheme_id": int(value)})
    return Q(**{f"{prefix}scheme__code": value})


def _by_scheme(queryset: QuerySet, value: str, prefix: str) -> QuerySet:
    if not value.strip():
        return queryset
    condition = scheme_condition(value, prefix)
    return queryset.none() if condition is None else queryset.filter(condition)


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-Q1"})
class DatePeriodFilter(filters.Filter):
    """A month (2026-03), a quarter (2026-Q1) or a year (2026): the rows dated within it."""

    field_class = PeriodField

    def filter(self, qs: QuerySet, value: Period | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(
            **{f"{self.field_name}__gte": value.start, f"{self.field_name}__lte": value.end}
        )


def _scheme_filter() -> filters.CharFilter:
    return filters.CharFilter(
        method="filter_scheme",
        label=_("Scheme"),
        help_text=_("Scheme id or code (e.g. one_plus_one)."),
    )


def _unit_filter() -> IdFilter:
    return IdFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: the pairings of its organizations (joint committees included)."),
    )


def _organization_filter() -> IdFilter:
    return IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: the pairings of it and of everything under it."),
    )


class OnPairingFilterMixin:
    """scheme, unit and organization of rows that hang on a pairing (`pairing_path`)."""

    pairing_path = "pairing__"

    def filter_scheme(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _by_scheme(queryset, value, self.pairing_path)

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(
            **{
                f"{self.pairing_path}organization__in": Organization.objects.of_unit(value).values(
                    "pk"
                )
            }
        )

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(
            **{
                f"{self.pairing_path}organization__in": Organization.objects.subtree_of(
                    value
                ).values("pk")
            }
        )


class PartnerFilter(filters.FilterSet):
    town = filters.CharFilter(field_name="town", label=_("Town or subdistrict"))
    district = filters.CharFilter(field_name="district", label=_("District or county"))

    class Meta:
        model = PartnerOrganization
        fields = ["kind", "town", "district"]


class PairingFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing_path = ""

    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    partner = IdFilter(field_name="partner", label=_("Partner id"))
    town = filters.CharFilter(
        field_name="partner__town",
        label=_("Town or subdistrict"),
        help_text=_("The partner's town or subdistrict."),
    )
    flagged = filters.BooleanFilter(
        method="filter_flagged",
        label=_("Flagged"),
        help_text=_("true: made against the scheme's rule (with a reason); false: the others."),
    )

    class Meta:
        model = Pairing
        form = ExplicitChoiceForm
        fields = ["scheme", "unit", "organization", "partner", "status", "town", "flagged"]

    def filter_flagged(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return (
            queryset.exclude(override_reason="") if value else queryset.filter(override_reason="")
        )


class HelpRecordFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing = IdFilter(field_name="pairing", label=_("Pairing id"))
    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    date_from = filters.DateFilter(
        field_name="date", lookup_expr="gte", label=_("From"), help_text=_("First day, inclusive.")
    )
    date_to = filters.DateFilter(
        field_name="date", lookup_expr="lte", label=_("To"), help_text=_("Last day, inclusive.")
    )
    period = DatePeriodFilter(
        field_name="date",
        label=_("Period"),
        help_text=_("2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."),
    )

    class Meta:
        model = HelpRecord
        fields = [
            "pairing",
            "scheme",
            "unit",
            "organization",
            "kind",
            "date_from",
            "date_to",
            "period",
        ]


class NeedFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing = IdFilter(field_name="pairing", label=_("Pairing id"))
    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    open = filters.BooleanFilter(
        method="filter_open",
        label=_("Open"),
        help_text=_("true: needs not met yet; false: those met."),
    )

    class Meta:
        model = Need
        form = ExplicitChoiceForm
        fields = ["pairing", "scheme", "unit", "organization", "open"]

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(met_on__isnull=value)


class MeasureFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing_path = "need__pairing__"

    need = IdFilter(field_name="need", label=_("Need id"))
    pairing = IdFilter(field_name="need__pairing", label=_("Pairing id"))
    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()

    class Meta:
        model = Measure
        fields = ["need", "pairing", "scheme", "unit", "organization"]


class ProjectFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing = IdFilter(field_name="pairing", label=_("Pairing id"))
    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    due_from = filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due from"))
    due_to = filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due by"))

    class Meta:
        model = Project
        fields = ["pairing", "scheme", "unit", "organization", "status", "due_from", "due_to"]


class MemberPairFilter(OnPairingFilterMixin, filters.FilterSet):
    pairing = IdFilter(field_name="pairing", label=_("Pairing id"))
    member = IdFilter(field_name="member", label=_("Member id"))
    scheme = _scheme_filter()
    unit = _unit_filter()
    organization = _organization_filter()

    class Meta:
        model = MemberPair
        fields = ["pairing", "member", "scheme", "unit", "organization", "counterpart_kind"]


def narrowed_dates(
    start: datetime.date | None, end: datetime.date | None, year: int | None
) -> tuple[datetime.date | None, datetime.date | None]:
    """A year and a first and last day, together: the days in all of them."""
    if year is not None:
        period = Period.year(year)
        start = max(start, period.start) if start else period.start
        end = min(end, period.end) if end else period.end
    return start, end
