"""Reminders under hostile conditions: robots that hang, answer nonsense or redirect, a mail
server that hangs, credentials in error messages, texts past the robots' limits, a slow run
and a second worker, rows deleted under a running worker, recipients switched off, odd
addresses in the admin."""

from __future__ import annotations

import datetime
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.utils import timezone, translation

from accounts.models import Role, User
from campaigns.models import Problem, ProblemState
from reminders import channels, services
from reminders.admin import WebhookForm
from reminders.models import Channel, Delivery, Reminder, Status, Webhook

D = datetime.date
DAY = datetime.timedelta(days=1)
TODAY = D(2026, 3, 10)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def email_on(settings):
    settings.NOTICE_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def problem(organization, deadline=TODAY + 2 * DAY, description="三会一课记录不全"):
    return Problem.objects.create(
        organization=organization,
        category="组织生活",
        description=description,
        found_on=deadline - 30 * DAY,
        deadline=deadline,
        state=ProblemState.OPEN,
    )


@pytest.fixture
def raw_server():
    """A robot that answers whatever `server.answer` says: (status, headers, body bytes), or
    "hang" (reads the request, then says nothing until the test ends)."""
    state = type("State", (), {"answer": (200, {}, b'{"errcode":0}'), "hits": []})()
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.hits.append(self.path)
            if state.answer == "hang":
                stop.wait(30)
                return
            status, headers, body = state.answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def one_robot_delivery(tree, url, kind="wecom", secret=""):
    Webhook.objects.create(name="群", unit=tree.unit_a, kind=kind, url=url, secret=secret)
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)
    return Delivery.objects.get()


# --- what robots answer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, error",
    [
        ((200, {"Content-Type": "text/html"}, b"<html>gateway</html>"), "not JSON: <html>"),
        ((200, {}, b"\xff\xfe\x00garbage"), "not JSON"),  # NUL: PostgreSQL stores none
        ((502, {}, b"bad\x00gateway"), "HTTP 502: badgateway"),
        ((200, {"Content-Type": "application/json; charset=bogus"}, b"[]"), "errcode None"),
        ((200, {}, b'{"errcode": false, "errmsg": "ok"}'), "errcode False"),
        ((200, {}, b'{"errcode": 0.0}'), "errcode 0.0"),
        ((200, {}, b'{"errcode": "0"}'), "errcode '0'"),
        ((200, {}, b'{"errmsg": "ok"}'), "errcode None"),
        ((200, {}, b"[" * 50_000), "not JSON"),
        ((200, {}, b" " * 70_000), "answer over"),  # past MAX_ANSWER_BYTES
        ((302, {"Location": "http://127.0.0.1:9/elsewhere"}, b""), "HTTP 302"),
    ],
)
def test_a_robots_odd_answer_is_a_recorded_failure(tree, secretary_a, raw_server, answer, error):
    raw_server.answer = answer
    one_robot_delivery(tree, f"{raw_server.url}/wecom?key=k")
    assert services.deliver_due() == {"sent": 0, "failed": 0, "retry": 1}
    delivery = Delivery.objects.get()
    assert error in delivery.last_error
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert raw_server.hits == ["/wecom?key=k"]  # a redirect is not followed


def test_the_robots_credentials_never_reach_the_error_or_the_log(tree, secretary_a, caplog):
    key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    one_robot_delivery(tree, f"http://127.0.0.1:9/cgi-bin/webhook/send?key={key}")
    with caplog.at_level("WARNING", logger="reminders.services"):
        services.deliver_due()
    delivery = Delivery.objects.get()
    assert "ConnectionError" in delivery.last_error
    assert key not in delivery.last_error and key not in caplog.text
    assert "***" in delivery.last_error


def test_a_signed_dingtalk_addresss_token_and_sign_are_not_in_the_error(tree, secretary_a):
    token = "c9b3d1e0f6a34f1fb2a17e2f0d3c4b5a"
    one_robot_delivery(
        tree, f"http://127.0.0.1:9/robot/send?access_token={token}", "dingtalk", "SECabc"
    )
    services.deliver_due()
    error = Delivery.objects.get().last_error
    assert token not in error and "sign=" not in error.replace("sign=***", "")


def test_a_hanging_robot_costs_one_timeout_per_run_and_blocks_nobody(
    tree, secretary_a, raw_server, robots, monkeypatch
):
    monkeypatch.setattr(channels, "READ_TIMEOUT_SECONDS", 0.5, raising=False)
    raw_server.answer = "hang"
    Webhook.objects.create(name="挂起", unit=tree.unit_a, kind="wecom", url=f"{raw_server.url}/h")
    Webhook.objects.create(name="正常", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/ok")
    for i in range(4):
        problem(tree.branch_a, description=f"问题{i}")
    services.build_daily_reminders(TODAY)
    started = time.monotonic()
    outcome = services.deliver_due()
    took = time.monotonic() - started
    assert outcome == {"sent": 4, "failed": 0, "retry": 1}
    assert len(robots.to("/ok")) == 4
    assert took < 3, took  # one timeout, not four
    hanging = Delivery.objects.filter(webhook__name="挂起")
    assert sorted(hanging.values_list("attempts", flat=True)) == [0, 0, 0, 1]
    assert "Timeout" in hanging.get(attempts=1).last_error
    # the three left wait for the next run, due as they were
    assert hanging.filter(attempts=0, next_attempt_at__lte=timezone.now()).count() == 3


def test_an_address_that_is_not_http_fails_at_once(tree, secretary_a):
    Webhook.objects.create(name="ftp", unit=tree.unit_a, kind="wecom", url="ftp://127.0.0.1/x")
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)
    assert services.deliver_due() == {"sent": 0, "failed": 1, "retry": 0}
    assert "http" in Delivery.objects.get().last_error


@pytest.mark.parametrize(
    "url",
    ["ftp://robot.example/send", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)"],
)
def test_the_admin_takes_http_and_https_addresses_only(tree, url):
    data = {"name": "群", "kind": "wecom", "unit": tree.unit_a.pk, "url": url, "active": "on"}
    form = WebhookForm(data=data)
    assert not form.is_valid()
    assert "url" in form.errors
    good = WebhookForm(data={**data, "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"})
    assert good.is_valid(), good.errors


# --- the robots' texts -------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["党", "😀", "a", "é"])
def test_the_markdown_fits_4096_bytes_and_is_cut_between_characters(char):
    link = "https://dangjian.example.gov.cn/portal/campaigns/problems/123/"
    for payload in (
        channels.wecom_payload("问题整改即将到期", char * 5000, link),
        channels.dingtalk_payload("问题整改即将到期", char * 5000, link),
    ):
        content = payload["markdown"].get("content") or payload["markdown"]["text"]
        encoded = content.encode("utf-8")
        assert len(encoded) <= 4096  # WeCom markdown limit
        assert content.endswith(f"[{link}]({link})")
        assert f"{char}…\n\n[" in content
        encoded.decode("utf-8")  # whole characters only


def test_a_link_too_long_for_the_message_is_left_out():
    link = "https://x.example/" + "a" * 5000
    content = channels.markdown("标题", "正文", link)
    assert len(content.encode()) <= 4096  # WeCom markdown limit
    assert content == "**标题**\n\n正文"


def test_control_characters_never_reach_a_robot(tree, secretary_a, robots):
    Webhook.objects.create(name="群", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/w")
    problem(tree.branch_a, description="台账\x07不全\x1b[31m" + "很长" * 3000)
    services.build_daily_reminders(TODAY)
    assert services.deliver_due()["sent"] == 1
    [received] = robots.to("/w")
    content = received.body["markdown"]["content"]
    assert "\x07" not in content and "\x1b" not in content
    assert "台账不全[31m" in content
    # NUL (which PostgreSQL never stores, but SQLite and a caller may hand over) too
    assert "\x00" not in channels.markdown("标\x00题", "正\x00文")
    assert len(content.encode()) <= 4096  # WeCom markdown limit
    assert len(Reminder.objects.get().text) <= services.TEXT_MAX


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=x", "send?access_token=x&timestamp=1&"),
        ("https://oapi.dingtalk.com/robot/send?", "send?timestamp=1&sign="),
        ("https://oapi.dingtalk.com/robot/send", "send?timestamp=1&sign="),
        ("https://oapi.dingtalk.com/robot/send?access_token=x#top", "access_token=x&timestamp=1&"),
    ],
)
def test_the_signature_always_lands_in_the_query(url, expected):
    signed = channels.dingtalk_url(url, "SECs", 1)
    assert expected in signed and "#" not in signed and "??" not in signed


class Hung(BaseException):
    """Not an Exception: deliver_due's own `except Exception` must not swallow it."""


# --- e-mail ------------------------------------------------------------------------------------


def test_a_mail_server_that_hangs_does_not_hold_the_run(
    tree, secretary_a, robots, settings, monkeypatch
):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)  # accepts, and never says hello
    settings.NOTICE_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    monkeypatch.setattr(channels, "EMAIL_TIMEOUT_SECONDS", 0.5, raising=False)
    User.objects.filter(pk=secretary_a.pk).update(email="sec_a@example.invalid")
    Webhook.objects.create(name="群", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/w")
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)

    def hung(signum, frame):
        raise Hung("deliver_due hung on the mail server")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        result = services.deliver_due()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        listener.close()
    assert result == {"sent": 1, "failed": 0, "retry": 1}
    assert "timed out" in Delivery.objects.get(channel=Channel.EMAIL).last_error


@pytest.mark.parametrize("change", ["inactive", "moved", "address_removed"])
def test_a_secretary_switched_off_or_moved_since_gets_no_email(change, tree, secretary_a, email_on):
    from django.core import mail

    User.objects.filter(pk=secretary_a.pk).update(email="sec_a@example.invalid")
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)
    update = {
        "inactive": {"is_active": False},
        "moved": {"organization": tree.branch_b},
        "address_removed": {"email": ""},
    }[change]
    User.objects.filter(pk=secretary_a.pk).update(**update)
    assert services.deliver_due() == {"sent": 0, "failed": 1, "retry": 0}  # at once
    assert mail.outbox == []
    assert Delivery.objects.get().status == Status.FAILED


def test_a_secretary_without_an_address_or_inactive_gets_the_notice_only(
    tree, secretary_a, email_on
):
    User.objects.create(
        username="off",
        role=Role.SECRETARY,
        organization=tree.branch_a,
        email="o@x.invalid",
        is_active=False,
    )
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)
    assert secretary_a.notices.count() == 1
    assert not Delivery.objects.exists()  # sec_a has no address, "off" is switched off


# --- workers -----------------------------------------------------------------------------------


def test_a_claim_taken_late_in_a_slow_run_holds_against_a_second_worker(
    tree, secretary_a, robots, monkeypatch
):
    """The run started at T; its sends were slow, so it takes its second row at T + 11 min. A
    second worker starting then must not find that row's claim already run out (a claim
    counted from T would end at T + 10 min) and send it a second time."""
    Webhook.objects.create(name="甲", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/a")
    Webhook.objects.create(name="乙", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/b")
    problem(tree.branch_a)
    services.build_daily_reminders(TODAY)
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(services.timezone, "now", lambda: clock["now"])
    real_send = services._send
    second = {}

    def slow_send(delivery):
        real_send(delivery)
        if not second.get("started") and delivery.webhook.name == "甲":
            clock["now"] = start + datetime.timedelta(minutes=11)  # that send was slow
        elif delivery.webhook.name == "乙" and not second.get("started"):
            second["started"] = True
            second["outcome"] = services.deliver_due(clock["now"])  # the next beat's run

    monkeypatch.setattr(services, "_send", slow_send)
    first = services.deliver_due(start)
    assert first["sent"] == 2
    assert second["outcome"] == {"sent": 0, "failed": 0, "retry": 0}
    assert len(robots.to("/a")) == 1 and len(robots.to("/b")) == 1


def test_a_delivery_deleted_under_a_running_worker_does_not_stop_the_run(tree, secretary_a, robots):
    """The organization (so its reminders and deliveries) is deleted between a row's claim
    and its read: the worker passes over it and sends the rest."""
    Webhook.objects.create(name="甲", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/a")
    problem(tree.branch_a)
    problem(tree.branch_a2, description="另一个问题")
    services.build_daily_reminders(TODAY)
    doomed = Delivery.objects.get(reminder__organization=tree.branch_a)
    state = {"done": False}

    def delete_after_claim(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not state["done"] and sql.startswith('UPDATE "reminders_delivery"'):
            state["done"] = True
            with connection.cursor() as cursor:
                cursor.execute('DELETE FROM "reminders_delivery" WHERE id = %s', [doomed.pk])
        return result

    with connection.execute_wrapper(delete_after_claim):
        outcome = services.deliver_due()
    assert outcome == {"sent": 1, "failed": 0, "retry": 0}
    assert [r.body["markdown"]["content"] for r in robots.to("/a")][0].count("另一个问题") == 1


def test_deleting_an_organization_takes_its_reminders_and_deliveries(tree, robots):
    from branches.models import Organization, OrganizationKind

    empty = Organization.objects.create(
        code="A-9",
        name="空支部",
        kind=OrganizationKind.BRANCH,
        unit=tree.unit_a,
        parent=tree.committee_a,
    )
    Webhook.objects.create(name="甲", unit=tree.unit_a, kind="wecom", url=f"{robots.url}/a")
    draft = services.Draft(empty.pk, "election_overdue", "2026-03", "空支部换届逾期", "/portal/")
    assert len(services.issue([draft])) == 1
    assert Delivery.objects.count() == 1
    empty.delete()
    assert not Reminder.objects.exists() and not Delivery.objects.exists()
    assert services.deliver_due() == {"sent": 0, "failed": 0, "retry": 0}
    assert robots.received == []


def test_the_admins_refusal_of_an_odd_address_is_in_chinese(tree):
    data = {"name": "群", "kind": "wecom", "unit": tree.unit_a.pk, "url": "ftp://x.example/s"}
    form = WebhookForm(data=data)
    assert not form.is_valid()
    assert "请输入群机器人的 http 或 https 地址。" in form.errors["url"]
