"""Give the Administrators group the permissions of the new refund and webhook event models.

As in 0002, the group holds every permission of the orders app; the admin itself shows refunds
and events read-only (only the services write them).
"""

from django.db import migrations

from apps.accounts.permissions import administrators_grant, administrators_revoke

MODELS = ("refund", "paymentevent")
CODENAMES = [f"{action}_{model}" for model in MODELS for action in ("add", "change", "delete", "view")]


def grant(apps, schema_editor):
    administrators_grant(apps, app_label="orders", codenames=CODENAMES)


def revoke(apps, schema_editor):
    administrators_revoke(apps, app_label="orders", codenames=CODENAMES)


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_payments_refunds_webhooks")]

    operations = [migrations.RunPython(grant, revoke)]
