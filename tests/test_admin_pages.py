"""Every page of the committee's admin opens for committee staff, and only for them.

The list of pages is read from `admin.site._registry`: a newly registered ModelAdmin is opened
here without anybody adding it, and fails until it has an object in OBJECTS below.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.access import CAPABILITIES
from branches.models import ActivityRecord, Attachment, Attendance, ComplianceRule, Term
from branches.periods import Period
from config.admin_base import CapabilityAdmin
from tests.conftest import add_record
from tests.reminders import objects as reminder_objects

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
NOT_A_PHOTO = b"MZ\x90\x00 not a photo"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


def last_month() -> Period:
    today = timezone.localdate()
    return Period.month(today.year, today.month).previous()


def a_record(cast) -> ActivityRecord:
    """A theme day of branch A three days ago, everyone present, with one photo."""
    tree = cast.tree
    record = add_record(
        tree.branch_a,
        cast.activity_types["theme_day"],
        timezone.localdate() - datetime.timedelta(days=3),
        filed_by=cast.secretary_a,
    )
    for key in ("a1", "a2", "a3"):
        Attendance.objects.create(record=record, member=tree.members[key], status="present")
    Attachment.objects.create(
        record=record,
        file=SimpleUploadedFile("合影.jpg", JPEG),
        original_name="合影.jpg",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    return record


def a_token(cast):
    from rest_framework.authtoken.models import Token, TokenProxy

    return TokenProxy.objects.get(pk=Token.objects.create(user=cast.secretary_a).pk)


def a_periodic_task(cast):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every_day = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(
        name="测试任务", task="reports.remove_old_exports", interval=every_day
    )


def a_bulletin(cast):
    from reports.services import build_bulletin

    return build_bulletin(last_month(), user=cast.staff)


def a_bulletin_row(cast):
    bulletin = a_bulletin(cast)
    return bulletin.rows.first()


def a_ledger_export(cast):
    from reports.models import LedgerExport

    return LedgerExport.objects.create(owner=cast.staff, ledger="members", status="failed")


def _beat(model_name: str, **fields) -> Callable:
    def make(cast):
        from django.apps import apps

        return apps.get_model("django_celery_beat", model_name).objects.create(**fields)

    return make


def _pairing_objects(cast) -> dict:
    """A pairing of branch A with a village, and one of each thing recorded on it."""
    from pairings.defaults import seed_schemes
    from pairings.models import (
        HelpPhoto,
        HelpRecord,
        Measure,
        MemberPair,
        Milestone,
        Need,
        Pairing,
        PartnerOrganization,
        Project,
        Scheme,
    )

    seed_schemes(Scheme)
    partner = PartnerOrganization.objects.create(name="东村党支部", kind="village", town="城关镇")
    pairing = Pairing.objects.create(
        scheme=Scheme.objects.get(code="one_plus_one"),
        organization=cast.tree.branch_a,
        partner=partner,
        started_on=datetime.date(2025, 1, 1),
    )
    need = Need.objects.create(pairing=pairing, description="村道硬化", found_on=pairing.started_on)
    Measure.objects.create(need=need, description="争取资金")
    project = Project.objects.create(
        pairing=pairing,
        name="村级书屋",
        started_on=pairing.started_on,
        due_on=datetime.date(2025, 12, 31),
    )
    Milestone.objects.create(project=project, name="选址", due_on=datetime.date(2025, 3, 1))
    visit = HelpRecord.objects.create(
        pairing=pairing, kind="visit", date=datetime.date(2025, 2, 1), description="走访"
    )
    visit.participants.add(cast.tree.members["a1"])
    HelpPhoto.objects.create(
        help_record=visit,
        file=SimpleUploadedFile("现场.jpg", JPEG),
        original_name="现场.jpg",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    pair = MemberPair.objects.create(
        pairing=pairing,
        member=cast.tree.members["a1"],
        counterpart_kind="key_household",
        counterpart_name="王大爷",
        started_on=pairing.started_on,
    )
    return {
        "PartnerOrganization": partner,
        "Scheme": pairing.scheme,
        "Pairing": pairing,
        "Need": need,
        "Project": project,
        "HelpRecord": visit,
        "MemberPair": pair,
    }


def _pairing_object(name: str) -> Callable:
    return lambda cast: _pairing_objects(cast)[name]


def _evaluation_objects(cast) -> dict:
    """A program with its standard criteria and stages, an application under review scored
    once (with a self-assessment and a file), a title awarded and re-reviewed."""
    from evaluations.defaults import seed_program
    from evaluations.models import (
        Application,
        ApplicationAttachment,
        Criterion,
        Designation,
        Program,
        ReReview,
        ReviewSheet,
        Score,
        SelfAssessment,
        Stage,
    )

    program = Program.objects.create(
        name="2026年度示范点",
        kind="demonstration_site",
        year=2026,
        opens_on=datetime.date(2026, 3, 1),
        closes_on=datetime.date(2026, 4, 30),
        title="示范点",
    )
    seed_program(program, Criterion, Stage)
    program.reviewers.add(cast.staff)
    stage = program.stages.get(order=1)
    criterion = Criterion.objects.filter(program=program, organization_kind="branch").first()
    application = Application.objects.create(
        program=program,
        organization=cast.tree.branch_a,
        status="under_review",
        stage=stage,
        submitted_at=timezone.now(),
    )
    SelfAssessment.objects.create(
        application=application, criterion=criterion, score=18, evidence="台账齐全"
    )
    ApplicationAttachment.objects.create(
        application=application,
        file=SimpleUploadedFile("材料.jpg", JPEG),
        original_name="材料.jpg",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    sheet = ReviewSheet.objects.create(
        application=application,
        stage=stage,
        reviewer=cast.staff,
        total=90,
        submitted_at=timezone.now(),
    )
    Score.objects.create(sheet=sheet, criterion=criterion, score=18)
    title = Designation.objects.create(
        program=program,
        organization=cast.tree.branch_a2,
        title=program.title,
        awarded_on=datetime.date(2023, 6, 1),
        valid_until=datetime.date(2026, 6, 1),
    )
    review = ReReview.objects.create(
        designation=title,
        due_on=title.valid_until,
        outcome="kept",
        reason="复查合格",
        decided_on=datetime.date(2026, 5, 20),
        decided_by=cast.staff,
    )
    return {
        "Program": program,
        "Application": application,
        "Designation": title,
        "ReReview": review,
    }


def _evaluation_object(name: str) -> Callable:
    return lambda cast: _evaluation_objects(cast)[name]


def _campaign_objects(cast) -> dict:
    """A campaign with a target, a team and a batch; its inspection group (the staff in it)
    with a visit; a problem found by it, answered with a photo and sent back once; an annual
    report with a problem found in it; a key task with a measure; a participation with goods;
    a deployment."""
    from decimal import Decimal

    from campaigns.models import (
        AnnualReport,
        Campaign,
        Deployment,
        InspectionGroup,
        KeyMeasure,
        KeyTask,
        Participation,
        ParticipationGoods,
        ProblemEvent,
        Rectification,
        RectificationPhoto,
        Target,
        VisitLog,
        VolunteerBatch,
        VolunteerTeam,
    )
    from campaigns.services import ProblemInput, record_problem

    tree, staff = cast.tree, cast.staff
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="基层党建督导",
        kind="inspection",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=30),
    )
    Target.objects.create(campaign=campaign, indicator="督导覆盖", unit_of_measure="个", goal=10)
    team = VolunteerTeam.objects.create(campaign=campaign, name="第一队")
    batch = VolunteerBatch.objects.create(
        campaign=campaign, number=1, place="城关镇", starts_on=today, ends_on=today
    )
    group = InspectionGroup.objects.create(campaign=campaign, name="第一督导组")
    group.members.add(staff)
    group.units.add(tree.unit_a)
    VisitLog.objects.create(group=group, date=today, method="visit", place="第一党支部")
    problem = record_problem(
        staff,
        ProblemInput(
            organization=tree.branch_a,
            category="组织生活",
            description="三会一课记录不全",
            found_on=today - datetime.timedelta(days=5),
            deadline=today + datetime.timedelta(days=5),
            group=group,
        ),
    )
    answer = Rectification.objects.create(problem=problem, measures="补齐记录", submitted_by=staff)
    RectificationPhoto.objects.create(
        answer=answer,
        file=SimpleUploadedFile("整改.jpg", JPEG),
        original_name="整改.jpg",
        content_type="image/jpeg",
        size=len(JPEG),
    )
    ProblemEvent.objects.create(problem=problem, from_state="submitted", to_state="sent_back")
    report = AnnualReport.objects.create(organization=tree.branch_a2, year=2025, report="述职")
    record_problem(
        staff,
        ProblemInput(
            organization=tree.branch_a2,
            category="述职评议",
            description="学习制度落实不够",
            found_on=today,
            deadline=today + datetime.timedelta(days=30),
            annual_report=report,
        ),
    )
    task = KeyTask.objects.create(campaign=campaign, title="规范组织生活")
    KeyMeasure.objects.create(
        task=task,
        description="开展专项检查",
        organization=tree.branch_a,
        deadline=today + datetime.timedelta(days=10),
    )
    participation = Participation.objects.create(
        campaign=campaign, organization=tree.branch_a, members=3, money=Decimal("100.10")
    )
    ParticipationGoods.objects.create(
        participation=participation,
        item="棉被",
        quantity=2,
        unit_of_measure="床",
        value=Decimal("200.20"),
    )
    deployment = Deployment.objects.create(batch=batch, team=team, member=tree.members["a1"])
    return {
        "Campaign": campaign,
        "InspectionGroup": group,
        "Problem": problem,
        "AnnualReport": report,
        "KeyTask": task,
        "Participation": participation,
        "Deployment": deployment,
    }


def _campaign_object(name: str) -> Callable:
    return lambda cast: _campaign_objects(cast)[name]


# One object per registered model, made from the standing cast (tests/conftest.py).
def _axes(model: str, **fields):
    """A failed login's record (django-axes), for its admin pages."""
    from django.apps import apps

    return apps.get_model("axes", model).objects.create(
        username="sec_a",
        ip_address="127.0.0.1",
        user_agent="test",
        path_info="/portal/login/",
        attempt_time=timezone.now(),
        **fields,
    )


OBJECTS: dict[str, Callable] = {
    "auth.Group": lambda cast: Group.objects.create(name="组织科"),
    "authtoken.TokenProxy": a_token,
    "django_celery_beat.PeriodicTask": a_periodic_task,
    "django_celery_beat.ClockedSchedule": _beat(
        "ClockedSchedule", clocked_time=datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    ),
    "django_celery_beat.CrontabSchedule": _beat("CrontabSchedule", minute="0", hour="3"),
    "django_celery_beat.SolarSchedule": _beat(
        "SolarSchedule", event="sunrise", latitude=39.9, longitude=116.4
    ),
    "django_celery_beat.IntervalSchedule": _beat("IntervalSchedule", every=5, period="minutes"),
    "accounts.User": lambda cast: cast.secretary_a,
    "axes.AccessAttempt": lambda cast: _axes(
        "AccessAttempt", failures_since_start=3, get_data="", post_data=""
    ),
    "axes.AccessFailureLog": lambda cast: _axes("AccessFailureLog", locked_out=False),
    "axes.AccessLog": lambda cast: _axes("AccessLog"),
    "branches.Unit": lambda cast: cast.tree.unit_a,
    "branches.Organization": lambda cast: cast.tree.branch_a,
    "branches.Term": lambda cast: Term.objects.create(
        organization=cast.tree.branch_a, started_on=datetime.date(2024, 3, 1)
    ),
    "branches.Member": lambda cast: cast.tree.members["a1"],
    "branches.ActivityType": lambda cast: cast.activity_types["theme_day"],
    "branches.ComplianceRule": lambda cast: ComplianceRule.objects.filter(
        activity_type=cast.activity_types["theme_day"]
    ).first(),
    "branches.ActivityRecord": a_record,
    "reports.Bulletin": a_bulletin,
    "reports.BulletinRow": a_bulletin_row,
    "reports.LedgerExport": a_ledger_export,
    **{
        f"pairings.{name}": _pairing_object(name)
        for name in (
            "PartnerOrganization",
            "Scheme",
            "Pairing",
            "Need",
            "Project",
            "HelpRecord",
            "MemberPair",
        )
    },
    **{
        f"evaluations.{name}": _evaluation_object(name)
        for name in ("Program", "Application", "Designation", "ReReview")
    },
    **{
        f"campaigns.{name}": _campaign_object(name)
        for name in (
            "Campaign",
            "InspectionGroup",
            "Problem",
            "AnnualReport",
            "KeyTask",
            "Participation",
            "Deployment",
        )
    },
    "reminders.Reminder": reminder_objects.a_reminder,
    "reminders.Webhook": reminder_objects.a_webhook,
    "reminders.Delivery": reminder_objects.a_delivery,
}

# The id an admin's URLs use when it is not the object's pk (DRF's token admin: the user's).
ADMIN_IDS: dict[str, Callable] = {"authtoken.TokenProxy": lambda token: token.user_id}

# Extra pages that answer a GET with something other than the page itself.
GET_STATUS: dict[str, int] = {
    # The import's confirm step: a POST of the previewed file (tests/branches/test_roster_import).
    "branches_member_process_import": 405,
}

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
LABELS = [model._meta.label for model, _ in REGISTRY]


@pytest.fixture
def cast(tree, staff, secretary_a, activity_types):
    return SimpleNamespace(
        tree=tree, staff=staff, secretary_a=secretary_a, activity_types=activity_types
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def staff_request(staff):
    request = RequestFactory().get("/admin/")
    request.user = staff
    return request


def pages_of(model_admin, obj, object_id, staff) -> list[tuple[str, str, int]]:
    """(name, url, expected status) of every named page of a ModelAdmin, from its URLs."""
    request = staff_request(staff)
    pages = []
    for pattern in model_admin.get_urls():
        if not pattern.name:
            continue  # "<id>/": a redirect to the change page
        args = {0: [], 1: [object_id], 2: [object_id, None]}[pattern.pattern.regex.groups]
        if len(args) == 2:  # simple_history: one version of the object
            args[1] = obj.history.latest().history_id
        expected = GET_STATUS.get(pattern.name, 200)
        if pattern.name.endswith("_add"):
            expected = 200 if model_admin.has_add_permission(request) else 403
        elif pattern.name.endswith("_delete"):
            expected = 200 if model_admin.has_delete_permission(request, obj) else 403
        pages.append((pattern.name, reverse(f"admin:{pattern.name}", args=args), expected))
    return pages


# --- declarations ----------------------------------------------------------------------------


def _is_project_class(cls) -> bool:
    return (Path(settings.BASE_DIR) / cls.__module__.split(".")[0]).is_dir()


def admin_of(label: str):
    return next((m, a) for m, a in REGISTRY if m._meta.label == label)


@pytest.mark.parametrize("label", LABELS)
def test_every_admin_declares_its_capabilities_first(label):
    _model, model_admin = admin_of(label)
    assert isinstance(model_admin, CapabilityAdmin)
    mro = type(model_admin).__mro__
    before = mro[: mro.index(CapabilityAdmin)]
    # Nothing but the project's own class sits before CapabilityAdmin: a library's
    # has_*_permission can never bypass it.
    assert all(_is_project_class(cls) for cls in before), before
    assert model_admin.read_capability in CAPABILITIES
    assert model_admin.write_capability is None or model_admin.write_capability in CAPABILITIES


def test_every_registered_model_has_an_object_fixture():
    missing = set(LABELS) - set(OBJECTS)
    assert not missing, f"Add an object for {sorted(missing)} to OBJECTS"


# --- staff open every page -------------------------------------------------------------------


@pytest.mark.parametrize("label", LABELS)
def test_staff_open_every_page_of_every_admin(staff_client, cast, label):
    model, model_admin = admin_of(label)
    if label not in OBJECTS:
        pytest.fail(f"{label} is registered on the admin but has no object in OBJECTS")
    obj = OBJECTS[label](cast)
    assert obj is not None, f"the object fixture of {label} made nothing"
    object_id = ADMIN_IDS.get(label, lambda o: o.pk)(obj)
    pages = pages_of(model_admin, obj, object_id, cast.staff)
    names = {name for name, _, _ in pages}
    opts = model._meta
    for kind in ("changelist", "add", "change", "history", "delete"):
        assert f"{opts.app_label}_{opts.model_name}_{kind}" in names
    failures = []
    for name, url, expected in pages:
        response = staff_client.get(url)
        if response.status_code != expected:
            failures.append(f"{name} {url}: {response.status_code}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_read_only_admins_show_their_rows_but_offer_no_writing(staff_client, cast):
    row = a_bulletin_row(cast)
    export = a_ledger_export(cast)
    for obj in (row, export):
        opts = obj._meta
        changelist = staff_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
        assert changelist.status_code == 200
        assert changelist.context["cl"].result_count == type(obj).objects.count()
        change = staff_client.get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )
        assert change.status_code == 200
        assert change.context["has_change_permission"] is False
        assert change.context["has_delete_permission"] is False


def test_staff_build_a_past_month_from_the_admin(staff_client, cast):
    url = reverse("admin:reports_bulletin_build")
    assert staff_client.get(url).status_code == 200
    changelist = staff_client.get(reverse("admin:reports_bulletin_changelist"))
    assert url in changelist.content.decode()
    month = last_month()
    response = staff_client.post(url, {"month": month.code})
    from reports.models import Bulletin

    bulletin = Bulletin.objects.get(month=month.start)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:reports_bulletin_change", args=[bulletin.pk])
    assert bulletin.built_by == cast.staff
    assert bulletin.rows.exists()


# --- the admin is the staff's door -----------------------------------------------------------


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a"])
def test_secretaries_and_inspectors_are_sent_to_the_login_even_with_the_staff_flag(
    client, request, role
):
    user = request.getfixturevalue(role)
    user.is_staff = True
    user.save()
    client.force_login(user)
    login = reverse("admin:login")
    for model, _ in REGISTRY:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url
    response = client.get(reverse("admin:reports_bulletin_build"))
    assert response["Location"].startswith(login)


# --- attachments are written through the services --------------------------------------------


def change_form_data(response) -> dict:
    """The POST a browser would send back from an unchanged change page: the model form, and
    every inline formset with its management form."""
    data = {}
    forms_ = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        forms_.extend(formset.forms)
    for form in forms_:
        for name, field in form.fields.items():
            if isinstance(field.widget, forms.FileInput) or field.disabled:
                continue
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = value
    return data


def add_attachment_data(response, upload) -> dict:
    data = change_form_data(response)
    prefix = next(
        i.formset.prefix
        for i in response.context["inline_admin_formsets"]
        if i.formset.model is Attachment
    )
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data[f"{prefix}-{index}-file"] = upload
    return data


def test_staff_add_a_jpeg_to_a_record_in_the_admin(staff_client, cast):
    record = a_record(cast)
    record.present_count = 0  # stale: saving in the admin recounts
    record.save(update_fields=["present_count"])
    url = reverse("admin:branches_activityrecord_change", args=[record.pk])
    page = staff_client.get(url)
    data = add_attachment_data(page, SimpleUploadedFile("会场.jpg", JPEG, "image/jpeg"))
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    added = record.attachments.get(original_name="会场.jpg")
    assert (added.size, added.content_type) == (len(JPEG), "image/jpeg")
    assert added.file.read() == JPEG
    assert record.attachments.count() == 2
    record.refresh_from_db()
    assert record.present_count == 3


def test_a_file_that_is_not_a_photo_or_pdf_is_a_form_error_and_saves_nothing(staff_client, cast):
    record = a_record(cast)
    url = reverse("admin:branches_activityrecord_change", args=[record.pk])
    page = staff_client.get(url)
    data = add_attachment_data(page, SimpleUploadedFile("照片.jpg", NOT_A_PHOTO, "image/jpeg"))
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "照片.jpg不是照片（JPEG、PNG、WebP、HEIC）或PDF文件。" in response.content.decode()
    assert list(record.attachments.values_list("original_name", flat=True)) == ["合影.jpg"]


def test_deleting_an_attachment_in_the_admin_removes_its_file_after_commit(
    staff_client, cast, django_capture_on_commit_callbacks
):
    record = a_record(cast)
    attachment = record.attachments.get()
    stored = Path(attachment.file.path)
    assert stored.exists()
    url = reverse("admin:branches_activityrecord_change", args=[record.pk])
    data = change_form_data(staff_client.get(url))
    data["attachments-0-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, data)
    assert response.status_code == 302
    assert not record.attachments.exists()
    assert not stored.exists()


def test_the_pages_that_once_failed_are_among_those_opened():
    # test_staff_open_every_page_of_every_admin opens each of them (list, change, history...);
    # named here so that they cannot drop out of the walk unnoticed.
    once_failed = {
        "branches.ActivityRecord",
        "branches.ActivityType",
        "branches.ComplianceRule",
        "reports.BulletinRow",
        "reports.LedgerExport",
    }
    assert once_failed <= set(LABELS) & set(OBJECTS)


def test_the_per_record_cap_is_a_form_error_in_the_admin(staff_client, cast, settings):
    settings.ACTIVITY_ATTACHMENTS_MAX_FILES = 1  # the record already has one
    record = a_record(cast)
    url = reverse("admin:branches_activityrecord_change", args=[record.pk])
    page = staff_client.get(url)
    data = add_attachment_data(page, SimpleUploadedFile("会场.jpg", JPEG, "image/jpeg"))
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"]
    assert record.attachments.count() == 1
