"""The pairings API: scoped reads, writes through the services, exact money, Chinese 400s with
nothing half-saved, and lists and progress in a constant number of queries."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import ActivityRecord
from pairings.models import (
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerKind,
    PartnerOrganization,
    Project,
)
from pairings.services import (
    HelpInput,
    ProjectInput,
    add_member_pair,
    add_need,
    add_project,
    file_help_record,
)

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NUL_MESSAGE = "不允许包含空字符（NUL）。"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def pairing_a(tree, schemes, partners, pair):
    """branch_a (secretary_a's, inspector_a's unit) with 东村, "1+1", docked."""
    return pair(
        schemes["one_plus_one"],
        tree.branch_a,
        partners["village1"],
        started_on=D(2025, 1, 1),
        status=PairingStatus.DOCKED,
    )


@pytest.fixture
def pairing_b(tree, schemes, partners, pair):
    """branch_b (secretary_b's) with 西村 of 河口镇, planned."""
    return pair(
        schemes["one_plus_one"], tree.branch_b, partners["village2"], started_on=D(2025, 1, 1)
    )


def post(client, name, data, *args, **kwargs):
    return client.post(
        reverse(name, args=args), json.dumps(data), content_type="application/json", **kwargs
    )


def visit_body(pairing, /, **extra) -> dict:
    data = {
        "pairing": pairing.pk,
        "kind": "visit",
        "date": today().isoformat(),
        "description": "走访困难户，召开共建座谈会",
    }
    data.update(extra)
    return data


def saved() -> tuple[int, int, int]:
    return HelpRecord.objects.count(), HelpPhoto.objects.count(), ActivityRecord.objects.count()


# --- help records: a secretary files on their own pairing ----------------------------------


def test_a_secretary_files_a_visit_in_json(tree, pairing_a, client_for, secretary_a):
    a1, a2 = tree.members["a1"], tree.members["a2"]
    response = post(
        client_for("secretary_a"),
        "help-record-list",
        visit_body(pairing_a, participants=[a1.pk, a2.pk], others="村支书"),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    record = HelpRecord.objects.get()
    assert data["id"] == record.pk and record.filed_by == secretary_a
    assert (data["pairing"], data["organization"], data["partner_name"]) == (
        pairing_a.pk,
        tree.branch_a.pk,
        "东村党支部",
    )
    assert (data["kind"], data["kind_display"]) == ("visit", "走访")
    assert data["participants"] == [{"id": a1.pk, "name": "张伟"}, {"id": a2.pk, "name": "王芳"}]
    assert data["others"] == "村支书"
    assert data["amount"] is None and data["activity_record"] is None and data["photos"] == []
    assert "new_photos" not in data and "as_theme_day" not in data  # write-only


def test_a_secretary_files_a_visit_with_a_photo_in_multipart(
    tree, pairing_a, client_for, secretary_a
):
    client = client_for("secretary_a")
    response = client.post(
        reverse("help-record-list"),
        {
            **visit_body(pairing_a),
            "participants": [tree.members["a1"].pk],
            "new_photos": [SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 201, response.content
    (photo,) = response.json()["photos"]
    assert (photo["name"], photo["content_type"], photo["size"]) == (
        "现场.png",
        "image/png",
        64 + 8,
    )
    assert photo["url"].startswith("http://testserver/api/help-records/")
    download = client.get(photo["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    # Scoped like the record: the unit's inspector reads it, the other branch does not.
    assert client_for("inspector_a").get(photo["url"]).status_code == 200
    assert client_for("secretary_b").get(photo["url"]).status_code == 404


def test_a_visit_filed_as_the_theme_day_files_both(tree, pairing_a, client_for, activity_types):
    response = post(
        client_for("secretary_a"),
        "help-record-list",
        visit_body(pairing_a, participants=[tree.members["a1"].pk], as_theme_day=True),
    )
    assert response.status_code == 201, response.content
    linked = ActivityRecord.objects.get()
    assert response.json()["activity_record"] == linked.pk
    assert linked.activity_type.code == "theme_day" and linked.organization == tree.branch_a


def test_deleting_a_visit_takes_its_theme_day_along(tree, pairing_a, client_for, activity_types):
    client = client_for("secretary_a")
    made = post(
        client,
        "help-record-list",
        visit_body(pairing_a, participants=[tree.members["a1"].pk], as_theme_day=True),
    ).json()
    assert (
        client_for("secretary_b")
        .delete(reverse("help-record-detail", args=[made["id"]]))
        .status_code
        == 404
    )
    assert (
        client_for("inspector_a")
        .delete(reverse("help-record-detail", args=[made["id"]]))
        .status_code
        == 403
    )
    assert saved() == (1, 0, 1)
    response = client.delete(reverse("help-record-detail", args=[made["id"]]))
    assert response.status_code == 204
    assert saved() == (0, 0, 0)


def test_money_is_exact_and_goods_keep_their_unit_of_measure(pairing_a, client_for):
    client = client_for("secretary_a")
    for amount in ("0.10", "0.20", "400000.00"):
        response = post(
            client, "help-record-list", visit_body(pairing_a, kind="funds", amount=amount)
        )
        assert response.status_code == 201, response.content
        assert response.json()["amount"] == amount
    goods = [
        ("棉被", "206", "床", "20600.00"),
        ("棉被", "10", "件", "800.00"),
        ("大米", "50", "袋", "2500.50"),
    ]
    for item, quantity, unit, value in goods:
        response = post(
            client,
            "help-record-list",
            visit_body(
                pairing_a,
                kind="goods",
                item=item,
                quantity=quantity,
                unit_of_measure=unit,
                value=value,
            ),
        )
        assert response.status_code == 201, response.content
    pairing = client.get(reverse("pairing-detail", args=[pairing_a.pk])).json()
    assert (pairing["funds"], pairing["goods_value"]) == ("400000.30", "23900.50")
    help_given = client.get(reverse("pairing-progress-list")).json()["help"]
    assert (help_given["funds"], help_given["goods_value"]) == ("400000.30", "23900.50")
    assert help_given["goods"] == [
        {"item": "大米", "unit_of_measure": "袋", "quantity": "50.00", "value": "2500.50"},
        {"item": "棉被", "unit_of_measure": "件", "quantity": "10.00", "value": "800.00"},
        {"item": "棉被", "unit_of_measure": "床", "quantity": "206.00", "value": "20600.00"},
    ]
    listed = client.get(reverse("help-record-list"), {"kind": "goods"}).json()["results"]
    assert {(r["item"], r["quantity"], r["unit_of_measure"]) for r in listed} == {
        ("棉被", "206.00", "床"),
        ("棉被", "10.00", "件"),
        ("大米", "50.00", "袋"),
    }


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"kind": "funds", "amount": "-5"}, "amount", "大于零"),
        ({"kind": "funds", "amount": "abc"}, "amount", "合法的数字"),
        ({"kind": "funds", "amount": "NaN"}, "amount", "合法的数字"),
        ({"kind": "funds", "amount": "1234567890123456"}, "amount", "不超过"),
        ({"kind": "funds", "amount": "1.005"}, "amount", "2"),
        ({"kind": "funds"}, "amount", "金额"),
        ({"date": "future"}, "date", "未来"),
        ({"date": "2025-13-40"}, "date", "日期格式错误"),
        ({"description": "  "}, "description", "不能为空"),
        ({"kind": "gift"}, "kind", "不是合法选项"),
        (
            {"kind": "goods", "item": "棉被", "quantity": "3"},
            "unit_of_measure",
            "单位",
        ),
        (
            {"kind": "goods", "item": "棉被", "quantity": "99999999999", "unit_of_measure": "床"},
            "quantity",
            "不超过 10 个数字",
        ),
        ({"pairing": 987654}, "pairing", "对象不存在"),
        ({"pairing": 2**70}, "pairing", "对象不存在"),
        ({"pairing": "-99999999999999999999999"}, "pairing", "对象不存在"),
        ({"pairing": 1.5}, "pairing", "类型错误"),
        ({"pairing": "东村"}, "pairing", "类型错误"),
        ({"participants": [2**70]}, "participants", ""),
        ({"kind": "funds", "amount": "5", "as_theme_day": True}, "as_theme_day", "走访"),
    ],
)
def test_bad_help_is_a_chinese_400_and_nothing_is_saved(pairing_a, client_for, extra, field, words):
    if extra.get("date") == "future":
        extra["date"] = (today() + datetime.timedelta(days=1)).isoformat()
    response = post(client_for("secretary_a"), "help-record-list", visit_body(pairing_a, **extra))
    assert response.status_code == 400, response.content
    errors = response.json()
    assert words in json.dumps(errors[field], ensure_ascii=False), errors
    assert saved() == (0, 0, 0)


def test_a_bad_field_in_a_multipart_filing_saves_no_photo(pairing_a, client_for, settings):
    response = client_for("secretary_a").post(
        reverse("help-record-list"),
        {
            **visit_body(pairing_a, kind="funds", amount="-1"),
            "new_photos": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 400 and "amount" in response.json()
    assert saved() == (0, 0, 0)
    assert not list(settings.MEDIA_ROOT.rglob("*.png"))


def test_a_fake_photo_is_a_400(pairing_a, client_for):
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    response = client_for("secretary_a").post(
        reverse("help-record-list"), {**visit_body(pairing_a), "new_photos": [fake]}
    )
    assert response.status_code == 400 and "photo.jpg" in response.json()["photos"][0]
    assert saved() == (0, 0, 0)


def test_a_nul_character_is_a_chinese_400(pairing_a, client_for):
    client = client_for("secretary_a")
    response = post(client, "help-record-list", visit_body(pairing_a, description="走\u0000访"))
    assert (response.status_code, response.json()) == (400, {"detail": NUL_MESSAGE})
    form = client.post(reverse("help-record-list"), visit_body(pairing_a, others="a\x00"))
    assert (form.status_code, form.json()) == (400, {"detail": NUL_MESSAGE})
    query = client.get(reverse("pairing-list"), {"town": "城\x00关"})
    assert query.status_code == 400
    assert saved() == (0, 0, 0)


def test_other_branches_pairings_and_members_are_refused_without_their_names(
    tree, pairing_a, pairing_b, client_for
):
    client = client_for("secretary_a")
    theirs = post(client, "help-record-list", visit_body(pairing_b))
    assert theirs.status_code == 400
    assert list(theirs.json()) == ["pairing"]
    stranger = tree.members["b1"]  # 陈静 of branch_b
    response = post(client, "help-record-list", visit_body(pairing_a, participants=[stranger.pk]))
    assert response.status_code == 400
    assert response.json() == {"participants": [f"以下党员不存在：{stranger.pk}。"]}
    for answer in (theirs, response):
        text = answer.content.decode()
        assert "陈静" not in text and "西村" not in text and "水务局" not in text
    member_pair = post(
        client,
        "member-pair-list",
        {
            "pairing": pairing_a.pk,
            "member": stranger.pk,
            "counterpart_kind": "key_household",
            "counterpart_name": "王大爷",
            "started_on": "2025-03-01",
        },
    )
    assert member_pair.status_code == 400 and "对象不存在" in member_pair.json()["member"][0]
    assert "陈静" not in member_pair.content.decode()
    assert saved() == (0, 0, 0) and not MemberPair.objects.exists()


# --- scope --------------------------------------------------------------------------------------


def test_a_secretary_cannot_list_see_or_touch_another_branchs_pairing(
    tree, pairing_a, pairing_b, client_for, secretary_b, staff
):
    record = file_help_record(
        secretary_b,
        HelpInput(
            pairing_b, HelpKind.VISIT, today(), "走访", participant_ids={tree.members["b1"].pk}
        ),
    )
    need = add_need(secretary_b, pairing_b, "村道亮化", D(2025, 2, 1))
    project = add_project(
        secretary_b, ProjectInput(pairing_b, "书屋", Decimal("100"), D(2025, 2, 1), D(2025, 9, 1))
    )
    member_pair = add_member_pair(
        secretary_b, pairing_b, tree.members["b2"], "key_household", "李大娘", D(2025, 2, 1)
    )
    client = client_for("secretary_a")
    lists = {
        "pairing-list": pairing_a.pk,
        "help-record-list": None,
        "pairing-need-list": None,
        "pairing-project-list": None,
        "member-pair-list": None,
        "pairing-measure-list": None,
    }
    for name, only in lists.items():
        ids = [r["id"] for r in client.get(reverse(name)).json()["results"]]
        assert ids == ([only] if only else []), name
    partners = client.get(reverse("pairing-partner-list")).json()["results"]
    assert [p["name"] for p in partners] == ["东村党支部"]
    for name, pk in [
        ("pairing-detail", pairing_b.pk),
        ("help-record-detail", record.pk),
        ("pairing-need-detail", need.pk),
        ("pairing-project-detail", project.pk),
        ("member-pair-detail", member_pair.pk),
        ("pairing-partner-detail", pairing_b.partner_id),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
    assert client.delete(reverse("help-record-detail", args=[record.pk])).status_code == 404
    assert post(client, "pairing-need-close", {}, need.pk).status_code == 404
    assert post(client, "pairing-measure-list", {"need": need.pk, "description": "x"}).json() == {
        "need": [f"无效主键 “{need.pk}” － 对象不存在。"]
    }
    # Filters never widen the scope.
    for params in ({"organization": tree.branch_b.pk}, {"unit": tree.unit_b.pk}):
        assert client.get(reverse("pairing-list"), params).json()["count"] == 0
    assert HelpRecord.objects.count() == 1 and Need.objects.get().met_on is None
    # The secretary of branch_b sees it all.
    other = client_for("secretary_b")
    assert other.get(reverse("help-record-detail", args=[record.pk])).status_code == 200
    assert [r["id"] for r in other.get(reverse("pairing-list")).json()["results"]] == [pairing_b.pk]


WRITES = [
    ("post", "pairing-list", None),
    ("post", "pairing-status", "pairing"),
    ("post", "help-record-list", None),
    ("delete", "help-record-detail", "record"),
    ("post", "pairing-need-list", None),
    ("post", "pairing-need-close", "need"),
    ("post", "pairing-measure-list", None),
    ("post", "pairing-project-list", None),
    ("post", "member-pair-list", None),
]


@pytest.mark.parametrize("role", ["inspector_a", "inspector_city"])
def test_an_inspector_reads_their_units_pairings_and_every_write_is_a_403(
    tree, pairing_a, pairing_b, client_for, secretary_a, role
):
    record = file_help_record(secretary_a, HelpInput(pairing_a, HelpKind.VISIT, today(), "走访"))
    need = add_need(secretary_a, pairing_a, "村道亮化", D(2025, 2, 1))
    client = client_for(role)
    listed = [r["id"] for r in client.get(reverse("pairing-list")).json()["results"]]
    if role == "inspector_a":
        assert listed == [pairing_a.pk]
        assert client.get(reverse("pairing-detail", args=[pairing_b.pk])).status_code == 404
    else:
        assert sorted(listed) == sorted([pairing_a.pk, pairing_b.pk])
    assert client.get(reverse("pairing-detail", args=[pairing_a.pk])).json()["visit_count"] == 1
    assert client.get(reverse("help-record-detail", args=[record.pk])).status_code == 200
    targets = {"pairing": pairing_a.pk, "record": record.pk, "need": need.pk}
    bodies = {
        "pairing-list": {
            "scheme": "village_support",
            "organization": tree.branch_a2.pk,
            "partner": pairing_a.partner_id,
            "started_on": "2025-01-01",
        },
        "pairing-status": {"status": "ended"},
        "help-record-list": visit_body(pairing_a),
        "pairing-need-list": {
            "pairing": pairing_a.pk,
            "description": "x",
            "found_on": "2025-01-02",
        },
        "pairing-measure-list": {"need": need.pk, "description": "x"},
        "pairing-project-list": {
            "pairing": pairing_a.pk,
            "name": "x",
            "started_on": "2025-01-02",
            "due_on": "2025-02-02",
        },
        "member-pair-list": {
            "pairing": pairing_a.pk,
            "member": tree.members["a1"].pk,
            "counterpart_kind": "village_member",
            "counterpart_name": "x",
            "started_on": "2025-01-02",
        },
    }
    for method, name, target in WRITES:
        args = [targets[target]] if target else []
        body = json.dumps(bodies.get(name, {}))
        response = getattr(client, method)(
            reverse(name, args=args), body, content_type="application/json"
        )
        assert response.status_code == 403, (name, response.content)
    assert Pairing.objects.count() == 2 and HelpRecord.objects.count() == 1
    assert not Measure.objects.exists() and not Project.objects.exists()
    assert (
        Need.objects.get().met_on is None and Pairing.objects.get(pk=pairing_a.pk).ended_on is None
    )


# --- pairings: staff make them -----------------------------------------------------------------


def pairing_body(tree, partners, **extra) -> dict:
    data = {
        "scheme": "one_plus_one",
        "organization": tree.branch_a.pk,
        "partner": partners["village1"].pk,
        "started_on": "2026-01-05",
    }
    data.update(extra)
    return data


def test_staff_make_a_pairing_and_a_second_organ_organization_needs_a_reason(
    tree, schemes, partners, client_for
):
    client = client_for("staff")
    first = post(client, "pairing-list", pairing_body(tree, partners))
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["scheme_code"], data["organization_name"], data["partner_name"]) == (
        "one_plus_one",
        "统计局第一党支部",
        "东村党支部",
    )
    assert (data["status"], data["flagged"], data["override_reason"]) == ("planned", False, "")
    assert (data["funds"], data["goods_value"], data["visit_count"]) == ("0.00", "0.00", 0)

    second = pairing_body(tree, partners, organization=tree.branch_a2.pk)
    refused = post(client, "pairing-list", second)
    assert refused.status_code == 400
    errors = refused.json()
    assert "东村党支部" in errors["partner"][0] and "最多" in errors["partner"][0]
    assert "理由" in errors["override_reason"][0]
    assert Pairing.objects.count() == 1

    made = post(client, "pairing-list", {**second, "override_reason": "两个支部均派驻第一书记"})
    assert made.status_code == 201, made.content
    assert (made.json()["flagged"], made.json()["override_reason"]) == (
        True,
        "两个支部均派驻第一书记",
    )
    flagged = client.get(reverse("pairing-list"), {"flagged": "true"}).json()["results"]
    assert [p["id"] for p in flagged] == [made.json()["id"]]
    assert client.get(reverse("pairing-progress-list")).json()["flagged_pairings"] == 1


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"partner": "enterprise", "override_reason": "试点"}, "partner", "企业"),
        ({"organization": "committee_a"}, "organization", "党支部"),
        ({"scheme": "no_such_scheme"}, "scheme", "no_such_scheme"),
        ({"scheme": 2**70}, "scheme", "结对方案"),
        ({"partner": 987654}, "partner", "对象不存在"),
        ({"organization": 2**64}, "organization", "对象不存在"),
        ({"status": "docked"}, "docked_on", "对接完成"),
        ({"status": "ended"}, "status", "不是合法选项"),
        ({"started_on": "2026-02-30"}, "started_on", "日期格式错误"),
        ({"override_reason": "x" * 201}, "override_reason", "200"),
    ],
)
def test_bad_pairings_are_chinese_400s(tree, schemes, partners, client_for, extra, field, words):
    if extra.get("partner") == "enterprise":
        extra["partner"] = partners["enterprise"].pk
    if extra.get("organization") == "committee_a":
        extra["organization"] = tree.committee_a.pk
    response = post(client_for("staff"), "pairing-list", pairing_body(tree, partners, **extra))
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field]), response.json()
    assert not Pairing.objects.exists()


def test_only_staff_make_pairings(tree, schemes, partners, client_for):
    for role in ("secretary_a", "inspector_a", "inspector_city", "anonymous"):
        response = post(client_for(role), "pairing-list", pairing_body(tree, partners))
        assert response.status_code == 403, role
    assert not Pairing.objects.exists()


def test_staff_mark_a_pairing_docked_then_ended(pairing_b, client_for):
    client = client_for("staff")
    future = (today() + datetime.timedelta(days=3)).isoformat()
    refused = post(client, "pairing-status", {"status": "docked", "date": future}, pairing_b.pk)
    assert refused.status_code == 400 and "未来" in refused.json()["date"][0]
    early = post(client, "pairing-status", {"status": "docked", "date": "2024-12-31"}, pairing_b.pk)
    assert early.status_code == 400 and "date" in early.json()
    assert post(client, "pairing-status", {"status": "planned"}, pairing_b.pk).status_code == 400
    docked = post(
        client, "pairing-status", {"status": "docked", "date": "2025-03-01"}, pairing_b.pk
    )
    assert docked.status_code == 200, docked.content
    assert (docked.json()["status"], docked.json()["docked_on"]) == ("docked", "2025-03-01")
    ended = post(client, "pairing-status", {"status": "ended"}, pairing_b.pk)
    assert (ended.json()["status"], ended.json()["ended_on"]) == ("ended", today().isoformat())
    assert (
        post(
            client_for("secretary_b"), "pairing-status", {"status": "ended"}, pairing_b.pk
        ).status_code
        == 403
    )


# --- needs, measures, projects, member pairs ---------------------------------------------------


def test_needs_measures_and_closing(pairing_a, client_for):
    client = client_for("secretary_a")
    future = (today() + datetime.timedelta(days=1)).isoformat()
    bad = post(
        client,
        "pairing-need-list",
        {"pairing": pairing_a.pk, "description": "村道亮化", "found_on": future},
    )
    assert bad.status_code == 400 and "未来" in bad.json()["found_on"][0]
    made = post(
        client,
        "pairing-need-list",
        {"pairing": pairing_a.pk, "description": "村道亮化", "found_on": "2025-02-01"},
    )
    assert made.status_code == 201, made.content
    need = made.json()
    assert (need["is_open"], need["measures"], need["partner_name"]) == (True, [], "东村党支部")
    measure = post(
        client,
        "pairing-measure-list",
        {"need": need["id"], "description": "安装路灯 20 盏", "due_on": "2025-06-30"},
    )
    assert measure.status_code == 201, measure.content
    assert (measure.json()["pairing"], measure.json()["due_on"]) == (pairing_a.pk, "2025-06-30")
    early = post(client, "pairing-need-close", {"met_on": "2025-01-15"}, need["id"])
    assert early.status_code == 400 and "met_on" in early.json()
    closed = post(client, "pairing-need-close", {"met_on": "2025-07-01"}, need["id"])
    assert closed.status_code == 200, closed.content
    assert (closed.json()["is_open"], closed.json()["met_on"]) == (False, "2025-07-01")
    assert [m["description"] for m in closed.json()["measures"]] == ["安装路灯 20 盏"]
    assert client.get(reverse("pairing-need-list"), {"open": "true"}).json()["count"] == 0
    assert client.get(reverse("pairing-need-list"), {"open": "false"}).json()["count"] == 1
    assert client.get(reverse("pairing-need-list"), {"open": ""}).status_code == 400
    pairing = client.get(reverse("pairing-detail", args=[pairing_a.pk])).json()
    assert (pairing["need_count"], pairing["open_need_count"], pairing["measure_count"]) == (
        1,
        0,
        1,
    )


def test_projects_keep_their_budget_exact(pairing_a, client_for):
    client = client_for("secretary_a")
    body = {
        "pairing": pairing_a.pk,
        "name": "村史馆",
        "budget": "12000.50",
        "started_on": "2025-02-01",
        "due_on": "2025-06-30",
    }
    for extra, field, words in [
        ({"budget": "-1"}, "budget", "负"),
        ({"budget": "1e20"}, "budget", "14"),
        ({"due_on": "2025-01-01"}, "due_on", "开始"),
        ({"name": ""}, "name", "不能为空"),
    ]:
        response = post(client, "pairing-project-list", {**body, **extra})
        assert response.status_code == 400 and words in response.json()[field][0], extra
    assert not Project.objects.exists()
    made = post(client, "pairing-project-list", body)
    assert made.status_code == 201, made.content
    assert (made.json()["budget"], made.json()["status"]) == ("12000.50", "planned")
    assert client.get(reverse("pairing-detail", args=[pairing_a.pk])).json()["project_count"] == 1


def test_member_pairs(tree, pairing_a, client_for):
    body = {
        "pairing": pairing_a.pk,
        "member": tree.members["a1"].pk,
        "counterpart_kind": "key_household",
        "counterpart_name": "王大爷",
        "started_on": "2025-03-01",
    }
    made = post(client_for("secretary_a"), "member-pair-list", body)
    assert made.status_code == 201, made.content
    assert (made.json()["member_name"], made.json()["counterpart_kind_display"]) == (
        "张伟",
        "重点户",
    )
    again = post(client_for("secretary_a"), "member-pair-list", body)
    assert again.status_code == 400 and "counterpart_name" in again.json()
    # Staff see every member: one of another branch is named, being in their scope.
    elsewhere = post(
        client_for("staff"), "member-pair-list", {**body, "member": tree.members["a2_1"].pk}
    )
    assert elsewhere.status_code == 400 and "刘洋" in elsewhere.json()["member"][0]
    assert MemberPair.objects.count() == 1


# --- filters ------------------------------------------------------------------------------------


def test_pairing_filters(tree, schemes, partners, pairing_a, pairing_b, client_for):
    client = client_for("staff")

    def ids(**params):
        response = client.get(reverse("pairing-list"), params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    both = {pairing_a.pk, pairing_b.pk}
    assert ids(scheme="one_plus_one") == both
    assert ids(scheme=schemes["one_plus_one"].pk) == both
    assert ids(scheme="village_support") == set()
    assert ids(scheme=str(2**70)) == set()
    assert ids(unit=tree.unit_a.pk) == {pairing_a.pk}
    assert ids(organization=tree.committee_b.pk) == {pairing_b.pk}
    assert ids(status="docked") == {pairing_a.pk}
    assert ids(town="河口镇") == {pairing_b.pk}
    assert ids(search="西村") == {pairing_b.pk}
    assert ids(flagged="false") == both
    for params in (
        {"unit": "abc"},
        {"unit": "0.5"},
        {"organization": str(2**70)},
        {"status": "lost"},
        {"flagged": ""},
    ):
        assert client.get(reverse("pairing-list"), params).status_code == 400, params
    partners_found = client.get(
        reverse("pairing-partner-list"), {"kind": "village", "town": "城关镇"}
    ).json()
    assert [p["name"] for p in partners_found["results"]] == ["东村党支部"]
    assert client.get(reverse("pairing-partner-list"), {"kind": "castle"}).status_code == 400


def test_help_record_filters(pairing_a, pairing_b, client_for, secretary_a, secretary_b):
    file_help_record(secretary_a, HelpInput(pairing_a, HelpKind.VISIT, D(2025, 3, 1), "走访"))
    file_help_record(
        secretary_a,
        HelpInput(pairing_a, HelpKind.FUNDS, D(2026, 2, 1), "慰问金", amount=Decimal("1")),
    )
    file_help_record(secretary_b, HelpInput(pairing_b, HelpKind.VISIT, D(2026, 3, 5), "走访"))
    client = client_for("staff")

    def count(**params):
        response = client.get(reverse("help-record-list"), params)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count() == 3
    assert count(pairing=pairing_a.pk) == 2
    assert count(kind="visit") == 2
    assert count(period="2026") == 2
    assert count(period="2026-Q1", kind="funds") == 1
    assert count(period="2026-03") == 1
    assert count(date_from="2026-01-01", date_to="2026-02-28") == 1
    assert count(date_from="2026-03-01", period="2025") == 0
    assert count(scheme="one_plus_one", unit=pairing_b.organization.unit_id) == 1
    for params in ({"period": "2026-13"}, {"period": "9999"}, {"date_from": "x"}, {"kind": "y"}):
        assert client.get(reverse("help-record-list"), params).status_code == 400, params


# --- progress -----------------------------------------------------------------------------------


def test_progress_per_scheme_and_unit_with_totals_and_gaps(
    tree, schemes, partners, pair, pairing_a, pairing_b, client_for, secretary_a
):
    pair(schemes["one_plus_two"], tree.committee_a, partners["community"])  # one of two
    file_help_record(
        secretary_a,
        HelpInput(pairing_a, HelpKind.FUNDS, D(2025, 6, 1), "慰问金", amount=Decimal("100.01")),
    )
    file_help_record(
        secretary_a,
        HelpInput(pairing_a, HelpKind.FUNDS, D(2026, 2, 1), "慰问金", amount=Decimal("0.02")),
    )
    add_project(
        secretary_a, ProjectInput(pairing_a, "书屋", Decimal("1"), D(2025, 1, 1), D(2025, 2, 1))
    )
    client = client_for("inspector_a")
    data = client.get(reverse("pairing-progress-list")).json()
    one_plus_one = next(d for d in data["docking"] if d["scheme_code"] == "one_plus_one")
    assert one_plus_one["total"] == {
        "unit": None,
        "unit_name": None,
        "enrolled": 2,  # branch_a and branch_a2: universal, every branch of the unit
        "paired": 1,
        "docked": 1,
        "rate": 0.5,
    }
    assert [(u["unit_name"], u["enrolled"], u["docked"]) for u in one_plus_one["units"]] == [
        ("市统计局", 2, 1)
    ]
    assert data["help"]["funds"] == "100.03" and data["help"]["visits"] == 0
    assert data["help"]["by_scheme_unit"] == [
        {
            "scheme": schemes["one_plus_one"].pk,
            "unit": tree.unit_a.pk,
            "visits": 0,
            "funds": "100.03",
            "goods_value": "0.00",
        }
    ]
    assert (data["unvisited_pairings"], data["overdue_projects"]) == (2, 1)
    assert (data["incomplete_partners"], data["pairings_lacking_projects"]) == (1, 1)
    assert data["flagged_pairings"] == 0 and data["visit_days"] == 90

    def funds(**params):
        response = client.get(reverse("pairing-progress-list"), params)
        assert response.status_code == 200, response.content
        return response.json()["help"]["funds"], response.json()["date_from"]

    assert funds(year=2025) == ("100.01", "2025-01-01")
    assert funds(date_from="2026-01-01") == ("0.02", "2026-01-01")
    assert funds(year=2025, date_from="2025-07-01") == ("0.00", "2025-07-01")
    assert funds(date_from="2026-01-01", date_to="2025-01-01")[0] == "0.00"
    for params in ({"year": "1800"}, {"year": "x"}, {"date_to": "2025-02-30"}):
        response = client.get(reverse("pairing-progress-list"), params)
        assert response.status_code == 400, params
    # Another branch's secretary sees none of it.
    other = client_for("secretary_b").get(reverse("pairing-progress-list")).json()
    assert other["help"]["funds"] == "0.00" and other["overdue_projects"] == 0


# --- queries: the same for few rows and many ----------------------------------------------------


def _many(tree, schemes, staff, n, start=0):
    """n docked "挂钩帮扶" pairings of branch_a (no limit per organization) with n villages, and
    on each a visit (a participant, a photo), funds, goods, a need with a measure, a project
    and a member pair; bulk-created."""
    partners = PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"村{i}", kind=PartnerKind.VILLAGE, town="河口镇")
        for i in range(start, start + n)
    )
    pairings = Pairing.objects.bulk_create(
        Pairing(
            scheme=schemes["village_support"],
            organization=tree.branch_a,
            partner=p,
            started_on=D(2025, 1, 1),
            status=PairingStatus.DOCKED,
            docked_on=D(2025, 2, 1),
        )
        for p in partners
    )
    records = HelpRecord.objects.bulk_create(
        HelpRecord(
            pairing=p,
            kind=kind,
            date=D(2025, 3, 1),
            description="慰问",
            amount=Decimal("100.01") if kind == HelpKind.FUNDS else None,
            item="棉被" if kind == HelpKind.GOODS else "",
            quantity=Decimal("2") if kind == HelpKind.GOODS else None,
            unit_of_measure="床" if kind == HelpKind.GOODS else "",
            value=Decimal("50") if kind == HelpKind.GOODS else None,
            filed_by=staff,
        )
        for p in pairings
        for kind in HelpKind.values
    )
    visits = [r for r in records if r.kind == HelpKind.VISIT]
    HelpRecord.participants.through.objects.bulk_create(
        HelpRecord.participants.through(helprecord_id=r.pk, member_id=tree.members["a1"].pk)
        for r in visits
    )
    HelpPhoto.objects.bulk_create(
        HelpPhoto(
            help_record=r,
            file=f"help/x{r.pk}.png",
            original_name="a.png",
            content_type="image/png",
            size=1,
        )
        for r in visits
    )
    needs = Need.objects.bulk_create(
        Need(pairing=p, description="路灯", found_on=D(2025, 2, 1)) for p in pairings
    )
    Measure.objects.bulk_create(Measure(need=need, description="安装") for need in needs)
    Project.objects.bulk_create(
        Project(pairing=p, name="书屋", started_on=D(2025, 1, 1), due_on=D(2025, 6, 1))
        for p in pairings
    )
    MemberPair.objects.bulk_create(
        MemberPair(
            pairing=p,
            member=tree.members["a1"],
            counterpart_kind="key_household",
            counterpart_name=f"户{p.pk}",
            started_on=D(2025, 1, 1),
        )
        for p in pairings
    )


LISTS = [
    "pairing-list",
    "help-record-list",
    "pairing-need-list",
    "pairing-measure-list",
    "pairing-project-list",
    "member-pair-list",
    "pairing-partner-list",
    "pairing-progress-list",
]


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a"])
def test_lists_and_progress_cost_the_same_queries_for_10_and_200_pairings(
    tree, schemes, staff, client_for, role
):
    client = client_for(role)

    def measure() -> dict[str, int]:
        found = {}
        for name in LISTS:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name))
            assert response.status_code == 200, (name, response.content)
            found[name] = len(queries)
        return found

    _many(tree, schemes, staff, 10)
    few = measure()
    _many(tree, schemes, staff, 190, start=10)
    many = measure()
    assert few == many
    progress = client.get(reverse("pairing-progress-list")).json()
    assert progress["help"]["funds"] == "20002.00"  # 200 x 100.01, exact
    assert progress["help"]["goods"] == [
        {"item": "棉被", "unit_of_measure": "床", "quantity": "400.00", "value": "10000.00"}
    ]
    page = client.get(reverse("pairing-list")).json()
    assert page["count"] == 200 and page["results"][0]["funds"] == "100.01"
    # A page of 50 pairings: session, user, count, the page (its totals are subqueries).
    assert few["pairing-list"] <= 5


def test_the_schema_publishes_the_pairing_endpoints(db, client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/pairings/",
        "/api/pairings/{id}/status/",
        "/api/help-records/",
        "/api/help-records/{id}/photos/{photo_pk}/",
        "/api/pairing-needs/{id}/close/",
        "/api/pairing-progress/",
    ):
        assert path in schema["paths"], path
    create = schema["paths"]["/api/help-records/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in create
