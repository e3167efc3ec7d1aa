"""branches.spreadsheet reads a worksheet's values as openpyxl does (values_only, data_only),
only faster; and a few things better (Chinese built-in date formats). No database."""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from branches import spreadsheet

ROWS = [
    ["党员编号", "姓名", "出生日期", "时间", "是否", "数字", "小数", None, "备注"],
    [
        "A0001",
        "张伟",
        datetime.date(1985, 6, 1),
        datetime.datetime(2024, 3, 5, 8, 30),
        True,
        1001,
        2.5,
    ],
    [],  # an empty row: numbering goes on
    ["A0002", "王 芳 ", datetime.date(1900, 3, 1), None, False, 0, -1.25e-5, None, "=1+1 的文字"],
    [None, None, None, None, None, None, None, None, "最后一列"],
]


SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s</sst>'
SST_REL = (
    b'<Relationship Id="rIdSST" Target="sharedStrings.xml" Type="http://schemas.openxmlformats'
    b'.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SST_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
INLINE = re.compile(rb'<c ([^>]*?)t="inlineStr"([^>]*)><is>(.*?)</is></c>', re.S)


def shared_strings(content: bytes) -> bytes:
    """The workbook as Excel writes it: its inline strings moved to a shared-string table
    (openpyxl 3.1 writes inline strings only)."""
    strings: list[bytes] = []

    def to_index(match: re.Match) -> bytes:
        strings.append(b"<si>" + match.group(3) + b"</si>")
        return b'<c %st="s"%s><v>%d</v></c>' % (match.group(1), match.group(2), len(strings) - 1)

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = INLINE.sub(to_index, data)
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", SST_REL)
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SST_TYPE)
            target.writestr(item, data)
        assert strings
        target.writestr("xl/sharedStrings.xml", SST % b"".join(strings))
    return out.getvalue()


def workbook(write_only: bool, epoch=None) -> bytes:
    book = openpyxl.Workbook(write_only=write_only)
    if epoch is not None:
        book.epoch = epoch
    sheet = book.create_sheet("名册") if write_only else book.active
    for row in ROWS:
        sheet.append(row)
    if not write_only:
        sheet["J2"] = "=A1"  # a formula written by openpyxl has no cached value: None
        sheet["B5"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ours(content: bytes, max_columns: int = 64) -> list[tuple[int, tuple]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        rows, _estimate = spreadsheet.iter_rows(archive, max_columns)
        return [(n, v) for n, v in rows if any(x is not None for x in v)]


def openpyxls(content: bytes) -> list[tuple[int, tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    found = []
    for number, values in enumerate(book.active.iter_rows(values_only=True), start=1):
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        if values:
            found.append((number, tuple(values)))
    return found


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared strings"])
@pytest.mark.parametrize("write_only", [False, True], ids=["workbook", "write-only"])
@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900", "1904"])
def test_values_are_openpyxls(shared, write_only, epoch):
    content = workbook(write_only, epoch)
    if shared:
        content = shared_strings(content)
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            assert b'<c r="A1" t="s"' in archive.read("xl/worksheets/sheet1.xml")
    assert ours(content) == openpyxls(content)
    got = dict(ours(content))
    assert got[2][:3] == ("A0001", "张伟", datetime.datetime(1985, 6, 1))
    assert got[4][1] == "王 芳 "  # text as written, spaces kept
    if not write_only:
        assert got[5][1] == "富文本"  # rich text runs joined


def test_columns_past_the_limit_are_not_read():
    assert dict(ours(workbook(False), max_columns=2))[5] == (None, "富文本")


def _rewrite(content: bytes, part: str, change) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, change(data) if item.filename == part else data)
    return out.getvalue()


def test_chinese_builtin_date_formats_are_dates():
    book = openpyxl.Workbook()
    book.active.append(["入党时间"])
    book.active.append([datetime.date(2001, 7, 1)])
    book.active["A2"].number_format = 'yyyy"年"m"月"d"日"'
    out = io.BytesIO()
    book.save(out)

    def builtin_31(styles: bytes) -> bytes:
        # As Chinese Excel may write it: the built-in format 31, with no <numFmt> of its own.
        styles = re.sub(rb'<numFmt numFmtId="165"[^>]*/>', b"", styles)
        assert b'numFmtId="165"' in styles
        return styles.replace(b'numFmtId="165"', b'numFmtId="31"')

    content = _rewrite(out.getvalue(), "xl/styles.xml", builtin_31)
    assert dict(ours(content))[2] == (datetime.datetime(2001, 7, 1),)
    assert dict(openpyxls(content))[2] == (37073,)  # openpyxl: a number


@pytest.mark.parametrize("shared", [False, True], ids=["inline", "shared strings"])
def test_phonetic_runs_are_left_out(shared):
    content = shared_strings(workbook(False)) if shared else workbook(False)
    part = "xl/sharedStrings.xml" if shared else "xl/worksheets/sheet1.xml"

    def with_phonetic(strings: bytes) -> bytes:
        return strings.replace(
            "<t>张伟</t>".encode(), '<t>张伟</t><rPh sb="0" eb="1"><t>zhang</t></rPh>'.encode()
        )

    changed = _rewrite(content, part, with_phonetic)
    assert changed != content
    assert dict(ours(changed))[2][1] == "张伟"


def test_a_package_it_cannot_place_says_so_before_reading():
    content = _rewrite(workbook(False), "xl/_rels/workbook.xml.rels", lambda data: b"<x/>")
    archive = zipfile.ZipFile(io.BytesIO(content))
    with pytest.raises(spreadsheet.UnsupportedWorkbook):
        spreadsheet.iter_rows(archive, 64)


def test_the_estimate_is_the_declared_dimension():
    content = workbook(False)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        rows, estimate = spreadsheet.iter_rows(archive, 64)
        next(rows)
        assert estimate() == 5
