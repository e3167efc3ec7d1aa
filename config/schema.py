"""OpenAPI schema hooks (drf-spectacular's SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]).

`positive_path_ids`: an id in a path is 1 or more. The routes take digits only
(`config.api_base.ScopedViewSetMixin.lookup_value_regex`), so `/api/units/-1/` never reaches the
API (Django's 404 page answers it); the schema says so instead of "any integer".

`empty_query_values`: `?kind=` is read as no `kind` at all (django-filter), which the schema
says with `allowEmptyValue`.

`add_error_responses` documents the errors every operation may answer, which drf-spectacular
does not describe by itself: a client (and a conformance check such as schemathesis') then
finds each status code the API sends in the schema, with the shape of its body.

- 400: the request was refused. Either the fields in error, each with its messages (DRF's
  `ValidationError`: `{"period": ["This field is required."]}`, `non_field_errors` for the
  request as a whole; a nested field holds its own such object), or `{"detail": "..."}` for
  a request refused as a whole (a NUL character: `config.middleware.RefuseNulMiddleware`).
- 401, 403, 404, 429: `{"detail": "..."}` (DRF's `APIException`s, Django's 404 through DRF).

They run after drf-spectacular's own hooks (the enum hook first: it names the components that
these do not touch); an operation's own responses and bounds are left as they are.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "ErrorDetail"
VALIDATION_COMPONENT = "ValidationErrors"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Why the request was refused, in the user's language.",
    "properties": {"detail": {"type": "string", "description": "The reason."}},
    "required": ["detail"],
}

# A field's messages, or (a nested serializer or list) an object of its own fields' messages,
# or a list with one such object per item of a list of objects.
_FIELD_ERRORS: dict[str, Any] = {
    "anyOf": [
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "additionalProperties": True},
        {"type": "array", "items": {"type": "object", "additionalProperties": True}},
    ]
}

VALIDATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The fields in error, each with its messages (`non_field_errors`: the request "
    "as a whole); or `detail` alone when the request was refused as a whole.",
    "properties": {
        "detail": {"type": "string", "description": "Why the whole request was refused."},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": _FIELD_ERRORS,
    "example": {"period": ["This field is required."]},
}

ERROR_RESPONSES: dict[str, tuple[str, str]] = {
    "400": (VALIDATION_COMPONENT, "Invalid input: the fields in error, with their messages."),
    "401": (ERROR_COMPONENT, "Not authenticated (with a token: a wrong or expired one)."),
    "403": (
        ERROR_COMPONENT,
        "Not logged in, or your account may not do this (e.g. an inspector's write).",
    ),
    "404": (ERROR_COMPONENT, "Not found, or not in your scope."),
    "429": (ERROR_COMPONENT, "Too many requests: try again after the Retry-After seconds."),
}


def _ref(component: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{component}"}


def positive_path_ids(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Every integer path parameter (an id) is at least 1."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
    return result


def empty_query_values(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """An optional query parameter sent empty (`?kind=`, `?page=`) is no parameter at all:
    django-filter, DRF's search, ordering and page all read it so. Not a yes/no filter, which
    refuses it (`branches.filters.ExplicitChoiceForm`), nor a required one."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter.get("schema", {}).get("type") != "boolean"
                ):
                    parameter.setdefault("allowEmptyValue", True)
    return result


def add_error_responses(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Add the standard error responses (400, 401, 403, 404, 429) to every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    schemas.setdefault(VALIDATION_COMPONENT, VALIDATION_SCHEMA)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, (component, description) in ERROR_RESPONSES.items():
                responses.setdefault(
                    code,
                    {
                        "content": {"application/json": {"schema": _ref(component)}},
                        "description": description,
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
    # Components in name order, as drf-spectacular writes them.
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
