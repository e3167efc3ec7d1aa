"""The OpenAPI schema says what the API does (issue: hostile-input probe, schemathesis).

Each mismatch the probe found, held in place: a ledger export's required filters, the month
and period patterns, ids, empty query values, and the error responses every operation may
answer (`config.schema`). tests/test_schema_fuzz.py runs the bounded schemathesis pass itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.urls import reverse

from reports.ledgers import PERIOD_EXAMPLES, PeriodFilter, all_ledgers

pytestmark = pytest.mark.usefixtures("module_cast")

ERROR_CODES = {"400", "401", "403", "404", "429"}


@pytest.fixture(scope="module")
def schema(module_cast, django_db_blocker) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def as_json_schema(node: Any, components: dict[str, Any]) -> Any:
    """An OpenAPI 3.0 schema object as JSON Schema: references inlined, `nullable` a type."""
    if isinstance(node, list):
        return [as_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    converted = {
        key: as_json_schema(value, components)
        for key, value in node.items()
        if key not in ("nullable", "example")
    }
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def is_valid(instance: Any, schema_object: dict[str, Any], schema: dict[str, Any]) -> bool:
    validator = jsonschema.Draft7Validator(
        as_json_schema(schema_object, schema["components"]["schemas"])
    )
    return validator.is_valid(instance)


def operations(schema: dict[str, Any]):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def query_parameter(schema, path: str, name: str) -> dict[str, Any]:
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter


# --- the error responses (config.schema) --------------------------------------------------------


def test_drf_spectacular_hooks_run_first():
    hooks = settings.SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]
    assert hooks[0] == "drf_spectacular.hooks.postprocess_schema_enums"
    assert "config.schema.add_error_responses" in hooks


def test_every_operation_documents_the_standard_errors(schema):
    for method, path, operation in operations(schema):
        responses = operation["responses"]
        assert set(responses) >= ERROR_CODES, (method, path)
        for code in ERROR_CODES:
            body = responses[code]["content"]["application/json"]["schema"]
            expected = "ValidationErrors" if code == "400" else "ErrorDetail"
            assert body == {"$ref": f"#/components/schemas/{expected}"}, (method, path, code)
        # What the operation answers when it works is still there.
        assert {c for c in responses if c.startswith("2")}, (method, path)


def test_the_error_bodies_the_api_sends_match_their_schemas(schema, tree, client_for):
    responses = schema["paths"]["/api/activity-records/"]["post"]["responses"]
    inspector = client_for("inspector_a")
    refused = inspector.post(reverse("activity-record-list"), {}, content_type="application/json")
    assert refused.status_code == 403
    assert is_valid(
        refused.json(), responses["403"]["content"]["application/json"]["schema"], schema
    )

    secretary = client_for("secretary_a")
    invalid = secretary.post(
        reverse("activity-record-list"),
        {"organization": tree.branch_a.pk},
        content_type="application/json",
    )
    assert invalid.status_code == 400
    body_schema = responses["400"]["content"]["application/json"]["schema"]
    assert is_valid(invalid.json(), body_schema, schema)
    # A NUL is refused as a whole: {"detail": "..."}, a 400 body too.
    nul = secretary.post(
        reverse("activity-record-list"),
        json.dumps({"topic": "a\u0000b"}),
        content_type="application/json",
    )
    assert nul.status_code == 400 and set(nul.json()) == {"detail"}
    assert is_valid(nul.json(), body_schema, schema)

    missing = secretary.get(reverse("unit-detail", args=[987654]))
    assert missing.status_code == 404
    assert is_valid(
        missing.json(), responses["404"]["content"]["application/json"]["schema"], schema
    )


def test_a_field_error_must_be_a_list_of_messages(schema):
    errors = {"$ref": "#/components/schemas/ValidationErrors"}
    assert is_valid({"period": ["This field is required."]}, errors, schema)
    assert is_valid({"new_attachments": {"0": ["Not a file."]}}, errors, schema)
    assert not is_valid({"period": 3}, errors, schema)
    assert not is_valid({"detail": ["a list"]}, errors, schema)


# --- ledger exports: the body of each ledger ---------------------------------------------------


def _example(f) -> Any:
    """A value the filter takes, for a ledger whose filter is required."""
    assert isinstance(f, PeriodFilter), f"no example value for {f!r}"
    return PERIOD_EXAMPLES[f.kinds[0]][1]


@pytest.mark.parametrize("ledger_cls", all_ledgers(), ids=lambda ledger: ledger.code)
def test_each_ledgers_body_is_valid_exactly_when_the_api_takes_it(schema, client_for, ledger_cls):
    body_schema = {"$ref": "#/components/schemas/LedgerExportCreate"}
    client = client_for("secretary_a")

    def post(body):
        return client.post(reverse("ledger-export-list"), body, content_type="application/json")

    bare = {"ledger": ledger_cls.code}
    needs_filters = any(f.required for f in ledger_cls.filters)
    assert is_valid(bare, body_schema, schema) is not needs_filters
    assert post(bare).status_code == (400 if needs_filters else 201)

    complete = {**bare, **{f.name: _example(f) for f in ledger_cls.filters if f.required}}
    assert is_valid(complete, body_schema, schema)
    assert post(complete).status_code == 201, post(complete).json()

    # A filter it does not take: invalid, and a 400 (null is ignored, so valid).
    taken = {f.name for f in ledger_cls.filters}
    for name in {f.name for ledger in all_ledgers() for f in ledger.filters} - taken:
        assert is_valid({**complete, name: None}, body_schema, schema)
        value = "2026-03" if name == "period" else 1
        assert not is_valid({**complete, name: value}, body_schema, schema)
        assert post({**complete, name: value}).status_code == 400


def test_the_compliance_ledger_needs_its_period(schema, client_for):
    """The probe's case: `{"ledger": "compliance"}` was valid by the schema, and a 400."""
    body_schema = {"$ref": "#/components/schemas/LedgerExportCreate"}
    assert not is_valid({"ledger": "compliance"}, body_schema, schema)
    assert not is_valid({"ledger": "compliance", "period": None}, body_schema, schema)
    assert is_valid({"ledger": "compliance", "period": "2026-Q1"}, body_schema, schema)
    assert not is_valid({"ledger": "nope"}, body_schema, schema)
    (compliance,) = [
        body
        for body in schema["components"]["schemas"]["LedgerExportCreate"]["oneOf"]
        if body["title"] == "compliance"
    ]
    assert compliance["required"] == ["ledger", "period"]


# --- query parameters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "valid"),
    [
        ("2026-03", True),
        ("1900-01", True),
        ("2999-12", True),
        ("2980-35", False),  # the probe's case: it matched ^\d{4}-\d{2}$
        ("2026-13", False),
        ("2026-00", False),
        ("0000-01", False),
        ("1899-12", False),
        ("9999-12", False),  # was a 500: the end of the month is in the year 10000
    ],
)
def test_the_month_pattern_is_what_the_api_takes(schema, client_for, month, valid):
    pattern = query_parameter(schema, "/api/activity-records/", "month")["schema"]["pattern"]
    assert bool(re.search(pattern, month)) is valid
    response = client_for("staff").get(reverse("activity-record-list"), {"month": month})
    assert response.status_code == (200 if valid else 400)


@pytest.mark.parametrize(
    ("period", "valid"),
    [
        ("2026", True),
        ("2026-03", True),
        ("2026-3", True),
        ("2026-Q1", True),
        ("2026-q4", True),
        ("2026-13", False),
        ("2026-0", False),
        ("2026-Q5", False),
        ("0000", False),
        ("9999", False),  # was a 500
        ("9999-Q4", False),  # was a 500
        ("2026-W1", False),
    ],
)
def test_the_period_pattern_is_what_the_api_takes(schema, client_for, period, valid):
    parameter = query_parameter(schema, "/api/compliance/", "period")
    assert parameter["required"] is True and "allowEmptyValue" not in parameter
    assert bool(re.search(parameter["schema"]["pattern"], period)) is valid
    response = client_for("staff").get(reverse("compliance-list"), {"period": period})
    assert response.status_code == (200 if valid else 400), response.content


def test_a_year_out_of_range_is_said_in_chinese(client_for):
    response = client_for("staff").get(reverse("compliance-list"), {"period": "0000"})
    assert response.json() == {"period": ["年份须在 1900 至 2999 之间。"]}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/members/", "unit"),
        ("/api/members/", "organization"),
        ("/api/organizations/", "within"),
        ("/api/activity-records/", "unit"),
        ("/api/compliance/", "organization"),
    ],
)
def test_id_filters_are_whole_numbers_a_database_holds(schema, client_for, path, name):
    parameter = query_parameter(schema, path, name)
    assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    client = client_for("staff")
    extra = {"period": "2026"} if path == "/api/compliance/" else {}
    for value, status in [("1", 200), ("0.5", 400), ("0", 400), (str(2**70), 400)]:
        response = client.get(path, {name: value, **extra})
        assert response.status_code == status, (name, value, response.content)


def test_a_type_filter_of_digits_never_overflows(client_for):
    client = client_for("staff")
    for value in (str(2**70), "²", "theme_day"):
        response = client.get(reverse("activity-record-list"), {"type": value})
        assert response.status_code == 200, value


def test_ids_in_paths_are_one_or_more(schema):
    for method, path, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                assert parameter["schema"]["minimum"] == 1, (method, path, parameter["name"])


def test_string_path_parameters_say_what_the_route_takes(schema):
    (code,) = schema["paths"]["/api/ledgers/{code}/"]["get"]["parameters"]
    assert code["schema"]["pattern"] == r"^[A-Za-z0-9_\-]+$"
    (month,) = schema["paths"]["/api/bulletins/{month}/"]["get"]["parameters"]
    assert month["schema"]["pattern"] == r"^[0-9]{4}-[0-9]{2}$"


def test_an_empty_query_value_is_no_filter(schema, client_for):
    kind = query_parameter(schema, "/api/organizations/", "kind")
    assert kind["allowEmptyValue"] is True
    assert client_for("staff").get("/api/organizations/?kind=&page=").status_code == 200
    # Except a yes/no filter, which refuses it.
    youth = query_parameter(schema, "/api/members/", "youth")
    assert "allowEmptyValue" not in youth
    assert client_for("staff").get("/api/members/?youth=").status_code == 400


# --- found by the probe: each was a 500 or a mismatch, now a plain 4xx --------------------------


def test_an_attachment_id_with_a_dot_is_a_404(client_for):
    response = client_for("staff").get("/api/activity-records/0/attachments/0.5/")
    assert response.status_code == 404


def test_a_record_id_too_large_for_the_database_is_a_404(client_for):
    response = client_for("staff").get(f"/api/activity-records/{2**63}/attachments/1/")
    assert response.status_code == 404


def test_a_token_for_a_very_long_username_is_a_400(db):
    from django.test import Client

    response = Client().post(reverse("api-token"), {"username": "x" * 300, "password": "y"})
    assert response.status_code == 400


def test_an_object_for_a_filter_is_a_400(client_for):
    response = client_for("staff").post(
        reverse("ledger-export-list"),
        {"ledger": "roster", "organization": {}},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_an_api_address_no_route_takes_is_a_json_404(client_for):
    response = client_for("staff").get("/api/units/x/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("period", ["0000", "9999", "9999-12", "2026-13"])
def test_a_ledger_period_out_of_range_is_a_chinese_400_at_once(client_for, period):
    response = client_for("staff").post(
        reverse("ledger-export-list"),
        {"ledger": "compliance", "period": period},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "period" in response.json()
