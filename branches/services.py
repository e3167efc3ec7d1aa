"""Writes for the organ tree: importing and exporting the roster (党员名册)."""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext
from import_export.formats import base_formats

from .models import Member
from .resources import HEADER_ROWS, MemberResource, RosterHeaderError, RosterImportResult

if TYPE_CHECKING:
    from accounts.models import User

ROSTER_FORMATS: dict[str, type[base_formats.Format]] = {
    "xlsx": base_formats.XLSX,
    "csv": base_formats.CSV,
}


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row (header = 1; 0 = the file as a whole) and column header."""

    row: int
    column: str
    message: str


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


def _read_bytes(file_or_bytes: bytes | IO[bytes] | str | PathLike) -> bytes:
    if isinstance(file_or_bytes, bytes | bytearray):
        return bytes(file_or_bytes)
    if isinstance(file_or_bytes, str | PathLike):
        return Path(file_or_bytes).read_bytes()
    if hasattr(file_or_bytes, "seek"):
        file_or_bytes.seek(0)
    return file_or_bytes.read()


def _errors_of(result: RosterImportResult) -> list[RowError]:
    errors: list[RowError] = []
    for base in result.base_errors:
        if isinstance(base.error, RosterHeaderError):
            errors += [RowError(HEADER_ROWS, col, msg) for col, msg in base.error.problems]
        else:
            errors.append(RowError(0, "", str(base.error)))
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            column = "" if column == NON_FIELD_ERRORS else column
            errors += [RowError(invalid.number, column, str(message)) for message in messages]
    for error_row in result.error_rows:
        errors += [RowError(error_row.number, "", str(e.error)) for e in error_row.errors]
    return sorted(errors, key=lambda e: e.row)


def import_roster(
    file_or_bytes: bytes | IO[bytes] | str | PathLike,
    *,
    file_format: str = "xlsx",
    user: User | None = None,
) -> RosterImportReport:
    """Import a roster file whole or not at all, and report every bad row.

    `user` scopes the import to the organizations and members that user may see (None: a
    trusted caller, no scope) and is recorded as the author in the members' history.
    Inspectors, who only read, may not import.
    """
    if user is not None and (not user.is_authenticated or user.is_read_only):
        raise PermissionDenied(gettext("You may not import the roster."))
    try:
        input_format = ROSTER_FORMATS[file_format]()
    except KeyError:
        raise ValueError(f"Unsupported roster format: {file_format!r}") from None
    data: bytes | str = _read_bytes(file_or_bytes)
    if not input_format.is_binary():
        data = data.decode("utf-8-sig")
    try:
        dataset = input_format.create_dataset(data)
    except Exception as e:  # a corrupt or foreign file: one error, not a crash
        message = gettext("The file could not be read as %(format)s (%(error)s).") % {
            "format": file_format,
            "error": type(e).__name__,
        }
        return RosterImportReport(errors=[RowError(0, "", message)])

    with transaction.atomic():
        result = MemberResource().import_data(dataset, dry_run=False, user=user)
        report = RosterImportReport(errors=_errors_of(result))
        if not report.ok:
            # MemberResource already rolled its own savepoint back; be explicit anyway.
            transaction.set_rollback(True)
            return report
    report.created = result.totals["new"]
    report.updated = result.totals["update"]
    report.unchanged = sum(1 for r in result.rows if r.is_skip() and not r.blank)
    return report


def export_roster(queryset: QuerySet[Member] | None = None) -> bytes:
    """The roster as .xlsx, in the same columns the import reads."""
    queryset = Member.objects.all() if queryset is None else queryset
    dataset = MemberResource().export(queryset=queryset.select_related("branch", "group"))
    return base_formats.XLSX().export_data(dataset)
