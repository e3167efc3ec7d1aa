"""The API of campaigns and supervision (专项活动与督导): campaigns with their targets and live
progress, participation (members, money, goods) and its totals, theme days tagged with a
campaign, problem lists and their rectification (整改), secretaries' annual reports (述职评议),
inspection groups with their visits, and key-task lists (重点任务清单).

Rows come only from the scope (`campaigns.selectors`, `branches.selectors.within_scope`,
through `config.api_base`): outside it is a 404. Inspection groups and their visits are read by
committee staff and the group's own members; key tasks by the owners of their measures.

Writes go through `campaigns.services`: the serializers check the shape of a request (ids only
in the user's scope, so an answer never names anything outside it), the services the rules; a
service's ValidationError becomes a 400 with the same field keys, its PermissionDenied a 403.
A problem is moved by its responsible organization (start rectifying, answer) and by the
inspection group that found it (accept, send back); a write a role never does is a 403 before
any lookup.

Lists cost the same number of queries for 5 rows or 500: targets, goods, events, answers,
photos, members and measures are prefetched. A campaign's live target progress is counted on
its own page (`selectors.target_progress`, one query per live source), not in the list.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from accounts import access
from accounts.models import User
from branches.models import Organization, Unit
from branches.selectors import visible_activity_records
from config.api_base import (
    IgnoreClientContentNegotiation,
    ScopedViewSetMixin,
    service_errors,
    upload_in_scope,
)
from config.money import CENT, ZERO
from pairings.api import PlainChoiceField, ScopedIdField, exact, money

from . import rules, selectors, services
from .filters import (
    AnnualReportFilter,
    CampaignActivityFilter,
    CampaignFilter,
    InspectionGroupFilter,
    KeyTaskFilter,
    ParticipationFilter,
    ProblemFilter,
    VisitLogFilter,
)
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
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Severity,
    Target,
    TargetSource,
    VisitLog,
    VisitMethod,
)

if TYPE_CHECKING:
    from branches.models import ActivityRecord


MAX_COUNT = 2**31 - 1  # a PositiveIntegerField on every database
MAX_GOODS = 100  # goods lines in one filing
MAX_PHOTOS = 20  # photos in one answer (the attachment caps apply too)
TEXT = 5000


def _absolute(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def _call_service(function, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(service_errors(exc)) from exc


def _with_blank(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A read-only choice that may be empty (no assessment yet, a problem's first event)."""
    return [("", ""), *choices]


def _name_of(user: User | None) -> str | None:
    return user.display_name if user is not None else None


# --- Scopes -------------------------------------------------------------------------------------


def _campaigns(user: User | None) -> QuerySet[Campaign]:
    """Campaigns are shared by everybody who may log in (no organization to scope by)."""
    if not access.is_active_user(user):
        return Campaign.objects.none()
    return Campaign.objects.all()


def _participating_organizations(user: User | None) -> QuerySet[Organization]:
    return access.organizations_where(user, "campaign.participate")


def _recording_organizations(user: User | None) -> QuerySet[Organization]:
    return access.organizations_where(user, "inspection.record_problem")


# --- Shared small serializers -------------------------------------------------------------------


class CampaignPersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields


class CampaignUnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name"]
        read_only_fields = fields


# --- Campaigns ----------------------------------------------------------------------------------


class CampaignTargetSerializer(serializers.ModelSerializer):
    goal = exact()
    source = PlainChoiceField(choices=TargetSource.choices, read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)

    class Meta:
        model = Target
        fields = ["id", "indicator", "unit_of_measure", "goal", "source", "source_display"]
        read_only_fields = fields


class CampaignTargetProgressSerializer(serializers.Serializer):
    """A target with its progress: entered by hand, or counted live from the portal's data."""

    id = serializers.IntegerField(source="target.pk")
    indicator = serializers.CharField(source="target.indicator")
    unit_of_measure = serializers.CharField(source="target.unit_of_measure")
    goal = exact(source="target.goal")
    source = PlainChoiceField(source="target.source", choices=TargetSource.choices)
    source_display = serializers.CharField(source="target.get_source_display")
    progress = exact(help_text="Entered by hand (source manual) or counted live, city-wide.")
    share = serializers.SerializerMethodField(help_text="progress / goal; null when the goal is 0.")

    def get_share(self, obj: selectors.TargetProgress) -> float | None:
        share = obj.share
        return round(share, 4) if share is not None else None


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign with its targets (their progress: on the campaign's own page)."""

    kind = PlainChoiceField(choices=CampaignKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    running = serializers.SerializerMethodField(help_text="Running today.")
    targets = CampaignTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "starts_on",
            "ends_on",
            "running",
            "owner",
            "description",
            "topic",
            "theme_month",
            "created_at",
            "targets",
        ]
        read_only_fields = fields

    def get_running(self, obj: Campaign) -> bool:
        return obj.starts_on <= timezone.localdate() <= obj.ends_on


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with each target's progress (`selectors.target_progress`)."""

    targets = serializers.SerializerMethodField()

    @extend_schema_field(CampaignTargetProgressSerializer(many=True))
    def get_targets(self, obj: Campaign) -> list[dict]:
        return CampaignTargetProgressSerializer(selectors.target_progress(obj), many=True).data


class CampaignTotalsLineSerializer(serializers.Serializer):
    organizations = serializers.IntegerField(
        help_text="Organizations taking part: filed, or with a tagged theme day (each once)."
    )
    members = serializers.IntegerField(help_text="Members taking part, as filed.")
    money = exact(help_text="Money in yuan (exact).")
    goods_value = exact(help_text="Value of the goods in yuan (exact).")


class CampaignUnitTotalsSerializer(CampaignTotalsLineSerializer):
    unit = serializers.IntegerField(allow_null=True)
    unit_name = serializers.CharField(allow_null=True)


class CampaignGoodsTotalsSerializer(serializers.Serializer):
    item = serializers.CharField()
    unit_of_measure = serializers.CharField(help_text="Never added across units of measure.")
    quantity = exact(help_text="Quantity in this unit of measure (exact).")
    value = exact(help_text="Value in yuan (exact).")


class CampaignTotalsSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    total = CampaignTotalsLineSerializer(help_text="Everything in your scope.")
    by_unit = CampaignUnitTotalsSerializer(many=True)
    goods = CampaignGoodsTotalsSerializer(many=True, help_text="By item and unit of measure.")


@extend_schema_view(
    retrieve=extend_schema(
        summary="A campaign with its targets' progress",
        responses={200: CampaignDetailSerializer},
    )
)
class CampaignViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Campaigns (plans, theme days, volunteer deployments, studies, inspections) with their
    targets, read by everybody who may log in; committee staff run them in the admin."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    search_fields = ["name", "topic"]
    ordering_fields = ["starts_on", "ends_on", "name"]
    ordering = ["-starts_on", "name", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Campaign]:
        return _campaigns(user).prefetch_related(
            Prefetch("targets", queryset=Target.objects.order_by("sort_order", "pk"))
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "retrieve":
            return CampaignDetailSerializer
        return CampaignSerializer

    @extend_schema(
        summary="Participation in a campaign over your scope: in all and by unit",
        description="Organizations, members, money and goods value (yuan, exact), and the goods "
        "by item and unit of measure. A branch that filed and tagged its theme day counts once.",
        responses={200: CampaignTotalsSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def totals(self, request: Request, pk: str, **kwargs: Any) -> Response:
        campaign = self.get_object()
        found = selectors.participation_totals(request.user, campaign)
        by_unit = found["by_unit"]
        names = dict(Unit.objects.filter(pk__in=list(by_unit)).values_list("pk", "name"))
        lines = [
            {
                "unit": unit_id,
                "unit_name": names.get(unit_id),
                "organizations": line.organizations,
                "members": line.members,
                "money": line.money,
                "goods_value": line.goods_value,
            }
            for unit_id, line in sorted(by_unit.items(), key=lambda item: item[0] or 0)
        ]
        body = {
            "campaign": campaign.pk,
            "total": found["total"],
            "by_unit": lines,
            "goods": found["goods"],
        }
        return Response(CampaignTotalsSerializer(body).data)


# --- Participation ------------------------------------------------------------------------------


class CampaignParticipationGoodsSerializer(serializers.ModelSerializer):
    quantity = exact()
    value = exact(help_text="In yuan.")

    class Meta:
        model = ParticipationGoods
        fields = ["id", "item", "quantity", "unit_of_measure", "value"]
        read_only_fields = fields


class CampaignParticipationSerializer(serializers.ModelSerializer):
    """An organization's part in a campaign: members taking part, money and goods."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    money = exact(help_text="In yuan (exact).")
    goods = CampaignParticipationGoodsSerializer(many=True, read_only=True)
    goods_value = serializers.SerializerMethodField(help_text="The goods' value in yuan (exact).")
    filed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = Participation
        fields = [
            "id",
            "campaign",
            "campaign_name",
            "organization",
            "organization_name",
            "unit",
            "unit_name",
            "members",
            "money",
            "goods",
            "goods_value",
            "note",
            "filed_by",
            "filed_by_name",
            "filed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DECIMAL)
    def get_goods_value(self, obj: Participation) -> str:
        total = sum((line.value for line in obj.goods.all()), ZERO)
        return str(total.quantize(CENT))

    def get_filed_by_name(self, obj: Participation) -> str | None:
        return _name_of(obj.filed_by)


class CampaignGoodsInputSerializer(serializers.Serializer):
    item = serializers.CharField(max_length=50)
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), help_text="More than zero."
    )
    unit_of_measure = serializers.CharField(max_length=10, help_text="e.g. 床, 袋, 件")
    value = money(
        required=False, min_value=Decimal("0"), default=Decimal("0.00"), help_text="In yuan."
    )


class CampaignParticipationUpdateSerializer(serializers.Serializer):
    """The filing as a whole: what is sent replaces the earlier filing, goods lines included
    (goods left out: none)."""

    members = serializers.IntegerField(
        min_value=0, max_value=MAX_COUNT, default=0, help_text="Members taking part."
    )
    money = money(
        required=False, min_value=Decimal("0"), default=Decimal("0.00"), help_text="In yuan."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    goods = CampaignGoodsInputSerializer(many=True, required=False, max_length=MAX_GOODS)

    def participation_input(
        self, campaign: Campaign, organization: Organization
    ) -> services.ParticipationInput:
        attrs = self.validated_data
        return services.ParticipationInput(
            campaign=campaign,
            organization=organization,
            members=attrs["members"],
            money=attrs["money"],
            note=attrs["note"],
            goods=[
                services.GoodsInput(g["item"], g["quantity"], g["unit_of_measure"], g["value"])
                for g in attrs.get("goods", [])
            ],
        )


class CampaignParticipationCreateSerializer(CampaignParticipationUpdateSerializer):
    """An organization's part in a campaign, filed by its secretary (or staff). Filed again
    for the same campaign and organization, it replaces the earlier filing (200)."""

    campaign = ScopedIdField(_campaigns, help_text="A campaign that has started.")
    organization = ScopedIdField(
        _participating_organizations, help_text="An organization you may file for."
    )


@extend_schema_view(
    create=extend_schema(
        summary="File an organization's participation (again: replaces the earlier filing)",
        request=CampaignParticipationCreateSerializer,
        responses={201: CampaignParticipationSerializer, 200: CampaignParticipationSerializer},
    ),
    update=extend_schema(
        summary="File a participation again (replaces it, goods lines included)",
        request=CampaignParticipationUpdateSerializer,
        responses={200: CampaignParticipationSerializer},
    ),
)
class CampaignParticipationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The participation of the organizations in your scope; their secretaries file it."""

    read_capability = "organization.view"
    write_capability = "campaign.participate"

    serializer_class = CampaignParticipationSerializer
    filterset_class = ParticipationFilter
    search_fields = ["organization__name", "note"]
    ordering_fields = ["filed_at", "members", "money"]
    ordering = ["campaign_id", "organization__path", "pk"]
    parser_classes = [JSONParser]

    def scoped_queryset(self, user: User | None) -> QuerySet[Participation]:
        return (
            selectors.visible_participations(user)
            .select_related("campaign", "organization__unit", "filed_by")
            .prefetch_related(Prefetch("goods", queryset=ParticipationGoods.objects.order_by("pk")))
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "create": CampaignParticipationCreateSerializer,
            "update": CampaignParticipationUpdateSerializer,
        }.get(self.action, CampaignParticipationSerializer)

    def _read(self, pk: int) -> dict:
        row = self.scoped_queryset(self.request.user).get(pk=pk)
        return CampaignParticipationSerializer(row, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = CampaignParticipationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        campaign = incoming.validated_data["campaign"]
        organization = incoming.validated_data["organization"]
        filed_before = Participation.objects.filter(
            campaign=campaign, organization=organization
        ).exists()
        made = _call_service(
            services.file_participation,
            request.user,
            incoming.participation_input(campaign, organization),
        )
        code = status.HTTP_200_OK if filed_before else status.HTTP_201_CREATED
        return Response(self._read(made.pk), status=code)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        participation = self.get_object()
        incoming = CampaignParticipationUpdateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.file_participation,
            request.user,
            incoming.participation_input(participation.campaign, participation.organization),
        )
        return Response(self._read(participation.pk))


# --- Theme days tagged with a campaign ----------------------------------------------------------


class CampaignActivitySerializer(serializers.ModelSerializer):
    """A theme party day record counted as its branch's part in a theme-day campaign."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    organization = serializers.IntegerField(source="record.organization_id", read_only=True)
    organization_name = serializers.CharField(source="record.organization.name", read_only=True)
    unit = serializers.IntegerField(source="record.organization.unit_id", read_only=True)
    date = serializers.DateField(source="record.date", read_only=True)
    topic = serializers.CharField(source="record.topic", read_only=True)

    class Meta:
        model = CampaignActivity
        fields = [
            "id",
            "campaign",
            "campaign_name",
            "record",
            "organization",
            "organization_name",
            "unit",
            "date",
            "topic",
        ]
        read_only_fields = fields


class CampaignActivityCreateSerializer(serializers.Serializer):
    """Count a branch's theme party day as its part in a theme-day campaign: the record must
    be a theme party day in the campaign's month and period, and counts once."""

    campaign = ScopedIdField(_campaigns, help_text="A theme-day campaign.")
    record = ScopedIdField(
        visible_activity_records, help_text="An activity record in your scope (a theme day)."
    )


@extend_schema_view(
    create=extend_schema(
        summary="Tag a theme party day with a theme-day campaign",
        request=CampaignActivityCreateSerializer,
        responses={201: CampaignActivitySerializer},
    )
)
class CampaignActivityViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Theme party days of the organizations in your scope tagged with a campaign."""

    read_capability = "organization.view"
    write_capability = "campaign.participate"

    serializer_class = CampaignActivitySerializer
    filterset_class = CampaignActivityFilter
    search_fields = ["record__topic", "record__organization__name"]
    ordering_fields = ["record__date"]
    ordering = ["campaign_id", "-record__date", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[CampaignActivity]:
        return selectors.visible_campaign_activities(user).select_related(
            "campaign", "record__organization"
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create":
            return CampaignActivityCreateSerializer
        return CampaignActivitySerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = CampaignActivityCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        record: ActivityRecord = incoming.validated_data["record"]
        made = _call_service(
            services.tag_activity, request.user, incoming.validated_data["campaign"], record
        )
        row = self.scoped_queryset(request.user).get(pk=made.pk)
        return Response(
            CampaignActivitySerializer(row, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


# --- Problems and their rectification ------------------------------------------------------------


class ProblemPhotoSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField(help_text="Download (scoped, like the problem).")

    class Meta:
        model = RectificationPhoto
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: RectificationPhoto) -> str:
        path = reverse("problem-photo", args=[obj.answer.problem_id, obj.pk])
        return _absolute(self.context.get("request"), path)


class ProblemAnswerSerializer(serializers.ModelSerializer):
    """An answer of the responsible organization: measures taken, evidence, photos."""

    submitted_by_name = serializers.SerializerMethodField()
    photos = ProblemPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = Rectification
        fields = [
            "id",
            "measures",
            "evidence",
            "submitted_by",
            "submitted_by_name",
            "submitted_at",
            "photos",
        ]
        read_only_fields = fields

    def get_submitted_by_name(self, obj: Rectification) -> str | None:
        return _name_of(obj.submitted_by)


class ProblemEventSerializer(serializers.ModelSerializer):
    """A move of the problem's state: by whom, when, why (a sending back's reason)."""

    from_state = PlainChoiceField(
        choices=_with_blank(ProblemState.choices),
        read_only=True,
        help_text="Empty for the first event (the problem recorded).",
    )
    to_state = PlainChoiceField(choices=ProblemState.choices, read_only=True)
    to_state_display = serializers.CharField(source="get_to_state_display", read_only=True)
    by_name = serializers.SerializerMethodField()

    class Meta:
        model = ProblemEvent
        fields = ["id", "from_state", "to_state", "to_state_display", "by", "by_name", "at", "note"]
        read_only_fields = fields

    def get_by_name(self, obj: ProblemEvent) -> str | None:
        return _name_of(obj.by)


class ProblemSerializer(serializers.ModelSerializer):
    """A problem found by an inspection group (or in an annual report), with its history and
    the responsible organization's answers."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True, allow_null=True)
    campaign = serializers.IntegerField(
        source="group.campaign_id",
        read_only=True,
        allow_null=True,
        help_text="The inspection group's campaign; null without a group.",
    )
    campaign_name = serializers.CharField(
        source="group.campaign.name", read_only=True, allow_null=True
    )
    severity = PlainChoiceField(choices=Severity.choices, read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    state = PlainChoiceField(choices=ProblemState.choices, read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    overdue = serializers.SerializerMethodField(
        help_text="Past its deadline and not accepted, as of today (Asia/Shanghai)."
    )
    created_by_name = serializers.SerializerMethodField()
    events = ProblemEventSerializer(many=True, read_only=True)
    answers = ProblemAnswerSerializer(many=True, read_only=True)

    class Meta:
        model = Problem
        fields = [
            "id",
            "organization",
            "organization_name",
            "unit",
            "unit_name",
            "group",
            "group_name",
            "campaign",
            "campaign_name",
            "annual_report",
            "category",
            "description",
            "severity",
            "severity_display",
            "found_on",
            "deadline",
            "evidence",
            "state",
            "state_display",
            "overdue",
            "overdue_since",
            "created_by",
            "created_by_name",
            "created_at",
            "events",
            "answers",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: Problem) -> bool:
        return rules.is_overdue(obj.state, obj.deadline, timezone.localdate())

    def get_created_by_name(self, obj: Problem) -> str | None:
        return _name_of(obj.created_by)


class ProblemCreateSerializer(serializers.Serializer):
    """A problem found: an inspector records it as a member of the inspection group (staff
    may leave the group out, e.g. for an annual report's problem)."""

    organization = ScopedIdField(
        _recording_organizations, help_text="The responsible organization, in your scope."
    )
    group = ScopedIdField(
        selectors.visible_groups,
        required=False,
        allow_null=True,
        help_text="Your inspection group (needed unless you are committee staff).",
    )
    annual_report = ScopedIdField(
        selectors.visible_annual_reports,
        required=False,
        allow_null=True,
        help_text="The annual report the problem was found in, if any.",
    )
    category = serializers.CharField(max_length=50)
    description = serializers.CharField(max_length=TEXT)
    severity = PlainChoiceField(choices=Severity.choices, default=Severity.NORMAL)
    found_on = serializers.DateField(help_text="Not in the future.")
    deadline = serializers.DateField(help_text="Rectify by; not before found_on.")
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)

    def problem_input(self) -> services.ProblemInput:
        attrs = self.validated_data
        return services.ProblemInput(
            organization=attrs["organization"],
            category=attrs["category"],
            description=attrs["description"],
            found_on=attrs["found_on"],
            deadline=attrs["deadline"],
            severity=attrs["severity"],
            evidence=attrs.get("evidence", ""),
            group=attrs.get("group"),
            annual_report=attrs.get("annual_report"),
        )


class ProblemAnswerCreateSerializer(serializers.Serializer):
    """The rectification: measures taken, evidence and photos (multipart). The problem goes
    to the inspection group for acceptance."""

    measures = serializers.CharField(max_length=TEXT, help_text="What was done to rectify it.")
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=TEXT)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=MAX_PHOTOS,
        help_text="Photos (JPEG, PNG, WebP, HEIC) or PDF; multipart only.",
    )


class ProblemAcceptSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="e.g. what was checked."
    )


class ProblemSendBackSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the rectification falls short.")


def _moved(what: str, request: type[serializers.Serializer] | None = None):
    return extend_schema(
        summary=what, request=request, responses={200: ProblemSerializer}, filters=False
    )


@extend_schema_view(
    create=extend_schema(
        summary="Record a problem found (inspectors of the group, staff)",
        request=ProblemCreateSerializer,
        responses={201: ProblemSerializer},
    )
)
class ProblemViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Problems of the organizations in your scope (an inspector: also those their groups
    found), with their history and answers. The responsible organization starts rectifying
    and answers; the inspection group that found it accepts or sends it back."""

    read_capability = "organization.view"
    write_capability = "inspection.record_problem"
    action_capabilities = {
        "start_rectifying": "problem.answer",
        "answer": "problem.answer",
        "accept": "problem.accept",
        "send_back": "problem.accept",
    }

    serializer_class = ProblemSerializer
    filterset_class = ProblemFilter
    search_fields = ["description", "category"]
    ordering_fields = ["deadline", "found_on", "created_at"]
    ordering = ["deadline", "pk"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scoped_queryset(self, user: User | None) -> QuerySet[Problem]:
        visible = selectors.visible_problems(user)
        if getattr(self, "action", None) not in ("list", "retrieve"):
            return visible
        return self._for_display(visible)

    @staticmethod
    def _for_display(problems: QuerySet[Problem]) -> QuerySet[Problem]:
        return problems.select_related(
            "organization__unit", "group__campaign", "created_by"
        ).prefetch_related(
            Prefetch(
                "events", queryset=ProblemEvent.objects.select_related("by").order_by("at", "pk")
            ),
            Prefetch(
                "answers",
                queryset=Rectification.objects.select_related("submitted_by")
                .order_by("submitted_at", "pk")
                .prefetch_related(
                    Prefetch("photos", queryset=RectificationPhoto.objects.order_by("pk"))
                ),
            ),
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "create": ProblemCreateSerializer,
            "answer": ProblemAnswerCreateSerializer,
            "accept": ProblemAcceptSerializer,
            "send_back": ProblemSendBackSerializer,
        }.get(self.action, ProblemSerializer)

    def _read(self, pk: int) -> dict:
        row = self._for_display(selectors.visible_problems(self.request.user)).filter(pk=pk).first()
        if row is None:
            raise Http404
        return ProblemSerializer(row, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ProblemCreateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        made = _call_service(services.record_problem, request.user, incoming.problem_input())
        return Response(self._read(made.pk), status=status.HTTP_201_CREATED)

    @_moved("Start rectifying (the responsible organization)")
    @action(detail=True, methods=["post"], url_path="start-rectifying", url_name="start-rectifying")
    def start_rectifying(self, request: Request, pk: str, **kwargs: Any) -> Response:
        problem = self.get_object()
        _call_service(services.start_rectifying, request.user, problem)
        return Response(self._read(problem.pk))

    @_moved(
        "Answer with the rectification: measures, evidence, photos (the responsible "
        "organization); it goes to the inspection group",
        ProblemAnswerCreateSerializer,
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: str, **kwargs: Any) -> Response:
        problem = self.get_object()
        incoming = ProblemAnswerCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        _call_service(
            services.answer_problem,
            request.user,
            problem,
            attrs["measures"],
            attrs.get("evidence", ""),
            list(attrs.get("photos", [])),
        )
        return Response(self._read(problem.pk))

    @_moved(
        "Accept the rectification (the inspection group that found it)", ProblemAcceptSerializer
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str, **kwargs: Any) -> Response:
        problem = self.get_object()
        incoming = ProblemAcceptSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.accept_problem, request.user, problem, incoming.validated_data.get("note", "")
        )
        return Response(self._read(problem.pk))

    @_moved(
        "Send the rectification back, with the reason (the inspection group)",
        ProblemSendBackSerializer,
    )
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request: Request, pk: str, **kwargs: Any) -> Response:
        problem = self.get_object()
        incoming = ProblemSendBackSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(services.send_back, request.user, problem, incoming.validated_data["reason"])
        return Response(self._read(problem.pk))

    @extend_schema(
        summary="Download one photo of a problem's answers",
        parameters=[OpenApiParameter("photo_pk", int, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"photos/(?P<photo_pk>[0-9]+)",
        url_name="photo",
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def photo(self, request: Request, pk: str, photo_pk: str, format=None):  # noqa: A002
        problems = selectors.visible_problems(request.user)
        return upload_in_scope(
            lambda pk: RectificationPhoto.objects.filter(
                answer__problem__in=problems.filter(pk=pk).values("pk")
            ),
            pk,
            photo_pk,
            format,
        )


# --- Annual reports -----------------------------------------------------------------------------


class CampaignAnnualReportSerializer(serializers.ModelSerializer):
    """A secretary's annual report (述职评议) and the committee's assessment."""

    organization_name = serializers.CharField(source="organization.name", read_only=True)
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    assessment = PlainChoiceField(
        choices=_with_blank(Assessment.choices),
        read_only=True,
        help_text="Empty until the committee assesses it.",
    )
    assessment_display = serializers.CharField(source="get_assessment_display", read_only=True)

    class Meta:
        model = AnnualReport
        fields = [
            "id",
            "organization",
            "organization_name",
            "unit",
            "unit_name",
            "year",
            "report",
            "assessment",
            "assessment_display",
            "assessed_on",
        ]
        read_only_fields = fields


class CampaignAssessSerializer(serializers.Serializer):
    assessment = PlainChoiceField(choices=Assessment.choices)


class CampaignAnnualReportViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Annual reports of the organizations in your scope; committee staff assess them."""

    read_capability = "organization.view"
    write_capability = "campaign.manage"
    action_capabilities = {"assess": "campaign.manage"}

    serializer_class = CampaignAnnualReportSerializer
    filterset_class = AnnualReportFilter
    search_fields = ["organization__name", "report"]
    ordering_fields = ["year", "assessed_on"]
    ordering = ["-year", "organization__path", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[AnnualReport]:
        return selectors.visible_annual_reports(user).select_related("organization__unit")

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "assess":
            return CampaignAssessSerializer
        return CampaignAnnualReportSerializer

    @extend_schema(
        summary="Assess an annual report (staff): good, fairly good, average or poor",
        request=CampaignAssessSerializer,
        responses={200: CampaignAnnualReportSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def assess(self, request: Request, pk: str, **kwargs: Any) -> Response:
        report = self.get_object()
        incoming = CampaignAssessSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.assess_annual_report,
            request.user,
            report,
            incoming.validated_data["assessment"],
        )
        row = self.scoped_queryset(request.user).get(pk=report.pk)
        return Response(
            CampaignAnnualReportSerializer(row, context=self.get_serializer_context()).data
        )


# --- Inspection groups and their visits ---------------------------------------------------------


class CampaignGroupSerializer(serializers.ModelSerializer):
    """An inspection group (督导组): its members, the units and towns it visits."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    members = CampaignPersonSerializer(many=True, read_only=True)
    units = CampaignUnitRefSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionGroup
        fields = ["id", "campaign", "campaign_name", "name", "members", "units", "towns"]
        read_only_fields = fields


class CampaignGroupViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Inspection groups: all of them for committee staff, else those you are a member of."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = CampaignGroupSerializer
    filterset_class = InspectionGroupFilter
    search_fields = ["name", "towns"]
    ordering_fields = ["name"]
    ordering = ["campaign_id", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[InspectionGroup]:
        return (
            selectors.visible_groups(user)
            .select_related("campaign")
            .prefetch_related(
                Prefetch("members", queryset=User.objects.order_by("username")),
                Prefetch("units", queryset=Unit.objects.order_by("sort_order", "pk")),
            )
        )


class CampaignVisitSerializer(serializers.ModelSerializer):
    """What an inspection group did where: 听、看、查、访."""

    group_name = serializers.CharField(source="group.name", read_only=True)
    campaign = serializers.IntegerField(source="group.campaign_id", read_only=True)
    method = PlainChoiceField(choices=VisitMethod.choices, read_only=True)
    method_display = serializers.CharField(source="get_method_display", read_only=True)

    class Meta:
        model = VisitLog
        fields = [
            "id",
            "group",
            "group_name",
            "campaign",
            "date",
            "method",
            "method_display",
            "place",
            "notes",
        ]
        read_only_fields = fields


class CampaignVisitViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The visit logs of the inspection groups you may read (staff: all; else your own)."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = CampaignVisitSerializer
    filterset_class = VisitLogFilter
    search_fields = ["place", "notes"]
    ordering_fields = ["date"]
    ordering = ["-date", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[VisitLog]:
        return VisitLog.objects.filter(
            group__in=selectors.visible_groups(user).values("pk")
        ).select_related("group")


# --- Key tasks ----------------------------------------------------------------------------------


class CampaignKeyMeasureSerializer(serializers.ModelSerializer):
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    done = serializers.SerializerMethodField(help_text="done_on is set.")

    class Meta:
        model = KeyMeasure
        fields = [
            "id",
            "description",
            "organization",
            "organization_name",
            "deadline",
            "progress",
            "done_on",
            "done",
        ]
        read_only_fields = fields

    def get_done(self, obj: KeyMeasure) -> bool:
        return obj.done_on is not None


class CampaignKeyTaskSerializer(serializers.ModelSerializer):
    """A key task of a campaign's list, with the measures owned by organizations in your
    scope."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    measures = CampaignKeyMeasureSerializer(many=True, read_only=True)

    class Meta:
        model = KeyTask
        fields = ["id", "campaign", "campaign_name", "title", "sort_order", "measures"]
        read_only_fields = fields


class CampaignKeyTaskViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Key tasks (重点任务) with a measure owned by an organization in your scope."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = CampaignKeyTaskSerializer
    filterset_class = KeyTaskFilter
    search_fields = ["title"]
    ordering_fields = ["sort_order"]
    ordering = ["campaign_id", "sort_order", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[KeyTask]:
        measures = (
            selectors.visible_key_measures(user)
            .select_related("organization")
            .order_by("deadline", "pk")
        )
        return (
            selectors.visible_key_tasks(user)
            .select_related("campaign")
            .prefetch_related(Prefetch("measures", queryset=measures))
        )


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the project's one router."""
    router.register("campaigns", CampaignViewSet, basename="campaign")
    router.register(
        "campaign-participations", CampaignParticipationViewSet, basename="campaign-participation"
    )
    router.register("campaign-activities", CampaignActivityViewSet, basename="campaign-activity")
    router.register("problems", ProblemViewSet, basename="problem")
    router.register(
        "campaign-annual-reports", CampaignAnnualReportViewSet, basename="campaign-annual-report"
    )
    router.register("campaign-groups", CampaignGroupViewSet, basename="campaign-group")
    router.register("campaign-visits", CampaignVisitViewSet, basename="campaign-visit")
    router.register("campaign-key-tasks", CampaignKeyTaskViewSet, basename="campaign-key-task")
