# Roster imports in the admin as jobs (branches/roster_jobs.py): check, confirm, save.

import branches.roster_jobs
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0005_pending_uploads'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RosterImport',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('original_name', models.CharField(max_length=255, verbose_name='file name')),
                ('file', models.FileField(blank=True, max_length=255, upload_to=branches.roster_jobs.roster_import_path, verbose_name='file')),
                ('file_format', models.CharField(max_length=10, verbose_name='format')),
                ('status', models.CharField(choices=[('checking', 'Checking the file'), ('checked', 'Checked: waiting for your confirmation'), ('invalid', 'Not imported: the file has errors'), ('saving', 'Importing'), ('done', 'Imported'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='checking', max_length=10, verbose_name='status')),
                ('rows_total', models.PositiveIntegerField(default=0, verbose_name='rows')),
                ('rows_read', models.PositiveIntegerField(default=0, verbose_name='rows read')),
                ('created_count', models.PositiveIntegerField(default=0, verbose_name='new members')),
                ('updated_count', models.PositiveIntegerField(default=0, verbose_name='changed members')),
                ('unchanged_count', models.PositiveIntegerField(default=0, verbose_name='unchanged members')),
                ('errors', models.JSONField(blank=True, default=list, verbose_name='problems')),
                ('error_count', models.PositiveIntegerField(default=0, verbose_name='number of problems')),
                ('failure', models.TextField(blank=True, verbose_name='why it failed')),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='created at')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                ('checked_at', models.DateTimeField(blank=True, null=True, verbose_name='checked at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='roster_imports', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'roster import',
                'verbose_name_plural': 'roster imports',
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['owner', '-created_at'], name='roster_import_owner_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['checking', 'checked', 'invalid', 'saving', 'done', 'failed', 'cancelled'])), name='roster_import_status_valid')],
            },
        ),
    ]
