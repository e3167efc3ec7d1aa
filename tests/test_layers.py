"""Layers that hold: checked on the source, so a shortcut fails the suite.

- The API imports no views (shared reads live in selectors, file responses in config/files.py).
- Roles are data behind the capabilities (accounts/access.py): no view, API or admin module
  reads `user.role`, and no module but the access module guards on `is_authenticated`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "branches", "reports", "pairings", "evaluations", "campaigns", "config"]


def _modules(pattern: str) -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).glob(pattern))


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


API_MODULES = _modules("api.py") + _modules("api_*.py")
DOOR_MODULES = _modules("views.py") + API_MODULES + _modules("admin.py")
SOURCE = [p for p in _modules("**/*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("path", API_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_api_imports_no_views(path):
    views = {name for name in _imports(path) if "views" in name.split(".")}
    # DRF's and drf-spectacular's own view classes are the framework, not our pages.
    ours = {name for name in views if not name.startswith(("rest_framework", "drf_spectacular"))}
    assert ours == set()


@pytest.mark.parametrize("path", DOOR_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_doors_ask_capabilities_not_roles(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roles = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ("role", "is_committee_staff")
    ]
    assert roles == [], f"{path.name} reads a role at lines {roles}: ask accounts.access.can()"


def test_only_the_access_module_guards_on_authentication():
    guards = [
        str(path.relative_to(ROOT))
        for path in SOURCE
        if "is_authenticated" in path.read_text(encoding="utf-8")
        and path != ROOT / "accounts" / "access.py"
    ]
    assert guards == []
