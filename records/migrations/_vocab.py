"""Shared by the vocabulary data migrations: load records/vocabularies.py idempotently."""


def load(apps, schema_editor):
    from records.vocabularies import VOCABULARIES

    Term = apps.get_model("records", "Term")
    for vocabulary, (_, entries) in VOCABULARIES.items():
        for order, (code, label, definition) in enumerate(entries):
            Term.objects.update_or_create(vocabulary=vocabulary, code=code, defaults={"label": label, "definition": definition, "order": order})
