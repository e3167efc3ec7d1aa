"""The roster file (党员名册): reading an upload safely, checking every row in bulk, saving it
all or nothing, and the roster file the admin exports.

The columns are `MemberResource`'s (branches/resources.py): the same headers (active language,
English, or field names), the same cell widgets (labels or values of choices, 是/否, dates as
text or Excel dates), the same rules (a member is created or updated by member number; a user
who is not committee staff imports only inside their scope; a header row that does not fit
refuses the file). What differs is the cost: a whole-city roster (20,000 rows) is read once,
checked with a fixed handful of queries (organizations by code, existing members by number,
the scope), and written in bulk with their history rows (`branches.bulk`: COPY on
PostgreSQL), in one transaction, instead of several queries per row.

Reading (`read_roster`; .xlsx cells by `branches.spreadsheet`, openpyxl for a package it cannot
place) refuses, in words for the user, before anything expensive:
- a file past `ROSTER_IMPORT_MAX_UNCOMPRESSED_MB` (a workbook by the sum of the sizes its zip
  directory declares, checked before any reader opens it: zipfile, which both readers read
  through, never inflates a member past its declared size, so the sum bounds what reading
  can cost);
- more than `ROSTER_IMPORT_MAX_ROWS` members (non-blank rows, counted while reading);
- an old .xls, a zip that is not a workbook, a renamed file, a CSV that is neither UTF-8 nor
  GB18030 (Excel's "CSV" on Chinese Windows is GBK, a subset).
The header row is the first of the first `HEADER_SEARCH_ROWS` rows that names the member
number column, so the exported file (a title and two notes above its header, as every ledger)
imports as it is. Row numbers are the spreadsheet's own.

The export (`RosterFileLedger`) is a ledger written by `reports.ledgers.write_xlsx`: Chinese
headers, real dates, a Chinese sheet and file name, and text that Excel would take for a formula
written as text.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook

from accounts import access
from reports.ledgers import BOOL, DATE, Column, Label, Ledger, LedgerFilter

from . import spreadsheet
from .bulk import save_members
from .models import Education, Member, MemberStatus, Organization, OrganizationKind, PartyDuty, Sex
from .resources import (
    ChoiceLabelWidget,
    MemberResource,
    SpreadsheetDateWidget,
    TextWidget,
    YesNoWidget,
    as_text,
    header_lookup,
    is_blank,
    resolve_headers,
)
from .selectors import visible_members, visible_organizations

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# --- limits (settings; these are the defaults) -------------------------------------------------

LIMIT_DEFAULTS: dict[str, int] = {
    # 60,000 members as the admin exports them are some 50 MB once unzipped (Excel's own
    # files are smaller): the row limit, not this one, bites on a genuine roster. A crafted
    # file at this limit costs at most some 350 MB while read (1.9 GB for 4.4 MB before).
    "ROSTER_IMPORT_MAX_UNCOMPRESSED_MB": 100,
    "ROSTER_IMPORT_MAX_ROWS": 60_000,
    # Up to this many rows a file is checked and saved while the admin page waits; more, and
    # it becomes a background job with progress.
    "ROSTER_IMPORT_SYNC_ROWS": 2_000,
    # A checked file nobody confirmed is removed after this many hours.
    "ROSTER_IMPORT_KEEP_HOURS": 24,
}


def limit(name: str) -> int:
    return int(getattr(settings, name, LIMIT_DEFAULTS[name]))


MB = 1024 * 1024
HEADER_SEARCH_ROWS = 10  # the header is among the first rows (the export has three above it)
MAX_COLUMNS = 64  # cells right of this are not read (the roster has 18 columns)
LOOKUP_CHUNK = 5000  # values per `IN (...)` (SQLite allows 32,766 parameters)
PROGRESS_EVERY = 1000

XLSX, CSV = "xlsx", "csv"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003)
CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # Excel's "CSV UTF-8", then Chinese Windows' "CSV"

ORGANIZATION_FIELDS = ("branch", "group")
ORGANIZATION_KIND = {"branch": OrganizationKind.BRANCH, "group": OrganizationKind.GROUP}
# A value that did not read must not be compared by Member.clean() in its stale state.
STALE_WHEN_FAILED = ("birth_date", "joined_on", "full_member_on", "group")
# When the branch fails to read, the group's "not inside the branch" is noise.
DEPENDENT_CHECKS: dict[str, tuple[str, ...]] = {"group": ("branch",)}


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row (header = its own row; 0 = the file as a whole), column
    header, message, and the cell as written (for the page; not compared)."""

    row: int
    column: str
    message: str
    value: str = field(default="", compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "message": self.message,
            "value": self.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RowError:
        return cls(data["row"], data["column"], data["message"], data.get("value", ""))


@dataclass
class RosterImportReport:
    """What an import did. When `ok` is false nothing was saved and the counts are zero."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterFileError(Exception):
    """The file as a whole is refused (unreadable, too large, wrong header row): `errors`."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(" ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def say(cls, message: str) -> RosterFileError:
        return cls([RowError(0, "", message)])


def not_a_workbook() -> RosterFileError:
    return RosterFileError.say(
        gettext(
            "The file is not an Excel workbook (.xlsx). Open it in Excel, save it as “Excel "
            "Workbook (*.xlsx)” or as “CSV UTF-8”, and upload it again."
        )
    )


# --- reading -------------------------------------------------------------------------------


@dataclass
class RosterTable:
    """The rows of a roster file: `columns` is the field name of each position (None: a
    column not read), `rows` the non-blank rows after the header as (spreadsheet row, cells)."""

    header_row: int
    columns: list[str | None]
    rows: list[tuple[int, tuple[Any, ...]]]


@dataclass(frozen=True)
class RosterFileInfo:
    """What a quick look at an upload found: its format and about how many rows it has
    (from the workbook's declared dimension or the CSV's line count; 0: unknown)."""

    file_format: str
    estimated_rows: int


Source = bytes | IO[bytes] | str | PathLike


def open_source(source: Source) -> IO[bytes]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source))
    if isinstance(source, str | PathLike):
        return Path(source).open("rb")  # noqa: SIM115 (closed by the caller)
    source.seek(0)
    return source


def size_of(handle: IO[bytes]) -> int:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return size


def _too_large(size: int) -> RosterFileError:
    limit_mb = limit("ROSTER_IMPORT_MAX_UNCOMPRESSED_MB")
    return RosterFileError.say(
        gettext(
            "The file is too large: it holds %(size).1f MB of data once opened, and at most "
            "%(limit)d MB is accepted. Split the roster into several files."
        )
        % {"size": size / MB, "limit": limit_mb}
    )


def _too_many_rows() -> RosterFileError:
    return RosterFileError.say(
        gettext(
            "The file has more than %(limit)d members: at most %(limit)d rows can be imported "
            "at once. Split the roster into several files."
        )
        % {"limit": limit("ROSTER_IMPORT_MAX_ROWS")}
    )


def detect_format(head: bytes, name: str = "", file_format: str | None = None) -> str:
    """xlsx or csv, from the first bytes and the file name (a caller may insist on one)."""
    suffix = Path(name).suffix.casefold()
    if head.startswith(OLE_MAGIC):
        raise RosterFileError.say(
            gettext(
                "The file is in the old Excel 97-2003 format (.xls). Open it in Excel, save it "
                "as “Excel Workbook (*.xlsx)”, and upload it again."
            )
        )
    if file_format == XLSX or head.startswith(ZIP_MAGIC) or suffix == ".xlsx":
        return XLSX  # a renamed file is then refused as "not a workbook"
    if file_format == CSV or suffix in (".csv", ".txt"):
        return CSV
    raise RosterFileError.say(
        gettext("Upload the roster as an Excel workbook (.xlsx) or a CSV file (.csv).")
    )


def _check_archive(handle: IO[bytes]) -> None:
    """Refuse, from the zip directory alone, a zip that is not a workbook or that would
    inflate past the limit. Nothing is decompressed here."""
    try:
        with zipfile.ZipFile(handle) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise not_a_workbook() from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(
        name.endswith("workbook.xml") for name in names
    ):
        raise not_a_workbook()
    uncompressed = sum(entry.file_size for entry in entries)
    if uncompressed > limit("ROSTER_IMPORT_MAX_UNCOMPRESSED_MB") * MB:
        raise _too_large(uncompressed)
    handle.seek(0)


class _Rows:
    """The rows of a file as (spreadsheet row number, values), a blank row maybe left out. A
    reader's own error while parsing becomes the `RosterFileError` its format says; `close()`
    releases the workbook (and its zip file)."""

    def __init__(
        self,
        rows: Iterator[tuple[int, tuple[Any, ...]]],
        refusal: Callable[[], RosterFileError],
        close: Callable[[], None] | None = None,
        estimate: Callable[[], int] | None = None,
    ) -> None:
        self._rows, self._refusal, self._close = rows, refusal, close
        self._estimate = estimate

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> tuple[int, tuple[Any, ...]]:
        try:
            return next(self._rows)
        except (StopIteration, RosterFileError):
            raise
        except Exception:
            logger.info("An unreadable roster file", exc_info=True)
            raise self._refusal() from None

    def estimate(self) -> int:
        """About how many rows the file has (0: unknown), once its first rows were read."""
        return self._estimate() if self._estimate is not None else 0

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


def xlsx_rows(handle: IO[bytes]) -> _Rows:
    """The rows of the active sheet: `branches.spreadsheet`'s reader, or openpyxl's for a
    package that reader does not know how to place."""
    _check_archive(handle)
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise not_a_workbook() from None
    try:
        rows, estimate = spreadsheet.iter_rows(archive, MAX_COLUMNS)
    except spreadsheet.UnsupportedWorkbook:
        archive.close()
        handle.seek(0)
        return _openpyxl_rows(handle)
    except BaseException:
        archive.close()
        raise
    return _Rows(rows, not_a_workbook, archive.close, estimate)


def _openpyxl_rows(handle: IO[bytes]) -> _Rows:
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except Exception:  # a zip with a workbook's names that openpyxl cannot read
        raise not_a_workbook() from None
    try:
        sheet = book.active
        declared = sheet.max_row or 0
        # A declared dimension is not trusted to pad rows or columns: cells are read as they
        # are, up to MAX_COLUMNS.
        sheet.reset_dimensions()
        values = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    except Exception:
        book.close()
        raise not_a_workbook() from None
    return _Rows(enumerate(values, start=1), not_a_workbook, book.close, lambda: declared)


def _csv_text(handle: IO[bytes]) -> str:
    data = handle.read()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode Text" (UTF-16)
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = CSV_ENCODINGS
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _unreadable_csv()


def _unreadable_csv() -> RosterFileError:
    return RosterFileError.say(
        gettext(
            "The CSV file could not be read. Save it from Excel as “CSV UTF-8 (comma "
            "delimited)” or “CSV (comma delimited)”, and upload it again."
        )
    )


def _csv_rows(handle: IO[bytes]) -> _Rows:
    text = _csv_text(handle)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = enumerate((tuple(row[:MAX_COLUMNS]) for row in reader), start=1)
    lines = text.count("\n")
    return _Rows(rows, _unreadable_csv, estimate=lambda: lines)


def _rows_of(handle: IO[bytes], name: str, file_format: str | None) -> tuple[_Rows, str]:
    size = size_of(handle)
    if size > limit("ROSTER_IMPORT_MAX_UNCOMPRESSED_MB") * MB:
        raise _too_large(size)
    head = handle.read(8)
    handle.seek(0)
    found = detect_format(head, name, file_format)
    return (xlsx_rows(handle) if found == XLSX else _csv_rows(handle)), found


def is_blank_row(values: Iterable[Any]) -> bool:
    return all(is_blank(value) for value in values)


def _find_header(rows: _Rows) -> tuple[int, tuple[Any, ...], list]:
    """(spreadsheet row, cells) of the header, and the rows read past it while looking (to be
    read as data): the first of the first HEADER_SEARCH_ROWS rows that names the member
    number column, else the first non-blank row."""
    member_no = {alias for alias, name in header_lookup().items() if name == "member_no"}
    seen: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in rows:
        seen.append((number, values))
        if any(as_text(v).casefold() in member_no for v in values if not is_blank(v)):
            return number, values, []
        if number >= HEADER_SEARCH_ROWS:
            break
    for index, (number, values) in enumerate(seen):
        if not is_blank_row(values):
            return number, values, seen[index + 1 :]
    example = "、".join(
        f"“{MemberResource.fields[name].column_name}”" for name in ("member_no", "name")
    )
    raise RosterFileError.say(
        gettext(
            "The file is empty: its first row must hold the column headers, such as %(example)s."
        )
        % {"example": example}
    )


def row_width(values: tuple[Any, ...]) -> int:
    width = len(values)
    while width and is_blank(values[width - 1]):
        width -= 1
    return width


def read_roster(
    source: Source,
    *,
    name: str = "",
    file_format: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RosterTable:
    """Read a roster file into a `RosterTable`, or raise `RosterFileError` saying why not.

    `progress(rows_read)` is called every PROGRESS_EVERY data rows (for import jobs).
    """
    handle = open_source(source)
    rows: _Rows | None = None
    try:
        rows, _found = _rows_of(handle, name, file_format)
        header_row, header, pending = _find_header(rows)
        width = row_width(header)
        columns, problems = resolve_headers(list(header[:width]))
        if problems:
            # A header row that does not fit means the wrong file: check none of its rows.
            raise RosterFileError([RowError(header_row, col, msg) for col, msg in problems])
        most = limit("ROSTER_IMPORT_MAX_ROWS")
        table: list[tuple[int, tuple[Any, ...]]] = []

        for number, values in itertools.chain(pending, rows):
            values = values[:width]
            if is_blank_row(values):
                continue
            if len(table) >= most:
                raise _too_many_rows()
            table.append((number, values))
            if progress is not None and len(table) % PROGRESS_EVERY == 0:
                progress(len(table))
        if not table:
            raise RosterFileError.say(gettext("There are no members below the header row."))
        if progress is not None:
            progress(len(table))
        return RosterTable(header_row, columns, table)
    finally:
        _close(rows)
        if isinstance(source, str | PathLike):
            handle.close()


def _close(rows: _Rows | None) -> None:
    if rows is not None:
        rows.close()


def inspect_roster(source: Source, *, name: str = "", file_format: str | None = None):
    """A quick look before a file is kept: size and archive limits, format, header row.

    Reads the zip directory and the first rows only; raises `RosterFileError`. Returns a
    `RosterFileInfo` (the row estimate decides between checking now and a background job).
    """
    handle = open_source(source)
    rows: _Rows | None = None
    try:
        rows, found = _rows_of(handle, name, file_format)
        header_row, header, _pending = _find_header(rows)
        _columns, problems = resolve_headers(list(header[: row_width(header)]))
        if problems:
            raise RosterFileError([RowError(header_row, col, msg) for col, msg in problems])
        return RosterFileInfo(found, max(0, rows.estimate() - header_row))
    finally:
        _close(rows)
        if isinstance(source, str | PathLike):
            handle.close()
        else:
            handle.seek(0)


# --- checking ------------------------------------------------------------------------------


@dataclass
class RosterCheck:
    """What a file would do: members to create and to change (with the fields that change),
    how many stay as they are, and every problem. Anything in `errors`: nothing is saved."""

    rows: int = 0
    new: list[Member] = field(default_factory=list)
    changed: list[tuple[Member, list[str]]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


ORG_ONLY = ("pk", "code", "name", "kind", "parent_id")


def _organizations(codes: set[str], user: User | None) -> tuple[dict[str, Organization], set]:
    """Organizations by code (one query per 5,000 codes), and the codes in the user's scope
    (None: no scope to apply)."""
    by_code: dict[str, Organization] = {}
    for chunk in _chunks(sorted(codes)):
        for org in Organization.objects.filter(code__in=chunk).only(*ORG_ONLY):
            by_code[org.code] = org
    if _unrestricted(user):
        return by_code, None
    in_scope: set[str] = set()
    for chunk in _chunks(sorted(by_code)):
        in_scope.update(
            visible_organizations(user).filter(code__in=chunk).values_list("code", flat=True)
        )
    return by_code, in_scope


def _existing_members(
    numbers: list[str], user: User | None, lock: bool
) -> tuple[dict[str, Member], set | None]:
    """Members by number (locked for the transaction when `lock`), with their branch and group
    set from one query, and the numbers of those the user may change (None: all)."""
    found: dict[str, Member] = {}
    for chunk in _chunks(numbers):
        members = Member.objects.filter(member_no__in=chunk).order_by()
        if lock:
            members = members.select_for_update()
        for member in members:
            found[member.member_no] = member
    org_ids = {m.branch_id for m in found.values()} | {
        m.group_id for m in found.values() if m.group_id
    }
    orgs: dict[int, Organization] = {}
    for chunk in _chunks(sorted(org_ids)):
        orgs.update((o.pk, o) for o in Organization.objects.filter(pk__in=chunk).only(*ORG_ONLY))
    for member in found.values():
        member.branch = orgs[member.branch_id]
        member.group = orgs.get(member.group_id) if member.group_id else None
    if _unrestricted(user):
        return found, None
    allowed: set[str] = set()
    for chunk in _chunks(sorted(found)):
        allowed.update(
            visible_members(user).filter(member_no__in=chunk).values_list("member_no", flat=True)
        )
    return found, allowed


def _unrestricted(user: User | None) -> bool:
    """No user means a trusted caller (a command, a task); staff see the whole city."""
    return user is None or access.sees_whole_city(user)


def _display(value: Any) -> str:
    """A cell as the page shows it: empty for an empty cell (never "None")."""
    if value is None:
        return ""
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return value.isoformat()[:10] if hasattr(value, "date") else value.isoformat()
    return as_text(value)


def _model_fields(names: Iterable[str]) -> list[models.Field]:
    return [Member._meta.get_field(MemberResource.fields[name].attribute) for name in names]


def check_roster(table: RosterTable, user: User | None, *, lock: bool = False) -> RosterCheck:
    """Check every row of `table` for `user` (None: no scope) without saving anything.

    Queries, whatever the number of rows: organizations by code and members by number (one
    each per 5,000 values), the branches and groups of those members, and, below committee
    staff, the scope of each. Rows are read by MemberResource's widgets and checked by
    `Member.full_clean` (without its queries: unique numbers, organizations and the database
    constraints are checked here, in bulk).
    """
    resource_fields = MemberResource.fields
    headers = {name: str(f.column_name) for name, f in resource_fields.items()}
    present = [
        (index, name)
        for index, name in enumerate(table.columns)
        if name is not None and not resource_fields[name].readonly
    ]
    names = [name for _index, name in present]
    order = {name: position for position, name in enumerate(MemberResource.Meta.import_order)}
    cleaners = {name: _cleaner(resource_fields[name].widget) for name in names}
    attributes = {name: resource_fields[name].attribute for name in names}
    compared = [f.attname for f in _model_fields(names)]
    # Values the widgets made (choices, dates, yes/no) are valid by construction: only their
    # being required is checked here; Django validates the rest (lengths of text, blanks).
    typed = {
        f.attribute
        for f in resource_fields.values()
        if isinstance(f.widget, TYPED_WIDGETS) and not f.readonly
    }
    required_typed = [a for a in sorted(typed) if not Member._meta.get_field(a).blank]
    present_required = [a for a in required_typed if a in attributes.values()]
    not_cleaned = {*ORGANIZATION_FIELDS, *typed}
    check = RosterCheck(rows=len(table.rows))
    errors = check.errors

    def fail(row: int, name: str, message: str, raw: dict[str, Any]) -> None:
        column = headers.get(name, "") if name != NON_FIELD_ERRORS else ""
        errors.append(RowError(row, column, message, _display(raw.get(name))))

    # 1. Cells, in Python.
    parsed: list[tuple[int, dict[str, Any], dict[str, Any], dict[str, str]]] = []
    first_row_of: dict[str, int] = {}
    for number, values in table.rows:
        raw = {name: (values[index] if index < len(values) else None) for index, name in present}
        cleaned: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for name in names:
            value = raw[name]
            if name in ORGANIZATION_FIELDS:
                cleaned[name] = as_text(value)
                continue
            try:
                cleaned[name] = cleaners[name](value)
            except ValueError as exc:
                failed[name] = str(exc)
        member_no = cleaned.get("member_no", "")
        if member_no:
            first = first_row_of.setdefault(member_no, number)
            if first != number:
                # The same member twice is an error, not "the last row wins"; nothing else of
                # the row is checked (it is the wrong row either way).
                message = gettext(
                    "Member number “%(value)s” appears more than once in the file "
                    "(first on row %(row)s)."
                ) % {"value": member_no, "row": first}
                fail(number, "member_no", message, raw)
                continue
        parsed.append((number, raw, cleaned, failed))

    # 2. What the rows name, in bulk.
    codes = {c[name] for _n, _r, c, _f in parsed for name in ORGANIZATION_FIELDS if c.get(name)}
    organizations, codes_in_scope = _organizations(codes, user)
    numbers = sorted({c["member_no"] for _n, _r, c, _f in parsed if c.get("member_no")})
    existing, numbers_in_scope = _existing_members(numbers, user, lock)
    blank = Member._meta.get_field("name").error_messages["blank"]

    # 3. Each row against them, in Python.
    for number, raw, cleaned, failed in parsed:
        member_no = cleaned.get("member_no", "")
        before = existing.get(member_no)
        outside = numbers_in_scope is not None and member_no not in numbers_in_scope
        if before is not None and outside:
            # Someone outside the user's scope has this number: as if it were new, the
            # number is taken (and nothing else of that member is shown).
            failed.setdefault(
                "member_no",
                " ".join(Member().unique_error_message(Member, ("member_no",)).messages),
            )
            before = None
        # An existing member is changed in place (each appears once in the file); what it was
        # is kept to tell a change from a row that says what the database already holds.
        member = before if before is not None else Member()
        original = [getattr(before, a) for a in compared] if before is not None else None
        for name in names:
            if name in ORGANIZATION_FIELDS:
                continue
            if name in failed:
                if name in STALE_WHEN_FAILED:
                    setattr(member, attributes[name], None)
                continue
            setattr(member, attributes[name], cleaned[name])
        for name in ORGANIZATION_FIELDS:
            if name not in cleaned:
                continue
            code = cleaned[name]
            org = organizations.get(code) if code else None
            message = None
            if code and org is None:
                message = gettext("There is no party organization with the code “%(code)s”.")
            elif org is not None and codes_in_scope is not None and code not in codes_in_scope:
                message = gettext("The party organization “%(code)s” is outside your scope.")
            elif org is not None and org.kind != ORGANIZATION_KIND[name]:
                message = (
                    gettext("“%(code)s” is %(name)s, a %(kind)s, not a party branch.")
                    if name == "branch"
                    else gettext("“%(code)s” is %(name)s, a %(kind)s, not a party group.")
                )
            if message is not None:
                failed[name] = message % {
                    "code": code,
                    "name": org.name if org is not None else "",
                    "kind": org.get_kind_display() if org is not None else "",
                }
                if name in STALE_WHEN_FAILED:
                    setattr(member, name, None)
                continue
            setattr(member, name, org)
        if member.branch_id is None and "branch" not in failed:
            failed["branch"] = str(blank)
        if not member_no and "member_no" not in failed:
            failed["member_no"] = str(blank)
        for attribute in required_typed if original is None else present_required:
            name = _field_of(attribute)
            if name not in failed and getattr(member, attribute) in (None, ""):
                failed[name] = str(blank)
        model_errors = _model_errors(
            member, not_cleaned | {attributes[n] for n in failed if n in attributes}
        )
        for attribute, depends_on in DEPENDENT_CHECKS.items():
            if attribute not in failed and any(d in failed for d in depends_on):
                model_errors.pop(attribute, None)
        if failed or model_errors:
            found: list[tuple[int, str, str]] = [
                (order.get(name, len(order)), name, message) for name, message in failed.items()
            ]
            for attribute, messages in model_errors.items():
                name = _field_of(attribute)
                found += [(order.get(name, len(order)), name, m) for m in messages]
            for _position, name, message in sorted(found, key=lambda item: item[0]):
                fail(number, name, message, raw)
            continue
        if original is None:
            check.new.append(member)
            continue
        changes = [
            a for a, was in zip(compared, original, strict=True) if getattr(member, a) != was
        ]
        if changes:
            check.changed.append((member, changes))
        else:
            check.unchanged += 1
    errors.sort(key=lambda e: e.row)  # stable: columns stay in file order within a row
    return check


def _model_errors(member: Member, exclude: set[str]) -> dict[str, list[str]]:
    """`Member.full_clean` without its queries: the fields not excluded, then `clean()`
    (unique numbers, organizations and the database constraints are checked in bulk)."""
    errors: dict[str, Any] = {}
    try:
        member.clean_fields(exclude=exclude)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        member.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    return ValidationError(errors).message_dict if errors else {}


TYPED_WIDGETS = (ChoiceLabelWidget, YesNoWidget, SpreadsheetDateWidget)


def _cleaner(widget: Any) -> Callable[[Any], Any]:
    """`widget.clean`, with the common cells (text that is a label, yes/no, a date cell) read
    without it: it looks the language up for every cell. Anything else goes to the widget,
    which says what is wrong with it."""
    if isinstance(widget, ChoiceLabelWidget):
        lookup = widget._lookup()

        def choice(value: Any) -> Any:
            if value.__class__ is str:
                key = value.strip().casefold()
                if not key:
                    return ""
                found = lookup.get(key)
                if found is not None:
                    return found
            return widget.clean(value)

        return choice
    if isinstance(widget, YesNoWidget):
        yes = {*widget.TRUE, gettext("Yes").casefold()}
        no = {*widget.FALSE, gettext("No").casefold(), ""}

        def yes_no(value: Any) -> Any:
            if value.__class__ is str:
                key = value.strip().casefold()
                if key in yes:
                    return True
                if key in no:
                    return False
            elif value is None or value.__class__ is bool:
                return bool(value)
            return widget.clean(value)

        return yes_no
    if isinstance(widget, SpreadsheetDateWidget):

        def day(value: Any) -> Any:
            if value.__class__ is datetime.datetime:
                return value.date()
            if value.__class__ is datetime.date or value is None:
                return value
            return widget.clean(value)

        return day
    if isinstance(widget, TextWidget):
        return as_text
    return widget.clean


def _field_of(attribute: str) -> str:
    """The resource field (column) that sets a model attribute; NON_FIELD_ERRORS stays."""
    return FIELD_OF.get(attribute, attribute)


FIELD_OF = {f.attribute: name for name, f in MemberResource.fields.items() if not f.readonly}


# --- saving --------------------------------------------------------------------------------


def save_roster(
    table: RosterTable,
    user: User | None,
    *,
    admin_log: bool = False,
) -> RosterImportReport:
    """Check `table` again and save it, in one transaction: every row or none.

    The members it updates are locked while it runs (PostgreSQL), so a change made meanwhile
    is neither lost nor overwritten. History rows record `user` as the author; `admin_log`
    adds the admin's log entries too. The writing is `branches.bulk.save_members`'s.
    """
    try:
        with transaction.atomic():
            check = check_roster(table, user, lock=True)
            if check.errors:
                return RosterImportReport(errors=check.errors)
            save_members(check.new, check.changed, user, admin_log=admin_log)
    except DatabaseError:
        # A member number taken, or an organization moved, by someone else in the meantime.
        return RosterImportReport(
            errors=[
                RowError(
                    0,
                    "",
                    gettext(
                        "The roster was changed by someone else while this file was being "
                        "imported. Nothing was imported: upload the file again."
                    ),
                )
            ]
        )
    return RosterImportReport(
        created=len(check.new), updated=len(check.changed), unchanged=check.unchanged
    )


# --- the export ----------------------------------------------------------------------------

# The import's columns, in its order; branch names are there to read, not imported.
EXPORT_TYPES = {
    "birth_date": DATE,
    "joined_on": DATE,
    "full_member_on": DATE,
    "is_party_worker": BOOL,
    "is_hardship": BOOL,
}
EXPORT_VALUES = {
    "sex": Label("sex", Sex),
    "status": Label("status", MemberStatus),
    "education": Label("education", Education),
    "duty": Label("duty", PartyDuty),
    "branch": "branch__code",
    "group": "group__code",
}
EXPORT_WIDTHS = {"name": 12, "branch_name": 26, "position": 20, "community": 20}
PRIVATE = {"birth_date", "phone"}  # as the roster ledger: staff and secretaries


def _export_columns() -> list[Column]:
    columns = []
    for name in MemberResource.Meta.export_order:
        f = MemberResource.fields[name]
        columns.append(
            Column(
                f.column_name,
                EXPORT_VALUES.get(name, f.attribute),
                EXPORT_WIDTHS.get(name, 14),
                EXPORT_TYPES.get(name, "text"),
                capability="member.view_private" if name in PRIVATE else None,
            )
        )
    return columns


class ChosenFilters(LedgerFilter):
    """What the admin's member list was narrowed by, as words for the sheet's filter line
    (the query set itself comes from the list). Not a form field: the ledger is not offered
    in the portal's downloads."""

    name = "chosen"
    label = _("Filters")

    def form_field(self, user: User | None):  # pragma: no cover - never in a form
        raise NotImplementedError("The roster file's filters come from the admin's list.")

    def describe(self, value: Any) -> str:
        return "；".join(value)


class RosterFileLedger(Ledger):
    """The roster file the admin exports: the import's own columns (codes, not names, for
    branches and groups), so a file exported, corrected and imported again changes only what
    was corrected. Not registered: the portal's roster ledger is `branches.ledgers.RosterLedger`.
    """

    code = "roster_file"
    title = _("Party member roster")
    filters = [ChosenFilters()]
    columns = _export_columns()

    def __init__(
        self,
        user: User,
        members: models.QuerySet[Member] | None = None,
        described: list[str] | None = None,
    ):
        super().__init__(user, {"chosen": described or None})
        self.members = members

    def queryset(self) -> models.QuerySet[Member]:
        members = Member.objects.all() if self.members is None else self.members
        if not access.sees_whole_city(self.user):
            members = members.filter(pk__in=visible_members(self.user).values("pk"))
        return members.order_by("branch__unit__sort_order", "branch__path", "member_no")

    def filename(self) -> str:
        return f"{self.title}-{timezone.localdate():%Y-%m-%d}.xlsx"
