"""The dashboard's pages: the panels each role gets, the vendored ECharts and nothing from
outside, the big screen's own template and refresh, and a shell that costs no query beyond the
session's."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard import views

pytestmark = pytest.mark.usefixtures("module_cast")

BASE = Path(settings.BASE_DIR)
VENDOR = BASE / "static" / "vendor" / "echarts"
CITY_PANELS = {
    "compliance",
    "owed",
    "elections",
    "members",
    "pairings",
    "evaluations",
    "campaigns",
    "problems",
}
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


class Assets(HTMLParser):
    """The page's script sources, stylesheets and the panels' endpoints."""

    def __init__(self):
        super().__init__()
        self.sources: list[str] = []
        self.panels: dict[str, str] = {}
        self.charts: list[str] = []
        self.nav = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.sources.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.sources.append(attrs["href"])
        if tag == "img" and attrs.get("src"):
            self.sources.append(attrs["src"])
        if "data-panel" in attrs:
            self.panels[attrs["data-panel"]] = attrs.get("data-endpoint")
        if "data-chart" in attrs:
            self.charts.append(attrs["data-chart"])
        if "site-nav" in (attrs.get("class") or ""):
            self.nav = True


def parse(response) -> Assets:
    assets = Assets()
    assets.feed(response.content.decode())
    return assets


@pytest.mark.parametrize(
    ("role", "panels"),
    [
        ("staff", CITY_PANELS),
        ("inspector_city", CITY_PANELS),
        ("inspector_a", CITY_PANELS),
        ("secretary_a", CITY_PANELS | {"branch"}),
        ("secretary_b", CITY_PANELS | {"branch"}),
    ],
)
def test_each_role_gets_its_panels_each_with_its_endpoint(client_for, role, panels):
    response = client_for(role).get(reverse("portal:dashboard"))
    assert response.status_code == 200
    page = parse(response)
    assert set(page.panels) == panels
    for panel, endpoint in page.panels.items():
        assert endpoint == reverse(f"dashboard-{panel}")
    # One chart per item of the contract; the branch's attendance for a secretary only.
    assert ("branch-attendance" in page.charts) == ("branch" in panels)
    assert len(page.charts) == len(set(page.charts)) >= 11
    assert reverse("portal:dashboard_screen") in response.content.decode()


def test_the_scope_is_named_without_asking_the_endpoints(client_for, cast):
    """The user's organization (joined with the session's user) or the city; an inspector of
    some units gets the endpoints' label once the figures arrive."""
    page = client_for("secretary_a").get(reverse("portal:dashboard")).content.decode()
    assert f"data-scope-label>{cast.tree.branch_a.name}<" in page
    page = client_for("staff").get(reverse("portal:dashboard")).content.decode()
    assert "data-scope-label>全市<" in page


def test_the_words_of_the_script_come_translated_from_the_server(client_for):
    response = client_for("staff").get(reverse("portal:dashboard"))
    page = response.content.decode()
    assert '<script id="dashboard-strings" type="application/json">' in page
    assert "数据看板" in page
    block = page.split('<script id="dashboard-strings" type="application/json">')[1]
    strings = json.loads(block.split("</script>")[0])
    assert strings["loading"] == "加载中…" and strings["rate"] == "达标率"
    script = (BASE / "static" / "dashboard" / "dashboard.js").read_text(encoding="utf-8")
    assert not CJK.search(script), "no Chinese in dashboard.js: put it in views.STRINGS"
    for key in re.findall(r'\bt\("(\w+)"\)', script):
        assert key in views.STRINGS, key


def test_echarts_is_vendored_with_its_licence():
    script = VENDOR / "echarts.min.js"
    assert script.stat().st_size > 500_000
    assert "Apache License" in (VENDOR / "LICENSE").read_text()
    assert "Apache ECharts" in (VENDOR / "NOTICE").read_text()
    readme = (VENDOR / "README.md").read_text()
    assert "5.6.0" in readme and "npm" in readme and "Apache-2.0" in readme


@pytest.mark.parametrize("name", ["portal:dashboard", "portal:dashboard_screen"])
def test_the_pages_load_only_local_static_files(client_for, name):
    response = client_for("secretary_a").get(reverse(name))
    sources = parse(response).sources
    assert any(s.endswith("vendor/echarts/echarts.min.js") for s in sources)
    assert any(s.endswith("dashboard/dashboard.js") for s in sources)
    for source in sources:
        assert source.startswith("/static/"), source
    # Nor do the templates, the script or the styles name anything outside.
    for path in [
        *(BASE / "templates" / "dashboard").glob("*.html"),
        BASE / "static" / "dashboard" / "dashboard.js",
        BASE / "static" / "dashboard" / "dashboard.css",
    ]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path
        assert not re.search(r"url\(\s*[\"']?(https?:)?//", text), path
        assert "@import" not in text and "fonts.googleapis" not in text, path


def test_the_big_screen_has_its_own_page_and_refreshes_every_five_minutes(client_for):
    response = client_for("staff").get(reverse("portal:dashboard_screen"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-mode="screen"' in page
    assert 'data-refresh-seconds="300"' in page
    assert "data-clock" in page and "data-fullscreen" in page
    assets = parse(response)
    assert not assets.nav, "the big screen does not use base.html's header and menu"
    assert "site-header" not in page
    assert set(assets.panels) == CITY_PANELS
    script = (BASE / "static" / "dashboard" / "dashboard.js").read_text(encoding="utf-8")
    assert "setInterval" in script and "data-refresh-seconds" in script


def test_the_menu_links_to_the_dashboard(client_for):
    page = client_for("inspector_a").get(reverse("portal:members")).content.decode()
    assert f'href="{reverse("portal:dashboard")}"' in page


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a", "inspector_city"])
@pytest.mark.parametrize("name", ["portal:dashboard", "portal:dashboard_screen"])
def test_the_pages_cost_no_query_beyond_the_session(client_for, role, name):
    """The shell asks nothing of the database: the session and its user (with their
    organization), as on the password page, which reads nothing more."""
    client = client_for(role)
    client.get(reverse("portal:password_change"))  # any first-request work done
    with CaptureQueriesContext(connection) as simple:
        assert client.get(reverse("portal:password_change")).status_code == 200
    with CaptureQueriesContext(connection) as dashboard:
        assert client.get(reverse(name)).status_code == 200
    assert len(dashboard) <= len(simple), [q["sql"] for q in dashboard.captured_queries]
