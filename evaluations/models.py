"""Evaluations (评比表彰): programs such as "双示范" demonstration sites, five-star branches and
brands, from application (申报) through staged review to award, re-review (复评复审) and
revocation (优进劣出)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import Organization, OrganizationKind

SCORE = {"max_digits": 6, "decimal_places": 2}


class ProgramKind(models.TextChoices):
    DEMONSTRATION_SITE = "demonstration_site", _("Demonstration site")
    DEMONSTRATION_POSITION = "demonstration_position", _("Demonstration position")
    FIVE_STAR = "five_star", _("Five-star branch")
    BRAND = "brand", _("Party-building brand")
    BASE = "base", _("Demonstration base")


class Program(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=ProgramKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    opens_on = models.DateField(_("applications open"))
    closes_on = models.DateField(_("applications close"))
    # {"committee": 10, "general_branch": 8, "branch": 90}: at most this many awards per kind.
    quota = models.JSONField(_("quota by organization kind"), default=dict, blank=True)
    title = models.CharField(
        _("title awarded"), max_length=100, help_text=_("E.g. 市级机关基层党建工作示范点.")
    )
    valid_years = models.PositiveSmallIntegerField(
        _("title valid for (years)"), default=3, validators=[MinValueValidator(1)]
    )
    trimmed_mean_from = models.PositiveSmallIntegerField(
        _("trimmed mean from this many reviewers"),
        default=5,
        help_text=_(
            "With this many reviewers or more, a stage drops the highest and lowest total."
        ),
    )
    reviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="reviewed_programs",
        verbose_name=_("assigned reviewers"),
        help_text=_("Inspectors who review this program (staff always may)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evaluation program")
        verbose_name_plural = _("evaluation programs")
        ordering = ["-year", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="program_window_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Evidence(models.TextChoices):
    """What the portal already knows, shown to reviewers beside the self-assessment."""

    NONE = "", _("None")
    ACTIVITY_SHARE = "activity_share", _("Share of 三会一课 held last year")
    ELECTION_ON_TIME = "election_on_time", _("Election on time")
    NO_OPEN_PROBLEMS = "no_open_problems", _("No open rectification problems")
    PAIRING_DOCKED = "pairing_docked", _("A pairing docked")


class Criterion(models.Model):
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("program")
    )
    organization_kind = models.CharField(
        _("organization kind"), max_length=20, choices=OrganizationKind.choices
    )
    name = models.CharField(_("criterion"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    weight = models.DecimalField(_("weight"), **SCORE, default=Decimal("1.00"))
    max_score = models.DecimalField(
        _("maximum score"), **SCORE, validators=[MinValueValidator(Decimal("0.01"))]
    )
    measure = models.CharField(
        _("bound to"), max_length=30, choices=Evidence.choices, blank=True, default=""
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["program", "organization_kind", "sort_order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(max_score__gt=0), name="criterion_max_positive"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    FIELD_VISIT = "field_visit", _("Field visit")
    COLLECTIVE_REVIEW = "collective_review", _("Collective review")
    PEER_COMPARISON = "peer_comparison", _("Peer comparison")
    ON_SITE_ASSESSMENT = "on_site_assessment", _("On-site assessment")


class Stage(models.Model):
    """A review stage; an application passes it when its result reaches the threshold."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="stages", verbose_name=_("program")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=StageKind.choices)
    name = models.CharField(_("name"), max_length=50)
    order = models.PositiveSmallIntegerField(_("order"))
    pass_threshold = models.DecimalField(
        _("pass threshold"),
        **SCORE,
        default=Decimal("60.00"),
        help_text=_("The stage's result (out of 100) needed to go on."),
    )

    class Meta:
        verbose_name = _("review stage")
        verbose_name_plural = _("review stages")
        ordering = ["program", "order"]
        constraints = [
            models.UniqueConstraint(fields=["program", "order"], name="stage_order_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    AWARDED = "awarded", _("Awarded")
    NOT_AWARDED = "not_awarded", _("Not awarded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Application(models.Model):
    """An organization's application (申报) to a program: one per organization per program."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="applications", verbose_name=_("program")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("organization"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.DRAFT,
    )
    stage = models.ForeignKey(
        Stage,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current stage"),
    )
    summary = models.TextField(_("summary"), blank=True)
    nominated = models.BooleanField(_("nominated by staff"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["program", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organization"], name="application_one_per_program"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["program", "status"], name="application_status_idx")]

    def __str__(self) -> str:
        return f"{self.organization}（{self.program}）"

    @property
    def reviewers(self):
        """The program's assigned reviewers (`accounts.access.assigned_reviewer`)."""
        return self.program.reviewers


class SelfAssessment(models.Model):
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="self_assessments",
        verbose_name=_("application"),
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("criterion")
    )
    score = models.DecimalField(_("self-assessed score"), **SCORE, null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)

    class Meta:
        verbose_name = _("self-assessment")
        verbose_name_plural = _("self-assessments")
        ordering = ["application", "criterion__sort_order", "criterion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "criterion"], name="self_assessment_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"

    @property
    def organization(self) -> Organization:
        return self.application.organization


def application_file_path(instance: ApplicationAttachment, filename: str) -> str:
    from branches.models import generated_file_name

    name = generated_file_name(instance.content_type)
    return f"applications/{instance.application.program_id}/{name}"


class ApplicationAttachment(models.Model):
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("application"),
    )
    file = models.FileField(_("file"), upload_to=application_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def organization(self) -> Organization:
        return self.application.organization


class ReviewSheet(models.Model):
    """One reviewer's scores of one application at one stage; the others' are shown to them
    only once theirs is submitted."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="sheets", verbose_name=_("application")
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="sheets", verbose_name=_("stage")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_sheets",
        verbose_name=_("reviewer"),
    )
    total = models.DecimalField(_("total (out of 100)"), **SCORE, null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review sheet")
        verbose_name_plural = _("review sheets")
        ordering = ["application", "stage__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage", "reviewer"], name="review_sheet_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} {self.stage} {self.reviewer}"

    @property
    def organization(self) -> Organization:
        return self.application.organization


class Score(models.Model):
    sheet = models.ForeignKey(
        ReviewSheet, on_delete=models.CASCADE, related_name="scores", verbose_name=_("review sheet")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("criterion")
    )
    score = models.DecimalField(_("score"), **SCORE)
    comment = models.CharField(_("comment"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        ordering = ["sheet", "criterion__sort_order", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="score_unique"),
            models.CheckConstraint(condition=Q(score__gte=0), name="score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"


class DesignationStatus(models.TextChoices):
    CURRENT = "current", _("Current")
    REVOKED = "revoked", _("Revoked")


class Designation(models.Model):
    """A title awarded (e.g. 示范点): kept in the history when revoked."""

    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="designations", verbose_name=_("program")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="designations",
        verbose_name=_("organization"),
    )
    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="designation",
        verbose_name=_("application"),
    )
    title = models.CharField(_("title"), max_length=100)
    awarded_on = models.DateField(_("awarded on"))
    valid_until = models.DateField(_("valid until"), db_index=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DesignationStatus.choices,
        default=DesignationStatus.CURRENT,
    )
    # Set by the daily beat task when the title comes due within a month (a re-review that
    # keeps the title clears it for the next term).
    re_review_listed_on = models.DateField(_("listed for re-review on"), null=True, blank=True)
    revoked_on = models.DateField(_("revoked on"), null=True, blank=True)
    revoke_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        ordering = ["-awarded_on", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organization"], name="designation_one_per_program"
            ),
            models.CheckConstraint(
                condition=~Q(status=DesignationStatus.REVOKED)
                | (Q(revoked_on__isnull=False) & ~Q(revoke_reason="")),
                name="designation_revoked_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.title}"


class ReReviewOutcome(models.TextChoices):
    KEPT = "kept", _("Kept")
    REVOKED = "revoked", _("Revoked")


class ReReview(models.Model):
    """A re-review (复评复审) of a designation: kept (valid for another term) or revoked."""

    designation = models.ForeignKey(
        Designation,
        on_delete=models.CASCADE,
        related_name="re_reviews",
        verbose_name=_("designation"),
    )
    due_on = models.DateField(_("due"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=ReReviewOutcome.choices)
    reason = models.CharField(_("reason"), max_length=300)
    decided_on = models.DateField(_("decided on"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("re-review")
        verbose_name_plural = _("re-reviews")
        ordering = ["designation", "-decided_on"]

    def __str__(self) -> str:
        return f"{self.designation} {self.get_outcome_display()}"

    @property
    def organization(self) -> Organization:
        return self.designation.organization
