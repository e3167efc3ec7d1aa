"""Bulk creation of pairings from an .xlsx file (the admin's 批量导入 on the pairing list).

One pairing a row, below a row of column headers (`COLUMNS`: 机关党组织编码, 结对对象, 乡镇,
结对方案, 开始日期, and optionally 状态, 对接日期, 突破规则理由, 备注; the English headers are
read too). Under the roster import's rules (`branches.roster`, whose reading helpers this
module uses: `branches.spreadsheet` streams the cells):

- all or nothing: every row is checked first and every problem reported, in Chinese, with the
  spreadsheet's own row number and column; one problem anywhere and nothing is saved;
- the file as a whole is refused, in words for the user and before anything expensive, when it
  is empty, not an .xlsx (an old .xls, a CSV, a renamed file), broken, larger than
  `PAIRING_IMPORT_MAX_UNCOMPRESSED_MB` once unzipped (judged from the zip directory, before
  anything is inflated), or longer than `PAIRING_IMPORT_MAX_ROWS` rows;
- a row is checked as `services.pairing_errors` checks one pairing (the scheme's shape,
  `rules.shape_errors`; status and docking date; the scheme's limits, `rules.rule_breaches`,
  unless the row gives a reason to break them, and then the pairing is flagged), with the
  limits counted over the pairings already made *and the rows above it in the file*: two rows
  giving the same "1+1" village are one too many, whatever the database holds;
- cost: the checking reads organizations by code and partners by name (one query per 5,000),
  the schemes, and the pairings of the schemes named (one query each), then works in memory;
  the pairings are written by `bulk_create`, inside one transaction that has locked the
  partners named (as `services.create_pairing` locks its one).

The organization codes are `Organization.code`; a partner is found by its name, with the town
(乡镇) when several partners share the name; a scheme by its name or its code. With a docking
date and no status, the pairing is docked.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import os
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from branches import roster
from branches.models import Organization
from branches.resources import SpreadsheetDateWidget, as_text, is_blank
from branches.roster import MB, OLE_MAGIC, ZIP_MAGIC, RosterFileError, RowError

from .models import Pairing, PairingStatus, PartnerOrganization, Scheme
from .rules import rule_breaches
from .services import PairingInput, pairing_field_errors

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "COLUMNS",
    "PairingCheck",
    "PairingFileError",
    "PairingImportReport",
    "RowError",
    "check_pairings",
    "import_pairings",
    "read_pairing_file",
]

LIMIT_DEFAULTS: dict[str, int] = {
    # A city has some 800 organ organizations: a file of every pairing of every scheme is a
    # few thousand rows. Each is checked and written while the page waits (well under a
    # second per 2,000 rows).
    "PAIRING_IMPORT_MAX_ROWS": 5_000,
    # 5,000 rows are some 2 MB of XML once unzipped.
    "PAIRING_IMPORT_MAX_UNCOMPRESSED_MB": 20,
}


def limit(name: str) -> int:
    return int(getattr(settings, name, LIMIT_DEFAULTS[name]))


HEADER_SEARCH_ROWS = 10  # the header is among the first rows (a title may sit above it)
LOOKUP_CHUNK = 5000  # values per `IN (...)`
ERRORS_SHOWN = 1000  # the page lists this many problems, and says how many there were
BULK_BATCH = 1000


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    key: str
    header: Any  # a lazy translation: the header in the active language
    required: bool = False
    aliases: tuple[str, ...] = ()  # more headers it may have (Chinese words people use)
    width: float = 16

    def names(self) -> set[str]:
        """Every header the column is known by, casefolded: Chinese, English, its key."""
        found = {self.key, *self.aliases}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                found.add(str(self.header))
        return {_header_key(name) for name in found}


COLUMNS = [
    ImportColumn("organization", _("Organ organization code"), True, ("党组织编码",), 16),
    ImportColumn("partner", _("Partner name"), True, ("结对对象", "共建对象", "结对单位"), 22),
    ImportColumn("town", _("Town"), False, ("乡镇（街道）", "乡镇街道", "街道"), 14),
    ImportColumn("scheme", _("Pairing scheme"), True, ("方案",), 20),
    ImportColumn("started_on", _("Start date"), True, ("开始时间", "结对日期"), 12),
    ImportColumn("status", _("State"), False, ("结对状态",), 10),
    ImportColumn("docked_on", _("Docking date"), False, ("对接完成日期",), 12),
    ImportColumn(
        "override_reason", _("Reason for breaking the rule"), False, ("突破规则原因",), 30
    ),
    ImportColumn("note", _("Note"), False, ("说明",), 30),
]
BY_KEY = {column.key: column for column in COLUMNS}
TEXT_LIMITS = {
    "override_reason": Pairing._meta.get_field("override_reason").max_length,
}
# Words for a status besides its label (计划中 / 对接完成 / 已结束) and its value.
STATUS_ALIASES = {
    "计划": PairingStatus.PLANNED,
    "已对接": PairingStatus.DOCKED,
    "对接": PairingStatus.DOCKED,
    "结束": PairingStatus.ENDED,
}


def _header_key(text: Any) -> str:
    """A header, a scheme's name or a town as compared: no spaces or quotes, any case
    ("1+1"好支部共建 is “1+1”好支部共建)."""
    return re.sub(r"[\s“”\"'‘’]+", "", as_text(text)).casefold()


def header(key: str) -> str:
    """A column's header in the active language."""
    return str(BY_KEY[key].header)


# --- results ---------------------------------------------------------------------------------


class PairingFileError(Exception):
    """The file as a whole is refused: `errors` say why (row 0, or the header row)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(" ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def say(cls, message: str) -> PairingFileError:
        return cls([RowError(0, "", message)])


@dataclass
class PairingTable:
    """The rows of a file: `columns` the key of each position (None: not read), `rows` the
    non-blank rows after the header as (spreadsheet row, cells)."""

    header_row: int
    columns: list[str | None]
    rows: list[tuple[int, tuple[Any, ...]]]


@dataclass
class PairingCheck:
    """What a file would create (unsaved pairings, and the rows of those that break their
    scheme's rule with a reason) and every problem. Anything in `errors`: nothing is saved."""

    rows: int = 0
    new: list[Pairing] = field(default_factory=list)
    flagged_rows: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class PairingImportReport:
    """What an import did (or, checked only, would do). When `ok` is false nothing was saved."""

    rows: int = 0
    created: int = 0
    flagged: int = 0
    saved: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading ---------------------------------------------------------------------------------


def _too_large(size: int) -> PairingFileError:
    return PairingFileError.say(
        gettext(
            "The file is too large: it holds %(size).1f MB of data once opened, and at most "
            "%(limit)d MB is accepted. Split it into several files."
        )
        % {"size": size / MB, "limit": limit("PAIRING_IMPORT_MAX_UNCOMPRESSED_MB")}
    )


def _not_xlsx() -> PairingFileError:
    return PairingFileError.say(
        gettext(
            "The file is not an Excel workbook (.xlsx). Open it in Excel, save it as “Excel "
            "Workbook (*.xlsx)”, and upload it again."
        )
    )


def _damaged() -> PairingFileError:
    return PairingFileError.say(
        gettext(
            "The workbook could not be read: it may be damaged. Open it in Excel, save it again "
            "as “Excel Workbook (*.xlsx)”, and upload it again."
        )
    )


def _examples() -> str:
    return "、".join(f"“{c.header}”" for c in COLUMNS if c.required)


def _check_archive(handle: IO[bytes]) -> None:
    """From the zip directory alone (nothing inflated): a workbook, and not too big once
    unzipped. The reader (zipfile) never inflates a member past the size declared here."""
    try:
        with zipfile.ZipFile(handle) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _damaged() from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.endswith("workbook.xml") for n in names):
        raise _not_xlsx()
    uncompressed = sum(entry.file_size for entry in entries)
    if uncompressed > limit("PAIRING_IMPORT_MAX_UNCOMPRESSED_MB") * MB:
        raise _too_large(uncompressed)
    handle.seek(0)


def _find_header(rows: Iterator) -> tuple[int, tuple[Any, ...], list]:
    """(spreadsheet row, cells) of the header and the rows read past it while looking: the
    first of the first rows that names the organization code column, else the first
    non-blank row (whose missing columns are then reported)."""
    codes = BY_KEY["organization"].names()
    seen: list[tuple[int, tuple[Any, ...]]] = []
    for number, values in rows:
        seen.append((number, values))
        if any(_header_key(v) in codes for v in values if not is_blank(v)):
            return number, values, []
        if number >= HEADER_SEARCH_ROWS:
            break
    for index, (number, values) in enumerate(seen):
        if not roster.is_blank_row(values):
            return number, values, seen[index + 1 :]
    raise PairingFileError.say(
        gettext(
            "The file is empty: its first row must hold the column headers, such as %(example)s."
        )
        % {"example": _examples()}
    )


def _resolve_headers(row: int, cells: tuple[Any, ...]) -> list[str | None]:
    """The column key of each header cell, or PairingFileError with every problem."""
    known = {name: column.key for column in COLUMNS for name in column.names()}
    columns: list[str | None] = []
    problems: list[RowError] = []
    taken: set[str] = set()
    for cell in cells:
        if is_blank(cell):
            columns.append(None)
            continue
        key = known.get(_header_key(cell))
        text = as_text(cell)
        if key is None:
            problems.append(
                RowError(
                    row,
                    text,
                    gettext("Unknown column “%(header)s”. The columns are: %(columns)s.")
                    % {"header": text, "columns": "、".join(str(c.header) for c in COLUMNS)},
                )
            )
        elif key in taken:
            problems.append(
                RowError(
                    row, text, gettext("The column “%(header)s” appears twice.") % {"header": text}
                )
            )
        taken.add(key or "")
        columns.append(key)
    for column in COLUMNS:
        if column.required and column.key not in taken:
            problems.append(
                RowError(
                    row,
                    str(column.header),
                    gettext("The column “%(header)s” is missing.") % {"header": column.header},
                )
            )
    if problems:
        raise PairingFileError(problems)
    return columns


def read_pairing_file(source: roster.Source, *, name: str = "") -> PairingTable:
    """Read an upload (bytes, a file object or a path) into a `PairingTable`, or raise
    `PairingFileError` saying why not."""
    handle = roster.open_source(source)
    rows = None
    try:
        size = roster.size_of(handle)
        if size == 0:
            raise PairingFileError.say(
                gettext(
                    "The file is empty: its first row must hold the column headers, such as "
                    "%(example)s."
                )
                % {"example": _examples()}
            )
        if size > limit("PAIRING_IMPORT_MAX_UNCOMPRESSED_MB") * MB:
            raise _too_large(size)
        head = handle.read(8)
        handle.seek(0)
        if head.startswith(OLE_MAGIC):
            raise PairingFileError.say(
                gettext(
                    "The file is in the old Excel 97-2003 format (.xls). Open it in Excel, save "
                    "it as “Excel Workbook (*.xlsx)”, and upload it again."
                )
            )
        if not head.startswith(ZIP_MAGIC):
            raise _not_xlsx()
        _check_archive(handle)
        try:
            rows = roster.xlsx_rows(handle)
            header_row, cells, pending = _find_header(rows)
            width = roster.row_width(cells)
            columns = _resolve_headers(header_row, cells[:width])
            most = limit("PAIRING_IMPORT_MAX_ROWS")
            table: list[tuple[int, tuple[Any, ...]]] = []
            for number, values in itertools.chain(pending, rows):  # streamed: the limit bites early
                values = values[:width]
                if roster.is_blank_row(values):
                    continue
                if len(table) >= most:
                    raise PairingFileError.say(
                        gettext(
                            "The file has more than %(limit)d pairings: at most %(limit)d rows "
                            "can be imported at once. Split it into several files."
                        )
                        % {"limit": most}
                    )
                table.append((number, values))
        except RosterFileError:
            # The reader's own refusal (a broken part, bad XML): said in this import's words.
            raise _damaged() from None
        if not table:
            raise PairingFileError.say(gettext("There are no pairings below the header row."))
        return PairingTable(header_row, columns, table)
    finally:
        if rows is not None:
            rows.close()
        if isinstance(source, str | os.PathLike):
            handle.close()  # opened here (a file object is the caller's to close)


# --- checking --------------------------------------------------------------------------------

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _text(value: Any) -> str:
    """A cell as text, with Excel's escapes of control characters (_x0000_) read back."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), as_text(value))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    return _text(value).replace("\x00", "␀")


def _chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Found(list):
    """Pairings found in memory, answering what `rules.rule_breaches` asks of a query set."""

    def exists(self) -> bool:
        return bool(self)

    def count(self) -> int:  # type: ignore[override]
        return len(self)


class _Current:
    """A scheme's current pairings, those already made and the file's rows above, in memory:
    `rules.rule_breaches` reads it as it reads `Pairing.objects.current().filter(scheme=...)`
    (filter by organization and/or partner, then exists() or count()). Each entry is the
    spreadsheet row it comes from (0: already in the database)."""

    def __init__(self) -> None:
        self.by_pair: dict[tuple[int, int], _Found] = defaultdict(_Found)
        self.by_organization: dict[int, _Found] = defaultdict(_Found)
        self.by_partner: dict[int, _Found] = defaultdict(_Found)

    def add(self, organization_id: int, partner_id: int, row: int) -> None:
        self.by_pair[(organization_id, partner_id)].append(row)
        self.by_organization[organization_id].append(row)
        self.by_partner[partner_id].append(row)

    def filter(self, organization=None, partner=None) -> _Found:
        if organization is not None and partner is not None:
            return self.by_pair.get((organization.pk, partner.pk), _Found())
        if organization is not None:
            return self.by_organization.get(organization.pk, _Found())
        if partner is not None:
            return self.by_partner.get(partner.pk, _Found())
        raise TypeError("filter by organization or partner")


@dataclass
class _Lookups:
    organizations: dict[str, Organization]
    partners: dict[str, list[PartnerOrganization]]  # by name
    schemes: dict[str, Scheme]  # by name and by code (casefolded)
    scheme_names: list[str]


def _lookups(parsed: list[dict[str, Any]], lock: bool) -> _Lookups:
    codes = sorted({p["organization"] for p in parsed if p.get("organization")})
    organizations: dict[str, Organization] = {}
    for chunk in _chunks(codes):
        for org in Organization.objects.filter(code__in=chunk).only("pk", "code", "name", "kind"):
            organizations[org.code] = org
    names = sorted({p["partner"] for p in parsed if p.get("partner")})
    partners: dict[str, list[PartnerOrganization]] = defaultdict(list)
    for chunk in _chunks(names):
        found = PartnerOrganization.objects.filter(name__in=chunk).order_by("town", "pk")
        if lock:
            # As `services.create_pairing` locks its partner: two imports (or an import and a
            # clerk) cannot both take a "1+1" village.
            found = found.select_for_update()
        for partner in found.only("pk", "name", "town", "kind"):
            partners[partner.name].append(partner)
    schemes: dict[str, Scheme] = {}
    scheme_names = []
    for scheme in Scheme.objects.order_by("sort_order", "pk"):
        scheme_names.append(scheme.name)
        schemes.setdefault(scheme.code.casefold(), scheme)
        schemes[_header_key(scheme.name)] = scheme
    return _Lookups(organizations, partners, schemes, scheme_names)


def _status_of(text: str) -> str | None:
    return _status_words().get(_header_key(text))


@functools.cache
def _status_words() -> dict[str, str]:
    """Every word a status may be written as: its value, its label (Chinese or English)."""
    words = {_header_key(k): v for k, v in STATUS_ALIASES.items()}
    for status in PairingStatus:
        words[status.value] = status.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                words[_header_key(status.label)] = status.value
    return words


def _parse(
    number: int, raw: dict[str, Any], fail: Callable[[str, str], None]
) -> dict[str, Any] | None:
    """One row's cells, read: texts, dates, the status. None when a cell failed."""
    failed = False

    def bad(key: str, message: str) -> None:
        nonlocal failed
        failed = True
        fail(key, message)

    parsed: dict[str, Any] = {}
    for key in ("organization", "partner", "town", "scheme", "status", "override_reason", "note"):
        value = raw.get(key)
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()[:10]
        text = _text(value)
        if "\x00" in text:
            bad(key, gettext("Null characters are not allowed."))
            continue
        most = TEXT_LIMITS.get(key)
        if most is not None and len(text) > most:
            bad(
                key,
                gettext("At most %(limit)d characters (this has %(count)d).")
                % {"limit": most, "count": len(text)},
            )
            continue
        parsed[key] = text
    dates = SpreadsheetDateWidget()
    for key in ("started_on", "docked_on"):
        value = raw.get(key)
        if isinstance(value, str) and "\x00" in _text(value):
            bad(key, gettext("Null characters are not allowed."))
            continue
        try:
            parsed[key] = dates.clean(_text(value) if isinstance(value, str) else value)
        except ValueError as exc:
            bad(key, str(exc))
    for key in ("organization", "partner", "scheme", "started_on"):
        if key in parsed and not parsed[key]:
            bad(key, gettext("Fill in this column."))
    status_text = parsed.get("status", "")
    if status_text:
        status = _status_of(status_text)
        if status is None:
            bad(
                "status",
                gettext("Unknown state “%(value)s”: write one of %(states)s.")
                % {
                    "value": status_text,
                    "states": "、".join(str(s.label) for s in PairingStatus),
                },
            )
        else:
            parsed["status"] = status
    elif "status" in parsed:
        # With a docking date and no status, the pairing is docked.
        parsed["status"] = (
            PairingStatus.DOCKED if parsed.get("docked_on") else PairingStatus.PLANNED
        )
    return None if failed else parsed


def _rows_note(rows: list[int]) -> str:
    """Which rows of the file a breach counted, if any."""
    rows = sorted({row for row in rows if row})
    if not rows:
        return ""
    return gettext(" (Counting row %(rows)s of this file.)") % {
        "rows": "、".join(str(row) for row in rows)
    }


def check_pairings(table: PairingTable, user: User | None, *, lock: bool = False) -> PairingCheck:
    """Check every row of `table` without saving anything (see the module's docstring).

    `lock` (inside the caller's transaction): lock the partners named until it ends."""
    check = PairingCheck(rows=len(table.rows))
    errors = check.errors
    present = [(index, key) for index, key in enumerate(table.columns) if key is not None]

    # 1. Cells, in Python.
    rows: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for number, values in table.rows:
        raw = {key: (values[index] if index < len(values) else None) for index, key in present}

        def fail(key: str, message: str, number=number, raw=raw) -> None:
            errors.append(RowError(number, header(key), message, _display(raw.get(key))))

        parsed = _parse(number, raw, fail)
        if parsed is not None:
            rows.append((number, raw, parsed))

    # 2. Everything the rows name, in a few queries.
    found = _lookups([parsed for _n, _raw, parsed in rows], lock)
    schemes_named = set()
    resolved: list[tuple[int, dict, dict, Organization, PartnerOrganization, Scheme]] = []
    for number, raw, parsed in rows:
        row_errors: list[tuple[str, str]] = []
        organization = found.organizations.get(parsed["organization"])
        if organization is None:
            row_errors.append(
                (
                    "organization",
                    gettext("There is no party organization with the code “%(code)s”.")
                    % {"code": parsed["organization"]},
                )
            )
        partner = None
        candidates = found.partners.get(parsed["partner"], [])
        town = parsed.get("town", "")
        if town:
            in_town = [p for p in candidates if _header_key(p.town) == _header_key(town)]
            if in_town:
                partner = in_town[0]
            else:
                row_errors.append(
                    (
                        "partner",
                        gettext("There is no partner named “%(name)s” in %(town)s.")
                        % {"name": parsed["partner"], "town": town},
                    )
                )
        elif len(candidates) == 1:
            partner = candidates[0]
        elif not candidates:
            row_errors.append(
                (
                    "partner",
                    gettext("There is no partner named “%(name)s”.") % {"name": parsed["partner"]},
                )
            )
        else:
            row_errors.append(
                (
                    "partner",
                    gettext(
                        "Several partners are named “%(name)s” (in %(towns)s): give the town "
                        "in the column “%(column)s”."
                    )
                    % {
                        "name": parsed["partner"],
                        "towns": "、".join(p.town for p in candidates),
                        "column": header("town"),
                    },
                )
            )
        scheme = found.schemes.get(_header_key(parsed["scheme"])) or found.schemes.get(
            parsed["scheme"].casefold()
        )
        if scheme is None:
            row_errors.append(
                (
                    "scheme",
                    gettext("There is no pairing scheme “%(scheme)s”. The schemes are: %(names)s.")
                    % {"scheme": parsed["scheme"], "names": "、".join(found.scheme_names)},
                )
            )
        for key, message in row_errors:
            errors.append(RowError(number, header(key), message, _display(raw.get(key))))
        if row_errors:
            continue
        schemes_named.add(scheme.pk)
        resolved.append((number, raw, parsed, organization, partner, scheme))

    # 3. The pairings of those schemes already made (one query), then each row in order, with
    # the rows above it counted as made.
    made: set[tuple[int, int, int]] = set()
    current: dict[int, _Current] = defaultdict(_Current)
    if schemes_named:
        existing = Pairing.objects.filter(scheme_id__in=sorted(schemes_named)).values_list(
            "scheme_id", "organization_id", "partner_id", "status"
        )
        for scheme_id, organization_id, partner_id, status in existing.order_by():
            made.add((scheme_id, organization_id, partner_id))
            if status != PairingStatus.ENDED:
                current[scheme_id].add(organization_id, partner_id, 0)
    in_file: dict[tuple[int, int, int], int] = {}
    by = user if getattr(user, "pk", None) else None
    for number, raw, parsed, organization, partner, scheme in resolved:
        row_errors = _row_errors(parsed, organization, partner, scheme, made, in_file, current)
        for key, message in row_errors.items():
            errors.append(RowError(number, header(key), message, _display(raw.get(key))))
        if row_errors:
            continue
        triple = (scheme.pk, organization.pk, partner.pk)
        in_file[triple] = number
        reason = parsed.get("override_reason", "")
        if parsed["status"] != PairingStatus.ENDED:
            scheme_current = current[scheme.pk]
            if reason and not rule_breaches(scheme, organization, partner, scheme_current):
                reason = ""  # nothing was overridden: no flag (as `create_pairing`)
            scheme_current.add(organization.pk, partner.pk, number)
        else:
            reason = ""
        if reason:
            check.flagged_rows.append(number)
        check.new.append(
            Pairing(
                scheme=scheme,
                organization=organization,
                partner=partner,
                status=parsed["status"],
                started_on=parsed["started_on"],
                docked_on=parsed.get("docked_on"),
                override_reason=reason,
                note=parsed.get("note", ""),
                created_by=by,
            )
        )
    errors.sort(key=lambda e: e.row)  # stable: a row's problems in the order of its checks
    return check


def _row_errors(
    parsed: dict[str, Any],
    organization: Organization,
    partner: PartnerOrganization,
    scheme: Scheme,
    made: set,
    in_file: dict,
    current: dict[int, _Current],
) -> dict[str, str]:
    """A row's errors by column key: `services.pairing_errors` for a pairing about to be made,
    its query for the scheme's current pairings answered from memory, and repeats."""
    status = parsed["status"]
    errors = pairing_field_errors(
        PairingInput(
            scheme=scheme,
            organization=organization,
            partner=partner,
            started_on=parsed["started_on"],
            status=status,
            docked_on=parsed.get("docked_on"),
        )
    )
    if errors:
        return errors
    triple = (scheme.pk, organization.pk, partner.pk)
    if triple in in_file:
        return {"partner": gettext("The same pairing as row %(row)s.") % {"row": in_file[triple]}}
    if triple in made:
        return {
            "partner": gettext("%(organization)s is already paired with %(partner)s.")
            % {"organization": organization.name, "partner": partner}
        }
    if status == PairingStatus.ENDED:
        return {}
    scheme_current = current[scheme.pk]
    breaches = rule_breaches(scheme, organization, partner, scheme_current)
    if not breaches or parsed.get("override_reason", "").strip():
        return {}
    counted = {
        "partner": scheme_current.filter(partner=partner),
        "organization": scheme_current.filter(organization=organization),
    }
    errors = {key: message + _rows_note(counted[key]) for key, message in breaches.items()}
    errors["override_reason"] = gettext(
        "To make it anyway, give the reason in the column “%(column)s”."
    ) % {"column": header("override_reason")}
    return errors


# --- importing -------------------------------------------------------------------------------


def import_pairings(
    source: roster.Source, user: User, *, name: str = "", dry_run: bool = False
) -> PairingImportReport:
    """Read, check and (unless `dry_run`) save a pairing file: every row or none.

    Committee staff only (`pairing.manage`, PermissionDenied otherwise). Problems come back in
    the report, in words its user can read; nothing raises for a bad file."""
    access.require(user, "pairing.manage", None, gettext("Only committee staff make pairings."))
    try:
        table = read_pairing_file(source, name=name)
    except PairingFileError as exc:
        return PairingImportReport(errors=exc.errors)
    with transaction.atomic():
        check = check_pairings(table, user, lock=not dry_run)
        report = PairingImportReport(
            rows=check.rows,
            created=len(check.new),
            flagged=len(check.flagged_rows),
            errors=check.errors,
        )
        if check.errors:
            report.created = report.flagged = 0
            return report
        if not dry_run:
            Pairing.objects.bulk_create(check.new, batch_size=BULK_BATCH)
            report.saved = True
    return report


def template_headers() -> list[str]:
    """The headers of the file to fill in, in the active language."""
    return [str(column.header) for column in COLUMNS]
