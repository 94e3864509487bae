"""System checks for the audit trail's durability.

Rule: the database must make a commit durable before it reports it, so ``synchronous_commit`` must not be ``off``.
Every disclosure commits its audit row before the page is sent (DESIGN.md: no data without its audit row). With
``synchronous_commit = off`` PostgreSQL acknowledges a commit whose WAL is still only in memory, and a crash of the
database server in the next moments loses the audit rows of pages already served. The setting is tempting: the
commit's flush is about a third of an audited record view's database CPU (issue 6, loadtests/HISTORY.md). Any other
value (``on``, ``local``, ``remote_write``, ``remote_apply``) flushes locally first and passes.

The check is tagged ``database``, so it runs where Django runs such checks: ``migrate`` (every deployment, and the
test database's creation) and ``check --database default``. It reads the setting as the app's own connection sees
it, after the server's, database's and role's defaults and the connection's options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db import DEFAULT_DB_ALIAS, connections


@checks.register(checks.Tags.database)
def synchronous_commit_on(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """An error when the database that holds the audit trail (the default one; a replica writes nothing) acknowledges
    commits before they are durable."""
    if DEFAULT_DB_ALIAS not in (databases or ()) or connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return []
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        (value,) = cursor.fetchone()
    if value != "off":
        return []
    return [
        checks.Error(
            "PostgreSQL's synchronous_commit is off for MAIS's connection: a crash of the database server could lose "
            "the audit rows of pages already served.",
            hint="Set synchronous_commit to on (the default) in postgresql.conf, or remove the ALTER DATABASE / "
            "ALTER ROLE ... SET synchronous_commit = off that turned it off; see docs/operations.md.",
            id="audit.E001",
        )
    ]
