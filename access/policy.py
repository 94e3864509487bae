"""Who may read and write which items: the role x item policy, resolved once.

Rules:
- A user's readable items are the union of their roles' ``view_dataitem``
  grants; writable items the union of ``change_dataitem`` grants (write
  implies read). Anything not granted is withheld: deny by default.
- Grants of a role with ``writes_need_caseload`` apply only to subjects on a
  caseload of one of the user's teams (guardian ``change_subject``).
- Grants are cached per (policy version, set of roles). A request pays one
  query for the version number, so a matrix change takes effect on the very
  next request in every worker, and no query per item.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.contrib.auth.models import Group
from django.db.models import Max, Subquery

from access.models import DataItemGroupObjectPermission, PolicyVersion, User
from audit.services import ActorFields


@dataclass(frozen=True)
class RoleGrants:
    readable: frozenset[str]
    writable_anywhere: frozenset[str]
    writable_on_caseload: frozenset[str]
    # item code -> the roles (codes) whose grant lets the user read it, for "Why can I see this?".
    readers: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def granted_by(self, item_code: str) -> tuple[str, ...]:
        return self.readers.get(item_code, ())


@dataclass(frozen=True)
class Principal:
    """The acting user as the choke point sees them: identity, roles, teams, grants."""

    user_id: int
    username: str
    display_name: str
    agency_name: str
    role_codes: tuple[str, ...]
    team_group_ids: tuple[int, ...]
    grants: RoleGrants
    policy_version: int
    own_readable: frozenset[str]
    preview_role: str = ""
    agency_24h: bool = True
    agency_id: int | None = None
    agency_kind: str = ""

    @property
    def previewing(self) -> bool:
        return bool(self.preview_role)

    @property
    def roles_label(self) -> str:
        return ",".join(self.role_codes)

    def can_read(self, item_code: str) -> bool:
        return item_code in self.grants.readable

    def has_role(self, code: str) -> bool:
        return code in self.role_codes

    def audit_identity(self) -> ActorFields:
        """Who acted, as every audit event records it."""
        return ActorFields(
            actor_id=self.user_id, actor_username=self.username, roles=self.roles_label, agency=self.agency_name, agency_24h=self.agency_24h
        )


_cache: dict[tuple[int, frozenset[str]], RoleGrants] = {}
_cache_lock = threading.Lock()


def current_policy_version() -> int:
    return PolicyVersion.objects.aggregate(n=Max("number"))["n"] or 0


def _load_grants(role_codes: frozenset[str]) -> RoleGrants:
    """Read the guardian group object permissions of the given roles: one statement, however many roles.

    The same grants as guardian's ``get_objects_for_group`` per role with ``accept_global_perms=False`` (the
    project gives no global item permissions), read from the direct-foreign-key table it uses for items, so the first
    request after a matrix change, in each worker and for each set of roles, stays inside issue 6's budget of
    statements (before, it ran four statements a role).
    """
    readable: set[str] = set()
    anywhere: set[str] = set()
    caseload: set[str] = set()
    readers: dict[str, set[str]] = {}
    rows = DataItemGroupObjectPermission.objects.filter(
        group__role__code__in=role_codes,
        # The codenames name the item model; the table holds item permissions only, so no join to the content type.
        permission__codename__in=("view_dataitem", "change_dataitem"),
    ).values_list("group__role__code", "group__role__writes_need_caseload", "permission__codename", "content_object__code")
    for role_code, writes_need_caseload, codename, item_code in rows:
        readable.add(item_code)  # write implies read
        readers.setdefault(item_code, set()).add(role_code)
        if codename == "change_dataitem":
            (caseload if writes_need_caseload else anywhere).add(item_code)
    return RoleGrants(
        frozenset(readable),
        frozenset(anywhere),
        frozenset(caseload),
        MappingProxyType({code: tuple(sorted(roles_)) for code, roles_ in readers.items()}),
    )


def grants_for(role_codes: frozenset[str], version: int) -> RoleGrants:
    key = (version, role_codes)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    grants = _load_grants(role_codes)
    with _cache_lock:
        # Old versions are never asked for again; keep the cache small.
        for stale in [k for k in _cache if k[0] != version]:
            del _cache[stale]
        _cache[key] = grants
    return grants


def clear_policy_cache() -> None:
    with _cache_lock:
        _cache.clear()


def principal_for(user: User, *, as_role: str | None = None) -> Principal:
    """Resolve a signed-in user: their groups (roles and teams) with the policy version.

    No query for a user loaded by the sign-in backend (the facts came with the user row); one query otherwise.

    ``as_role`` is the administrator's "preview as role": the grants are the
    previewed role's, and ``previewing`` is set so the choke point can show
    the administrator only what their own roles also allow.
    """
    facts = getattr(user, "signed_in_facts", None)
    if facts is not None:
        # Read with the user in the same query by access.backends.AccountBackend (every signed-in request).
        rows = [(gid, code, team_id, facts["policy"]) for gid, code, team_id in facts["groups"]]
        version = facts["policy"] or 0
    else:
        # The policy version rides along on each group row: one round trip instead of two.
        latest = PolicyVersion.objects.order_by("-number").values("number")[:1]
        rows = list(
            Group.objects.filter(user=user)
            .annotate(policy=Subquery(latest))
            .values_list("id", "role__code", "team__id", "policy")
            .order_by("role__order", "id")
        )
        version = (rows[0][3] or 0) if rows else current_policy_version()
    role_codes = tuple(code for _, code, _, _ in rows if code)
    team_group_ids = tuple(gid for gid, _, team_id, _ in rows if team_id)
    own = grants_for(frozenset(role_codes), version)
    grants = grants_for(frozenset((as_role,)), version) if as_role else own
    agency = user.agency if user.agency_id else None
    return Principal(
        user_id=user.pk,
        username=user.get_username(),
        display_name=user.get_full_name() or user.get_username(),
        agency_name=agency.name if agency else "",
        role_codes=role_codes,
        team_group_ids=team_group_ids,
        grants=grants,
        policy_version=version,
        own_readable=own.readable,
        preview_role=as_role or "",
        agency_24h=agency.works_out_of_hours if agency else False,
        agency_id=agency.pk if agency else None,
        agency_kind=agency.kind if agency else "",
    )
