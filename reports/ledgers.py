"""The ledger (台账) framework, modelled on pretix's exporters.

A ledger declares a code, a title, its columns and its filters, and yields rows from a query set
that starts at the one scoping rule. One writer turns any ledger into an .xlsx file with openpyxl
in write-only (streaming) mode: memory stays flat whatever the number of rows.

Apps register theirs in `<app>/ledgers.py` with `@register` (imported at start-up).
"""

from __future__ import annotations

import copy
import datetime
import decimal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from branches.models import Organization, Unit
from branches.periods import Period
from branches.selectors import visible_organizations, visible_units

if TYPE_CHECKING:
    from accounts.models import User

TEXT, INT, DECIMAL, MONEY, PERCENT, DATE, DATETIME, BOOL = (
    "text", "int", "decimal", "money", "percent", "date", "datetime", "bool"
)  # fmt: skip
NUMBER_FORMATS = {
    INT: "0",
    DECIMAL: "0.00",
    MONEY: "#,##0.00",
    PERCENT: "0.0%",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
# A cell starting with one of these would be read by Excel as a formula (CSV/formula injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    type: str = TEXT


@dataclass
class LedgerParams:
    """The filters a user chose, already checked against their scope."""

    unit: Unit | None = None
    organization: Organization | None = None
    period: Period | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit.pk if self.unit else None,
            "organization": self.organization.pk if self.organization else None,
            "period": self.period.code if self.period else None,
        }

    def describe(self) -> list[str]:
        lines = []
        if self.unit:
            lines.append(gettext("Unit: %(name)s") % {"name": self.unit.name})
        if self.organization:
            lines.append(gettext("Organization: %(name)s") % {"name": self.organization.name})
        if self.period:
            lines.append(gettext("Period: %(label)s") % {"label": self.period.label})
        return lines


class Ledger:
    """Base class. Subclasses set the class attributes and implement `queryset()`/`rows()`."""

    code: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    columns: ClassVar[list[Column]]
    filters: ClassVar[tuple[str, ...]] = ("unit", "organization")  # of: unit, organization, period
    period_required: ClassVar[bool] = False
    period_kinds: ClassVar[tuple[str, ...]] = ("month", "quarter", "year")
    chunk_size: ClassVar[int] = 2000

    def __init__(self, user: User, params: LedgerParams | None = None):
        self.user = user
        self.params = params or LedgerParams()

    # -- scope ---------------------------------------------------------------------------
    def organizations(self) -> QuerySet[Organization]:
        """The user's visible organizations, narrowed by the unit and organization filters."""
        orgs = visible_organizations(self.user)
        if self.params.unit is not None:
            orgs = orgs.filter(unit=self.params.unit)
        if self.params.organization is not None:
            orgs = orgs.filter(path__startswith=self.params.organization.path)
        return orgs

    # -- content -------------------------------------------------------------------------
    def queryset(self) -> QuerySet:
        raise NotImplementedError  # each ledger says where its rows come from

    def count(self) -> int:
        """How many rows the ledger will have (decides between a direct download and a job)."""
        return self.queryset().count()

    def rows(self) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    def filename(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        suffix = f"-{self.params.period.code}" if self.params.period else ""
        return f"{self.code}{suffix}-{stamp}.xlsx"


REGISTRY: dict[str, type[Ledger]] = {}


def register(ledger: type[Ledger]) -> type[Ledger]:
    if ledger.code in REGISTRY and REGISTRY[ledger.code] is not ledger:
        raise ValueError(f"Two ledgers share the code {ledger.code!r}")
    REGISTRY[ledger.code] = ledger
    return ledger


def get_ledger(code: str) -> type[Ledger] | None:
    return REGISTRY.get(code)


def all_ledgers() -> list[type[Ledger]]:
    return sorted(REGISTRY.values(), key=lambda ledger: ledger.code)


# -- filters ----------------------------------------------------------------------------------


class LedgerFilterForm(forms.Form):
    """The filters of one ledger, with choices limited to the user's scope."""

    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.none(), required=False)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.none(), required=False
    )
    period = forms.CharField(
        label=_("Period"),
        required=False,
        help_text=_("A month (2026-03), a quarter (2026-Q1) or a year (2026)."),
    )

    def __init__(self, ledger: type[Ledger], user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ledger = ledger
        for name in ("unit", "organization", "period"):
            if name not in ledger.filters:
                del self.fields[name]
        if "unit" in self.fields:
            self.fields["unit"].queryset = visible_units(user)
        if "organization" in self.fields:
            self.fields["organization"].queryset = visible_organizations(user).only(
                "pk", "name", "path", "depth"
            )
            self.fields["organization"].label_from_instance = lambda o: "　" * o.depth + o.name
        if "period" in self.fields:
            self.fields["period"].required = ledger.period_required

    def clean_period(self) -> Period | None:
        text = self.cleaned_data.get("period") or ""
        if not text:
            return None
        try:
            period = Period.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        if period.kind not in self.ledger.period_kinds:
            raise forms.ValidationError(gettext("This ledger does not take that kind of period."))
        return period

    def params(self) -> LedgerParams:
        data = self.cleaned_data
        return LedgerParams(
            unit=data.get("unit"), organization=data.get("organization"), period=data.get("period")
        )


def params_from_json(ledger: type[Ledger], user: User, data: dict[str, Any]) -> LedgerParams:
    """Re-check stored filters against the user's scope *now* (a job may run later)."""
    form = LedgerFilterForm(
        ledger, user, data={k: v for k, v in (data or {}).items() if v is not None}
    )
    if not form.is_valid():
        raise forms.ValidationError(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        )
    return form.params()


# -- the writer -------------------------------------------------------------------------------

TITLE_FONT = Font(size=14, bold=True)
NOTE_FONT = Font(size=9, color="555555")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B22222")  # party red
HEADER_BORDER = Border(bottom=Side(style="thin", color="000000"))
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
HEADER_ROW = 4  # title, filters, build time, then the header


def _converter(ws, column: Column) -> Callable[[Any], Any]:
    """A per-column function from a Python value to what the sheet gets (chosen once).

    It runs for every cell, so the work is done here, once per column: words and styles are
    looked up now; a plain value goes through as it is, and a cell object is made only where a
    number format is needed (a cell passed to openpyxl costs an exception and a new cell).
    """
    if column.type == TEXT:

        def text(value: Any) -> Any:
            if value is None:
                return None
            if value.__class__ is not str:
                value = str(value)
            if value.startswith(FORMULA_PREFIXES):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"  # written as text, never as a formula
                return cell
            return value

        return text

    if column.type == BOOL:
        yes, no = gettext("Yes"), gettext("No")

        def boolean(value: Any) -> Any:
            if value is None:
                return None
            return yes if value else no

        return boolean

    if column.type == INT:

        def integer(value: Any) -> Any:
            # Excel's General format shows a whole number as "0" would: no cell, no style.
            return None if value is None or value == "" else value

        return integer

    # Setting `number_format` on each cell looks the format up in the workbook every time:
    # compute the style once and give each cell a copy, before its value (a date then keeps it).
    template = WriteOnlyCell(ws)
    template.number_format = NUMBER_FORMATS[column.type]
    style = template._style
    dates = column.type in (DATE, DATETIME)
    decimals = column.type in (MONEY, DECIMAL)

    def formatted(value: Any) -> Any:
        if value is None or value == "":
            return None
        if dates and isinstance(value, datetime.datetime) and value.tzinfo:
            value = timezone.localtime(value).replace(tzinfo=None)
        elif decimals and isinstance(value, str):
            value = decimal.Decimal(value)
        cell = WriteOnlyCell(ws)
        cell._style = copy.copy(style)
        cell.value = value
        return cell

    return formatted


def write_xlsx(
    ledger: Ledger,
    fileobj: IO[bytes],
    *,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 2000,
) -> int:
    """Stream `ledger` into `fileobj` as .xlsx; return the number of data rows written.

    `progress(rows_written)` is called every `progress_every` rows (for export jobs).
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(ledger.title)[:31])
    columns = ledger.columns
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"

    title = WriteOnlyCell(ws, value=str(ledger.title))
    title.font = TITLE_FONT
    ws.append([title])
    filters = "；".join(ledger.params.describe()) or gettext("All organizations in your scope")
    note = WriteOnlyCell(ws, value=filters)
    note.font = NOTE_FONT
    ws.append([note])
    built = WriteOnlyCell(
        ws,
        value=gettext("Built %(when)s by %(user)s")
        % {
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "user": ledger.user.get_full_name() or ledger.user.get_username(),
        },
    )
    built.font = NOTE_FONT
    ws.append([built])
    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=str(column.header))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.border, cell.alignment = HEADER_BORDER, HEADER_ALIGN
        header.append(cell)
    ws.append(header)

    converters = [_converter(ws, column) for column in columns]
    written = 0
    try:
        for row in ledger.rows():
            ws.append([convert(value) for convert, value in zip(converters, row, strict=True)])
            written += 1
            if progress is not None and written % progress_every == 0:
                progress(written)
    except BaseException:
        ws.close()  # end the sheet's stream now, not at garbage collection
        ws._writer.cleanup()  # and remove openpyxl's temporary file: a worker lives long
        raise
    last_row = HEADER_ROW + max(written, 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{last_row}"
    wb.save(fileobj)
    if progress is not None:
        progress(written)
    return written


def iterate(queryset: QuerySet, chunk_size: int) -> Iterator[Any]:
    """Stream a query set in chunks (prefetches run once per chunk, never once per row)."""
    return queryset.iterator(chunk_size=chunk_size)


# -- the reports app's own ledger: the monthly bulletin --------------------------------------


@register
class BulletinLedger(Ledger):
    """The stored bulletin of one month, as built; each user sees the lines of their scope."""

    code = "bulletin"
    title = _("Monthly organizational life bulletin")
    description = _("Which organizations did not hold what they owed in a month, as published.")
    filters = ("unit", "organization", "period")
    period_required = True
    period_kinds = ("month",)
    columns = [
        Column(_("Unit"), 24),
        Column(_("Organization"), 30),
        Column(_("Organization code"), 14),
        Column(_("Activities owed"), 10, INT),
        Column(_("Activities held"), 10, INT),
        Column(_("Missing"), 8, INT),
        Column(_("What was missed"), 36),
        Column(_("Next election due"), 14, DATE),
        Column(_("Election overdue"), 10, BOOL),
    ]

    def queryset(self) -> QuerySet:
        from .models import BulletinRow

        lines = BulletinRow.objects.filter(bulletin__month=self.params.period.start).order_by(
            "unit_name", "organization_code"
        )
        if self.user.sees_whole_city and self.params.organization is None:
            # History as published: lines of organizations deleted since stay for the city.
            return lines.filter(unit=self.params.unit) if self.params.unit else lines
        return lines.filter(organization__in=self.organizations().values("pk"))

    def rows(self) -> Iterable[Sequence[Any]]:
        fields = (
            "unit_name",
            "organization_name",
            "organization_code",
            "owed",
            "held",
            "missing",
            "missing_detail",
            "election_due_on",
            "election_overdue",
        )
        yield from self.queryset().values_list(*fields).iterator(chunk_size=self.chunk_size)
