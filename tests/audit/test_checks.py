"""The durability check: MAIS refuses a database that acknowledges commits before they are durable (audit.checks)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from audit.checks import synchronous_commit_on

pytestmark = pytest.mark.django_db


def _set_locally(value: str) -> None:
    # SET LOCAL ends with the test's transaction, so no other test sees it.
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL synchronous_commit = {value}")


def test_the_servers_default_passes() -> None:
    assert synchronous_commit_on(databases=["default"]) == []


@pytest.mark.parametrize("value", ["on", "local", "remote_write", "remote_apply"])
def test_every_setting_that_flushes_before_acknowledging_passes(value: str) -> None:
    _set_locally(value)
    assert synchronous_commit_on(databases=["default"]) == []


def test_synchronous_commit_off_is_an_error() -> None:
    _set_locally("off")
    [error] = synchronous_commit_on(databases=["default"])
    assert error.id == "audit.E001"
    assert "audit rows" in error.msg


def test_check_with_the_database_refuses_it() -> None:
    """As ``migrate`` does before it changes anything: the check runs with the database and stops the command."""
    _set_locally("off")
    with pytest.raises(SystemCheckError, match=r"audit\.E001"):
        call_command("check", "--database", "default")


def test_checks_without_a_database_do_not_query_it(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(0):
        assert synchronous_commit_on(databases=None) == []
