"""The API over units, organizations and members (read-only), and over organizational life:
activity records (read and write), activity types and their rules, and compliance per period.

Rows come only from `branches.selectors` (through `config.api_base`); counts and the current
term are annotations, so a list costs the same number of queries for 5 rows or 50. Writes go
through `branches.services`: the serializers check the shape of a request, the services the
rules; a service's ValidationError becomes a 400 with the same field keys (date, topic,
activity_type, attendance, attachments), its PermissionDenied a 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from accounts import access
from config.api_base import (
    IgnoreClientContentNegotiation,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
    service_errors,
    upload_in_scope,
)

from .compliance import OrganizationCompliance, compute_compliance
from .filters import ActivityRecordFilter, ComplianceFilter, MemberFilter, OrganizationFilter
from .models import (
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    AttendanceStatus,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
    Unit,
)
from .periods import Period
from .selectors import (
    election_overdue,
    organizations_for_display,
    structure_warnings,
    unit_counts_in_scope,
    visible_activity_records,
    visible_attachments,
    visible_members,
    visible_organizations,
    visible_units,
)
from .services import (
    ActivityInput,
    delete_activity_record,
    file_activity_record,
    update_activity_record,
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
    """A member. Phone and birth date only for users who hold "member.view_private" (staff,
    secretaries): the same rule as the roster ledger's columns; others get age and youth."""

    PRIVATE = ("phone", "birth_date")

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
            "phone",
            "birth_date",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        # Rows are in the user's scope already: holding the capability is enough.
        if request is not None and not access.can(request.user, "member.view_private"):
            for name in self.PRIVATE:
                fields.pop(name, None)
        return fields


# --- Viewsets ---------------------------------------------------------------------------------


class UnitViewSet(ScopedReadOnlyViewSet):
    """Organ units in your scope, with the organizations and members you may see in each."""

    read_capability = "organization.view"

    serializer_class = UnitSerializer
    search_fields = ["name", "short_name"]
    ordering_fields = ["name", "sort_order", "organization_count", "member_count"]
    ordering = ["sort_order", "name"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Unit]:
        return unit_counts_in_scope(visible_units(user), user)


class OrganizationViewSet(ScopedReadOnlyViewSet):
    """Party organizations in your scope, with member counts and the current term."""

    read_capability = "organization.view"

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    search_fields = ["name", "code", "unit__name"]
    ordering_fields = ["path", "name", "code", "depth", "member_count", "election_due_on"]
    ordering = ["path"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Organization]:
        return organizations_for_display(user).prefetch_related("joint_units")


class MemberViewSet(ScopedReadOnlyViewSet):
    """Party members in your scope."""

    read_capability = "organization.view"

    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["name", "member_no"]
    ordering_fields = ["name", "member_no", "joined_on"]
    ordering = ["branch__path", "member_no"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Member]:
        return visible_members(user).select_related("branch__unit", "group")


# --- Organizational life: activity types, records, compliance -------------------------------


# A list of OrganizationKind values. Plain strings in the schema: a second enum over the same
# choices as `kind` would make drf-spectacular warn about two names for one choice set.
KINDS_HELP = "Organization kinds: " + ", ".join(OrganizationKind.values) + "."


class ComplianceRuleSerializer(serializers.ModelSerializer):
    organization_kinds = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=KINDS_HELP
    )

    class Meta:
        model = ComplianceRule
        fields = [
            "id",
            "period",
            "minimum_count",
            "organization_kinds",
            "active_from",
            "active_to",
            "note",
        ]


class ActivityTypeSerializer(serializers.ModelSerializer):
    organization_kinds = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Who holds and files this activity. " + KINDS_HELP,
    )
    rules = ComplianceRuleSerializer(many=True, read_only=True)

    class Meta:
        model = ActivityType
        fields = [
            "id",
            "code",
            "name",
            "organization_kinds",
            "committee_only",
            "sort_order",
            "rules",
        ]


class AttendanceSerializer(serializers.ModelSerializer):
    member = serializers.IntegerField(source="member_id", read_only=True)
    name = serializers.CharField(source="member.name", read_only=True)

    class Meta:
        model = Attendance
        fields = ["member", "name", "status"]


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField(help_text="Download (scoped, like the record).")

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]

    def get_url(self, obj: Attachment) -> str:
        path = reverse("activity-record-attachment", args=[obj.record_id, obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "Activity type: its id, or its code (e.g. theme_day) when writing. "
        "Null when the type has since been deleted.",
        "nullable": True,
    }
)
class ActivityTypeRefField(serializers.Field):
    """An activity type given by id or by code; represented by its id."""

    default_error_messages = {"unknown": _("Unknown activity type: {value}.")}

    def to_internal_value(self, data: Any) -> ActivityType:
        found = None
        if isinstance(data, int) and not isinstance(data, bool):
            found = ActivityType.objects.filter(pk=data).first()
        elif isinstance(data, str) and data.strip():
            value = data.strip()
            lookup = (
                {"pk": int(value)} if value.isascii() and value.isdecimal() else {"code": value}
            )
            found = ActivityType.objects.filter(**lookup).first()
        if found is None:
            self.fail("unknown", value=data)
        return found

    def to_representation(self, value: ActivityType) -> int:
        return value.pk


class ScopedOrganizationField(serializers.PrimaryKeyRelatedField):
    """An organization in the user's scope; any other id is "does not exist", as for a missing
    one, so the answer does not reveal what lies outside the scope."""

    def get_queryset(self) -> QuerySet[Organization]:
        request = self.context.get("request")
        return visible_organizations(getattr(request, "user", None))


class ActivityRecordSerializer(serializers.ModelSerializer):
    """A record with its attendance and attachments.

    Writing: everyone expected (the organization's members; the committee for a committee
    meeting) is present unless listed in `excused` or `absent`. Files go in `new_attachments`
    (multipart); JSON clients send the rest.
    """

    organization = ScopedOrganizationField(queryset=Organization.objects.none())
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    activity_type = ActivityTypeRefField()
    activity_type_code = serializers.CharField(
        source="activity_type.code", read_only=True, allow_null=True
    )
    expected_count = serializers.IntegerField(read_only=True)
    attendance_rate = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Present / expected; null if none expected."
    )
    attendance = AttendanceSerializer(source="attendances", many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    filed_by_name = serializers.SerializerMethodField()
    excused = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        help_text="Member ids marked excused.",
    )
    absent = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        help_text="Member ids marked absent.",
    )
    new_attachments = serializers.ListField(
        child=serializers.FileField(),
        write_only=True,
        required=False,
        help_text="Photos (JPEG, PNG, WebP, HEIC) or PDF minutes; multipart only.",
    )

    class Meta:
        model = ActivityRecord
        fields = [
            "id",
            "organization",
            "organization_name",
            "unit",
            "activity_type",
            "activity_type_code",
            "type_name",
            "date",
            "topic",
            "place",
            "content",
            "counts_for_compliance",
            "present_count",
            "excused_count",
            "absent_count",
            "expected_count",
            "attendance_rate",
            "attendance",
            "attachments",
            "filed_by",
            "filed_by_name",
            "filed_at",
            "updated_at",
            "excused",
            "absent",
            "new_attachments",
        ]
        # No UniqueTogetherValidator from the model's constraint: the service checks duplicates
        # (with a message naming the organization, type and day) under "date".
        validators: list = []
        read_only_fields = [
            "type_name",
            "counts_for_compliance",
            "present_count",
            "excused_count",
            "absent_count",
            "filed_by",
            "filed_at",
            "updated_at",
        ]

    def get_filed_by_name(self, obj: ActivityRecord) -> str | None:
        user = obj.filed_by
        return user.display_name if user is not None else None

    def validate(self, attrs: dict) -> dict:
        # Member ids outside the user's scope are refused here, by id: the service would name
        # them ("Not members of ...: 陈静"), telling a secretary who is behind any id.
        ids = set(attrs.get("excused", [])) | set(attrs.get("absent", []))
        if ids:
            user = self.context["request"].user
            known = set(visible_members(user).filter(pk__in=ids).values_list("pk", flat=True))
            unknown = sorted(ids - known)
            if unknown:
                raise serializers.ValidationError(
                    {
                        "attendance": [
                            _("No such members: %(ids)s.")
                            % {"ids": ", ".join(str(pk) for pk in unknown)}
                        ]
                    }
                )
        return attrs

    def _input(self, attrs: dict, instance: ActivityRecord | None = None) -> ActivityInput:
        """The service's input: what was sent, and for an update what was not sent is kept."""

        excused: set[int] = set(attrs.get("excused", []))
        absent: set[int] = set(attrs.get("absent", []))
        if instance is not None and "excused" not in attrs and "absent" not in attrs:
            for member_id, status in instance.attendances.values_list("member_id", "status"):
                if status == AttendanceStatus.EXCUSED:
                    excused.add(member_id)
                elif status == AttendanceStatus.ABSENT:
                    absent.add(member_id)
        return ActivityInput(
            organization=instance.organization if instance else attrs["organization"],
            activity_type=attrs.get("activity_type", instance.activity_type if instance else None),
            date=attrs.get("date", instance.date if instance else None),
            topic=attrs.get("topic", instance.topic if instance else ""),
            place=attrs.get("place", instance.place if instance else ""),
            content=attrs.get("content", instance.content if instance else ""),
            excused_ids=excused,
            absent_ids=absent,
            attachments=list(attrs.get("new_attachments", [])),
        )

    def create(self, validated_data: dict) -> ActivityRecord:
        try:
            return file_activity_record(self.context["request"].user, self._input(validated_data))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(service_errors(exc)) from exc


class ActivityRecordListSerializer(ActivityRecordSerializer):
    """A record in a list: its attendance as counts (`present_count`, `excused_count`,
    `absent_count`); who was there is on the record itself. Fifty records' names were most
    of a list's time and size."""

    class Meta(ActivityRecordSerializer.Meta):
        fields = [f for f in ActivityRecordSerializer.Meta.fields if f != "attendance"]


class ActivityRecordUpdateSerializer(ActivityRecordSerializer):
    """Changing a record: its organization stays; what is not sent is kept (attendance too,
    unless `excused` or `absent` is sent); `remove_attachments` deletes attachments by id."""

    organization = serializers.PrimaryKeyRelatedField(read_only=True)
    remove_attachments = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        write_only=True,
        required=False,
        help_text="Ids of this record's attachments to delete.",
    )

    class Meta(ActivityRecordSerializer.Meta):
        fields = [*ActivityRecordSerializer.Meta.fields, "remove_attachments"]

    def update(self, instance: ActivityRecord, validated_data: dict) -> ActivityRecord:
        try:
            return update_activity_record(
                self.context["request"].user,
                instance,
                self._input(validated_data, instance),
                remove_attachment_ids=validated_data.get("remove_attachments", []),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(service_errors(exc)) from exc


class ComplianceByTypeSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="Activity type name.")
    owed = serializers.IntegerField()
    held = serializers.IntegerField(help_text="Held and counted (at most what is owed).")
    missing = serializers.IntegerField()


class ComplianceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=OrganizationKind.choices)
    unit = serializers.IntegerField()
    period = serializers.CharField(help_text="The period asked, e.g. 2026-Q1.")
    owed = serializers.IntegerField(help_text="Activities owed in the period.")
    held = serializers.IntegerField(help_text="Of those, held and counted.")
    missing = serializers.IntegerField()
    compliant = serializers.BooleanField()
    rate = serializers.FloatField(allow_null=True, help_text="held / owed; null if none owed.")
    by_type = ComplianceByTypeSerializer(many=True)
    election_due_on = serializers.DateField(allow_null=True)
    election_overdue = serializers.BooleanField()


class ActivityTypeViewSet(ScopedReadOnlyViewSet):
    """The kinds of organizational life and their minimum frequencies (rules over time)."""

    read_capability = "organization.view"

    serializer_class = ActivityTypeSerializer
    ordering = ["sort_order", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[ActivityType]:
        # Types are data shared by everybody who may log in (no organization to scope by).
        if not access.is_active_user(user):
            return ActivityType.objects.none()
        return ActivityType.objects.prefetch_related(
            Prefetch("rules", queryset=ComplianceRule.objects.order_by("period", "active_from"))
        )


class ActivityRecordViewSet(ScopedModelViewSet):
    """Activity records of the organizations in your scope. Secretaries file and change their
    own (changes within the edit window); inspectors read; outside the scope is a 404."""

    read_capability = "organization.view"
    write_capability = "activity.file"
    action_capabilities = {
        "update": "activity.change",
        "partial_update": "activity.change",
        "destroy": "activity.change",
    }

    filterset_class = ActivityRecordFilter
    search_fields = ["topic", "place"]
    ordering_fields = ["date", "filed_at", "topic"]
    ordering = ["-date", "-pk"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_serializer_class(self) -> type[ActivityRecordSerializer]:
        if self.action in ("update", "partial_update"):
            return ActivityRecordUpdateSerializer
        if self.action == "list":
            return ActivityRecordListSerializer
        return ActivityRecordSerializer

    def scoped_queryset(self, user: User | None) -> QuerySet[ActivityRecord]:
        records = visible_activity_records(user).select_related(
            "organization", "activity_type", "filed_by"
        )
        if self.action == "list":
            return records.prefetch_related("attachments")
        return records.prefetch_related(
            Prefetch(
                "attendances",
                queryset=Attendance.objects.select_related("member").order_by("member__member_no"),
            ),
            "attachments",
        )

    def perform_destroy(self, instance: ActivityRecord) -> None:
        delete_activity_record(self.request.user, instance)

    @extend_schema(
        parameters=[OpenApiParameter("attachment_pk", int, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_pk>[0-9]+)",
        url_name="attachment",
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def attachment(self, request, pk: str, attachment_pk: str, format=None):  # noqa: A002
        """Download one attachment of a record in your scope."""
        return upload_in_scope(
            lambda pk: visible_attachments(request.user).filter(record_id=pk),
            pk,
            attachment_pk,
            format,
        )


@extend_schema(
    summary="Compliance per organization for a period",
    description="What each organization in your scope owed of organizational life in the "
    "period, what it held (counted) and what is missing, per type; plus its next election.",
)
class ComplianceViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Compliance of the organizations in your scope for one month, quarter or year."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = ComplianceSerializer
    filterset_class = ComplianceFilter
    filter_backends = [DjangoFilterBackend]

    def scoped_queryset(self, user: User | None) -> QuerySet[Organization]:
        return visible_organizations(user).order_by("path")

    def list(self, request, **kwargs):
        # Queries: count and page of organizations, then the engine's constant handful.
        organizations = self.filter_queryset(self.get_queryset())
        period = Period.parse(request.query_params["period"])  # checked by ComplianceFilter
        page = self.paginate_queryset(organizations)
        results = compute_compliance(
            Organization.objects.filter(pk__in=[o.pk for o in page]), period
        )
        rows = [self._row(org, results[org.pk], period) for org in page]
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    @staticmethod
    def _row(org: Organization, found: OrganizationCompliance, period: Period) -> dict:
        return {
            "id": org.pk,
            "code": org.code,
            "name": org.name,
            "kind": org.kind,
            "unit": org.unit_id,
            "period": period.code,
            "owed": found.owed,
            "held": found.held,
            "missing": found.missing,
            "compliant": found.compliant,
            "rate": found.rate,
            "by_type": [
                {"type": name, "owed": owed, "held": held, "missing": missing}
                for name, owed, held, missing in found.by_type()
            ],
            "election_due_on": found.election_due_on,
            "election_overdue": found.election_overdue,
        }
