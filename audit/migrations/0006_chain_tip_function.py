"""audit_chain_tip(): take the chain lock and read the last hash in one round trip.

PL/pgSQL runs each statement of a VOLATILE function with a fresh snapshot, so
the SELECT sees every row committed before the lock was granted; a plain
``SELECT pg_advisory_xact_lock(k), (SELECT hash ...)`` would read with the
snapshot taken before waiting, and fork the chain.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_tip(lock_key bigint) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tip text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT hash INTO tip FROM audit_auditevent ORDER BY id DESC LIMIT 1;
    RETURN tip;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_governance")]

    operations = [migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS audit_chain_tip(bigint);")]
