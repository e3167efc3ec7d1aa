"""The ledger (台账) framework, modelled on pretix's exporters.

A ledger declares a code, a title, its filters and its columns, and yields rows from a query set
that starts at the one scoping rule:

- a filter (`LedgerFilter`, like pretix's `export_form_fields`) is one thing the user may narrow
  the ledger by. It brings its form field (choices cut to the user's scope, its own widget), how
  its value is stored in a job and described on the sheet, and its OpenAPI schema. The portal's
  form, the API (the ledger list and the export POST) and the export job (which re-checks the
  stored filters when it runs) all read a ledger's `filters`: a ledger with a new kind of filter
  changes no file here. The chosen values are a `LedgerParams`: filter name -> cleaned value.
- a column (`Column`) is a header, how its value is read from a row (a field path of the row
  dict that `values()` gives, or a `Value` such as `Computed`), a width and a type, and
  optionally a capability the user must hold to see it. The query selects exactly what the
  user's columns read; nothing is kept in step by position.

One writer turns any ledger into an .xlsx file (`write_xlsx`, with `reports.xlsx`: xlsxwriter,
streaming): memory stays flat whatever the number of rows, every cell is typed, and no text a
user typed ever becomes a formula.

Apps register theirs in `<app>/ledgers.py` with `@register` (imported at start-up).
"""

from __future__ import annotations

import operator
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, ClassVar

from django import forms
from django.db.models import Q, QuerySet, TextChoices
from django.http import FileResponse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from accounts.models import display_name
from branches.models import Organization
from branches.periods import YEAR_PATTERN, Period
from branches.selectors import visible_organizations, visible_units
from config.files import XLSX

# The column types are reports.xlsx's, re-exported ("X as X"): ledgers declare columns with them.
from .xlsx import BOOL as BOOL
from .xlsx import DATE as DATE
from .xlsx import DATETIME as DATETIME
from .xlsx import DECIMAL as DECIMAL
from .xlsx import INT as INT
from .xlsx import KINDS, XlsxSheet
from .xlsx import MONEY as MONEY
from .xlsx import NUMBER_FORMATS as NUMBER_FORMATS
from .xlsx import PERCENT as PERCENT
from .xlsx import TEXT as TEXT

if TYPE_CHECKING:
    from accounts.models import User

Row = Mapping[str, Any]

# -- filters ----------------------------------------------------------------------------------


class LedgerFilter:
    """One filter of a ledger. Instances are declared once per ledger class and shared by
    every request: they hold settings only, never a user or a value.

    A subclass gives `form_field(user)`; the rest has defaults it may override.
    """

    name: str = ""  # the form field's and the API's key; a ledger's filters have unique names
    label: Any = ""
    # For the API: the JSON type of the value, and what it is (English, like the schema).
    api_type: ClassVar[str] = "string"
    api_help: ClassVar[str] = ""

    def __init__(self, *, required: bool = False, name: str | None = None):
        self.required = required
        if name is not None:
            self.name = name
        if not self.name:
            raise ValueError(f"{type(self).__name__} needs a name")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, required={self.required!r})"

    # -- the form (portal page, API POST, stored job: the same checks) ---------------------
    def form_field(self, user: User | None) -> forms.Field:
        """A form field whose choices are cut to the user's scope, with its own widget.

        Its cleaned value is what the ledger reads in `params[name]` (None: not chosen), and
        it must accept what `to_json` stored (a job's filters are checked again by it).
        """
        raise NotImplementedError

    # -- the value -------------------------------------------------------------------------
    def to_json(self, value: Any) -> Any:
        """The cleaned value as stored on an export job (read back through `form_field`)."""
        return value

    def describe(self, value: Any) -> str:
        """One line for the sheet's filter row and the job page."""
        return f"{self.label}: {value}"

    def filename_part(self, value: Any) -> str:
        """A piece of the file name (e.g. the period code), or "" for none."""
        return ""

    def organizations(self, organizations: QuerySet[Organization], value: Any) -> QuerySet:
        """Narrow the ledger's organizations (`Ledger.organizations()`); most filters don't."""
        return organizations

    # -- the API ---------------------------------------------------------------------------
    def schema(self) -> dict[str, Any]:
        """The value as an OpenAPI schema object (null: not chosen)."""
        schema: dict[str, Any] = {"type": self.api_type, "nullable": True}
        if self.api_help:
            schema["description"] = self.api_help
        return schema

    def info(self) -> dict[str, Any]:
        """How /api/ledgers/ describes the filter."""
        return {
            "name": self.name,
            "label": str(self.label),
            "required": self.required,
            "schema": self.schema(),
        }


ALL = _("All")  # the empty choice of a ChoicesFilter


class ChoicesFilter(LedgerFilter):
    """One value of a Django `Choices` class (a pairing's status, a help record's kind)."""

    api_type = "string"

    def __init__(
        self,
        name: str,
        label: Any,
        choices: type[TextChoices],
        *,
        empty_label: Any = ALL,
        required: bool = False,
    ):
        self.label = label
        self.choices = choices
        self.empty_label = empty_label
        super().__init__(required=required, name=name)

    def form_field(self, user: User | None) -> forms.Field:
        return forms.ChoiceField(
            label=self.label,
            choices=[("", self.empty_label), *self.choices.choices],
            required=self.required,
        )

    def describe(self, value: Any) -> str:
        return gettext("%(filter)s: %(value)s") % {
            "filter": self.label,
            "value": self.choices(value).label,
        }

    def filename_part(self, value: Any) -> str:
        return value

    def schema(self) -> dict[str, Any]:
        # A pattern, not an enum: drf-spectacular would make an enum component of each, named
        # by the filter's name, and "kind" is already a field of other components.
        values = "|".join(re.escape(v) for v in self.choices.values)
        with translation.override("en"):
            words = ", ".join(f"{v} ({label})" for v, label in self.choices.choices)
        return {
            "type": "string",
            "nullable": True,
            "pattern": f"^({values})$",
            "description": f"One of: {words}.",
        }


class UnitFilter(LedgerFilter):
    """A unit: its own organizations and the joint committees that span it
    (`Organization.objects.of_unit`)."""

    name = "unit"
    label = _("Unit")
    api_type = "integer"
    api_help = (
        "A unit id from /api/units/ (in your scope): its organizations, joint committees included."
    )

    def form_field(self, user: User | None) -> forms.Field:
        return forms.ModelChoiceField(
            label=self.label,
            queryset=visible_units(user),
            required=self.required,
            empty_label=_("All in your scope"),
        )

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Unit: %(name)s") % {"name": value.name}

    def organizations(self, organizations: QuerySet[Organization], value: Any) -> QuerySet:
        return organizations.of_unit(value)


class OrganizationFilter(LedgerFilter):
    """An organization and everything under it (`Organization.objects.subtree_of`)."""

    name = "organization"
    label = _("Organization")
    api_type = "integer"
    api_help = (
        "An organization id from /api/organizations/ (in your scope): this organization and "
        "all under it."
    )

    def form_field(self, user: User | None) -> forms.Field:
        field = forms.ModelChoiceField(
            label=self.label,
            queryset=visible_organizations(user).only("pk", "name", "path", "depth", "kind"),
            required=self.required,
            empty_label=_("All in your scope"),
        )
        field.label_from_instance = lambda o: "　" * o.depth + o.name
        return field

    def to_json(self, value: Any) -> Any:
        return value.pk

    def describe(self, value: Any) -> str:
        return gettext("Organization: %(name)s") % {"name": value.name}

    def organizations(self, organizations: QuerySet[Organization], value: Any) -> QuerySet:
        return organizations.subtree_of(value)


class MonthInput(forms.TextInput):
    """`<input type="month">`: a phone shows a month picker; the value is YYYY-MM."""

    input_type = "month"


class PeriodField(forms.CharField):
    """A period code (2026-03, 2026-Q1, 2026) of one of `kinds`, cleaned to a `Period`."""

    def __init__(self, *, kinds: Sequence[str], **kwargs: Any):
        self.kinds = tuple(kinds)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Period | None:
        if isinstance(value, Period):
            return value
        text = super().to_python(value)
        if not text:
            return None
        try:
            period = Period.parse(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from exc
        if period.kind not in self.kinds:
            raise forms.ValidationError(
                gettext("This ledger does not take that kind of period."), code="kind"
            )
        return period

    def prepare_value(self, value: Any) -> Any:
        return value.code if isinstance(value, Period) else value


PERIOD_EXAMPLES = {"month": ("a month", "2026-03"), "quarter": ("a quarter", "2026-Q1"),
                   "year": ("a year", "2026")}  # fmt: skip
PERIOD_PATTERNS = {
    "month": rf"{YEAR_PATTERN}-(0?[1-9]|1[0-2])",
    "quarter": rf"{YEAR_PATTERN}-[Qq][1-4]",
    "year": YEAR_PATTERN,
}


# The help under the period field says which periods this ledger takes, and no others.
PERIOD_HELP = {
    ("month",): _("A month, e.g. 2026-03."),
    ("month", "quarter", "year"): _("A month (2026-03), a quarter (2026-Q1) or a year (2026)."),
}


class PeriodFilter(LedgerFilter):
    """A month, a quarter or a year (those of `kinds`), as `branches.periods.Period`."""

    name = "period"
    label = _("Period")

    def __init__(
        self,
        kinds: Sequence[str] = ("month", "quarter", "year"),
        *,
        required: bool = False,
        name: str | None = None,
    ):
        super().__init__(required=required, name=name)
        unknown = set(kinds) - set(PERIOD_EXAMPLES)
        if not kinds or unknown:
            raise ValueError(f"Unknown period kinds: {sorted(unknown) or kinds!r}")
        self.kinds = tuple(kinds)

    def __repr__(self) -> str:
        return f"PeriodFilter(kinds={self.kinds!r}, required={self.required!r})"

    def form_field(self, user: User | None) -> forms.Field:
        if self.kinds == ("month",):
            # The value of a month input is YYYY-MM, which `Period.parse` reads.
            widget: forms.Widget = MonthInput(
                attrs={"placeholder": "2026-03", "pattern": r"\d{4}-\d{2}", "autocomplete": "off"}
            )
        else:
            widget = forms.TextInput(
                attrs={
                    "placeholder": " / ".join(PERIOD_EXAMPLES[k][1] for k in self.kinds),
                    "inputmode": "text",
                    "autocomplete": "off",
                }
            )
        return PeriodField(
            kinds=self.kinds,
            label=self.label,
            required=self.required,
            widget=widget,
            help_text=PERIOD_HELP.get(self.kinds, ""),
        )

    def to_json(self, value: Any) -> Any:
        return value.code

    def describe(self, value: Any) -> str:
        return gettext("Period: %(label)s") % {"label": value.label}

    def filename_part(self, value: Any) -> str:
        return value.code

    def schema(self) -> dict[str, Any]:
        examples = [PERIOD_EXAMPLES[k] for k in self.kinds]
        words = [f"{what} ({example})" for what, example in examples]
        text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
        pattern = "|".join(PERIOD_PATTERNS[k] for k in self.kinds)
        return {
            "type": "string",
            "nullable": True,
            "pattern": f"^({pattern})$",
            "description": text[0].upper() + text[1:] + ".",
        }

    def info(self) -> dict[str, Any]:
        return {**super().info(), "kinds": list(self.kinds)}


class LedgerParams(Mapping[str, Any]):
    """The filters a user chose for one ledger, cleaned and checked against their scope.

    A mapping of the ledger's filter names to their values (None: not chosen); any other name
    is a KeyError, so a ledger reads only the filters it declares (`self.params["unit"]`).
    """

    __slots__ = ("_values", "filters")

    def __init__(self, filters: Sequence[LedgerFilter], values: Mapping[str, Any] | None = None):
        values = dict(values or {})
        self.filters = tuple(filters)
        names = [f.name for f in self.filters]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError(f"Not filters of this ledger: {', '.join(unknown)}")
        self._values = {name: values.get(name) for name in names}

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"LedgerParams({self._values!r})"

    def chosen(self) -> Iterator[tuple[LedgerFilter, Any]]:
        """(filter, value) of each filter that was given a value, in the ledger's order."""
        for f in self.filters:
            value = self._values[f.name]
            if value is not None:
                yield f, value

    def to_json(self) -> dict[str, Any]:
        """What an export job stores: every filter of the ledger, null when not chosen."""
        return {
            f.name: (None if self._values[f.name] is None else f.to_json(self._values[f.name]))
            for f in self.filters
        }

    def describe(self) -> list[str]:
        return [f.describe(value) for f, value in self.chosen()]


class LedgerFilterForm(forms.Form):
    """The filters of one ledger, each its own field with choices limited to the user's scope.

    The portal page, the API's POST and a job about to run (`params_from_json`) all clean
    filters with it.
    """

    def __init__(self, ledger: type[Ledger], user: User | None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.ledger = ledger
        for f in ledger.filters:
            self.fields[f.name] = f.form_field(user)

    def params(self) -> LedgerParams:
        values = {}
        for f in self.ledger.filters:
            value = self.cleaned_data.get(f.name)
            # Not chosen is None, whatever the field's own empty value ("" for a ChoiceField).
            values[f.name] = None if value in self.fields[f.name].empty_values else value
        return LedgerParams(self.ledger.filters, values)


def unknown_filter_errors(ledger: type[Ledger], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Errors for given values (not null or blank) of filters the ledger does not take: a
    filter silently ignored would make a wider ledger than the one asked for."""
    names = {f.name for f in ledger.filters}
    return {
        name: [gettext("This ledger has no such filter.")]
        for name, value in data.items()
        if name not in names and value not in (None, "")
    }


def params_from_json(ledger: type[Ledger], user: User, data: Mapping[str, Any]) -> LedgerParams:
    """Re-check stored filters against the user's scope *now* (a job may run later)."""
    given = {k: v for k, v in (data or {}).items() if v is not None}
    errors = unknown_filter_errors(ledger, given)
    form = LedgerFilterForm(ledger, user, data=given)
    if not form.is_valid():
        errors = {**form.errors, **errors}
    if errors:
        raise forms.ValidationError("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
    return form.params()


# -- columns ----------------------------------------------------------------------------------


class Value:
    """How a column's value is read from a row (a dict of `values()`, which the ledger's
    `rows()` may add keys to).

    `fields`: what the query must select for it. `reader(ledger)` is called once per sheet
    (words in the sheet's language, today's date, ...) and returns the function called for
    every row.
    """

    fields: tuple[str, ...] = ()

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        raise NotImplementedError


class FieldValue(Value):
    """A field (path) of the row as it is: `Column(_("Topic"), "topic")`."""

    def __init__(self, path: str):
        self.path = path
        self.fields = (path,)

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        return operator.itemgetter(self.path)


class Computed(Value):
    """`function(row)`, reading `fields` from the query (and any key the ledger's `rows()`
    adds to the row itself)."""

    def __init__(self, function: Callable[[Row], Any], *fields: str):
        self.function = function
        self.fields = fields

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        return self.function


class Label(Value):
    """The label of a choice field's value (`choices`: a Django `Choices` class), in the
    sheet's language; an empty value is an empty cell."""

    def __init__(self, path: str, choices: Any):
        self.path = path
        self.choices = choices
        self.fields = (path,)

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        labels = {value: (str(label) if value else None) for value, label in self.choices.choices}
        path = self.path

        def label(row: Row) -> Any:
            value = row[path]
            return labels.get(value, value)

        return label


class PersonName(Value):
    """A user's name as the portal prints it (`accounts.models.display_name`: 苏刚波, or the
    username of an account without a name), from the user foreign key `path`."""

    def __init__(self, path: str):
        self.path = path
        self.fields = (f"{path}__first_name", f"{path}__last_name", f"{path}__username")

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        first, last, username = self.fields

        def name(row: Row) -> Any:
            if row[username] is None:
                return None  # nobody
            return display_name(row[first], row[last], row[username])

        return name


def as_value(value: str | Callable[[Row], Any] | Value) -> Value:
    if isinstance(value, Value):
        return value
    if isinstance(value, str):
        return FieldValue(value)
    if callable(value):
        return Computed(value)
    raise TypeError(
        f"A column's value is a field path, a function of the row or a Value: {value!r}"
    )


@dataclass(frozen=True)
class Column:
    """A column: its header, how its value is read (a field path of the row, a function of the
    row, or a `Value`), its width and type, and the capability a user must hold to see it."""

    header: str
    value: str | Callable[[Row], Any] | Value
    width: float = 14
    type: str = TEXT
    capability: str | None = None
    source: Value = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in KINDS:
            raise ValueError(f"Unknown column type {self.type!r}")
        object.__setattr__(self, "source", as_value(self.value))

    @property
    def fields(self) -> tuple[str, ...]:
        return self.source.fields

    def visible_to(self, user: User | None) -> bool:
        return self.capability is None or access.can(user, self.capability)


# -- ledgers ----------------------------------------------------------------------------------


class Ledger:
    """Base class. Subclasses declare the class attributes and implement `queryset()`.

    `columns` on the class are all the ledger's columns; on an instance, those its user may
    see (a column may need a capability). The writer, the API and the query read the
    instance's.
    """

    code: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    filters: ClassVar[Sequence[LedgerFilter]] = ()
    columns: Sequence[Column]
    # Fields `rows()` reads itself besides what the columns read (e.g. "pk" to look things up).
    extra_fields: ClassVar[tuple[str, ...]] = ()
    chunk_size: ClassVar[int] = 2000

    def __init__(self, user: User, params: Mapping[str, Any] | None = None):
        self.user = user
        self.params = LedgerParams(self.filters, params)
        self.columns = [c for c in type(self).columns if c.visible_to(user)]

    # -- scope ---------------------------------------------------------------------------
    def organizations(self) -> QuerySet[Organization]:
        """The user's visible organizations, narrowed by the filters chosen (unit, organization)."""
        orgs = visible_organizations(self.user)
        for f, value in self.params.chosen():
            orgs = f.organizations(orgs, value)
        return orgs

    # -- content -------------------------------------------------------------------------
    def queryset(self) -> QuerySet:
        raise NotImplementedError  # each ledger says where its rows come from

    def count(self) -> int:
        """How many rows the ledger will have (decides between a direct download and a job)."""
        return self.queryset().count()

    def annotate(self, queryset: QuerySet) -> QuerySet:
        """Add what the columns read that `queryset()` (which is also counted) does not have."""
        return queryset

    def fields(self) -> list[str]:
        """What the rows' query selects: what the user's columns read, and `extra_fields`."""
        names = dict.fromkeys(self.extra_fields)
        for column in self.columns:
            names.update(dict.fromkeys(column.fields))
        return list(names)

    def rows(self) -> Iterable[Row]:
        """The rows, as dicts streamed from the database in chunks."""
        values = self.annotate(self.queryset()).values(*self.fields())
        return values.iterator(chunk_size=self.chunk_size)

    def filename(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        parts = [f.filename_part(value) for f, value in self.params.chosen()]
        suffix = "".join(f"-{part}" for part in parts if part)
        return f"{self.code}{suffix}-{stamp}.xlsx"


REGISTRY: dict[str, type[Ledger]] = {}


def register(ledger: type[Ledger]) -> type[Ledger]:
    if ledger.code in REGISTRY and REGISTRY[ledger.code] is not ledger:
        raise ValueError(f"Two ledgers share the code {ledger.code!r}")
    names = [f.name for f in ledger.filters]
    if len(set(names)) != len(names) or "ledger" in names:
        raise ValueError(f"Ledger {ledger.code!r}: filter names must be unique, never 'ledger'")
    REGISTRY[ledger.code] = ledger
    return ledger


def get_ledger(code: str) -> type[Ledger] | None:
    return REGISTRY.get(code)


def all_ledgers() -> list[type[Ledger]]:
    return sorted(REGISTRY.values(), key=lambda ledger: ledger.code)


def all_filter_names() -> set[str]:
    """The name of every filter some registered ledger takes."""
    return {f.name for ledger in REGISTRY.values() for f in ledger.filters}


# -- the writer -------------------------------------------------------------------------------

# The ledgers' look (xlsxwriter format properties): a title, two notes, the header in party red.
STYLES = {
    "title": {"font_size": 14, "bold": True},
    "note": {"font_size": 9, "font_color": "#555555"},
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": "#B22222",  # party red
        "pattern": 1,  # solid
        "bottom": 1,  # thin
        "bottom_color": "#000000",
        "align": "center",
        "valign": "vcenter",
        "text_wrap": True,
    },
}
HEADER_ROW = 4  # title, filters, build time, then the header (1-based, as Excel numbers rows)


# A direct download is built in memory up to this size, then spills to a temporary file.
SPOOL_MAX_BYTES = 8 * 1024 * 1024


def xlsx_download(ledger: Ledger) -> FileResponse:
    """Build a ledger now and send it as the .xlsx file (memory first, a temporary file past
    8 MB): the one way a page hands over a ledger without a background job."""
    # Not a `with` block: FileResponse closes the file once it has been sent.
    buffer = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    try:
        write_xlsx(ledger, buffer)
    except BaseException:
        buffer.close()
        raise
    buffer.seek(0)
    response = FileResponse(
        buffer, as_attachment=True, filename=ledger.filename(), content_type=XLSX
    )
    response["Cache-Control"] = "private, no-store"
    return response


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
    columns = ledger.columns
    sheet = XlsxSheet(fileobj, str(ledger.title), [c.width for c in columns], STYLES)
    try:
        sheet.line([str(ledger.title)], "title")
        filters = "；".join(ledger.params.describe()) or gettext("All organizations in your scope")
        sheet.line([filters], "note")
        user = ledger.user
        built = gettext("Built %(when)s by %(user)s") % {
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            "user": display_name(user.first_name, user.last_name, user.get_username()),
        }
        sheet.line([built], "note")
        sheet.line([str(column.header) for column in columns], "header")
        sheet.freeze()
        cells = [(column.source.reader(ledger), column.type) for column in columns]
        written = sheet.write_rows(
            ledger.rows(), cells, progress=progress, progress_every=progress_every
        )
        if not written:
            # An empty ledger says so, rather than looking like a file cut short.
            sheet.line([gettext("No rows: nothing in your scope matches.")], "note")
        # The header and the data rows (0-based rows for xlsxwriter).
        sheet.autofilter(HEADER_ROW - 1, HEADER_ROW - 1 + max(written, 1), len(columns))
    except BaseException:
        sheet.discard()
        raise
    sheet.close()
    if progress is not None:
        progress(written)
    return written


# -- the reports app's own ledger: the monthly bulletin --------------------------------------


_bulletin_compliant = Computed(
    # A line that owed nothing is there for its overdue election or its overdue problems:
    # neither compliant nor not.
    lambda row: (row["missing"] == 0) if row["owed"] else None,
    "owed",
    "missing",
)


@register
class BulletinLedger(Ledger):
    """The stored bulletin of one month, as built; each user sees the lines of their scope."""

    code = "bulletin"
    title = _("Monthly organizational life bulletin")
    description = _(
        "Every organization that owed organizational life in a month, as published: what it "
        "owed and held, whether it complied, and what it missed."
    )
    filters = [UnitFilter(), OrganizationFilter(), PeriodFilter(kinds=("month",), required=True)]
    columns = [
        Column(_("Unit"), "unit_name", 24),
        Column(_("Organization"), "organization_name", 30),
        Column(_("Organization code"), "organization_code", 14),
        Column(_("Activities owed"), "owed", 10, INT),
        Column(_("Activities held"), "held", 10, INT),
        Column(_("Missing"), "missing", 8, INT),
        Column(_("Compliant"), _bulletin_compliant, 10, BOOL),
        Column(_("What was missed"), "missing_detail", 36),
        Column(_("Next election due"), "election_due_on", 14, DATE),
        Column(_("Election overdue"), "election_overdue", 10, BOOL),
        Column(_("Problems overdue at month end"), "overdue_problem_count", 10, INT),
        Column(_("Overdue problems (what)"), "overdue_problem_detail", 40),
    ]

    def queryset(self) -> QuerySet:
        from .models import BulletinRow

        unit, organization = self.params["unit"], self.params["organization"]
        from .selectors import all_bulletins

        # Only the bulletins the pages show: a month built before it ended never is.
        lines = BulletinRow.objects.filter(
            bulletin__in=all_bulletins(), bulletin__month=self.params["period"].start
        ).order_by("unit_name", "organization_code")
        if access.sees_whole_city(self.user) and organization is None:
            # History as published: lines of organizations deleted since stay for the city (by
            # the unit stored on the line), with the joint committees that span the unit.
            if unit is None:
                return lines
            of_unit = Organization.objects.of_unit(unit).values("pk")
            return lines.filter(Q(unit=unit) | Q(organization__in=of_unit))
        return lines.filter(organization__in=self.organizations().values("pk"))
