"""The zh_Hans catalogue, locale/zh_Hans/LC_MESSAGES/django.po, is the one source of translations.

These tests fail, listing the msgids at fault, when an entry is untranslated or fuzzy, when a
translation's placeholders differ from its msgid's, when the committed .mo does not hold what the
.po says, or when the source code holds a msgid the .po lacks. The cure for the last: `make
messages`, then fill the new empty msgstrs in the .po, then `make messages` again (it compiles).
They read files only: no gettext tools, no database.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections import Counter
from pathlib import Path

import polib
import pytest
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.utils import is_ignored_path
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext_noop
from django.utils.translation.template import templatize
from rest_framework import serializers

ROOT = Path(__file__).resolve().parent.parent
LC_MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# Our catalogue comes first in LOCALE_PATHS, so its entries win over Django's and the
# third-party apps' own. These correct wrong zh_Hans translations shipped by them. The msgids
# are written with gettext_noop so that `makemessages` (which reads tests/ too) keeps them in
# the .po; without a use in our source it would drop them as obsolete.
THIRD_PARTY_OVERRIDES = {
    # django-import-export, admin import page heading; its catalogue has "某些行验数据证失败".
    gettext_noop("Some rows failed to validate"): "某些行的数据验证失败",
    # Django's ProhibitNullCharactersValidator; Django's catalogue has "不允许是用空字符串。".
    gettext_noop("Null characters are not allowed."): "不允许包含空字符（NUL）。",
    # django-axes (lockout), which ships no zh_Hans catalogue.
    gettext_noop("access attempt"): "登录失败记录",
    gettext_noop("access attempts"): "登录失败记录（可删除以解锁）",
    gettext_noop("access failure"): "登录失败日志",
    gettext_noop("access failures"): "登录失败日志",
    gettext_noop("access log"): "登录日志",
    gettext_noop("access logs"): "登录日志",
    gettext_noop("IP Address"): "IP地址",
    gettext_noop("User Agent"): "浏览器",
    gettext_noop("Failed Logins"): "失败次数",
    gettext_noop("Attempt Time"): "尝试时间",
    gettext_noop("Logout Time"): "退出时间",
    gettext_noop("Locked Out"): "已锁定",
    gettext_noop("Path"): "路径",
}


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def live_entries(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalogue if not entry.obsolete]


def label(entry: polib.POEntry) -> str:
    return f"[{entry.msgctxt}] {entry.msgid!r}" if entry.msgctxt else repr(entry.msgid)


def report(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n  " + "\n  ".join(problems)


# --- (a) everything translated, nothing fuzzy -------------------------------------------------


def test_header_is_simplified_chinese_with_one_plural_form(catalogue):
    assert catalogue.metadata["Language"] == "zh_Hans"
    assert catalogue.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]
    assert not catalogue.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    problems = []
    for entry in live_entries(catalogue):
        if "fuzzy" in entry.flags:
            # makemessages' guess from a similar msgid: Django never uses it.
            problems.append(f"{label(entry)}: fuzzy (check the msgstr, then drop the flag)")
        elif entry.msgid_plural and not entry.msgstr_plural.get(0):
            problems.append(f"{label(entry)}: msgstr[0] is empty")
        elif entry.msgid_plural and set(entry.msgstr_plural) != {0}:
            problems.append(f"{label(entry)}: Chinese has one plural form, only msgstr[0]")
        elif not entry.msgid_plural and not entry.msgstr:
            problems.append(f"{label(entry)}: msgstr is empty")
    assert not problems, report(problems, "entries of django.po need a translation")


# --- (b) placeholders ---------------------------------------------------------------------------

# %(name)s, %(rate).1f, %s, %d, %% ... (python-format) and {name}, {} (python-brace-format).
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
NAMED_PERCENT = re.compile(r"%\([^)]*\)[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")
BRACE = re.compile(r"\{[^{}]*\}")


class Placeholders:
    """The placeholders of a text: named ones may move in Chinese, positional ones may not."""

    def __init__(self, text: str, flags: list[str]):
        self.named: Counter[str] = Counter()
        positional = []
        self.stray_percent = False
        if "python-format" in flags:
            for found in PERCENT.findall(text):
                if found == "%%":
                    continue
                if found.startswith("%("):
                    self.named[found] += 1
                else:
                    positional.append(found)
            self.stray_percent = "%" in PERCENT.sub("", text)
        else:  # a msgstr must not bring %(name)s into a msgid that has none
            self.named.update(NAMED_PERCENT.findall(text))
        # Braces are compared in every entry: a msgstr must not add or lose any.
        self.named.update(BRACE.findall(text))
        self.positional = tuple(positional)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Placeholders):
            return NotImplemented
        return self.named == other.named and self.positional == other.positional

    def __str__(self) -> str:
        found = sorted(self.named.elements()) + list(self.positional)
        return "{" + ", ".join(found) + "}" if found else "none"


def placeholder_problem(entry: polib.POEntry) -> str | None:
    singular = Placeholders(entry.msgid, entry.flags)
    if entry.msgid_plural:
        # Chinese has one form, used for every n: it needs the plural's placeholders (the
        # count above all), and may keep one that only the singular has.
        text = entry.msgstr_plural.get(0, "")
        plural = Placeholders(entry.msgid_plural, entry.flags)
        got = Placeholders(text, entry.flags)
        allowed = plural.named | singular.named
        ok = (
            got.named >= plural.named
            and got.named <= allowed
            and got.positional in (plural.positional, singular.positional)
        )
        expected = f"{plural} (msgid_plural)"
    else:
        text = entry.msgstr
        got = Placeholders(text, entry.flags)
        ok = got == singular
        expected = str(singular)
    if got.stray_percent:
        return f"{label(entry)}: a lone % in the msgstr (write %% for a percent sign)"
    if ok:
        return None
    hint = ""
    if "{{" in text or "{%" in text:
        hint = " (blocktranslate variables are written %(name)s in the catalogue, not {{ name }})"
    return f"{label(entry)}: msgid has {expected}, msgstr has {got}{hint}"


def test_placeholders_of_every_translation_match_its_msgid(catalogue):
    problems = []
    for entry in live_entries(catalogue):
        if entry.translated():
            problem = placeholder_problem(entry)
            if problem:
                problems.append(problem)
    assert not problems, report(problems, "translations whose placeholders differ")


@pytest.mark.parametrize(
    ("msgid", "msgid_plural", "msgstr", "ok"),
    [  # the rule itself, on made-up entries
        ("Unit: %(name)s", None, "单位：%(name)s", True),
        ("Unit: %(name)s", None, "单位：%(nmae)s", False),
        ("%(a)s of %(b)s", None, "%(b)s中的%(a)s", True),
        ("Year %(year)d", None, "%(year)s年", False),
        ("Rate %(rate).1f%%", None, "比率%(rate).1f%%", True),
        ("Rate %(rate).1f%%", None, "比率%(rate).1f%", False),
        ("%s of %d", None, "%s中的%d", True),
        ("%s of %d", None, "%d中的%s", False),
        ("Unknown type: {value}.", None, "未知类型：{value}。", True),
        ("Unknown type: {value}.", None, "未知类型。", False),
        ("%(counter)s record", "%(counter)s records", "共%(counter)s条记录", True),
        ("%(counter)s record", "%(counter)s records", "共{{ counter }}条记录", False),
        ("One record", "%(counter)s records", "共%(counter)s条记录", True),
        ("One record", "%(counter)s records", "一条记录", False),
        ("%(name)s's one row", "%(n)d rows", "%(name)s的%(n)d行", True),
        ("Retry", None, "重试", True),
        ("Retry", None, "重试%(x)s", False),
        ("100% sure", None, "百分之百确定", True),
    ],
)
def test_placeholder_rule(msgid, msgid_plural, msgstr, ok):
    # The flags xgettext would set ("100% sure" is no format string).
    flags = ["python-brace-format"] if "{" in msgid else []
    flags += ["python-format"] if re.search(r"%[(sd]", msgid) else []
    entry = polib.POEntry(msgid=msgid, flags=flags)
    if msgid_plural:
        entry.msgid_plural = msgid_plural
        entry.msgstr_plural = {0: msgstr}
    else:
        entry.msgstr = msgstr
    assert (placeholder_problem(entry) is None) is ok


# --- (c) the committed .mo holds what the .po says ---------------------------------------------


def messages_of(mo: polib.MOFile) -> dict[tuple, tuple[str, ...]]:
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural or None): (
            tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
            if entry.msgid_plural
            else (entry.msgstr,)
        )
        for entry in mo
    }


def test_committed_mo_is_compiled_from_the_po(catalogue, tmp_path):
    fresh_path = tmp_path / "django.mo"
    catalogue.save_as_mofile(str(fresh_path))
    fresh = polib.mofile(str(fresh_path))
    committed = polib.mofile(str(MO_PATH))
    expected, found = messages_of(fresh), messages_of(committed)
    problems = []
    for key, msgstrs in expected.items():
        if key not in found:
            problems.append(f"{key[1]!r}: not in the .mo")
        elif found[key] != msgstrs:
            problems.append(f"{key[1]!r}: the .mo has {found[key]!r}, the .po {msgstrs!r}")
    problems += [
        f"{key[1]!r}: in the .mo, not translated in the .po" for key in found.keys() - expected
    ]
    if committed.metadata.get("Plural-Forms") != fresh.metadata.get("Plural-Forms"):
        problems.append("Plural-Forms of the .mo and the .po differ")
    assert not problems, report(
        problems, "differences between django.mo and django.po (run `make messages`)"
    )


# --- (d) the .po covers the source --------------------------------------------------------------

# What makemessages asks xgettext to extract (its own keywords and xgettext's Python defaults):
# function name -> positions of (msgctxt, msgid, msgid_plural).
KEYWORDS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ugettext": (None, 0, None),
    "dgettext": (None, 1, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "ungettext": (None, 0, 1),
    "dngettext": (None, 1, 2),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}
Found = dict[tuple[str | None, str], tuple[str | None, str]]  # (msgctxt, msgid) -> (plural, where)
CALL = re.compile(r"\b(?:" + "|".join(KEYWORDS) + r")\s*\(")
SKIPPED_TOKENS = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}


def record(found: Found, name: str, arguments: list[str | None], where: str) -> None:
    context_at, msgid_at, plural_at = KEYWORDS[name]
    arguments = arguments + [None] * 3
    context = arguments[context_at] if context_at is not None else None
    msgid = arguments[msgid_at]
    plural = arguments[plural_at] if plural_at is not None else None
    # Like xgettext, a call is read only when every argument it names is a literal.
    if msgid and (context_at is None or context) and (plural_at is None or plural):
        found.setdefault((context, msgid), (plural, where))


def literal(node: ast.expr) -> str | None:
    """The string xgettext reads in a call's argument: a literal string, joined ("a" "b") or
    added ("a" + "b") ones, or else the first literal of the expression ("a %s" % x)."""
    if isinstance(node, ast.Constant):
        return node.value if type(node.value) is str else None
    if isinstance(node, ast.BinOp):
        left, right = literal(node.left), literal(node.right)
        if isinstance(node.op, ast.Add) and left is not None and right is not None:
            return left + right
        return left if left is not None else right
    if isinstance(node, ast.BoolOp | ast.IfExp):
        parts = node.values if isinstance(node, ast.BoolOp) else [node.body, node.orelse]
        return next((text for text in map(literal, parts) if text is not None), None)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return literal(node.func.value)  # "a".upper()
    return None


def python_msgids(source: str, path: str, found: Found) -> None:
    """The gettext calls of a Python file: a literal string argument, or implicitly joined ones."""
    tree = ast.parse(source, path)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        func = call.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in KEYWORDS:
            record(found, name, [literal(node) for node in call.args], f"{path}:{call.lineno}")


def call_arguments(tokens: list[tokenize.TokenInfo], start: int) -> list[str | None]:
    """The arguments of the call whose "(" is tokens[start]: a literal string, or None."""
    arguments: list[list[tokenize.TokenInfo]] = [[]]
    depth = 0
    for token in tokens[start:]:
        if token.type == tokenize.OP and token.string in {"(", "[", "{"}:
            depth += 1
            if depth == 1:
                continue
        elif token.type == tokenize.OP and token.string in {")", "]", "}"}:
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and token.type == tokenize.OP and token.string == ",":
            arguments.append([])
            continue
        if token.type not in SKIPPED_TOKENS:
            arguments[-1].append(token)
    values: list[str | None] = []
    for argument in arguments:
        strings = bool(argument) and all(token.type == tokenize.STRING for token in argument)
        parts = [ast.literal_eval(token.string) for token in argument] if strings else []
        values.append("".join(parts) if strings and all(type(p) is str for p in parts) else None)
    return values


def template_msgids(source: str, path: str, found: Found) -> None:
    """As makemessages does: the template turned into gettext calls, each on its line."""
    for number, line in enumerate(templatize(source, path).split("\n"), start=1):
        if not CALL.search(line):
            continue
        tokens = list(tokenize.generate_tokens(io.StringIO(line.lstrip()).readline))
        for index, token in enumerate(tokens[:-1]):
            following = tokens[index + 1]
            if token.type == tokenize.NAME and token.string in KEYWORDS and following.string == "(":
                record(found, token.string, call_arguments(tokens, index + 1), f"{path}:{number}")


def source_files() -> list[Path]:
    """The files `make messages` reads: as makemessages walks the project with --ignore=.venv."""
    ignore = [".venv", "CVS", ".*", "*~", "*.pyc"]
    ignored_roots = {os.path.normpath(p) for p in (settings.MEDIA_ROOT, settings.STATIC_ROOT) if p}
    files = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        relative = Path(dirpath).relative_to(ROOT)
        for dirname in list(dirnames):
            if (
                is_ignored_path(os.path.normpath(relative / dirname), ignore)
                or os.path.normpath(Path(dirpath) / dirname) in ignored_roots
                or dirname == "locale"
            ):
                dirnames.remove(dirname)
        for filename in filenames:
            if Path(filename).suffix in {".py", ".html", ".txt"} and not is_ignored_path(
                os.path.normpath(relative / filename), ignore
            ):
                files.append(relative / filename)
    return sorted(files)


def source_msgids() -> tuple[Found, list[str]]:
    found: Found = {}
    unreadable = []
    for path in source_files():
        source = (ROOT / path).read_text(encoding="utf-8")
        if path.suffix == ".py" and not CALL.search(source):
            continue
        try:
            if path.suffix == ".py":
                python_msgids(source, str(path), found)
            else:
                template_msgids(source, str(path), found)
        except (SyntaxError, ValueError, tokenize.TokenError) as error:
            unreadable.append(f"{path}: {error}")
    return found, unreadable


def test_catalogue_has_every_msgid_of_the_source(catalogue):
    found, unreadable = source_msgids()
    assert not unreadable, report(unreadable, "files that could not be read for msgids")
    for msgid in THIRD_PARTY_OVERRIDES:  # the extraction itself works
        assert (None, msgid) in found
    entries = {(entry.msgctxt, entry.msgid): entry for entry in live_entries(catalogue)}
    problems = []

    def place(item):
        path, line = item[1][1].rsplit(":", 1)
        return path, int(line)

    for (context, msgid), (plural, where) in sorted(found.items(), key=place):
        name = f"[{context}] {msgid!r}" if context else repr(msgid)
        entry = entries.get((context, msgid))
        if entry is None:
            problems.append(f"{name} ({where})")
        elif plural and entry.msgid_plural != plural:
            problems.append(f"{name} ({where}): the plural is now {plural!r}")
    assert not problems, report(
        problems,
        "msgids of the source missing from django.po: run `make messages`, translate them in "
        "the .po, run `make messages` again",
    )


# --- corrections of Django's and django-import-export's translations ---------------------------


@pytest.mark.parametrize(
    ("msgid", "chinese"), THIRD_PARTY_OVERRIDES.items(), ids=list(THIRD_PARTY_OVERRIDES)
)
def test_third_party_translation_is_corrected(msgid, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese


def test_import_page_heading_reads_correctly():
    template = Template('{% load i18n %}{% translate "Some rows failed to validate" %}')
    with translation.override("zh-hans"):
        assert template.render(Context()) == "某些行的数据验证失败"


def test_null_character_is_refused_with_a_correct_message():
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as form_error:
            forms.CharField().clean("abc\x00")
        with pytest.raises(serializers.ValidationError) as api_error:
            serializers.CharField().run_validation("abc\x00")
    assert form_error.value.messages == ["不允许包含空字符（NUL）。"]
    assert api_error.value.detail == ["不允许包含空字符（NUL）。"]
