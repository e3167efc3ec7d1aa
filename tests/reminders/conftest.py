"""Reminders fixtures: a local HTTP server standing in for the WeCom and DingTalk robots."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    raw_query: str
    body: dict


@dataclass
class RobotServer:
    """Answers every POST with `answers[path]` (status, JSON) or (200, errcode 0) and keeps
    what it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: dict[str, tuple[int, dict]] = field(default_factory=dict)

    def to(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture
def robots():
    state = RobotServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.received.append(
                Received(parts.path, urllib.parse.parse_qs(parts.query), parts.query, body)
            )
            status, answer = state.answers.get(parts.path, (200, {"errcode": 0, "errmsg": "ok"}))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
