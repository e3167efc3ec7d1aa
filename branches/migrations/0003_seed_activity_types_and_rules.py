"""Seed the seven types of organizational life and their rules (data, editable afterwards)."""

from django.db import migrations

from branches.defaults import DEFAULT_ACTIVITY_TYPES, seed_activity_types


def seed(apps, schema_editor):
    seed_activity_types(
        apps.get_model("branches", "ActivityType"), apps.get_model("branches", "ComplianceRule")
    )


def unseed(apps, schema_editor):
    apps.get_model("branches", "ActivityType").objects.filter(
        code__in=[t[0] for t in DEFAULT_ACTIVITY_TYPES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("branches", "0002_activity_records")]
    operations = [migrations.RunPython(seed, unseed)]
