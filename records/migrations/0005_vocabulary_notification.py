"""Reload the vocabularies: adds the 'change notification' reason the system records for deliveries."""

from django.db import migrations

from records.migrations import _vocab


class Migration(migrations.Migration):
    dependencies = [("records", "0004_governance")]
    operations = [migrations.RunPython(_vocab.load, migrations.RunPython.noop)]
