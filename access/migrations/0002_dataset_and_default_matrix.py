"""Load the dataset items, the roles and the default role x item matrix (DATASET.md) as data.

After this the matrix belongs to administrators: it is edited at run time in
the sharing matrix page, never by a code change.
"""

from django.db import migrations


def load(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from records.dataset import ITEMS, ROLES, default_grants

    # Object permissions need their Permission rows now, not after migrate.
    for app_config in apps.get_app_configs():
        original = getattr(app_config, "models_module", None)
        app_config.models_module = original or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = original

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Role = apps.get_model("access", "Role")
    DataItem = apps.get_model("access", "DataItem")
    Grant = apps.get_model("access", "DataItemGroupObjectPermission")
    PolicyVersion = apps.get_model("access", "PolicyVersion")

    roles = {}
    for order, (code, label, description, caseload) in enumerate(ROLES):
        group, _ = Group.objects.get_or_create(name=f"role:{code}")
        role, _ = Role.objects.update_or_create(
            code=code,
            defaults={"label": label, "description": description, "group": group, "writes_need_caseload": caseload, "order": order},
        )
        roles[code] = role
    items = {}
    for order, spec in enumerate(ITEMS):
        item, _ = DataItem.objects.update_or_create(
            code=spec.code,
            defaults={"section": spec.section, "label": spec.label, "help_text": spec.help_text, "order": order},
        )
        items[spec.code] = item
    perms = {
        p.codename.split("_", 1)[0]: p
        for p in Permission.objects.filter(content_type__app_label="access", codename__in=["view_dataitem", "change_dataitem"])
    }
    for role, item, perm in default_grants():
        Grant.objects.get_or_create(group=roles[role].group, content_object=items[item], permission=perms[perm])
    PolicyVersion.objects.get_or_create(number=1, defaults={"summary": "Default matrix of DATASET.md"})


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_initial"),
        ("records", "0002_vocabularies"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
