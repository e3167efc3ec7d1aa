"""Filing activity records: validation in the user's language, all or nothing, and scope."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override

from branches.models import ActivityRecord, Attachment, Attendance
from branches.services import (
    ActivityInput,
    file_activity_record,
    update_activity_record,
)
from tests.conftest import make_member

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


def today():
    return timezone.localdate()


def theme_day(tree, types, **kw):
    values = dict(
        organization=tree.branch_a,
        activity_type=types["theme_day"],
        date=today() - datetime.timedelta(days=1),
        topic="学习党章",
        place="三楼会议室",
    )
    values.update(kw)
    return ActivityInput(**values)


def test_secretary_files_a_theme_day_with_one_member_excused_and_a_photo(
    tree, activity_types, secretary_a
):
    a2 = tree.members["a2"]
    photo = SimpleUploadedFile("合影.png", PNG, content_type="image/png")
    record = file_activity_record(
        secretary_a, theme_day(tree, activity_types, excused_ids={a2.pk}, attachments=[photo])
    )
    statuses = dict(record.attendances.values_list("member__member_no", "status"))
    assert statuses == {"A0001": "present", "A0002": "excused", "A0003": "present"}
    assert (record.present_count, record.excused_count, record.absent_count) == (2, 1, 0)
    assert record.attendance_rate == round(2 / 3, 4)
    assert record.filed_by == secretary_a and record.type_name == "主题党日"
    attachment = record.attachments.get()
    assert attachment.content_type == "image/png" and attachment.original_name == "合影.png"


def _assert_rejected(user, data, field, fragment):
    before = (
        ActivityRecord.objects.count(),
        Attendance.objects.count(),
        Attachment.objects.count(),
    )
    with override("zh-hans"), pytest.raises(ValidationError) as exc:
        file_activity_record(user, data)
    messages = " ".join(exc.value.message_dict[field])
    assert fragment in messages, messages
    after = (ActivityRecord.objects.count(), Attendance.objects.count(), Attachment.objects.count())
    assert after == before  # nothing saved


def test_future_date_is_rejected(tree, activity_types, secretary_a):
    data = theme_day(tree, activity_types, date=today() + datetime.timedelta(days=1))
    _assert_rejected(secretary_a, data, "date", "未来")


def test_a_stranger_as_attendee_is_rejected(tree, activity_types, secretary_a):
    stranger = tree.members["b1"]
    data = theme_day(tree, activity_types, absent_ids={stranger.pk})
    # Named by id only: the error must not tell who is behind an id outside the scope.
    _assert_rejected(secretary_a, data, "attendance", f"#{stranger.pk}")
    with pytest.raises(ValidationError) as exc:
        file_activity_record(secretary_a, data)
    assert stranger.name not in str(exc.value)


def test_a_duplicate_is_rejected(tree, activity_types, secretary_a):
    file_activity_record(secretary_a, theme_day(tree, activity_types))
    _assert_rejected(secretary_a, theme_day(tree, activity_types), "date", "主题党日")


def test_an_oversized_upload_is_rejected(tree, activity_types, secretary_a, settings):
    settings.ACTIVITY_ATTACHMENT_MAX_MB = 1
    big = SimpleUploadedFile("big.png", PNG + b"\x00" * (1024 * 1024), content_type="image/png")
    _assert_rejected(
        secretary_a, theme_day(tree, activity_types, attachments=[big]), "attachments", "big.png"
    )


def test_a_non_image_upload_is_rejected_whatever_it_claims(tree, activity_types, secretary_a):
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    good = SimpleUploadedFile("minutes.pdf", PDF, content_type="application/pdf")
    _assert_rejected(
        secretary_a,
        theme_day(tree, activity_types, attachments=[good, fake]),
        "attachments",
        "photo.jpg",
    )


def test_a_committee_meeting_is_attended_by_committee_members(tree, activity_types, secretary_a):
    # branch_a's committee: a1 (secretary) only; a2 is an ordinary member.
    data = theme_day(
        tree,
        activity_types,
        activity_type=activity_types["committee_meeting"],
        absent_ids={tree.members["a2"].pk},
    )
    _assert_rejected(secretary_a, data, "attendance", tree.members["a2"].name)


def test_committee_meeting_without_quorum_is_kept_but_does_not_count(
    tree, activity_types, secretary_a
):
    branch = tree.branch_a
    c2 = make_member(branch, "A0009", "赵敏", duty="committee_member")
    c3 = make_member(branch, "A0010", "钱进", duty="deputy_secretary")
    data = theme_day(
        tree,
        activity_types,
        activity_type=activity_types["committee_meeting"],
        excused_ids={c2.pk},
        absent_ids={c3.pk},
    )
    record = file_activity_record(secretary_a, data)
    assert record.counts_for_compliance is False  # 1 of 3 present: no quorum
    data = theme_day(
        tree,
        activity_types,
        activity_type=activity_types["committee_meeting"],
        date=today() - datetime.timedelta(days=2),
        excused_ids={c2.pk},
    )
    assert file_activity_record(secretary_a, data).counts_for_compliance is True  # 2 of 3


def test_a_group_meeting_is_filed_for_the_group_with_its_members(tree, activity_types, secretary_a):
    data = theme_day(
        tree,
        activity_types,
        organization=tree.group_a,
        activity_type=activity_types["group_meeting"],
    )
    record = file_activity_record(secretary_a, data)
    assert set(record.attendances.values_list("member__member_no", flat=True)) == {"A0001", "A0002"}
    wrong = theme_day(tree, activity_types, activity_type=activity_types["group_meeting"])
    _assert_rejected(secretary_a, wrong, "activity_type", "党小组会")


def test_secretary_cannot_file_for_another_organization_and_inspector_cannot_write(
    tree, activity_types, secretary_b, inspector_a
):
    for user in (secretary_b, inspector_a):
        with pytest.raises(PermissionDenied):
            file_activity_record(user, theme_day(tree, activity_types))
    assert not ActivityRecord.objects.exists()


def test_editing_after_the_window_needs_staff(tree, activity_types, secretary_a, staff, settings):
    record = file_activity_record(secretary_a, theme_day(tree, activity_types))
    ActivityRecord.objects.filter(pk=record.pk).update(
        filed_at=timezone.now() - datetime.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS + 1)
    )
    record.refresh_from_db()
    changed = theme_day(tree, activity_types, topic="新题目")
    with pytest.raises(PermissionDenied):
        update_activity_record(secretary_a, record, changed)
    update_activity_record(staff, record, changed)
    record.refresh_from_db()
    assert record.topic == "新题目"


def test_update_replaces_attendance(tree, activity_types, secretary_a):
    record = file_activity_record(secretary_a, theme_day(tree, activity_types))
    a3 = tree.members["a3"]
    update_activity_record(secretary_a, record, theme_day(tree, activity_types, absent_ids={a3.pk}))
    record.refresh_from_db()
    assert (record.present_count, record.absent_count) == (2, 1)
    assert record.attendances.count() == 3
