"""The API of organizational life: activity records (read and write through the services),
activity types, and compliance per period."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from branches.models import (
    ActivityRecord,
    Attachment,
    Attendance,
    Organization,
    OrganizationKind,
    Term,
)
from branches.services import ActivityInput, file_activity_record
from tests.conftest import Client, add_record, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH = {"language": "en"}  # chosen with the language switch
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LIST = "activity-record-list"
DETAIL = "activity-record-detail"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


def detail(record) -> str:
    return reverse("activity-record-detail", args=[record.pk])


def body(tree, **extra) -> dict:
    data = {
        "organization": tree.branch_a.pk,
        "activity_type": "theme_day",
        "date": today().isoformat(),
        "topic": "学习党章",
        "place": "三楼会议室",
    }
    data.update(extra)
    return data


def post(client, data, **kwargs):
    return client.post(reverse(LIST), data, content_type="application/json", **kwargs)


def counts() -> tuple[int, int, int]:
    return ActivityRecord.objects.count(), Attendance.objects.count(), Attachment.objects.count()


def file_theme_day(tree, types, user, **extra) -> ActivityRecord:
    values = dict(
        organization=tree.branch_a, activity_type=types["theme_day"], date=today(), topic="学习党章"
    )
    values.update(extra)
    return file_activity_record(user, ActivityInput(**values))


# --- create ------------------------------------------------------------------------------------


def test_a_secretary_files_a_record_by_type_code(tree, activity_types, client_for, secretary_a):
    a2 = tree.members["a2"]
    response = post(client_for("secretary_a"), body(tree, excused=[a2.pk]))
    assert response.status_code == 201, response.content
    data = response.json()
    record = ActivityRecord.objects.get()
    assert data["id"] == record.pk
    assert data["organization"] == tree.branch_a.pk
    assert data["organization_name"] == "统计局第一党支部"
    assert data["unit"] == tree.unit_a.pk
    assert data["activity_type"] == activity_types["theme_day"].pk
    assert data["activity_type_code"] == "theme_day"
    assert data["type_name"] == "主题党日"
    assert (data["present_count"], data["excused_count"], data["absent_count"]) == (2, 1, 0)
    assert data["expected_count"] == 3
    assert data["attendance_rate"] == round(2 / 3, 4)
    assert data["attendance"] == [
        {"member": tree.members["a1"].pk, "name": "张伟", "status": "present"},
        {"member": a2.pk, "name": "王芳", "status": "excused"},
        {"member": tree.members["a3"].pk, "name": "李娜", "status": "present"},
    ]
    assert data["attachments"] == []
    assert data["filed_by"] == secretary_a.pk
    assert data["counts_for_compliance"] is True
    assert "excused" not in data and "new_attachments" not in data  # write-only


def test_a_record_is_filed_by_type_id_with_photos_in_multipart(tree, activity_types, client_for):
    client = client_for("secretary_a")
    response = client.post(
        reverse(LIST),
        {
            **body(tree, activity_type=activity_types["party_lecture"].pk),
            "absent": [tree.members["a3"].pk],
            "new_attachments": [SimpleUploadedFile("合影.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["type_name"] == "党课"
    assert data["absent_count"] == 1
    (attachment,) = data["attachments"]
    assert (attachment["name"], attachment["content_type"], attachment["size"]) == (
        "合影.png",
        "image/png",
        len(PNG),
    )
    assert attachment["url"].startswith("http://testserver/api/activity-records/")
    download = client.get(attachment["url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG


def test_token_clients_can_file_and_download(tree, activity_types, secretary_a):
    token = Token.objects.create(user=secretary_a)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.post(
        reverse(LIST),
        {**body(tree), "new_attachments": [SimpleUploadedFile("a.png", PNG)]},
    )
    assert response.status_code == 201, response.content
    url = response.json()["attachments"][0]["url"]
    assert client.get(url, HTTP_ACCEPT="image/webp,image/*").status_code == 200
    assert Client().get(url).status_code == 403  # anonymous


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ({"date": "2999-01-01"}, "date", "The date cannot be in the future."),
        ({"topic": "   "}, "topic", "This field may not be blank."),
        ({"activity_type": "group_meeting"}, "activity_type", "does not hold a 党小组会"),
        (
            {"organization": "group_a", "activity_type": "group_meeting", "absent": ["a3"]},
            "attendance",
            "Not members of 统计局第一党小组: 李娜",  # in branch_a, not in its group
        ),
        (
            {"activity_type": "committee_meeting", "absent": ["a2"]},
            "attendance",
            "Only committee members attend a committee meeting: 王芳",
        ),
        ({"excused": ["a2"], "absent": ["a2"]}, "attendance", "both excused and absent"),
    ],
)
def test_refusals_are_400s_keyed_by_field_and_nothing_is_saved(
    tree, activity_types, client_for, extra, field, fragment
):
    for key in ("absent", "excused"):
        if key in extra:
            extra[key] = [tree.members[m].pk for m in extra[key]]
    if "organization" in extra:
        extra["organization"] = getattr(tree, extra["organization"]).pk
    response = post(client_for("secretary_a"), body(tree, **extra), **ENGLISH)
    assert response.status_code == 400
    errors = response.json()
    assert fragment in " ".join(errors[field]), errors
    assert counts() == (0, 0, 0)


def test_member_ids_out_of_scope_are_refused_without_their_names(tree, activity_types, client_for):
    stranger = tree.members["b1"]  # branch_b: secretary_a may not see them
    response = post(client_for("secretary_a"), body(tree, absent=[stranger.pk]), **ENGLISH)
    assert response.status_code == 400
    assert response.json() == {"attendance": [f"No such members: {stranger.pk}."]}
    assert counts() == (0, 0, 0)


def test_a_fake_photo_is_a_400_on_attachments(tree, activity_types, client_for):
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    response = client_for("secretary_a").post(
        reverse(LIST), {**body(tree), "new_attachments": [fake]}, **ENGLISH
    )
    assert response.status_code == 400
    assert "photo.jpg is not a photo" in response.json()["attachments"][0]
    assert counts() == (0, 0, 0)


def test_a_duplicate_is_a_400_on_date(tree, activity_types, client_for, secretary_a):
    file_theme_day(tree, activity_types, secretary_a)
    response = post(client_for("secretary_a"), body(tree), **ENGLISH)
    assert response.status_code == 400
    assert "already filed a 主题党日" in response.json()["date"][0]


def test_the_shape_is_checked_first(tree, activity_types, client_for):
    response = post(client_for("secretary_a"), {"activity_type": "nope"}, **ENGLISH)
    assert response.status_code == 400
    errors = response.json()
    assert {"organization", "activity_type", "date", "topic"} <= set(errors)
    assert errors["activity_type"] == ["Unknown activity type: nope."]


def test_an_organization_out_of_scope_looks_like_a_missing_one(tree, activity_types, client_for):
    client = client_for("secretary_a")
    outside = post(client, body(tree, organization=tree.branch_b.pk), **ENGLISH).json()
    missing = post(client, body(tree, organization=987654), **ENGLISH).json()
    assert list(outside) == list(missing) == ["organization"]
    assert outside["organization"][0].replace(str(tree.branch_b.pk), "N") == missing[
        "organization"
    ][0].replace("987654", "N")
    assert counts() == (0, 0, 0)


def test_inspectors_cannot_write(tree, activity_types, client_for, secretary_a):
    record = file_theme_day(tree, activity_types, secretary_a)
    for role in ("inspector_a", "inspector_city"):
        client = client_for(role)
        assert post(client, body(tree)).status_code == 403
        patch = client.patch(detail(record), {"topic": "改"}, content_type="application/json")
        assert patch.status_code == 403
        assert client.delete(detail(record)).status_code == 403
        assert client.get(detail(record)).status_code == 200
    record.refresh_from_db()
    assert record.topic == "学习党章"


def test_another_secretary_gets_404_for_records_out_of_scope(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(tree, activity_types, secretary_a)
    client = client_for("secretary_b")
    assert client.get(detail(record)).status_code == 404
    assert client.patch(detail(record), {"topic": "改"}, "application/json").status_code == 404
    assert client.delete(detail(record)).status_code == 404
    assert ActivityRecord.objects.filter(topic="学习党章").count() == 1


# --- update and delete -------------------------------------------------------------------------


def test_patch_keeps_what_is_not_sent_and_replaces_attendance_when_sent(
    tree, activity_types, client_for, secretary_a
):
    a2, a3 = tree.members["a2"], tree.members["a3"]
    record = file_theme_day(tree, activity_types, secretary_a, excused_ids={a2.pk}, place="会议室")
    client = client_for("secretary_a")
    data = client.patch(detail(record), {"topic": "新题目"}, "application/json").json()
    assert (data["topic"], data["place"], data["excused_count"]) == ("新题目", "会议室", 1)
    data = client.patch(detail(record), {"absent": [a3.pk]}, "application/json").json()
    assert (data["excused_count"], data["absent_count"], data["present_count"]) == (0, 1, 2)
    assert {a["member"]: a["status"] for a in data["attendance"]}[a3.pk] == "absent"


def test_put_needs_the_whole_record_and_cannot_move_it(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(tree, activity_types, secretary_a)
    client = client_for("secretary_a")
    response = client.put(detail(record), {"topic": "只有题目"}, "application/json")
    assert response.status_code == 400
    assert {"activity_type", "date"} <= set(response.json())
    moved = body(tree, organization=tree.group_a.pk, topic="整体更新")
    response = client.put(detail(record), moved, "application/json")
    assert response.status_code == 200, response.content
    assert response.json()["organization"] == tree.branch_a.pk  # read-only on update
    record.refresh_from_db()
    assert (record.organization, record.topic) == (tree.branch_a, "整体更新")


def test_patch_can_add_and_remove_attachments(tree, activity_types, client_for, secretary_a):
    record = file_theme_day(
        tree, activity_types, secretary_a, attachments=[SimpleUploadedFile("old.png", PNG)]
    )
    old = record.attachments.get()
    payload = encode_multipart(
        BOUNDARY,
        {"remove_attachments": [old.pk], "new_attachments": [SimpleUploadedFile("new.png", PNG)]},
    )
    response = client_for("secretary_a").patch(detail(record), payload, MULTIPART_CONTENT)
    assert response.status_code == 200, response.content
    assert [a["name"] for a in response.json()["attachments"]] == ["new.png"]


def test_after_the_window_a_secretary_gets_403_and_staff_may_change(
    tree, activity_types, client_for, secretary_a, settings
):
    record = file_theme_day(tree, activity_types, secretary_a)
    old = timezone.now() - datetime.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS + 1)
    ActivityRecord.objects.filter(pk=record.pk).update(filed_at=old)
    response = client_for("secretary_a").patch(
        detail(record), {"topic": "改"}, "application/json", **ENGLISH
    )
    assert response.status_code == 403
    assert "only be changed by committee staff" in response.json()["detail"]
    assert client_for("secretary_a").delete(detail(record)).status_code == 403
    response = client_for("staff").patch(detail(record), {"topic": "改"}, "application/json")
    assert response.status_code == 200


def test_delete_removes_the_record(tree, activity_types, client_for, secretary_a):
    record = file_theme_day(tree, activity_types, secretary_a)
    assert client_for("secretary_a").delete(detail(record)).status_code == 204
    assert counts() == (0, 0, 0)


# --- list and filters --------------------------------------------------------------------------

RECORDS_SEEN = {
    "staff": {"A-1", "A-1-1", "A-2", "B-1"},
    "secretary_a": {"A-1", "A-1-1"},
    "secretary_b": {"B-1"},
    "inspector_a": {"A-1", "A-1-1", "A-2"},
    "inspector_city": {"A-1", "A-1-1", "A-2", "B-1"},
}


@pytest.fixture
def spread(tree, activity_types):
    """One record per organization that holds meetings, on different days and months."""
    d = today().replace(day=1) - datetime.timedelta(days=1)  # last day of last month
    return {
        "A-1": add_record(tree.branch_a, activity_types["theme_day"], d),
        "A-1-1": add_record(tree.group_a, activity_types["group_meeting"], d.replace(day=1)),
        "A-2": add_record(tree.branch_a2, activity_types["party_lecture"], today()),
        "B-1": add_record(tree.branch_b, activity_types["theme_day"], today()),
    }


def _codes(data) -> set[str]:
    return {Organization.objects.get(pk=r["organization"]).code for r in data["results"]}


@pytest.mark.parametrize("role", list(RECORDS_SEEN))
def test_the_list_holds_exactly_the_scope(spread, client_for, role):
    data = client_for(role).get(reverse(LIST)).json()
    assert _codes(data) == RECORDS_SEEN[role]


def test_filters(tree, activity_types, spread, client_for):
    client = client_for("staff")
    last_month = today().replace(day=1) - datetime.timedelta(days=1)

    def codes(**params):
        response = client.get(reverse(LIST), params)
        assert response.status_code == 200, response.content
        return _codes(response.json())

    assert codes(organization=tree.committee_a.pk) == {"A-1", "A-1-1", "A-2"}
    assert codes(organization=tree.branch_a.pk) == {"A-1", "A-1-1"}
    assert codes(unit=tree.unit_b.pk) == {"B-1"}
    assert codes(type="theme_day") == {"A-1", "B-1"}
    assert codes(type=activity_types["party_lecture"].pk) == {"A-2"}
    assert codes(month=f"{last_month:%Y-%m}") == {"A-1", "A-1-1"}
    assert codes(date_after=today().isoformat()) == {"A-2", "B-1"}
    assert codes(date_before=last_month.isoformat()) == {"A-1", "A-1-1"}
    assert codes(date_after=last_month.isoformat(), date_before=last_month.isoformat()) == {"A-1"}
    assert codes(organization=tree.committee_a.pk, type="theme_day") == {"A-1"}


def test_filters_never_widen_the_scope(tree, spread, client_for):
    client = client_for("secretary_a")
    for params in ({"organization": tree.branch_b.pk}, {"unit": tree.unit_b.pk}):
        assert client.get(reverse(LIST), params).json()["count"] == 0


def test_an_invalid_month_is_a_400(tree, client_for):
    response = client_for("staff").get(reverse(LIST), {"month": "2026-13"})
    assert response.status_code == 400
    assert "month" in response.json()


@pytest.mark.parametrize("rows", [5, 40])
def test_list_costs_the_same_queries_however_many(
    tree, activity_types, client_for, secretary_a, django_assert_num_queries, rows
):
    for i in range(rows):
        file_theme_day(
            tree,
            activity_types,
            secretary_a,
            date=today() - datetime.timedelta(days=i),
            excused_ids={tree.members["a2"].pk},
            attachments=[SimpleUploadedFile("a.png", PNG)],
        )
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 count, 4 the page (organization, type, filer joined),
    # 5 attachments (prefetch). Attendance is counted on the record, named on the record's page.
    with django_assert_num_queries(5):
        data = client.get(reverse(LIST)).json()
    assert data["count"] == rows
    assert all(
        (r["present_count"], r["excused_count"], r["absent_count"]) == (2, 1, 0)
        and "attendance" not in r
        and len(r["attachments"]) == 1
        for r in data["results"]
    )
    one = client.get(reverse(DETAIL, args=[data["results"][0]["id"]])).json()
    assert {a["status"] for a in one["attendance"]} == {"present", "excused"}


# --- activity types ----------------------------------------------------------------------------


def test_activity_types_come_with_their_rules(
    activity_types, client_for, django_assert_num_queries
):
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 count, 4 the types, 5 their rules (prefetch).
    with django_assert_num_queries(5):
        data = client.get(reverse("activity-type-list")).json()
    by_code = {t["code"]: t for t in data["results"]}
    assert set(by_code) == set(activity_types)
    meeting = by_code["committee_meeting"]
    assert meeting["committee_only"] is True
    assert meeting["organization_kinds"] == ["branch"]
    (rule,) = meeting["rules"]
    assert (rule["period"], rule["minimum_count"], rule["active_to"]) == ("month", 1, None)
    assert by_code["group_meeting"]["organization_kinds"] == ["group"]


# --- compliance --------------------------------------------------------------------------------

COMPLIANCE = "compliance-list"


def _compliance(client, **params) -> dict[str, dict]:
    response = client.get(reverse(COMPLIANCE), params)
    assert response.status_code == 200, response.content
    return {row["code"]: row for row in response.json()["results"]}


def test_compliance_numbers_for_a_month_a_quarter_and_a_year(tree, activity_types, client_for):
    # branch_a in 2025: one theme day in March, one party lecture in February; its group met
    # in January only. branch_a has no elected committee (1 member with a committee duty).
    add_record(tree.branch_a, activity_types["theme_day"], datetime.date(2025, 3, 5))
    add_record(tree.branch_a, activity_types["party_lecture"], datetime.date(2025, 2, 10))
    add_record(tree.group_a, activity_types["group_meeting"], datetime.date(2025, 1, 20))
    client = client_for("secretary_a")

    month = _compliance(client, period="2025-03")
    assert set(month) == {"A-1", "A-1-1"}
    branch = month["A-1"]
    assert (branch["period"], branch["owed"], branch["held"], branch["missing"]) == (
        "2025-03",
        2,
        1,
        1,
    )
    assert branch["compliant"] is False
    assert branch["rate"] == 0.5
    assert branch["by_type"] == [
        {"type": "主题党日", "owed": 1, "held": 1, "missing": 0},
        {"type": "党小组会", "owed": 1, "held": 0, "missing": 1},
    ]
    assert month["A-1-1"]["by_type"] == [{"type": "党小组会", "owed": 1, "held": 0, "missing": 1}]

    quarter = _compliance(client, period="2025-Q1")["A-1"]
    by_type = {row["type"]: (row["owed"], row["held"]) for row in quarter["by_type"]}
    assert by_type == {
        "支部党员大会": (1, 0),
        "党课": (1, 1),
        "主题党日": (3, 1),
        "党小组会": (3, 1),
    }
    assert (quarter["owed"], quarter["held"], quarter["missing"]) == (8, 3, 5)

    year = _compliance(client, period="2025")["A-1"]
    by_type = {row["type"]: row["owed"] for row in year["by_type"]}
    assert by_type == {
        "支部党员大会": 4,
        "党课": 4,
        "主题党日": 12,
        "组织生活会": 1,
        "民主评议党员": 1,
        "党小组会": 12,
    }
    assert (year["owed"], year["held"]) == (34, 3)


def test_compliance_reports_elections(tree, activity_types, client_for):
    started = today().replace(day=1).replace(year=today().year - 4)
    term = Term.objects.create(organization=tree.branch_a, started_on=started)
    row = _compliance(client_for("inspector_a"), period=f"{today():%Y-%m}")["A-1"]
    assert row["election_due_on"] == term.due_on.isoformat()
    assert row["election_overdue"] is True


def test_compliance_is_scoped_and_filtered(tree, activity_types, client_for):
    period = "2025-03"
    assert set(_compliance(client_for("inspector_a"), period=period)) == {
        "A",
        "A-1",
        "A-1-1",
        "A-2",
    }
    assert set(_compliance(client_for("secretary_b"), period=period)) == {"B-1"}
    city = client_for("inspector_city")
    assert set(_compliance(city, period=period, unit=tree.unit_b.pk)) == {"B", "B-G", "B-1"}
    assert set(_compliance(city, period=period, organization=tree.branch_a.pk)) == {"A-1", "A-1-1"}
    assert set(_compliance(city, period=period, kind="branch")) == {"A-1", "A-2", "B-1"}
    tree.committee_b.joint_units.add(tree.unit_a)
    assert "B" in _compliance(city, period=period, unit=tree.unit_a.pk)
    # Filters narrow the scope, never widen it.
    assert _compliance(client_for("secretary_a"), period=period, unit=tree.unit_b.pk) == {}


@pytest.mark.parametrize("period", ["2026-13", "2026-Q5", "march", ""])
def test_an_invalid_period_is_a_400_that_says_what_to_send(tree, client_for, period):
    response = client_for("staff").get(reverse(COMPLIANCE), {"period": period}, **ENGLISH)
    assert response.status_code == 400
    message = " ".join(response.json()["period"])
    if period:
        assert "use 2026-03, 2026-Q1 or 2026" in message
    else:
        assert "required" in message


def test_the_period_is_required(tree, client_for):
    response = client_for("staff").get(reverse(COMPLIANCE), **ENGLISH)
    assert response.status_code == 400
    assert "period" in response.json()


@pytest.mark.parametrize("branches", [5, 40])
def test_compliance_costs_the_same_queries_however_many_organizations(
    tree, activity_types, client_for, django_assert_num_queries, branches
):
    for i in range(branches):
        branch = Organization.objects.create(
            code=f"A-X{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        make_member(branch, f"AX{i:04d}", duty="secretary")
        add_record(branch, activity_types["theme_day"], datetime.date(2025, 3, 5))
    client = client_for("inspector_a")
    # 1 session, 2 user, 3 count, 4 the page of organizations, then the engine's six:
    # 5 organizations, 6 their groups, 7 rules, 8 committee sizes, 9 record counts, 10 terms.
    with django_assert_num_queries(10):
        rows = _compliance(client, period="2025-03")
    assert len(rows) == 4 + branches
    assert rows["A-X0"]["by_type"] == [{"type": "主题党日", "owed": 1, "held": 1, "missing": 0}]


# --- schema ------------------------------------------------------------------------------------


def test_schema_publishes_the_new_endpoints(db, client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/activity-records/"])
    assert {"get", "put", "patch", "delete"} <= set(paths["/api/activity-records/{id}/"])
    assert "/api/activity-records/{id}/attachments/{attachment_pk}/" in paths
    assert set(paths["/api/activity-types/"]) == {"get"}
    params = {p["name"]: p for p in paths["/api/compliance/"]["get"]["parameters"]}
    assert params["period"]["required"] is True
    assert {"organization", "unit", "kind"} <= set(params)
    record_params = {p["name"] for p in paths["/api/activity-records/"]["get"]["parameters"]}
    assert {"organization", "unit", "type", "date_after", "date_before", "month"} <= record_params
