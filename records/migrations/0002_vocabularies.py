"""Load the controlled vocabularies (records/vocabularies.py) as data."""

from django.db import migrations


def load(apps, schema_editor):
    from records.vocabularies import VOCABULARIES

    Term = apps.get_model("records", "Term")
    for vocabulary, (_, entries) in VOCABULARIES.items():
        for order, (code, label, definition) in enumerate(entries):
            Term.objects.update_or_create(
                vocabulary=vocabulary, code=code, defaults={"label": label, "definition": definition, "order": order}
            )


class Migration(migrations.Migration):
    dependencies = [("records", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
