"""Portal pages of pairings: the list, a pairing's page, filing help from a phone (a visit with
photos, one counted as the branch's 主题党日, funds, goods), needs, measures, projects, member
pairs, the photo view and the progress page; scope (404), refusals (403), Chinese errors on bad
input with nothing saved, and query counts that do not grow with the pairings."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from branches.models import ActivityRecord, Organization, OrganizationKind
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
from pairings.services import HelpInput, add_need, file_help_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def pairing_a(tree, schemes, partners, pair):
    """branch_a (secretary_a's) with 东村 under "1+1", docked."""
    return pair(
        schemes["one_plus_one"],
        tree.branch_a,
        partners["village1"],
        started_on=D(2025, 1, 1),
        status=PairingStatus.DOCKED,
    )


@pytest.fixture
def pairing_b(tree, schemes, partners, pair):
    """branch_b (secretary_b's, another unit) with 西村 under "1+1"."""
    return pair(schemes["one_plus_one"], tree.branch_b, partners["village2"], D(2025, 1, 1))


def url(name: str, obj) -> str:
    return reverse(f"portal:{name}", args=[obj.pk])


def visit_post(**extra) -> dict:
    data = {
        "kind": HelpKind.VISIT,
        "date": today().isoformat(),
        "description": "走访困难户，召开共建座谈会",
    }
    data.update(extra)
    return data


def photo(name="现场.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def counts() -> tuple[int, int, int]:
    return HelpRecord.objects.count(), HelpPhoto.objects.count(), ActivityRecord.objects.count()


def text(response) -> str:
    return response.content.decode()


# --- filing help -------------------------------------------------------------------------------


def test_the_help_form_offers_the_branch_members_today_and_the_camera(tree, pairing_a, client_for):
    response = client_for("secretary_a").get(url("help_new", pairing_a))
    assert response.status_code == 200
    html = text(response)
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/*" capture="environment" multiple' in html
    assert f'value="{today():%Y-%m-%d}" max="{today():%Y-%m-%d}"' in html
    for key in ("a1", "a2", "a3"):  # branch_a's members, its group's included
        assert f'name="participants" value="{tree.members[key].pk}"' in html
    assert f'value="{tree.members["b1"].pk}"' not in html
    assert "同时计为本支部主题党日" in html  # a branch holds the theme party day
    assert 'value="visit" checked' in html


def test_secretary_files_a_visit_with_a_photo_and_sees_it_on_the_pairing_page(
    tree, pairing_a, client_for, secretary_a
):
    client = client_for("secretary_a")
    members = [tree.members["a1"].pk, tree.members["a2"].pk]
    response = client.post(
        url("help_new", pairing_a),
        visit_post(participants=members, others="村第一书记", photos=[photo()]),
    )
    assert response.status_code == 302
    assert response["Location"] == url("pairing", pairing_a) + "#help"
    record = HelpRecord.objects.get()
    assert (record.pairing, record.kind, record.filed_by) == (pairing_a, "visit", secretary_a)
    assert set(record.participants.values_list("name", flat=True)) == {"张伟", "王芳"}
    assert record.others == "村第一书记" and record.activity_record is None
    stored = record.photos.get()
    assert (stored.original_name, stored.content_type) == ("现场.png", "image/png")

    page = text(client.get(url("pairing", pairing_a)))
    assert "已记录" in page  # the success message, in Chinese
    assert "走访困难户，召开共建座谈会" in page
    assert url("help_photo", stored) in page
    assert "张伟" in page and "村第一书记" in page

    served = client.get(url("help_photo", stored))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG
    assert client.get(url("help_record", record)).status_code == 200


def test_a_visit_counted_as_the_theme_day_files_one_activity_record_linked_to_it(
    tree, pairing_a, client_for, activity_types
):
    client = client_for("secretary_a")
    response = client.post(
        url("help_new", pairing_a),
        visit_post(
            participants=[tree.members["a1"].pk, tree.members["a2"].pk],
            as_theme_day="on",
            topic="结对共建主题党日",
        ),
    )
    assert response.status_code == 302
    activity = ActivityRecord.objects.get()
    record = HelpRecord.objects.get()
    assert record.activity_record == activity
    assert activity.organization_id == tree.branch_a.pk
    assert activity.topic == "结对共建主题党日"
    assert (activity.present_count, activity.absent_count) == (2, 1)
    page = text(client.get(url("pairing", pairing_a)))
    assert "已计为主题党日" in page  # the message and the badge
    assert reverse("portal:activity_detail", args=[activity.pk]) in page

    # The same day twice: the branch has its theme day already; nothing more is saved.
    again = client.post(
        url("help_new", pairing_a),
        visit_post(participants=[tree.members["a1"].pk], as_theme_day="on"),
    )
    assert again.status_code == 200
    assert again.context["form"].errors["as_theme_day"]
    assert counts() == (1, 0, 1)


def test_funds_and_goods_are_filed_and_added_up(pairing_a, client_for):
    client = client_for("secretary_a")
    funds = {"kind": "funds", "amount": "1200.50", "description": "村级活动场所修缮资金"}
    goods = {
        "kind": "goods",
        "item": "棉被",
        "quantity": "20",
        "unit_of_measure": "床",
        "value": "3000",
        "description": "为困难户送棉被",
    }
    for data in (funds, goods):
        assert client.post(url("help_new", pairing_a), visit_post(**data)).status_code == 302
    assert HelpRecord.objects.get(kind="funds").amount == Decimal("1200.50")
    assert HelpRecord.objects.get(kind="goods").unit_of_measure == "床"
    response = client.get(url("pairing", pairing_a))
    shown = response.context["pairing"]
    assert (shown.funds, shown.goods_value) == (Decimal("1200.50"), Decimal("3000.00"))
    page = text(response)
    assert "棉被 20床" in page
    assert "1200.50元" in page


# --- bad input: Chinese errors, nothing saved, never a 500 ---------------------------------------


BAD = [
    # (what is sent, the field in error, a piece of the Chinese message)
    ({"kind": "funds", "amount": "-5"}, "amount", "金额必须大于零"),
    ({"kind": "funds", "amount": "abc"}, "amount", "数字"),
    ({"kind": "funds", "amount": "1e400"}, "amount", "14 个数字"),
    ({"kind": "funds", "amount": "NaN"}, "amount", "数字"),
    ({"kind": "funds", "amount": ""}, "amount", "金额"),
    ({"date": "2999-01-01"}, "date", "未来"),
    ({"date": "2026-02-30"}, "date", "有效的日期"),
    ({"date": ""}, "date", "日期"),
    ({"description": "   "}, "description", "做了什么"),
    ({"kind": "gift"}, "kind", "有效的选项"),
    ({"kind": "goods", "item": "大米", "quantity": "0"}, "quantity", "数量必须大于零"),
    ({"kind": "goods", "item": "大米", "quantity": "5"}, "unit_of_measure", "计量单位"),
    (
        {"kind": "goods", "item": "大米", "quantity": "5", "unit_of_measure": "袋", "value": "-1"},
        "value",
        "负数",
    ),
    ({"kind": "funds", "amount": "100", "as_theme_day": "on"}, "as_theme_day", "只有走访"),
    ({"as_theme_day": "on"}, "participants", "参加人员"),
    ({"participants": ["abc"]}, "participants", "有效的选项"),
    ({"others": "很" * 201}, "others", "200"),
]


@pytest.mark.parametrize(("data", "field", "message"), BAD, ids=[repr(b[0])[:60] for b in BAD])
def test_bad_input_comes_back_in_chinese_next_to_its_field_and_nothing_is_saved(
    pairing_a, client_for, data, field, message
):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(photos=[photo()], **data)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    html = text(response)
    assert "未保存任何内容" in html and "照片未保存，请重新选择" in html
    assert f'id="error_{field}"' in html
    assert counts() == (0, 0, 0)


def test_every_error_the_service_finds_comes_back_in_one_round(pairing_a, client_for):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a),
        {"kind": "funds", "date": "2999-01-01", "description": "", "amount": "-5"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date", "description", "amount"}
    assert counts() == (0, 0, 0)


def test_a_participant_from_another_branch_is_refused(tree, pairing_a, client_for):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(participants=[tree.members["b1"].pk])
    )
    assert response.status_code == 200
    assert "participants" in response.context["form"].errors
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (photo("virus.jpg", b"MZ\x90\x00 not a photo", "image/jpeg"), "照片"),
        (photo("空.png", b"", "image/png"), ""),
        (photo("x" * 300 + ".png"), ""),  # a long name is cut, not refused
    ],
    ids=["not-a-photo", "empty", "long-name"],
)
def test_odd_files_are_refused_in_chinese_or_kept_safely(pairing_a, client_for, upload, message):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(photos=[upload])
    )
    if response.status_code == 302:  # the long name: saved, its name cut to the field
        assert len(HelpPhoto.objects.get().original_name) <= 255
        return
    assert response.status_code == 200
    assert response.context["form"].photo_errors
    assert message in " ".join(response.context["form"].photo_errors)
    assert "照片未保存，请重新选择" in text(response)
    assert counts() == (0, 0, 0)


def test_a_photo_too_large_is_refused(pairing_a, client_for, settings):
    settings.ACTIVITY_ATTACHMENT_MAX_MB = 1
    big = photo("大.png", PNG + b"\x00" * (1024 * 1024))
    response = client_for("secretary_a").post(url("help_new", pairing_a), visit_post(photos=[big]))
    assert response.status_code == 200
    assert "1 MB" in " ".join(response.context["form"].photo_errors)
    assert counts() == (0, 0, 0)


def test_a_nul_character_is_a_400_and_nothing_is_saved(pairing_a, client_for):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(description="走访\x00")
    )
    assert response.status_code == 400
    assert counts() == (0, 0, 0)


# --- scope and refusals ------------------------------------------------------------------------


def test_a_secretary_cannot_see_or_touch_another_branchs_pairing(
    tree, pairing_a, pairing_b, client_for, staff
):
    record = file_help_record(
        staff,
        HelpInput(
            pairing_b,
            HelpKind.VISIT,
            today(),
            "走访",
            photos=[photo()],
        ),
    )
    need = add_need(staff, pairing_b, "缺少活动场所", today())
    client = client_for("secretary_a")
    listed = client.get(reverse("portal:pairings")).context["page"].object_list
    assert [p.pk for p in listed] == [pairing_a.pk]
    for address in (
        url("pairing", pairing_b),
        url("help_new", pairing_b),
        url("need_new", pairing_b),
        url("project_new", pairing_b),
        url("member_pair_new", pairing_b),
        url("need_close", need),
        url("measure_new", need),
        url("help_record", record),
        url("help_photo", record.photos.get()),
    ):
        assert client.get(address).status_code == 404, address
    for address in (url("help_new", pairing_b), url("need_new", pairing_b)):
        assert client.post(address, visit_post(found_on=today().isoformat())).status_code == 404
    assert client.post(url("need_close", need), {"met_on": today().isoformat()}).status_code == 404
    assert HelpRecord.objects.count() == 1 and Need.objects.get().met_on is None


def test_an_inspector_reads_their_units_pairings_and_writes_nothing(
    tree, pairing_a, pairing_b, client_for, staff
):
    need = add_need(staff, pairing_a, "缺少图书", today())
    client = client_for("inspector_a")
    listed = client.get(reverse("portal:pairings")).context["page"].object_list
    assert [p.pk for p in listed] == [pairing_a.pk]
    detail = client.get(url("pairing", pairing_a))
    assert detail.status_code == 200
    html = text(detail)
    assert url("help_new", pairing_a) not in html  # no buttons
    assert url("need_close", need) not in html
    assert client.get(url("pairing", pairing_b)).status_code == 404
    writes = [
        (url("help_new", pairing_a), visit_post()),
        (url("need_new", pairing_a), {"description": "x", "found_on": today().isoformat()}),
        (url("need_close", need), {"met_on": today().isoformat()}),
        (url("measure_new", need), {"description": "x"}),
        (
            url("project_new", pairing_a),
            {"name": "x", "started_on": "2026-01-01", "due_on": "2026-12-31", "status": "planned"},
        ),
        (url("member_pair_new", pairing_a), {}),
    ]
    for address, data in writes:
        got = client.get(address)
        assert got.status_code == 403, address
        assert "您不能填报这个结对的工作" in text(got)
        assert client.post(address, data).status_code == 403, address
    assert HelpRecord.objects.count() == 0 and Measure.objects.count() == 0
    assert Project.objects.count() == 0 and Need.objects.get().met_on is None


# --- needs, measures, projects, member pairs ----------------------------------------------------


def test_needs_measures_and_projects_are_added_and_closed(pairing_a, client_for):
    client = client_for("secretary_a")
    found = (today() - datetime.timedelta(days=3)).isoformat()
    response = client.post(
        url("need_new", pairing_a), {"description": "缺少图书", "found_on": found}
    )
    assert response.status_code == 302 and response["Location"] == url("pairing", pairing_a)
    need = Need.objects.get()
    due = (today() + datetime.timedelta(days=30)).isoformat()
    assert client.post(url("measure_new", need), {"description": "捐建农家书屋", "due_on": due})[
        "Location"
    ] == url("pairing", pairing_a)
    assert need.measures.get().description == "捐建农家书屋"
    project = {
        "name": "农家书屋",
        "budget": "12000.50",
        "started_on": "2026-01-10",
        "due_on": "2026-06-30",
        "status": "underway",
    }
    assert client.post(url("project_new", pairing_a), project).status_code == 302
    assert Project.objects.get().budget == Decimal("12000.50")
    page = text(client.get(url("pairing", pairing_a)))
    assert "缺少图书" in page and "捐建农家书屋" in page and "农家书屋" in page
    assert url("need_close", need) in page

    assert client.post(url("need_close", need), {"met_on": today().isoformat()}).status_code == 302
    need.refresh_from_db()
    assert need.met_on == today()


def test_the_small_forms_answer_bad_input_in_chinese(pairing_a, client_for):
    client = client_for("secretary_a")
    future = (today() + datetime.timedelta(days=2)).isoformat()
    response = client.post(url("need_new", pairing_a), {"description": " ", "found_on": "x"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"description", "found_on"}
    response = client.post(
        url("need_new", pairing_a), {"description": "缺图书", "found_on": future}
    )
    assert "未来" in " ".join(response.context["form"].errors["found_on"])
    assert "未来" in text(response)
    project = {"name": "书屋", "started_on": "2026-06-01", "due_on": "2026-01-01", "budget": "-1"}
    response = client.post(url("project_new", pairing_a), {**project, "status": "planned"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "due_on" in errors and "budget" in errors
    need = Need.objects.create(pairing=pairing_a, description="缺图书", found_on=today())
    earlier = (today() - datetime.timedelta(days=1)).isoformat()
    response = client.post(url("need_close", need), {"met_on": earlier})
    assert response.status_code == 200
    assert "met_on" in response.context["form"].errors
    assert client.post(url("measure_new", need), {"description": ""}).status_code == 200
    assert (Project.objects.count(), Measure.objects.count()) == (0, 0)
    need.refresh_from_db()
    assert need.met_on is None


def test_a_member_pair_is_added_for_a_scheme_whose_members_pair(tree, pairing_a, client_for):
    client = client_for("secretary_a")
    data = {
        "member": tree.members["a1"].pk,
        "counterpart_kind": "key_household",
        "counterpart_name": "王大爷",
        "started_on": today().isoformat(),
    }
    assert client.post(url("member_pair_new", pairing_a), data).status_code == 302
    assert MemberPair.objects.get().counterpart_name == "王大爷"
    assert "王大爷" in text(client.get(url("pairing", pairing_a)))
    # A member of another branch is not offered.
    response = client.post(
        url("member_pair_new", pairing_a), {**data, "member": tree.members["b1"].pk}
    )
    assert response.status_code == 200 and "member" in response.context["form"].errors


# --- the list ------------------------------------------------------------------------------------


def test_the_list_filters_by_scheme_and_status_and_ignores_bad_values(
    tree, schemes, partners, pair, pairing_a, client_for
):
    other = pair(schemes["village_support"], tree.branch_a, partners["village2"])
    flagged = pair(
        schemes["one_plus_one"], tree.branch_a2, partners["village1"], override_reason="试点"
    )
    client = client_for("staff")

    def listed(**query):
        response = client.get(reverse("portal:pairings"), query)
        assert response.status_code == 200
        return {p.pk for p in response.context["page"].object_list}

    assert listed() == {pairing_a.pk, other.pk, flagged.pk}
    assert listed(scheme=schemes["village_support"].pk) == {other.pk}
    assert listed(status="docked") == {pairing_a.pk}
    assert listed(status="bogus", scheme="abc") == {pairing_a.pk, other.pk, flagged.pk}
    assert listed(scheme="99999999999999999999") == {pairing_a.pk, other.pk, flagged.pk}
    assert listed(page="zzz") == {pairing_a.pk, other.pk, flagged.pk}
    html = text(client.get(reverse("portal:pairings")))
    assert "突破规则" in html and "东村党支部" in html


def _many_pairings(tree, schemes, n: int) -> None:
    """n pairings of branch_a under 挂钩帮扶 (no limit), a visit and funds on each."""
    partners = PartnerOrganization.objects.bulk_create(
        PartnerOrganization(name=f"{n}-{i}村", kind=PartnerKind.VILLAGE, town="城关镇")
        for i in range(n)
    )
    pairings = Pairing.objects.bulk_create(
        Pairing(
            scheme=schemes["village_support"],
            organization=tree.branch_a,
            partner=p,
            started_on=D(2025, 1, 1),
            status=PairingStatus.DOCKED,
            docked_on=D(2025, 1, 1),
            override_reason="试点" if i % 5 == 0 else "",
        )
        for i, p in enumerate(partners)
    )
    HelpRecord.objects.bulk_create(
        HelpRecord(pairing=p, kind=kind, date=today(), description="x", amount=amount)
        for p in pairings
        for kind, amount in (("visit", None), ("funds", Decimal("10.01")))
    )


@pytest.mark.parametrize("n", [3, 30])
def test_the_list_costs_the_same_queries_however_many_pairings(
    tree, schemes, client_for, django_assert_num_queries, n
):
    _many_pairings(tree, schemes, n)
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 the schemes, 4 count, 5 the page with its totals.
    with django_assert_num_queries(5):
        response = client.get(reverse("portal:pairings"))
    rows = response.context["page"].object_list
    assert len(rows) == min(n, 20)
    assert rows[0].funds == Decimal("10.01") and rows[0].visit_count == 1


@pytest.mark.parametrize("n", [2, 12])
def test_the_pairing_page_costs_the_same_queries_however_much_help(
    tree, pairing_a, client_for, django_assert_num_queries, staff, n
):
    for i in range(n):
        record = file_help_record(
            staff,
            HelpInput(
                pairing_a,
                HelpKind.VISIT,
                today() - datetime.timedelta(days=i),
                f"走访{i}",
                participant_ids={tree.members["a1"].pk},
                photos=[photo()],
            ),
        )
        assert record.pk
        need = add_need(staff, pairing_a, f"需求{i}", today())
        Measure.objects.create(need=need, description=f"措施{i}")
        project = Project.objects.create(
            pairing=pairing_a, name=f"项目{i}", started_on=D(2026, 1, 1), due_on=D(2026, 2, 1)
        )
        project.milestones.create(name="开工", due_on=D(2026, 1, 15))
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 the pairing with its totals, 4-5 needs and measures, 6-7 projects
    # and milestones, 8-10 help records (activity record joined), people, photos, 11 member
    # pairs, 12 may the secretary report here.
    with django_assert_num_queries(12):
        response = client.get(url("pairing", pairing_a))
    assert len(response.context["helps"]) == n


# --- the progress page ---------------------------------------------------------------------------


def test_progress_shows_docking_gaps_and_totals(
    tree, schemes, partners, pair, pairing_a, client_for, staff
):
    flagged = pair(
        schemes["one_plus_one"], tree.branch_a2, partners["village1"], override_reason="试点"
    )
    community = pair(schemes["one_plus_two"], tree.committee_a, partners["community"])
    Project.objects.create(
        pairing=community,
        name="邻里书屋",
        started_on=D(2025, 1, 1),
        due_on=D(2025, 6, 30),
        status="underway",
    )
    file_help_record(
        staff,
        HelpInput(
            pairing_a,
            HelpKind.GOODS,
            today(),
            "送棉被",
            item="棉被",
            quantity=Decimal("20"),
            unit_of_measure="床",
            value=Decimal("3000"),
        ),
    )
    client = client_for("inspector_a")
    response = client.get(reverse("portal:pairing_progress"))
    assert response.status_code == 200
    context = response.context
    one_plus_one = next(d for d in context["docking"] if d.total.scheme.code == "one_plus_one")
    # unit_a's branches: branch_a (docked) and branch_a2 (paired, not docked).
    assert (one_plus_one.total.docked, one_plus_one.total.enrolled) == (1, 2)
    html = text(response)
    assert "1 / 2, 50.0%" in html
    assert context["unpaired"][0]["count"] == 0  # both branches paired
    assert [r["partner__name"] for r in context["incomplete"]["rows"]] == ["南街社区党委"]
    assert [p.pk for p in context["lacking_projects"]["rows"]] == []  # it leads one
    assert [p.name for p in context["overdue"]["rows"]] == ["邻里书屋"]
    assert [p.pk for p in context["flagged"]["rows"]] == [flagged.pk]
    assert context["totals"].goods_value == Decimal("3000.00")
    assert "棉被" in html and "20床" in html
    assert {p.pk for p in context["unvisited"]["rows"]} == {pairing_a.pk, flagged.pk, community.pk}

    # Another year, and bad years falling back to this one without an error.
    assert client.get(reverse("portal:pairing_progress"), {"year": "2025"}).context["year"] == 2025
    last = client.get(reverse("portal:pairing_progress"), {"year": "2025"}).context["totals"]
    assert last.goods_value == 0
    for bad in ("abc", "1999", "99999", "-1", "２０２５", str(today().year + 1)):
        got = client.get(reverse("portal:pairing_progress"), {"year": bad})
        assert got.status_code == 200 and got.context["year"] == today().year, bad


def test_progress_for_a_secretary_counts_their_scope_only(
    tree, schemes, partners, pair, pairing_a, pairing_b, client_for
):
    response = client_for("secretary_a").get(reverse("portal:pairing_progress"))
    one_plus_one = next(
        d for d in response.context["docking"] if d.total.scheme.code == "one_plus_one"
    )
    assert (one_plus_one.total.docked, one_plus_one.total.enrolled) == (1, 1)
    assert [line.unit.pk for line in one_plus_one.units] == [tree.unit_a.pk]


# 1 session, 2 user, 3-6 docking (schemes, units, organizations by unit and kind, pairings),
# 7-8 unpaired (one universal scheme: rows, count), 9-10 help totals (by scheme and unit,
# goods), 11 the schemes for the totals, then rows and count of each gap: 12-13 incomplete,
# 14-15 without projects, 16-17 unvisited, 18-19 overdue, 20-21 flagged.
PROGRESS_QUERIES = 21


@pytest.mark.parametrize("n", [5, 40])
def test_progress_costs_the_same_queries_however_many_pairings(
    tree, schemes, client_for, django_assert_num_queries, n
):
    _many_pairings(tree, schemes, n)
    extra = Organization.objects.create(
        code="A-9",
        name="第九支部",
        kind=OrganizationKind.BRANCH,
        unit=tree.unit_a,
        parent=tree.committee_a,
    )
    assert extra.pk
    client = client_for("staff")
    with django_assert_num_queries(PROGRESS_QUERIES):
        response = client.get(reverse("portal:pairing_progress"))
    assert response.context["totals"].visits == n


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a", "inspector_city"])
@pytest.mark.parametrize("name", ["portal:pairings", "portal:pairing_progress"])
def test_every_role_pays_the_same_queries_for_5_or_40_pairings(
    tree, schemes, client_for, role, name
):
    client = client_for(role)
    used = []
    for n in (5, 35):
        _many_pairings(tree, schemes, n)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        used.append(len(queries))
    assert used[0] == used[1]


def test_something_unreadable_left_in_another_kinds_field_is_dropped(pairing_a, client_for):
    """The amount is hidden once "visit" is chosen: 1.005 left in it is no error."""
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(amount="1.005", quantity="abc")
    )
    assert response.status_code == 302
    record = HelpRecord.objects.get()
    assert (record.kind, record.amount, record.quantity) == ("visit", None, None)


def test_an_error_of_a_kind_not_chosen_is_shown_all_the_same(pairing_a, client_for):
    response = client_for("secretary_a").post(
        url("help_new", pairing_a), visit_post(kind="funds", amount="100", as_theme_day="on")
    )
    html = text(response)
    assert 'id="error_as_theme_day"' in html
    assert 'data-kind="visit"' not in html  # the section stays on the page, with its error
    assert counts() == (0, 0, 0)
