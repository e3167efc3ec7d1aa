"""Writing an .xlsx file for download, one row after the other: the one writer of every
ledger (台账) and of the admin's roster file (`reports.ledgers.write_xlsx` lays a ledger out
with it; the roster file is a ledger).

xlsxwriter in `constant_memory` mode: a row goes to a temporary file as soon as the next one
starts, so memory stays flat whatever the number of rows, and a sheet is written in about half
the time of openpyxl's write-only mode (bench/ledger.py). Rows come top to bottom, never back.
openpyxl stays for reading (the roster import) and in the tests, which open every file with it.

The cells are typed here, once per column (`XlsxSheet.cell_writer`):
- text is always written with `write_string`, never `write()`, which (with the default
  options) would turn "=HYPERLINK(...)" into a formula or "http://..." into a link: whatever a
  user typed, it comes out as the text they typed (no formula/CSV injection);
- numbers as numbers (a `Decimal` as a float), dates and datetimes as Excel dates with a date
  format, an aware datetime in the active time zone (Asia/Shanghai) without its zone (Excel
  has none), booleans in words (是/否);
- an empty value (None, "", and NaN or infinity: no figure) as an empty cell.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from math import isfinite
from typing import IO, Any

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext

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
KINDS = frozenset({TEXT, BOOL, *NUMBER_FORMATS})

WORKBOOK_OPTIONS = {
    # Flat memory: each row is flushed to a temporary file (in `tempfile.tempdir`: a worker's
    # own folder, see config/celery.py) when the next row starts.
    "constant_memory": True,
    # Belt and braces: cells are written by type (`write_string` never makes a formula, a link
    # or a number), but should a `write()` ever slip in, user text must still stay text.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,  # a member number "0012" keeps its zeros
}
# Excel's unit of column width is the width of a digit of the default font (Calibri 11: 7
# pixels). `set_column` adds Excel's 5-pixel padding to the width; pixels store it as given,
# so a column declared 14 wide is stored 14 wide, as openpyxl did.
DIGIT_PIXELS = 7
EXCEL_MAX_ROWS = 1_048_576  # xlsxwriter would drop a row past it without a word
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

Write = Callable[[int, int, Any], Any]  # (row, column, value), both 0-based


def sheet_name(title: str) -> str:
    """A title as Excel takes it for a sheet name: at most 31 characters, none of []:*?/\\."""
    name = SHEET_NAME_FORBIDDEN.sub("_", title)[:SHEET_NAME_MAX].strip("'")
    return name or "Sheet1"


class XlsxSheet:
    """One sheet streamed into an .xlsx file.

    `styles`: name -> xlsxwriter format properties (`{"bold": True}`), for `line()`.
    `row` is the next row to be written (0-based). End with `close()` (the file is written) or,
    after an error, `discard()` (its temporary file removed now: a worker lives long).
    """

    def __init__(
        self,
        fileobj: IO[bytes],
        title: str,
        widths: Sequence[float],
        styles: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self.book = xlsxwriter.Workbook(fileobj, WORKBOOK_OPTIONS)
        self.sheet = self.book.add_worksheet(sheet_name(title))  # opens the temporary file
        try:
            for index, width in enumerate(widths):
                self.sheet.set_column_pixels(index, index, width * DIGIT_PIXELS)
            self.styles = {n: self.book.add_format(dict(p)) for n, p in (styles or {}).items()}
            self.formats = {
                kind: self.book.add_format({"num_format": number_format})
                for kind, number_format in NUMBER_FORMATS.items()
                if kind != INT  # Excel's General shows a whole number as "0" would: no format
            }
        except BaseException:
            self.discard()
            raise
        self.row = 0

    # -- lines of text (title, notes, header) --------------------------------------------------
    def line(self, texts: Sequence[str], style: str | None = None) -> None:
        """A row of text cells from column A, in one of `styles`."""
        cell_format = self.styles[style] if style else None
        for column, text in enumerate(texts):
            self.sheet.write_string(self.row, column, text, cell_format)
        self.row += 1

    def freeze(self) -> None:
        """The rows written so far stay in view when scrolling (the header)."""
        self.sheet.freeze_panes(self.row, 0)

    # -- data rows -----------------------------------------------------------------------------
    def cell_writer(self, kind: str) -> Write:
        """`write(row, column, value)` for the cells of a column of `kind` (chosen once per
        column: it runs for every cell). A value of another type than the column's is still
        written by its own type, and anything else as text, never as a formula."""
        sheet = self.sheet
        write_string, write_number = sheet.write_string, sheet.write_number
        write_datetime, write_boolean = sheet.write_datetime, sheet.write_boolean

        def text(row: int, column: int, value: Any) -> Any:
            if value.__class__ is not str:
                if value is None:
                    return None
                value = str(value)
            if value:  # an empty text is an empty cell
                write_string(row, column, value)
            return None

        if kind == TEXT:
            return text

        if kind == BOOL:
            yes, no = gettext("Yes"), gettext("No")

            def boolean(row: int, column: int, value: Any) -> Any:
                if value is not None:
                    write_string(row, column, yes if value else no)

            return boolean

        if kind not in NUMBER_FORMATS:
            raise ValueError(f"Unknown column type {kind!r}")
        cell_format = self.formats.get(kind)
        # A date in a date column takes the column's format; elsewhere, a date format still.
        dates = kind in (DATE, DATETIME)
        date_format = cell_format if dates else self.formats[DATE]
        datetime_format = cell_format if dates else self.formats[DATETIME]
        decimals = kind in (DECIMAL, MONEY)
        zone = timezone.get_current_timezone()  # once: `localtime()` looks it up every time

        def typed(row: int, column: int, value: Any) -> Any:
            kind_of = value.__class__
            if kind_of is int:
                return write_number(row, column, value, cell_format)
            if kind_of is float:
                # NaN or infinity (a bad division upstream) is no figure: an empty cell, rather
                # than a failed file or an error formula.
                return write_number(row, column, value, cell_format) if isfinite(value) else None
            if kind_of is Decimal:  # money, from the database
                return typed(row, column, float(value))
            if value is None or value == "":
                return None
            if isinstance(value, datetime.datetime):
                if value.tzinfo is not None:
                    value = value.astimezone(zone).replace(tzinfo=None)
                return write_datetime(row, column, value, datetime_format)
            if isinstance(value, datetime.date):
                return write_datetime(row, column, value, date_format)
            if isinstance(value, bool):
                return write_boolean(row, column, value, cell_format)
            if isinstance(value, int):  # an IntEnum, say
                return write_number(row, column, int(value), cell_format)
            if isinstance(value, float | Decimal):
                return typed(row, column, float(value))
            if decimals and isinstance(value, str):
                with contextlib.suppress(ArithmeticError):
                    return typed(row, column, Decimal(value))
            return text(row, column, value)

        return typed

    def write_rows(
        self,
        items: Iterable[Any],
        cells: Sequence[tuple[Callable[[Any], Any], str]],
        *,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 2000,
    ) -> int:
        """One row per item, its cells `read(item)` for each (read, kind) of `cells`, from
        column A; `progress(rows_written)` every `progress_every` rows. Returns the count.

        More rows than a sheet holds is an error, not a file silently cut short."""
        columns = [
            (column, read, self.cell_writer(kind)) for column, (read, kind) in enumerate(cells)
        ]
        first = self.row
        written = 0
        for item in items:
            row = first + written
            if row >= EXCEL_MAX_ROWS:
                raise ValueError(
                    gettext("More rows than an Excel sheet holds (%(n)s): narrow the filters.")
                    % {"n": f"{EXCEL_MAX_ROWS:,}"}
                )
            for column, read, write in columns:
                write(row, column, read(item))
            written += 1
            if progress is not None and written % progress_every == 0:
                progress(written)
        self.row = first + written
        return written

    # -- the end -------------------------------------------------------------------------------
    def autofilter(self, first_row: int, last_row: int, columns: int) -> None:
        self.sheet.autofilter(first_row, 0, last_row, max(columns, 1) - 1)

    def close(self) -> None:
        """Write the file (the zip) into `fileobj`."""
        try:
            self.book.close()
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Drop the file: close and remove the temporary file of its rows now."""
        handle = getattr(self.sheet, "row_data_fh", None)
        if handle is not None and not handle.closed:
            handle.close()
        filename = getattr(self.sheet, "row_data_filename", None)
        if filename:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(filename)
        self.book.fileclosed = True  # nothing left to write
