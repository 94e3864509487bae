import os

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium (Playwright's own browser download does not work here)."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """Browser tests need a transactional database, whose flush between tests also removes the data
    that migrations load (roles, items, the default matrix, vocabularies). Load it again, idempotently."""
    import importlib

    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from access.policy import clear_policy_cache
    from records import terms
    from records.migrations import _vocab

    ContentType.objects.clear_cache()
    _vocab.load(apps, None)
    importlib.import_module("access.migrations.0002_dataset_and_default_matrix").load(apps, None)
    terms._terms = None
    clear_policy_cache()
