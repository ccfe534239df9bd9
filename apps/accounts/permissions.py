"""The ``Administrators`` group: the permissions staff users need to run the shop.

Apps put their permissions into the group from their own data migrations, with
:func:`administrators_grant`, so the group grows with the apps (orders and reviews add theirs
when their models exist). Called from migrations, it takes the migration state's ``apps``.
"""

from collections.abc import Iterable
from typing import Any

ADMINISTRATORS_GROUP = "Administrators"


def _ensure_permissions(apps: Any, app_label: str) -> None:
    """Create the content types and default permissions of ``app_label`` now.

    Django creates them in ``post_migrate``, i.e. after every migration ran; on a fresh
    database a data migration would otherwise find none to grant.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    # The migration state's app configs have no models module; create_permissions skips
    # those, so flag this one as having models for the duration of the call.
    saved = getattr(app_config, "models_module", None)
    app_config.models_module = True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = saved


def administrators_grant(
    apps: Any, *, app_label: str, codenames: Iterable[str] | None = None, group: str = ADMINISTRATORS_GROUP
) -> None:
    """Give the group ``group`` the permissions ``codenames`` of ``app_label`` (all when None).

    Creates the group and the permissions when missing; safe to run twice.
    """
    _ensure_permissions(apps, app_label)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label=app_label)
    if codenames is not None:
        codenames = list(codenames)
        permissions = permissions.filter(codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise LookupError(f"No permission {sorted(missing)} in app {app_label!r}.")
    group_obj, _created = Group.objects.get_or_create(name=group)
    group_obj.permissions.add(*permissions)


def administrators_revoke(
    apps: Any, *, app_label: str, codenames: Iterable[str] | None = None, group: str = ADMINISTRATORS_GROUP
) -> None:
    """Undo :func:`administrators_grant` (for a migration's reverse)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group_obj = Group.objects.filter(name=group).first()
    if group_obj is None:
        return
    permissions = Permission.objects.filter(content_type__app_label=app_label)
    if codenames is not None:
        permissions = permissions.filter(codename__in=list(codenames))
    group_obj.permissions.remove(*permissions)
