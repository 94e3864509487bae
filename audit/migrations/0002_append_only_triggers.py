"""Append-only in the database: triggers reject UPDATE, DELETE and TRUNCATE on the audit table.

The TRUNCATE guard can be lifted only by a session that sets
``mais.allow_audit_truncate = on``; the test settings do that so Django's
test-database flush works, and tests/audit prove the guard with it off.
"""

from django.db import migrations

TABLE = "audit_auditevent"

FORWARD = f"""
CREATE OR REPLACE FUNCTION mais_audit_reject_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only: % is not allowed on {TABLE}', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION mais_audit_reject_truncate() RETURNS trigger AS $$
BEGIN
  IF current_setting('mais.allow_audit_truncate', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit events are append-only: TRUNCATE is not allowed on {TABLE}'
    USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON {TABLE}
  FOR EACH ROW EXECUTE FUNCTION mais_audit_reject_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION mais_audit_reject_truncate();
"""

REVERSE = f"""
DROP TRIGGER IF EXISTS audit_no_update_delete ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS mais_audit_reject_change();
DROP FUNCTION IF EXISTS mais_audit_reject_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
