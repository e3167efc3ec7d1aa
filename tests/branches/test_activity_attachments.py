"""Files of activity records as users found them: every error in one round, files kept after an
error (for their user only), the limits stated and the cap per record, generated stored names,
the compact roster of the organization page, and the only type of a group preselected."""

from __future__ import annotations

import datetime
import io
import os
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from branches.models import ActivityRecord, Attachment, PendingUpload
from branches.services import (
    ActivityInput,
    add_attachment,
    attachment_cap_errors,
    file_activity_record,
    original_name_of,
    pending_uploads,
    update_activity_record,
)
from tests.conftest import make_member

pytestmark = pytest.mark.usefixtures("module_cast")

ENGLISH = {"language": "en"}  # chosen with the language switch
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
MB = 1024 * 1024
GENERATED = re.compile(r"[0-9a-f]{32}\.(png|pdf|jpg)")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    """The services' messages in English (pages: `ENGLISH`, the language switch's cookie)."""
    with translation.override("en"):
        yield


def today() -> datetime.date:
    return timezone.localdate()


def png(name: str = "合影.png", size: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG + b"\x00" * size, content_type="image/png")


def not_a_photo(name: str = "scan.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ\x90\x00 not a photo", content_type="image/jpeg")


def new_url(org) -> str:
    return reverse("portal:activity_new", args=[org.pk])


def post_data(types, **extra) -> dict:
    data = {
        "activity_type": types["theme_day"].pk,
        "date": today().isoformat(),
        "topic": "学习党章",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def theme_day(tree, types, **extra) -> ActivityInput:
    values = dict(
        organization=tree.branch_a, activity_type=types["theme_day"], date=today(), topic="学习党章"
    )
    values.update(extra)
    return ActivityInput(**values)


def token_of(response) -> str:
    return response.context["form"].upload_token


# --- 1. every error in one round ----------------------------------------------------------------


def test_a_future_date_an_empty_topic_and_a_bad_file_come_back_together(
    tree, activity_types, client_for
):
    tomorrow = today() + datetime.timedelta(days=1)
    response = client_for("secretary_a").post(
        new_url(tree.branch_a),
        post_data(activity_types, date=tomorrow.isoformat(), topic="", attachments=[not_a_photo()]),
        **ENGLISH,
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["date"] == ["The date cannot be in the future."]
    assert form.errors["topic"] == ["This field is required."]  # not twice ("Enter the topic.")
    assert form.attachment_errors == ["scan.jpg is not a photo (JPEG, PNG, WebP, HEIC) or a PDF."]
    html = response.content.decode()
    assert 'id="error_date">The date cannot be in the future.' in html
    assert ActivityRecord.objects.count() == 0


def test_a_duplicate_and_a_refused_attendance_come_back_with_the_form_errors(
    tree, activity_types, client_for, secretary_a
):
    file_activity_record(secretary_a, theme_day(tree, activity_types))
    stranger = tree.members["a2_1"]  # of another branch
    response = client_for("secretary_a").post(
        new_url(tree.branch_a),
        post_data(activity_types, topic="", **{f"attendance-{stranger.pk}": "absent"}),
        **ENGLISH,
    )
    form = response.context["form"]
    assert set(form.errors) == {"date", "topic"}
    assert "already filed a 主题党日" in form.errors["date"][0]


# --- 2. files kept after an error, for their user only ------------------------------------------


def test_good_files_of_a_refused_form_are_kept_and_attached_on_the_next_try(
    tree, activity_types, client_for, secretary_a
):
    client = client_for("secretary_a")
    first = client.post(
        new_url(tree.branch_a),
        post_data(activity_types, topic="", attachments=[png(), not_a_photo()]),
        **ENGLISH,
    )
    assert first.status_code == 200
    token = token_of(first)
    (kept,) = first.context["form"].pending_uploads
    assert (kept.original_name, kept.user, kept.token) == ("合影.png", secretary_a, token)
    html = first.content.decode()
    assert "Already attached" in html
    assert f'name="upload_token" value="{token}"' in html
    assert f'name="remove_pending" value="{kept.pk}"' in html
    assert "scan.jpg is not a photo" in html  # the bad one is not kept: named as an error

    second = client.post(new_url(tree.branch_a), post_data(activity_types, upload_token=token))
    assert second.status_code == 302
    attachment = ActivityRecord.objects.get().attachments.get()
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "合影.png",
        "image/png",
        len(PNG),
    )
    assert attachment.file.read() == PNG
    assert "/pending/" not in attachment.file.name  # moved to the record's folder
    assert not PendingUpload.objects.exists()


def test_a_kept_file_ticked_remove_is_not_attached(tree, activity_types, client_for):
    client = client_for("secretary_a")
    first = client.post(
        new_url(tree.branch_a),
        post_data(activity_types, topic="", attachments=[png("a.png"), png("b.png")]),
    )
    token = token_of(first)
    a, b = first.context["form"].pending_uploads
    second = client.post(
        new_url(tree.branch_a),
        post_data(
            activity_types, upload_token=token, remove_pending=[a.pk], attachments=[png("c.png")]
        ),
    )
    assert second.status_code == 302
    names = ActivityRecord.objects.get().attachments.values_list("original_name", flat=True)
    assert sorted(names) == ["b.png", "c.png"]
    assert not PendingUpload.objects.exists()


def test_kept_files_are_never_another_users(
    tree, activity_types, client_for, secretary_a, secretary_b
):
    first = client_for("secretary_a").post(
        new_url(tree.branch_a), post_data(activity_types, topic="", attachments=[png()])
    )
    token = token_of(first)
    (kept,) = PendingUpload.objects.all()
    other = client_for("secretary_b")
    # The same token, another user: nothing offered, nothing attached, nothing removed.
    shown = other.get(new_url(tree.branch_b), {"upload_token": token})
    assert shown.context["form"].pending_uploads == []
    assert "合影.png" not in shown.content.decode()
    response = other.post(
        new_url(tree.branch_b),
        post_data(activity_types, upload_token=token, remove_pending=[kept.pk]),
    )
    assert response.status_code == 302
    assert not ActivityRecord.objects.get().attachments.exists()
    assert PendingUpload.objects.get() == kept
    assert pending_uploads(secretary_b, token) == []
    assert pending_uploads(secretary_a, token) == [kept]


def test_the_service_refuses_kept_files_of_another_user(
    tree, activity_types, client_for, secretary_a, secretary_b
):
    client_for("secretary_a").post(
        new_url(tree.branch_a), post_data(activity_types, topic="", attachments=[png()])
    )
    kept = list(PendingUpload.objects.all())
    data = theme_day(tree, activity_types, organization=tree.branch_b, pending=kept)
    with translation.override("en"), pytest.raises(PermissionDenied, match="not sent by you"):
        file_activity_record(secretary_b, data)
    assert ActivityRecord.objects.count() == 0


def test_the_refresh_without_javascript_offers_the_kept_files_again(
    tree, activity_types, client_for
):
    client = client_for("secretary_a")
    first = client.post(
        new_url(tree.branch_a), post_data(activity_types, topic="", attachments=[png()])
    )
    token = token_of(first)
    refreshed = client.get(
        new_url(tree.branch_a),
        {"activity_type": activity_types["party_lecture"].pk, "upload_token": token},
    )
    assert [p.original_name for p in refreshed.context["form"].pending_uploads] == ["合影.png"]
    assert refreshed.context["form"].upload_token == token


def test_the_edit_form_keeps_files_too_and_attaches_them(
    tree, activity_types, client_for, secretary_a
):
    record = file_activity_record(secretary_a, theme_day(tree, activity_types))
    client = client_for("secretary_a")
    url = reverse("portal:activity_edit", args=[record.pk])
    first = client.post(url, post_data(activity_types, topic="", attachments=[png()]))
    assert first.status_code == 200
    second = client.post(url, post_data(activity_types, upload_token=token_of(first)))
    assert second.status_code == 302
    assert list(record.attachments.values_list("original_name", flat=True)) == ["合影.png"]


def test_abandoned_kept_files_are_deleted_after_the_stated_time(
    tree, activity_types, client_for, settings, django_capture_on_commit_callbacks
):
    client = client_for("secretary_a")
    client.post(new_url(tree.branch_a), post_data(activity_types, topic="", attachments=[png()]))
    old = PendingUpload.objects.get()
    storage, name = old.file.storage, old.file.name
    assert storage.exists(name)
    # Within the time: kept, by the command and by the next submission.
    call_command("clear_pending_uploads", stdout=io.StringIO())
    assert PendingUpload.objects.filter(pk=old.pk).exists()
    hours = settings.ACTIVITY_PENDING_UPLOAD_HOURS
    PendingUpload.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - datetime.timedelta(hours=hours, minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("clear_pending_uploads", stdout=io.StringIO())
    assert not PendingUpload.objects.exists()
    assert not storage.exists(name)


def test_the_next_submission_clears_expired_kept_files(tree, activity_types, client_for, settings):
    client = client_for("secretary_a")
    client.post(new_url(tree.branch_a), post_data(activity_types, topic="", attachments=[png()]))
    PendingUpload.objects.update(
        uploaded_at=timezone.now()
        - datetime.timedelta(hours=settings.ACTIVITY_PENDING_UPLOAD_HOURS + 1)
    )
    client_for("secretary_b").post(new_url(tree.branch_b), post_data(activity_types, topic=""))
    assert not PendingUpload.objects.exists()


# --- 3. the limits stated before upload ---------------------------------------------------------


def test_the_form_states_the_limits_next_to_the_file_inputs(tree, activity_types, client_for):
    html = client_for("secretary_a").get(new_url(tree.branch_a), **ENGLISH).content.decode()
    assert (
        'id="attachment-limits">JPEG, PNG, WebP, HEIC or PDF.<br>Up to 10 MB a file; at most 20 '
        "files and 100 MB per record.</p>"
    ) in html
    assert html.count('aria-describedby="attachment-limits"') == 2
    # For the browser's own check (activity-form.js), the same numbers.
    assert (
        f'data-max-file-bytes="{10 * MB}" data-max-files="20" data-max-total-bytes="{100 * MB}"'
        in html
    )
    assert 'data-msg-too-large="{name} is larger than 10 MB: not sent."' in html


def test_the_server_still_refuses_a_file_over_the_limit(tree, activity_types, client_for, settings):
    settings.ACTIVITY_ATTACHMENT_MAX_MB = 1
    response = client_for("secretary_a").post(
        new_url(tree.branch_a),
        post_data(activity_types, attachments=[png("big.png", size=MB)]),
        **ENGLISH,
    )
    assert response.status_code == 200
    assert response.context["form"].attachment_errors == ["big.png is larger than 1 MB."]
    assert not PendingUpload.objects.exists()


# --- 4. the cap per record ----------------------------------------------------------------------


def test_twelve_files_of_nine_mb_are_over_the_default_cap():
    assert attachment_cap_errors(None, [9 * MB] * 12) == [
        "A record holds at most 100 MB of files; this one would hold 108.0 MB."
    ]
    assert attachment_cap_errors(None, [MB] * 21)[0].startswith("A record holds at most 20 files")
    assert attachment_cap_errors(None, [MB] * 20) == []


@pytest.fixture
def small_cap(settings):
    settings.ACTIVITY_ATTACHMENTS_MAX_FILES = 3
    settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB = 1


def test_filing_is_refused_over_the_cap(tree, activity_types, secretary_a, small_cap):
    with pytest.raises(ValidationError) as too_many:
        file_activity_record(
            secretary_a,
            theme_day(tree, activity_types, attachments=[png(f"{i}.png") for i in range(4)]),
        )
    assert too_many.value.message_dict["attachments"] == [
        "A record holds at most 3 files; this one would hold 4."
    ]
    with pytest.raises(ValidationError) as too_much:
        file_activity_record(
            secretary_a,
            theme_day(
                tree, activity_types, attachments=[png("a.png", MB // 2), png("b.png", MB // 2)]
            ),
        )
    assert "at most 1 MB of files" in too_much.value.message_dict["attachments"][0]
    assert ActivityRecord.objects.count() == 0


def test_a_change_counts_the_files_already_there_less_those_removed(
    tree, activity_types, secretary_a, small_cap
):
    record = file_activity_record(
        secretary_a, theme_day(tree, activity_types, attachments=[png("a.png"), png("b.png")])
    )
    two_more = [png("c.png"), png("d.png")]
    with pytest.raises(ValidationError, match="would hold 4"):
        update_activity_record(
            secretary_a, record, theme_day(tree, activity_types, attachments=two_more)
        )
    first = record.attachments.first()
    update_activity_record(
        secretary_a,
        record,
        theme_day(tree, activity_types, attachments=[png("c.png"), png("d.png")]),
        remove_attachment_ids=[first.pk],
    )
    assert record.attachments.count() == 3


def test_the_admin_door_is_capped_too(tree, activity_types, secretary_a, staff, small_cap):
    record = file_activity_record(
        secretary_a,
        theme_day(tree, activity_types, attachments=[png(f"{i}.png") for i in range(3)]),
    )
    with pytest.raises(ValidationError, match="at most 3 files"):
        add_attachment(staff, record, png("4.png"))
    assert record.attachments.count() == 3


def test_the_portal_states_the_cap_and_keeps_what_fits(tree, activity_types, client_for, small_cap):
    client = client_for("secretary_a")
    response = client.post(
        new_url(tree.branch_a),
        post_data(activity_types, attachments=[png(f"{i}.png") for i in range(5)]),
        **ENGLISH,
    )
    form = response.context["form"]
    assert form.attachment_errors == [
        "A record holds at most 3 files; this one would hold 5.",
        "Not kept, over the limit of a record: 3.png、4.png.",
    ]
    assert [p.original_name for p in form.pending_uploads] == ["0.png", "1.png", "2.png"]
    again = client.post(
        new_url(tree.branch_a), post_data(activity_types, upload_token=form.upload_token)
    )
    assert again.status_code == 302
    assert ActivityRecord.objects.get().attachments.count() == 3


def test_the_api_is_capped_too(tree, activity_types, client_for, small_cap):
    response = client_for("secretary_a").post(
        reverse("activity-record-list"),
        {
            "organization": tree.branch_a.pk,
            "activity_type": "theme_day",
            "date": today().isoformat(),
            "topic": "学习党章",
            "new_attachments": [png(f"{i}.png") for i in range(4)],
        },
        **ENGLISH,
    )
    assert response.status_code == 400
    assert response.json()["attachments"] == [
        "A record holds at most 3 files; this one would hold 4."
    ]


# --- 5. stored names are generated ----------------------------------------------------------------

LONG_NAME = "党" * 85 + ".pdf"  # 259 bytes in UTF-8: more than a file system takes


def test_a_long_chinese_file_name_is_kept_as_data_and_stored_under_a_generated_name(
    tree, activity_types, client_for
):
    client = client_for("secretary_a")
    minutes = SimpleUploadedFile(LONG_NAME, PDF, content_type="application/pdf")
    response = client.post(new_url(tree.branch_a), post_data(activity_types, attachments=[minutes]))
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.original_name == LONG_NAME
    assert GENERATED.fullmatch(os.path.basename(attachment.file.name))
    assert attachment.file.name.endswith(".pdf")
    download = client.get(reverse("portal:attachment", args=[attachment.pk]))
    assert download.status_code == 200
    assert "filename*=utf-8''" + "%E5%85%9A" * 85 + ".pdf" in download["Content-Disposition"]


def test_a_long_file_name_through_the_api(tree, activity_types, client_for):
    response = client_for("secretary_a").post(
        reverse("activity-record-list"),
        {
            "organization": tree.branch_a.pk,
            "activity_type": "theme_day",
            "date": today().isoformat(),
            "topic": "学习党章",
            "new_attachments": [SimpleUploadedFile(LONG_NAME, PDF)],
        },
    )
    assert response.status_code == 201, response.content
    (attachment,) = response.json()["attachments"]
    assert attachment["name"] == LONG_NAME
    assert GENERATED.fullmatch(os.path.basename(Attachment.objects.get().file.name))


def test_the_stored_extension_is_the_sniffed_types_never_the_users(
    tree, activity_types, secretary_a
):
    record = file_activity_record(
        secretary_a,
        theme_day(tree, activity_types, attachments=[SimpleUploadedFile("magic.html", PNG)]),
    )
    attachment = record.attachments.get()
    assert attachment.file.name.endswith(".png")
    assert ".html" not in attachment.file.name
    assert (attachment.original_name, attachment.content_type) == ("magic.html", "image/png")


def test_the_original_name_is_cut_to_its_field_with_its_extension():
    upload = SimpleUploadedFile("x.pdf", PDF)
    upload._name = "党" * 300 + ".pdf"  # past Django's own cut of upload names
    name = original_name_of(upload)
    assert len(name) == Attachment._meta.get_field("original_name").max_length
    assert name.endswith("党.pdf")


# --- 6. the roster of the organization page -----------------------------------------------------


def test_the_roster_is_one_line_per_member_the_first_twenty_shown(tree, client_for):
    for i in range(22):
        make_member(tree.branch_a, f"X{i:04d}", f"成员{i:02d}", position="科员")
    response = client_for("secretary_a").get(
        reverse("portal:organization", args=[tree.branch_a.pk]), **ENGLISH
    )
    assert len(response.context["roster_first"]) == 20
    assert len(response.context["roster_rest"]) == 5
    html = response.content.decode()
    assert html.count("data-member>") == 25
    assert '<table class="table table--stack roster">' not in html
    shown, rest = html.split("data-roster-more")
    assert shown.count("data-member>") == 20
    assert "Show 5 more members" in rest
    assert f'href="/portal/members/?organization={tree.branch_a.pk}"' in html


# --- 7. the only type of an organization is chosen already --------------------------------------


def test_a_groups_only_type_is_preselected(tree, activity_types, client_for):
    response = client_for("secretary_a").get(new_url(tree.group_a))
    form = response.context["form"]
    assert form.chosen_type == activity_types["group_meeting"]
    assert 'data-committee-only="0" selected>党小组会</option>' in response.content.decode()


def test_a_branch_with_several_types_has_none_preselected(tree, activity_types, client_for):
    form = client_for("secretary_a").get(new_url(tree.branch_a)).context["form"]
    assert form.chosen_type is None
