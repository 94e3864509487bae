"""Authentication backend: who may sign in at all, and everything a request needs to know about them, in one query."""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import DEFAULT_DB_ALIAS, connection

from access.models import Agency, User
from mais import prepared, rawsql

# Loaded with the user on every request (issue 6: these were three more round trips before every page):
# - "groups": [group id, role code or null, team id or null], ordered as principal_for orders them;
# - "policy": the policy version in force (grants are cached per version, so a matrix change applies next request);
# - "protocol": [id, number] of the information-sharing protocol version in force, or null before the first is
#   published (governance.protocol.version_in_force), so a publication applies to every worker on its next request;
# - "devices": persistent ids of the user's *confirmed* second-factor devices, for mais.middleware.SecondFactorMiddleware.
# Read in the same statement as the user row, so it is exactly as fresh: a role removed, a device reset or an
# account deactivated takes effect on the user's next request.
SIGNED_IN_SQL = """
SELECT jsonb_build_object(
    'groups', (
        SELECT coalesce(jsonb_agg(jsonb_build_array(g.id, r.code, t.id) ORDER BY r."order", g.id), '[]'::jsonb)
        FROM access_user_groups ug
        JOIN auth_group g ON g.id = ug.group_id
        LEFT JOIN access_role r ON r.group_id = g.id
        LEFT JOIN access_team t ON t.group_id = g.id
        WHERE ug.user_id = access_user.id
    ),
    'policy', (SELECT max(number) FROM access_policyversion),
    'protocol', (SELECT jsonb_build_array(id, number) FROM governance_protocolversion ORDER BY number DESC LIMIT 1),
    'devices', (
        SELECT coalesce(jsonb_agg(d.pid), '[]'::jsonb) FROM (
            SELECT 'otp_totp.totpdevice/' || id AS pid FROM otp_totp_totpdevice WHERE user_id = access_user.id AND confirmed
            UNION ALL
            SELECT 'otp_static.staticdevice/' || id FROM otp_static_staticdevice WHERE user_id = access_user.id AND confirmed
        ) d
    )
)
"""


class AccountBackend(ModelBackend):
    """Rule: an inactive user, an expired account or a user of an inactive agency cannot sign in."""

    def user_can_authenticate(self, user: Any) -> bool:
        if not super().user_can_authenticate(user):
            return False
        if user.expires_on and user.expires_on < dt.date.today():
            return False
        if user.agency_id and not user.agency.is_active:
            return False
        return True

    def get_user(self, user_id: Any) -> Any:
        """The signed-in user of every request with their agency, groups, the policy and protocol versions and devices.

        One query, in plain SQL built once (``mais.rawsql``): it runs on every request, and building the ORM
        query each time cost as much as running it (issue 6). ``access.policy.principal_for``, the
        second-factor middleware and the protocol gate use what rides along (``user.signed_in_facts``) instead
        of querying again; a user loaded any other way has none and they query. tests/access/test_policy.py
        compares the user and agency with the ORM's.
        """
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        with connection.cursor() as cursor:
            prepared.execute(cursor, _signed_in_statement(), [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        user_fields, agency_fields = rawsql.attnames(User), rawsql.attnames(Agency)
        user_values = rawsql.convert(row[: len(user_fields)], rawsql.columns(User, user_fields)[1])
        agency_values = row[len(user_fields) : -1]
        user = User.from_db(DEFAULT_DB_ALIAS, user_fields, user_values)
        if agency_values[0] is not None:
            user.agency = Agency.from_db(
                DEFAULT_DB_ALIAS, agency_fields, rawsql.convert(agency_values, rawsql.columns(Agency, agency_fields)[1])
            )
        facts = row[-1]
        user.signed_in_facts = json.loads(facts) if isinstance(facts, str) else facts  # type: ignore[attr-defined]
        return user if self.user_can_authenticate(user) else None


@functools.cache
def _signed_in_statement() -> str:
    user_columns, _ = rawsql.columns(User, rawsql.attnames(User))
    agency_columns, _ = rawsql.columns(Agency, rawsql.attnames(Agency))
    # Constant SQL: model columns and the fixed SIGNED_IN_SQL; the user id is bound.
    return (
        f"SELECT {user_columns}, {agency_columns}, ({SIGNED_IN_SQL}) AS facts FROM access_user "  # nosec B608
        "LEFT JOIN access_agency ON access_agency.id = access_user.agency_id WHERE access_user.id = %s"
    )
