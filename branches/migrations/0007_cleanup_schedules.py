"""Daily clean-ups, in django-celery-beat's tables so staff see and change them in the admin."""

from django.db import migrations

SCHEDULES = [
    # name, task, crontab (minute, hour)
    ("清理未确认的党员名册导入文件（每日）", "branches.remove_stale_roster_imports", ("15", "4")),
    ("清理未提交的组织生活照片（每日）", "branches.clear_pending_uploads", ("45", "4")),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, (minute, hour) in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month="*", month_of_year="*", day_of_week="*",
            timezone="Asia/Shanghai",
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[s[0] for s in SCHEDULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("branches", "0006_roster_import"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
