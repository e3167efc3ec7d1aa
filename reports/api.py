"""The reports API: the ledgers (台账) on offer, ledger export jobs, monthly bulletins.

- `/api/ledgers/`: the registered ledgers with the filters each declares and the columns you
  would get (no database rows behind them).
- `/api/ledger-exports/`: your own export jobs. POST starts one — always in the background here,
  whatever its size — through `reports.services.start_export`, after the same filter checks as
  the portal (`LedgerFilterForm`, built from the ledger's own filters: choices in your scope); a
  bad filter is a 400 keyed by field. Poll the job (`retrieve`) for status and progress, then
  GET `download`. Anybody else's job is a 404 for every method.
- `/api/bulletins/`: the months with a bulletin and their city totals; one month (`2026-10`)
  with the unit ranking and the organization lines cut to your scope, as on the portal page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from accounts import access
from config.api_base import (
    IgnoreClientContentNegotiation,
    ScopedReadOnlyViewSet,
    ScopedViewSetMixin,
)
from config.files import XLSX, stored_file_response

from . import services
from .ledgers import (
    Ledger,
    LedgerFilterForm,
    PeriodFilter,
    all_filter_names,
    all_ledgers,
    get_ledger,
    unknown_filter_errors,
)
from .models import Bulletin, BulletinRow, BulletinUnitRow, ExportStatus, LedgerExport
from .selectors import (
    all_bulletins,
    bulletin_of_month,
    bulletin_rows,
    bulletin_unit_rows,
    exports_of,
    ledger_title,
)

if TYPE_CHECKING:
    from accounts.models import User


# --- Ledgers ----------------------------------------------------------------------------------


class LedgerColumnSerializer(serializers.Serializer):
    header = serializers.CharField()
    type = serializers.CharField(help_text="text, int, decimal, money, percent, date, datetime…")


class LedgerFilterSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The key to send in a POST to /api/ledger-exports/.")
    label = serializers.CharField()
    required = serializers.BooleanField()
    schema = serializers.JSONField(
        help_text="The value as an OpenAPI schema object (type, pattern, description)."
    )
    kinds = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="A period filter only: the periods it takes (month, quarter, year).",
    )


class LedgerSerializer(serializers.Serializer):
    """A ledger as its class declares it; the columns are those the requesting user gets."""

    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    filters = serializers.ListField(
        child=serializers.CharField(), help_text="The names of the filters this ledger takes."
    )
    filter_fields = LedgerFilterSerializer(
        many=True, help_text="Each filter this ledger takes: its value and whether it is needed."
    )
    period_required = serializers.BooleanField(
        help_text="Deprecated (see filter_fields): whether a period must be given."
    )
    period_kinds = serializers.ListField(
        child=serializers.CharField(),
        help_text="Deprecated (see filter_fields): which periods it takes, month (2026-03), "
        "quarter (2026-Q1), year (2026); empty without a period filter.",
    )
    columns = LedgerColumnSerializer(
        many=True, help_text="The columns of your file (some are only for some roles)."
    )

    def to_representation(self, ledger_cls: type[Ledger]) -> dict[str, Any]:
        request = self.context.get("request")
        ledger = ledger_cls(request.user if request is not None else None)
        period = next((f for f in ledger_cls.filters if isinstance(f, PeriodFilter)), None)
        return {
            "code": ledger_cls.code,
            "title": str(ledger_cls.title),
            "description": str(ledger_cls.description),
            "filters": [f.name for f in ledger_cls.filters],
            "filter_fields": [f.info() for f in ledger_cls.filters],
            "period_required": period is not None and period.required,
            "period_kinds": list(period.kinds) if period is not None else [],
            "columns": [{"header": str(c.header), "type": c.type} for c in ledger.columns],
        }


@extend_schema_view(
    list=extend_schema(summary="The ledgers you may download", filters=False),
    retrieve=extend_schema(
        parameters=[
            OpenApiParameter("code", str, OpenApiParameter.PATH, pattern=r"^[A-Za-z0-9_\-]+$")
        ],
        filters=False,
    ),
)
class LedgerViewSet(viewsets.GenericViewSet):
    """The ledgers (台账) on offer and their filters. Each holds only rows in your scope; the
    unit and organization filters take ids from /api/units/ and /api/organizations/."""

    read_capability = "ledger.download"
    write_capability = None

    serializer_class = LedgerSerializer
    pagination_class = None
    filter_backends: list = []
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9_\-]+"

    def list(self, request: Request, **kwargs: Any) -> Response:
        context = self.get_serializer_context()
        return Response(LedgerSerializer(all_ledgers(), many=True, context=context).data)

    def retrieve(self, request: Request, code: str, **kwargs: Any) -> Response:
        ledger = get_ledger(code)
        if ledger is None:
            raise NotFound
        return Response(LedgerSerializer(ledger, context=self.get_serializer_context()).data)


# --- Ledger export jobs -----------------------------------------------------------------------


BROKER_DOWN_RESPONSE = OpenApiResponse(
    response=inline_serializer("BrokerDown", {"detail": serializers.CharField()}),
    description="The background service is not answering: nothing was queued; try again later.",
)


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
    """What to build: a ledger code and its filters, each under its name as /api/ledgers/ lists
    it (ids in your scope, a period code). The filters are read from the ledger, not declared
    here: they are checked by the ledger's own filter form, as on the portal."""

    ledger = serializers.CharField(help_text="A code from /api/ledgers/.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ledger_cls = get_ledger(attrs["ledger"])
        if ledger_cls is None:
            raise serializers.ValidationError(
                {"ledger": [gettext("Unknown ledger: %(code)s") % {"code": attrs["ledger"]}]}
            )
        # The filters are the body's keys that some ledger's filters are named by (what the
        # schema lists); anything else is ignored, as a serializer ignores unknown fields.
        names = all_filter_names()
        given = {
            name: value
            for name, value in self.initial_data.items()
            if name in names and value not in (None, "")
        }
        # A filter's value is an id or a code, never an object or a list.
        shapes = {
            name: [gettext("Send an id, a code or null.")]
            for name, value in given.items()
            if isinstance(value, dict | list)
        }
        if shapes:
            raise serializers.ValidationError(shapes)
        # A filter the ledger does not take would be silently ignored: say so instead.
        unknown = unknown_filter_errors(ledger_cls, given)
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


class LedgerExportCreateSchema(OpenApiSerializerExtension):
    """The POST body in the schema: `ledger` and every filter name some ledger takes (which
    ones a ledger takes, and their values: /api/ledgers/). Built when the schema is.

    Then `oneOf` one body per ledger, so that a client (and a schema-driven test) knows what
    each ledger needs: its code, its filters with the required ones required (not null), and
    the filters it does not take left out (null or blank are ignored, a value is a 400).
    """

    target_class = "reports.api.LedgerExportCreateSerializer"

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "ledger": {"type": "string", "description": "A code from /api/ledgers/."}
        }
        schemas: dict[str, list[dict[str, Any]]] = {}
        takers: dict[str, list[str]] = {}
        for ledger_cls in all_ledgers():
            for f in ledger_cls.filters:
                schemas.setdefault(f.name, []).append(f.schema())
                takers.setdefault(f.name, []).append(ledger_cls.code)
        for name, found in schemas.items():
            # What all the ledgers agree on; the widest description (e.g. every kind of period).
            schema = {k: v for k, v in found[0].items() if all(s.get(k) == v for s in found)}
            described = max((s.get("description", "") for s in found), key=len)
            codes = ", ".join(takers[name])
            schema["description"] = f"{described} Ledgers taking it: {codes}.".strip()
            properties[name] = schema
        body = build_object_type(
            properties=properties,
            required=["ledger"],
            description="A ledger code and its filters; one of the bodies below, one per "
            "ledger: a required filter missing, or a filter the ledger does not take, is a 400.",
        )
        body["oneOf"] = [self._ledger_body(ledger_cls, schemas) for ledger_cls in all_ledgers()]
        return body

    @staticmethod
    def _ledger_body(ledger_cls: type[Ledger], every_filter: dict[str, Any]) -> dict[str, Any]:
        """The body of one ledger. The code is a pattern, not a one-value enum: drf-spectacular
        would make an enum component of each."""
        properties: dict[str, Any] = {
            "ledger": {"type": "string", "pattern": rf"^{ledger_cls.code}$"}
        }
        required = ["ledger"]
        taken = {f.name for f in ledger_cls.filters}
        for f in ledger_cls.filters:
            schema = f.schema()
            if f.required:
                schema.pop("nullable", None)
                required.append(f.name)
            properties[f.name] = schema
        for name in sorted(set(every_filter) - taken):
            properties[name] = {
                "type": "string",
                "maxLength": 0,
                "nullable": True,
                "description": "Not taken by this ledger: leave it out.",
            }
        return {
            "type": "object",
            "title": ledger_cls.code,
            "properties": properties,
            "required": required,
        }


@extend_schema_view(
    list=extend_schema(summary="Your ledger export jobs, newest first"),
    retrieve=extend_schema(summary="Poll one job: status, progress, download link"),
    create=extend_schema(
        summary="Start building a ledger in the background",
        request=LedgerExportCreateSerializer,
        responses={201: LedgerExportSerializer, 503: BROKER_DOWN_RESPONSE},
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

    read_capability = "ledger.download"
    write_capability = "ledger.download"

    serializer_class = LedgerExportSerializer
    filterset_fields = ["status", "ledger"]
    ordering_fields = ["created_at", "finished_at"]
    ordering = ["-created_at"]

    def scoped_queryset(self, user: User | None) -> QuerySet[LedgerExport]:
        return exports_of(user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = LedgerExportCreateSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            export = services.start_export(request.user, data["ledger_cls"].code, data["params"])
        except services.BrokerUnavailable as exc:
            return Response({"detail": " ".join(exc.messages)}, status=503)
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
    def download(self, request: Request, pk: str, **kwargs: Any) -> Any:
        export = self.get_object()
        if export.status != ExportStatus.DONE or not export.file:
            raise NotFound
        return stored_file_response(export.file, content_type=XLSX)

    @extend_schema(
        summary="Build a failed or stopped job again",
        request=None,
        responses={202: LedgerExportSerializer, 503: BROKER_DOWN_RESPONSE},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str, **kwargs: Any) -> Response:
        export = self.get_object()
        try:
            export = services.retry_export(request.user, export)
        except services.BrokerUnavailable as exc:
            return Response({"detail": " ".join(exc.messages)}, status=503)
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
                "month",
                str,
                OpenApiParameter.PATH,
                description="YYYY-MM",
                pattern=r"^[0-9]{4}-[0-9]{2}$",
            )
        ],
        filters=False,
    ),
)
class BulletinViewSet(ScopedReadOnlyViewSet):
    """Monthly organizational life bulletins, as built (never recomputed)."""

    read_capability = "bulletin.view"

    serializer_class = BulletinSerializer
    lookup_field = "month"
    lookup_value_regex = r"[0-9]{4}-[0-9]{2}"
    ordering_fields = ["month"]
    ordering = ["-month"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Bulletin]:
        # The headline figures are the published city-wide ones; the lines are cut per user.
        if not access.can(user, "bulletin.view"):
            return Bulletin.objects.none()
        return all_bulletins()

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return BulletinDetailSerializer if self.action == "retrieve" else BulletinSerializer

    def get_object(self) -> Bulletin:
        bulletin = bulletin_of_month(self.kwargs["month"])
        if bulletin is None:
            raise NotFound
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
