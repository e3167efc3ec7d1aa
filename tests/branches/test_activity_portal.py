"""Portal pages of organizational life: filing, listing, reading, editing and deleting activity
records, the attachment download, and the "still to hold" card on the organization page."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from branches.models import ActivityRecord, Attachment, Attendance
from branches.services import ActivityInput, file_activity_record
from tests.conftest import add_record, make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH = {"language": "en"}  # chosen with the language switch
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


def field(member) -> str:
    return f"attendance-{member.pk}"


def theme_day_post(types, **extra) -> dict:
    data = {
        "activity_type": types["theme_day"].pk,
        "date": today().isoformat(),
        "topic": "学习党章",
        "place": "三楼会议室",
        "content": "集体学习党章第一章。",
    }
    data.update(extra)
    return data


def new_url(org) -> str:
    return reverse("portal:activity_new", args=[org.pk])


def counts() -> tuple[int, int, int]:
    return ActivityRecord.objects.count(), Attendance.objects.count(), Attachment.objects.count()


def file_theme_day(tree, types, user, **extra) -> ActivityRecord:
    values = dict(
        organization=tree.branch_a,
        activity_type=types["theme_day"],
        date=today(),
        topic="学习党章",
    )
    values.update(extra)
    return file_activity_record(user, ActivityInput(**values))


# --- the filing page -----------------------------------------------------------------------------


def test_filing_page_offers_the_branch_types_and_everyone_present(tree, activity_types, client_for):
    response = client_for("secretary_a").get(new_url(tree.branch_a))
    assert response.status_code == 200
    form = response.context["form"]
    # A branch files everything but the party group meeting (its groups file that).
    assert {t.code for t in form.type_choices} == set(activity_types) - {"group_meeting"}
    rows = form.attendee_rows
    assert [r.member.member_no for r in rows] == ["A0001", "A0002", "A0003"]  # secretary first
    assert {r.status for r in rows} == {"present"}
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/*,application/pdf" capture="environment" multiple' in html
    assert f'type="date" name="date" id="id_date" value="{today():%Y-%m-%d}"' in html
    assert f'max="{today():%Y-%m-%d}"' in html
    # One radio group per member, "present" ticked.
    assert html.count('value="present" checked') == 3
    assert "/static/portal/activity-form.js" in html


def test_secretary_files_a_theme_day_with_one_member_excused_and_a_photo(
    tree, activity_types, client_for, secretary_a
):
    a2 = tree.members["a2"]
    photo = SimpleUploadedFile("合影.png", PNG, content_type="image/png")
    client = client_for("secretary_a")
    response = client.post(
        new_url(tree.branch_a),
        theme_day_post(activity_types, **{field(a2): "excused", "attachments": [photo]}),
        **ENGLISH,
    )
    list_url = reverse("portal:activity_list", args=[tree.branch_a.pk])
    assert response.status_code == 302
    assert response["Location"] == list_url
    record = ActivityRecord.objects.get()
    assert (record.present_count, record.excused_count, record.absent_count) == (2, 1, 0)
    assert record.filed_by == secretary_a
    assert record.place == "三楼会议室"
    assert record.attachments.get().original_name == "合影.png"
    page = client.get(list_url, **ENGLISH).content.decode()
    assert "Filed: 主题党日 on" in page  # the success message
    assert "2/3" in page


def test_errors_come_back_next_to_the_fields_with_what_was_typed_and_nothing_is_saved(
    tree, activity_types, client_for
):
    a2 = tree.members["a2"]
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    tomorrow = today() + datetime.timedelta(days=1)
    response = client_for("secretary_a").post(
        new_url(tree.branch_a),
        theme_day_post(
            activity_types,
            date=tomorrow.isoformat(),
            topic="我输入的题目",
            **{field(a2): "absent", "attachments": [fake]},
        ),
        **ENGLISH,
    )
    assert response.status_code == 200
    assert counts() == (0, 0, 0)
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert '<p class="field-error" id="error_date">The date cannot be in the future.</p>' in html
    assert 'id="error_attachments">photo.jpg is not a photo' in html
    assert 'value="我输入的题目"' in html
    assert f'value="{tomorrow:%Y-%m-%d}"' in html
    assert f'name="{field(a2)}" id="{field(a2)}-absent" value="absent" checked' in html


def test_a_missing_topic_and_type_are_refused_by_the_form_with_the_files_checked_too(
    tree, activity_types, client_for
):
    fake = SimpleUploadedFile("scan.pdf", b"not a pdf", content_type="application/pdf")
    response = client_for("secretary_a").post(
        new_url(tree.branch_a), {"date": today().isoformat(), "attachments": [fake]}, **ENGLISH
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"activity_type", "topic"}
    html = response.content.decode()
    assert 'id="error_topic">This field is required.' in html
    # Reported in the same round, not only once the form is fixed.
    assert "scan.pdf is not a photo" in " ".join(form.attachment_errors)
    assert counts() == (0, 0, 0)


def test_a_duplicate_is_refused_on_the_date_field(tree, activity_types, client_for, secretary_a):
    file_theme_day(tree, activity_types, secretary_a)
    response = client_for("secretary_a").post(
        new_url(tree.branch_a), theme_day_post(activity_types), **ENGLISH
    )
    assert response.status_code == 200
    assert "already filed a 主题党日" in " ".join(response.context["form"].errors["date"])
    assert ActivityRecord.objects.count() == 1


def test_a_group_meeting_is_filed_on_the_group_page_for_its_members(
    tree, activity_types, client_for
):
    client = client_for("secretary_a")
    form = client.get(new_url(tree.group_a)).context["form"]
    assert [t.code for t in form.type_choices] == ["group_meeting"]
    assert [r.member.member_no for r in form.attendee_rows] == ["A0001", "A0002"]
    response = client.post(
        new_url(tree.group_a),
        theme_day_post(activity_types, activity_type=activity_types["group_meeting"].pk),
    )
    assert response["Location"] == reverse("portal:activity_list", args=[tree.group_a.pk])
    record = ActivityRecord.objects.get()
    assert record.organization == tree.group_a
    assert set(record.attendances.values_list("member__member_no", flat=True)) == {
        "A0001",
        "A0002",
    }


def test_the_branch_offers_to_file_for_each_of_its_groups(tree, activity_types, client_for):
    html = (
        client_for("secretary_a")
        .get(reverse("portal:organization", args=[tree.branch_a.pk]))
        .content.decode()
    )
    assert f'href="{new_url(tree.group_a)}"' in html
    assert f'href="{new_url(tree.branch_a)}"' in html


@pytest.fixture
def committee(tree):
    """branch_a with an elected committee: 张伟 (secretary) plus two committee members."""
    return [
        tree.members["a1"],
        make_member(tree.branch_a, "A0009", "赵敏", duty="committee_member"),
        make_member(tree.branch_a, "A0010", "钱进", duty="deputy_secretary"),
    ]


def test_the_committee_meeting_lists_only_the_committee(
    tree, activity_types, client_for, committee
):
    meeting = activity_types["committee_meeting"]
    response = client_for("secretary_a").get(new_url(tree.branch_a), {"activity_type": meeting.pk})
    rows = response.context["form"].attendee_rows
    expected = {r.member.member_no for r in rows if r.expected}
    assert expected == {"A0001", "A0009", "A0010"}
    html = response.content.decode()
    # The others are in the page (for JavaScript to bring back) but hidden and not sent.
    a2 = tree.members["a2"]
    assert 'value="present" checked disabled' in html
    assert html.count("data-attendee") == 5
    assert html.count(" hidden>") == 2
    assert f'id="{field(a2)}-present"' in html
    assert f'data-committee-only="1" selected>{meeting.name}' in html


def test_a_committee_meeting_ignores_answers_for_non_members_of_the_committee(
    tree, activity_types, client_for, committee
):
    # Without JavaScript the whole list stays on screen: marks on others are simply dropped.
    a2, c2 = tree.members["a2"], committee[1]
    response = client_for("secretary_a").post(
        new_url(tree.branch_a),
        theme_day_post(
            activity_types,
            activity_type=activity_types["committee_meeting"].pk,
            **{field(a2): "excused", field(c2): "absent"},
        ),
    )
    assert response.status_code == 302
    record = ActivityRecord.objects.get()
    assert dict(record.attendances.values_list("member__member_no", "status")) == {
        "A0001": "present",
        "A0009": "absent",
        "A0010": "present",
    }
    assert record.counts_for_compliance is True  # 2 of 3: a quorum


def test_the_refresh_without_javascript_keeps_what_was_typed(tree, activity_types, client_for):
    a3 = tree.members["a3"]
    response = client_for("secretary_a").get(
        new_url(tree.branch_a),
        {
            "activity_type": activity_types["party_lecture"].pk,
            "topic": "党课：初心",
            field(a3): "absent",
        },
    )
    form = response.context["form"]
    assert form.chosen_type == activity_types["party_lecture"]
    assert not form.is_bound  # nothing is validated, no error shown
    html = response.content.decode()
    assert 'value="党课：初心"' in html
    assert f'id="{field(a3)}-absent" value="absent" checked' in html


# --- list, detail, attachments -------------------------------------------------------------------


def test_list_is_newest_first_with_attendance_and_attachment_counts(
    tree, activity_types, client_for, secretary_a
):
    older = file_theme_day(
        tree, activity_types, secretary_a, date=today() - datetime.timedelta(days=40)
    )
    newer = file_theme_day(
        tree,
        activity_types,
        secretary_a,
        excused_ids={tree.members["a2"].pk},
        attachments=[
            SimpleUploadedFile("a.png", PNG),
            SimpleUploadedFile("b.pdf", PDF),
        ],
    )
    response = client_for("secretary_a").get(
        reverse("portal:activity_list", args=[tree.branch_a.pk])
    )
    records = list(response.context["page"].object_list)
    assert records == [newer, older]
    assert [(r.present_count, r.expected_count, r.attachment_count) for r in records] == [
        (2, 3, 2),
        (3, 3, 0),
    ]


def test_list_of_a_branch_includes_its_groups_records(
    tree, activity_types, client_for, secretary_a
):
    file_theme_day(tree, activity_types, secretary_a)
    file_theme_day(
        tree,
        activity_types,
        secretary_a,
        organization=tree.group_a,
        activity_type=activity_types["group_meeting"],
    )
    client = client_for("secretary_a")
    branch = client.get(reverse("portal:activity_list", args=[tree.branch_a.pk]))
    assert {r.type_name for r in branch.context["page"].object_list} == {"主题党日", "党小组会"}
    group = client.get(reverse("portal:activity_list", args=[tree.group_a.pk]))
    assert [r.type_name for r in group.context["page"].object_list] == ["党小组会"]


def test_list_filters_by_type_and_month(tree, activity_types, client_for):
    this_month = today().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    add_record(tree.branch_a, activity_types["theme_day"], this_month)
    add_record(tree.branch_a, activity_types["theme_day"], last_month)
    add_record(tree.branch_a, activity_types["party_lecture"], last_month)
    url = reverse("portal:activity_list", args=[tree.branch_a.pk])
    client = client_for("secretary_a")

    def found(params):
        return {(r.type_name, r.date) for r in client.get(url, params).context["page"]}

    assert found({"type": activity_types["theme_day"].pk}) == {
        ("主题党日", this_month),
        ("主题党日", last_month),
    }
    assert found({"month": f"{last_month:%Y-%m}"}) == {
        ("主题党日", last_month),
        ("党课", last_month),
    }
    assert found({"month": f"{last_month:%Y-%m}", "type": activity_types["party_lecture"].pk}) == {
        ("党课", last_month)
    }


def test_list_pages_by_twenty_and_keeps_the_filters(tree, activity_types, client_for):
    for i in range(25):
        add_record(tree.branch_a, activity_types["theme_day"], today() - datetime.timedelta(i))
    response = client_for("secretary_a").get(
        reverse("portal:activity_list", args=[tree.branch_a.pk]),
        {"type": activity_types["theme_day"].pk},
    )
    assert response.context["page"].paginator.count == 25
    assert len(response.context["page"].object_list) == 20
    assert f"?type={activity_types['theme_day'].pk}&amp;page=2" in response.content.decode()


def test_detail_shows_attendance_by_status_and_the_attachments(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(
        tree,
        activity_types,
        secretary_a,
        excused_ids={tree.members["a2"].pk},
        absent_ids={tree.members["a3"].pk},
        attachments=[
            SimpleUploadedFile("合影.png", PNG),
            SimpleUploadedFile("记录.pdf", PDF),
        ],
    )
    response = client_for("secretary_a").get(reverse("portal:activity_detail", args=[record.pk]))
    groups = {
        status: [m.name for m in members] for status, _, members in response.context["attendance"]
    }
    assert groups == {"present": ["张伟"], "excused": ["王芳"], "absent": ["李娜"]}
    photo, minutes = record.attachments.order_by("pk")
    html = response.content.decode()
    assert f'<img src="{reverse("portal:attachment", args=[photo.pk])}"' in html
    assert f'href="{reverse("portal:attachment", args=[minutes.pk])}">📄 记录.pdf' in html
    assert "/media/" not in html  # never a public media URL
    assert reverse("portal:activity_edit", args=[record.pk]) in html


def test_attachments_are_served_only_within_the_scope(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(
        tree, activity_types, secretary_a, attachments=[SimpleUploadedFile("a.png", PNG)]
    )
    url = reverse("portal:attachment", args=[record.attachments.get().pk])
    response = client_for("inspector_a").get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith("inline")
    assert client_for("secretary_b").get(url).status_code == 404
    assert client_for("anonymous").get(url).status_code == 302


# --- edit and delete ----------------------------------------------------------------------------


def test_edit_within_the_window_changes_the_record(tree, activity_types, client_for, secretary_a):
    a2, a3 = tree.members["a2"], tree.members["a3"]
    record = file_theme_day(
        tree,
        activity_types,
        secretary_a,
        excused_ids={a2.pk},
        attachments=[SimpleUploadedFile("a.png", PNG)],
    )
    client = client_for("secretary_a")
    url = reverse("portal:activity_edit", args=[record.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="学习党章"' in html
    assert f'id="{field(a2)}-excused" value="excused" checked' in html
    attachment = record.attachments.get()
    response = client.post(
        url,
        theme_day_post(
            activity_types,
            topic="学习新党章",
            remove_attachment=[attachment.pk],
            **{field(a3): "absent"},
        ),
    )
    assert response["Location"] == reverse("portal:activity_detail", args=[record.pk])
    record.refresh_from_db()
    assert record.topic == "学习新党章"
    assert (record.present_count, record.excused_count, record.absent_count) == (2, 0, 1)
    assert not record.attachments.exists()


def _age(record, settings) -> None:
    old = timezone.now() - datetime.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS + 1)
    ActivityRecord.objects.filter(pk=record.pk).update(filed_at=old)


def test_after_the_window_a_secretary_is_refused_and_staff_may(
    tree, activity_types, client_for, secretary_a, settings
):
    record = file_theme_day(tree, activity_types, secretary_a)
    _age(record, settings)
    client = client_for("secretary_a")
    for name in ("portal:activity_edit", "portal:activity_delete"):
        url = reverse(name, args=[record.pk])
        response = client.get(url, **ENGLISH)
        assert response.status_code == 403
        assert "can only be changed by committee staff" in response.content.decode()
        assert client.post(url, theme_day_post(activity_types, topic="改")).status_code == 403
    record.refresh_from_db()
    assert record.topic == "学习党章"
    detail = client.get(reverse("portal:activity_detail", args=[record.pk]), **ENGLISH)
    assert "can only be changed by committee staff" in detail.content.decode()
    assert reverse("portal:activity_edit", args=[record.pk]) not in detail.content.decode()
    assert (
        client_for("staff").get(reverse("portal:activity_edit", args=[record.pk])).status_code
        == 200
    )


def test_delete_asks_first_then_deletes_the_record_and_its_files(
    tree, activity_types, client_for, secretary_a, django_capture_on_commit_callbacks
):
    record = file_theme_day(
        tree, activity_types, secretary_a, attachments=[SimpleUploadedFile("a.png", PNG)]
    )
    storage, name = record.attachments.get().file.storage, record.attachments.get().file.name
    client = client_for("secretary_a")
    url = reverse("portal:activity_delete", args=[record.pk])
    assert client.get(url).status_code == 200
    assert ActivityRecord.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **ENGLISH)
    assert response["Location"] == reverse("portal:activity_list", args=[tree.branch_a.pk])
    assert counts() == (0, 0, 0)
    assert not storage.exists(name)
    page = client.get(response["Location"], **ENGLISH).content.decode()
    assert "The record was deleted." in page


# --- roles ----------------------------------------------------------------------------------------


def test_inspectors_read_but_see_no_buttons_and_cannot_write(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(tree, activity_types, secretary_a)
    client = client_for("inspector_a")
    listing = client.get(reverse("portal:activity_list", args=[tree.branch_a.pk]))
    detail = client.get(reverse("portal:activity_detail", args=[record.pk]))
    organization = client.get(reverse("portal:organization", args=[tree.branch_a.pk]))
    for response in (listing, detail, organization):
        assert response.status_code == 200
        html = response.content.decode()
        assert new_url(tree.branch_a) not in html
        assert reverse("portal:activity_edit", args=[record.pk]) not in html
        assert reverse("portal:activity_delete", args=[record.pk]) not in html
    assert "学习党章" in detail.content.decode()
    for url in (
        new_url(tree.branch_a),
        reverse("portal:activity_edit", args=[record.pk]),
        reverse("portal:activity_delete", args=[record.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, theme_day_post(activity_types)).status_code == 403
    assert ActivityRecord.objects.count() == 1


def test_another_secretary_gets_404_for_records_out_of_scope(
    tree, activity_types, client_for, secretary_a
):
    record = file_theme_day(tree, activity_types, secretary_a)
    client = client_for("secretary_b")
    for name in ("activity_detail", "activity_edit", "activity_delete"):
        assert client.get(reverse(f"portal:{name}", args=[record.pk])).status_code == 404
    assert client.post(reverse("portal:activity_delete", args=[record.pk])).status_code == 404
    assert client.get(reverse("portal:activity_list", args=[tree.branch_a.pk])).status_code == 404
    assert client.post(new_url(tree.branch_a), theme_day_post(activity_types)).status_code == 404
    assert ActivityRecord.objects.count() == 1


# --- the "still to hold" card ----------------------------------------------------------------


def _card(client, org) -> dict[str, list[str]]:
    response = client.get(reverse("portal:organization", args=[org.pk]))
    return {s.period.kind: [name for name, _n in s.still_owed] for s in response.context["owed"]}


def test_owed_card_updates_after_filing(tree, activity_types, client_for):
    client = client_for("secretary_a")
    before = _card(client, tree.branch_a)
    # No elected committee (1 member with a committee duty): no committee meeting is owed.
    assert before["month"] == ["主题党日", "党小组会"]
    assert "支部委员会" not in before["quarter"]
    response = client.post(new_url(tree.branch_a), theme_day_post(activity_types))
    assert response.status_code == 302
    after = _card(client, tree.branch_a)
    assert after["month"] == ["党小组会"]  # the group has not met yet
    client.post(
        new_url(tree.group_a),
        theme_day_post(activity_types, activity_type=activity_types["group_meeting"].pk),
    )
    assert _card(client, tree.branch_a)["month"] == []
    assert _card(client, tree.group_a)["month"] == []


def test_owed_card_shows_counts_links_and_all_done(tree, activity_types, client_for):
    client = client_for("secretary_a")
    html = client.get(reverse("portal:organization", args=[tree.branch_a.pk]), **ENGLISH)
    html = html.content.decode()
    theme_day = activity_types["theme_day"]
    assert (
        f'href="{new_url(tree.branch_a)}?activity_type={theme_day.pk}" '
        f'title="File a record">主题党日 ×1</a>'
    ) in html
    assert 'data-owed-type="党小组会">党小组会 ×1</span>' in html  # filed on the group's page
    assert "This month" in html and "This quarter" in html and "This year" in html
    add_record(tree.group_a, activity_types["group_meeting"], today())
    group = client.get(reverse("portal:organization", args=[tree.group_a.pk]), **ENGLISH)
    month = group.content.decode().split('data-period="month"')[1].split("</li>")[0]
    assert "All done" in month


def test_committee_pages_have_no_owed_card(tree, activity_types, client_for):
    response = client_for("inspector_a").get(
        reverse("portal:organization", args=[tree.committee_a.pk])
    )
    assert response.context["owed"] is None
    assert "data-owed" not in response.content.decode()


# --- query counts -------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [5, 40])
def test_list_costs_the_same_queries_however_many_records(
    tree, activity_types, client_for, django_assert_num_queries, rows
):
    types = list(activity_types.values())
    for i in range(rows):
        record = add_record(
            tree.branch_a if i % 3 else tree.group_a,
            types[i % len(types)],
            today() - datetime.timedelta(days=i),
            present_count=2,
        )
        Attachment.objects.create(
            record=record, file="x.png", original_name="x.png", content_type="image/png", size=1
        )
    client = client_for("secretary_a")
    url = reverse("portal:activity_list", args=[tree.branch_a.pk])
    # 1 session, 2 user, 3 the organization, 4 may the secretary file here, 5 the types for
    # the filter, 6 count for the pager, 7 the page (organization joined, attachments counted).
    with django_assert_num_queries(7):
        response = client.get(url)
    assert response.context["page"].paginator.count == rows


@pytest.mark.parametrize("attendees", [5, 40])
def test_detail_costs_the_same_queries_however_many_attendees(
    tree, activity_types, client_for, secretary_a, django_assert_num_queries, attendees
):
    for i in range(attendees):
        make_member(tree.branch_a, f"X{i:04d}", f"成员{i}")
    record = file_theme_day(
        tree,
        activity_types,
        secretary_a,
        attachments=[SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.pdf", PDF)],
    )
    client = client_for("secretary_a")
    url = reverse("portal:activity_detail", args=[record.pk])
    # 1 session, 2 user, 3 the record (organization, type, filer joined), 4 attendance with
    # members, 5 attachments, 6 may the secretary write here, 7 may they still edit it.
    with django_assert_num_queries(7):
        response = client.get(url)
    assert sum(len(m) for _, _, m in response.context["attendance"]) == 3 + attendees


@pytest.mark.parametrize("members", [5, 40])
def test_filing_page_costs_the_same_queries_however_many_members(
    tree, activity_types, client_for, django_assert_num_queries, members
):
    for i in range(members):
        make_member(tree.branch_a, f"X{i:04d}", f"成员{i}")
    client = client_for("secretary_a")
    # 1 session, 2 user, 3 the organization, 4 may the secretary file here, 5 the types,
    # 6 the members.
    with django_assert_num_queries(6):
        response = client.get(new_url(tree.branch_a))
    assert len(response.context["form"].attendee_rows) == 3 + members
