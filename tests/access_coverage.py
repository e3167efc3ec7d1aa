"""Walks every route and every admin class and says which ones declare no capability.

Used by tests/test_access.py: a new view, viewset, action or admin class that forgets to
declare what it reads and writes with fails the suite, and so does a route without a row in a
permission table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.admin import AdminSite
from django.urls import URLPattern, URLResolver
from rest_framework.permissions import SAFE_METHODS

from accounts.access import CAPABILITIES, PUBLIC
from config.admin_base import CapabilityAdmin

KNOWN = {*CAPABILITIES, PUBLIC}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str  # "namespace:name", or "" for an unnamed route
    namespace: str
    callback: Any


def walk(patterns: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n)
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or ""
            yield Route(prefix + str(entry.pattern), name, namespace, entry.callback)


def _declared(holder: Any) -> tuple[Any, Any]:
    return getattr(holder, "read_capability", None), getattr(holder, "write_capability", None)


def problems_of(route: Route, admin_site: AdminSite) -> list[str]:
    """What the route fails to declare (empty: it declares a known read and write)."""
    where = f"{route.pattern} ({route.name or 'unnamed'})"
    if route.namespace.split(":")[0] == admin_site.name:
        # The admin site's own pages take the site's capability; the model pages each
        # ModelAdmin's (checked by `admin_problems`).
        read = getattr(admin_site, "read_capability", None)
        return [] if read in KNOWN else [f"{where}: the admin site declares no capability"]
    callback = route.callback
    view_class = getattr(callback, "cls", None)  # DRF views and viewsets
    if view_class is None:
        read, write = _declared(callback)
        if read not in KNOWN:
            return [f"{where}: declares no read capability"]
        if write is not None and write not in KNOWN:
            return [f"{where}: unknown write capability {write!r}"]
        return []
    read, write = _declared(view_class)
    if read not in KNOWN:
        return [f"{where}: {view_class.__name__} declares no read capability"]
    by_action = getattr(view_class, "action_capabilities", {}) or {}
    actions = getattr(callback, "actions", None)  # viewsets: {http method: action}
    methods = actions or {m: m for m in HTTP_METHODS if hasattr(view_class, m)}
    found = []
    for method, action in methods.items():
        if method.upper() in SAFE_METHODS:
            name = by_action.get(action, read)
        else:
            name = by_action.get(action, write)
        if name not in KNOWN:
            found.append(f"{where}: {view_class.__name__}.{action} ({method}) declares none")
    return found


def undeclared(patterns: list, admin_site: AdminSite) -> list[str]:
    return [problem for route in walk(patterns) for problem in problems_of(route, admin_site)]


def admin_problems(admin_site: AdminSite) -> list[str]:
    found = []
    for model, model_admin in admin_site._registry.items():
        label = f"{model._meta.label} ({type(model_admin).__name__})"
        if not isinstance(model_admin, CapabilityAdmin):
            found.append(f"{label}: not a CapabilityAdmin")
            continue
        read, write = _declared(model_admin)
        if read not in KNOWN:
            found.append(f"{label}: declares no read capability")
        if write is not None and write not in KNOWN:
            found.append(f"{label}: unknown write capability {write!r}")
    return found


def without_rows(patterns: list, table_names: set[str], admin_namespace: str) -> list[str]:
    """Named routes outside the admin that no permission table row opens."""
    missing = set()
    for route in walk(patterns):
        if route.namespace.split(":")[0] == admin_namespace:
            continue
        if not route.name:
            if route.pattern not in ("", "^$"):  # the site root redirect has its own test
                missing.add(f"{route.pattern} (unnamed)")
            continue
        if route.name not in table_names:
            missing.add(route.name)
    return sorted(missing)
