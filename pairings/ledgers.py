"""The pairings app's ledgers (台账): pairings, help records and member pairs.

Each starts from the pairings selectors (`visible_pairings`, `visible_help_records`,
`visible_member_pairs`: a secretary's file holds their organizations' rows only), declares its
filters and columns, and streams plain values for `reports.ledgers.write_xlsx`.

Filters: a scheme (`SchemeFilter`: the active schemes), a unit and an organization (the
framework's, through `Ledger.organizations()`), a period, and the pairing's status or the help's
kind (`ChoicesFilter`). What a period means:

- help records: those dated in it;
- pairings and member pairs: those in effect at some time in it (started by its last day and
  not ended before its first). A pairing's visits, last visit, funds and goods value are then
  those of the period (so its totals agree with the help-record ledger of the same filters);
  needs, measures and projects are counted as they stand today.

Queries, whatever the number of rows: the pairing ledger one for the pairings (every total a
correlated subquery in it) and one per `chunk_size` pairings for the open needs' text; the
help-record ledger one for the records and one per chunk for who went; the member-pair ledger
one. An inspector's scope adds one (`branches.selectors.within_scope` reads its ids first).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import (
    OuterRef,
    Q,
    QuerySet,
)
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from branches.selectors import SubqueryCount
from config.money import yuan
from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    MONEY,
    ChoicesFilter,
    Column,
    Computed,
    Label,
    Ledger,
    LedgerFilter,
    OrganizationFilter,
    PeriodFilter,
    PersonName,
    Row,
    UnitFilter,
    register,
)

from .models import (
    CounterpartKind,
    HelpKind,
    HelpPhoto,
    HelpRecord,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    Scheme,
)
from .selectors import (
    help_totals_of_pairing,
    visible_help_records,
    visible_member_pairs,
    visible_pairings,
)

if TYPE_CHECKING:
    from accounts.models import User


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# -- filters ----------------------------------------------------------------------------------


class SchemeFilter(LedgerFilter):
    """A pairing scheme, among the active ones."""

    name = "scheme"
    label = _("Pairing scheme")
    api_type = "integer"
    api_help = "The id of an active pairing scheme."

    def form_field(self, user: User | None) -> forms.Field:
        return forms.ModelChoiceField(
            label=self.label,
            queryset=Scheme.objects.filter(active=True).order_by("sort_order", "pk"),
            required=self.required,
            empty_label=_("All schemes"),
        )

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Scheme: %(name)s") % {"name": value.name}

    def filename_part(self, value: Any) -> str:
        return value.code


def status_filter() -> ChoicesFilter:
    return ChoicesFilter(
        "status", _("Pairing status"), PairingStatus, empty_label=_("Every status")
    )


# -- what the ledgers share -------------------------------------------------------------------


class PairingLedgerBase(Ledger):
    """Narrowing by the filters this app adds: `pairing` is the path from a row to its
    pairing ("" for the pairing itself)."""

    pairing_path: str = ""

    def _on_pairing(self, name: str) -> str:
        return f"{self.pairing_path}__{name}" if self.pairing_path else name

    def narrow(self, rows: QuerySet) -> QuerySet:
        params = self.params
        if params.get("scheme") is not None:
            rows = rows.filter(**{self._on_pairing("scheme"): params["scheme"]})
        if params.get("status") is not None:
            rows = rows.filter(**{self._on_pairing("status"): params["status"]})
        if params.get("unit") is not None or params.get("organization") is not None:
            # Within the scope already; narrowed by unit (joint committees included) and by
            # organization (and all under it), as every ledger narrows.
            rows = rows.filter(
                **{self._on_pairing("organization__in"): self.organizations().values("pk")}
            )
        return rows

    def in_effect(self, rows: QuerySet) -> QuerySet:
        """Pairings (or what hangs on them) in effect at some time in the chosen period."""
        period = self.params.get("period")
        if period is None:
            return rows
        ended = self._on_pairing("ended_on")
        return rows.filter(
            Q(**{f"{ended}__isnull": True}) | Q(**{f"{ended}__gte": period.start}),
            **{self._on_pairing("started_on__lte"): period.end},
        )


def _joined(key: str, separator: str = "；") -> Computed:
    """The texts `rows()` put under `key`, joined (no query field)."""
    return Computed(lambda row: separator.join(row[key]) or None)


def _yuan(path: str) -> Computed:
    """A sum in whole fen (`config.money`) as exact yuan."""
    return Computed(lambda row: yuan(row[path]), path)


# -- 结对共建台账 ---------------------------------------------------------------------------------


@register
class PairingLedger(PairingLedgerBase):
    """Every pairing in scope with its needs, visits, help and projects."""

    code = "pairings"
    title = _("Pairing ledger")
    description = _(
        "Every pairing of an organ organization with a village, community or other partner: "
        "its scheme and status, needs, visits, funds and goods, projects, and any rule broken."
    )
    filters = [
        SchemeFilter(),
        UnitFilter(),
        OrganizationFilter(),
        PeriodFilter(),
        status_filter(),
    ]
    extra_fields = ("pk",)  # rows() finds the open needs by it
    columns = [
        Column(_("Pairing scheme"), "scheme__name", 20),
        Column(_("Unit"), "organization__unit__name", 24),
        Column(_("Organ organization"), "organization__name", 26),
        Column(_("Organization code"), "organization__code", 12),
        Column(_("Partner"), "partner__name", 22),
        Column(_("District or county"), "partner__district", 12),
        Column(_("Town or subdistrict"), "partner__town", 14),
        Column(_("Partner kind"), Label("partner__kind", PartnerKind), 14),
        Column(_("Pairing status"), Label("status", PairingStatus), 10),
        Column(_("Started on"), "started_on", 12, DATE),
        Column(_("Docked on"), "docked_on", 12, DATE),
        Column(_("Ended on"), "ended_on", 12, DATE),
        Column(_("Needs"), "need_count", 8, INT),
        Column(_("Open needs"), "open_need_count", 8, INT),
        Column(_("Open needs (what)"), _joined("open_needs"), 36),
        Column(_("Measures"), "measure_count", 8, INT),
        Column(_("Visits"), "visit_count", 8, INT),
        Column(_("Last visit"), "last_visit", 12, DATE),
        Column(_("Funds (yuan)"), _yuan("funds_fen"), 14, MONEY),
        Column(_("Goods value (yuan)"), _yuan("goods_value_fen"), 14, MONEY),
        Column(_("Co-building projects"), "project_count", 8, INT),
        Column(
            _("Breaks the scheme's rule"),
            Computed(lambda row: bool(row["override_reason"]), "override_reason"),
            10,
            BOOL,
        ),
        Column(_("Reason for breaking the rule"), "override_reason", 30),
    ]

    def queryset(self) -> QuerySet[Pairing]:
        pairings = self.in_effect(self.narrow(visible_pairings(self.user)))
        return pairings.order_by(
            "scheme__sort_order",
            "scheme_id",
            "organization__unit__sort_order",
            "organization__path",
            "partner__town",
            "partner__name",
            "pk",
        )

    def annotate(self, queryset: QuerySet) -> QuerySet:
        period = self.params["period"]
        start, end = (period.start, period.end) if period is not None else (None, None)
        return queryset.annotate(**help_totals_of_pairing(start, end))

    def open_needs(self, pairing_ids: list[int]) -> dict[int, list[str]]:
        """pairing id -> the open needs' text, oldest first: one query."""
        found: dict[int, list[str]] = defaultdict(list)
        rows = (
            Need.objects.filter(pairing_id__in=pairing_ids, met_on__isnull=True)
            .order_by("pairing_id", "found_on", "pk")
            .values_list("pairing_id", "description")
        )
        for pairing_id, description in rows:
            found[pairing_id].append(description)
        return found

    def rows(self) -> Iterable[Row]:
        for chunk in _chunks(super().rows(), self.chunk_size):
            needs = self.open_needs([row["pk"] for row in chunk])
            for row in chunk:
                row["open_needs"] = needs.get(row["pk"], [])
                yield row


# -- 帮扶记录台账 ---------------------------------------------------------------------------------


def _theme_day(row: Row) -> bool | None:
    # Only a visit can count as a theme party day; funds and goods have no say.
    if row["kind"] != HelpKind.VISIT:
        return None
    return row["activity_record_id"] is not None


@register
class HelpRecordLedger(PairingLedgerBase):
    """Every help record in scope (visits, funds, goods), newest first."""

    code = "help_records"
    title = _("Help record ledger")
    description = _(
        "Every visit, donation of funds and gift of goods filed on a pairing: who went, what "
        "was done, amounts and goods, and whether a visit counted as a theme party day."
    )
    pairing_path = "pairing"
    filters = [
        SchemeFilter(),
        UnitFilter(),
        OrganizationFilter(),
        PeriodFilter(),
        ChoicesFilter("kind", _("Kind of help"), HelpKind, empty_label=_("Every kind")),
    ]
    extra_fields = ("pk",)  # rows() finds who went by it
    columns = [
        Column(_("Date"), "date", 12, DATE),
        Column(_("Kind of help"), Label("kind", HelpKind), 8),
        Column(_("Pairing scheme"), "pairing__scheme__name", 20),
        Column(_("Unit"), "pairing__organization__unit__name", 24),
        Column(_("Organ organization"), "pairing__organization__name", 26),
        Column(_("Partner"), "pairing__partner__name", 22),
        Column(_("Town or subdistrict"), "pairing__partner__town", 14),
        Column(_("What was done"), "description", 40),
        Column(_("Who went"), _joined("who_went", "、"), 24),
        Column(_("Others who went"), "others", 20),
        Column(_("Amount (yuan)"), "amount", 14, MONEY),
        Column(_("Item"), "item", 12),
        Column(_("Quantity"), "quantity", 10, DECIMAL),
        Column(_("Unit of measure"), "unit_of_measure", 8),
        Column(_("Goods value (yuan)"), "value", 14, MONEY),
        Column(
            _("Counted as theme party day"),
            Computed(_theme_day, "kind", "activity_record_id"),
            10,
            BOOL,
        ),
        Column(_("Photos"), "photo_count", 8, INT),
        Column(_("Filed by"), PersonName("filed_by"), 12),
        Column(_("Filed at"), "filed_at", 16, DATETIME),
    ]

    def queryset(self) -> QuerySet[HelpRecord]:
        records = self.narrow(visible_help_records(self.user))
        if (period := self.params["period"]) is not None:
            records = records.filter(date__gte=period.start, date__lte=period.end)
        if (kind := self.params["kind"]) is not None:
            records = records.filter(kind=kind)
        return records.order_by(
            "-date",
            "pairing__organization__unit__sort_order",
            "pairing__organization__path",
            "-pk",
        )

    def annotate(self, queryset: QuerySet) -> QuerySet:
        photos = SubqueryCount(HelpPhoto.objects.filter(help_record=OuterRef("pk")).values("pk"))
        return queryset.annotate(photo_count=photos)

    def who_went(self, record_ids: list[int]) -> dict[int, list[str]]:
        """record id -> the names of the members who went, by member number: one query."""
        found: dict[int, list[str]] = defaultdict(list)
        through = HelpRecord.participants.through
        rows = (
            through.objects.filter(helprecord_id__in=record_ids)
            .order_by("helprecord_id", "member__member_no", "member_id")
            .values_list("helprecord_id", "member__name")
        )
        for record_id, name in rows:
            found[record_id].append(name)
        return found

    def rows(self) -> Iterable[Row]:
        for chunk in _chunks(super().rows(), self.chunk_size):
            names = self.who_went([row["pk"] for row in chunk])
            for row in chunk:
                row["who_went"] = names.get(row["pk"], [])
                yield row


# -- 党员结对台账 ---------------------------------------------------------------------------------


@register
class MemberPairLedger(PairingLedgerBase):
    """Every organ member paired with a village member or a key household (one query)."""

    code = "member_pairs"
    title = _("Member pair ledger")
    description = _(
        "Organ party members paired with village party members or key households, by pairing."
    )
    pairing_path = "pairing"
    filters = [
        SchemeFilter(),
        UnitFilter(),
        OrganizationFilter(),
        PeriodFilter(),
        status_filter(),
    ]
    columns = [
        Column(_("Pairing scheme"), "pairing__scheme__name", 20),
        Column(_("Unit"), "pairing__organization__unit__name", 24),
        Column(_("Organ organization"), "pairing__organization__name", 26),
        Column(_("Party branch"), "member__branch__name", 24),
        Column(_("Member number"), "member__member_no", 14),
        Column(_("Organ member"), "member__name", 12),
        Column(_("Partner"), "pairing__partner__name", 22),
        Column(_("Town or subdistrict"), "pairing__partner__town", 14),
        Column(_("Paired with"), Label("counterpart_kind", CounterpartKind), 12),
        Column(_("Counterpart"), "counterpart_name", 14),
        Column(_("Started on"), "started_on", 12, DATE),
        Column(_("Pairing status"), Label("pairing__status", PairingStatus), 10),
        Column(_("Note"), "note", 30),
    ]

    def queryset(self) -> QuerySet[MemberPair]:
        pairs = self.in_effect(self.narrow(visible_member_pairs(self.user)))
        if (period := self.params["period"]) is not None:
            pairs = pairs.filter(started_on__lte=period.end)
        return pairs.order_by(
            "pairing__scheme__sort_order",
            "pairing__organization__unit__sort_order",
            "pairing__organization__path",
            "pairing__partner__name",
            "member__member_no",
            "pk",
        )
