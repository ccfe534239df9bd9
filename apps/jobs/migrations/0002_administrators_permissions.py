"""Give the Administrators group the failed tasks: to see them, run them again, resolve them."""

from django.db import migrations

from apps.accounts.permissions import administrators_grant, administrators_revoke

CODENAMES = ["view_failedtask", "change_failedtask"]


def grant(apps, schema_editor):
    administrators_grant(apps, app_label="jobs", codenames=CODENAMES)


def revoke(apps, schema_editor):
    administrators_revoke(apps, app_label="jobs", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_initial"),
        ("accounts", "0003_administrators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
