"""The rules of supervision, as plain functions: the rectification state machine and which side
of it moves each step."""

from __future__ import annotations

import datetime

from .models import ProblemState as P

# state -> the states it may move to
TRANSITIONS: dict[str, set[str]] = {
    P.OPEN: {P.RECTIFYING, P.SUBMITTED},
    P.RECTIFYING: {P.SUBMITTED},
    P.SENT_BACK: {P.RECTIFYING, P.SUBMITTED},
    P.SUBMITTED: {P.ACCEPTED, P.SENT_BACK},
    P.ACCEPTED: set(),
}
# Which capability moves a problem into each state: the responsible organization answers, the
# inspection group (or staff) accepts or sends back.
MOVED_BY: dict[str, str] = {
    P.RECTIFYING: "problem.answer",
    P.SUBMITTED: "problem.answer",
    P.ACCEPTED: "problem.accept",
    P.SENT_BACK: "problem.accept",
}


def may_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, set())


def is_overdue(state: str, deadline: datetime.date, today: datetime.date) -> bool:
    """Past its deadline and not accepted (dates in Asia/Shanghai: `timezone.localdate()`)."""
    return state != P.ACCEPTED and deadline < today
