"""The delivery channels: e-mail (Django's send_mail) and the group robots of WeCom (企业微信)
and DingTalk (钉钉). Each `send_*` returns on success and raises `DeliveryError` (or any
exception: the caller records it) on failure; `Undeliverable` when trying again cannot help.

- WeCom group robot: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's
  address (…/cgi-bin/webhook/send?key=…); success is errcode 0 in the JSON answer.
- DingTalk group robot: POST {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}
  to …/robot/send?access_token=…; with a signing secret (加签), `timestamp` (ms since the
  epoch) and `sign` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
  are added to the address's query; success is errcode 0.

A robot's address holds its credential (`key`, `access_token`, and the `sign`): errors name
the address without its query (`redact`), so neither the logs nor the admin's "last error"
show it. A robot that does not answer costs at most CONNECT + READ seconds to connect and
start answering, and TOTAL_SECONDS in all; its answer is read up to MAX_ANSWER_BYTES.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse

import requests
from django.conf import settings
from django.core.mail import get_connection, send_mail

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
TOTAL_SECONDS = 10
MAX_ANSWER_BYTES = 64 * 1024
# Django's SMTP backend waits forever without EMAIL_TIMEOUT: a mail server that hangs would
# hold the whole delivery run.
EMAIL_TIMEOUT_SECONDS = 10
# WeCom takes at most 4096 bytes of markdown (UTF-8); DingTalk more. The content is cut to fit
# the smaller, between characters.
MAX_CONTENT_BYTES = 4096
SCHEMES = ("http", "https")
ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DeliveryError(Exception):
    """A channel refused the message (HTTP error, errcode other than 0)."""


class Undeliverable(DeliveryError):
    """The message cannot be delivered however often it is tried (no address, a robot
    switched off, an address that is not http or https): failed at once."""


def send_email(address: str, subject: str, body: str) -> None:
    timeout = getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_TIMEOUT_SECONDS
    send_mail(subject, body, None, [address], connection=get_connection(timeout=timeout))


def printable(text: str) -> str:
    """`text` without NUL and the other control characters (newlines and tabs kept): what a
    robot may be sent, and what PostgreSQL may store of a robot's answer."""
    return _CONTROL.sub("", text)


def fit_bytes(text: str, limit: int) -> str:
    """`text` in at most `limit` bytes of UTF-8, cut between characters (with an ellipsis)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode("utf-8"))
    if room <= 0:
        return ""
    return data[:room].decode("utf-8", "ignore") + ELLIPSIS


def markdown(title: str, text: str, link: str = "") -> str:
    """The robots' markdown: the title in bold, the text, the link; in MAX_CONTENT_BYTES
    (the text is cut, then the link left out when it alone would not fit)."""
    title = fit_bytes(printable(title), 200)
    text = printable(text)
    head = f"**{title}**\n\n"
    tail = f"\n\n[{link}]({link})" if link else ""
    size = len(head.encode("utf-8")) + len(tail.encode("utf-8"))
    if size > MAX_CONTENT_BYTES // 2:
        tail = ""
        size = len(head.encode("utf-8"))
    return head + fit_bytes(text, MAX_CONTENT_BYTES - size) + tail


def wecom_payload(title: str, text: str, link: str = "") -> dict:
    return {"msgtype": "markdown", "markdown": {"content": markdown(title, text, link)}}


def dingtalk_payload(title: str, text: str, link: str = "") -> dict:
    return {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": markdown(title, text, link)},
    }


def dingtalk_sign(secret: str, timestamp: int) -> str:
    """DingTalk's 加签: the URL-encoded base64 of HMAC-SHA256(secret, "timestamp\\nsecret")."""
    string_to_sign = f"{timestamp}\n{secret}"
    digest = hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod=hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def dingtalk_url(url: str, secret: str, timestamp: int | None = None) -> str:
    """The robot's address with `timestamp` and `sign` added to its query (a fragment, which
    is never sent, dropped)."""
    if not secret:
        return url
    timestamp = timestamp if timestamp is not None else int(round(time.time() * 1000))
    parts = urllib.parse.urlsplit(url)
    signed = f"timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
    query = f"{parts.query}&{signed}" if parts.query else signed
    return urllib.parse.urlunsplit(parts._replace(query=query, fragment=""))


def redact(message: str, url: str) -> str:
    """`message` without the credentials of `url`: its query's values and its password."""
    parts = urllib.parse.urlsplit(url)
    secrets = [v for _k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=False)]
    secrets += [parts.query] if parts.query else []
    secrets += [parts.password] if parts.password else []
    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in {
            secret,
            urllib.parse.quote(secret, safe=""),
            urllib.parse.quote_plus(secret),
            urllib.parse.quote(secret, safe="/:=&"),
        }:
            message = message.replace(form, "***")
    return message


def describe(url: str) -> str:
    """The robot's address as errors name it: scheme, host and path, no query."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))


def _read(response: requests.Response, started: float) -> bytes:
    body = b""
    for chunk in response.iter_content(4096):
        body += chunk
        if len(body) > MAX_ANSWER_BYTES:
            raise DeliveryError(f"answer over {MAX_ANSWER_BYTES} bytes")
        if time.monotonic() - started > TOTAL_SECONDS:
            raise DeliveryError(f"no full answer within {TOTAL_SECONDS} s")
    return body


def _post(url: str, payload: dict) -> None:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        raise Undeliverable(f"not an http or https address: {scheme or '?'}")
    started = time.monotonic()
    try:
        with requests.post(
            url,
            json=payload,
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
            allow_redirects=False,  # a robot answers itself; never follow it elsewhere
            stream=True,
        ) as response:
            status = response.status_code
            body = _read(response, started)
    except requests.RequestException as exc:
        # Not chained: the original names the whole address, credential included.
        raise DeliveryError(redact(f"{type(exc).__name__}: {exc}", url)[:300]) from None
    text = body.decode("utf-8", "replace")  # JSON is UTF-8 (RFC 8259), whatever the header says
    if status != 200:
        raise DeliveryError(f"HTTP {status}: {text[:200]}")
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        raise DeliveryError(f"not JSON: {text[:200]}") from None
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    # errcode 0, an integer: `False == 0` and `0.0 == 0` in Python are not a robot's success.
    if type(errcode) is not int or errcode != 0:
        message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryError(f"errcode {errcode!r}: {message}"[:300])


def send_wecom(url: str, title: str, text: str, link: str = "") -> None:
    _post(url, wecom_payload(title, text, link))


def send_dingtalk(url: str, secret: str, title: str, text: str, link: str = "") -> None:
    _post(dingtalk_url(url, secret), dingtalk_payload(title, text, link))
