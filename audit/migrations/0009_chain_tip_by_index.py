"""audit_chain_tip() reads the tip through the primary key whatever the statistics say.

PL/pgSQL keeps the plan of the function's SELECT for the life of the database session, until the table's
statistics change. A session whose first append came while the audit table was analysed empty (a new database,
before autovacuum's first ANALYZE; or a server with autovacuum off) planned a sequential scan and sort of the
whole trail, and kept it as the trail grew: every append then read every row, holding the chain lock, so all
disclosures queued behind it (issue 6, measured with auto_explain on a new bench database: 1,990 buffers read per
append at 11,000 rows; record views at saturation 79 a second). The ``ORDER BY id DESC LIMIT 1`` is only ever
right as a backward scan of the primary key, so the function plans with sequential scans turned off.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_lighter_inserts")]

    operations = [
        migrations.RunSQL(
            "ALTER FUNCTION audit_chain_tip(bigint) SET enable_seqscan = off;",
            "ALTER FUNCTION audit_chain_tip(bigint) RESET enable_seqscan;",
        )
    ]
