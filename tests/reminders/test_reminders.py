"""Reminders: built once per organization, kind and period however often the beat runs; each
fans out to the portal (a notice per secretary), e-mail and the group robots, and is sent once.

The robots are a local HTTP server (tests/reminders/conftest.py `robots`): what it received is
what WeCom and DingTalk would have."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import urllib.parse
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Notice, Role, User
from branches.compliance import compliance_due_in_month
from branches.models import Organization, OrganizationKind, Term
from branches.periods import Period
from campaigns import services as campaigns
from campaigns.models import Problem, ProblemState
from evaluations.models import Designation, Program
from reminders import channels, rules, services, tasks
from reminders.models import Channel, Delivery, Kind, Reminder, Status, Webhook
from tests.conftest import add_record

D = datetime.date
DAY = datetime.timedelta(days=1)
NOV_20 = D(2025, 11, 20)
SECRET = "SECtest0123456789"


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def email_on(settings):
    settings.NOTICE_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def secretary(username: str, organization: Organization, email: str = "") -> User:
    return User.objects.create(
        username=username, role=Role.SECRETARY, organization=organization, email=email
    )


def fulfil(organization: Organization, activity_types, month: Period) -> None:
    """Hold everything the organization owes in the month: it then owes nothing."""
    by_id = {t.pk: t for t in activity_types.values()}
    result = compliance_due_in_month(
        Organization.objects.filter(pk=organization.pk), month, today=month.end
    )[organization.pk]
    for obligation in result.obligations:
        for _ in range(obligation.missing):
            add_record(organization, by_id[obligation.activity_type_id], month.start)


def robots_for(tree, robots) -> tuple[Webhook, Webhook]:
    wecom = Webhook.objects.create(
        name="统计局企业微信群", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/wecom?key=k1"
    )
    dingtalk = Webhook.objects.create(
        name="统计局机关党委钉钉群",
        organization=tree.committee_a,
        kind="dingtalk",
        url=f"{robots.url}/dingtalk?access_token=t1",
        secret=SECRET,
    )
    return wecom, dingtalk


def set_due(organization: Organization, due_on: datetime.date) -> Term:
    term = Term.objects.create(organization=organization, started_on=due_on - 3 * 365 * DAY)
    Term.objects.filter(pk=term.pk).update(due_on=due_on)
    return term


def problem(organization, deadline, description="三会一课记录不全", state=ProblemState.OPEN):
    return Problem.objects.create(
        organization=organization,
        category="组织生活",
        description=description,
        found_on=deadline - 30 * DAY,
        deadline=deadline,
        state=state,
    )


# --- owed: built twice, reminded once ---------------------------------------------------------


def test_owed_built_twice_reminds_once_on_every_channel(
    tree, activity_types, secretary_a, secretary_b, robots, email_on
):
    secretary_a.email = "sec_a@example.invalid"
    secretary_a.save()
    second = secretary("sec_a2", tree.branch_a, "deputy@example.invalid")
    secretary("sec_a_noaddress", tree.branch_a)
    User.objects.create(
        username="gone", role=Role.SECRETARY, organization=tree.branch_a, is_active=False
    )
    fulfil(tree.branch_b, activity_types, Period.containing("month", NOV_20))
    wecom, dingtalk = robots_for(tree, robots)
    Webhook.objects.create(
        name="停用的群", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/off", active=False
    )

    first = services.build_owed_reminders(NOV_20)
    assert services.build_owed_reminders(NOV_20) == []  # built twice: nothing new

    reminder = Reminder.objects.get(organization=tree.branch_a)
    assert reminder in first
    assert (reminder.kind, reminder.period) == (Kind.OWED, "2025-11")
    assert "统计局第一党支部本月" in reminder.text
    assert "主题党日×1" in reminder.text and "党小组会×1" in reminder.text
    # the branch that holds everything owes nothing: no reminder, no notice
    assert not Reminder.objects.filter(organization=tree.branch_b).exists()
    assert not Notice.objects.filter(user=secretary_b).exists()
    # groups are judged inside their branch
    assert not Reminder.objects.filter(organization__kind=OrganizationKind.GROUP).exists()

    notices = Notice.objects.filter(kind=Kind.OWED, text=reminder.text)
    assert sorted(n.user.username for n in notices) == ["sec_a", "sec_a2", "sec_a_noaddress"]
    assert {n.key for n in notices} == {f"{tree.branch_a.pk}:2025-11"}
    mine = Delivery.objects.filter(reminder=reminder)
    assert sorted(
        mine.filter(channel=Channel.EMAIL).values_list("recipient__username", flat=True)
    ) == [
        "sec_a",
        "sec_a2",
    ]
    assert list(mine.filter(channel=Channel.WECOM).values_list("webhook", flat=True)) == [wecom.pk]
    assert list(mine.filter(channel=Channel.DINGTALK).values_list("webhook", flat=True)) == [
        dingtalk.pk
    ]

    services.deliver_due()
    services.deliver_due()
    tasks.deliver_due()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}
    robot_deliveries = Delivery.objects.filter(webhook__isnull=False).count()
    assert len(robots.received) == robot_deliveries  # each robot message sent once
    about_a = [r for r in robots.received if reminder.text in str(r.body)]
    assert sorted(r.path for r in about_a) == ["/dingtalk", "/wecom"]
    assert not robots.to("/off")
    to_a = [m for m in mail.outbox if m.body.startswith(reminder.text)]
    assert sorted(m.to[0] for m in to_a) == ["deputy@example.invalid", "sec_a@example.invalid"]
    assert to_a[0].subject == "本月尚未开展"
    assert second.notices.count() == 1


def test_no_email_deliveries_without_email_configured(tree, activity_types, secretary_a, settings):
    settings.NOTICE_EMAIL = False
    secretary_a.email = "sec_a@example.invalid"
    secretary_a.save()
    services.build_owed_reminders(NOV_20)
    assert Notice.objects.filter(user=secretary_a).count() == 1
    assert not Delivery.objects.exists()


# --- what the daily build selects ------------------------------------------------------------


def test_daily_build_selects_each_kind_at_its_threshold(tree, secretary_a, secretary_b):
    today = D(2026, 3, 10)
    set_due(tree.branch_a, today + 90 * DAY)  # within 90 days: due
    set_due(tree.branch_a2, today + 91 * DAY)  # 91: not yet
    set_due(tree.branch_b, today - DAY)  # overdue
    set_due(tree.committee_a, today)  # due today: due, not overdue
    program = Program.objects.create(
        name="2023年度示范点",
        kind="demonstration_site",
        year=2023,
        opens_on=D(2023, 3, 1),
        closes_on=D(2023, 4, 30),
        title="示范点",
    )
    title = Designation.objects.create(
        program=program,
        organization=tree.branch_a,
        title="示范点",
        awarded_on=D(2023, 6, 1),
        valid_until=today + 31 * DAY,
    )
    program2 = Program.objects.create(
        name="2024年度示范点",
        kind="demonstration_site",
        year=2024,
        opens_on=D(2024, 3, 1),
        closes_on=D(2024, 4, 30),
        title="示范点",
    )
    Designation.objects.create(  # a month and a day away: not yet
        program=program2,
        organization=tree.branch_a,
        title="示范点",
        awarded_on=D(2024, 6, 1),
        valid_until=today + 32 * DAY,
    )
    soon = problem(tree.branch_a, today + 7 * DAY, "七天内到期")
    problem(tree.branch_a, today + 8 * DAY, "八天后到期")
    problem(tree.branch_a, today + 2 * DAY, "已整改", state=ProblemState.ACCEPTED)
    late = problem(tree.branch_b, today - DAY, "已逾期")
    assert campaigns.mark_overdue(today) == 1  # marks, and the reminders app tells

    made = services.build_daily_reminders(today)
    assert services.build_daily_reminders(today) == []
    got = {(r.organization_id, r.kind, r.period) for r in Reminder.objects.all()}
    assert got == {
        (tree.branch_a.pk, Kind.ELECTION_DUE, (today + 90 * DAY).isoformat()),
        (tree.committee_a.pk, Kind.ELECTION_DUE, today.isoformat()),
        (tree.branch_b.pk, Kind.ELECTION_OVERDUE, "2026-03"),
        (tree.branch_a.pk, Kind.RE_REVIEW_DUE, f"{title.pk}:{title.valid_until.isoformat()}"),
        (tree.branch_a.pk, Kind.PROBLEM_DUE, f"{soon.pk}:{soon.deadline.isoformat()}"),
        (tree.branch_b.pk, Kind.PROBLEM_OVERDUE, str(late.pk)),
    }
    assert len(made) == 5  # the overdue problem's came with the marking
    texts = dict(Notice.objects.filter(user=secretary_a).values_list("kind", "text"))
    assert texts == {
        Kind.ELECTION_DUE: "统计局第一党支部本届任期将于2026-06-08届满，请做好换届准备。",
        Kind.RE_REVIEW_DUE: "统计局第一党支部的“示范点”称号有效期至2026-04-10，需进行复评复审。",
        Kind.PROBLEM_DUE: "整改期限2026-03-17即将到期：七天内到期",
    }
    notices_b = dict(Notice.objects.filter(user=secretary_b).values_list("kind", "text"))
    assert notices_b == {
        Kind.ELECTION_OVERDUE: "水务局第一党支部应于2026-03-09换届，现已逾期，请尽快换届。",
        Kind.PROBLEM_OVERDUE: "整改已于2026-03-09到期：已逾期",
    }
    # The overdue problem's notice keeps its old key (the problem's id).
    assert Notice.objects.get(user=secretary_b, kind=Kind.PROBLEM_OVERDUE).key == str(late.pk)

    # The next month the overdue election is reminded again (its period is the month); the
    # committee's, due on 10 March, is overdue by then.
    services.build_daily_reminders(D(2026, 4, 1))
    overdue = Reminder.objects.filter(kind=Kind.ELECTION_OVERDUE)
    assert set(overdue.values_list("organization", "period")) == {
        (tree.branch_b.pk, "2026-03"),
        (tree.branch_b.pk, "2026-04"),
        (tree.committee_a.pk, "2026-04"),
    }
    assert Reminder.objects.filter(kind=Kind.PROBLEM_OVERDUE).count() == 1


def test_a_problem_whose_deadline_moves_is_reminded_again(tree, secretary_a):
    today = D(2026, 3, 10)
    found = problem(tree.branch_a, today + 3 * DAY)
    services.build_daily_reminders(today)
    Problem.objects.filter(pk=found.pk).update(deadline=today + 6 * DAY)
    services.build_daily_reminders(today + DAY)
    services.build_daily_reminders(today + 2 * DAY)
    assert Reminder.objects.filter(kind=Kind.PROBLEM_DUE).count() == 2


# --- the robots' payloads --------------------------------------------------------------------


def test_robot_payloads_are_the_documented_shapes_and_dingtalk_is_signed(
    tree, secretary_a, robots, settings
):
    settings.PORTAL_URL = "https://dangjian.example.gov.cn"
    robots_for(tree, robots)
    found = problem(tree.branch_a, D(2026, 3, 12), "党费收缴台账缺失")
    before = int(timezone.now().timestamp() * 1000)
    services.build_daily_reminders(D(2026, 3, 10))
    services.deliver_due()
    after = int(timezone.now().timestamp() * 1000)

    [wecom] = robots.to("/wecom")
    text = "整改期限2026-03-12即将到期：党费收缴台账缺失"
    link = "https://dangjian.example.gov.cn" + reverse("portal:problem", args=[found.pk])
    content = f"**问题整改即将到期**\n\n{text}\n\n[{link}]({link})"
    assert wecom.body == {"msgtype": "markdown", "markdown": {"content": content}}
    assert wecom.query == {"key": ["k1"]}

    [dingtalk] = robots.to("/dingtalk")
    assert dingtalk.body == {
        "msgtype": "markdown",
        "markdown": {"title": "问题整改即将到期", "text": content},
    }
    assert dingtalk.query["access_token"] == ["t1"]
    [timestamp] = dingtalk.query["timestamp"]
    [sign] = dingtalk.query["sign"]  # parse_qs has undone the URL encoding
    assert before <= int(timestamp) <= after
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign == expected
    # and it was URL-encoded on the way (base64 has + / =)
    raw_sign = dict(p.split("=", 1) for p in dingtalk.raw_query.split("&"))["sign"]
    assert urllib.parse.unquote_plus(raw_sign) == expected


def test_dingtalk_without_a_secret_is_not_signed(tree, secretary_a, robots):
    Webhook.objects.create(
        name="钉钉群", unit=tree.unit_a, kind="dingtalk", url=f"{robots.url}/dingtalk"
    )
    problem(tree.branch_a, D(2026, 3, 12))
    services.build_daily_reminders(D(2026, 3, 10))
    services.deliver_due()
    [received] = robots.to("/dingtalk")
    assert received.query == {}


def test_dingtalk_sign_matches_the_documented_example():
    # string_to_sign = f"{timestamp}\n{secret}", HMAC-SHA256 keyed by the secret, base64, then
    # URL-encoded (quote_plus).
    digest = hmac.new(b"this is secret", b"1552920546388\nthis is secret", hashlib.sha256)
    expected = urllib.parse.quote_plus(base64.b64encode(digest.digest()))
    assert channels.dingtalk_sign("this is secret", 1552920546388) == expected
    url = channels.dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=x", "s", 1)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1&sign=")


# --- failures and retries --------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, error",
    [
        ((500, {"oops": True}), "HTTP 500"),
        ((200, {"errcode": 310000, "errmsg": "sign not match"}), "errcode 310000"),
    ],
)
def test_a_failing_robot_is_retried_with_backoff_and_blocks_nothing(
    tree, secretary_a, robots, email_on, answer, error
):
    secretary_a.email = "sec_a@example.invalid"
    secretary_a.save()
    robots_for(tree, robots)
    robots.answers["/dingtalk"] = answer
    problem(tree.branch_a, D(2026, 3, 12))
    services.build_daily_reminders(D(2026, 3, 10))
    now = timezone.now()
    assert services.deliver_due(now) == {"sent": 2, "failed": 0, "retry": 1}

    failing = Delivery.objects.get(channel=Channel.DINGTALK)
    assert failing.status == Status.PENDING and failing.attempts == 1
    assert error in failing.last_error
    assert failing.next_attempt_at == now + datetime.timedelta(minutes=5)
    assert Delivery.objects.get(channel=Channel.WECOM).status == Status.SENT
    assert Delivery.objects.get(channel=Channel.EMAIL).status == Status.SENT
    assert len(mail.outbox) == 1

    # Not before its time; then 30 minutes, 2 hours, then failed for good.
    assert services.deliver_due(now + datetime.timedelta(minutes=4)) == {
        "sent": 0,
        "failed": 0,
        "retry": 0,
    }
    waits = []
    at = now
    for _ in range(rules.MAX_ATTEMPTS - 1):
        at = Delivery.objects.get(pk=failing.pk).next_attempt_at
        services.deliver_due(at)
        following = Delivery.objects.get(pk=failing.pk).next_attempt_at
        waits.append(following - at if following else None)
    assert waits == [datetime.timedelta(minutes=30), datetime.timedelta(hours=2), None]
    failing.refresh_from_db()
    assert (failing.status, failing.attempts) == (Status.FAILED, rules.MAX_ATTEMPTS)
    assert len(robots.to("/dingtalk")) == rules.MAX_ATTEMPTS
    assert len(robots.to("/wecom")) == 1 and len(mail.outbox) == 1  # never sent again

    # Staff's "retry now": one more attempt, which succeeds once the robot answers.
    del robots.answers["/dingtalk"]
    staff = User.objects.create(username="staff2", role=Role.STAFF)
    assert services.retry_now(staff, [failing.pk]) == 1
    services.deliver_due()
    failing.refresh_from_db()
    assert failing.status == Status.SENT and failing.sent_at is not None


def test_a_robot_that_does_not_answer_is_a_recorded_failure(tree, secretary_a, email_on):
    Webhook.objects.create(
        name="关掉的服务器", unit=tree.unit_a, kind="wecom", url="http://127.0.0.1:9/wecom"
    )
    problem(tree.branch_a, D(2026, 3, 12))
    services.build_daily_reminders(D(2026, 3, 10))
    services.deliver_due()
    delivery = Delivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert "ConnectionError" in delivery.last_error


def test_an_email_that_fails_does_not_stop_the_robot(tree, secretary_a, robots, email_on):
    secretary_a.email = "sec_a@example.invalid"
    secretary_a.save()
    robots_for(tree, robots)
    problem(tree.branch_a, D(2026, 3, 12))
    services.build_daily_reminders(D(2026, 3, 10))
    with mock.patch("reminders.channels.send_mail", side_effect=OSError("smtp down")):
        services.deliver_due()
    email = Delivery.objects.get(channel=Channel.EMAIL)
    assert email.status == Status.PENDING and "smtp down" in email.last_error
    assert Delivery.objects.filter(status=Status.SENT).count() == 2


# --- two workers -----------------------------------------------------------------------------


def test_deliver_due_twice_or_from_two_workers_at_once_sends_once(tree, secretary_a, robots):
    robots_for(tree, robots)
    problem(tree.branch_a, D(2026, 3, 12))
    services.build_daily_reminders(D(2026, 3, 10))
    post = channels._post
    inner = []

    def racing_post(url, payload):
        # Another worker runs while this one sends its first row: it takes the other row and
        # leaves the claimed one alone; this one then finds that row taken.
        if not inner:
            inner.append(None)
            inner.append(services.deliver_due())
        post(url, payload)

    with mock.patch("reminders.channels._post", side_effect=racing_post):
        outcome = services.deliver_due()
    assert outcome["sent"] == 1 and inner[1]["sent"] == 1
    assert services.deliver_due() == {"sent": 0, "failed": 0, "retry": 0}
    assert len(robots.received) == 2
    assert Delivery.objects.filter(status=Status.SENT, attempts=1).count() == 2


def test_a_robot_gets_at_most_a_few_messages_per_run(tree, secretary_a, robots):
    robots_for(tree, robots)
    for i in range(services.PER_ROBOT_PER_RUN + 3):
        problem(tree.branch_a, D(2026, 3, 12), f"问题{i}")
    services.build_daily_reminders(D(2026, 3, 10))
    services.deliver_due()
    assert len(robots.to("/wecom")) == services.PER_ROBOT_PER_RUN
    services.deliver_due()
    assert len(robots.to("/wecom")) == services.PER_ROBOT_PER_RUN + 3


# --- the tasks -------------------------------------------------------------------------------


def test_the_tasks_build_in_chinese_whatever_the_worker_speaks(tree, secretary_a):
    problem(tree.branch_a, timezone.localdate() + 3 * DAY, "发展党员程序不规范")
    with translation.override("en"):
        assert tasks.build_daily_reminders.delay().get() == 1
        assert tasks.build_daily_reminders.delay().get() == 0
    assert Notice.objects.get(user=secretary_a).text.startswith("整改期限")


def test_the_campaigns_task_marks_and_reminds_in_chinese(tree, secretary_a):
    from campaigns.tasks import mark_overdue_problems

    problem(tree.branch_a, timezone.localdate() - 3 * DAY, "组织关系转接滞后")
    with translation.override("en"):
        assert mark_overdue_problems.delay().get() == 1
    notice = Notice.objects.get(user=secretary_a)
    assert notice.kind == Kind.PROBLEM_OVERDUE and notice.text.startswith("整改已于")


# --- constant queries ------------------------------------------------------------------------


def organizations_with_everything(tree, numbers: range) -> None:
    """Branches under committee_a, each with a secretary with an address, an overdue election,
    an election due soon (its own term), a problem due and one overdue."""
    today = D(2026, 3, 10)
    for i in numbers:
        branch = Organization.objects.create(
            code=f"Q{i}",
            name=f"测试支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        secretary(f"q_sec{i}", branch, f"q{i}@example.invalid")
        set_due(branch, today - DAY if i % 2 else today + 10 * DAY)
        problem(branch, today + 2 * DAY)
        late = problem(branch, today - 2 * DAY)
        Problem.objects.filter(pk=late.pk).update(overdue_since=today - DAY)


@pytest.mark.parametrize("build", ["owed", "daily"])
def test_the_builders_cost_the_same_queries_however_many_organizations(
    tree, activity_types, robots, email_on, build
):
    robots_for(tree, robots)
    run = {
        "owed": lambda day: services.build_owed_reminders(day),
        "daily": lambda day: services.build_daily_reminders(day),
    }[build]
    # Few enough rows that SQLite's bulk inserts stay in one batch each (999 parameters).
    organizations_with_everything(tree, range(2))
    with CaptureQueriesContext(connection) as few:
        made_few = run(D(2026, 3, 10))
    Reminder.objects.all().delete()
    Notice.objects.all().delete()
    organizations_with_everything(tree, range(2, 6))
    with CaptureQueriesContext(connection) as many:
        made_many = run(D(2026, 3, 10))
    assert len(made_many) > len(made_few) > 0
    assert len(many.captured_queries) == len(few.captured_queries)
