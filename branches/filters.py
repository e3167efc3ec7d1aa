"""FilterSets for organizations, members and activity records, shared by the API and the portal.

They only narrow a query set that is already scoped (`branches.selectors`); they never widen it.
Foreign keys are filtered by plain ids (not ModelChoiceFilter): a ModelChoiceFilter validates the
id against every row of the table, so "400 invalid choice" versus "200 empty" would tell an
outsider which ids exist outside their scope, and it costs a query per parameter.
"""

from __future__ import annotations

import datetime
import re

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from .models import ActivityRecord, AgeBand, Member, Organization, fifty_years_condition
from .periods import FIRST_YEAR, LAST_YEAR, YEAR_PATTERN, Period

MAX_ID = 2**63 - 1  # the largest id a database integer (bigint) holds


class IdField(forms.IntegerField):
    """A whole number from 1 to MAX_ID: `?unit=0.5` is a 400, and so is an id too large for
    the database to compare (SQLite raised OverflowError, a 500)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_python(self, value):
        # Django's IntegerField reads "5.0" as 5; an id is written in digits only (the schema
        # says integer, and the schema fuzz sends "9631000811581792.0").
        if isinstance(value, str) and value.strip() and not value.strip().isdigit():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(filters.NumberFilter):
    """A row's id, an integer in the OpenAPI schema (method-based filters too: this annotation
    comes before the method's type hint)."""

    field_class = IdField

    def get_max_validator(self):
        return None  # IdField's own bounds


class OrganizationFilter(filters.FilterSet):
    unit = IdFilter(
        method="filter_unit",
        label=_("Unit id"),
        help_text=_("Unit id: its organizations (a joint committee under each of its units)."),
    )
    parent = IdFilter(field_name="parent", label=_("Parent organization id"))
    within = IdFilter(
        method="filter_within",
        label=_("Within organization"),
        help_text=_("Organization id: that organization and everything under it."),
    )
    code = filters.CharFilter(field_name="code", lookup_expr="iexact", label=_("Code"))

    class Meta:
        model = Organization
        fields = ["unit", "kind", "host_type", "parent", "code", "within"]

    def filter_within(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.subtree_of(value)

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.of_unit(value)


class ExplicitChoiceForm(forms.Form):
    """A yes/no filter sent with no value is refused, not read as "no filter": a client that
    asked for `?youth=` meant something, and all the members is not it."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            sent = name in self.data
            if isinstance(field, forms.NullBooleanField) and sent and cleaned.get(name) is None:
                self.add_error(name, gettext("Choose true or false."))
        return cleaned


class MemberFilter(filters.FilterSet):
    unit = IdFilter(
        method="filter_unit",
        label=_("Unit id"),
        help_text=_("Unit id: members of the branches that belong to it."),
    )
    branch = IdFilter(field_name="branch", label=_("Branch id"))
    group = IdFilter(field_name="group", label=_("Group id"))
    organization = IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: members of it and of everything under it."),
    )
    youth = filters.BooleanFilter(
        method="filter_youth",
        label=_("Youth"),
        help_text=_("true: members aged 35 or under; false: the others."),
    )
    age = filters.ChoiceFilter(
        method="filter_age",
        choices=AgeBand.choices,
        label=_("Age band"),
        help_text=_("35, 36-45, 46-55, 56-60 or 61 (over 60): members of that age today."),
    )
    fifty_years = filters.BooleanFilter(
        method="filter_fifty_years",
        label=_("50 years in the party"),
        help_text=_("true: members who joined the party 50 years ago or more."),
    )

    class Meta:
        model = Member
        form = ExplicitChoiceForm
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
            "age",
            "fifty_years",
        ]

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.of_unit(value)

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.under(value)

    def filter_youth(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.youth() if value else queryset.not_youth()

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.aged(value) if value else queryset

    def filter_fifty_years(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value:
            return queryset.fifty_years_in_party()
        return queryset.exclude(fifty_years_condition())


class MemberSearchFilter(MemberFilter):
    """The portal's member search: the API filters plus a free-text `q` (name or number)."""

    q = filters.CharFilter(method="filter_q", label=_("Name or member number"))

    class Meta(MemberFilter.Meta):
        form = forms.Form  # the page's select sends "" for "any"
        fields = [*MemberFilter.Meta.fields, "q"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(member_no__iexact=value))


# --- Activity records and compliance -----------------------------------------------------------


MONTH_PATTERN = rf"^{YEAR_PATTERN}-(0[1-9]|1[0-2])$"
PERIOD_PATTERN = rf"^{YEAR_PATTERN}(-(0?[1-9]|1[0-2]|[Qq][1-4]))?$"


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise forms.ValidationError(
            gettext("Use a year from %(first)d to %(last)d.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
            code="year",
        )


class MonthField(forms.DateField):
    """'2026-03' (what <input type="month"> sends) as the first day of that month."""

    input_formats = ["%Y-%m"]

    def to_python(self, value) -> datetime.date | None:
        day = super().to_python(value)
        if day is not None:
            check_year(day.year)
        return day


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-03"})
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
    organization = IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: records of it and of everything under it."),
    )
    unit = IdFilter(
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
        form = ExplicitChoiceForm
        fields = ["organization", "unit", "type", "date", "month", "counts_for_compliance"]

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__in=Organization.objects.subtree_of(value).values("pk"))

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__in=Organization.objects.of_unit(value).values("pk"))

    def filter_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isdecimal():  # digits int() reads ("²" is a digit it does not)
            if int(value) > MAX_ID:
                return queryset.none()
            return queryset.filter(activity_type_id=int(value))
        return queryset.filter(activity_type__code=value)


class PeriodField(forms.CharField):
    """A reporting period: 2026-03 (month), 2026-Q1 (quarter) or 2026 (year)."""

    def to_python(self, value) -> Period | None:
        value = super().to_python(value)
        if not value:
            return None
        year = re.match(r"(\d{4})(-|$)", value)
        if year:
            check_year(int(year[1]))
        try:
            return Period.parse(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc


@extend_schema_field({"type": "string", "pattern": PERIOD_PATTERN, "example": "2026-Q1"})
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
    organization = IdFilter(
        method="filter_organization",
        label=_("Organization"),
        help_text=_("Organization id: it and everything under it."),
    )
    unit = IdFilter(
        method="filter_unit",
        label=_("Unit"),
        help_text=_("Unit id: its organizations (a joint committee under each of its units)."),
    )

    class Meta:
        model = Organization
        fields = ["period", "organization", "unit", "kind"]

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.subtree_of(value)

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.of_unit(value)
