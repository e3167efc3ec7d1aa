"""The committee staff's admin of pairings: lists with filters and totals, a new pairing checked
by the scheme's rule (the breach said in Chinese, the override reason saved and flagged), new
needs, projects and member pairs through their services, help records read-only and deleted
through theirs, and nobody but committee staff let in."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from branches.models import ActivityRecord
from pairings.admin import rule_text
from pairings.models import (
    HelpKind,
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
from tests.conftest import add_record

D = datetime.date

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _zh_hans():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:pairings_{name}", args=args)


def pairing_form(scheme, organization, partner, **extra) -> dict:
    data = {
        "scheme": scheme.pk,
        "organization": organization.pk,
        "partner": partner.pk,
        "status": PairingStatus.PLANNED,
        "started_on": "2026-01-05",
        "docked_on": "",
        "ended_on": "",
        "override_reason": "",
        "note": "",
        "_save": "保存",
    }
    data.update(extra)
    return data


def errors_of(response) -> dict:
    return {name: list(found) for name, found in response.context["adminform"].form.errors.items()}


# --- the pairing list --------------------------------------------------------------------------


@pytest.fixture
def listed(tree, schemes, partners, pair):
    """A-1 with 东村 ("1+1", docked, with help), A-2 flagged onto 东村, B-1 with 西村 (河口镇)."""
    a1 = pair(
        schemes["one_plus_one"],
        tree.branch_a,
        partners["village1"],
        D(2025, 1, 1),
        status=PairingStatus.DOCKED,
    )
    a2 = pair(schemes["one_plus_one"], tree.branch_a2, partners["village1"], override_reason="试点")
    b1 = pair(schemes["village_support"], tree.branch_b, partners["village2"])
    HelpRecord.objects.create(
        pairing=a1, kind=HelpKind.FUNDS, date=D(2025, 3, 1), description="x", amount=Decimal("0.10")
    )
    HelpRecord.objects.create(
        pairing=a1, kind=HelpKind.FUNDS, date=D(2025, 3, 2), description="y", amount=Decimal("0.20")
    )
    HelpRecord.objects.create(pairing=a1, kind=HelpKind.VISIT, date=D(2025, 4, 1), description="z")
    Need.objects.create(pairing=a1, description="村道", found_on=D(2025, 1, 2))
    return {"a1": a1, "a2": a2, "b1": b1}


def test_staff_list_pairings_with_their_totals(staff_client, listed):
    response = staff_client.get(url("pairing_changelist"))
    assert response.status_code == 200
    rows = {p.pk: p for p in response.context["cl"].result_list}
    a1 = rows[listed["a1"].pk]
    assert (a1.visit_count, a1.funds_fen, a1.open_need_count) == (1, 30, 1)
    page = response.content.decode()
    assert "0.30" in page  # exact yuan
    assert "突破方案规则" in page  # the flag's column


@pytest.mark.parametrize(
    "query, expected",
    [
        ("scheme={one_plus_one}", {"a1", "a2"}),
        ("unit={unit_b}", {"b1"}),
        ("status=docked", {"a1"}),
        ("partner__town=河口镇", {"b1"}),
        ("flagged=yes", {"a2"}),
        ("flagged=no", {"a1", "b1"}),
        ("q=统计局第二", {"a2"}),
    ],
)
def test_staff_filter_the_pairing_list(staff_client, listed, schemes, tree, query, expected):
    query = query.format(one_plus_one=schemes["one_plus_one"].pk, unit_b=tree.unit_b.pk)
    response = staff_client.get(url("pairing_changelist") + "?" + query)
    assert response.status_code == 200
    found = {p.pk for p in response.context["cl"].result_list}
    assert found == {listed[key].pk for key in expected}


def test_the_change_page_shows_the_work_done(staff_client, listed):
    page = staff_client.get(url("pairing_change", listed["a1"].pk)).content.decode()
    assert "工作开展情况" in page and "0.30" in page


# --- a new pairing -----------------------------------------------------------------------------


def test_staff_add_a_pairing_through_the_service(staff_client, staff, tree, schemes, partners):
    assert staff_client.get(url("pairing_add")).status_code == 200
    response = staff_client.post(
        url("pairing_add"),
        pairing_form(schemes["one_plus_one"], tree.branch_a, partners["village1"]),
    )
    assert response.status_code == 302, errors_of(response)
    made = Pairing.objects.get()
    assert (made.organization, made.partner, made.created_by) == (
        tree.branch_a,
        partners["village1"],
        staff,
    )
    assert response["Location"] == url("pairing_changelist")


def test_a_one_plus_one_breach_is_said_in_chinese_and_offers_the_override(
    staff_client, tree, schemes, partners, pair
):
    pair(schemes["one_plus_one"], tree.branch_a, partners["village1"])
    data = pairing_form(schemes["one_plus_one"], tree.branch_a2, partners["village1"])
    response = staff_client.post(url("pairing_add"), data)
    assert response.status_code == 200
    errors = errors_of(response)
    assert errors["partner"] == [
        "城关镇东村党支部在“1+1”好支部共建中已有1个机关党组织结对，最多只允许1个。"
    ]
    assert errors["override_reason"] == ["如确需建立，请填写突破方案规则的理由。"]
    assert 'name="override_reason"' in response.content.decode()
    assert Pairing.objects.count() == 1

    data["override_reason"] = "两个支部均派驻第一书记"
    response = staff_client.post(url("pairing_add"), data)
    assert response.status_code == 302, errors_of(response)
    made = Pairing.objects.get(organization=tree.branch_a2)
    assert made.flagged and made.override_reason == "两个支部均派驻第一书记"
    flagged = staff_client.get(url("pairing_changelist") + "?flagged=yes")
    assert [p.pk for p in flagged.context["cl"].result_list] == [made.pk]


def test_a_partner_of_the_wrong_kind_is_refused_even_with_a_reason(
    staff_client, tree, schemes, partners
):
    data = pairing_form(
        schemes["one_plus_one"], tree.branch_a, partners["enterprise"], override_reason="试点"
    )
    response = staff_client.post(url("pairing_add"), data)
    assert response.status_code == 200
    assert "是企业" in errors_of(response)["partner"][0]
    assert not Pairing.objects.exists()


def test_a_change_is_checked_too_and_an_end_needs_its_day(
    staff_client, tree, schemes, partners, pair
):
    made = pair(schemes["village_support"], tree.branch_a, partners["village1"])
    data = pairing_form(
        schemes["village_support"], tree.branch_a, partners["village1"], status="ended"
    )
    response = staff_client.post(url("pairing_change", made.pk), data)
    assert errors_of(response)["ended_on"] == ["请填写结对结束日期。"]
    data["ended_on"] = "2026-01-31"
    response = staff_client.post(url("pairing_change", made.pk), data)
    assert response.status_code == 302, errors_of(response)
    made.refresh_from_db()
    assert (made.status, made.ended_on) == (PairingStatus.ENDED, D(2026, 1, 31))
    data = pairing_form(
        schemes["village_support"], tree.branch_a, partners["village1"], status="docked"
    )
    response = staff_client.post(url("pairing_change", made.pk), data)
    assert errors_of(response)["docked_on"] == ["对接完成的结对须填写对接完成日期。"]


# --- partners and schemes ------------------------------------------------------------------------


def test_partners_filter_by_kind_district_and_town_and_search(staff_client, partners):
    PartnerOrganization.objects.create(
        name="北街社区党委", kind=PartnerKind.COMMUNITY, town="河口镇", district="江北区"
    )
    base = url("partnerorganization_changelist")

    def names(query):
        response = staff_client.get(f"{base}?{query}")
        assert response.status_code == 200
        return {p.name for p in response.context["cl"].result_list}

    assert names("kind__exact=community") == {"南街社区党委", "北街社区党委"}
    assert names("district=江北区") == {"北街社区党委"}
    assert names("town=河口镇") == {"西村党支部", "北街社区党委"}
    assert names("q=电力") == {"江城电力公司党委"}


def test_the_scheme_list_shows_each_rule_in_a_line(staff_client, schemes):
    assert rule_text(schemes["one_plus_one"]) == (
        "党支部与村党组织结对；每个结对对象1个机关党组织；每个机关党组织至多1个结对对象；党员结对"
    )
    assert "每个机关党组织至少牵头1个共建项目" in rule_text(schemes["one_plus_two"])
    assert "每个结对对象至少1个机关党组织" in rule_text(schemes["village_support"])
    page = staff_client.get(url("scheme_changelist")).content.decode()
    assert "每个结对对象2个机关党组织" in page


# --- needs, projects, member pairs: through their services -------------------------------------


@pytest.fixture
def a1(tree, schemes, partners, pair):
    return pair(schemes["one_plus_one"], tree.branch_a, partners["village1"], D(2025, 1, 1))


def test_a_need_with_measures_is_added_through_the_services(staff_client, a1):
    data = {
        "pairing": a1.pk,
        "description": "村道硬化",
        "found_on": "2025-02-01",
        "met_on": "",
        "measures-TOTAL_FORMS": "1",
        "measures-INITIAL_FORMS": "0",
        "measures-MIN_NUM_FORMS": "0",
        "measures-MAX_NUM_FORMS": "1000",
        "measures-0-description": "争取交通局资金",
        "measures-0-due_on": "2025-06-30",
        "measures-0-done_on": "",
        "_save": "保存",
    }
    response = staff_client.post(url("need_add"), data)
    assert response.status_code == 302, errors_of(response)
    need = Need.objects.get()
    assert need.description == "村道硬化" and need.is_open
    assert list(need.measures.values_list("description", flat=True)) == ["争取交通局资金"]
    data["found_on"] = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    response = staff_client.post(url("need_add"), data)
    assert "日期不能晚于今天" in errors_of(response)["found_on"][0]
    assert Need.objects.count() == 1 and Measure.objects.count() == 1


def test_a_project_is_added_through_the_service(staff_client, a1):
    data = {
        "pairing": a1.pk,
        "name": "村级书屋",
        "budget": "12000.50",
        "started_on": "2025-03-01",
        "due_on": "2025-02-01",
        "status": "planned",
        "done_on": "",
        "milestones-TOTAL_FORMS": "0",
        "milestones-INITIAL_FORMS": "0",
        "milestones-MIN_NUM_FORMS": "0",
        "milestones-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    response = staff_client.post(url("project_add"), data)
    assert errors_of(response)["due_on"] == ["期限不能早于开始日期。"]
    data["due_on"] = "2025-12-31"
    response = staff_client.post(url("project_add"), data)
    assert response.status_code == 302, errors_of(response)
    assert Project.objects.get().budget == Decimal("12000.50")


def test_a_member_pair_with_a_stranger_is_refused(staff_client, a1, tree):
    data = {
        "pairing": a1.pk,
        "member": tree.members["b1"].pk,
        "counterpart_kind": "key_household",
        "counterpart_name": "王大爷",
        "started_on": "2025-02-01",
        "note": "",
        "_save": "保存",
    }
    response = staff_client.post(url("memberpair_add"), data)
    assert "不是统计局第一党支部的党员" in " ".join(errors_of(response)["member"])
    data["member"] = tree.members["a1"].pk
    response = staff_client.post(url("memberpair_add"), data)
    assert response.status_code == 302, errors_of(response)
    assert MemberPair.objects.get().member == tree.members["a1"]


# --- help records: read here, deleted through the service -------------------------------------


def test_help_records_are_read_only_and_deleted_with_their_theme_day(
    staff_client, a1, tree, activity_types
):
    theme_day = add_record(tree.branch_a, activity_types["theme_day"], D(2025, 3, 15), "走访")
    record = HelpRecord.objects.create(
        pairing=a1,
        kind=HelpKind.VISIT,
        date=D(2025, 3, 15),
        description="走访困难户",
        activity_record=theme_day,
    )
    assert staff_client.get(url("helprecord_add")).status_code == 403
    page = staff_client.get(url("helprecord_change", record.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    response = staff_client.post(url("helprecord_delete", record.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not HelpRecord.objects.exists()
    assert not ActivityRecord.objects.filter(pk=theme_day.pk).exists()


# --- only committee staff ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a", "inspector_city"])
def test_others_get_no_access_even_with_the_staff_flag(client, request, role, listed):
    user = request.getfixturevalue(role)
    user.is_staff = True
    user.save()
    client.force_login(user)
    login = reverse("admin:login")
    for name in (
        "pairing",
        "partnerorganization",
        "scheme",
        "need",
        "project",
        "helprecord",
        "memberpair",
    ):
        response = client.get(url(f"{name}_changelist"))
        assert response.status_code == 302 and response["Location"].startswith(login), name
    response = client.post(
        url("pairing_add"),
        pairing_form(
            listed["b1"].scheme,
            user.organization or listed["b1"].organization,
            listed["b1"].partner,
        ),
    )
    assert response.status_code == 302 and response["Location"].startswith(login)
    assert Pairing.objects.count() == 3
