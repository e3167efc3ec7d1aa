"""Pairings (结对共建): organ organizations paired with partners outside the organ tree under
schemes whose rules are data ("1+1" 好支部共建, "1+2" 邻里中心, 挂钩帮扶, 近邻党建, 联创).

A `Pairing` is one organ organization with one partner under one scheme. A scheme with several
organ organizations per partner ("1+2": two organ organizations help one community) has several
pairings on the same partner, each its organization's own: its needs, projects and help are
that organization's work, in its secretary's scope. The scheme's rule counts pairings per
partner and per organization (`pairings.rules`).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import Member, Organization, organization_kinds_valid

MONEY = {"max_digits": 14, "decimal_places": 2}


class PartnerKind(models.TextChoices):
    VILLAGE = "village", _("Village party organization")
    COMMUNITY = "community", _("Community party organization")
    NEIGHBOURHOOD_CENTRE = "neighbourhood_centre", _("Neighbourhood centre")
    ENTERPRISE = "enterprise", _("Enterprise")
    SCHOOL = "school", _("School")
    OTHER = "other", _("Other")


def partner_kinds_valid(value) -> None:
    from django.core.exceptions import ValidationError

    if not isinstance(value, list) or not value or any(v not in PartnerKind.values for v in value):
        raise ValidationError(_("Choose one or more partner kinds."))


class PartnerOrganization(models.Model):
    """A village, community, enterprise or school that organ organizations help: never part of
    the organ tree, never counted by the compliance engine."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=PartnerKind.choices)
    district = models.CharField(_("district or county"), max_length=50, blank=True)
    town = models.CharField(_("town or subdistrict"), max_length=50, db_index=True)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    situation = models.TextField(
        _("situation"),
        blank=True,
        help_text=_("What it lacks: weak leadership, old facilities, hardship (缺什么补什么)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner organization")
        verbose_name_plural = _("partner organizations")
        ordering = ["district", "town", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="partner_unique_in_town"),
            models.CheckConstraint(
                condition=Q(kind__in=PartnerKind.values), name="partner_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.town}{self.name}" if self.town else self.name


class Scheme(models.Model):
    """A pairing scheme and its rule, as data the portal checks."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    organization_kinds = models.JSONField(
        _("organ organization kinds"),
        default=list,
        validators=[organization_kinds_valid],
        help_text=_("Which organ organizations may pair under this scheme."),
    )
    partner_kinds = models.JSONField(
        _("partner kinds"),
        default=list,
        validators=[partner_kinds_valid],
        help_text=_("Which partners this scheme pairs with."),
    )
    universal = models.BooleanField(
        _("every organization of these kinds takes part"),
        default=False,
        help_text=_(
            "On: each organ organization of these kinds should have a pairing (the docking "
            "rate counts them all). Off: only those enrolled take part."
        ),
    )
    min_organizations_per_partner = models.PositiveSmallIntegerField(
        _("organ organizations per partner, at least"), default=1
    )
    max_organizations_per_partner = models.PositiveSmallIntegerField(
        _("organ organizations per partner, at most"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    max_partners_per_organization = models.PositiveSmallIntegerField(
        _("partners per organ organization, at most"),
        null=True,
        blank=True,
        help_text=_("Empty: no limit."),
    )
    min_projects_per_organization = models.PositiveSmallIntegerField(
        _("co-building projects each organ organization leads, at least"), default=0
    )
    member_pairs = models.BooleanField(
        _("members pair too"),
        default=False,
        help_text=_("Organ members pair with village members or key households."),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("pairing scheme")
        verbose_name_plural = _("pairing schemes")
        ordering = ["sort_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_organizations_per_partner__isnull=True)
                | Q(max_organizations_per_partner__gte=models.F("min_organizations_per_partner")),
                name="scheme_partner_range_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PairingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DOCKED = "docked", _("Docked")
    ENDED = "ended", _("Ended")


class PairingQuerySet(models.QuerySet):
    def current(self) -> PairingQuerySet:
        """Not ended: the pairings a scheme's rule counts."""
        return self.exclude(status=PairingStatus.ENDED)


class Pairing(models.Model):
    """One organ organization paired with one partner under a scheme."""

    scheme = models.ForeignKey(
        Scheme, on_delete=models.PROTECT, related_name="pairings", verbose_name=_("scheme")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="pairings",
        verbose_name=_("organ organization"),
    )
    partner = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="pairings",
        verbose_name=_("partner"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PairingStatus.choices, default=PairingStatus.PLANNED
    )
    started_on = models.DateField(_("started on"))
    docked_on = models.DateField(_("docked on"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    # A pairing its scheme's rule would refuse, made anyway by staff: the reason is kept and
    # the pairing is flagged in the lists.
    override_reason = models.CharField(
        _("reason for breaking the scheme's rule"), max_length=200, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["scheme", "organization__path", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "organization", "partner"], name="pairing_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PairingStatus.values), name="pairing_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=PairingStatus.DOCKED) | Q(docked_on__isnull=False),
                name="pairing_docked_has_date",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="pairing_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["scheme", "status"], name="pairing_scheme_status_idx"),
            models.Index(fields=["partner", "scheme"], name="pairing_partner_scheme_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} — {self.partner}（{self.scheme}）"

    @property
    def flagged(self) -> bool:
        return bool(self.override_reason)


class OnPairing(models.Model):
    """Something recorded on a pairing: it is its organization's (`accounts.access.in_scope`)."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, verbose_name=_("pairing"))

    class Meta:
        abstract = True

    @property
    def organization(self) -> Organization:
        return self.pairing.organization


class CounterpartKind(models.TextChoices):
    VILLAGE_MEMBER = "village_member", _("Village party member")
    KEY_HOUSEHOLD = "key_household", _("Key household")


class MemberPair(OnPairing):
    """An organ member paired with a village member or a key household."""

    # A member who leaves the roster takes their pairs along (a roster import deletes them).
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="pairs", verbose_name=_("organ member")
    )
    counterpart_kind = models.CharField(
        _("paired with"), max_length=20, choices=CounterpartKind.choices
    )
    counterpart_name = models.CharField(_("name"), max_length=50)
    note = models.CharField(_("note"), max_length=200, blank=True)
    started_on = models.DateField(_("started on"))

    class Meta:
        verbose_name = _("member pair")
        verbose_name_plural = _("member pairs")
        default_related_name = "member_pairs"
        ordering = ["pairing", "member__member_no", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "member", "counterpart_name"], name="member_pair_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member.name} — {self.counterpart_name}"


class Need(OnPairing):
    """A need found at the partner (缺什么补什么), closed when met."""

    description = models.CharField(_("need"), max_length=200)
    found_on = models.DateField(_("found on"))
    met_on = models.DateField(_("met on"), null=True, blank=True)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        default_related_name = "needs"
        ordering = ["pairing", "found_on", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def is_open(self) -> bool:
        return self.met_on is None


class Measure(models.Model):
    """A measure planned against a need."""

    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="measures", verbose_name=_("need")
    )
    description = models.CharField(_("measure"), max_length=200)
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["need", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def organization(self) -> Organization:
        return self.need.pairing.organization


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    UNDERWAY = "underway", _("Underway")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Project(OnPairing):
    """A co-building project (共建项目), led by the pairing's organ organization."""

    name = models.CharField(_("name"), max_length=100)
    budget = models.DecimalField(
        _("budget (yuan)"), **MONEY, default=0, validators=[MinValueValidator(0)]
    )
    started_on = models.DateField(_("started on"))
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("co-building project")
        verbose_name_plural = _("co-building projects")
        default_related_name = "projects"
        ordering = ["pairing", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=ProjectStatus.values), name="project_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("started_on")), name="project_due_after_start"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="project_status_due_idx")]

    def __str__(self) -> str:
        return self.name


class Milestone(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("project")
    )
    name = models.CharField(_("milestone"), max_length=100)
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["project", "due_on", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def organization(self) -> Organization:
        return self.project.pairing.organization


class HelpKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    FUNDS = "funds", _("Funds")
    GOODS = "goods", _("Goods")


class HelpRecord(OnPairing):
    """Help given under a pairing: a visit (who went, what was done, photos), funds (yuan) or
    goods (item, quantity in its unit of measure, value). A visit may also be its branch's
    主题党日: one filing, and `activity_record` is the record the compliance engine counts."""

    kind = models.CharField(_("kind"), max_length=10, choices=HelpKind.choices)
    date = models.DateField(_("date"))
    description = models.TextField(_("what was done"))
    participants = models.ManyToManyField(
        Member, blank=True, related_name="help_visits", verbose_name=_("who went")
    )
    others = models.CharField(_("others who went"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY, null=True, blank=True)
    item = models.CharField(_("item"), max_length=50, blank=True)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    unit_of_measure = models.CharField(_("unit of measure"), max_length=10, blank=True)
    value = models.DecimalField(_("value (yuan)"), **MONEY, null=True, blank=True)
    activity_record = models.OneToOneField(
        "branches.ActivityRecord",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="help_record",
        verbose_name=_("counted as activity record"),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed by"),
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("help record")
        verbose_name_plural = _("help records")
        default_related_name = "help_records"
        ordering = ["-date", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=HelpKind.values), name="help_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=HelpKind.FUNDS) | Q(amount__gt=0), name="help_funds_amount"
            ),
            models.CheckConstraint(
                condition=~Q(kind=HelpKind.GOODS)
                | (
                    Q(quantity__gt=0)
                    & ~Q(item="")
                    & ~Q(unit_of_measure="")
                    & (Q(value__isnull=True) | Q(value__gte=0))
                ),
                name="help_goods_complete",
            ),
            models.CheckConstraint(
                condition=Q(kind=HelpKind.VISIT) | Q(activity_record__isnull=True),
                name="help_only_visits_count_as_activity",
            ),
        ]
        indexes = [
            models.Index(fields=["pairing", "kind", "date"], name="help_pairing_kind_date_idx"),
            models.Index(fields=["date"], name="help_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


def help_photo_path(instance: HelpPhoto, filename: str) -> str:
    from branches.models import generated_file_name

    return f"help/{instance.help_record.date:%Y/%m}/{generated_file_name(instance.content_type)}"


class HelpPhoto(models.Model):
    help_record = models.ForeignKey(
        HelpRecord, on_delete=models.CASCADE, related_name="photos", verbose_name=_("help record")
    )
    file = models.FileField(_("file"), upload_to=help_photo_path, max_length=255)
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
        return self.help_record.pairing.organization
