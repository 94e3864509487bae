"""Indexes for the alert rules' per-user counts (issue 6).

Built CONCURRENTLY: the audit table is the largest in a live system, and a
plain CREATE INDEX would block every audited disclosure while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0006_chain_tip_function")]

    operations = [
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(fields=["actor_username", "event", "outcome", "timestamp"], name="audit_user_event_time"),
        ),
        AddIndexConcurrently(
            model_name="auditevent",
            index=models.Index(condition=models.Q(outcome="denied"), fields=["actor_username", "timestamp"], name="audit_user_denied_time"),
        ),
    ]
