"""Reads for following and the in-app inbox (no record content: ids, item codes, times)."""

from __future__ import annotations

from django.db.models import QuerySet

from access.models import User
from notifications.models import Delivery, Follow


def followed_team_ids(user: User) -> set[int]:
    return set(Follow.objects.filter(user=user, team__isnull=False).values_list("team_id", flat=True))


def inbox(user: User, limit: int = 50) -> QuerySet[Delivery]:
    return Delivery.objects.filter(user=user, channel=Delivery.Channel.IN_APP, status=Delivery.Status.DELIVERED).order_by("-delivered_at")[
        :limit
    ]
