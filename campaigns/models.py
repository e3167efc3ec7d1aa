"""Campaigns and supervision (专项活动与督导): plans with targets counted by hand or live from the
portal's data, participation, theme-day campaigns, volunteer deployments, inspections with
their problem lists and rectification (整改), secretaries' annual reports (述职评议) and
key-task lists (重点任务清单)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import Member, Organization, Unit

MONEY = {"max_digits": 14, "decimal_places": 2}


class CampaignKind(models.TextChoices):
    PLAN = "plan", _("Plan")
    THEME_DAY = "theme_day", _("Theme-day campaign")
    VOLUNTEER = "volunteer", _("Volunteer deployment")
    STUDY = "study", _("Study campaign")
    INSPECTION = "inspection", _("Inspection campaign")


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CampaignKind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    owner = models.CharField(_("led by"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    # A theme-day campaign: every branch holds a 主题党日 on this topic in this month; a
    # record tagged with the campaign is the branch's participation.
    topic = models.CharField(_("theme-day topic"), max_length=200, blank=True)
    theme_month = models.DateField(
        _("theme-day month"), null=True, blank=True, help_text=_("Any day of the month.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_period_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=CampaignKind.values), name="campaign_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TargetSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    FIVE_STAR_AWARDED = "five_star_awarded", _("Five-star branches awarded this year")
    MEMBERS_REGISTERED = "members_registered", _("Members registered at their community")
    PAIRINGS_DOCKED = "pairings_docked", _("Pairings docked")
    THEME_DAYS_ON_TOPIC = "theme_days_on_topic", _("Theme days held on the campaign's topic")


class Target(models.Model):
    """An indicator with its goal; progress by hand, or live from the portal's data."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="targets", verbose_name=_("campaign")
    )
    indicator = models.CharField(_("indicator"), max_length=100)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=10)
    goal = models.DecimalField(
        _("goal"), max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )
    source = models.CharField(
        _("counted from"), max_length=30, choices=TargetSource.choices, default=TargetSource.MANUAL
    )
    manual_progress = models.DecimalField(
        _("progress entered"), max_digits=14, decimal_places=2, default=0
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["campaign", "sort_order", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(goal__gte=0), name="target_goal_not_negative"),
            models.CheckConstraint(
                condition=Q(manual_progress__gte=0), name="target_progress_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.indicator


class Participation(models.Model):
    """An organization's part in a campaign: members taking part, money and goods."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=_("campaign"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("organization"),
    )
    members = models.PositiveIntegerField(_("members taking part"), default=0)
    money = models.DecimalField(_("money (yuan)"), **MONEY, default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["campaign", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization"], name="participation_unique"
            ),
            models.CheckConstraint(condition=Q(money__gte=0), name="participation_money"),
        ]

    def __str__(self) -> str:
        return f"{self.organization}（{self.campaign}）"


class ParticipationGoods(models.Model):
    participation = models.ForeignKey(
        Participation,
        on_delete=models.CASCADE,
        related_name="goods",
        verbose_name=_("participation"),
    )
    item = models.CharField(_("item"), max_length=50)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    unit_of_measure = models.CharField(_("unit of measure"), max_length=10)
    value = models.DecimalField(_("value (yuan)"), **MONEY, default=0)

    class Meta:
        verbose_name = _("goods")
        verbose_name_plural = _("goods")
        ordering = ["participation", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="goods_quantity_positive"),
            models.CheckConstraint(condition=Q(value__gte=0), name="goods_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.quantity}{self.unit_of_measure}"

    @property
    def organization(self) -> Organization:
        return self.participation.organization


class CampaignActivity(models.Model):
    """An activity record tagged with a campaign: the branch's participation in a theme-day
    campaign, filed once."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="activities", verbose_name=_("campaign")
    )
    record = models.ForeignKey(
        "branches.ActivityRecord",
        on_delete=models.CASCADE,
        related_name="campaign_tags",
        verbose_name=_("activity record"),
    )

    class Meta:
        verbose_name = _("tagged activity record")
        verbose_name_plural = _("tagged activity records")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "record"], name="campaign_activity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: {self.record}"

    @property
    def organization(self) -> Organization:
        return self.record.organization


# --- volunteer deployments ------------------------------------------------------------------


class VolunteerTeam(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="teams", verbose_name=_("campaign")
    )
    name = models.CharField(_("team"), max_length=50)

    class Meta:
        verbose_name = _("volunteer team")
        verbose_name_plural = _("volunteer teams")
        ordering = ["campaign", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="team_unique")]

    def __str__(self) -> str:
        return self.name


class VolunteerBatch(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="batches", verbose_name=_("campaign")
    )
    number = models.PositiveSmallIntegerField(_("batch"))
    place = models.CharField(_("where"), max_length=100)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to"))

    class Meta:
        verbose_name = _("volunteer batch")
        verbose_name_plural = _("volunteer batches")
        ordering = ["campaign", "number"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="batch_unique"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="batch_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} #{self.number}"


class Deployment(models.Model):
    """A member sent with a team in a batch."""

    batch = models.ForeignKey(
        VolunteerBatch,
        on_delete=models.CASCADE,
        related_name="deployments",
        verbose_name=_("batch"),
    )
    team = models.ForeignKey(
        VolunteerTeam, on_delete=models.CASCADE, related_name="deployments", verbose_name=_("team")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="deployments", verbose_name=_("member")
    )

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.UniqueConstraint(fields=["batch", "member"], name="deployment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.batch}"


# --- inspections, problems and rectification --------------------------------------------------


class InspectionGroup(models.Model):
    """An inspection group (督导组) of staff and inspectors, and where it goes."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="groups", verbose_name=_("campaign")
    )
    name = models.CharField(_("name"), max_length=50)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="inspection_groups", verbose_name=_("members")
    )
    units = models.ManyToManyField(
        Unit, blank=True, related_name="inspection_groups", verbose_name=_("units visited")
    )
    towns = models.CharField(_("towns visited"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("inspection group")
        verbose_name_plural = _("inspection groups")
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "name"], name="inspection_group_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.name}"


class VisitMethod(models.TextChoices):
    LISTEN = "listen", _("Listen")
    LOOK = "look", _("Look")
    CHECK = "check", _("Check")
    VISIT = "visit", _("Visit")


class VisitLog(models.Model):
    """听、看、查、访: what the group did where."""

    group = models.ForeignKey(
        InspectionGroup, on_delete=models.CASCADE, related_name="visits", verbose_name=_("group")
    )
    date = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=VisitMethod.choices)
    place = models.CharField(_("place"), max_length=100)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("visit log")
        verbose_name_plural = _("visit logs")
        ordering = ["group", "-date", "pk"]

    def __str__(self) -> str:
        return f"{self.date} {self.place}"


class Assessment(models.TextChoices):
    GOOD = "good", _("Good")
    FAIRLY_GOOD = "fairly_good", _("Fairly good")
    AVERAGE = "average", _("Average")
    POOR = "poor", _("Poor")


class AnnualReport(models.Model):
    """A secretary's annual report (述职评议) and the committee's assessment."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="annual_reports",
        verbose_name=_("organization"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    report = models.TextField(_("report"))
    assessment = models.CharField(
        _("assessment"), max_length=20, choices=Assessment.choices, blank=True
    )
    assessed_on = models.DateField(_("assessed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        ordering = ["-year", "organization__path"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="annual_report_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}"


class Severity(models.TextChoices):
    MINOR = "minor", _("Minor")
    NORMAL = "normal", _("Normal")
    SERIOUS = "serious", _("Serious")


class ProblemState(models.TextChoices):
    OPEN = "open", _("Open")
    RECTIFYING = "rectifying", _("Rectifying")
    SUBMITTED = "submitted", _("Submitted for acceptance")
    ACCEPTED = "accepted", _("Accepted")
    SENT_BACK = "sent_back", _("Sent back")


class ProblemQuerySet(models.QuerySet):
    def unresolved(self) -> ProblemQuerySet:
        return self.exclude(state=ProblemState.ACCEPTED)

    def marked_overdue(self) -> ProblemQuerySet:
        """Unresolved, and marked overdue by the daily task (`services.mark_overdue`)."""
        return self.unresolved().filter(overdue_since__isnull=False)


class Problem(models.Model):
    """A problem found (问题清单) by an inspection group or in an annual report, owned by the
    responsible organization until its rectification is accepted."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="problems",
        verbose_name=_("responsible organization"),
    )
    group = models.ForeignKey(
        InspectionGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
        verbose_name=_("inspection group"),
    )
    annual_report = models.ForeignKey(
        AnnualReport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="problems",
        verbose_name=_("annual report"),
    )
    category = models.CharField(_("category"), max_length=50)
    description = models.TextField(_("problem"))
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.NORMAL
    )
    found_on = models.DateField(_("found on"))
    deadline = models.DateField(_("rectify by"))
    evidence = models.TextField(_("evidence"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ProblemState.choices, default=ProblemState.OPEN
    )
    # The day the daily task found it past its deadline (Asia/Shanghai); kept after acceptance
    # as the record that it was late.
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ProblemQuerySet.as_manager()

    class Meta:
        verbose_name = _("problem")
        verbose_name_plural = _("problems")
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("found_on")), name="problem_deadline_after_found"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ProblemState.values), name="problem_state_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "deadline"], name="problem_state_deadline_idx"),
        ]

    def __str__(self) -> str:
        return self.description[:40]

    @property
    def inspectors(self):
        """The group's members (`accounts.access.in_inspection_group`); none without a group."""
        return self.group.members.all() if self.group_id else None


class Rectification(models.Model):
    """The responsible organization's answer: measures taken and evidence, photos included."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="answers", verbose_name=_("problem")
    )
    measures = models.TextField(_("measures taken"))
    evidence = models.TextField(_("evidence"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["problem", "submitted_at"]

    def __str__(self) -> str:
        return self.measures[:40]

    @property
    def organization(self) -> Organization:
        return self.problem.organization


def rectification_photo_path(instance: RectificationPhoto, filename: str) -> str:
    from branches.models import generated_file_name

    return (
        f"rectification/{instance.answer.problem_id}/{generated_file_name(instance.content_type)}"
    )


class RectificationPhoto(models.Model):
    answer = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="photos", verbose_name=_("answer")
    )
    file = models.FileField(_("file"), upload_to=rectification_photo_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def organization(self) -> Organization:
        return self.answer.problem.organization


class ProblemEvent(models.Model):
    """The history of a problem: every move of its state, by whom, when, why."""

    problem = models.ForeignKey(
        Problem, on_delete=models.CASCADE, related_name="events", verbose_name=_("problem")
    )
    from_state = models.CharField(
        _("from"), max_length=20, choices=ProblemState.choices, blank=True
    )
    to_state = models.CharField(_("to"), max_length=20, choices=ProblemState.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("problem event")
        verbose_name_plural = _("problem events")
        ordering = ["problem", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


# --- key-task lists -----------------------------------------------------------------------------


class KeyTask(models.Model):
    """A key task (重点任务) of a campaign's list, with its measures."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="key_tasks", verbose_name=_("campaign")
    )
    title = models.CharField(_("task"), max_length=200)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("key task")
        verbose_name_plural = _("key tasks")
        ordering = ["campaign", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.title


class KeyMeasure(models.Model):
    task = models.ForeignKey(
        KeyTask, on_delete=models.CASCADE, related_name="measures", verbose_name=_("task")
    )
    description = models.CharField(_("measure"), max_length=300)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="key_measures",
        verbose_name=_("owner organization"),
    )
    deadline = models.DateField(_("deadline"))
    progress = models.TextField(_("progress notes"), blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("key measure")
        verbose_name_plural = _("key measures")
        ordering = ["task", "deadline", "pk"]

    def __str__(self) -> str:
        return self.description
