"""The branches app's ledgers (台账): roster, organizational life, compliance, overdue elections.

Each one starts from the one scoping rule (`Ledger.organizations()` / `visible_members`),
declares its filters and its columns (each column says which field it reads), and streams plain
values; the reports app's writer does the formatting. None of them runs a query per row: the
roster and the election ledger are one query each, the compliance ledger a fixed handful, and
the activity ledger one query for the records plus one per chunk of records for the names of
who was excused or absent.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.ledgers import (
    BOOL,
    DATE,
    DATETIME,
    INT,
    PERCENT,
    Column,
    Computed,
    Label,
    Ledger,
    OrganizationFilter,
    PeriodFilter,
    PersonName,
    Row,
    UnitFilter,
    Value,
    register,
)

from .compliance import compute_compliance
from .models import (
    ActivityRecord,
    Attachment,
    Attendance,
    AttendanceStatus,
    Education,
    Member,
    MemberStatus,
    Organization,
    OrganizationKind,
    PartyDuty,
    Sex,
    Term,
    age_on,
)
from .selectors import SubqueryCount, overdue_elections, visible_members


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SinceToday(Value):
    """`measure(the date field, today)`, today's date taken once per sheet."""

    def __init__(self, path: str, measure: Callable[[datetime.date, datetime.date], Any]):
        self.path = path
        self.measure = measure
        self.fields = (path,)

    def reader(self, ledger: Ledger) -> Callable[[Row], Any]:
        today, path, measure = timezone.localdate(), self.path, self.measure

        def since(row: Row) -> Any:
            day = row[path]
            return None if day is None else measure(day, today)

        return since


# -- 党员名册 ------------------------------------------------------------------------------------

PRIVATE = "member.view_private"  # phone and birth date: staff and secretaries, not inspectors


@register
class RosterLedger(Ledger):
    """Every member in scope, by unit and branch (one query)."""

    code = "roster"
    title = _("Party member roster")
    description = _("The members of each party organization, with their party details.")
    filters = [UnitFilter(), OrganizationFilter()]
    columns = [
        Column(_("Unit"), "branch__unit__name", 24),
        Column(_("Party branch"), "branch__name", 26),
        Column(_("Party group"), "group__name", 20),
        Column(_("Member number"), "member_no", 14),
        Column(_("Name"), "name", 12),
        Column(_("Sex"), Label("sex", Sex), 6),
        Column(_("Birth date"), "birth_date", 12, DATE, capability=PRIVATE),
        Column(_("Age"), SinceToday("birth_date", age_on), 6, INT),
        Column(_("Joined the party on"), "joined_on", 12, DATE),
        Column(_("Status"), Label("status", MemberStatus), 12),
        Column(_("Full member since"), "full_member_on", 12, DATE),
        Column(_("Education"), Label("education", Education), 14),
        Column(_("Position"), "position", 20),
        Column(_("Party duty"), Label("duty", PartyDuty), 12),
        Column(_("Party affairs cadre"), "is_party_worker", 10, BOOL),
        Column(_("Registered at community"), "community", 20),
        Column(_("First secretary posting"), "first_secretary_village", 20),
        Column(_("Hardship member"), "is_hardship", 10, BOOL),
        Column(_("Phone"), "phone", 14, capability=PRIVATE),
    ]

    def queryset(self) -> QuerySet[Member]:
        members = visible_members(self.user)
        if (unit := self.params["unit"]) is not None:
            members = members.of_unit(unit)
        if (organization := self.params["organization"]) is not None:
            members = members.under(organization)
        return members.order_by("branch__unit__sort_order", "branch__path", "member_no")


# -- 组织生活台账 --------------------------------------------------------------------------------


def _attendance_rate(row: Row) -> float | None:
    expected = row["expected"]
    return row["present_count"] / expected if expected else None


def _names(key: str) -> Computed:
    """The names `ActivityLedger.rows()` put under `key`, joined (no query field)."""
    return Computed(lambda row: "、".join(row[key]) or None)


@register
class ActivityLedger(Ledger):
    """Every activity record in scope with its attendance, in date order.

    Queries: one streamed query for the records (attachment counts are a correlated
    subquery in it), then one per `chunk_size` records for who was excused or absent.
    """

    code = "activities"
    title = _("Organizational life ledger")
    description = _(
        "Every meeting, lecture and theme day filed, with who was present, excused or absent."
    )
    filters = [UnitFilter(), OrganizationFilter(), PeriodFilter()]
    extra_fields = ("pk",)  # rows() looks up who was excused or absent by record
    columns = [
        Column(_("Date"), "date", 12, DATE),
        Column(_("Unit"), "organization__unit__name", 24),
        Column(_("Organization"), "organization__name", 26),
        Column(_("Activity type"), "type_name", 14),
        Column(_("Topic"), "topic", 40),
        Column(_("Place"), "place", 18),
        Column(_("Expected"), "expected", 8, INT),
        Column(_("Present"), "present_count", 8, INT),
        Column(_("Excused"), "excused_count", 8, INT),
        Column(_("Absent"), "absent_count", 8, INT),
        Column(
            _("Attendance rate"),
            Computed(_attendance_rate, "present_count", "expected"),
            10,
            PERCENT,
        ),
        Column(_("Excused members"), _names("excused_names"), 24),
        Column(_("Absent members"), _names("absent_names"), 24),
        Column(_("Attachments"), "attachment_count", 8, INT),
        Column(_("Counts for compliance"), "counts_for_compliance", 10, BOOL),
        Column(_("Filed by"), PersonName("filed_by"), 12),
        Column(_("Filed at"), "filed_at", 16, DATETIME),
    ]

    def queryset(self) -> QuerySet[ActivityRecord]:
        records = ActivityRecord.objects.filter(organization__in=self.organizations().values("pk"))
        if (period := self.params["period"]) is not None:
            records = records.filter(date__gte=period.start, date__lte=period.end)
        return records.order_by(
            "date", "organization__unit__sort_order", "organization__path", "type_name", "pk"
        )

    def annotate(self, queryset: QuerySet) -> QuerySet:
        attachments = SubqueryCount(Attachment.objects.filter(record=OuterRef("pk")).values("pk"))
        return queryset.annotate(
            expected=F("present_count") + F("excused_count") + F("absent_count"),
            attachment_count=attachments,
        )

    def non_present(self, record_ids: list[int]) -> dict[int, tuple[list[str], list[str]]]:
        """record id -> (excused names, absent names), by member number: one query."""
        found: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
        rows = (
            Attendance.objects.filter(record_id__in=record_ids)
            .exclude(status=AttendanceStatus.PRESENT)
            .order_by("record_id", "member__member_no")
            .values_list("record_id", "status", "member__name")
        )
        for record_id, status, name in rows:
            found[record_id][0 if status == AttendanceStatus.EXCUSED else 1].append(name)
        return found

    def rows(self) -> Iterable[Row]:
        nobody: tuple[list[str], list[str]] = ([], [])
        for chunk in _chunks(super().rows(), self.chunk_size):
            names = self.non_present([row["pk"] for row in chunk])
            for row in chunk:
                row["excused_names"], row["absent_names"] = names.get(row["pk"], nobody)
                yield row


# -- 组织生活落实情况台账 ------------------------------------------------------------------------


def _result(read: Callable[[Any], Any]) -> Computed:
    """A figure of the organization's compliance result (put on the row by `rows()`)."""
    return Computed(lambda row: read(row["result"]))


@register
class ComplianceLedger(Ledger):
    """Per organization in scope, what it owed and held in one period (a constant 7 queries:
    the compliance engine's six and the organizations' names). count() is the number of
    organizations (the base class counts `queryset()`)."""

    code = "compliance"
    title = _("Organizational life compliance ledger")
    description = _(
        "For a month, a quarter or a year: what each organization owed and held, and what it "
        "missed."
    )
    filters = [UnitFilter(), OrganizationFilter(), PeriodFilter(required=True)]
    extra_fields = ("pk",)  # rows() finds the organization's result by it
    columns = [
        Column(_("Unit"), "unit__name", 24),
        Column(_("Organization"), "name", 28),
        Column(_("Kind"), Label("kind", OrganizationKind), 12),
        Column(_("Activities owed"), _result(lambda r: r.owed), 10, INT),
        Column(_("Activities held"), _result(lambda r: r.held), 10, INT),
        Column(_("Missing"), _result(lambda r: r.missing), 8, INT),
        Column(_("What was missed"), _result(lambda r: r.missing_detail() or None), 36),
        # An organization that owed nothing (a committee) is neither compliant nor not.
        Column(_("Compliant"), _result(lambda r: r.compliant if r.owed else None), 10, BOOL),
        Column(_("Next election due"), _result(lambda r: r.election_due_on), 14, DATE),
        Column(_("Election overdue"), _result(lambda r: r.election_overdue), 10, BOOL),
    ]

    def judged(self) -> QuerySet[Organization]:
        """The organizations with a line of their own. A group is judged inside its branch's
        line (the 党小组会 rolled up), as in the bulletin, unless a group was asked for."""
        orgs = self.organizations()
        asked = self.params["organization"]
        if asked is None or asked.kind != OrganizationKind.GROUP:
            orgs = orgs.judged_on_their_own()
        return orgs

    def queryset(self) -> QuerySet[Organization]:
        return self.judged().order_by("unit__sort_order", "unit__name", "path")

    def rows(self) -> Iterable[Row]:
        if self.params["period"] is None:
            raise ValueError("The compliance ledger needs a period.")
        results = compute_compliance(self.judged(), self.params["period"])
        for row in super().rows():
            row["result"] = results.get(row["pk"])
            if row["result"] is None:  # created between the two queries
                continue
            yield row


# -- 换届逾期台账 --------------------------------------------------------------------------------


@register
class OverdueElectionLedger(Ledger):
    """Organizations in scope whose current term ran past its due date (one query)."""

    code = "overdue_elections"
    title = _("Overdue term elections ledger")
    description = _(
        "Party organizations whose current term has run past its due date, approved changes "
        "included."
    )
    filters = [UnitFilter(), OrganizationFilter()]
    columns = [
        Column(_("Unit"), "unit__name", 24),
        Column(_("Organization"), "name", 28),
        Column(_("Kind"), Label("kind", OrganizationKind), 12),
        Column(_("Term started on"), "term_started_on", 12, DATE),
        Column(_("Term length (years)"), "term_length", 8, INT),
        Column(_("Approved change (months)"), "term_change", 10, INT),
        Column(_("Election due on"), "election_due_on", 12, DATE),
        Column(
            _("Days overdue"),
            SinceToday("election_due_on", lambda due, today: (today - due).days),
            8,
            INT,
        ),
        Column(_("Secretary"), "secretary__name", 12),
    ]

    def queryset(self) -> QuerySet:
        return overdue_elections(self.organizations(), on=timezone.localdate()).order_by(
            "election_due_on", "unit__sort_order", "path"
        )

    def annotate(self, queryset: QuerySet) -> QuerySet:
        current = Term.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True)
        return queryset.annotate(
            term_length=Subquery(current.values("length_years")[:1]),
            term_change=Subquery(current.values("extension_months")[:1]),
        )
