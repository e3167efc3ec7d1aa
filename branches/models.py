"""The organ tree: units, party organizations, their terms, and members."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .dates import add_months


class Unit(models.Model):
    """An organ unit (机关单位), e.g. 市统计局: hosts one or more party organizations."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("organ unit")
        verbose_name_plural = _("organ units")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class OrganizationKind(models.TextChoices):
    COMMITTEE = "committee", _("Party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    BRANCH = "branch", _("Party branch")
    GROUP = "group", _("Party group")


# Which kinds may sit directly under which (None: a root under the committee itself).
ALLOWED_PARENT_KINDS: dict[str, set[str | None]] = {
    OrganizationKind.COMMITTEE: {None, OrganizationKind.COMMITTEE},
    OrganizationKind.GENERAL_BRANCH: {OrganizationKind.COMMITTEE},
    OrganizationKind.BRANCH: {None, OrganizationKind.COMMITTEE, OrganizationKind.GENERAL_BRANCH},
    OrganizationKind.GROUP: {OrganizationKind.BRANCH},
}


class HostType(models.TextChoices):
    ORGAN = "organ", _("Government organ")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    ENTERPRISE = "enterprise", _("State-owned enterprise")


PATH_STEP = 8  # "0000123/": 7 digits and a slash, so ordering by path keeps the tree order


def _path_of(organization: Organization | int) -> str | models.Subquery:
    """An organization's tree path: its own, or a subquery when only the id is at hand (the
    caller's query stays one SQL statement, and an unknown id matches nothing)."""
    if isinstance(organization, Organization):
        return organization.path
    return models.Subquery(Organization.objects.filter(pk=organization).values("path")[:1])


class OrganizationQuerySet(models.QuerySet):
    def subtree_of(self, organization: Organization | int) -> OrganizationQuerySet:
        """The organization and everything under it (the one home of "and all under it")."""
        return self.filter(path__startswith=_path_of(organization))

    def of_unit(self, unit: Unit | int) -> OrganizationQuerySet:
        """The organizations that belong to a unit: its own, and the joint committees that span
        it (`joint_units`). The one home of "belongs to a unit" (filters, counts, ledgers).

        A subquery, not an OR over the many-to-many join, which would repeat rows.
        """
        unit_id = unit.pk if isinstance(unit, Unit) else unit
        joint = Organization.joint_units.through.objects.filter(unit_id=unit_id)
        return self.filter(Q(unit_id=unit_id) | Q(pk__in=joint.values("organization_id")))

    def judged_on_their_own(self) -> OrganizationQuerySet:
        """The organizations with a compliance line of their own (the bulletin, the compliance
        ledger, the dashboard, the reminders): a group is judged inside its branch's line (the
        党小组会 rolled up), never on its own."""
        return self.exclude(kind=OrganizationKind.GROUP)

    def holding_members(self) -> OrganizationQuerySet:
        return self.filter(kind__in=[OrganizationKind.BRANCH, OrganizationKind.GROUP])


class Organization(models.Model):
    """A party organization: 党委 > 党总支 > 党支部 > 党小组, stored as a materialized path."""

    code = models.CharField(
        _("organization code"),
        max_length=32,
        unique=True,
        help_text=_("Unique code used in rosters and imports."),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    host_type = models.CharField(
        _("host type"), max_length=20, choices=HostType.choices, default=HostType.ORGAN
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="organizations"
    )
    joint_units = models.ManyToManyField(
        Unit,
        verbose_name=_("other units (joint committee)"),
        related_name="joint_organizations",
        blank=True,
        help_text=_("For a joint committee: the other units it spans."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
    )
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    secretary = models.ForeignKey(
        "Member",
        verbose_name=_("secretary"),
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()
    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("party organization")
        verbose_name_plural = _("party organizations")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values), name="organization_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(host_type__in=HostType.values), name="organization_host_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")),
                name="organization_not_own_parent",
            ),
            # The parent's kind is checked by database triggers (see migration 0002).
            models.CheckConstraint(
                condition=~Q(kind__in=[OrganizationKind.GROUP, OrganizationKind.GENERAL_BRANCH])
                | Q(parent__isnull=False),
                name="organization_group_has_parent",
            ),
        ]
        indexes = [models.Index(fields=["unit", "kind"], name="org_unit_kind_idx")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def build_path(parent_path: str, pk: int) -> str:
        return f"{parent_path}{pk:07d}/"

    @property
    def term_years_default(self) -> int:
        return settings.TERM_YEARS_BY_KIND.get(self.kind, 3)

    @property
    def is_joint(self) -> bool:
        return bool(self.pk) and self.joint_units.exists()

    @property
    def holds_members(self) -> bool:
        return self.kind in (OrganizationKind.BRANCH, OrganizationKind.GROUP)

    def clean(self) -> None:
        parent_kind = self.parent.kind if self.parent_id else None
        allowed = ALLOWED_PARENT_KINDS.get(self.kind, set())
        if parent_kind not in allowed:
            names = "、".join(str(OrganizationKind(k).label) for k in allowed if k) or "—"
            raise ValidationError(
                {
                    "parent": _("A %(kind)s must sit under: %(allowed)s.")
                    % {"kind": self.get_kind_display(), "allowed": names}
                }
            )
        if self.pk and self.parent_id and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("An organization cannot sit under itself.")})
        if self.secretary_id and self.holds_members:
            member = self.secretary
            if self.kind == OrganizationKind.BRANCH and member.branch_id != self.pk:
                raise ValidationError(
                    {"secretary": _("The secretary must be a member of this branch.")}
                )

    def save(self, *args, **kwargs) -> None:
        from .counts import deferred  # counts reads these models

        # Deferred: the counts are refreshed once the moved subtree's paths follow.
        with transaction.atomic(), deferred():
            parent_path = self.parent.path if self.parent_id else "/"
            if self.pk is None:
                super().save(*args, **kwargs)
                self.path = self.build_path(parent_path, self.pk)
                self.depth = self.path.count("/") - 2
                type(self).objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)
                return
            old_path = type(self).objects.filter(pk=self.pk).values_list("path", flat=True).first()
            self.path = self.build_path(parent_path, self.pk)
            self.depth = self.path.count("/") - 2
            super().save(*args, **kwargs)
            if old_path and old_path != self.path:
                # Moved: carry the whole subtree along in one UPDATE.
                delta = self.path.count("/") - old_path.count("/")
                type(self).objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(models.Value(self.path), Substr("path", len(old_path) + 1)),
                    depth=F("depth") + delta,
                )

    def ancestors(self) -> OrganizationQuerySet:
        ids = [int(p) for p in self.path.strip("/").split("/")[:-1] if p]
        return Organization.objects.filter(pk__in=ids)

    def current_term(self) -> Term | None:
        return self.terms.filter(ended_on__isnull=True).first()


class OrganizationCounts(models.Model):
    """An organization's counts, kept by `branches.counts.refresh_counts` after every write.

    Pages list and sort organizations by these numbers: counting members under each one on
    every request cost 72% of worker time at city scale (issue 9). A separate table, so that
    saving an organization never writes back numbers it read before a roster import.
    """

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, primary_key=True, related_name="counts"
    )
    members = models.PositiveIntegerField(default=0)  # members under it (a group: its own)
    full_members = models.PositiveIntegerField(default=0)
    committee = models.PositiveIntegerField(default=0)  # its own members holding a committee duty
    children = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("organization counts")
        verbose_name_plural = _("organization counts")

    def __str__(self) -> str:
        return str(self.organization_id)


class UnitCounts(models.Model):
    """A unit's organization and member counts (`OrganizationQuerySet.of_unit`), kept with
    `OrganizationCounts`."""

    unit = models.OneToOneField(
        Unit, on_delete=models.CASCADE, primary_key=True, related_name="counts"
    )
    organizations = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("unit counts")
        verbose_name_plural = _("unit counts")

    def __str__(self) -> str:
        return str(self.unit_id)


class Term(models.Model):
    """One elected term (届) of an organization, with its own length and approved extension."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.CASCADE, related_name="terms"
    )
    started_on = models.DateField(_("started on"))
    length_years = models.PositiveSmallIntegerField(
        _("length (years)"),
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        blank=True,
        help_text=_("Leave blank to use the default for the organization's kind."),
    )
    extension_months = models.SmallIntegerField(
        _("approved change (months)"),
        default=0,
        validators=[MinValueValidator(-12), MaxValueValidator(12)],
        help_text=_(
            "An election moved earlier (negative) or later (positive) with the approval of "
            "the level above; at most 12 months."
        ),
    )
    extension_approval = models.CharField(_("approval document"), max_length=200, blank=True)
    due_on = models.DateField(_("next election due"), editable=False, db_index=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["organization", "-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(ended_on__isnull=True),
                name="term_one_current_per_organization",
            ),
            models.CheckConstraint(
                condition=Q(extension_months__gte=-12) & Q(extension_months__lte=12),
                name="term_extension_at_most_a_year",
            ),
            models.CheckConstraint(
                condition=Q(length_years__gte=1) & Q(length_years__lte=10),
                name="term_length_sane",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="term_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.started_on:%Y-%m-%d}"

    @staticmethod
    def compute_due_on(started_on: datetime.date, length_years: int, extension_months: int):
        return add_months(started_on, length_years * 12 + extension_months)

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    def clean(self) -> None:
        if self.extension_months and not self.extension_approval:
            raise ValidationError(
                {"extension_approval": _("A moved election needs the approval of the level above.")}
            )

    def save(self, *args, **kwargs) -> None:
        if not self.length_years:
            self.length_years = self.organization.term_years_default
        self.due_on = self.compute_due_on(self.started_on, self.length_years, self.extension_months)
        super().save(*args, **kwargs)

    @property
    def is_overdue(self) -> bool:
        return self.is_current and self.due_on < timezone.localdate()


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class MemberStatus(models.TextChoices):
    FULL = "full", _("Full member")
    PROBATIONARY = "probationary", _("Probationary member")


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", _("Postgraduate")
    BACHELOR = "bachelor", _("Bachelor's degree")
    COLLEGE = "college", _("Junior college")
    SECONDARY = "secondary", _("Secondary school")
    BELOW = "below", _("Junior middle school or below")


COLLEGE_OR_ABOVE = [Education.POSTGRADUATE, Education.BACHELOR, Education.COLLEGE]


class PartyDuty(models.TextChoices):
    NONE = "", _("None")
    SECRETARY = "secretary", _("Secretary")
    DEPUTY_SECRETARY = "deputy_secretary", _("Deputy secretary")
    COMMITTEE_MEMBER = "committee_member", _("Committee member")
    GROUP_LEADER = "group_leader", _("Group leader")


COMMITTEE_DUTIES = [PartyDuty.SECRETARY, PartyDuty.DEPUTY_SECRETARY, PartyDuty.COMMITTEE_MEMBER]


def years_ago(on: datetime.date, years: int) -> datetime.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    """Whole years of age on a day (the one home of the rule: pages, API, ledgers)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def youth_born_after(on: datetime.date | None = None) -> datetime.date:
    """Youth (青年党员) are aged YOUTH_MAX_AGE (35) or under: born after the day 36 years
    before `on`. The one home of the rule: `Member.is_youth`, the query sets and filters."""
    return years_ago(on or timezone.localdate(), settings.YOUTH_MAX_AGE + 1)


class AgeBand(models.TextChoices):
    """The committee's age bands of members (the dashboard, the member list and the API)."""

    UP_TO_35 = "35", _("35 and under")
    FROM_36_TO_45 = "36-45", _("36 to 45 years")
    FROM_46_TO_55 = "46-55", _("46 to 55 years")
    FROM_56_TO_60 = "56-60", _("56 to 60 years")
    OVER_60 = "61", _("Over 60")


# (lowest age, highest age) of each band, in whole years (`age_on`).
AGE_BAND_YEARS = {
    AgeBand.UP_TO_35: (None, 35),
    AgeBand.FROM_36_TO_45: (36, 45),
    AgeBand.FROM_46_TO_55: (46, 55),
    AgeBand.FROM_56_TO_60: (56, 60),
    AgeBand.OVER_60: (61, None),
}


def age_band_condition(band: str, on: datetime.date | None = None) -> Q:
    """Members in the age band on a day, as a condition on `birth_date` (the one home of the
    bands: `MemberQuerySet.aged`, the dashboard's aggregate)."""
    on = on or timezone.localdate()
    low, high = AGE_BAND_YEARS[AgeBand(band)]
    condition = Q()
    if high is not None:  # at most `high` years old: born after the day `high + 1` years ago
        condition &= Q(birth_date__gt=years_ago(on, high + 1))
    if low is not None:  # at least `low` years old
        condition &= Q(birth_date__lte=years_ago(on, low))
    return condition


def fifty_years_condition(on: datetime.date | None = None) -> Q:
    """光荣在党50年: joined the party 50 years ago or more."""
    return Q(joined_on__lte=years_ago(on or timezone.localdate(), 50))


class MemberQuerySet(models.QuerySet):
    def aged(self, band: str, on: datetime.date | None = None) -> MemberQuerySet:
        return self.filter(age_band_condition(band, on))

    def youth(self, on: datetime.date | None = None) -> MemberQuerySet:
        """Members aged 35 or under on the given day."""
        return self.filter(birth_date__gt=youth_born_after(on))

    def not_youth(self, on: datetime.date | None = None) -> MemberQuerySet:
        return self.filter(birth_date__lte=youth_born_after(on))

    def under(self, organization: Organization | int) -> MemberQuerySet:
        """Members of an organization and of everything under it: a branch (or anything above
        it) counts its branches' members, a group its own.

        A group's members have its branch as theirs (a database trigger holds it), so only a
        group itself needs its members by group: one condition an index serves, where
        `branch IN subtree OR group IN subtree` read every member of the table."""
        if not isinstance(organization, Organization):
            organization = Organization.objects.filter(pk=organization).only("path", "kind").first()
            if organization is None:
                return self.none()
        if organization.kind == OrganizationKind.GROUP:
            return self.filter(group=organization)
        return self.filter(branch__in=Organization.objects.subtree_of(organization).values("pk"))

    def of_unit(self, unit: Unit | int) -> MemberQuerySet:
        """Members whose branch belongs to the unit (`OrganizationQuerySet.of_unit`)."""
        return self.filter(branch__in=Organization.objects.of_unit(unit).values("pk"))

    def fifty_years_in_party(self, on: datetime.date | None = None) -> MemberQuerySet:
        return self.filter(fifty_years_condition(on))

    def full(self) -> MemberQuerySet:
        return self.filter(status=MemberStatus.FULL)


class Member(models.Model):
    """A party member (党员). No national ID number is stored, on purpose."""

    member_no = models.CharField(_("member number"), max_length=32, unique=True)
    name = models.CharField(_("full name"), max_length=50, db_index=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    joined_on = models.DateField(_("joined the party on"))
    status = models.CharField(
        _("status"), max_length=20, choices=MemberStatus.choices, default=MemberStatus.FULL
    )
    full_member_on = models.DateField(_("full member since"), null=True, blank=True)
    education = models.CharField(_("education"), max_length=20, choices=Education.choices)
    position = models.CharField(_("position"), max_length=100, blank=True)
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("party branch"),
        on_delete=models.PROTECT,
        related_name="members",
        limit_choices_to={"kind": OrganizationKind.BRANCH},
    )
    group = models.ForeignKey(
        Organization,
        verbose_name=_("party group"),
        on_delete=models.SET_NULL,
        related_name="group_members",
        null=True,
        blank=True,
        limit_choices_to={"kind": OrganizationKind.GROUP},
    )
    duty = models.CharField(
        _("party duty"), max_length=20, choices=PartyDuty.choices, blank=True, default=""
    )
    is_party_worker = models.BooleanField(_("party affairs cadre"), default=False)
    community = models.CharField(
        _("registered at community"),
        max_length=100,
        blank=True,
        help_text=_("In-service member registered at their residential community."),
    )
    first_secretary_village = models.CharField(
        _("first secretary posting"),
        max_length=100,
        blank=True,
        help_text=_("Village where the member serves as first secretary."),
    )
    is_hardship = models.BooleanField(_("hardship member"), default=False)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])
    objects = MemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["branch", "member_no"]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="member_sex_valid"),
            models.CheckConstraint(
                condition=Q(status__in=MemberStatus.values), name="member_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(education__in=Education.values), name="member_education_valid"
            ),
            models.CheckConstraint(
                condition=Q(duty__in=PartyDuty.values), name="member_duty_valid"
            ),
            models.CheckConstraint(
                condition=Q(joined_on__gt=F("birth_date")), name="member_joined_after_birth"
            ),
            models.CheckConstraint(
                condition=Q(full_member_on__isnull=True) | Q(full_member_on__gte=F("joined_on")),
                name="member_full_after_joining",
            ),
            # Branch kind and group-inside-branch are checked by triggers (migration 0002).
        ]
        indexes = [
            models.Index(fields=["status"], name="member_status_idx"),
            models.Index(fields=["education"], name="member_education_idx"),
            models.Index(fields=["birth_date"], name="member_birth_idx"),
            # The compliance engine counts each branch's committee: one member in eight holds
            # a committee duty, so a partial index (95 ms of seq scan at province scale).
            models.Index(
                fields=["branch"],
                condition=Q(duty__in=COMMITTEE_DUTIES),
                name="member_committee_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.member_no}）"

    def age(self, on: datetime.date | None = None) -> int:
        return age_on(self.birth_date, on or timezone.localdate())

    @property
    def is_youth(self) -> bool:
        return self.birth_date > youth_born_after()

    @property
    def fifty_years_in_party(self) -> bool:
        return self.joined_on <= years_ago(timezone.localdate(), 50)

    @property
    def unit_id(self) -> int:
        return self.branch.unit_id

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.branch_id and self.branch.kind != OrganizationKind.BRANCH:
            errors["branch"] = _("A member must belong to a party branch.")
        if self.group_id:
            if self.group.kind != OrganizationKind.GROUP:
                errors["group"] = _("This is not a party group.")
            elif self.group.parent_id != self.branch_id:
                errors["group"] = _("The party group must be inside the member's branch.")
        if self.birth_date and self.joined_on and self.joined_on <= self.birth_date:
            errors["joined_on"] = _("The joining date must come after the birth date.")
        if self.joined_on and self.joined_on > timezone.localdate():
            errors["joined_on"] = _("The joining date cannot be in the future.")
        if self.full_member_on and self.joined_on and self.full_member_on < self.joined_on:
            errors["full_member_on"] = _("A member becomes full only after joining.")
        if errors:
            raise ValidationError(errors)


# --- Organizational life (三会一课 and the rest) -------------------------------------------


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


def organization_kinds_valid(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one kind of organization."))
    unknown = set(value) - set(OrganizationKind.values)
    if unknown:
        raise ValidationError(
            _("Unknown organization kinds: %(kinds)s") % {"kinds": ", ".join(sorted(unknown))}
        )


class ActivityType(models.Model):
    """A kind of organizational life (支部党员大会, 党课, 主题党日...). Data: staff add more."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    organization_kinds = models.JSONField(
        _("held by"),
        default=list,
        validators=[organization_kinds_valid],
        help_text=_("Kinds of organization that hold and file this activity."),
    )
    committee_only = models.BooleanField(
        _("committee meeting"),
        default=False,
        help_text=_(
            "Attended by the branch committee only; counts when more than half of the committee "
            "is present, and is owed only by branches that have elected a committee."
        ),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("activity type")
        verbose_name_plural = _("activity types")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


class ComplianceRuleQuerySet(models.QuerySet):
    def in_force_on(self, day: datetime.date) -> ComplianceRuleQuerySet:
        return self.filter(active_from__lte=day).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=day)
        )


class ComplianceRule(models.Model):
    """How often an activity must be held. A rule applies to the periods that start while it is
    in force: a change made in June applies from June, never backwards."""

    activity_type = models.ForeignKey(
        ActivityType,
        verbose_name=_("activity type"),
        on_delete=models.CASCADE,
        related_name="rules",
    )
    period = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    minimum_count = models.PositiveSmallIntegerField(
        _("minimum count"), default=1, validators=[MinValueValidator(1)]
    )
    organization_kinds = models.JSONField(
        _("applies to"), default=list, validators=[organization_kinds_valid]
    )
    active_from = models.DateField(_("in force from"))
    active_to = models.DateField(_("in force until"), null=True, blank=True)
    note = models.CharField(_("basis"), max_length=200, blank=True)

    objects = ComplianceRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["activity_type__sort_order", "active_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period__in=PeriodKind.values), name="rule_period_valid"
            ),
            models.CheckConstraint(condition=Q(minimum_count__gte=1), name="rule_minimum_positive"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                name="rule_active_range",
            ),
        ]

    def __str__(self) -> str:
        return _("%(type)s: at least %(n)d per %(period)s") % {
            "type": self.activity_type,
            "n": self.minimum_count,
            "period": self.get_period_display(),
        }

    def clean(self) -> None:
        if self.active_to and self.active_from and self.active_to < self.active_from:
            raise ValidationError({"active_to": _("The end must not come before the start.")})
        if not self.activity_type_id or not self.period or not self.active_from:
            return
        overlapping = ComplianceRule.objects.filter(
            activity_type_id=self.activity_type_id, period=self.period
        ).exclude(pk=self.pk)
        if self.active_to:
            overlapping = overlapping.filter(active_from__lte=self.active_to)
        overlapping = overlapping.filter(
            Q(active_to__isnull=True) | Q(active_to__gte=self.active_from)
        )
        if overlapping.exists():
            raise ValidationError(
                _(
                    "Another rule for this activity and period is in force at the same time. "
                    "End it first (set its last day), then add the new rule."
                )
            )


class ActivityRecord(models.Model):
    """One meeting, lecture or theme day that an organization held, filed by its secretary."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="activity_records",
    )
    activity_type = models.ForeignKey(
        ActivityType,
        verbose_name=_("activity type"),
        on_delete=models.SET_NULL,  # records outlive a deleted type; the name is kept below
        null=True,
        related_name="records",
    )
    type_name = models.CharField(_("type name"), max_length=50, editable=False)
    date = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=200)
    place = models.CharField(_("place"), max_length=100, blank=True)
    content = models.TextField(_("content"), blank=True)
    counts_for_compliance = models.BooleanField(
        _("counts for compliance"),
        default=True,
        help_text=_("False when a committee meeting lacked a quorum."),
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    present_count = models.PositiveIntegerField(_("present"), default=0, editable=False)
    excused_count = models.PositiveIntegerField(_("excused"), default=0, editable=False)
    absent_count = models.PositiveIntegerField(_("absent"), default=0, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("activity record")
        verbose_name_plural = _("activity records")
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "activity_type", "date"],
                name="activity_one_per_type_and_day",
                violation_error_message=_(
                    "This organization already filed this activity on that day."
                ),
            ),
        ]
        indexes = [
            # Lists sort by (date, id) newest first: with the id in the index, a page is read
            # in order, and a deep page's keys come from an index-only scan (430 ms to 40 ms at
            # OFFSET 317,150 at province scale; `config.pagination`).
            models.Index(fields=["organization", "date", "id"], name="activity_org_date_id_idx"),
            models.Index(fields=["activity_type", "date"], name="activity_type_date_idx"),
            models.Index(fields=["date", "id"], name="activity_date_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.type_name} {self.topic}"

    def clean(self) -> None:
        # The portal and API validate through services; this guards edits in the admin.
        errors = {}
        if self.date and self.date > timezone.localdate():
            errors["date"] = _("The date cannot be in the future.")
        if (
            self.activity_type_id
            and self.organization_id
            and self.organization.kind not in self.activity_type.organization_kinds
        ):
            errors["activity_type"] = _("A %(kind)s does not hold a %(type)s.") % {
                "kind": self.organization.get_kind_display(),
                "type": self.activity_type.name,
            }
        if errors:
            raise ValidationError(errors)

    @property
    def expected_count(self) -> int:
        return self.present_count + self.excused_count + self.absent_count

    @property
    def attendance_rate(self) -> float | None:
        """Share of those expected who came; None when nobody was expected."""
        expected = self.expected_count
        return round(self.present_count / expected, 4) if expected else None


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")


class Attendance(models.Model):
    record = models.ForeignKey(
        ActivityRecord,
        verbose_name=_("activity record"),
        on_delete=models.CASCADE,
        related_name="attendances",
        # The unique (record, member) index serves every lookup by record: a second index
        # on record alone cost 200 MB and 7 s of loading at province scale.
        db_index=False,
    )
    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="attendances"
    )
    status = models.CharField(
        _("attendance"),
        max_length=10,
        choices=AttendanceStatus.choices,
        default=AttendanceStatus.PRESENT,
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["record", "member"], name="attendance_once_per_member"),
            models.CheckConstraint(
                condition=Q(status__in=AttendanceStatus.values), name="attendance_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.status}"


# The extension a stored file gets from its sniffed type (`services.sniff_content_type`).
EXTENSION_OF_TYPE = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}


def generated_file_name(content_type: str) -> str:
    """A stored file's name: a random uuid and the extension of its sniffed type. Never the
    user's name (too long for the file system: 85 Chinese characters are 255 bytes) nor
    their extension (a PNG named magic.html is stored as .png): that one is kept as data."""
    return uuid.uuid4().hex + EXTENSION_OF_TYPE.get(content_type, ".bin")


def attachment_path(instance: Attachment, filename: str) -> str:
    """Where an attachment is stored; `filename`, the user's, is ignored."""
    day = timezone.localdate()
    name = generated_file_name(instance.content_type)
    return f"activity/{day:%Y/%m}/{instance.record_id}/{name}"


def pending_upload_path(instance: PendingUpload, filename: str) -> str:
    """Where a pending upload waits, apart per user; `filename`, the user's, is ignored."""
    return f"activity/pending/{instance.user_id}/{generated_file_name(instance.content_type)}"


class Attachment(models.Model):
    """A photo or the minutes (PDF) of an activity. Type and size are checked on upload."""

    record = models.ForeignKey(
        ActivityRecord,
        verbose_name=_("activity record"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
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
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class PendingUpload(models.Model):
    """A file received with a filing form that came back with errors, kept so that nobody has
    to take a photo again: it belongs to the user who sent it and to that form (`token`, a
    hidden field), and becomes an `Attachment` when the form is saved. Abandoned ones are
    deleted after ACTIVITY_PENDING_UPLOAD_HOURS (`services.clear_pending_uploads`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    token = models.CharField(_("form token"), max_length=32)
    file = models.FileField(_("file"), upload_to=pending_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pending upload")
        verbose_name_plural = _("pending uploads")
        ordering = ["pk"]
        indexes = [models.Index(fields=["user", "token"], name="pending_upload_form_idx")]

    def __str__(self) -> str:
        return self.original_name
