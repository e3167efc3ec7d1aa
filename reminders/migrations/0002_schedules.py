"""The reminders' schedules, in django-celery-beat's tables (staff see and change them in the
admin: the owed reminders' day of the month is the crontab's)."""

from django.db import migrations

SCHEDULES = [
    # (name, task, crontab)
    (
        "提醒各组织本月尚欠的组织生活（每月20日）",
        "reminders.build_owed_reminders",
        {"minute": "30", "hour": "8", "day_of_month": "20"},
    ),
    (
        "提醒换届、复评复审和问题整改（每日）",
        "reminders.build_daily_reminders",
        {"minute": "30", "hour": "7", "day_of_month": "*"},
    ),
    (
        "发送和重试提醒（每5分钟）",
        "reminders.deliver_due",
        {"minute": "*/5", "hour": "*", "day_of_month": "*"},
    ),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, cron in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            month_of_year="*", day_of_week="*", timezone="Asia/Shanghai", **cron
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
        )


def remove(apps, schema_editor):
    names = [name for name, _task, _cron in SCHEDULES]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
