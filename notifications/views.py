"""Follow a record or a caseload; the in-app inbox. Thin views; names come from the choke point."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from access import web
from access.disclosure import NotFound, disclose_inbox_headings, disclose_subject
from access.models import Team
from audit.services import Purpose
from notifications.models import Delivery
from notifications.selectors import inbox
from notifications.services import NOTIFY_ITEMS, follow_subject, follow_team
from records.dataset import ITEMS_BY_CODE


def follow(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    """Follow or stop following one record. Only someone who may open the record may follow it."""
    if request.method != "POST":
        return redirect("record", subject_id=subject_id)
    purpose = web.purpose_in_force(request) or Purpose("care_planning", "Following a record")
    try:
        disclose_subject(
            principal=web.principal(request), subject_id=subject_id, purpose=purpose, context=web.context(request), surface="follow"
        )
    except NotFound:
        return render(request, "errors/404.html", status=404)
    start = request.POST.get("follow") == "1"
    follow_subject(user=request.user, subject_id=subject_id, follow=start)  # type: ignore[arg-type]
    labels = ", ".join(sorted(ITEMS_BY_CODE[c].label.lower() for c in NOTIFY_ITEMS))
    messages.success(request, f"You will be told when any of these change: {labels}." if start else "You no longer follow this record.")
    return redirect("record", subject_id=subject_id)


def follow_caseload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("caseload")
    who = web.principal(request)
    start = request.POST.get("follow") == "1"
    for team in Team.objects.filter(group_id__in=who.team_group_ids):
        follow_team(user=request.user, team=team, follow=start)  # type: ignore[arg-type]
    messages.success(request, "You now follow everyone on your team's caseload." if start else "You no longer follow the caseload.")
    return redirect("caseload")


def notifications(request: HttpRequest) -> HttpResponse:
    who = web.principal(request)
    deliveries = list(inbox(request.user))  # type: ignore[arg-type]
    headings = disclose_inbox_headings(principal=who, subject_ids=list({d.subject_id for d in deliveries}), context=web.context(request))
    rows = [
        {
            "delivery": d,
            "heading": headings.get(d.subject_id, "A record that no longer exists"),
            "labels": [ITEMS_BY_CODE[c].label for c in d.item_codes if c in ITEMS_BY_CODE],
        }
        for d in deliveries
    ]
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries if d.read_at is None]).update(read_at=timezone.now())
    return render(request, "notifications/inbox.html", {"rows": rows})
