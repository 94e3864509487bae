"""Drop django-auditlog's own LogEntry table.

We swap in ``audit.AuditEvent`` (AUDITLOG_LOGENTRY_MODEL), but auditlog's
migrations (up to 0017) do not mark their model swappable and create
``auditlog_logentry`` anyway. An empty second log table would be a second
place for auditors to look, and it blocks Django's test flush.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers"), ("auditlog", "0017_add_actor_email")]
    operations = [migrations.RunSQL("DROP TABLE IF EXISTS auditlog_logentry CASCADE", migrations.RunSQL.noop)]
