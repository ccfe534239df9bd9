"""Give the Administrators group every permission of the orders app (creating the group if needed)."""

from django.db import migrations

from apps.accounts.permissions import administrators_grant, administrators_revoke


def grant(apps, schema_editor):
    administrators_grant(apps, app_label="orders")


def revoke(apps, schema_editor):
    administrators_revoke(apps, app_label="orders")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("accounts", "0003_administrators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
