"""Prototype (being written)."""

from __future__ import annotations

import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from accounts.authentication import fresh_token
from config.wsgi import application
from tests.conftest import add_record

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261101,
        "generation": {
            "max-examples": 8,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
        },
    }
)


def _load_schema():
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(
        SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
    )
    loaded.app = application
    return loaded


schema = _load_schema()


def _auth(user, tree, activity_types):
    add_record(tree.branch_a, activity_types["theme_day"], datetime.date(2026, 10, 10))
    return {"Authorization": f"Token {fresh_token(user).key}"}


@pytest.fixture
def secretary_auth(secretary_a, tree, activity_types):
    return _auth(secretary_a, tree, activity_types)


@pytest.fixture
def staff_auth(staff, tree, activity_types):
    return _auth(staff, tree, activity_types)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_as_secretary(case, secretary_auth):
    case.call_and_validate(headers=secretary_auth)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_api_as_staff(case, staff_auth):
    case.call_and_validate(headers=staff_auth)
