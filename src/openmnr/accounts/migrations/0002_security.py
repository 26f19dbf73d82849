"""Rate counters that expire, window keys for the public counters, account notices.

Existing counters are deleted rather than given an expiry: they are at most a window's worth of
counts, and the public ones were named by an HMAC under a key derived from SECRET_KEY that never
changed within a day, which is what the window keys replace.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(
            lambda apps, schema_editor: apps.get_model("accounts", "RateBucket").objects.all().delete(),
            migrations.RunPython.noop,
        ),
        migrations.AddField(
            model_name='ratebucket',
            name='expires_at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name='AccountNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('text', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('read_at', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['created_at', 'pk'],
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='WindowKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('purpose', models.CharField(max_length=50)),
                ('window_start', models.DateTimeField()),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('secret', models.BinaryField(max_length=32)),
            ],
            options={
                'default_permissions': (),
                'constraints': [models.UniqueConstraint(fields=('purpose', 'window_start'), name='accounts_windowkey_once')],
            },
        ),
    ]
