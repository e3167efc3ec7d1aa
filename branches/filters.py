"""FilterSets for organizations, members and activity records, shared by the API and the portal.

They only narrow a query set that is already scoped (`branches.selectors`); they never widen it.
Foreign keys are filtered by plain ids (not ModelChoiceFilter): a ModelChoiceFilter validates the
id against every row of the table, so "400 invalid choice" versus "200 empty" would tell an
outsider which ids exist outside their scope, and it costs a query per parameter.
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import ActivityRecord, Member, Organization, years_ago
from .periods import Period


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A foreign key's id, typed as an integer in the OpenAPI schema.

    Method-based filters get their schema type from the method's `value` type hint instead.
    """


def _path_of(pk: int) -> Subquery:
    return Subquery(Organization.objects.filter(pk=pk).values("path")[:1])


class OrganizationFilter(filters.FilterSet):
    unit = IdFilter(field_name="unit", label=_("Unit id"))
    parent = IdFilter(field_name="parent", label=_("Parent organization id"))
    within = filters.NumberFilter(
        method="filter_within",
        label=_("Within organization"),
        help_text=_("Organization id: that organization and everything under it."),
    )
    code = filters.CharFilter(field_name="code", lookup_expr="iexact", label=_("Code"))

    class Meta:
        model = Organization
        fields = ["unit", "kind", "host_type", "parent", "code", "within"]

    def filter_within(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(path__startswith=_path_of(value))


class MemberFilter(filters.FilterSet):
    unit = IdFilter(field_name="branch__unit", label=_("Unit id"))
    branch = IdFilter(field_name="branch", label=_("Branch id"))
    group = IdFilter(field_name="group", label=_("Group id"))
    organization = filters.NumberFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: members of it and of everything under it."),
    )
    youth = filters.BooleanFilter(
        method="filter_youth",
        label=_("Youth"),
        help_text=_("true: members aged 35 or under; false: the others."),
    )

    class Meta:
        model = Member
        fields = [
            "unit",
            "branch",
            "group",
            "organization",
            "status",
            "sex",
            "education",
            "duty",
            "youth",
        ]

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        # A branch (or anything above it) counts its branches' members; a group its own.
        # One SQL statement: the organization's path is a subquery, not a separate lookup.
        return queryset.filter(Q(branch__path__startswith=_path_of(value)) | Q(group=value))

    def filter_youth(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        # Same rule as MemberQuerySet.youth(): born after the day YOUTH_MAX_AGE + 1 years ago.
        born_after = years_ago(timezone.localdate(), settings.YOUTH_MAX_AGE + 1)
        if value:
            return queryset.filter(birth_date__gt=born_after)
        return queryset.filter(birth_date__lte=born_after)


class MemberSearchFilter(MemberFilter):
    """The portal's member search: the API filters plus a free-text `q` (name or number)."""

    q = filters.CharFilter(method="filter_q", label=_("Name or member number"))

    class Meta(MemberFilter.Meta):
        fields = [*MemberFilter.Meta.fields, "q"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(member_no__iexact=value))


# --- Activity records and compliance -----------------------------------------------------------


def _organizations_of_unit(unit_id: int) -> QuerySet:
    """Ids of the unit's organizations, a joint committee under each unit it spans (a subquery:
    an OR over the many-to-many join would repeat rows)."""
    return Organization.objects.filter(Q(unit=unit_id) | Q(joint_units=unit_id)).values("pk")


class MonthField(forms.DateField):
    """'2026-03' (what <input type="month"> sends) as the first day of that month."""

    input_formats = ["%Y-%m"]


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})
class MonthFilter(filters.DateFilter):
    field_class = MonthField

    def filter(self, qs: QuerySet, value: datetime.date | None) -> QuerySet:
        if value is None:
            return qs
        period = Period.month(value.year, value.month)
        return qs.filter(
            **{f"{self.field_name}__gte": period.start, f"{self.field_name}__lte": period.end}
        )


class ActivityRecordFilter(filters.FilterSet):
    organization = filters.NumberFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: records of it and of everything under it."),
    )
    unit = filters.NumberFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: records of its organizations (joint committees included)."),
    )
    type = filters.CharFilter(
        method="filter_type",
        label=_("Activity type"),
        help_text=_("Activity type id or code (e.g. theme_day)."),
    )
    date = filters.DateFromToRangeFilter(
        label=_("Date"), help_text=_("date_after / date_before: first and last day, inclusive.")
    )
    month = MonthFilter(field_name="date", label=_("Month"), help_text=_("e.g. 2026-03"))
    counts_for_compliance = filters.BooleanFilter(label=_("Counts for compliance"))

    class Meta:
        model = ActivityRecord
        fields = ["organization", "unit", "type", "date", "month", "counts_for_compliance"]

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__path__startswith=_path_of(value))

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__in=_organizations_of_unit(value))

    def filter_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isdigit():
            return queryset.filter(activity_type_id=int(value))
        return queryset.filter(activity_type__code=value)


class PeriodField(forms.CharField):
    """A reporting period: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."""

    def to_python(self, value) -> Period | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return Period.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc


@extend_schema_field(
    {"type": "string", "pattern": r"^\d{4}(-(\d{1,2}|[Qq][1-4]))?$", "example": "2026-Q1"}
)
class PeriodFilter(filters.Filter):
    """Validated here; it does not narrow the organizations (the view computes that period)."""

    field_class = PeriodField

    def filter(self, qs: QuerySet, value) -> QuerySet:
        return qs


class ComplianceFilter(filters.FilterSet):
    period = PeriodFilter(
        required=True,
        label=_("Period"),
        help_text=_("2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."),
    )
    organization = filters.NumberFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: it and everything under it."),
    )
    unit = filters.NumberFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: its organizations (a joint committee under each of its units)."),
    )

    class Meta:
        model = Organization
        fields = ["period", "organization", "unit", "kind"]

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(path__startswith=_path_of(value))

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(pk__in=_organizations_of_unit(value))
