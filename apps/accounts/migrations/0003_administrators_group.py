"""The Administrators group, with the permissions staff need for the apps that exist so far.

Orders and reviews add their own permissions to the group in their own migrations (with
``apps.accounts.permissions.administrators_grant``), once their models exist.
"""

from django.db import migrations

from apps.accounts.permissions import ADMINISTRATORS_GROUP, administrators_grant

# Staff see and edit customers (to deactivate one) but cannot create or delete accounts or
# hand out permissions; they run the catalogue entirely and look into carts when helping.
GRANTS = {
    "accounts": ["view_user", "change_user", "view_address", "change_address"],
    "categories": None,
    "catalog": None,
    "cart": ["view_cart", "view_cartline"],
}


def create_administrators(apps, schema_editor):
    for app_label, codenames in GRANTS.items():
        administrators_grant(apps, app_label=app_label, codenames=codenames)


def delete_administrators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ADMINISTRATORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_email_verified_addresses"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("categories", "0001_initial"),
        ("catalog", "0001_initial"),
        ("cart", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_administrators, delete_administrators)]
