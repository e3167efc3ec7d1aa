"""The portal's evaluation forms: shape only. The rules (the window, one application per
organization, the score's range, the files, the conflict of interest) are the services' own
(`evaluations.services`); their errors are put back on the page in one round.

A score field takes a number from 0 to the criterion's maximum with at most two decimals; what
is not one (letters, NaN, Infinity, 1e400, a dozen digits) is refused here with one message in
Chinese next to the field, before anything reaches a service.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.forms import ServiceErrorsMixin

from .models import SCORE, Criterion
from .services import ApplicationInput, AssessmentInput, ScoreInput

# Longest texts accepted: a long report still fits; a pasted book does not reach the database.
SUMMARY_MAX = 4000
EVIDENCE_MAX = 2000
COMMENT_MAX = 500  # Score.comment


def score_field(criterion: Criterion, required: bool) -> forms.DecimalField:
    """A score of 0 to the criterion's maximum; every way of getting it wrong says the same."""
    message = gettext("Enter a score from 0 to %(max)s.") % {
        "max": plain_number(criterion.max_score)
    }
    return forms.DecimalField(
        label=criterion.name,
        required=required,
        min_value=Decimal(0),
        max_value=criterion.max_score,
        **SCORE,
        error_messages={
            code: message
            for code in (
                "invalid",
                "min_value",
                "max_value",
                "max_digits",
                "max_decimal_places",
                "max_whole_digits",
            )
        },
        widget=forms.NumberInput(
            attrs={
                "inputmode": "decimal",
                "step": "0.01",
                "min": "0",
                "max": plain_number(criterion.max_score),
                "class": "score-input",
            }
        ),
    )


def plain_number(value: Decimal) -> str:
    """20.00 -> "20", 7.50 -> "7.5"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


class ApplicationForm(ServiceErrorsMixin, forms.Form):
    """The summary, and per criterion of the organization's kind a self-assessed score and the
    evidence. Saving a draft takes blanks; submitting needs every score (the service says so
    too: here the message stands next to the criterion that lacks one)."""

    summary = forms.CharField(
        label=_("Summary of the organization's work"),
        max_length=SUMMARY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, criteria: list[Criterion], submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.attachment_errors = self.errors_apart.setdefault("attachments", [])
        self.criteria = criteria
        self.submitting = submitting
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = score_field(criterion, required=False)
            self.fields[f"evidence_{criterion.pk}"] = forms.CharField(
                label=_("Evidence"),
                max_length=EVIDENCE_MAX,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def rows(self) -> list[dict]:
        """One row per criterion for the template: the criterion and its two bound fields."""
        return [
            {
                "criterion": c,
                "max": plain_number(c.max_score),
                "score": self[f"score_{c.pk}"],
                "evidence": self[f"evidence_{c.pk}"],
            }
            for c in self.criteria
        ]

    def clean(self):
        data = super().clean()
        if self.submitting:
            for criterion in self.criteria:
                name = f"score_{criterion.pk}"
                if name not in self._errors and data.get(name) is None:
                    self.add_error(name, gettext("Give a self-assessed score before submitting."))
        return data

    def application_input(
        self, program, organization, attachments: list[UploadedFile]
    ) -> ApplicationInput:
        data = self.cleaned_data
        return ApplicationInput(
            program=program,
            organization=organization,
            summary=data["summary"].strip(),
            assessments=[
                AssessmentInput(c.pk, data[f"score_{c.pk}"], data[f"evidence_{c.pk}"])
                for c in self.criteria
            ],
            attachments=attachments,
        )


class ScoreSheetForm(ServiceErrorsMixin, forms.Form):
    """A reviewer's score for every criterion at the application's current stage, with an
    optional comment each."""

    def __init__(self, *args, criteria: list[Criterion], **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for criterion in criteria:
            self.fields[f"score_{criterion.pk}"] = score_field(criterion, required=True)
            self.fields[f"score_{criterion.pk}"].error_messages["required"] = gettext(
                "Give a score."
            )
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label=_("Comment"), max_length=COMMENT_MAX, required=False
            )

    def row(self, criterion: Criterion) -> dict:
        return {
            "score": self[f"score_{criterion.pk}"],
            "comment": self[f"comment_{criterion.pk}"],
        }

    def score_inputs(self) -> list[ScoreInput]:
        data = self.cleaned_data
        return [
            ScoreInput(c.pk, data[f"score_{c.pk}"], data[f"comment_{c.pk}"]) for c in self.criteria
        ]


class ReviewFilterForm(forms.Form):
    """The reviewer's list: program and status. A value that is not a choice is ignored."""

    program = forms.TypedChoiceField(label=_("Program"), coerce=int, required=False)
    status = forms.ChoiceField(label=_("Application status"), required=False)

    def __init__(self, *args, programs, statuses, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [("", _("Any"))] + [(p.pk, p.name) for p in programs]
        self.fields["status"].choices = [("", _("Any")), *statuses]

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        found = {}
        if data.get("program") not in (None, ""):
            found["program_id"] = data["program"]
        if data.get("status"):
            found["status"] = data["status"]
        return found
