"""Portal forms of campaigns (专项活动与督导): they read and shape what a secretary or an
inspector types; every rule is the services' (`campaigns.services`), whose errors come back next
to their fields through `config.forms.ServiceErrorsMixin`."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branches.models import Organization
from config.forms import ServiceErrorsMixin

from .models import MONEY, Campaign, InspectionGroup, ProblemState, Severity
from .services import GoodsInput, ParticipationInput, ProblemInput

# Longest text accepted in a description or measures box: a long report still fits; a pasted
# book does not reach the database.
TEXT_MAX = 4000
# Members taking part in one organization's filing: more than any organ has.
MEMBERS_MAX = 100_000
# Goods lines of one filing, and the blank ones offered.
GOODS_MAX = 30
GOODS_BLANK = 3


def _date_field(label, required: bool = False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _money_field(label, **options) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
        **MONEY,
        **options,
    )


def _text(label, rows: int = 4, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=TEXT_MAX,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def organization_choices(organizations: Iterable[Organization]) -> list[tuple[int, str]]:
    """Organizations by their place in the tree, indented by depth."""
    return [(o.pk, "\u3000" * max(o.depth - 1, 0) + o.name) for o in organizations]


# --- the problem list's filters -----------------------------------------------------------------


class ProblemFilterForm(forms.Form):
    """State and overdue. A value that is not one of the choices is ignored, never an error."""

    state = forms.ChoiceField(label=_("Rectification state"), required=False)
    overdue = forms.ChoiceField(label=_("Past the deadline"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any")), *ProblemState.choices]
        self.fields["overdue"].choices = [("", _("Any")), ("1", _("Overdue only"))]

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"state": data.get("state") or "", "overdue": data.get("overdue") == "1"}


# --- recording a problem -------------------------------------------------------------------------


class ProblemForm(ServiceErrorsMixin, forms.Form):
    organization = forms.TypedChoiceField(label=_("Responsible organization"), coerce=int)
    group = forms.TypedChoiceField(
        label=_("Inspection group"), coerce=int, required=False, empty_value=None
    )
    category = forms.CharField(label=_("Problem category"), max_length=50, required=False)
    description = _text(_("Problem found"))
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.NORMAL
    )
    found_on = _date_field(_("Found on"))
    deadline = _date_field(_("Rectify by"))
    evidence = _text(_("Evidence"), rows=3)

    def __init__(
        self,
        *args,
        organizations: Iterable[Organization],
        groups: Iterable[InspectionGroup],
        group_needed: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {o.pk: o for o in organizations}
        self.groups = {g.pk: g for g in groups}
        self.fields["organization"].choices = [("", _("Choose…"))] + organization_choices(
            self.organizations.values()
        )
        self.fields["group"].choices = [("", _("Choose…"))] + [
            (g.pk, f"{g.campaign.name} · {g.name}") for g in self.groups.values()
        ]
        if len(self.groups) == 1:
            self.initial.setdefault("group", next(iter(self.groups)))
        self.initial.setdefault("found_on", timezone.localdate())
        self.fields["found_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["category"].widget.attrs["autocomplete"] = "off"
        # Needed all the same: the service says so ("Give the deadline."), with its other
        # errors in the same round.
        for name in ("category", "description", "found_on", "deadline"):
            self.fields[name].widget.attrs["required"] = True
        if group_needed:
            self.fields["group"].widget.attrs["required"] = True

    def problem_input(self) -> ProblemInput:
        data = self.cleaned_data
        return ProblemInput(
            organization=self.organizations[data["organization"]],
            group=self.groups.get(data["group"]) if data["group"] is not None else None,
            category=data["category"],
            description=data["description"],
            severity=data["severity"],
            found_on=data["found_on"],
            deadline=data["deadline"],
            evidence=data["evidence"],
        )


# --- rectification: the answer, acceptance, sending back ------------------------------------------


class AnswerForm(ServiceErrorsMixin, forms.Form):
    measures = _text(_("Measures taken"), rows=5)
    evidence = _text(_("Evidence"), rows=3)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.errors_apart["photos"] = []

    @property
    def photo_errors(self) -> list[str]:
        return self.errors_apart["photos"]

    def answer(self, photos: list[UploadedFile]) -> dict:
        return {
            "measures": self.cleaned_data["measures"],
            "evidence": self.cleaned_data["evidence"],
            "photos": photos,
        }


class AcceptForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("Acceptance note"), max_length=500, required=False)


class SendBackForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why it is sent back"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- participation ------------------------------------------------------------------------------


class ParticipationForm(ServiceErrorsMixin, forms.Form):
    organization = forms.TypedChoiceField(label=_("Filed for"), coerce=int)
    members = forms.IntegerField(
        label=_("Members taking part"),
        required=False,
        max_value=MEMBERS_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
    )
    money = _money_field(_("Money given (yuan)"))
    note = forms.CharField(label=_("Participation note"), max_length=200, required=False)

    def __init__(self, *args, organizations: Iterable[Organization], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {o.pk: o for o in organizations}
        choices = organization_choices(self.organizations.values())
        if len(choices) != 1:
            choices = [("", _("Choose…")), *choices]
        self.fields["organization"].choices = choices
        self.errors_apart["goods"] = []

    @property
    def goods_errors(self) -> list[str]:
        return self.errors_apart["goods"]

    def participation_input(self, campaign: Campaign, goods: list[GoodsInput]):
        data = self.cleaned_data
        return ParticipationInput(
            campaign=campaign,
            organization=self.organizations[data["organization"]],
            members=data["members"] if data["members"] is not None else 0,
            money=data["money"] if data["money"] is not None else Decimal("0"),
            note=data["note"],
            goods=goods,
        )


class GoodsLineForm(forms.Form):
    """One line of goods; a line left blank is no line."""

    item = forms.CharField(label=_("Item"), max_length=50, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        required=False,
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
    )
    unit_of_measure = forms.CharField(label=_("Unit of measure"), max_length=10, required=False)
    value = _money_field(_("Value (yuan)"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("item", "unit_of_measure"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def goods(self) -> GoodsInput | None:
        data = getattr(self, "cleaned_data", {})
        if not any(data.get(name) not in (None, "") for name in self.fields):
            return None
        return GoodsInput(
            item=data.get("item", ""),
            quantity=data.get("quantity"),
            unit_of_measure=data.get("unit_of_measure", ""),
            value=data["value"] if data.get("value") is not None else Decimal("0"),
        )


GoodsFormSet = forms.formset_factory(
    GoodsLineForm,
    extra=GOODS_BLANK,
    max_num=GOODS_MAX,
    absolute_max=GOODS_MAX,
    validate_max=True,
)


def goods_formset(data=None, initial: list[dict] | None = None):
    return GoodsFormSet(data, initial=initial or None, prefix="goods")


def goods_of(formset) -> list[GoodsInput]:
    return [line for form in formset.forms if (line := form.goods()) is not None]
