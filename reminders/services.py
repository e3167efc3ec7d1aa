"""Writes of the reminders app: building reminders (the one home of the notices and e-mails
that tell secretaries what falls due) and delivering them.

- A reminder is one per organization, kind and period (a unique constraint): the builders
  insert with ignore_conflicts and fan out only what was not there before, so a beat that runs
  twice reminds once. The fan-out is itself idempotent (Notice and Delivery are unique per
  user/kind/key and per reminder/recipient/robot), so two workers racing still remind once.
- Each new reminder fans out: a portal notice (accounts.Notice) for every active secretary of
  the organization, always; an e-mail delivery for each of them with an address when
  NOTICE_EMAIL is on; a delivery for every active group robot of the organization, of an
  organization above it in the tree, or of a unit it belongs to (joint committees: each of
  their units).
- `deliver_due` sends the pending deliveries whose time has come, each on its own; a failure
  is recorded and retried with backoff (rules.RETRY_DELAYS), then left failed for staff.

Texts are gettext in the active language: the tasks run them in the portal's
(settings.LANGUAGE_CODE, zh-hans).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import access
from accounts.models import Notice, Role, User
from branches.compliance import compliance_due_in_month
from branches.models import Organization
from branches.periods import Period

from . import channels, rules, selectors
from .models import Channel, Delivery, Kind, Reminder, Status, Webhook, WebhookKind

log = logging.getLogger(__name__)

# How long a worker holds a delivery it claimed before another may try it (a killed worker's
# claim runs out).
CLAIM = datetime.timedelta(minutes=10)
# At most this many messages to one group robot per run (WeCom takes 20 a minute); the rest
# wait for the next run, a few minutes later.
PER_ROBOT_PER_RUN = 15
TEXT_MAX = 500


@dataclass(frozen=True)
class Draft:
    organization_id: int
    kind: str
    period: str
    text: str
    url: str = ""

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.organization_id, self.kind, self.period)


def _today() -> datetime.date:
    return timezone.localdate()  # Asia/Shanghai (TIME_ZONE)


def _organization_url(pk: int) -> str:
    return reverse("portal:organization", args=[pk])


def _problem_url(pk: int) -> str:
    return reverse("portal:problem", args=[pk])


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- building ------------------------------------------------------------------------------


def build_owed_reminders(today: datetime.date | None = None) -> list[Reminder]:
    """The 20th of the month (the crontab's day): each organization that still owes something
    this month (what falls due by the month's end, as the monthly bulletin counts it; groups
    inside their branch) gets one reminder listing what it owes. Returns the new ones."""
    today = today or _today()
    month = Period.containing("month", today)
    organizations = Organization.objects.judged_on_their_own()
    results = compliance_due_in_month(organizations, month, today=today)
    owing = {pk: r for pk, r in results.items() if r.missing}
    names = dict(
        Organization.objects.filter(pk__in=list(owing)).values_list("pk", "name") if owing else []
    )
    period = rules.owed_period(today)
    drafts = [
        Draft(
            pk,
            Kind.OWED,
            period,
            gettext("%(organization)s still owes this month (%(month)s): %(detail)s")
            % {
                "organization": names[pk],
                "month": month.label,
                "detail": result.missing_detail(),
            },
            _organization_url(pk),
        )
        for pk, result in owing.items()
    ]
    return issue(drafts)


def build_daily_reminders(
    today: datetime.date | None = None, kinds: Iterable[str] | None = None
) -> list[Reminder]:
    """Each morning: elections falling due within 90 days and overdue, titles due for
    re-review, problems whose deadline is within 7 days and problems overdue. `kinds` limits
    the build (the campaigns' overdue task asks for the overdue problems only). Returns the
    new reminders."""
    today = today or _today()
    wanted = set(kinds) if kinds is not None else set(DAILY_KINDS)
    drafts: list[Draft] = []
    for kind in DAILY_KINDS:
        if kind in wanted:
            drafts.extend(DAILY_KINDS[kind](today))
    return issue(drafts)


def remind_overdue_problems(today: datetime.date | None = None) -> list[Reminder]:
    """The overdue problems' reminders, right after `campaigns.services.mark_overdue` marked
    them (the daily build would find them too: the constraint keeps one)."""
    return build_daily_reminders(today, kinds=[Kind.PROBLEM_OVERDUE])


def _election_due(today: datetime.date) -> list[Draft]:
    return [
        Draft(
            row["pk"],
            Kind.ELECTION_DUE,
            rules.election_due_period(row["election_due_on"]),
            gettext("The term of %(organization)s ends on %(date)s: prepare its election.")
            % {"organization": row["name"], "date": row["election_due_on"].isoformat()},
            _organization_url(row["pk"]),
        )
        for row in selectors.elections_falling_due(today)
    ]


def _election_overdue(today: datetime.date) -> list[Draft]:
    return [
        Draft(
            row["pk"],
            Kind.ELECTION_OVERDUE,
            rules.election_overdue_period(today),
            gettext("The election of %(organization)s was due on %(date)s and is overdue.")
            % {"organization": row["name"], "date": row["election_due_on"].isoformat()},
            _organization_url(row["pk"]),
        )
        for row in selectors.elections_overdue(today)
    ]


def _re_review_due(today: datetime.date) -> list[Draft]:
    return [
        Draft(
            row["organization_id"],
            Kind.RE_REVIEW_DUE,
            rules.re_review_period(row["pk"], row["valid_until"]),
            gettext(
                "The title %(title)s of %(organization)s is valid until %(date)s: "
                "its re-review is due."
            )
            % {
                "title": row["title"],
                "organization": row["organization__name"],
                "date": row["valid_until"].isoformat(),
            },
            _organization_url(row["organization_id"]),
        )
        for row in selectors.titles_due_for_re_review(today)
    ]


def _problem_due(today: datetime.date) -> list[Draft]:
    return [
        Draft(
            row["organization_id"],
            Kind.PROBLEM_DUE,
            rules.problem_due_period(row["pk"], row["deadline"]),
            gettext("Rectification due by %(deadline)s: %(problem)s")
            % {"deadline": row["deadline"].isoformat(), "problem": _short(row["description"])},
            _problem_url(row["pk"]),
        )
        for row in selectors.problems_due_soon(today)
    ]


def _problem_overdue(today: datetime.date) -> list[Draft]:
    return [
        Draft(
            row["organization_id"],
            Kind.PROBLEM_OVERDUE,
            rules.problem_overdue_period(row["pk"]),
            gettext("Rectification overdue since %(deadline)s: %(problem)s")
            % {"deadline": row["deadline"].isoformat(), "problem": _short(row["description"])},
            _problem_url(row["pk"]),
        )
        for row in selectors.problems_overdue()
    ]


DAILY_KINDS = {
    Kind.ELECTION_DUE: _election_due,
    Kind.ELECTION_OVERDUE: _election_overdue,
    Kind.RE_REVIEW_DUE: _re_review_due,
    Kind.PROBLEM_DUE: _problem_due,
    Kind.PROBLEM_OVERDUE: _problem_overdue,
}


def issue(drafts: list[Draft]) -> list[Reminder]:
    """Insert the reminders not there yet (the database's constraint decides) and fan out the
    new ones. A constant number of queries however many organizations."""
    if not drafts:
        return []
    kinds = {d.kind for d in drafts}
    periods = {d.period for d in drafts}

    def existing() -> dict[tuple[int, str, str], int]:
        return {
            (org, kind, period): pk
            for pk, org, kind, period in Reminder.objects.filter(
                kind__in=kinds, period__in=periods
            ).values_list("pk", "organization_id", "kind", "period")
        }

    with transaction.atomic():
        before = existing()
        new = {d.key: d for d in drafts if d.key not in before}
        if not new:
            return []
        Reminder.objects.bulk_create(
            [
                Reminder(
                    organization_id=d.organization_id,
                    kind=d.kind,
                    period=d.period,
                    text=d.text[:TEXT_MAX],
                    url=d.url,
                )
                for d in new.values()
            ],
            ignore_conflicts=True,
        )
        made_ids = [pk for key, pk in existing().items() if key in new]
        made = list(Reminder.objects.filter(pk__in=made_ids).order_by("pk"))
        _fan_out(made)
    return made


def _fan_out(reminders: list[Reminder]) -> None:
    org_ids = {r.organization_id for r in reminders}
    secretaries: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(
        role=Role.SECRETARY, is_active=True, organization_id__in=org_ids
    ).order_by("pk"):
        secretaries[user.organization_id].append(user)

    Notice.objects.bulk_create(
        [
            Notice(
                user=user,
                kind=r.kind,
                key=rules.notice_key(r.kind, r.organization_id, r.period),
                text=r.text,
                url=r.url,
            )
            for r in reminders
            for user in secretaries.get(r.organization_id, [])
        ],
        ignore_conflicts=True,
    )

    now = timezone.now()
    deliveries = []
    if settings.NOTICE_EMAIL:
        deliveries += [
            Delivery(reminder=r, channel=Channel.EMAIL, recipient=user, next_attempt_at=now)
            for r in reminders
            for user in secretaries.get(r.organization_id, [])
            if user.email
        ]
    robots = _robots_for(org_ids)
    deliveries += [
        Delivery(reminder=r, channel=robot.kind, webhook=robot, next_attempt_at=now)
        for r in reminders
        for robot in robots.get(r.organization_id, [])
    ]
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def _robots_for(org_ids: set[int]) -> dict[int, list[Webhook]]:
    """The active group robots that hear about each organization: its own, those of the
    organizations above it, those of the units it belongs to. Three queries."""
    robots = list(Webhook.objects.filter(active=True).order_by("pk"))
    if not robots:
        return {}
    info = list(Organization.objects.filter(pk__in=org_ids).values("pk", "path", "unit_id"))
    units: dict[int, set[int]] = defaultdict(set)
    for row in info:
        units[row["pk"]].add(row["unit_id"])
    for org_id, unit_id in Organization.joint_units.through.objects.filter(
        organization_id__in=org_ids
    ).values_list("organization_id", "unit_id"):
        units[org_id].add(unit_id)
    found: dict[int, list[Webhook]] = {}
    for row in info:
        line = {int(p) for p in row["path"].strip("/").split("/") if p}  # itself and above
        found[row["pk"]] = [
            robot
            for robot in robots
            if robot.organization_id in line or robot.unit_id in units[row["pk"]]
        ]
    return found


# --- delivering ----------------------------------------------------------------------------


def deliver_due(now: datetime.datetime | None = None) -> dict[str, int]:
    """Send every pending delivery whose time has come, each in its own try: a failure is
    recorded (attempts, last_error) and retried later with backoff, then left failed (at once
    when trying again cannot help: `channels.Undeliverable`); it never blocks the others.

    Each row is claimed by a conditional update before it is sent, so two workers never send
    the same one; the claim runs CLAIM from the moment it is taken (not from the start of the
    run, which a slow run leaves behind). A group robot that fails is not tried again in the
    same run: its other messages wait for the next run, no attempt counted, so a robot that
    hangs costs one timeout per run, not one per message. A delivery gone between the claim
    and the send (its organization deleted) is passed over. Returns {"sent": n, "failed": n,
    "retry": n}."""
    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "webhook_id")
    )
    outcome = {"sent": 0, "failed": 0, "retry": 0}
    per_robot: dict[int, int] = defaultdict(int)
    failing_robots: set[int] = set()
    for pk, webhook_id in due:
        if webhook_id is not None:
            if per_robot[webhook_id] >= PER_ROBOT_PER_RUN or webhook_id in failing_robots:
                continue  # the next run takes it
            per_robot[webhook_id] += 1
        claimed = Delivery.objects.filter(
            pk=pk, status=Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=max(now, timezone.now()) + CLAIM)
        if not claimed:
            continue  # another worker has it
        delivery = (
            Delivery.objects.select_related("reminder", "recipient", "webhook")
            .filter(pk=pk)
            .first()
        )
        if delivery is None:
            continue  # deleted since (its reminder's organization, its robot)
        try:
            _send(delivery)
        except Exception as exc:  # noqa: BLE001 (one failed delivery never blocks the others)
            log.warning("delivery %s failed: %s", pk, exc)
            if webhook_id is not None:
                failing_robots.add(webhook_id)
            attempts = delivery.attempts + 1
            retry_at = (
                None
                if isinstance(exc, channels.Undeliverable)
                else rules.next_attempt_after(attempts, now)
            )
            Delivery.objects.filter(pk=pk).update(
                attempts=attempts,
                # A robot's answer may hold NUL, which PostgreSQL refuses: that would stop the run.
                last_error=channels.printable(f"{type(exc).__name__}: {exc}")[:500],
                status=Status.PENDING if retry_at else Status.FAILED,
                next_attempt_at=retry_at,
            )
            outcome["retry" if retry_at else "failed"] += 1
        else:
            Delivery.objects.filter(pk=pk).update(
                attempts=delivery.attempts + 1,
                status=Status.SENT,
                sent_at=timezone.now(),
                next_attempt_at=None,
                last_error="",
            )
            outcome["sent"] += 1
    return outcome


def _absolute(url: str) -> str:
    base = settings.PORTAL_URL
    return f"{base.rstrip('/')}{url}" if base and url else ""


def _send(delivery: Delivery) -> None:
    reminder = delivery.reminder
    title = Kind(reminder.kind).label
    link = _absolute(reminder.url)
    if delivery.channel == Channel.EMAIL:
        recipient = delivery.recipient
        address = recipient.email if recipient else ""
        if not address:
            raise channels.Undeliverable("no e-mail address")
        if not recipient.is_active or recipient.organization_id != reminder.organization_id:
            # Switched off, or no longer this organization's secretary, since the reminder.
            raise channels.Undeliverable("the recipient is no longer the organization's")
        body = f"{reminder.text}\n\n{link}" if link else reminder.text
        channels.send_email(address, str(title), body)
        return
    robot = delivery.webhook
    if robot is None or not robot.active:
        raise channels.Undeliverable("the group robot is switched off")
    if robot.kind == WebhookKind.WECOM:
        channels.send_wecom(robot.url, str(title), reminder.text, link)
    else:
        channels.send_dingtalk(robot.url, robot.secret, str(title), reminder.text, link)


def retry_now(user: User, pks: Iterable[int]) -> int:
    """Staff's "retry now": the deliveries not yet sent go back to pending, due at once (a
    failed one gets another attempt). Returns how many."""
    access.require(user, "committee.admin", None, gettext("Only committee staff do this."))
    return (
        Delivery.objects.filter(pk__in=list(pks))
        .filter(Q(status=Status.PENDING) | Q(status=Status.FAILED))
        .update(status=Status.PENDING, next_attempt_at=timezone.now())
    )
