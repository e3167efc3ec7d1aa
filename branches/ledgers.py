"""The branches app's ledgers (台账): roster, organizational life, compliance, overdue elections.

Each one starts from the one scoping rule (`Ledger.organizations()` / `visible_members`) and
streams plain values; the reports app's writer does the formatting. None of them runs a query
per row: the roster and the election ledger are one query each, the compliance ledger a fixed
handful, and the activity ledger one query for the records plus one per chunk of records for
the names of who was excused or absent.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.ledgers import BOOL, DATE, DATETIME, INT, PERCENT, Column, Ledger, register

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
)
from .selectors import SubqueryCount, overdue_elections, visible_members


def _labels(choices) -> dict[str, str | None]:
    """value -> label in the active language, resolved once per ledger rather than per row."""
    return {value: (str(label) if value else None) for value, label in choices.choices}


def _full_name(first: str | None, last: str | None, username: str | None) -> str | None:
    """What `User.get_full_name() or get_username()` gives, from plain values."""
    if username is None:
        return None
    return f"{first or ''} {last or ''}".strip() or username


def _chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _age(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# -- 党员名册 ------------------------------------------------------------------------------------


@register
class RosterLedger(Ledger):
    """Every member in scope, by unit and branch (one query)."""

    code = "roster"
    title = _("Party member roster")
    description = _("The members of each party organization, with their party details.")
    filters = ("unit", "organization")
    columns = [
        Column(_("Unit"), 24),
        Column(_("Party branch"), 26),
        Column(_("Party group"), 20),
        Column(_("Member number"), 14),
        Column(_("Name"), 12),
        Column(_("Sex"), 6),
        Column(_("Birth date"), 12, DATE),
        Column(_("Age"), 6, INT),
        Column(_("Joined the party on"), 12, DATE),
        Column(_("Status"), 12),
        Column(_("Full member since"), 12, DATE),
        Column(_("Education"), 14),
        Column(_("Position"), 20),
        Column(_("Party duty"), 12),
        Column(_("Party affairs cadre"), 10, BOOL),
        Column(_("Registered at community"), 20),
        Column(_("First secretary posting"), 20),
        Column(_("Hardship member"), 10, BOOL),
        Column(_("Phone"), 14),
    ]
    fields = (
        "branch__unit__name",
        "branch__name",
        "group__name",
        "member_no",
        "name",
        "sex",
        "birth_date",
        "joined_on",
        "status",
        "full_member_on",
        "education",
        "position",
        "duty",
        "is_party_worker",
        "community",
        "first_secretary_village",
        "is_hardship",
        "phone",
    )

    def queryset(self) -> QuerySet[Member]:
        members = visible_members(self.user)
        if self.params.unit is not None or self.params.organization is not None:
            orgs = self.organizations().values("pk")
            members = members.filter(Q(branch__in=orgs) | Q(group__in=orgs))
        return members.order_by("branch__unit__sort_order", "branch__path", "member_no")

    def rows(self) -> Iterable[Sequence[Any]]:
        today = timezone.localdate()
        sex, status = _labels(Sex), _labels(MemberStatus)
        education, duty = _labels(Education), _labels(PartyDuty)
        rows = self.queryset().values_list(*self.fields).iterator(chunk_size=self.chunk_size)
        for (
            unit,
            branch,
            group,
            number,
            name,
            sex_value,
            birth,
            joined,
            status_value,
            full_since,
            education_value,
            position,
            duty_value,
            cadre,
            community,
            village,
            hardship,
            phone,
        ) in rows:
            yield (
                unit,
                branch,
                group,
                number,
                name,
                sex.get(sex_value, sex_value),
                birth,
                _age(birth, today),
                joined,
                status.get(status_value, status_value),
                full_since,
                education.get(education_value, education_value),
                position or None,
                duty.get(duty_value, duty_value or None),
                cadre,
                community or None,
                village or None,
                hardship,
                phone or None,
            )


# -- 组织生活台账 --------------------------------------------------------------------------------


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
    filters = ("unit", "organization", "period")
    columns = [
        Column(_("Date"), 12, DATE),
        Column(_("Unit"), 24),
        Column(_("Organization"), 26),
        Column(_("Activity type"), 14),
        Column(_("Topic"), 40),
        Column(_("Place"), 18),
        Column(_("Expected"), 8, INT),
        Column(_("Present"), 8, INT),
        Column(_("Excused"), 8, INT),
        Column(_("Absent"), 8, INT),
        Column(_("Attendance rate"), 10, PERCENT),
        Column(_("Excused members"), 24),
        Column(_("Absent members"), 24),
        Column(_("Attachments"), 8, INT),
        Column(_("Counts for compliance"), 10, BOOL),
        Column(_("Filed by"), 12),
        Column(_("Filed at"), 16, DATETIME),
    ]
    fields = (
        "pk",
        "date",
        "organization__unit__name",
        "organization__name",
        "type_name",
        "topic",
        "place",
        "present_count",
        "excused_count",
        "absent_count",
        "attachment_count",
        "counts_for_compliance",
        "filed_by__first_name",
        "filed_by__last_name",
        "filed_by__username",
        "filed_at",
    )

    def queryset(self) -> QuerySet[ActivityRecord]:
        records = ActivityRecord.objects.filter(organization__in=self.organizations().values("pk"))
        period = self.params.period
        if period is not None:
            records = records.filter(date__gte=period.start, date__lte=period.end)
        return records.order_by(
            "date", "organization__unit__sort_order", "organization__path", "type_name", "pk"
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

    def rows(self) -> Iterable[Sequence[Any]]:
        attachments = SubqueryCount(Attachment.objects.filter(record=OuterRef("pk")).values("pk"))
        records = (
            self.queryset()
            .annotate(attachment_count=attachments)
            .values_list(*self.fields)
            .iterator(chunk_size=self.chunk_size)
        )
        nobody: tuple[list[str], list[str]] = ([], [])
        for chunk in _chunks(records, self.chunk_size):
            names = self.non_present([r[0] for r in chunk])
            for (
                pk,
                day,
                unit,
                organization,
                type_name,
                topic,
                place,
                present,
                excused,
                absent,
                attachment_count,
                counts,
                first,
                last,
                username,
                filed_at,
            ) in chunk:
                expected = present + excused + absent
                excused_names, absent_names = names.get(pk, nobody)
                yield (
                    day,
                    unit,
                    organization,
                    type_name,
                    topic,
                    place or None,
                    expected,
                    present,
                    excused,
                    absent,
                    present / expected if expected else None,
                    "、".join(excused_names) or None,
                    "、".join(absent_names) or None,
                    attachment_count,
                    counts,
                    _full_name(first, last, username),
                    filed_at,
                )


# -- 组织生活落实情况台账 ------------------------------------------------------------------------


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
    filters = ("unit", "organization", "period")
    period_required = True
    columns = [
        Column(_("Unit"), 24),
        Column(_("Organization"), 28),
        Column(_("Kind"), 12),
        Column(_("Activities owed"), 10, INT),
        Column(_("Activities held"), 10, INT),
        Column(_("Missing"), 8, INT),
        Column(_("What was missed"), 36),
        Column(_("Compliant"), 10, BOOL),
        Column(_("Next election due"), 14, DATE),
        Column(_("Election overdue"), 10, BOOL),
    ]

    def judged(self) -> QuerySet[Organization]:
        """The organizations with a line of their own. A group is judged inside its branch's
        line (the 党小组会 rolled up), as in the bulletin, unless a group was asked for."""
        orgs = self.organizations()
        asked = self.params.organization
        if asked is None or asked.kind != OrganizationKind.GROUP:
            orgs = orgs.exclude(kind=OrganizationKind.GROUP)
        return orgs

    def queryset(self) -> QuerySet[Organization]:
        return self.judged().order_by("unit__sort_order", "unit__name", "path")

    def rows(self) -> Iterable[Sequence[Any]]:
        if self.params.period is None:
            raise ValueError("The compliance ledger needs a period.")
        results = compute_compliance(self.judged(), self.params.period)
        kinds = _labels(OrganizationKind)
        for pk, unit, name, kind in self.queryset().values_list("pk", "unit__name", "name", "kind"):
            result = results.get(pk)
            if result is None:  # created between the two queries
                continue
            yield (
                unit,
                name,
                kinds.get(kind, kind),
                result.owed,
                result.held,
                result.missing,
                result.missing_detail() or None,
                # An organization that owed nothing (a committee) is neither compliant nor not.
                result.compliant if result.owed else None,
                result.election_due_on,
                result.election_overdue,
            )


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
    filters = ("unit", "organization")
    columns = [
        Column(_("Unit"), 24),
        Column(_("Organization"), 28),
        Column(_("Kind"), 12),
        Column(_("Term started on"), 12, DATE),
        Column(_("Term length (years)"), 8, INT),
        Column(_("Approved change (months)"), 10, INT),
        Column(_("Election due on"), 12, DATE),
        Column(_("Days overdue"), 8, INT),
        Column(_("Secretary"), 12),
    ]

    def queryset(self) -> QuerySet:
        current = Term.objects.filter(organization=OuterRef("pk"), ended_on__isnull=True)
        return (
            overdue_elections(self.organizations(), on=timezone.localdate())
            .annotate(
                term_length=Subquery(current.values("length_years")[:1]),
                term_change=Subquery(current.values("extension_months")[:1]),
            )
            .order_by("election_due_on", "unit__sort_order", "path")
        )

    def rows(self) -> Iterable[Sequence[Any]]:
        today = timezone.localdate()
        kinds = _labels(OrganizationKind)
        rows = self.queryset().values_list(
            "unit__name",
            "name",
            "kind",
            "term_started_on",
            "term_length",
            "term_change",
            "election_due_on",
            "secretary__name",
        )
        for unit, name, kind, started, length, change, due, secretary in rows.iterator(
            chunk_size=self.chunk_size
        ):
            yield (
                unit,
                name,
                kinds.get(kind, kind),
                started,
                length,
                change,
                due,
                (today - due).days,
                secretary,
            )
