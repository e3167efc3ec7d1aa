"""A bounded schemathesis pass over the whole API: the schema and the API agree, and nothing
is a 500 (issue: hostile-input probe).

Every operation of /api/schema/ is called in process through the WSGI application
(`config.wsgi.application`), with at most MAX_EXAMPLES generated requests per operation, valid
and invalid ones (seeded and derandomized: the same requests every run; no shrinking, no example
database), once as a secretary and once as staff, authenticated by their API tokens. The
database holds the standing cast (`module_cast`) and a record; each operation's requests run in
its test's savepoint on the test connection (`same_connection`), so what they create is rolled
back. About 25 s for the 2 x 26 operations, on SQLite or PostgreSQL.

schemathesis's coverage phase is off: it is not bounded (hundreds of requests for each write
operation, over three minutes in all). Strings hold no NUL: the API refuses one in any string
before any view (tests/test_hostile_input.py), which no schema can say field by field.

The checks are chosen, not defaulted:

- `not_a_server_error`: no 5xx, whatever the input.
- `status_code_conformance`, `content_type_conformance`, `response_schema_conformance`,
  `response_headers_conformance`: every answer (errors included: `config.schema`) is
  documented, with its content type and body.
- `negative_data_rejection`: a request the schema forbids is refused (4xx).
- `positive_data_acceptance`: a request the schema allows is accepted, except for the
  operations in `ACCEPTANCE_NOT_EXPRESSIBLE`, whose validity a schema cannot express: the ids
  they take must be in the user's scope (an activity record's organization, an export's unit),
  and a token needs an account that exists.
- `ignored_auth`: the token is what lets the request in (the same request without it is a 403).
- `unsupported_method`, `allow_header_conformance`: an undocumented method is a 405 with Allow.

Left out: `missing_required_header` (no operation takes a header); the stateful checks
(`use_after_free`, `ensure_resource_availability`, `object_level_authorization`), which need
links between operations the schema does not declare; the scope rules are the permission
tests' (tests/test_access.py).

What the pass found is held by plain tests in tests/test_schema_contract.py.
"""

from __future__ import annotations

import datetime

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from accounts.authentication import fresh_token
from config.wsgi import application
from tests.conftest import add_record

MAX_EXAMPLES = 12  # generated requests per operation (and per test: secretary, staff)
SEED = 20261101

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "no-shrink": True,
            "database": "none",
            # Authentication is our tokens', not generated cookies or headers.
            "with-security-parameters": False,
            # A NUL is refused in any string, before any view (tests/test_hostile_input.py).
            "allow-x00": False,
        },
        "phases": {"coverage": {"enabled": False}},
    }
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    ignored_auth,
    unsupported_method,
    allow_header_conformance,
]
# Valid by the schema is not enough for these: see the docstring.
ACCEPTANCE_NOT_EXPRESSIBLE = {
    ("POST", "/api/activity-records/"),
    ("PUT", "/api/activity-records/{id}/"),
    ("PATCH", "/api/activity-records/{id}/"),
    ("POST", "/api/ledger-exports/"),
    ("POST", "/api/token/"),
    # The pairings' writes take ids in the user's scope (a pairing, a need, members).
    ("POST", "/api/pairings/"),
    ("POST", "/api/help-records/"),
    ("POST", "/api/pairing-needs/"),
    ("POST", "/api/pairing-measures/"),
    ("POST", "/api/pairing-projects/"),
    ("POST", "/api/member-pairs/"),
    # An application's organization and program must be in the user's scope and window.
    ("POST", "/api/evaluation-applications/"),
    ("POST", "/api/evaluation-applications/nominate/"),
    # A participation's organization, a tagged record, a problem's group: all in scope.
    ("POST", "/api/campaign-participations/"),
    ("POST", "/api/campaign-activities/"),
    ("POST", "/api/problems/"),
}


def _load_schema() -> schemathesis.BaseSchema:
    """The schema /api/schema/ serves, generated in process (no database needed)."""
    loaded = schemathesis.openapi.from_dict(
        SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
    )
    loaded.app = application
    return loaded


schema = _load_schema()


# The standing cast, built once for the module (uploads in a temporary folder); each operation's
# test runs in its own savepoint on it.
pytestmark = pytest.mark.usefixtures("module_cast")


@pytest.fixture
def record(tree, activity_types):
    return add_record(tree.branch_a, activity_types["theme_day"], datetime.date(2026, 10, 10))


@pytest.fixture
def same_connection():
    """Requests through the WSGI application keep the test's database connection, and so its
    transaction, as Django's test client does: the request signals would close it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token_headers(user) -> dict[str, str]:
    return {"Authorization": f"Token {fresh_token(user).key}"}


def _call(case: schemathesis.Case, headers: dict[str, str]) -> None:
    # The throttle counts live in the cache: a fuzzing run is not a rate-limit test.
    cache.clear()
    checks = list(CHECKS)
    operation = (case.operation.method.upper(), case.operation.path)
    if operation in ACCEPTANCE_NOT_EXPRESSIBLE:
        checks.remove(positive_data_acceptance)
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        # Off the route: Django's HTML 404 page (see the docstring).
        checks.remove(content_type_conformance)
        checks.remove(response_schema_conformance)
    case.call_and_validate(headers=headers, checks=checks)


FUZZ_SETTINGS = settings(
    # One cast per test (the fixtures are function-scoped): every generated request shares it.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_matches_its_schema_for_a_secretary(case, same_connection, record, secretary_a):
    _call(case, _token_headers(secretary_a))


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_api_matches_its_schema_for_staff(case, same_connection, record, staff):
    _call(case, _token_headers(staff))
