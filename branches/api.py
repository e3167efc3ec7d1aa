"""The read-only API over units, organizations and members: serializers and viewsets.

Rows come only from `branches.selectors` (through `config.api_base.ScopedReadOnlyViewSet`);
counts and the current term are annotations, so a list costs the same number of queries for
5 rows or 50.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from rest_framework import serializers

from config.api_base import ScopedReadOnlyViewSet

from .filters import MemberFilter, OrganizationFilter
from .models import Member, Organization, Unit
from .selectors import (
    election_overdue,
    organizations_for_display,
    structure_warnings,
    unit_counts_in_scope,
    visible_members,
    visible_units,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- Serializers ------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    organization_count = serializers.IntegerField(
        read_only=True, help_text="Organizations of this unit you may see."
    )
    member_count = serializers.IntegerField(
        read_only=True, help_text="Members of this unit's branches you may see."
    )

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "sort_order", "organization_count", "member_count"]


class OrganizationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    host_type_display = serializers.CharField(source="get_host_type_display", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    joint_units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    secretary_name = serializers.CharField(source="secretary.name", read_only=True, allow_null=True)
    member_count = serializers.IntegerField(
        read_only=True, help_text="Members of this organization and of everything under it."
    )
    full_member_count = serializers.IntegerField(read_only=True)
    committee_size = serializers.IntegerField(
        read_only=True, help_text="Branch members holding a committee duty."
    )
    child_count = serializers.IntegerField(read_only=True)
    term_started_on = serializers.DateField(read_only=True, allow_null=True)
    election_due_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="Due date of the next election (current term, approved changes included).",
    )
    election_overdue = serializers.SerializerMethodField()
    structure_warnings = serializers.SerializerMethodField(
        help_text="What a branch breaks of the branch work regulations (empty when in order)."
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "kind_display",
            "host_type",
            "host_type_display",
            "unit",
            "unit_name",
            "joint_units",
            "parent",
            "path",
            "depth",
            "founded_on",
            "secretary",
            "secretary_name",
            "member_count",
            "full_member_count",
            "committee_size",
            "child_count",
            "term_started_on",
            "election_due_on",
            "election_overdue",
            "structure_warnings",
        ]

    def get_election_overdue(self, obj: Organization) -> bool:
        return election_overdue(obj)

    def get_structure_warnings(self, obj: Organization) -> list[str]:
        return structure_warnings(obj)


class MemberSerializer(serializers.ModelSerializer):
    """A member without contact data (phone) or birth date: age and youth say what is needed."""

    age = serializers.IntegerField(read_only=True)
    is_youth = serializers.BooleanField(read_only=True)
    fifty_years_in_party = serializers.BooleanField(read_only=True)
    unit = serializers.IntegerField(source="branch.unit_id", read_only=True)
    unit_name = serializers.CharField(source="branch.unit.name", read_only=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True, allow_null=True)
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    education_display = serializers.CharField(source="get_education_display", read_only=True)
    duty_display = serializers.CharField(source="get_duty_display", read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "member_no",
            "name",
            "sex",
            "sex_display",
            "age",
            "is_youth",
            "joined_on",
            "fifty_years_in_party",
            "status",
            "status_display",
            "full_member_on",
            "education",
            "education_display",
            "position",
            "unit",
            "unit_name",
            "branch",
            "branch_name",
            "group",
            "group_name",
            "duty",
            "duty_display",
            "is_party_worker",
            "community",
            "first_secretary_village",
            "is_hardship",
        ]


# --- Viewsets ---------------------------------------------------------------------------------


class UnitViewSet(ScopedReadOnlyViewSet):
    """Organ units in your scope, with the organizations and members you may see in each."""

    serializer_class = UnitSerializer
    search_fields = ["name", "short_name"]
    ordering_fields = ["name", "sort_order", "organization_count", "member_count"]
    ordering = ["sort_order", "name"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Unit]:
        return unit_counts_in_scope(visible_units(user), user)


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """Party organizations in your scope, with member counts and the current term."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    search_fields = ["name", "code", "unit__name"]
    ordering_fields = ["path", "name", "code", "depth", "member_count", "election_due_on"]
    ordering = ["path"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Organization]:
        return organizations_for_display(user).prefetch_related("joint_units")


class MemberViewSet(ScopedReadOnlyViewSet):
    """Party members in your scope."""

    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["name", "member_no"]
    ordering_fields = ["name", "member_no", "joined_on"]
    ordering = ["branch__path", "member_no"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Member]:
        return visible_members(user).select_related("branch__unit", "group")
