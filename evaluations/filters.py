"""FilterSets of the evaluations API: programs, applications and designations.

Like `branches.filters`, they only narrow a query set that is already scoped
(`evaluations.selectors`), never widen it: foreign keys are filtered by plain ids (an id outside
the scope matches nothing, it is not a 400 that would confirm it exists), and ids are written in
digits only. "Belongs to a unit" is `Organization.objects.of_unit`, "and everything under it"
`subtree_of`. A yes/no filter sent empty (`?open=`) is refused (`ExplicitChoiceForm`).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from branches.filters import ExplicitChoiceForm, IdField, IdFilter
from branches.models import Organization, OrganizationKind
from branches.periods import FIRST_YEAR, LAST_YEAR

from . import selectors
from .models import (
    Application,
    ApplicationStatus,
    Designation,
    DesignationStatus,
    Program,
    ProgramKind,
)


class YearField(IdField):
    """A year from FIRST_YEAR to LAST_YEAR, in digits ("2026.0" and "1e3" are 400s)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", FIRST_YEAR)
        kwargs.setdefault("max_value", LAST_YEAR)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR})
class YearFilter(filters.NumberFilter):
    field_class = YearField

    def get_max_validator(self):
        return None  # YearField's own bounds


def _program_kind_filter(field_name: str) -> filters.ChoiceFilter:
    return filters.ChoiceFilter(
        field_name=field_name, choices=ProgramKind.choices, label=_("Program kind")
    )


def _organization_kind_filter() -> filters.ChoiceFilter:
    return filters.ChoiceFilter(
        field_name="organization__kind",
        choices=OrganizationKind.choices,
        label=_("Organization kind"),
    )


class OnOrganizationFilterMixin:
    """`unit` and `organization` of rows that hang on an organization."""

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__in=Organization.objects.of_unit(value).values("pk"))

    def filter_organization(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(organization__in=Organization.objects.subtree_of(value).values("pk"))


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


class ProgramFilter(filters.FilterSet):
    kind = _program_kind_filter("kind")
    year = YearFilter(field_name="year", label=_("Year"))
    open = filters.BooleanFilter(
        method="filter_open",
        label=_("Open now"),
        help_text=_("true: taking applications today; false: the others."),
    )

    class Meta:
        model = Program
        form = ExplicitChoiceForm
        fields = ["kind", "year", "open"]

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        today = timezone.localdate()
        window = {"opens_on__lte": today, "closes_on__gte": today}
        return queryset.filter(**window) if value else queryset.exclude(**window)


class ApplicationFilter(OnOrganizationFilterMixin, filters.FilterSet):
    program = IdFilter(field_name="program", label=_("Program id"))
    kind = _program_kind_filter("program__kind")
    year = YearFilter(field_name="program__year", label=_("Year"))
    status = filters.ChoiceFilter(choices=ApplicationStatus.choices, label=_("Application status"))
    stage = IdFilter(field_name="stage", label=_("Stage id"))
    organization_kind = _organization_kind_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    nominated = filters.BooleanFilter(
        field_name="nominated",
        label=_("Nominated"),
        help_text=_("true: nominated by committee staff; false: applied for."),
    )

    class Meta:
        model = Application
        form = ExplicitChoiceForm
        fields = [
            "program",
            "kind",
            "year",
            "status",
            "stage",
            "organization_kind",
            "unit",
            "organization",
            "nominated",
        ]


class DesignationFilter(OnOrganizationFilterMixin, filters.FilterSet):
    program = IdFilter(field_name="program", label=_("Program id"))
    kind = _program_kind_filter("program__kind")
    year = YearFilter(field_name="program__year", label=_("Year"))
    status = filters.ChoiceFilter(choices=DesignationStatus.choices, label=_("Title status"))
    organization_kind = _organization_kind_filter()
    unit = _unit_filter()
    organization = _organization_filter()
    due = filters.BooleanFilter(
        method="filter_due",
        label=_("Due for re-review"),
        help_text=_(
            "true: current titles whose validity ends within a month (or has ended); "
            "false: the others."
        ),
    )

    class Meta:
        model = Designation
        form = ExplicitChoiceForm
        fields = [
            "program",
            "kind",
            "year",
            "status",
            "organization_kind",
            "unit",
            "organization",
            "due",
        ]

    def filter_due(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        due = selectors.due_for_re_review().order_by().values("pk")
        return queryset.filter(pk__in=due) if value else queryset.exclude(pk__in=due)
