"""Writes to the access policy: the role x item matrix.

Rules: every change creates a new ``PolicyVersion`` with one ``PolicyChange``
per cell, applies the guardian grants, and writes one audit event with the
before and after of each cell, all in one transaction. Write implies read:
granting write grants read, and removing read removes write.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import transaction
from guardian.models import GroupObjectPermission  # noqa: F401  (kept for guardian's app registry)

from access.models import DataItem, DataItemGroupObjectPermission, PolicyChange, PolicyVersion, Role
from access.policy import Principal, current_policy_version
from audit.services import UPDATE, RequestContext, audit_record

Cell = tuple[str, str, str]  # (role code, item code, "view" | "change")


def current_grants() -> set[Cell]:
    rows = DataItemGroupObjectPermission.objects.filter(group__role__isnull=False).values_list(
        "group__role__code", "content_object__code", "permission__codename"
    )
    return {(role, item, perm.split("_", 1)[0]) for role, item, perm in rows}


def normalise_cells(cells: set[Cell]) -> set[Cell]:
    """Write implies read."""
    return cells | {(r, i, "view") for r, i, p in cells if p == "change"}


@transaction.atomic
def policy_update(*, actor: Principal, wanted: set[Cell], context: RequestContext, summary: str = "") -> int:
    """Make the matrix equal ``wanted``; return the new version number (or the current one if nothing changed)."""
    wanted = normalise_cells(wanted)
    before = current_grants()
    added, removed = wanted - before, before - wanted
    if not added and not removed:
        return current_policy_version()
    roles = {r.code: r for r in Role.objects.select_related("group")}
    items = {i.code: i for i in DataItem.objects.all()}
    perms = {
        p.codename.split("_", 1)[0]: p
        for p in Permission.objects.filter(content_type__app_label="access", codename__in=["view_dataitem", "change_dataitem"])
    }
    version = PolicyVersion.objects.create(number=current_policy_version() + 1, created_by_id=actor.user_id, summary=summary)
    for role, item, perm in sorted(removed):
        DataItemGroupObjectPermission.objects.filter(group=roles[role].group, content_object=items[item], permission=perms[perm]).delete()
    DataItemGroupObjectPermission.objects.bulk_create(
        DataItemGroupObjectPermission(group=roles[role].group, content_object=items[item], permission=perms[perm])
        for role, item, perm in sorted(added)
    )
    PolicyChange.objects.bulk_create(
        [PolicyChange(version=version, role=roles[r], item=items[i], permission=p, granted=True) for r, i, p in sorted(added)]
        + [PolicyChange(version=version, role=roles[r], item=items[i], permission=p, granted=False) for r, i, p in sorted(removed)]
    )
    audit_record(
        event="policy.change",
        action=UPDATE,
        context=context,
        about=DataItem,
        object_pk=str(version.number),
        object_repr=f"policy version {version.number}",
        actor_id=actor.user_id,
        actor_username=actor.username,
        roles=actor.roles_label,
        agency=actor.agency_name,
        items=sorted({i for _, i, _ in added | removed}),
        changes={
            "version": [version.number - 1, version.number],
            "cells": [
                {"role": r, "item": i, "permission": p, "before": (r, i, p) in before, "after": (r, i, p) in wanted}
                for r, i, p in sorted(added | removed)
            ],
        },
    )
    return version.number
