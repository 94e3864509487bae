"""The replica router: reads go to the replica only inside replica_reads() and only when one is configured;
writes (the audit trail above all) always go to the primary."""

from __future__ import annotations

from audit.models import AuditEvent
from mais.routers import ReplicaRouter, read_alias, replica_reads
from partnership.models import Referral

router = ReplicaRouter()


def test_without_a_replica_everything_stays_on_the_primary(settings):
    assert "replica" not in settings.DATABASES
    with replica_reads():
        assert router.db_for_read(Referral) == "default"
        assert read_alias() == "default"


def test_with_a_replica_only_marked_reads_use_it_and_writes_never_do(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": dict(settings.DATABASES["default"])}
    assert router.db_for_read(Referral) == "default"
    with replica_reads():
        assert router.db_for_read(Referral) == "replica"
        assert router.db_for_write(AuditEvent) == "default"
        with replica_reads():
            assert read_alias() == "replica"
        assert read_alias() == "replica"
    assert read_alias() == "default"
    assert router.allow_migrate("replica", "audit") is False and router.allow_migrate("default", "audit") is True
