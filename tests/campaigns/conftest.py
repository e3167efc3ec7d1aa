"""Campaigns fixtures: a campaign with an inspection group (inspector_a in it)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignKind, InspectionGroup

D = datetime.date


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(
        name="2026年基层党建专项检查",
        kind=CampaignKind.INSPECTION,
        starts_on=today() - datetime.timedelta(days=60),
        ends_on=today() + datetime.timedelta(days=60),
        owner="组织部",
    )


@pytest.fixture
def group(campaign, inspector_a, tree):
    made = InspectionGroup.objects.create(campaign=campaign, name="第一督导组", towns="城关镇")
    made.members.add(inspector_a)
    made.units.add(tree.unit_a)
    return made
