"""Evaluations fixtures: an open program with the standard criteria and the four stages."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from evaluations.defaults import seed_program
from evaluations.models import Criterion, Program, ProgramKind, Stage
from evaluations.services import ApplicationInput, AssessmentInput

D = datetime.date


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def program(db, inspector_a):
    """Open from last week to next month; inspector_a is an assigned reviewer."""
    made = Program.objects.create(
        name=f"{today().year}年度市级机关基层党建工作示范点",
        kind=ProgramKind.DEMONSTRATION_SITE,
        year=today().year,
        opens_on=today() - datetime.timedelta(days=7),
        closes_on=today() + datetime.timedelta(days=30),
        title="市级机关基层党建工作示范点",
        quota={"branch": 2},
    )
    seed_program(made, Criterion, Stage)
    made.reviewers.add(inspector_a)
    return made


def full_marks(program, organization, points=Decimal("18")) -> ApplicationInput:
    """An application input scoring `points` on every criterion of the organization's kind."""
    criteria = Criterion.objects.filter(program=program, organization_kind=organization.kind)
    return ApplicationInput(
        program=program,
        organization=organization,
        summary="三会一课规范，结对共建成效明显",
        assessments=[AssessmentInput(c.pk, points, "台账齐全") for c in criteria],
    )
