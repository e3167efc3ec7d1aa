"""The delivery channels: e-mail (Django's send_mail) and the group robots of WeCom (企业微信)
and DingTalk (钉钉). Each `send_*` returns on success and raises `DeliveryError` (or any
exception: the caller records it) on failure.

- WeCom group robot: POST {"msgtype": "markdown", "markdown": {"content": ...}} to the robot's
  address (…/cgi-bin/webhook/send?key=…); success is errcode 0 in the JSON answer.
- DingTalk group robot: POST {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}}
  to …/robot/send?access_token=…; with a signing secret (加签), `timestamp` (ms since the
  epoch) and `sign` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
  are appended to the address; success is errcode 0.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import requests
from django.core.mail import send_mail

TIMEOUT_SECONDS = 5
# WeCom takes at most 4096 bytes of markdown; DingTalk 20000. Stay well below both.
MAX_CONTENT_CHARS = 1000


class DeliveryError(Exception):
    """A channel refused the message (HTTP error, errcode other than 0)."""


def send_email(address: str, subject: str, body: str) -> None:
    send_mail(subject, body, None, [address])


def markdown(title: str, text: str, link: str = "") -> str:
    content = f"**{title}**\n\n{text[:MAX_CONTENT_CHARS]}"
    if link:
        content += f"\n\n[{link}]({link})"
    return content


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
    if not secret:
        return url
    timestamp = timestamp if timestamp is not None else int(round(time.time() * 1000))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"


def _post(url: str, payload: dict) -> None:
    try:
        response = requests.post(url, json=payload, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        answer = response.json()
    except ValueError as exc:
        raise DeliveryError(f"not JSON: {response.text[:200]}") from exc
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode != 0:
        message = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryError(f"errcode {errcode}: {message}"[:300])


def send_wecom(url: str, title: str, text: str, link: str = "") -> None:
    _post(url, wecom_payload(title, text, link))


def send_dingtalk(url: str, secret: str, title: str, text: str, link: str = "") -> None:
    _post(dingtalk_url(url, secret), dingtalk_payload(title, text, link))
