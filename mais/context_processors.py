"""Navigation for the page header: which workspaces the signed-in user has."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

_NAV_URL_NAMES = ("search", "caseload", "notifications", "referrals", "reports", "audit-workspace", "admin-workspace", "matrix", "logout")


@functools.cache
def _nav_links() -> dict[str, str]:
    """The header's links, reversed once per process: the URLconf does not change while it runs, and a ``{% url %}``
    per link on every page was a few per cent of a record view's time (issue 6)."""
    return {name.replace("-", "_"): reverse(name) for name in _NAV_URL_NAMES}


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "is_verified", lambda: False)():
        return {"nav": None}
    from access import web
    from access.disclosure import searchable_criteria

    who = web.principal(request)
    return {
        "nav": {
            "links": _nav_links(),
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
