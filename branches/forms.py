"""The portal's activity record form: shape only. Rules (future dates, duplicates, who may attend,
file types, the cap per record) are checked by `branches.services`, whose errors are attached back
to the fields: all of them in one round, whether or not the form's own checks passed.

Files sent with a form that comes back with errors are kept for the user under the form's token
(a hidden field, `upload_token`) and offered again as already attached (`services.
keep_pending_uploads`): a photo taken with the camera is never taken twice.

Attendance is one radio group per member, `attendance-<member id>` = present / excused / absent,
so the page works without JavaScript. The list holds every member of the organization; those
not expected at the chosen type (non-committee members at a committee meeting) are hidden, and
their answers ignored, because the service decides who is expected (`expected_attendees`).
"""

from __future__ import annotations

import datetime
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.forms import ServiceErrorsMixin

from .models import (
    COMMITTEE_DUTIES,
    ActivityType,
    AttendanceStatus,
    Member,
    Organization,
    PendingUpload,
)
from .services import ActivityInput, validate_activity

TOKEN = re.compile(r"[0-9a-f]{32}")


def upload_token_from(value: object) -> str | None:
    """A form token as sent back by the browser, or None when it is not one of ours."""
    return value if isinstance(value, str) and TOKEN.fullmatch(value) else None


def attendance_field(member_pk: int) -> str:
    return f"attendance-{member_pk}"


def statuses_from(data: Mapping, members: Iterable[Member]) -> dict[int, str]:
    """The attendance answers found in a QueryDict (POST, or GET when the list is refreshed)."""
    found = {}
    for member in members:
        value = data.get(attendance_field(member.pk))
        if value in AttendanceStatus.values:
            found[member.pk] = value
    return found


@dataclass
class AttendeeRow:
    member: Member
    status: str
    committee: bool  # holds a committee duty: expected at a committee meeting too
    expected: bool  # expected at the type currently chosen

    @property
    def field_name(self) -> str:
        return attendance_field(self.member.pk)


class ActivityRecordForm(ServiceErrorsMixin, forms.Form):
    activity_type = forms.TypedChoiceField(label=_("Type of activity"), coerce=int)
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    topic = forms.CharField(label=_("Topic"), max_length=200)
    place = forms.CharField(label=_("Place"), max_length=100, required=False)
    content = forms.CharField(
        label=_("Content"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(
        self,
        *args,
        organization: Organization,
        types: list[ActivityType],
        members: list[Member],
        statuses: Mapping[int, str] | None = None,
        upload_token: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.types = {t.pk: t for t in types}
        self.members = members
        self.attendance_errors = self.errors_apart.setdefault("attendance", [])
        self.attachment_errors = self.errors_apart.setdefault("attachments", [])
        # Files kept from an earlier try of this form (set by the view).
        self.pending_uploads: list[PendingUpload] = []
        if self.is_bound:
            statuses = statuses_from(self.data, members)
            upload_token = self.data.get("upload_token")
        # A new form gets a new token; a form sent back keeps its own.
        self.upload_token = upload_token_from(upload_token) or secrets.token_hex(16)
        self.statuses = dict(statuses or {})
        if not self.is_bound and len(types) == 1 and not self.initial.get("activity_type"):
            # The only type this organization holds (a group's 党小组会): chosen already.
            self.initial["activity_type"] = types[0].pk
        self.fields["activity_type"].choices = [("", _("Choose…"))] + [
            (t.pk, t.name) for t in types
        ]
        # The phone's date picker offers no day after today.
        self.fields["date"].widget.attrs["max"] = timezone.localdate().isoformat()
        for name in ("topic", "place"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    # --- what the template needs -------------------------------------------------------------

    @property
    def type_choices(self) -> list[ActivityType]:
        return list(self.types.values())

    @property
    def chosen_type(self) -> ActivityType | None:
        """The type currently chosen (typed or preselected), valid or not yet."""
        raw = self["activity_type"].value()
        try:
            return self.types.get(int(raw))
        except (TypeError, ValueError):
            return None

    @property
    def chosen_type_pk(self) -> int | None:
        chosen = self.chosen_type
        return chosen.pk if chosen else None

    @property
    def attendee_rows(self) -> list[AttendeeRow]:
        chosen = self.chosen_type
        committee_only = bool(chosen and chosen.committee_only)
        rows = []
        for member in self.members:
            committee = member.duty in COMMITTEE_DUTIES
            rows.append(
                AttendeeRow(
                    member=member,
                    status=self.statuses.get(member.pk, AttendanceStatus.PRESENT),
                    committee=committee,
                    expected=committee or not committee_only,
                )
            )
        return rows

    @property
    def status_choices(self) -> list[tuple[str, str]]:
        return AttendanceStatus.choices

    # --- validation ----------------------------------------------------------------------------

    def clean_activity_type(self) -> ActivityType:
        chosen = self.types.get(self.cleaned_data["activity_type"])
        if chosen is None:
            raise ValidationError(_("Choose the type of activity."), code="invalid_choice")
        return chosen

    @property
    def removed_pending_ids(self) -> list[int]:
        """The kept files ticked "remove"."""
        if not self.is_bound:
            return []
        return [
            int(v) for v in self.data.getlist("remove_pending") if v.isdecimal() and v.isascii()
        ]

    @property
    def removed_attachment_ids(self) -> list[int]:
        """The record's attachments ticked "remove" (editing)."""
        if not self.is_bound:
            return []
        return [
            int(v) for v in self.data.getlist("remove_attachment") if v.isdecimal() and v.isascii()
        ]

    def activity_input(
        self, attachments: list[UploadedFile], pending: list[PendingUpload] | None = None
    ) -> ActivityInput:
        """The service's input; answers for members not expected are dropped. From a form
        refused by its own checks too: the fields in error are then empty (None, "")."""
        data = getattr(self, "cleaned_data", {})
        expected = {row.member.pk for row in self.attendee_rows if row.expected}
        answered = {pk: s for pk, s in self.statuses.items() if pk in expected}
        return ActivityInput(
            organization=self.organization,
            activity_type=data.get("activity_type"),
            date=data.get("date"),
            topic=data.get("topic", ""),
            place=data.get("place", ""),
            content=data.get("content", ""),
            excused_ids={pk for pk, s in answered.items() if s == AttendanceStatus.EXCUSED},
            absent_ids={pk for pk, s in answered.items() if s == AttendanceStatus.ABSENT},
            attachments=attachments,
            pending=list(pending or []),
        )

    def check_with_service(self, data: ActivityInput, record=None) -> None:
        """When the form itself is refused the service is not asked to save; it is asked for
        its errors all the same (a future date, a duplicate, the files, the cap), so that
        every error comes back in one round."""
        try:
            validate_activity(data, record, self.removed_attachment_ids)
        except ValidationError as exc:
            self.add_service_errors(exc)


def initial_from_query(query: Mapping, default_date: datetime.date) -> dict:
    """Prefill from the query string: the owed card's links and the no-JavaScript refresh."""
    initial: dict = {"date": default_date}
    for name in ("activity_type", "date", "topic", "place", "content"):
        if query.get(name):
            initial[name] = query[name]
    return initial
