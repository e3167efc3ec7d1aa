# Pending uploads: files of a filing form that came back with errors, kept for their user.

import branches.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('branches', '0004_verbose_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PendingUpload',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=32, verbose_name='form token')),
                ('file', models.FileField(max_length=255, upload_to=branches.models.pending_upload_path, verbose_name='file')),
                ('original_name', models.CharField(max_length=255, verbose_name='file name')),
                ('content_type', models.CharField(max_length=50, verbose_name='content type')),
                ('size', models.PositiveIntegerField(verbose_name='size (bytes)')),
                ('uploaded_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='uploaded at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'pending upload',
                'verbose_name_plural': 'pending uploads',
                'ordering': ['pk'],
                'indexes': [models.Index(fields=['user', 'token'], name='pending_upload_form_idx')],
            },
        ),
    ]
