"""Navigation for the page header: which workspaces the signed-in user has."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_verified", lambda: False)():
        return {"nav": None}
    from access import web
    from access.disclosure import searchable_criteria

    who = web.principal(request)
    return {
        "nav": {
            "name": who.display_name,
            "agency": who.agency_name,
            "roles": who.role_codes,
            "search": bool(searchable_criteria(who)),
            "matrix": who.has_role("administrator"),
            "admin": who.has_role("administrator"),
            "audit": who.has_role("auditor"),
            "caseload": bool(who.team_group_ids and who.grants.writable_on_caseload),
            "referrals": bool(who.grants.readable or who.team_group_ids),
            "reports": who.has_role("administrator")
            or who.has_role("auditor")
            or bool(who.team_group_ids and who.grants.writable_on_caseload),
        }
    }
