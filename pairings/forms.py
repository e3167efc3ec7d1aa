"""The portal's pairing forms: shape only. The rules (no future date, funds above zero, goods
complete, who may go, the photos, a theme party day once a day) are the services' own
(`pairings.services`); their errors are put back next to the fields they name, in one round.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Member
from config.forms import ServiceErrorsMixin

from .models import (
    MONEY,
    CounterpartKind,
    HelpKind,
    PairingStatus,
    ProjectStatus,
    Scheme,
)
from .services import HelpInput, ProjectInput

# Longest text accepted in a "what was done" box: a long report still fits; a pasted book
# does not reach the database.
DESCRIPTION_MAX = 4000


def _date_field(label, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _money_field(label, required: bool = False, **options) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
        **MONEY,
        **options,
    )


def _no_future(form: forms.Form) -> None:
    """The phone's date picker offers no day after today."""
    today = timezone.localdate().isoformat()
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget.attrs["max"] = today


# --- the list's filters ------------------------------------------------------------------------


class PairingFilterForm(forms.Form):
    """Scheme and status. A value that is not one of the choices is ignored, never an error."""

    scheme = forms.TypedChoiceField(label=_("Scheme"), coerce=int, required=False)
    status = forms.ChoiceField(label=_("Pairing status"), required=False)

    def __init__(self, *args, schemes: Iterable[Scheme], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheme"].choices = [("", _("Any"))] + [(s.pk, s.name) for s in schemes]
        self.fields["status"].choices = [("", _("Any")), *PairingStatus.choices]

    def filters(self) -> dict:
        """The lookups of the valid filters (an invalid one is dropped)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        found = {}
        if data.get("scheme") not in (None, ""):
            found["scheme_id"] = data["scheme"]
        if data.get("status"):
            found["status"] = data["status"]
        return found


# --- help records ------------------------------------------------------------------------------

# The fields each kind of help uses besides the common ones (the page shows only those).
KIND_FIELDS = {
    HelpKind.VISIT: ("as_theme_day", "topic"),
    HelpKind.FUNDS: ("amount",),
    HelpKind.GOODS: ("item", "quantity", "unit_of_measure", "value"),
}
TEXT_FIELDS = {"topic", "item", "unit_of_measure"}


class HelpRecordForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of help"),
        choices=HelpKind.choices,
        widget=forms.RadioSelect,
        initial=HelpKind.VISIT,
    )
    # Required all the same: the service says so ("Give the date.", "Say what was done."), with
    # its other errors in the same round.
    date = _date_field(_("Date"), required=False)
    description = forms.CharField(
        label=_("What was done"),
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    participants = forms.TypedMultipleChoiceField(
        label=_("Who went"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(label=_("Others who went"), max_length=200, required=False)
    amount = _money_field(_("Amount (yuan)"))
    item = forms.CharField(label=_("Item"), max_length=50, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )
    unit_of_measure = forms.CharField(label=_("Unit of measure"), max_length=10, required=False)
    value = _money_field(_("Value (yuan)"))
    as_theme_day = forms.BooleanField(
        label=_("Also count this visit as the branch's theme party day"), required=False
    )
    topic = forms.CharField(label=_("Theme party day topic"), max_length=200, required=False)

    def __init__(self, *args, members: list[Member], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        self.fields["participants"].choices = [(m.pk, m.name) for m in members]
        self.initial.setdefault("date", timezone.localdate())
        self.initial.setdefault("kind", HelpKind.VISIT)
        _no_future(self)
        for name in ("others", "item", "unit_of_measure", "topic"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        self.errors_apart["photos"] = []

    @property
    def photo_errors(self) -> list[str]:
        return self.errors_apart["photos"]

    @property
    def chosen_kind(self) -> str:
        value = self["kind"].value()
        return value if value in HelpKind.values else HelpKind.VISIT

    @property
    def chosen_participants(self) -> set[int]:
        values = self["participants"].value() or []
        return {int(v) for v in values if str(v).isdecimal() and str(v).isascii()}

    def clean(self):
        """The fields of the kinds not chosen are hidden on the page: something unreadable left
        in one is dropped, never an error the user cannot see (the service ignores what the
        kind does not use, and says so where it matters: a theme party day is a visit's)."""
        data = super().clean()
        kind = data.get("kind")
        if kind:
            for name in {n for k, names in KIND_FIELDS.items() if k != kind for n in names}:
                if self._errors.pop(name, None) is not None:
                    data[name] = self.fields[name].empty_value if name in TEXT_FIELDS else None
        return data

    def help_input(self, pairing, photos: list[UploadedFile]) -> HelpInput:
        data = self.cleaned_data
        return HelpInput(
            pairing=pairing,
            kind=data["kind"],
            date=data["date"],
            description=data["description"],
            participant_ids=set(data["participants"]),
            others=data["others"],
            amount=data.get("amount"),
            item=data.get("item", ""),
            quantity=data.get("quantity"),
            unit_of_measure=data.get("unit_of_measure", ""),
            value=data.get("value"),
            photos=photos,
            as_theme_day=data.get("as_theme_day", False),
            topic=data.get("topic", ""),
        )


# --- needs, measures, projects, member pairs ---------------------------------------------------


class NeedForm(ServiceErrorsMixin, forms.Form):
    description = forms.CharField(label=_("Need"), max_length=200)
    found_on = _date_field(_("Found on"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("found_on", timezone.localdate())
        _no_future(self)


class CloseNeedForm(ServiceErrorsMixin, forms.Form):
    met_on = _date_field(_("Met on"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("met_on", timezone.localdate())
        _no_future(self)


class MeasureForm(ServiceErrorsMixin, forms.Form):
    description = forms.CharField(label=_("Measure"), max_length=200)
    due_on = _date_field(_("Due"), required=False)


class ProjectForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Project name"), max_length=100)
    budget = _money_field(_("Budget (yuan)"), required=False)
    started_on = _date_field(_("Started on"))
    due_on = _date_field(_("Due"))
    status = forms.ChoiceField(
        label=_("Project status"), choices=ProjectStatus.choices, initial=ProjectStatus.PLANNED
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("started_on", timezone.localdate())

    def project_input(self, pairing) -> ProjectInput:
        data = self.cleaned_data
        budget = data["budget"]
        return ProjectInput(
            pairing=pairing,
            name=data["name"],
            budget=budget if budget is not None else 0,
            started_on=data["started_on"],
            due_on=data["due_on"],
            status=data["status"],
        )


class MemberPairForm(ServiceErrorsMixin, forms.Form):
    member = forms.TypedChoiceField(label=_("Organ member"), coerce=int)
    counterpart_kind = forms.ChoiceField(label=_("Paired with"), choices=CounterpartKind.choices)
    counterpart_name = forms.CharField(label=_("Name"), max_length=50)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    started_on = _date_field(_("Started on"))

    def __init__(self, *args, members: list[Member], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        self.fields["member"].choices = [("", _("Choose…"))] + [(m.pk, m.name) for m in members]
        self.initial.setdefault("started_on", timezone.localdate())
        _no_future(self)

    def chosen_member(self) -> Member:
        return self.members[self.cleaned_data["member"]]
