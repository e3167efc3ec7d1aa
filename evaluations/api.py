"""The API of evaluations (评比表彰): programs with their stages and criteria (read by everyone),
applications from draft to award, the reviewers' sheets, designations (titles awarded) with
their re-reviews, and the honour roll.

Rows come only from `evaluations.selectors` (through `config.api_base`): outside the scope is a
404. A secretary sees their organizations' applications, an assigned reviewer the applications
of their programs (not drafts), staff all of them; stage results and the portal's evidence are
shown to reviewers and staff only, and the result of a stage still being scored only to staff
and to a reviewer who has submitted their own sheet for it (as `selectors.sheets_visible_to`
shows the others' sheets).

Writes go through `evaluations.services`: the serializers check the shape of a request (ids
only in the user's scope, so an answer never names anything outside it), the services the
rules; a service's ValidationError becomes a 400 with the same field keys, its
PermissionDenied a 403. Inspectors never write applications (a 403 before any lookup).

Lists cost the same number of queries for 5 rows or 500: stages, criteria, self-assessments,
attachments and re-reviews are prefetched; stage results and evidence are read once per page.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter
from rest_framework.utils import html

from accounts import access
from branches.models import Organization, OrganizationKind
from config.api_base import (
    MAX_ID,
    IgnoreClientContentNegotiation,
    ScopedViewSetMixin,
    service_errors,
    upload_in_scope,
)
from pairings.api import PlainChoiceField, ScopedIdField

from . import rules, selectors, services
from .filters import ApplicationFilter, DesignationFilter, ProgramFilter
from .models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Evidence,
    Program,
    ProgramKind,
    ReReview,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    SelfAssessment,
    Stage,
    StageKind,
)

if TYPE_CHECKING:
    from accounts.models import User


SCORE = {"max_digits": 6, "decimal_places": 2}
MAX_ITEMS = 200  # criteria in one request (a program has about five per organization kind)


def _absolute(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def _call_service(function, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(service_errors(exc)) from exc


def _programs(user: User | None) -> QuerySet[Program]:
    """Programs are shared by everybody who may log in (no organization to scope by)."""
    if not access.is_active_user(user):
        return Program.objects.none()
    return Program.objects.all()


def _applying_organizations(user: User | None) -> QuerySet[Organization]:
    return access.organizations_where(user, "evaluation.apply")


def _nominable_organizations(user: User | None) -> QuerySet[Organization]:
    return access.organizations_where(user, "evaluation.manage")


# --- Programs ---------------------------------------------------------------------------------


class EvaluationStageSerializer(serializers.ModelSerializer):
    kind = PlainChoiceField(choices=StageKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    pass_threshold = serializers.DecimalField(
        **SCORE, read_only=True, help_text="The stage's result (out of 100) needed to go on."
    )

    class Meta:
        model = Stage
        fields = ["id", "kind", "kind_display", "name", "order", "pass_threshold"]
        read_only_fields = fields


class EvaluationCriterionSerializer(serializers.ModelSerializer):
    organization_kind = PlainChoiceField(choices=OrganizationKind.choices, read_only=True)
    organization_kind_display = serializers.CharField(
        source="get_organization_kind_display", read_only=True
    )
    measure = PlainChoiceField(
        choices=Evidence.choices,
        read_only=True,
        help_text="What the portal's own data says about it (evidence); empty for none.",
    )
    measure_display = serializers.CharField(source="get_measure_display", read_only=True)

    class Meta:
        model = Criterion
        fields = [
            "id",
            "organization_kind",
            "organization_kind_display",
            "name",
            "description",
            "weight",
            "max_score",
            "measure",
            "measure_display",
            "sort_order",
        ]
        read_only_fields = fields


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": 'At most this many awards per organization kind, e.g. {"branch": 90}.',
    }
)
class QuotaField(serializers.Field):
    """The quota as whole numbers by organization kind (a value that is not one is left out)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for kind, number in (value or {}).items() if isinstance(value, dict) else ():
            try:
                found[str(kind)] = int(number)
            except (TypeError, ValueError, OverflowError):
                continue
        return found


class EvaluationProgramSerializer(serializers.ModelSerializer):
    """A program: its application window, quota, title, stages and criteria (for each
    organization kind, with their maximum, weight and the evidence they are bound to)."""

    kind = PlainChoiceField(choices=ProgramKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    open_now = serializers.SerializerMethodField(help_text="Taking applications today.")
    quota = QuotaField()
    stages = EvaluationStageSerializer(many=True, read_only=True)
    criteria = EvaluationCriterionSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "year",
            "opens_on",
            "closes_on",
            "open_now",
            "quota",
            "title",
            "valid_years",
            "trimmed_mean_from",
            "stages",
            "criteria",
        ]
        read_only_fields = fields

    def get_open_now(self, obj: Program) -> bool:
        return rules.window_open(obj, timezone.localdate())


class EvaluationProgramViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluation programs (双示范, five-star branches, brands...), read by everyone who may
    log in. Committee staff run them in the admin."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = EvaluationProgramSerializer
    filterset_class = ProgramFilter
    search_fields = ["name", "title"]
    ordering_fields = ["year", "opens_on", "closes_on", "name"]
    ordering = ["-year", "name", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Program]:
        return _programs(user).prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("order", "pk")),
            Prefetch(
                "criteria",
                queryset=Criterion.objects.order_by("organization_kind", "sort_order", "pk"),
            ),
        )


# --- Applications: what is read ---------------------------------------------------------------


class SelfAssessmentSerializer(serializers.ModelSerializer):
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    max_score = serializers.DecimalField(source="criterion.max_score", **SCORE, read_only=True)
    measure = PlainChoiceField(
        source="criterion.measure",
        choices=Evidence.choices,
        read_only=True,
        help_text="The evidence the criterion is bound to (see the application's evidence).",
    )

    class Meta:
        model = SelfAssessment
        fields = ["criterion", "criterion_name", "max_score", "measure", "score", "evidence"]
        read_only_fields = fields


class ApplicationAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField(help_text="Download (scoped, like the application).")

    class Meta:
        model = ApplicationAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: ApplicationAttachment) -> str:
        path = reverse("evaluation-application-attachment", args=[obj.application_id, obj.pk])
        return _absolute(self.context.get("request"), path)


class StageResultSerializer(serializers.Serializer):
    stage = serializers.IntegerField()
    name = serializers.CharField()
    order = serializers.IntegerField()
    pass_threshold = serializers.DecimalField(**SCORE)
    result = serializers.DecimalField(
        **SCORE,
        allow_null=True,
        help_text="Mean of the reviewers' totals out of 100 (trimmed from the program's "
        "trimmed_mean_from reviewers on); null: none yet, or the stage is being scored and "
        "your own sheet for it is not in.",
    )
    current = serializers.BooleanField(help_text="The application's current stage.")


class ApplicationEvidenceSerializer(serializers.Serializer):
    """What the portal's own data says about the organization (shown to reviewers beside the
    self-assessment)."""

    activity_share = serializers.FloatField(
        allow_null=True, help_text="Share of 三会一课 held in the year before the program's (0-1)."
    )
    election_on_time = serializers.BooleanField(
        allow_null=True, help_text="The current term is not overdue; null without a term."
    )
    no_open_problems = serializers.BooleanField(
        allow_null=True, help_text="No open rectification problems; null until recorded."
    )
    pairing_docked = serializers.BooleanField(allow_null=True, help_text="A pairing docked.")


@dataclass
class ReviewExtras:
    """Stage results and evidence of a page of applications, read once for the page."""

    results: dict[int, dict[int, Decimal | None]] = field(default_factory=dict)
    evidence: dict[int, dict[str, object]] = field(default_factory=dict)
    sees_every_result: bool = False
    own_sheets: set[tuple[int, int]] = field(default_factory=set)


class EvaluationApplicationSerializer(serializers.ModelSerializer):
    """An application with its self-assessment and attachments; for reviewers and staff also
    the result of each stage and the portal's evidence (null for the others)."""

    program_name = serializers.CharField(source="program.name", read_only=True)
    program_kind = PlainChoiceField(
        source="program.kind", choices=ProgramKind.choices, read_only=True
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    organization_kind = PlainChoiceField(
        source="organization.kind", choices=OrganizationKind.choices, read_only=True
    )
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    status = PlainChoiceField(choices=ApplicationStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True, allow_null=True)
    stage_order = serializers.IntegerField(source="stage.order", read_only=True, allow_null=True)
    self_assessments = SelfAssessmentSerializer(many=True, read_only=True)
    attachments = ApplicationAttachmentSerializer(many=True, read_only=True)
    designation = serializers.SerializerMethodField(help_text="The title awarded (its id).")
    stage_results = serializers.SerializerMethodField(
        help_text="Each stage of the program with its result: reviewers and staff only."
    )
    evidence = serializers.SerializerMethodField(
        help_text="The portal's own data on the organization: reviewers and staff only."
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "program",
            "program_name",
            "program_kind",
            "organization",
            "organization_name",
            "organization_kind",
            "unit",
            "unit_name",
            "status",
            "status_display",
            "stage",
            "stage_name",
            "stage_order",
            "summary",
            "nominated",
            "created_at",
            "submitted_at",
            "decided_at",
            "self_assessments",
            "attachments",
            "designation",
            "stage_results",
            "evidence",
        ]
        read_only_fields = fields

    def _extras(self) -> ReviewExtras | None:
        return self.context.get("review_extras")

    def get_designation(self, obj: Application) -> int | None:
        try:
            return obj.designation.pk
        except Designation.DoesNotExist:
            return None

    @extend_schema_field(StageResultSerializer(many=True, allow_null=True))
    def get_stage_results(self, obj: Application) -> list[dict] | None:
        extras = self._extras()
        if extras is None:
            return None
        found = extras.results.get(obj.pk, {})
        lines = []
        for stage in obj.program.stages.all():
            current = stage.pk == obj.stage_id and obj.status == ApplicationStatus.UNDER_REVIEW
            hidden = (
                current
                and not extras.sees_every_result
                and (obj.pk, stage.pk) not in extras.own_sheets
            )
            lines.append(
                {
                    "stage": stage.pk,
                    "name": stage.name,
                    "order": stage.order,
                    "pass_threshold": stage.pass_threshold,
                    "result": None if hidden else found.get(stage.pk),
                    "current": current,
                }
            )
        return StageResultSerializer(lines, many=True).data

    @extend_schema_field(ApplicationEvidenceSerializer(allow_null=True))
    def get_evidence(self, obj: Application) -> dict | None:
        extras = self._extras()
        if extras is None:
            return None
        found = extras.evidence.get(obj.pk, {})
        return ApplicationEvidenceSerializer(
            {
                "activity_share": found.get(Evidence.ACTIVITY_SHARE),
                "election_on_time": found.get(Evidence.ELECTION_ON_TIME),
                "no_open_problems": found.get(Evidence.NO_OPEN_PROBLEMS),
                "pairing_docked": found.get(Evidence.PAIRING_DOCKED),
            }
        ).data


# --- Applications: what is written ------------------------------------------------------------


class JsonInFormListSerializer(serializers.ListSerializer):
    """A list of objects: JSON, or in a multipart form either DRF's `assessments[0]criterion`
    keys or one `assessments` field holding the list as JSON text."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary) and self.field_name in dictionary:
            raw = dictionary.get(self.field_name)
            try:
                return json.loads(raw)
            except (TypeError, ValueError, RecursionError):
                return raw  # refused as "not a list"
        return super().get_value(dictionary)


class AssessmentInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="A criterion of the program for the kind."
    )
    score = serializers.DecimalField(
        **SCORE,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        help_text="From 0 to the criterion's max_score; needed for every criterion to submit.",
    )
    evidence = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="What shows it."
    )

    class Meta:
        list_serializer_class = JsonInFormListSerializer


def _no_criterion_twice(items: list[dict], key: str) -> None:
    seen: set[int] = set()
    twice: set[int] = set()
    for item in items:
        (twice if item["criterion"] in seen else seen).add(item["criterion"])
    if twice:
        raise serializers.ValidationError(
            {
                key: [
                    gettext("Criterion %(id)s is given more than once.") % {"id": pk}
                    for pk in sorted(twice)
                ]
            }
        )


class ApplicationUpdateSerializer(serializers.Serializer):
    """Change a draft: what is sent replaces (a self-assessed criterion, the summary); what is
    not sent is kept. Files go in `new_attachments` (multipart); in a multipart form,
    `assessments` is a JSON list or `assessments[0]criterion` fields."""

    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    assessments = AssessmentInputSerializer(many=True, required=False, max_length=MAX_ITEMS)
    new_attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=50,
        help_text="Photos (JPEG, PNG, WebP, HEIC) or PDF; multipart only.",
    )

    def validate(self, attrs: dict) -> dict:
        _no_criterion_twice(attrs.get("assessments", []), "assessments")
        return attrs

    @staticmethod
    def assessments_of(attrs: dict) -> list[services.AssessmentInput]:
        return [
            services.AssessmentInput(a["criterion"], a.get("score"), a.get("evidence", ""))
            for a in attrs.get("assessments", [])
        ]


class ApplicationCreateSerializer(ApplicationUpdateSerializer):
    """A draft application of an organization in your scope to a program whose window is
    open: one per organization per program. Submit it with the `submit` action."""

    program = ScopedIdField(_programs)
    organization = ScopedIdField(
        _applying_organizations, help_text="An organization you may apply for."
    )


class NominateSerializer(serializers.Serializer):
    """Committee staff nominate an organization: a submitted application without a
    self-assessment."""

    program = ScopedIdField(_programs)
    organization = ScopedIdField(_nominable_organizations)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class DecideSerializer(serializers.Serializer):
    award = serializers.BooleanField(
        help_text="true: award the title (after the last stage, within the quota); false: not."
    )


# --- Review sheets ------------------------------------------------------------------------------


class ReviewScoreSerializer(serializers.ModelSerializer):
    criterion_name = serializers.CharField(source="criterion.name", read_only=True)
    max_score = serializers.DecimalField(source="criterion.max_score", **SCORE, read_only=True)

    class Meta:
        model = Score
        fields = ["criterion", "criterion_name", "max_score", "score", "comment"]
        read_only_fields = fields


class ReviewSheetSerializer(serializers.ModelSerializer):
    """One reviewer's scores of an application at one stage, with their total out of 100."""

    stage_name = serializers.CharField(source="stage.name", read_only=True)
    stage_order = serializers.IntegerField(source="stage.order", read_only=True)
    reviewer_name = serializers.CharField(source="reviewer.display_name", read_only=True)
    scores = ReviewScoreSerializer(many=True, read_only=True)

    class Meta:
        model = ReviewSheet
        fields = [
            "id",
            "application",
            "stage",
            "stage_name",
            "stage_order",
            "reviewer",
            "reviewer_name",
            "total",
            "submitted_at",
            "scores",
        ]
        read_only_fields = fields


class ScoreInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    score = serializers.DecimalField(
        **SCORE, min_value=Decimal("0"), help_text="From 0 to the criterion's max_score."
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)

    class Meta:
        list_serializer_class = JsonInFormListSerializer


class ReviewSheetCreateSerializer(serializers.Serializer):
    """Your scores of every criterion of the application at its current stage, once per
    stage. You never score your own organization, one above it or one under it."""

    stage = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="The stage you scored (optional): refused if the application moved on.",
    )
    scores = ScoreInputSerializer(many=True, max_length=MAX_ITEMS)

    def validate(self, attrs: dict) -> dict:
        _no_criterion_twice(attrs["scores"], "scores")
        return attrs


# --- Applications: the viewset ----------------------------------------------------------------


def _application_read(what: str, request=None, code: int = 200):
    return extend_schema(
        summary=what,
        request=request,
        responses={code: EvaluationApplicationSerializer},
        filters=False,
    )


@extend_schema_view(
    create=extend_schema(
        summary="Start a draft application (multipart for attachments)",
        request=ApplicationCreateSerializer,
        responses={201: EvaluationApplicationSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a draft application",
        request=ApplicationUpdateSerializer,
        responses={200: EvaluationApplicationSerializer},
    ),
)
class EvaluationApplicationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Applications to evaluation programs: a secretary's own organizations', the programs'
    you review (submitted and later), or all for committee staff. Secretaries start, change,
    submit and withdraw them; staff nominate, start the review, close stages and decide;
    reviewers post their sheets."""

    read_capability = "organization.view"
    write_capability = "evaluation.apply"
    action_capabilities = {
        "nominate": "evaluation.manage",
        "start_review": "evaluation.manage",
        "close_stage": "evaluation.manage",
        "decide": "evaluation.manage",
        "sheets": "evaluation.score",
    }

    serializer_class = EvaluationApplicationSerializer
    filterset_class = ApplicationFilter
    search_fields = ["organization__name", "program__name"]
    ordering_fields = ["created_at", "submitted_at", "decided_at"]
    ordering = ["-program__year", "program_id", "organization__path", "pk"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scoped_queryset(self, user: User | None) -> QuerySet[Application]:
        visible = selectors.visible_applications(user)
        if getattr(self, "action", None) not in ("list", "retrieve"):
            return visible.select_related("program", "organization")
        return self._for_display(visible)

    @staticmethod
    def _for_display(applications: QuerySet[Application]) -> QuerySet[Application]:
        return applications.select_related(
            "program", "organization__unit", "stage", "designation"
        ).prefetch_related(
            Prefetch("program__stages", queryset=Stage.objects.order_by("order", "pk")),
            Prefetch(
                "self_assessments",
                queryset=SelfAssessment.objects.select_related("criterion").order_by(
                    "criterion__sort_order", "criterion_id"
                ),
            ),
            Prefetch("attachments", queryset=ApplicationAttachment.objects.order_by("pk")),
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "create": ApplicationCreateSerializer,
            "partial_update": ApplicationUpdateSerializer,
            "nominate": NominateSerializer,
            "decide": DecideSerializer,
        }.get(self.action, EvaluationApplicationSerializer)

    # Reading: stage results and evidence once for the page.

    def _review_extras(self, applications: list[Application]) -> ReviewExtras | None:
        user = self.request.user
        if not applications or not access.can(user, "evaluation.score"):
            return None  # secretaries: their own application, without the reviewers' view
        sees_every_result = access.can(user, "evaluation.manage")
        own: set[tuple[int, int]] = set()
        if not sees_every_result:
            own = set(
                ReviewSheet.objects.filter(
                    reviewer=user,
                    application_id__in=[a.pk for a in applications],
                    submitted_at__isnull=False,
                ).values_list("application_id", "stage_id")
            )
        return ReviewExtras(
            results=selectors.stage_results(applications),
            evidence=selectors.evidence(applications),
            sees_every_result=sees_every_result,
            own_sheets=own,
        )

    def _data(self, applications: list[Application]) -> list[dict]:
        context = self.get_serializer_context()
        context["review_extras"] = self._review_extras(applications)
        return EvaluationApplicationSerializer(applications, many=True, context=context).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self._data(list(queryset)))
        return self.get_paginated_response(self._data(page))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._data([self.get_object()])[0])

    def _read(self, pk: int) -> dict:
        found = self._for_display(selectors.visible_applications(self.request.user)).filter(pk=pk)
        row = found.first()
        if row is None:
            raise Http404
        return self._data([row])[0]

    # Writing: secretaries (evaluation.apply).

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = ApplicationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        made = _call_service(
            services.save_application,
            request.user,
            services.ApplicationInput(
                program=attrs["program"],
                organization=attrs["organization"],
                summary=attrs.get("summary", ""),
                assessments=ApplicationUpdateSerializer.assessments_of(attrs),
                attachments=list(attrs.get("new_attachments", [])),
            ),
        )
        return Response(self._read(made.pk), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.get_object()
        incoming = ApplicationUpdateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        _call_service(
            services.save_application,
            request.user,
            services.ApplicationInput(
                program=application.program,
                organization=application.organization,
                summary=attrs.get("summary", application.summary),
                assessments=ApplicationUpdateSerializer.assessments_of(attrs),
                attachments=list(attrs.get("new_attachments", [])),
            ),
            application,
        )
        return Response(self._read(application.pk))

    @_application_read("Submit a draft (before the deadline, every criterion self-assessed)")
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        _call_service(services.submit_application, request.user, application)
        return Response(self._read(application.pk))

    @_application_read("Withdraw an application before its review starts")
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        _call_service(services.withdraw_application, request.user, application)
        return Response(self._read(application.pk))

    # Staff (evaluation.manage).

    @_application_read("Nominate an organization (staff)", request=NominateSerializer, code=201)
    @action(detail=False, methods=["post"])
    def nominate(self, request: Request, **kwargs: Any) -> Response:
        incoming = NominateSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        made = _call_service(
            services.nominate,
            request.user,
            attrs["program"],
            attrs["organization"],
            attrs.get("summary", ""),
        )
        return Response(self._read(made.pk), status=status.HTTP_201_CREATED)

    @_application_read("Start the review at the program's first stage (staff)")
    @action(detail=True, methods=["post"], url_path="start-review", url_name="start-review")
    def start_review(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        _call_service(services.start_review, request.user, application)
        return Response(self._read(application.pk))

    @_application_read(
        "Close the current stage (staff): passed, on to the next; failed, not awarded"
    )
    @action(detail=True, methods=["post"], url_path="close-stage", url_name="close-stage")
    def close_stage(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        _call_service(services.close_stage, request.user, application)
        return Response(self._read(application.pk))

    @_application_read("Award the title or not (staff)", request=DecideSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        incoming = DecideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(services.decide, request.user, application, incoming.validated_data["award"])
        return Response(self._read(application.pk))

    # Reviewers (evaluation.score).

    @extend_schema(
        methods=["GET"],
        summary="The review sheets of an application you may read",
        description="Staff read every sheet; a reviewer their own, and the others' of a stage "
        "once theirs for that stage is submitted.",
        request=None,
        responses={200: ReviewSheetSerializer(many=True)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Post your review sheet for the application's current stage",
        request=ReviewSheetCreateSerializer,
        responses={201: ReviewSheetSerializer},
        filters=False,
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def sheets(self, request: Request, pk: str, **kwargs: Any) -> Response:
        application = self.get_object()
        if request.method == "GET":
            sheets = selectors.sheets_visible_to(request.user, application).prefetch_related(
                Prefetch(
                    "scores",
                    queryset=Score.objects.select_related("criterion").order_by(
                        "criterion__sort_order", "criterion_id"
                    ),
                )
            )
            return Response(ReviewSheetSerializer(sheets, many=True).data)
        incoming = ReviewSheetCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        attrs = incoming.validated_data
        stage = attrs.get("stage")
        if stage is not None and stage != application.stage_id:
            raise serializers.ValidationError(
                {"stage": [gettext("The application moved on; reload it.")]}
            )
        sheet = _call_service(
            services.submit_sheet,
            request.user,
            application,
            [
                services.ScoreInput(s["criterion"], s["score"], s.get("comment", ""))
                for s in attrs["scores"]
            ],
        )
        sheet = (
            ReviewSheet.objects.select_related("stage", "reviewer")
            .prefetch_related(
                Prefetch("scores", queryset=Score.objects.select_related("criterion"))
            )
            .get(pk=sheet.pk)
        )
        return Response(ReviewSheetSerializer(sheet).data, status=status.HTTP_201_CREATED)

    # Attachments, scoped like the application.

    @extend_schema(
        summary="Download one attachment of an application you may read",
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
    def attachment(self, request: Request, pk: str, attachment_pk: str, format=None):  # noqa: A002
        applications = selectors.visible_applications(request.user)
        return upload_in_scope(
            lambda pk: ApplicationAttachment.objects.filter(
                application__in=applications.filter(pk=pk).values("pk")
            ),
            pk,
            attachment_pk,
            format,
        )


# --- Designations -----------------------------------------------------------------------------


class ReReviewSerializer(serializers.ModelSerializer):
    outcome = PlainChoiceField(choices=ReReviewOutcome.choices, read_only=True)
    outcome_display = serializers.CharField(source="get_outcome_display", read_only=True)
    decided_by_name = serializers.SerializerMethodField()

    class Meta:
        model = ReReview
        fields = [
            "id",
            "due_on",
            "outcome",
            "outcome_display",
            "reason",
            "decided_on",
            "decided_by",
            "decided_by_name",
        ]
        read_only_fields = fields

    def get_decided_by_name(self, obj: ReReview) -> str | None:
        user = obj.decided_by
        return user.display_name if user is not None else None


class DesignationSerializer(serializers.ModelSerializer):
    """A title awarded, current or revoked (kept in the history), with its re-reviews."""

    program_name = serializers.CharField(source="program.name", read_only=True)
    program_kind = PlainChoiceField(
        source="program.kind", choices=ProgramKind.choices, read_only=True
    )
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    organization_kind = PlainChoiceField(
        source="organization.kind", choices=OrganizationKind.choices, read_only=True
    )
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    status = PlainChoiceField(choices=DesignationStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    due_for_re_review = serializers.SerializerMethodField(
        help_text="Current, and its validity ends within a month (or has ended)."
    )
    re_reviews = ReReviewSerializer(many=True, read_only=True)

    class Meta:
        model = Designation
        fields = [
            "id",
            "program",
            "program_name",
            "program_kind",
            "organization",
            "organization_name",
            "organization_kind",
            "unit",
            "unit_name",
            "application",
            "title",
            "awarded_on",
            "valid_until",
            "status",
            "status_display",
            "due_for_re_review",
            "re_review_listed_on",
            "revoked_on",
            "revoke_reason",
            "re_reviews",
        ]
        read_only_fields = fields

    def get_due_for_re_review(self, obj: Designation) -> bool:
        horizon = timezone.localdate() + datetime.timedelta(days=services.RE_REVIEW_NOTICE_DAYS)
        return obj.status == DesignationStatus.CURRENT and obj.valid_until <= horizon


class ReReviewCreateSerializer(serializers.Serializer):
    outcome = PlainChoiceField(
        choices=ReReviewOutcome.choices,
        help_text="kept: valid for another term; revoked: the title is taken back (优进劣出).",
    )
    reason = serializers.CharField(max_length=300)


class DesignationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Titles awarded to the organizations in your scope, current and revoked; committee
    staff re-review them (kept for another term, or revoked with a reason)."""

    read_capability = "organization.view"
    write_capability = "evaluation.manage"
    action_capabilities = {"re_review": "evaluation.manage"}

    serializer_class = DesignationSerializer
    filterset_class = DesignationFilter
    search_fields = ["organization__name", "title"]
    ordering_fields = ["awarded_on", "valid_until"]
    ordering = ["-awarded_on", "organization__path", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Designation]:
        return (
            selectors.visible_designations(user)
            .select_related("program", "organization__unit")
            .prefetch_related(
                Prefetch(
                    "re_reviews",
                    queryset=ReReview.objects.select_related("decided_by").order_by(
                        "-decided_on", "-pk"
                    ),
                )
            )
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "re_review":
            return ReReviewCreateSerializer
        return DesignationSerializer

    @extend_schema(
        summary="Re-review a title (staff): keep it for another term or revoke it",
        request=ReReviewCreateSerializer,
        responses={200: DesignationSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="re-review", url_name="re-review")
    def re_review(self, request: Request, pk: str, **kwargs: Any) -> Response:
        designation = self.get_object()
        incoming = ReReviewCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.re_review,
            request.user,
            designation,
            incoming.validated_data["outcome"],
            incoming.validated_data["reason"],
        )
        row = self.scoped_queryset(request.user).get(pk=designation.pk)
        return Response(DesignationSerializer(row, context=self.get_serializer_context()).data)


# --- The honour roll ----------------------------------------------------------------------------


class HonourRollQuerySerializer(serializers.Serializer):
    program = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Titles of this program only."
    )
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text="Programs of this year only."
    )


class HonourRollLineSerializer(serializers.Serializer):
    program_kind = PlainChoiceField(choices=ProgramKind.choices)
    program_kind_display = serializers.CharField()
    organization_kind = PlainChoiceField(choices=OrganizationKind.choices)
    organization_kind_display = serializers.CharField()
    count = serializers.IntegerField()


@extend_schema_serializer(many=False)  # one object, though the route is a list route
class HonourRollSerializer(serializers.Serializer):
    program = serializers.IntegerField(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(help_text="Current titles.")
    counts = HonourRollLineSerializer(
        many=True, help_text="Current titles by program kind and organization kind."
    )


@extend_schema_view(
    list=extend_schema(
        summary="The honour roll: current titles by program kind and organization kind",
        description="A title is a public honour: the counts are the whole city's, for every "
        "user of the portal.",
        parameters=[HonourRollQuerySerializer],
        responses={200: HonourRollSerializer},
        filters=False,
    )
)
class HonourRollViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Current titles counted by program kind and organization kind, in one query."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = HonourRollSerializer
    filter_backends: list = []
    pagination_class = None

    def scoped_queryset(self, user: User | None) -> QuerySet[Designation]:
        if not access.is_active_user(user):
            return Designation.objects.none()
        return selectors.honour_roll()

    def list(self, request: Request, **kwargs: Any) -> Response:
        query = HonourRollQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        program = query.validated_data.get("program")
        year = query.validated_data.get("year")
        program_kinds = dict(ProgramKind.choices)
        organization_kinds = dict(OrganizationKind.choices)
        counts = [
            {
                "program_kind": line["program__kind"],
                "program_kind_display": program_kinds.get(
                    line["program__kind"], line["program__kind"]
                ),
                "organization_kind": line["organization__kind"],
                "organization_kind_display": organization_kinds.get(
                    line["organization__kind"], line["organization__kind"]
                ),
                "count": line["n"],
            }
            for line in selectors.titles_by_kind(selectors.honour_roll(program, year))
        ]
        body = {
            "program": program,
            "year": year,
            "total": sum(line["count"] for line in counts),
            "counts": counts,
        }
        return Response(HonourRollSerializer(body).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the project's one router."""
    router.register("evaluation-programs", EvaluationProgramViewSet, basename="evaluation-program")
    router.register(
        "evaluation-applications", EvaluationApplicationViewSet, basename="evaluation-application"
    )
    router.register(
        "evaluation-designations", DesignationViewSet, basename="evaluation-designation"
    )
    router.register("evaluation-honour-roll", HonourRollViewSet, basename="evaluation-honour-roll")
