"""Reload the vocabularies: adds the 'subject access request' reason for access."""

from django.db import migrations

from records.migrations import _vocab


class Migration(migrations.Migration):
    dependencies = [("records", "0002_vocabularies")]
    operations = [migrations.RunPython(_vocab.load, migrations.RunPython.noop)]
