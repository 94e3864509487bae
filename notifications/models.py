"""Following records, and the outbox of deliveries when a followed item changes.

Rules:
- A delivery row is written in the same transaction as the change (an
  outbox), holding item codes only, never values; so a change can never be
  notified without being saved, and a delivery is never lost if sending fails.
- What a delivery carries is decided when it is sent, through the choke
  point, with the follower's policy at that moment; each send is audited.
- A failed send stays pending and is retried with growing waits.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Follow(models.Model):
    """A user (a person, or a client system's service account) follows one record or a whole team caseload."""

    user = models.ForeignKey("access.User", on_delete=models.CASCADE, related_name="follows")
    subject = models.ForeignKey("records.Subject", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    team = models.ForeignKey("access.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(subject__isnull=True) ^ models.Q(team__isnull=True), name="follow_one_target"),
            models.UniqueConstraint(fields=["user", "subject"], name="follow_unique_subject"),
            models.UniqueConstraint(fields=["user", "team"], name="follow_unique_team"),
        ]


class Delivery(models.Model):
    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the app"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        NOTHING_READABLE = "nothing_readable", "Nothing the follower may read"

    user = models.ForeignKey("access.User", on_delete=models.CASCADE, related_name="+")
    subject_id = models.UUIDField()
    item_codes = ArrayField(models.CharField(max_length=80))
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["user", "channel", "-created_at"], name="delivery_inbox"),
        ]
