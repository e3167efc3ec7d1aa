"""Bulletins as built (history is never rewritten) and ledger export jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Bulletin(models.Model):
    """The monthly compliance bulletin (组织生活月通报), kept as built: one per month."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    built_at = models.DateTimeField(_("built at"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("built by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    organization_count = models.PositiveIntegerField(_("organizations"), default=0)
    compliant_count = models.PositiveIntegerField(_("compliant organizations"), default=0)
    owed = models.PositiveIntegerField(_("activities owed"), default=0)
    held = models.PositiveIntegerField(_("activities held"), default=0)
    overdue_election_count = models.PositiveIntegerField(_("overdue elections"), default=0)
    # Problems (campaigns) past their deadline and not accepted at the end of the month.
    overdue_problem_count = models.PositiveIntegerField(_("overdue problems"), default=0)

    class Meta:
        verbose_name = _("monthly bulletin")
        verbose_name_plural = _("monthly bulletins")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="bulletin_month_first_day"),
        ]

    def __str__(self) -> str:
        return _("Bulletin %(month)s") % {"month": f"{self.month:%Y-%m}"}

    @property
    def compliance_rate(self) -> float | None:
        if not self.organization_count:
            return None
        return round(self.compliant_count / self.organization_count, 4)

    @property
    def completion_rate(self) -> float | None:
        return round(self.held / self.owed, 4) if self.owed else None


class BulletinUnitRow(models.Model):
    """A unit's line of the bulletin: its organizations' compliance, ranked."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("bulletin"), on_delete=models.CASCADE, related_name="unit_rows"
    )
    unit = models.ForeignKey(
        "branches.Unit",
        verbose_name=_("unit"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    unit_name = models.CharField(_("unit"), max_length=100)
    rank = models.PositiveIntegerField(_("rank"))
    organization_count = models.PositiveIntegerField(_("organizations"))
    compliant_count = models.PositiveIntegerField(_("compliant organizations"))
    owed = models.PositiveIntegerField(_("activities owed"))
    held = models.PositiveIntegerField(_("activities held"))
    compliance_rate = models.DecimalField(_("compliance rate"), max_digits=5, decimal_places=4)
    # The unit's problems overdue at the end of the month (its organizations', joint committees
    # included), and each of them as it stood: {"organization_name", "organization_code",
    # "category", "description", "severity", "deadline" (ISO date), "campaign", "group"}. Kept
    # on the line the page already reads, so the bulletin costs no query more to show them.
    overdue_problem_count = models.PositiveIntegerField(_("overdue problems"), default=0)
    overdue_problems = models.JSONField(_("overdue problems (list)"), default=list, blank=True)

    class Meta:
        verbose_name = _("bulletin unit line")
        verbose_name_plural = _("bulletin unit lines")
        ordering = ["bulletin", "rank", "unit_name"]
        indexes = [models.Index(fields=["bulletin", "unit"], name="bulletin_unit_idx")]

    def __str__(self) -> str:
        return f"{self.rank}. {self.unit_name}"


class BulletinRow(models.Model):
    """An organization's line: what it owed and held, what it missed, and its election."""

    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("bulletin"), on_delete=models.CASCADE, related_name="rows"
    )
    organization = models.ForeignKey(
        "branches.Organization",
        verbose_name=_("organization"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        "branches.Unit",
        verbose_name=_("unit"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    # Snapshots: the bulletin reads as it was published even after renames or deletions.
    organization_name = models.CharField(_("organization"), max_length=100)
    organization_code = models.CharField(_("organization code"), max_length=32)
    organization_kind = models.CharField(_("kind"), max_length=20)
    unit_name = models.CharField(_("unit"), max_length=100)
    owed = models.PositiveIntegerField(_("owed"))
    held = models.PositiveIntegerField(_("held"))
    missing = models.PositiveIntegerField(_("missing"))
    missing_detail = models.CharField(_("what was missed"), max_length=500, blank=True)
    election_due_on = models.DateField(_("next election due"), null=True, blank=True)
    election_overdue = models.BooleanField(_("election overdue"), default=False)
    # The organization's problems overdue at the end of the month (a group's on its branch's
    # line): how many, and each as "description（deadline）".
    overdue_problem_count = models.PositiveIntegerField(_("overdue problems"), default=0)
    overdue_problem_detail = models.CharField(
        _("overdue problems (what)"), max_length=500, blank=True
    )

    class Meta:
        verbose_name = _("bulletin line")
        verbose_name_plural = _("bulletin lines")
        ordering = ["bulletin", "unit_name", "organization_code"]
        indexes = [
            models.Index(fields=["bulletin", "organization"], name="bulletin_org_idx"),
            models.Index(fields=["bulletin", "missing"], name="bulletin_missing_idx"),
        ]

    def __str__(self) -> str:
        return self.organization_name

    @property
    def compliant(self) -> bool:
        return self.missing == 0


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Building")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


def export_path(instance: LedgerExport, filename: str) -> str:
    return f"exports/{instance.owner_id}/{instance.pk}/{filename}"


class LedgerExport(models.Model):
    """A large ledger built in the background; only its owner may download it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="ledger_exports",
    )
    ledger = models.CharField(_("ledger"), max_length=40)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        pgettext_lazy("export job", "status"),
        max_length=10,
        choices=ExportStatus.choices,
        default=ExportStatus.PENDING,
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, blank=True, max_length=255)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(
        _("queued at"), null=True, blank=True, help_text=_("When it was last sent to a worker.")
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger export")
        verbose_name_plural = _("ledger exports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExportStatus.values), name="export_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="export_owner_idx")]

    def __str__(self) -> str:
        return f"{self.ledger} #{self.pk}"

    @property
    def progress(self) -> int:
        """Percent done (0-100). 100 only once the file is stored."""
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_written * 100 / self.rows_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)
