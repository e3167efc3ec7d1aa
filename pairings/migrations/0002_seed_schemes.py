from django.db import migrations

from pairings.defaults import seed_schemes


def seed(apps, schema_editor):
    seed_schemes(apps.get_model("pairings", "Scheme"))


class Migration(migrations.Migration):
    dependencies = [("pairings", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
