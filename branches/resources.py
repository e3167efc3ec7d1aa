"""The roster (党员名册) as a spreadsheet: django-import-export resource for Member.

Columns carry human headers; organizations are named by `Organization.code`; choices are
written as their labels and read back as labels (active language or English) or raw values;
booleans as 是/否; dates as YYYY-MM-DD. A file is imported whole or not at all: any bad row
rolls back every row (see `MemberResource.import_data`). Row numbers in the result are the
spreadsheet's own (the header is row 1, the first member row 2).

The resource declares the roster's columns, headers (`resolve_headers`) and cell widgets.
The admin and `services.import_roster` read, check and save files with them in
`branches.roster` (in bulk: a fixed handful of queries whatever the size of the file);
`MemberResource.import_data` itself works row by row, for import-export's own tooling.
"""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources, widgets
from import_export.fields import Field
from import_export.instance_loaders import CachedInstanceLoader
from import_export.results import Result, RowResult

from . import selectors
from .models import Education, Member, MemberStatus, Organization, PartyDuty, Sex

if TYPE_CHECKING:
    from accounts.models import User

# The header row is spreadsheet row 1, so data row n (1-based) is spreadsheet row n + 1.
HEADER_ROWS = 1


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel (1001, 1001.0) read back as "1001"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _unrestricted(user: User | None) -> bool:
    """No user means a trusted caller (a command, a task); staff see the whole city."""
    from accounts import access

    return user is None or access.sees_whole_city(user)


class RosterHeaderError(ValueError):
    """The header row does not fit the roster: `problems` lists (header, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(" ".join(message for _column, message in problems))
        self.problems = problems


# --- widgets: each raises ValueError with a message naming the bad value, which
# import-export records as a validation error of that row and column.


class TextWidget(widgets.CharWidget):
    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        return as_text(value)


class ChoiceLabelWidget(widgets.Widget):
    """A choice written as its label; reads the label (active language or English) or value."""

    def __init__(self, choices: type[models.Choices]) -> None:
        super().__init__()
        self.choices = choices
        # Active language -> casefolded key -> value: built once per language, not per cell
        # (a whole-city roster reads 80,000 choice cells).
        self._lookups: dict[str | None, dict[str, str]] = {}

    def _lookup(self) -> dict[str, str]:
        language = translation.get_language()
        found = self._lookups.get(language)
        if found is not None:
            return found
        found = {}
        with translation.override("en"):
            english = {value: str(label) for value, label in self.choices.choices}
        for value, label in self.choices.choices:
            for key in (value, english[value], str(label)):
                if key:
                    found[key.casefold()] = value
        self._lookups[language] = found
        return found

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        if is_blank(value):
            return ""  # required choices are then reported blank by the model
        text = as_text(value)
        try:
            return self._lookup()[text.casefold()]
        except KeyError:
            labels = "、".join(str(label) for v, label in self.choices.choices if v)
            raise ValueError(
                gettext("“%(value)s” is not a valid choice. Use one of: %(choices)s.")
                % {"value": text, "choices": labels}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        try:
            return str(self.choices(value).label)
        except ValueError:
            return str(value)


class YesNoWidget(widgets.Widget):
    """是/否 (Django's own "Yes"/"No"); also reads yes/no, true/false, 1/0. Blank is no."""

    TRUE = {"是", "yes", "y", "true", "t", "1", "√", "✓"}
    FALSE = {"否", "no", "n", "false", "f", "0", "×", "✗"}

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> bool:
        if isinstance(value, bool):
            return value
        if is_blank(value):
            return False
        text = as_text(value)
        key = text.casefold()
        if key in self.TRUE or key == gettext("Yes").casefold():
            return True
        if key in self.FALSE or key == gettext("No").casefold():
            return False
        raise ValueError(
            gettext("“%(value)s” is not a yes/no value. Use %(yes)s or %(no)s.")
            % {"value": text, "yes": gettext("Yes"), "no": gettext("No")}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return gettext("Yes") if value else gettext("No")


DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class SpreadsheetDateWidget(widgets.Widget):
    """YYYY-MM-DD text (also 2024/1/5, 2024.1.5, 2024年1月5日) or a real Excel date cell."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> datetime.date | None:
        if is_blank(value):
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = as_text(value)
        # Django's own messages: they name the value and are translated already.
        messages = models.DateField.default_error_messages
        match = DATE_RE.match(text)
        if not match:
            raise ValueError(messages["invalid"] % {"value": text})
        try:
            return datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            raise ValueError(messages["invalid_date"] % {"value": text}) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else ""


class OrganizationCodeWidget(widgets.ForeignKeyWidget):
    """An organization named by its code, among those the importing user may see."""

    def __init__(self) -> None:
        super().__init__(Organization, field="code")
        self._cache: dict[str, Organization] = {}

    def get_queryset(self, value: Any, row: dict | None, *args: Any, **kwargs: Any):
        user = kwargs.get("user")
        if _unrestricted(user):
            return Organization.objects.all()
        return selectors.visible_organizations(user)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Organization | None:
        code = as_text(value)
        if not code:
            return None
        if code not in self._cache:
            found = self.get_queryset(value, row, **kwargs).filter(code=code).first()
            if found is None:
                if Organization.objects.filter(code=code).exists():
                    message = gettext("The party organization “%(code)s” is outside your scope.")
                else:
                    message = gettext("There is no party organization with the code “%(code)s”.")
                raise ValueError(message % {"code": code})
            self._cache[code] = found
        return self._cache[code]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.code if value is not None else ""


# --- results: row numbers as the user sees them in the spreadsheet


class RosterRowResult(RowResult):
    def __init__(self) -> None:
        super().__init__()
        #: A wholly empty spreadsheet row: ignored, neither an error nor an unchanged member.
        self.blank = False


class RosterImportResult(Result):
    """Row numbers are spreadsheet rows; `rolled_back` says a real import saved nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rolled_back = False

    def append_invalid_row(self, number, row, validation_error) -> None:
        super().append_invalid_row(number + HEADER_ROWS, row, validation_error)

    def append_error_row(self, number, row, errors) -> None:
        super().append_error_row(number + HEADER_ROWS, row, errors)

    def row_errors(self) -> list[tuple[int, list]]:
        return [(error_row.number, error_row.errors) for error_row in self.error_rows]

    def mark_rolled_back(self) -> None:
        """After a rollback no row was created, updated or deleted: say so.

        Otherwise callers (the admin's success message and LogEntry rows) would report
        members that are not in the database.
        """
        self.rolled_back = True
        for row_result in self.rows:
            if row_result.import_type in (
                RowResult.IMPORT_TYPE_NEW,
                RowResult.IMPORT_TYPE_UPDATE,
                RowResult.IMPORT_TYPE_DELETE,
            ):
                self.totals[row_result.import_type] -= 1
                self.totals[RowResult.IMPORT_TYPE_SKIP] += 1
                row_result.import_type = RowResult.IMPORT_TYPE_SKIP
                row_result.instance = None
                row_result.object_id = None


class MemberResource(resources.ModelResource):
    """The party-member roster, one member a row, `member_no` identifying the member."""

    member_no = Field(attribute="member_no", column_name=_("Member number"), widget=TextWidget())
    name = Field(attribute="name", column_name=_("Name"), widget=TextWidget())
    sex = Field(attribute="sex", column_name=_("Sex"), widget=ChoiceLabelWidget(Sex))
    birth_date = Field(
        attribute="birth_date", column_name=_("Birth date"), widget=SpreadsheetDateWidget()
    )
    joined_on = Field(
        attribute="joined_on", column_name=_("Joined the party on"), widget=SpreadsheetDateWidget()
    )
    status = Field(
        attribute="status", column_name=_("Status"), widget=ChoiceLabelWidget(MemberStatus)
    )
    full_member_on = Field(
        attribute="full_member_on",
        column_name=_("Full member since"),
        widget=SpreadsheetDateWidget(),
    )
    education = Field(
        attribute="education", column_name=_("Education"), widget=ChoiceLabelWidget(Education)
    )
    position = Field(attribute="position", column_name=_("Position"), widget=TextWidget())
    branch = Field(
        attribute="branch", column_name=_("Branch code"), widget=OrganizationCodeWidget()
    )
    branch_name = Field(
        attribute="branch__name", column_name=_("Branch"), widget=TextWidget(), readonly=True
    )
    group = Field(attribute="group", column_name=_("Group code"), widget=OrganizationCodeWidget())
    duty = Field(attribute="duty", column_name=_("Party duty"), widget=ChoiceLabelWidget(PartyDuty))
    is_party_worker = Field(
        attribute="is_party_worker", column_name=_("Party affairs cadre"), widget=YesNoWidget()
    )
    community = Field(
        attribute="community", column_name=_("Registered at community"), widget=TextWidget()
    )
    first_secretary_village = Field(
        attribute="first_secretary_village",
        column_name=_("First secretary posting"),
        widget=TextWidget(),
    )
    is_hardship = Field(
        attribute="is_hardship", column_name=_("Hardship member"), widget=YesNoWidget()
    )
    phone = Field(attribute="phone", column_name=_("Phone"), widget=TextWidget())

    class Meta:
        model = Member
        name = _("Party member roster")
        fields = (
            "member_no",
            "name",
            "sex",
            "birth_date",
            "joined_on",
            "status",
            "full_member_on",
            "education",
            "position",
            "branch",
            "branch_name",
            "group",
            "duty",
            "is_party_worker",
            "community",
            "first_secretary_village",
            "is_hardship",
            "phone",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ("member_no",)
        instance_loader_class = CachedInstanceLoader
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    # When one of these fails to read, the model's checks that compare against it are noise.
    DEPENDENT_CHECKS: dict[str, tuple[str, ...]] = {"group": ("branch",)}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._user: User | None = None
        self._first_row_of: dict[str, int] = {}

    @classmethod
    def get_result_class(cls) -> type[RosterImportResult]:
        return RosterImportResult

    @classmethod
    def get_row_result_class(cls) -> type[RosterRowResult]:
        return RosterRowResult

    def get_queryset(self) -> models.QuerySet[Member]:
        qs = Member.objects.select_related("branch", "group")
        if _unrestricted(self._user):
            return qs
        return qs.filter(pk__in=selectors.visible_members(self._user).values("pk"))

    def column_for(self, attribute: str) -> str:
        """The header text (active language) of the column that sets a model attribute."""
        if attribute == NON_FIELD_ERRORS:
            return attribute
        for field in self.fields.values():
            if field.attribute == attribute and not field.readonly:
                return str(field.column_name)
        try:
            return str(Member._meta.get_field(attribute).verbose_name)
        except Exception:
            return attribute

    # --- the whole file

    def import_data(
        self,
        dataset,
        dry_run: bool = False,
        raise_errors: bool = False,
        use_transactions: bool | None = None,
        collect_failed_rows: bool = False,
        rollback_on_validation_errors: bool = False,
        **kwargs: Any,
    ) -> RosterImportResult:
        """All or nothing: always in a transaction, rolled back when any row is bad.

        import-export rolls back on errors but keeps the good rows of a file with validation
        errors unless asked otherwise, and its admin confirm step does not ask. So the
        arguments are overridden here, for every caller.
        """
        result = super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            collect_failed_rows=collect_failed_rows,
            rollback_on_validation_errors=True,
            **kwargs,
        )
        if not dry_run and (result.has_errors() or result.has_validation_errors()):
            result.mark_rolled_back()
        return result

    def before_import(self, dataset, **kwargs: Any) -> None:
        """Know the user; accept headers in the active language or English; refuse others."""
        self._user = kwargs.get("user")
        self._first_row_of = {}
        names, problems = resolve_headers(dataset.headers or [])
        current = {name: str(f.column_name) for name, f in self.fields.items()}
        headers: list[Any] = []
        for header, name in zip(dataset.headers or [], names, strict=True):
            if name is not None:
                headers.append(current[name])
            else:
                headers.append(header if is_blank(header) else as_text(header))
        if problems:
            # A header row that does not fit means the wrong file: check none of its rows.
            dataset.wipe()
            dataset.headers = headers
            raise RosterHeaderError(problems)
        dataset.headers = headers

    # --- one row

    def import_row(self, row, instance_loader, **kwargs: Any) -> RowResult:
        if all(is_blank(value) for value in row.values()):
            row_result = self.get_row_result_class()()
            row_result.import_type = RowResult.IMPORT_TYPE_SKIP
            row_result.blank = True
            return row_result
        return super().import_row(row, instance_loader, **kwargs)

    def before_import_row(self, row, **kwargs: Any) -> None:
        """The same member twice in one file is an error, not "the last row wins"."""
        column = str(self.fields["member_no"].column_name)
        member_no = as_text(row.get(column))
        if not member_no:
            return
        spreadsheet_row = kwargs.get("row_number", 0) + HEADER_ROWS
        first = self._first_row_of.setdefault(member_no, spreadsheet_row)
        if first != spreadsheet_row:
            raise ValidationError(
                {
                    column: gettext(
                        "Member number “%(value)s” appears more than once in the file "
                        "(first on row %(row)s)."
                    )
                    % {"value": member_no, "row": first}
                }
            )

    def validate_instance(
        self, instance: Member, import_validation_errors=None, validate_unique: bool = True
    ) -> None:
        """The model's own checks, with every error filed under its column's header."""
        failed = dict(import_validation_errors or {})
        for attribute in failed:
            # A value that did not read must not be compared by clean() in its stale state.
            if attribute in ("birth_date", "joined_on", "full_member_on", "group"):
                setattr(instance, attribute, None)
        try:
            super().validate_instance(instance, failed, validate_unique=validate_unique)
        except ValidationError as e:
            errors = e.update_error_dict({})
        else:
            return
        for attribute, depends_on in self.DEPENDENT_CHECKS.items():
            if attribute not in failed and any(d in failed for d in depends_on):
                errors.pop(attribute, None)
        by_column: dict[str, list] = {}
        for attribute, messages in errors.items():
            by_column.setdefault(self.column_for(attribute), []).extend(messages)
        raise ValidationError(by_column)

    def before_save_instance(self, instance: Member, row, **kwargs: Any) -> None:
        # django-simple-history: the importing user is the author of the change.
        if kwargs.get("user") is not None:
            instance._history_user = kwargs["user"]


def roster_headers() -> list[str]:
    """The roster's column headers in the active language, in file order."""
    return MemberResource().get_export_headers()


def header_lookup() -> dict[str, str]:
    """Casefolded header -> resource field name. A header may be written in the active
    language, in English or as the field name; the active language wins a clash."""
    fields = MemberResource.fields
    with translation.override("en"):
        english = {name: str(f.column_name) for name, f in fields.items()}
    current = {name: str(f.column_name) for name, f in fields.items()}
    known: dict[str, str] = {}
    for aliases in (current, english, {name: name for name in fields}):
        for name, alias in aliases.items():
            known.setdefault(alias.strip().casefold(), name)
    return known


def resolve_headers(headers: list[Any]) -> tuple[list[str | None], list[tuple[str, str]]]:
    """The field name of each header (None: a blank, unknown or repeated header), and the
    problems as (header, message): unknown and repeated headers, a missing member number."""
    known = header_lookup()
    names: list[str | None] = []
    problems: list[tuple[str, str]] = []
    for header in headers:
        if is_blank(header):
            names.append(None)
            continue
        text = as_text(header)
        name = known.get(text.casefold())
        if name is None:
            problems.append((text, gettext("Unknown column “%(column)s”.") % {"column": text}))
            names.append(None)
        elif name in names:
            message = gettext("The column “%(column)s” appears twice.") % {"column": text}
            problems.append((text, message))
            names.append(None)
        else:
            names.append(name)
    if "member_no" not in names:
        member_no = str(MemberResource.fields["member_no"].column_name)
        message = gettext("The column “%(column)s” is missing.") % {"column": member_no}
        problems.append((member_no, message))
    return names, problems
