"""Following records and delivering change notifications (in the app, by email, by signed webhook).

Rules and reasons:
- ``changes_notify`` runs inside the transaction that saves the change and
  writes one delivery row per follower and channel (an outbox): codes only.
- ``deliver_due`` sends what is due. Each send goes through the choke point
  (``disclose_notification``), which decides with the follower's policy at
  that moment what they may be told, and audits it. A failure leaves the row
  pending with a later ``next_attempt_at``; nothing is ever dropped.
- Webhooks are signed: ``X-MAIS-Signature: sha256=<HMAC-SHA256 of the body
  with the client's webhook secret>``, so a receiver can prove the sender.
- Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several workers never
  send the same delivery twice at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access.disclosure import NotificationView, disclose_notification
from access.models import Team, User
from access.policy import principal_for
from audit.services import RequestContext
from notifications.models import Delivery, Follow
from records.models import SubjectGroupObjectPermission

logger = logging.getLogger("mais.notifications")

# Items whose change is worth interrupting someone for.
NOTIFY_ITEMS = frozenset(
    {
        "identity.release_date",
        "risk.suicide_level",
        "risk.violence_level",
        "risk.mappa",
        "mental_health.relapse_signs",
        "mental_health.care_coordinator",
    }
)
MAX_BACKOFF = dt.timedelta(hours=1)


def follow_subject(*, user: User, subject_id: uuid.UUID, follow: bool) -> None:
    if follow:
        Follow.objects.get_or_create(user=user, subject_id=subject_id)
    else:
        Follow.objects.filter(user=user, subject_id=subject_id).delete()


def follow_team(*, user: User, team: Team, follow: bool) -> None:
    if follow:
        Follow.objects.get_or_create(user=user, team=team)
    else:
        Follow.objects.filter(user=user, team=team).delete()


def changes_notify(*, subject_id: uuid.UUID, item_codes: Iterable[str], actor_user_id: int | None) -> int:
    """Queue deliveries for everyone following this record or its caseload. Call inside the change's transaction."""
    codes = sorted(NOTIFY_ITEMS & set(item_codes))
    if not codes:
        return 0
    caseload_groups = SubjectGroupObjectPermission.objects.filter(content_object_id=subject_id).values("group_id")
    follows = Follow.objects.filter(Q(subject_id=subject_id) | Q(team__group_id__in=caseload_groups)).select_related("user__api_client")
    if actor_user_id is not None:
        follows = follows.exclude(user_id=actor_user_id)
    now = timezone.now()
    rows = []
    for user in {f.user_id: f.user for f in follows}.values():
        client = getattr(user, "api_client", None)
        if client is not None:
            channels = [Delivery.Channel.WEBHOOK] if client.webhook_url else []
        else:
            channels = [Delivery.Channel.IN_APP] + ([Delivery.Channel.EMAIL] if user.email else [])
        rows += [Delivery(user=user, subject_id=subject_id, item_codes=codes, channel=c, next_attempt_at=now) for c in channels]
    Delivery.objects.bulk_create(rows)
    if rows:
        transaction.on_commit(lambda: deliver_due(channels=(Delivery.Channel.IN_APP, Delivery.Channel.EMAIL)))
    return len(rows)


def _send(delivery: Delivery, view: NotificationView) -> None:
    if delivery.channel == Delivery.Channel.IN_APP:
        delivery.item_codes = [i.code for i in view.items]  # what the inbox may list
        return
    if delivery.channel == Delivery.Channel.EMAIL:
        lines = [f"{i.label}: {'; '.join(i.lines) or 'Not recorded'}" for i in view.items]
        body = f"A record you follow on MAIS has changed: {view.heading}\n\n" + "\n".join(lines)
        body += f"\n\nOpen the record: {settings.MAIS_BASE_URL}/records/{view.subject_id}/\n"
        send_mail("MAIS: a record you follow has changed", body, None, [delivery.user.email])
        return
    from api.serializers import ItemSerializer

    client = delivery.user.api_client  # type: ignore[attr-defined]
    payload = {
        "delivery": delivery.pk,
        "subject_id": str(view.subject_id),
        "version": view.version,
        "heading": view.heading,
        "items": [ItemSerializer(i).data for i in view.items],
    }
    raw = json.dumps(payload, cls=DjangoJSONEncoder, sort_keys=True).encode()
    signature = hmac.new(client.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
    if urllib.parse.urlsplit(client.webhook_url).scheme not in ("https", "http"):
        raise ValueError("webhook URL must be http(s)")  # never file:, ftp: or a custom scheme
    request = urllib.request.Request(  # noqa: S310 (the URL is an administrator-registered https/http endpoint)
        client.webhook_url,
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json", "X-MAIS-Signature": f"sha256={signature}", "X-MAIS-Delivery": str(delivery.pk)},
    )
    with urllib.request.urlopen(request, timeout=settings.MAIS_WEBHOOK_TIMEOUT) as response:  # noqa: S310  # nosec B310
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(client.webhook_url, response.status, "not 2xx", response.headers, None)


def deliver_due(*, now: dt.datetime | None = None, limit: int = 200, channels: Iterable[str] | None = None) -> dict[str, int]:
    """Send the deliveries that are due; return counts by outcome. Safe to run from several workers at once."""
    counts = {"delivered": 0, "nothing_readable": 0, "failed": 0}
    now = now or timezone.now()
    for _ in range(limit):
        with transaction.atomic():
            due = Delivery.objects.select_for_update(skip_locked=True).filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            if channels is not None:
                due = due.filter(channel__in=list(channels))
            delivery = due.select_related("user").order_by("next_attempt_at", "id").first()
            if delivery is None:
                break
            context = RequestContext.system()
            try:
                view = disclose_notification(
                    principal=principal_for(delivery.user),
                    subject_id=delivery.subject_id,
                    item_codes=list(delivery.item_codes),
                    channel=delivery.channel,
                    delivery_id=delivery.pk,
                    context=context,
                )
                if view is None:
                    delivery.status = Delivery.Status.NOTHING_READABLE
                    counts["nothing_readable"] += 1
                else:
                    _send(delivery, view)
                    delivery.status = Delivery.Status.DELIVERED
                    delivery.delivered_at = timezone.now()
                    counts["delivered"] += 1
            except Exception as exc:  # noqa: BLE001 (any failure to send means: try again later, never drop)
                delivery.attempts += 1
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
                delivery.next_attempt_at = now + min(dt.timedelta(minutes=2 ** (delivery.attempts - 1)), MAX_BACKOFF)
                counts["failed"] += 1
                logger.warning("delivery %s failed (attempt %s): %s", delivery.pk, delivery.attempts, type(exc).__name__)
            delivery.save()
    return counts
