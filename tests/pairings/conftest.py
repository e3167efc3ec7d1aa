"""Pairings fixtures: the seeded schemes, a few partners, and a way to pair."""

from __future__ import annotations

import datetime

import pytest

from pairings.defaults import seed_schemes
from pairings.models import PairingStatus, PartnerKind, PartnerOrganization, Scheme
from pairings.services import PairingInput, create_pairing

D = datetime.date
START = D(2026, 1, 5)


@pytest.fixture
def schemes(db):
    """The five seeded schemes by code (a flushed transactional test may have lost them)."""
    seed_schemes(Scheme)
    return {s.code: s for s in Scheme.objects.all()}


@pytest.fixture
def partners(db):
    def make(name, kind, town="城关镇"):
        return PartnerOrganization.objects.create(
            name=name, kind=kind, town=town, district="江城区", situation="班子弱，活动场所老旧"
        )

    return {
        "village1": make("东村党支部", PartnerKind.VILLAGE),
        "village2": make("西村党支部", PartnerKind.VILLAGE, town="河口镇"),
        "community": make("南街社区党委", PartnerKind.COMMUNITY),
        "enterprise": make("江城电力公司党委", PartnerKind.ENTERPRISE),
    }


@pytest.fixture
def pair(staff):
    """pair(scheme, organization, partner, **fields) -> a pairing made by staff."""

    def make(scheme, organization, partner, started_on=START, **fields):
        if fields.get("status") == PairingStatus.DOCKED:
            fields.setdefault("docked_on", started_on)
        return create_pairing(
            staff,
            PairingInput(
                scheme=scheme,
                organization=organization,
                partner=partner,
                started_on=started_on,
                **fields,
            ),
        )

    return make
