"""The API of pairings (结对共建): schemes and partners (read), pairings (read; staff make them and
mark them docked or ended), what is recorded on a pairing (help records with photos, needs and
their measures, co-building projects, member pairs) and the progress figures.

Rows come only from `pairings.selectors` (through `config.api_base`): outside the scope is a
404. Writes go through `pairings.services`: the serializers check the shape of a request
(ids only in the user's scope, so an answer never names anything outside it), the services
the rules; a service's ValidationError becomes a 400 with the same field keys, its
PermissionDenied a 403. Inspectors read; every write of theirs is a 403 before any lookup.

Lists cost the same number of queries for 5 rows or 500: totals are annotations
(`pairings_for_display`), photos, participants and measures are prefetched.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
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

from accounts import access
from branches.models import Member, OrganizationKind
from branches.selectors import visible_members, visible_organizations
from config.api_base import (
    MAX_ID,
    IgnoreClientContentNegotiation,
    ScopedViewSetMixin,
    service_errors,
    upload_in_scope,
)
from config.money import yuan

from . import selectors, services
from .filters import (
    HelpRecordFilter,
    MeasureFilter,
    MemberPairFilter,
    NeedFilter,
    PairingFilter,
    PartnerFilter,
    ProjectFilter,
    narrowed_dates,
)
from .models import (
    CounterpartKind,
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)

if TYPE_CHECKING:
    from accounts.models import User


KINDS_HELP = "Organization kinds: " + ", ".join(OrganizationKind.values) + "."
PARTNER_KINDS_HELP = "Partner kinds: " + ", ".join(PartnerKind.values) + "."


def _absolute(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


# --- Fields ---------------------------------------------------------------------------------


WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class ScopedIdField(serializers.PrimaryKeyRelatedField):
    """A row in the user's scope, by id (`scope(user)` is a selector). An id outside the scope
    is "does not exist", as for a missing one; an id no database column holds is too (a 400,
    where SQLite raised OverflowError)."""

    def __init__(self, scope, **kwargs: Any) -> None:
        self.scope = scope
        super().__init__(queryset=scope(None), **kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and WHOLE_NUMBER.fullmatch(data.strip()):
            data = int(data.strip())
        elif isinstance(data, float):
            if not data.is_integer():
                self.fail("incorrect_type", data_type=type(data).__name__)
            data = int(data)
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"type": "string"}],
        "description": "The scheme: its id, or its code (e.g. one_plus_one).",
    }
)
class SchemeRefField(serializers.Field):
    """A scheme by id or by code; represented by its id."""

    def to_internal_value(self, data: Any) -> Scheme:
        found = None
        if isinstance(data, int) and not isinstance(data, bool):
            if 1 <= data <= MAX_ID:
                found = Scheme.objects.filter(pk=data).first()
        elif isinstance(data, str) and data.strip():
            value = data.strip()
            if value.isascii() and value.isdecimal():
                if int(value) <= MAX_ID:
                    found = Scheme.objects.filter(pk=int(value)).first()
            else:
                found = Scheme.objects.filter(code=value).first()
        if found is None:
            raise serializers.ValidationError(
                gettext("Unknown scheme: %(value)s.") % {"value": str(data)[:50]}
            )
        return found

    def to_representation(self, value: Scheme) -> int:
        return value.pk


class PlainChoiceField(serializers.ChoiceField):
    """A choice that the schema gives as a string with a pattern, not as an enum component:
    `kind` and `status` name other choice sets in other apps (organizations, members, export
    jobs), and a second enum of the same name would rename theirs (drf-spectacular's enum
    collision naming, `branches.api.KINDS_HELP`)."""


class PlainChoiceFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "pairings.api.PlainChoiceField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        values = [str(value) for value in self.target.choices]
        return {
            "type": "string",
            "pattern": "^(?:" + "|".join(re.escape(v) for v in values) + ")$",
            "description": "One of: " + ", ".join(values) + ".",
        }


class YuanField(serializers.DecimalField):
    """A sum in whole fen (`config.money.fen_sum`) as yuan: an exact Decimal string."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", None)
        kwargs.setdefault("decimal_places", 2)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return super().to_representation(yuan(value))


def exact(**kwargs: Any) -> serializers.DecimalField:
    """A Decimal already in yuan (or a quantity), two places, as a string: never a float."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def money(**kwargs: Any) -> serializers.DecimalField:
    """Yuan as the models keep them (14 digits, 2 places): a bigger number, or a third
    decimal place, is a 400."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _call_service(function, *args: Any) -> Any:
    try:
        return function(*args)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(service_errors(exc)) from exc


# --- Schemes and partners ---------------------------------------------------------------------


class PairingSchemeSerializer(serializers.ModelSerializer):
    organization_kinds = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=KINDS_HELP
    )
    partner_kinds = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=PARTNER_KINDS_HELP
    )

    class Meta:
        model = Scheme
        fields = [
            "id",
            "code",
            "name",
            "description",
            "organization_kinds",
            "partner_kinds",
            "universal",
            "min_organizations_per_partner",
            "max_organizations_per_partner",
            "max_partners_per_organization",
            "min_projects_per_organization",
            "member_pairs",
            "sort_order",
        ]
        read_only_fields = fields


class PairingPartnerSerializer(serializers.ModelSerializer):
    kind = PlainChoiceField(choices=PartnerKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = PartnerOrganization
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "district",
            "town",
            "contact_name",
            "contact_phone",
            "situation",
        ]
        read_only_fields = fields


class PairingSchemeViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The active pairing schemes and their rules ("1+1", "1+2", 挂钩帮扶...), as data."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = PairingSchemeSerializer
    filter_backends: list = []

    def scoped_queryset(self, user: User | None) -> QuerySet[Scheme]:
        # Schemes are data shared by everybody who may log in (no organization to scope by).
        if not access.is_active_user(user):
            return Scheme.objects.none()
        return Scheme.objects.filter(active=True).order_by("sort_order", "pk")


class PairingPartnerViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Partners (villages, communities, enterprises, schools): all for staff and city-wide
    inspectors, else those paired with an organization in your scope."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = PairingPartnerSerializer
    filterset_class = PartnerFilter
    search_fields = ["name"]
    ordering_fields = ["name", "town", "district"]
    ordering = ["district", "town", "name", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[PartnerOrganization]:
        return selectors.visible_partners(user)


# --- Pairings ---------------------------------------------------------------------------------


class PairingSerializer(serializers.ModelSerializer):
    """A pairing with what its lists show: help given, needs, projects, the last visit."""

    scheme_code = serializers.CharField(source="scheme.code", read_only=True)
    scheme_name = serializers.CharField(source="scheme.name", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    unit = serializers.IntegerField(source="organization.unit_id", read_only=True)
    unit_name = serializers.CharField(source="organization.unit.name", read_only=True)
    partner_name = serializers.CharField(source="partner.name", read_only=True)
    partner_kind = PlainChoiceField(
        source="partner.kind", choices=PartnerKind.choices, read_only=True
    )
    partner_town = serializers.CharField(source="partner.town", read_only=True)
    status = PlainChoiceField(choices=PairingStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    flagged = serializers.BooleanField(
        read_only=True, help_text="Made against its scheme's rule; the reason is override_reason."
    )
    visit_count = serializers.IntegerField(read_only=True)
    last_visit = serializers.DateField(read_only=True, allow_null=True)
    funds = YuanField(source="funds_fen", help_text="Funds given, in yuan (exact).")
    goods_value = YuanField(source="goods_value_fen", help_text="Value of goods given, in yuan.")
    need_count = serializers.IntegerField(read_only=True)
    open_need_count = serializers.IntegerField(read_only=True)
    measure_count = serializers.IntegerField(read_only=True)
    project_count = serializers.IntegerField(
        read_only=True, help_text="Co-building projects, cancelled ones left out."
    )

    class Meta:
        model = Pairing
        fields = [
            "id",
            "scheme",
            "scheme_code",
            "scheme_name",
            "organization",
            "organization_name",
            "unit",
            "unit_name",
            "partner",
            "partner_name",
            "partner_kind",
            "partner_town",
            "status",
            "status_display",
            "started_on",
            "docked_on",
            "ended_on",
            "override_reason",
            "flagged",
            "note",
            "visit_count",
            "last_visit",
            "funds",
            "goods_value",
            "need_count",
            "open_need_count",
            "measure_count",
            "project_count",
            "created_at",
        ]
        read_only_fields = fields


class PairingCreateSerializer(serializers.Serializer):
    """A new pairing (staff). The scheme's rule is checked: a partner or an organization the
    scheme does not take is refused; one over the scheme's limits ("1+1": one branch per
    village) is refused unless `override_reason` says why, and is then flagged."""

    scheme = SchemeRefField()
    organization = ScopedIdField(visible_organizations)
    partner = ScopedIdField(selectors.visible_partners)
    started_on = serializers.DateField()
    status = PlainChoiceField(
        choices=[
            (PairingStatus.PLANNED.value, PairingStatus.PLANNED.label),
            (PairingStatus.DOCKED.value, PairingStatus.DOCKED.label),
        ],
        default=PairingStatus.PLANNED,
    )
    docked_on = serializers.DateField(
        required=False, allow_null=True, help_text="Needed when the status is docked."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Why the scheme's rule is broken, to make the pairing anyway (flagged).",
    )

    def create(self, validated_data: dict) -> Pairing:
        data = services.PairingInput(
            scheme=validated_data["scheme"],
            organization=validated_data["organization"],
            partner=validated_data["partner"],
            started_on=validated_data["started_on"],
            status=validated_data["status"],
            docked_on=validated_data.get("docked_on"),
            note=validated_data.get("note", ""),
            override_reason=validated_data.get("override_reason", ""),
        )
        return _call_service(services.create_pairing, self.context["request"].user, data)


class PairingStatusSerializer(serializers.Serializer):
    status = PlainChoiceField(
        choices=[
            (PairingStatus.DOCKED.value, PairingStatus.DOCKED.label),
            (PairingStatus.ENDED.value, PairingStatus.ENDED.label),
        ]
    )
    date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day docking was completed or it ended; today when left out.",
    )


class ServiceWritesMixin:
    """Creates through a write serializer whose `save()` calls the service; the answer is the
    new row read back through the scope with everything its read serializer shows."""

    read_serializer_class: type[serializers.Serializer]
    create_serializer_class: type[serializers.Serializer]

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "create":
            return self.create_serializer_class
        return self.read_serializer_class

    def _read(self, pk: int) -> dict:
        row = self.scoped_queryset(self.request.user).get(pk=pk)
        return self.read_serializer_class(row, context=self.get_serializer_context()).data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        incoming = self.create_serializer_class(
            data=request.data, context=self.get_serializer_context()
        )
        incoming.is_valid(raise_exception=True)
        made = incoming.save()
        return Response(self._read(made.pk), status=status.HTTP_201_CREATED)


def _created(read: type[serializers.Serializer], write: type[serializers.Serializer], what: str):
    return extend_schema(summary=what, request=write, responses={201: read})


@extend_schema_view(
    create=_created(PairingSerializer, PairingCreateSerializer, "Make a pairing (staff)"),
)
class PairingViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Pairings of the organizations in your scope, with their help totals (funds and goods
    value in yuan, exact), needs, projects and last visit. Committee staff make them and mark
    them docked or ended; the others read."""

    read_capability = "organization.view"
    write_capability = "pairing.manage"

    read_serializer_class = PairingSerializer
    create_serializer_class = PairingCreateSerializer
    filterset_class = PairingFilter
    search_fields = ["partner__name", "organization__name"]
    ordering_fields = ["started_on", "docked_on", "last_visit", "visit_count", "open_need_count"]
    ordering = ["scheme__sort_order", "scheme_id", "organization__path", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Pairing]:
        return selectors.pairings_for_display(user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "set_status":
            return PairingStatusSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="Mark a pairing docked or ended (staff)",
        request=PairingStatusSerializer,
        responses={200: PairingSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk: str, **kwargs: Any) -> Response:
        pairing = self.get_object()
        incoming = PairingStatusSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.set_pairing_status,
            request.user,
            pairing,
            incoming.validated_data["status"],
            incoming.validated_data.get("date"),
        )
        return Response(self._read(pairing.pk))


# --- Help records -----------------------------------------------------------------------------


class HelpPhotoSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField(help_text="Download (scoped, like the record).")

    class Meta:
        model = HelpPhoto
        fields = ["id", "name", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: HelpPhoto) -> str:
        path = reverse("help-record-photo", args=[obj.help_record_id, obj.pk])
        return _absolute(self.context.get("request"), path)


class HelpParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Member
        fields = ["id", "name"]
        read_only_fields = fields


class HelpRecordSerializer(serializers.ModelSerializer):
    """A visit (who went, photos), funds (yuan) or goods (item, quantity in its unit of
    measure, value in yuan). `activity_record`: the theme party day a visit was also filed as."""

    scheme = serializers.IntegerField(source="pairing.scheme_id", read_only=True)
    organization = serializers.IntegerField(source="pairing.organization_id", read_only=True)
    organization_name = serializers.CharField(source="pairing.organization.name", read_only=True)
    partner = serializers.IntegerField(source="pairing.partner_id", read_only=True)
    partner_name = serializers.CharField(source="pairing.partner.name", read_only=True)
    kind = PlainChoiceField(choices=HelpKind.choices, read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    participants = HelpParticipantSerializer(many=True, read_only=True)
    photos = HelpPhotoSerializer(many=True, read_only=True)
    filed_by_name = serializers.SerializerMethodField()

    class Meta:
        model = HelpRecord
        fields = [
            "id",
            "pairing",
            "scheme",
            "organization",
            "organization_name",
            "partner",
            "partner_name",
            "kind",
            "kind_display",
            "date",
            "description",
            "participants",
            "others",
            "amount",
            "item",
            "quantity",
            "unit_of_measure",
            "value",
            "activity_record",
            "photos",
            "filed_by",
            "filed_by_name",
            "filed_at",
        ]
        read_only_fields = fields

    def get_filed_by_name(self, obj: HelpRecord) -> str | None:
        user = obj.filed_by
        return user.display_name if user is not None else None


class HelpRecordCreateSerializer(serializers.Serializer):
    """Help given under one of your pairings. A visit says who went (`participants`, members of
    the pairing's organization) and may carry photos (`new_photos`, multipart); with
    `as_theme_day` it is also filed as the branch's theme party day (one filing, two records).
    Funds need `amount`; goods need `item`, `quantity` and `unit_of_measure` (`value` in yuan
    is optional). All of it is saved, or nothing."""

    pairing = ScopedIdField(selectors.visible_pairings)
    kind = PlainChoiceField(choices=HelpKind.choices)
    date = serializers.DateField()
    description = serializers.CharField(max_length=5000)
    participants = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=500,
        help_text="Ids of the members who went.",
    )
    others = serializers.CharField(required=False, allow_blank=True, max_length=200)
    amount = money(required=False, allow_null=True, help_text="Funds: the amount in yuan.")
    item = serializers.CharField(required=False, allow_blank=True, max_length=50)
    quantity = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    unit_of_measure = serializers.CharField(
        required=False, allow_blank=True, max_length=10, help_text="e.g. 床, 袋, 件"
    )
    value = money(required=False, allow_null=True, help_text="Goods: their value in yuan.")
    as_theme_day = serializers.BooleanField(
        default=False, help_text="A visit only: also file it as the branch's theme party day."
    )
    topic = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The theme party day's topic (as_theme_day).",
    )
    new_photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Photos (JPEG, PNG, WebP, HEIC) or PDF; multipart only.",
    )

    def validate_participants(self, ids: list[int]) -> list[int]:
        # Ids outside the user's scope are refused by id: the service would name them.
        wanted = set(ids)
        user = self.context["request"].user
        known = set(visible_members(user).filter(pk__in=wanted).values_list("pk", flat=True))
        unknown = sorted(wanted - known)
        if unknown:
            raise serializers.ValidationError(
                gettext("No such members: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
            )
        return ids

    def create(self, validated_data: dict) -> HelpRecord:
        data = services.HelpInput(
            pairing=validated_data["pairing"],
            kind=validated_data["kind"],
            date=validated_data["date"],
            description=validated_data["description"],
            participant_ids=set(validated_data.get("participants", [])),
            others=validated_data.get("others", ""),
            amount=validated_data.get("amount"),
            item=validated_data.get("item", ""),
            quantity=validated_data.get("quantity"),
            unit_of_measure=validated_data.get("unit_of_measure", ""),
            value=validated_data.get("value"),
            photos=list(validated_data.get("new_photos", [])),
            as_theme_day=validated_data["as_theme_day"],
            topic=validated_data.get("topic", ""),
        )
        return _call_service(services.file_help_record, self.context["request"].user, data)


@extend_schema_view(
    create=_created(
        HelpRecordSerializer, HelpRecordCreateSerializer, "File a visit, funds or goods"
    ),
)
class HelpRecordViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Help given under the pairings in your scope. Secretaries file and delete their own
    (a visit's theme party day goes with it); inspectors read."""

    read_capability = "organization.view"
    write_capability = "pairing.report"

    read_serializer_class = HelpRecordSerializer
    create_serializer_class = HelpRecordCreateSerializer
    filterset_class = HelpRecordFilter
    search_fields = ["description", "item"]
    ordering_fields = ["date", "filed_at"]
    ordering = ["-date", "-pk"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def scoped_queryset(self, user: User | None) -> QuerySet[HelpRecord]:
        return (
            selectors.visible_help_records(user)
            .select_related("pairing__organization", "pairing__partner", "filed_by")
            .prefetch_related(
                Prefetch("participants", queryset=Member.objects.order_by("member_no")),
                "photos",
            )
        )

    def perform_destroy(self, instance: HelpRecord) -> None:
        _call_service(services.delete_help_record, self.request.user, instance)

    @extend_schema(
        summary="Download one photo of a help record in your scope",
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
        records = selectors.visible_help_records(request.user)
        return upload_in_scope(
            lambda pk: HelpPhoto.objects.filter(help_record__in=records.filter(pk=pk).values("pk")),
            pk,
            photo_pk,
            format,
        )


# --- Needs and measures -----------------------------------------------------------------------


class NeedMeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measure
        fields = ["id", "description", "due_on", "done_on"]
        read_only_fields = fields


class PairingNeedSerializer(serializers.ModelSerializer):
    """A need found at the partner (缺什么补什么) and the measures planned against it."""

    organization = serializers.IntegerField(source="pairing.organization_id", read_only=True)
    partner_name = serializers.CharField(source="pairing.partner.name", read_only=True)
    is_open = serializers.BooleanField(read_only=True, help_text="Not met yet.")
    measures = NeedMeasureSerializer(many=True, read_only=True)

    class Meta:
        model = Need
        fields = [
            "id",
            "pairing",
            "organization",
            "partner_name",
            "description",
            "found_on",
            "met_on",
            "is_open",
            "measures",
        ]
        read_only_fields = fields


class NeedCreateSerializer(serializers.Serializer):
    pairing = ScopedIdField(selectors.visible_pairings)
    description = serializers.CharField(max_length=200)
    found_on = serializers.DateField()

    def create(self, validated_data: dict) -> Need:
        return _call_service(
            services.add_need,
            self.context["request"].user,
            validated_data["pairing"],
            validated_data["description"],
            validated_data["found_on"],
        )


class NeedCloseSerializer(serializers.Serializer):
    met_on = serializers.DateField(
        required=False, allow_null=True, help_text="The day it was met; today when left out."
    )


@extend_schema_view(
    create=_created(PairingNeedSerializer, NeedCreateSerializer, "Record a need of a partner"),
)
class PairingNeedViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Needs found at the partners of the pairings in your scope, with their measures."""

    read_capability = "organization.view"
    write_capability = "pairing.report"

    read_serializer_class = PairingNeedSerializer
    create_serializer_class = NeedCreateSerializer
    filterset_class = NeedFilter
    search_fields = ["description"]
    ordering_fields = ["found_on", "met_on"]
    ordering = ["pairing_id", "found_on", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Need]:
        return (
            selectors.visible_needs(user)
            .select_related("pairing__partner")
            .prefetch_related(Prefetch("measures", queryset=Measure.objects.order_by("pk")))
        )

    def get_serializer_class(self) -> type[serializers.Serializer]:
        if self.action == "close":
            return NeedCloseSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="The need is met (closed)",
        request=NeedCloseSerializer,
        responses={200: PairingNeedSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str, **kwargs: Any) -> Response:
        need = self.get_object()
        incoming = NeedCloseSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        _call_service(
            services.close_need, request.user, need, incoming.validated_data.get("met_on")
        )
        return Response(self._read(need.pk))


class PairingMeasureSerializer(serializers.ModelSerializer):
    pairing = serializers.IntegerField(source="need.pairing_id", read_only=True)

    class Meta:
        model = Measure
        fields = ["id", "need", "pairing", "description", "due_on", "done_on"]
        read_only_fields = fields


class MeasureCreateSerializer(serializers.Serializer):
    need = ScopedIdField(selectors.visible_needs)
    description = serializers.CharField(max_length=200)
    due_on = serializers.DateField(required=False, allow_null=True)

    def create(self, validated_data: dict) -> Measure:
        return _call_service(
            services.add_measure,
            self.context["request"].user,
            validated_data["need"],
            validated_data["description"],
            validated_data.get("due_on"),
        )


@extend_schema_view(
    create=_created(PairingMeasureSerializer, MeasureCreateSerializer, "Plan a measure"),
)
class PairingMeasureViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Measures planned against the needs in your scope."""

    read_capability = "organization.view"
    write_capability = "pairing.report"

    read_serializer_class = PairingMeasureSerializer
    create_serializer_class = MeasureCreateSerializer
    filterset_class = MeasureFilter
    ordering_fields = ["due_on", "done_on"]
    ordering = ["need_id", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Measure]:
        needs = selectors.visible_needs(user)
        return Measure.objects.filter(need__in=needs.values("pk")).select_related("need")


# --- Projects and member pairs -----------------------------------------------------------------


class PairingProjectSerializer(serializers.ModelSerializer):
    scheme = serializers.IntegerField(source="pairing.scheme_id", read_only=True)
    organization = serializers.IntegerField(source="pairing.organization_id", read_only=True)
    organization_name = serializers.CharField(source="pairing.organization.name", read_only=True)
    partner_name = serializers.CharField(source="pairing.partner.name", read_only=True)
    status = PlainChoiceField(choices=ProjectStatus.choices, read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "pairing",
            "scheme",
            "organization",
            "organization_name",
            "partner_name",
            "name",
            "budget",
            "started_on",
            "due_on",
            "status",
            "status_display",
            "done_on",
        ]
        read_only_fields = fields


class ProjectCreateSerializer(serializers.Serializer):
    pairing = ScopedIdField(selectors.visible_pairings)
    name = serializers.CharField(max_length=100)
    budget = money(required=False, default=Decimal("0.00"), help_text="In yuan.")
    started_on = serializers.DateField()
    due_on = serializers.DateField()
    status = PlainChoiceField(choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)

    def create(self, validated_data: dict) -> Project:
        data = services.ProjectInput(
            pairing=validated_data["pairing"],
            name=validated_data["name"],
            budget=validated_data["budget"],
            started_on=validated_data["started_on"],
            due_on=validated_data["due_on"],
            status=validated_data["status"],
        )
        return _call_service(services.add_project, self.context["request"].user, data)


@extend_schema_view(
    create=_created(
        PairingProjectSerializer, ProjectCreateSerializer, "Start a co-building project"
    ),
)
class PairingProjectViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Co-building projects (共建项目) led by the organizations in your scope."""

    read_capability = "organization.view"
    write_capability = "pairing.report"

    read_serializer_class = PairingProjectSerializer
    create_serializer_class = ProjectCreateSerializer
    filterset_class = ProjectFilter
    search_fields = ["name"]
    ordering_fields = ["due_on", "started_on", "budget"]
    ordering = ["pairing_id", "due_on", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[Project]:
        return selectors.visible_projects(user).select_related(
            "pairing__organization", "pairing__partner"
        )


class MemberPairSerializer(serializers.ModelSerializer):
    organization = serializers.IntegerField(source="pairing.organization_id", read_only=True)
    member_name = serializers.CharField(source="member.name", read_only=True)
    counterpart_kind_display = serializers.CharField(
        source="get_counterpart_kind_display", read_only=True
    )

    class Meta:
        model = MemberPair
        fields = [
            "id",
            "pairing",
            "organization",
            "member",
            "member_name",
            "counterpart_kind",
            "counterpart_kind_display",
            "counterpart_name",
            "note",
            "started_on",
        ]
        read_only_fields = fields


class MemberPairCreateSerializer(serializers.Serializer):
    pairing = ScopedIdField(selectors.visible_pairings)
    member = ScopedIdField(visible_members, help_text="A member of the pairing's organization.")
    counterpart_kind = serializers.ChoiceField(choices=CounterpartKind.choices)
    counterpart_name = serializers.CharField(max_length=50)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    started_on = serializers.DateField()

    def create(self, validated_data: dict) -> MemberPair:
        return _call_service(
            services.add_member_pair,
            self.context["request"].user,
            validated_data["pairing"],
            validated_data["member"],
            validated_data["counterpart_kind"],
            validated_data["counterpart_name"],
            validated_data["started_on"],
            validated_data.get("note", ""),
        )


@extend_schema_view(
    create=_created(MemberPairSerializer, MemberPairCreateSerializer, "Pair a member"),
)
class MemberPairViewSet(
    ServiceWritesMixin,
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Organ members paired with village members or key households, under the pairings in
    your scope whose scheme pairs members ("1+1")."""

    read_capability = "organization.view"
    write_capability = "pairing.report"

    read_serializer_class = MemberPairSerializer
    create_serializer_class = MemberPairCreateSerializer
    filterset_class = MemberPairFilter
    search_fields = ["counterpart_name", "member__name"]
    ordering_fields = ["started_on"]
    ordering = ["pairing_id", "member__member_no", "pk"]

    def scoped_queryset(self, user: User | None) -> QuerySet[MemberPair]:
        return selectors.visible_member_pairs(user).select_related("pairing", "member")


# --- Progress ---------------------------------------------------------------------------------


class ProgressQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999, help_text="Help given in this year."
    )
    date_from = serializers.DateField(
        required=False, help_text="Help given from this day on (inclusive)."
    )
    date_to = serializers.DateField(
        required=False, help_text="Help given up to this day (inclusive)."
    )


class DockingLineSerializer(serializers.Serializer):
    unit = serializers.IntegerField(allow_null=True, help_text="Null: the whole scope.")
    unit_name = serializers.CharField(allow_null=True)
    enrolled = serializers.IntegerField(
        help_text="Organizations that take part (a universal scheme: all of its kinds)."
    )
    paired = serializers.IntegerField(help_text="Of those, with a current pairing.")
    docked = serializers.IntegerField(help_text="Of those, with a docked pairing.")
    rate = serializers.FloatField(
        allow_null=True, help_text="docked / enrolled, 0-1; null when none is enrolled."
    )


class SchemeDockingSerializer(serializers.Serializer):
    scheme = serializers.IntegerField()
    scheme_code = serializers.CharField()
    scheme_name = serializers.CharField()
    universal = serializers.BooleanField()
    total = DockingLineSerializer()
    units = DockingLineSerializer(many=True)


class GoodsLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    unit_of_measure = serializers.CharField(help_text="Never added across units of measure.")
    quantity = exact(help_text="Quantity in this unit of measure (exact).")
    value = exact(help_text="Value in yuan (exact).")


class HelpLineSerializer(serializers.Serializer):
    scheme = serializers.IntegerField()
    unit = serializers.IntegerField()
    visits = serializers.IntegerField()
    funds = exact(help_text="In yuan (exact).")
    goods_value = exact(help_text="In yuan (exact).")


class HelpTotalsSerializer(serializers.Serializer):
    visits = serializers.IntegerField()
    funds = exact(help_text="In yuan (exact).")
    goods_value = exact(help_text="In yuan (exact).")
    goods = GoodsLineSerializer(many=True, help_text="Goods by item and unit of measure.")
    by_scheme_unit = HelpLineSerializer(many=True)


@extend_schema_serializer(many=False)  # one object, though the route is a list route
class PairingProgressSerializer(serializers.Serializer):
    date_from = serializers.DateField(allow_null=True, help_text="First day of the help counted.")
    date_to = serializers.DateField(allow_null=True, help_text="Last day of the help counted.")
    docking = SchemeDockingSerializer(many=True, help_text="Docking per active scheme.")
    help = HelpTotalsSerializer(help_text="Help given in the period.")
    visit_days = serializers.IntegerField(help_text="PAIRING_VISIT_DAYS.")
    unvisited_pairings = serializers.IntegerField(
        help_text="Current pairings with no visit in the last visit_days days (as of today)."
    )
    overdue_projects = serializers.IntegerField(
        help_text="Planned or underway projects past their due date (as of today)."
    )
    incomplete_partners = serializers.IntegerField(
        help_text="Partners with fewer organ organizations than their scheme wants."
    )
    pairings_lacking_projects = serializers.IntegerField(
        help_text="Current pairings whose organization leads fewer projects than wanted."
    )
    flagged_pairings = serializers.IntegerField(
        help_text="Pairings made against their scheme's rule."
    )


def _docking_line(line: selectors.Docking) -> dict:
    rate = line.rate
    return {
        "unit": line.unit.pk if line.unit else None,
        "unit_name": line.unit.name if line.unit else None,
        "enrolled": line.enrolled,
        "paired": line.paired,
        "docked": line.docked,
        "rate": round(rate, 4) if rate is not None else None,
    }


@extend_schema_view(
    list=extend_schema(
        summary="Pairing progress in your scope",
        description="Docking per scheme (in total and per unit), help given in a year or "
        "between two days (funds and goods value in yuan, exact; goods by item and unit of "
        "measure), and the gaps: unvisited pairings, overdue projects, incomplete partners, "
        "pairings lacking projects, flagged pairings. The period narrows the help only.",
        parameters=[ProgressQuerySerializer],
        responses={200: PairingProgressSerializer},
        filters=False,
    )
)
class PairingProgressViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Pairing progress over your scope, in a constant number of queries."""

    read_capability = "organization.view"
    write_capability = None

    serializer_class = PairingProgressSerializer
    filter_backends: list = []
    pagination_class = None

    def scoped_queryset(self, user: User | None) -> QuerySet[Pairing]:
        return selectors.visible_pairings(user)

    def list(self, request: Request, **kwargs: Any) -> Response:
        query = ProgressQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        start, end = narrowed_dates(
            query.validated_data.get("date_from"),
            query.validated_data.get("date_to"),
            query.validated_data.get("year"),
        )
        user = request.user
        totals = selectors.help_totals(user, start, end)
        body = {
            "date_from": start,
            "date_to": end,
            "docking": [
                {
                    "scheme": found.total.scheme.pk,
                    "scheme_code": found.total.scheme.code,
                    "scheme_name": found.total.scheme.name,
                    "universal": found.total.scheme.universal,
                    "total": _docking_line(found.total),
                    "units": [_docking_line(line) for line in found.units],
                }
                for found in selectors.docking(user)
            ],
            "help": {
                "visits": totals["total"].visits,
                "funds": totals["total"].funds,
                "goods_value": totals["total"].goods_value,
                "goods": totals["goods"],
                "by_scheme_unit": [
                    {
                        "scheme": scheme_id,
                        "unit": unit_id,
                        "visits": line.visits,
                        "funds": line.funds,
                        "goods_value": line.goods_value,
                    }
                    for (scheme_id, unit_id), line in sorted(totals["by_scheme_unit"].items())
                ],
            },
            "visit_days": settings.PAIRING_VISIT_DAYS,
            "unvisited_pairings": selectors.unvisited_pairings(user).count(),
            "overdue_projects": selectors.overdue_projects(user).count(),
            "incomplete_partners": selectors.incomplete_partners(user).count(),
            "pairings_lacking_projects": selectors.pairings_lacking_projects(user).count(),
            "flagged_pairings": selectors.flagged_pairings(user).count(),
        }
        return Response(PairingProgressSerializer(body).data)


def register(router: BaseRouter) -> None:
    """Add this app's viewsets to the project's one router."""
    router.register("pairing-schemes", PairingSchemeViewSet, basename="pairing-scheme")
    router.register("pairing-partners", PairingPartnerViewSet, basename="pairing-partner")
    router.register("pairings", PairingViewSet, basename="pairing")
    router.register("help-records", HelpRecordViewSet, basename="help-record")
    router.register("pairing-needs", PairingNeedViewSet, basename="pairing-need")
    router.register("pairing-measures", PairingMeasureViewSet, basename="pairing-measure")
    router.register("pairing-projects", PairingProjectViewSet, basename="pairing-project")
    router.register("member-pairs", MemberPairViewSet, basename="member-pair")
    router.register("pairing-progress", PairingProgressViewSet, basename="pairing-progress")
