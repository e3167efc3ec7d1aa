"""Reading the cell values of an .xlsx worksheet, fast and with bounded cost.

openpyxl's read-only mode reads a whole-city roster (20,000 rows, 360,000 cells) in 10 s and
more: every cell goes through its descriptor classes, inline strings (which openpyxl itself and
our ledger writer write) through its rich-text model, and a sheet without a `<dimension>` is
parsed twice. Here one expat pass streams the rows as tuples of plain values, as openpyxl's
`iter_rows(values_only=True)` with `data_only=True` gives them:

- shared and inline strings as text (phonetic runs left out), booleans, numbers (int unless the
  text has a point or an exponent), errors as their text (#N/A), formulas as their cached value;
- numbers in a date format as datetimes (1900 and 1904 calendars), formats as openpyxl decides
  them, plus the built-in Chinese date formats (ids 27-31, 36, 50-58) openpyxl does not know;
- the active sheet (as `Workbook.active`), cells past `max_columns` dropped, a missing row an
  empty tuple (row numbers stay the sheet's own).

Every part is read through `zipfile`, which never inflates a member past the size its zip
directory declares and checks its CRC: the caller bounds the cost by that directory
(`branches.roster`). Expat resolves no external entities and limits entity amplification.
Anything this module does not understand raises `UnsupportedWorkbook` before the first row, so
that the caller may fall back to openpyxl.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from xml.etree import ElementTree
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML"
)
REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT = "/officeDocument"
# Built-in formats of East Asian Excel that are dates (32-35 are times of day).
CJK_DATE_FORMATS = {27, 28, 29, 30, 31, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58}
CHUNK = 256 * 1024


class UnsupportedWorkbook(Exception):
    """The package is a zip, but not laid out as this reader expects (fall back to openpyxl)."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    try:
        data = archive.read(name)
    except KeyError:
        return None
    parser = ElementTree.XMLParser()
    parser.feed(data)
    return parser.close()


def _relationships(archive: zipfile.ZipFile, part: str) -> tuple[dict, dict]:
    """The relationships of the part `part` (its _rels file): id -> target part name, and
    type (the last word of its URI: styles, sharedStrings) -> target part name."""
    folder, name = posixpath.split(part)
    root = _xml(archive, posixpath.join(folder, "_rels", f"{name}.rels"))
    by_id, by_type = {}, {}
    for rel in root if root is not None else ():
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
        path = posixpath.normpath(path)
        by_id[rel.get("Id")] = path
        by_type.setdefault(rel.get("Type", "").rpartition("/")[2], path)
    return by_id, by_type


def _main_part(archive: zipfile.ZipFile) -> str:
    root = _xml(archive, "_rels/.rels")
    for rel in root if root is not None else ():
        if rel.get("Type", "").endswith(OFFICE_DOCUMENT):
            return rel.get("Target", "").lstrip("/")
    return "xl/workbook.xml"


def _date_styles(archive: zipfile.ZipFile, path: str | None) -> set[int]:
    """Indexes of the cell formats (`s` of a cell) that show a date."""
    root = _xml(archive, path) if path else None
    if root is None:
        return set()
    custom: dict[int, str] = {}
    xfs: list[int] = []
    for child in root:
        tag = _local(child.tag)
        if tag == "numFmts":
            for fmt in child:
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        elif tag == "cellXfs":
            xfs = [int(xf.get("numFmtId", "0")) for xf in child]
    dates = set()
    for index, fmt_id in enumerate(xfs):
        if fmt_id in custom:
            is_date = is_date_format(custom[fmt_id])
        elif fmt_id in BUILTIN_FORMATS:
            is_date = is_date_format(BUILTIN_FORMATS[fmt_id])
        else:
            is_date = fmt_id in CJK_DATE_FORMATS
        if is_date:
            dates.add(index)
    return dates


class _SharedStrings:
    """The shared-string table, parsed only as far as the cells read so far reach (the header
    check reads a few rows: it parses a few strings, whatever the table's size)."""

    def __init__(self, archive: zipfile.ZipFile, path: str | None) -> None:
        self.strings: list[str] = []
        self.stream = archive.open(path) if path else None
        parts: list[str] = []
        state = {"text": False, "phonetic": 0}
        strings = self.strings

        def start(name: str, attrs: dict) -> None:
            tag = name[name.find(":") + 1 :]
            if tag == "si":
                parts.clear()
            elif tag == "rPh":
                state["phonetic"] += 1
            elif tag == "t" and not state["phonetic"]:
                state["text"] = True

        def end(name: str) -> None:
            tag = name[name.find(":") + 1 :]
            if tag == "si":
                strings.append("".join(parts))
            elif tag == "rPh":
                state["phonetic"] -= 1
            elif tag == "t":
                state["text"] = False

        def text(data: str) -> None:
            if state["text"]:
                parts.append(data)

        self.parser = expat.ParserCreate()
        self.parser.buffer_text = True
        self.parser.StartElementHandler, self.parser.EndElementHandler = start, end
        self.parser.CharacterDataHandler = text

    def __getitem__(self, index: int) -> str:
        strings = self.strings
        while index >= len(strings) and self.stream is not None:
            chunk = self.stream.read(CHUNK)
            self.parser.Parse(chunk, not chunk)
            if not chunk:
                self.close()
        return strings[index]  # past the table's end: IndexError, a broken workbook

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def _column(reference: str) -> int:
    """1-based column of a cell reference ("AB12" -> 28)."""
    number = 0
    for char in reference:
        code = ord(char)
        if 65 <= code <= 90:
            number = number * 26 + code - 64
        elif 97 <= code <= 122:
            number = number * 26 + code - 96
        else:
            break
    return number


class _SheetReader:
    """Expat handlers that turn `<row>`s into (row number, values) in `self.rows`.

    The handlers are closures over local variables (the hot path runs three to seven times per
    cell), and element names are compared without their namespace prefix (`x:c` is `c`).
    """

    def __init__(self, shared: _SharedStrings, dates: set[int], epoch, max_columns: int) -> None:
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.declared_rows = 0  # from <dimension ref="A1:R20001"/>, if the sheet has one
        rows = self.rows
        row_number = column = style = phonetic = 0
        kind = "n"
        cells: dict[int, Any] = {}
        buffer: list[str] | None = None
        value: str | None = None
        inline: list[str] = []

        def start(name: str, attrs: dict) -> None:
            nonlocal row_number, column, style, phonetic, kind, cells, buffer, value, inline
            if ":" in name:
                name = name[name.index(":") + 1 :]
            if name == "c":
                reference = attrs.get("r")
                column = _column(reference) if reference else column + 1
                kind = attrs.get("t", "n")
                s = attrs.get("s")
                style = int(s) if s else 0
                value = None
                if kind == "inlineStr":
                    inline = []
            elif name == "v":
                buffer = []
            elif name == "t":
                if kind == "inlineStr" and not phonetic:
                    buffer = inline
            elif name == "row":
                number = attrs.get("r")
                row_number = int(number) if number else row_number + 1
                cells = {}
                column = 0
            elif name == "rPh":
                phonetic += 1
            elif name == "dimension":
                last = attrs.get("ref", "").rpartition(":")[2].lstrip("$")
                digits = last.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$")
                self.declared_rows = int(digits) if digits.isascii() and digits.isdecimal() else 0

        def text(data: str) -> None:
            if buffer is not None:
                buffer.append(data)

        def end(name: str) -> None:
            nonlocal buffer, value, phonetic
            if ":" in name:
                name = name[name.index(":") + 1 :]
            if name == "c":
                if column <= max_columns:
                    found = cell_value()
                    if found is not None:
                        cells[column] = found
            elif name == "v":
                value = "".join(buffer) if buffer else ""
                buffer = None
            elif name == "t":
                buffer = None
            elif name == "row":
                width = max(cells) if cells else 0
                rows.append((row_number, tuple([cells.get(c) for c in range(1, width + 1)])))
            elif name == "rPh":
                phonetic -= 1

        def cell_value() -> Any:
            if kind == "s":
                return shared[int(value)] if value else None
            if kind == "inlineStr":
                return "".join(inline) if inline else None
            if not value:
                return None
            if kind == "n":
                number: int | float = (
                    float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                )
                if style in dates:
                    try:
                        return from_excel(number, epoch)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if kind == "b":
                return value == "1" or value.casefold() == "true"
            # "str" (a formula's text), "e" (an error: #N/A), "d" (ISO 8601, kept as text).
            return value

        self.start, self.end, self.text = start, end, text


def _sheet_id(sheet: ElementTree.Element) -> str | None:
    for ns in REL_NS:
        rid = sheet.get(f"{{{ns}}}id")
        if rid:
            return rid
    return None


def iter_rows(
    archive: zipfile.ZipFile, max_columns: int
) -> tuple[Iterator[tuple[int, tuple]], Callable[[], int]]:
    """(row number, values) of each row of the active sheet that the file holds, in order;
    and a function saying about how many rows it has (once the first rows were read: the
    `<dimension>` the sheet declares, else a guess from its size).

    Raises UnsupportedWorkbook before the first row when the package is not laid out as
    expected; xml, zip or value errors while streaming are the caller's to report.
    """
    try:
        workbook_path = _main_part(archive)
        workbook = _xml(archive, workbook_path)
        if workbook is None or _local(workbook.tag) != "workbook":
            raise UnsupportedWorkbook(workbook_path)
        by_id, by_type = _relationships(archive, workbook_path)
        sheets: list[str] = []
        active = 0
        epoch = CALENDAR_WINDOWS_1900
        for child in workbook:
            tag = _local(child.tag)
            if tag == "workbookPr" and child.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
            elif tag == "bookViews" and len(child):
                active = int(child[0].get("activeTab", "0") or 0)
            elif tag == "sheets":
                sheets = [by_id.get(_sheet_id(sheet), "") for sheet in child]
        if not sheets:
            raise UnsupportedWorkbook("no sheets")
        sheet_path = sheets[active] if 0 <= active < len(sheets) else sheets[0]
        if sheet_path not in set(archive.namelist()):
            raise UnsupportedWorkbook(sheet_path)
        dates = _date_styles(archive, by_type.get("styles"))
        shared = _SharedStrings(archive, by_type.get("sharedStrings"))
    except UnsupportedWorkbook:
        raise
    except (KeyError, ValueError, IndexError, ElementTree.ParseError, expat.ExpatError) as exc:
        raise UnsupportedWorkbook(str(exc)) from exc
    reader = _SheetReader(shared, dates, epoch, max_columns)
    size = archive.getinfo(sheet_path).file_size

    def estimate() -> int:
        # A roster row is 550 (shared strings) to 800 bytes (inline) of XML.
        return reader.declared_rows or size // 600

    return _stream(archive, sheet_path, reader, shared), estimate


def _stream(
    archive: zipfile.ZipFile, path: str, reader: _SheetReader, shared: _SharedStrings
) -> Iterator:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = reader.start, reader.end
    parser.CharacterDataHandler = reader.text
    try:
        with archive.open(path) as stream:
            while True:
                chunk = stream.read(CHUNK)
                parser.Parse(chunk, not chunk)
                yield from reader.rows
                reader.rows.clear()
                if not chunk:
                    return
    finally:
        shared.close()
