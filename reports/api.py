"""The reports API: the ledgers (台账) on offer, ledger export jobs, monthly bulletins.

- `/api/ledgers/`: the registered ledgers with their filters (no database rows behind them).
- `/api/ledger-exports/`: your own export jobs. POST starts one — always in the background here,
  whatever its size — through `reports.services.start_export`, after the same filter checks as
  the portal (`LedgerFilterForm`: unit and organization must be in your scope); a bad filter is
  a 400 keyed by field. Poll the job (`retrieve`) for status and progress, then GET `download`.
  Anybody else's job is a 404 for every method.
- `/api/bulletins/`: the months with a bulletin and their city totals; one month (`2026-10`)
  with the unit ranking and the organization lines cut to your scope, as on the portal page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from branches.api import IgnoreClientContentNegotiation
from config.api_base import ScopedReadOnlyViewSet, ScopedViewSetMixin

from . import services
from .forms import FILTER_NAMES
from .ledgers import Ledger, LedgerFilterForm, all_ledgers, get_ledger
from .models import Bulletin, BulletinRow, BulletinUnitRow, ExportStatus, LedgerExport
from .selectors import bulletin_rows, bulletin_unit_rows, ledger_title
from .views import bulletin_for_month, export_file_response

if TYPE_CHECKING:
    from accounts.models import User


def _active(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


# --- Ledgers ----------------------------------------------------------------------------------


class LedgerColumnSerializer(serializers.Serializer):
    header = serializers.CharField()
    type = serializers.CharField(help_text="text, int, decimal, money, percent, date, datetime…")


class LedgerSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    filters = serializers.ListField(
        child=serializers.CharField(),
        help_text="The filters this ledger takes, of: unit, organization, period.",
    )
    period_required = serializers.BooleanField()
    period_kinds = serializers.ListField(
        child=serializers.CharField(),
        help_text="Which periods it takes: month (2026-03), quarter (2026-Q1), year (2026).",
    )
    columns = LedgerColumnSerializer(many=True)

    def to_representation(self, ledger: type[Ledger]) -> dict[str, Any]:
        return {
            "code": ledger.code,
            "title": str(ledger.title),
            "description": str(ledger.description),
            "filters": list(ledger.filters),
            "period_required": ledger.period_required,
            "period_kinds": list(ledger.period_kinds),
            "columns": [{"header": str(c.header), "type": c.type} for c in ledger.columns],
        }


@extend_schema_view(
    list=extend_schema(summary="The ledgers you may download", filters=False),
    retrieve=extend_schema(
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH)], filters=False
    ),
)
class LedgerViewSet(viewsets.GenericViewSet):
    """The ledgers (台账) on offer and their filters. Each holds only rows in your scope; the
    unit and organization filters take ids from /api/units/ and /api/organizations/."""

    serializer_class = LedgerSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"

    def list(self, request: Request) -> Response:
        return Response(LedgerSerializer(all_ledgers(), many=True).data)

    def retrieve(self, request: Request, code: str) -> Response:
        ledger = get_ledger(code)
        if ledger is None:
            raise NotFound
        return Response(LedgerSerializer(ledger).data)


# --- Ledger export jobs -----------------------------------------------------------------------


class LedgerExportSerializer(serializers.ModelSerializer):
    ledger_title = serializers.SerializerMethodField()
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent done, 0-100.")
    download_url = serializers.SerializerMethodField(
        help_text="Where to fetch the .xlsx once the job is done; null until then."
    )

    class Meta:
        model = LedgerExport
        fields = [
            "id",
            "ledger",
            "ledger_title",
            "params",
            "status",
            "status_display",
            "progress",
            "rows_written",
            "rows_total",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_ledger_title(self, obj: LedgerExport) -> str:
        return ledger_title(obj.ledger)

    def get_download_url(self, obj: LedgerExport) -> str | None:
        if obj.status != ExportStatus.DONE or not obj.file:
            return None
        path = reverse("ledger-export-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class LedgerExportCreateSerializer(serializers.Serializer):
    """What to build: a ledger code and its filters (ids in your scope, a period code)."""

    ledger = serializers.CharField(help_text="A code from /api/ledgers/.")
    unit = serializers.IntegerField(required=False, allow_null=True)
    organization = serializers.IntegerField(
        required=False, allow_null=True, help_text="This organization and all under it."
    )
    period = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="A month (2026-03), a quarter (2026-Q1) or a year (2026).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ledger_cls = get_ledger(attrs["ledger"])
        if ledger_cls is None:
            raise serializers.ValidationError(
                {"ledger": [gettext("Unknown ledger: %(code)s") % {"code": attrs["ledger"]}]}
            )
        given = {name: attrs[name] for name in FILTER_NAMES if attrs.get(name) not in (None, "")}
        # A filter the ledger does not take would be silently ignored: say so instead.
        unknown = {
            name: [gettext("This ledger has no such filter.")]
            for name in given
            if name not in ledger_cls.filters
        }
        if unknown:
            raise serializers.ValidationError(unknown)
        form = LedgerFilterForm(ledger_cls, self.context["request"].user, data=given)
        if not form.is_valid():
            raise serializers.ValidationError(
                {
                    ("non_field_errors" if key == "__all__" else key): list(errors)
                    for key, errors in form.errors.items()
                }
            )
        attrs["ledger_cls"] = ledger_cls
        attrs["params"] = form.params()
        return attrs


@extend_schema_view(
    list=extend_schema(summary="Your ledger export jobs, newest first"),
    retrieve=extend_schema(summary="Poll one job: status, progress, download link"),
    create=extend_schema(
        summary="Start building a ledger in the background",
        request=LedgerExportCreateSerializer,
        responses={201: LedgerExportSerializer},
    ),
)
class LedgerExportViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Your own ledger export jobs: nobody else's are listed, and theirs are a 404."""

    serializer_class = LedgerExportSerializer
    filterset_fields = ["status", "ledger"]
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at"]

    def scoped_queryset(self, user: User | None) -> QuerySet[LedgerExport]:
        if not _active(user):
            return LedgerExport.objects.none()
        return LedgerExport.objects.filter(owner=user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = LedgerExportCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        export = services.start_export(request.user, data["ledger_cls"].code, data["params"])
        body = LedgerExportSerializer(export, context={"request": request}).data
        location = reverse("ledger-export-detail", args=[export.pk])
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(
        summary="Download the built .xlsx (404 until the job is done)",
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def download(self, request: Request, pk: str) -> Any:
        export = self.get_object()
        if export.status != ExportStatus.DONE or not export.file:
            raise NotFound
        return export_file_response(export)

    @extend_schema(
        summary="Build a failed job again",
        request=None,
        responses={202: LedgerExportSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        export = self.get_object()
        try:
            export = services.retry_export(request.user, export)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"non_field_errors": exc.messages}) from exc
        body = LedgerExportSerializer(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


# --- Bulletins --------------------------------------------------------------------------------


class BulletinSerializer(serializers.ModelSerializer):
    month = serializers.SerializerMethodField(help_text="YYYY-MM")
    compliance_rate = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Compliant / owing organizations, 0-1."
    )
    completion_rate = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Activities held / owed, 0-1."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = [
            "month",
            "built_at",
            "organization_count",
            "compliant_count",
            "compliance_rate",
            "owed",
            "held",
            "completion_rate",
            "overdue_election_count",
            "url",
        ]

    def get_month(self, obj: Bulletin) -> str:
        return f"{obj.month:%Y-%m}"

    def get_url(self, obj: Bulletin) -> str:
        path = reverse("bulletin-detail", args=[f"{obj.month:%Y-%m}"])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class BulletinUnitRowSerializer(serializers.ModelSerializer):
    compliance_rate = serializers.FloatField(help_text="0-1")

    class Meta:
        model = BulletinUnitRow
        fields = [
            "rank",
            "unit",
            "unit_name",
            "organization_count",
            "compliant_count",
            "owed",
            "held",
            "compliance_rate",
        ]


class BulletinRowSerializer(serializers.ModelSerializer):
    compliant = serializers.BooleanField(read_only=True)

    class Meta:
        model = BulletinRow
        fields = [
            "organization",
            "organization_name",
            "organization_code",
            "organization_kind",
            "unit",
            "unit_name",
            "owed",
            "held",
            "missing",
            "compliant",
            "missing_detail",
            "election_due_on",
            "election_overdue",
        ]


class BulletinDetailSerializer(BulletinSerializer):
    unit_rows = BulletinUnitRowSerializer(
        many=True,
        source="scoped_unit_rows",
        help_text="The unit ranking: every unit for staff and city-wide inspectors, your units "
        "for an inspector of units, none for a secretary.",
    )
    rows = BulletinRowSerializer(
        many=True,
        source="scoped_rows",
        help_text="Every organization line in your scope (a secretary: their organization's).",
    )

    class Meta(BulletinSerializer.Meta):
        fields = [*BulletinSerializer.Meta.fields, "unit_rows", "rows"]


@extend_schema_view(
    list=extend_schema(summary="Months with a bulletin and their city totals"),
    retrieve=extend_schema(
        summary="One month's bulletin, cut to your scope",
        parameters=[
            OpenApiParameter(
                "month", str, OpenApiParameter.PATH, description="YYYY-MM", pattern=r"^\d{4}-\d{2}$"
            )
        ],
        filters=False,
    ),
)
class BulletinViewSet(ScopedReadOnlyViewSet):
    """Monthly organizational life bulletins, as built (never recomputed)."""

    serializer_class = BulletinSerializer
    lookup_field = "month"
    lookup_value_regex = r"[0-9]{4}-[0-9]{2}"
    ordering_fields = ["month"]
    ordering = ["-month"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Bulletin]:
        # The headline figures are the published city-wide ones; the lines are cut per user.
        if not _active(user):
            return Bulletin.objects.none()
        return Bulletin.objects.all()

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return BulletinDetailSerializer if self.action == "retrieve" else BulletinSerializer

    def get_object(self) -> Bulletin:
        if not _active(self.request.user):
            raise NotFound
        bulletin = bulletin_for_month(self.kwargs["month"])
        self.check_object_permissions(self.request, bulletin)
        return bulletin

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Queries: the bulletin, its unit lines in scope, its organization lines in scope.
        bulletin = self.get_object()
        bulletin.scoped_unit_rows = list(bulletin_unit_rows(request.user, bulletin))
        bulletin.scoped_rows = list(bulletin_rows(request.user, bulletin))
        return Response(self.get_serializer(bulletin).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the project's one router."""
    router.register("ledgers", LedgerViewSet, basename="ledger")
    router.register("ledger-exports", LedgerExportViewSet, basename="ledger-export")
    router.register("bulletins", BulletinViewSet, basename="bulletin")
