"""Information governance: data-sharing agreements, emergency access, retention, legal holds, tombstones.

Rules:
- A user sees an item only when their agency is a party to a data-sharing
  agreement in force that covers that item for the purpose they gave (the
  caseload owner and emergency access excepted; access.governance applies it).
- Emergency ("break-glass") access is one user, one subject, for a limited
  time, and raises an alert that an auditor must review.
- Retention decisions, legal holds and tombstones refer to a subject by id
  only, so they outlive a disposed record; none of them holds record content.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models


class SharingAgreement(models.Model):
    """An agreement between agencies and the network: which items, for which purposes, for how long."""

    reference = models.CharField(max_length=50, unique=True)
    title = models.CharField(max_length=200)
    parties = models.ManyToManyField("access.Agency", related_name="sharing_agreements")
    purposes = ArrayField(models.CharField(max_length=40))
    items = ArrayField(models.CharField(max_length=80))
    starts_on = models.DateField()
    ends_on = models.DateField()
    signatory_name = models.CharField(max_length=200)
    signatory_role = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ends_on", "reference"]
        indexes = [models.Index(fields=["ends_on", "starts_on"], name="agreement_dates")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="agreement_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class EmergencyAccess(models.Model):
    """Break-glass: one user may read every item of one subject until ``expires_at``."""

    user = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("records.Subject", on_delete=models.CASCADE, related_name="+")
    reason_code = models.CharField(max_length=40)
    reason_text = models.CharField(max_length=1000)
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    alert_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "subject", "-expires_at"], name="emergency_user_subject")]


class LegalHold(models.Model):
    """While a hold is in force (not lifted), the record cannot be disposed of."""

    subject_id = models.UUIDField()
    reason = models.CharField(max_length=500)
    placed_by = models.CharField(max_length=200)
    placed_at = models.DateTimeField()
    lifted_by = models.CharField(max_length=200, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["subject_id"], name="legalhold_subject")]


class RetentionDecision(models.Model):
    """A reviewer's decision on a record due for review: retain (with a reason and next review date) or dispose."""

    class Decision(models.TextChoices):
        RETAIN = "retain", "Retain"
        DISPOSE = "dispose", "Dispose"

    subject_id = models.UUIDField()
    decision = models.CharField(max_length=10, choices=Decision.choices)
    rule = models.CharField(max_length=40)
    reason = models.CharField(max_length=1000)
    next_review_on = models.DateField(null=True, blank=True)
    decided_by = models.CharField(max_length=200)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at"]
        indexes = [models.Index(fields=["subject_id", "-decided_at"], name="retention_subject")]


class DisposedRecord(models.Model):
    """The tombstone of a disposed record: its id, its dates, who disposed of it and under which rule. No content."""

    subject_id = models.UUIDField(unique=True)
    enrolled_on = models.DateField()
    last_release_on = models.DateField(null=True, blank=True)
    last_activity_on = models.DateField()
    rule = models.CharField(max_length=40)
    reason = models.CharField(max_length=1000)
    disposed_by = models.CharField(max_length=200)
    disposed_at = models.DateTimeField()

    class Meta:
        ordering = ["-disposed_at"]


class ProtocolVersion(models.Model):
    """One published version of the network's information-sharing protocol; the highest number is in force.

    Versions are never edited: an administrator's change publishes a new one, and a new one needs a new
    confirmation from every user, so the record of who confirmed which words stays true.
    """

    number = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    change_summary = models.CharField(max_length=500, blank=True)
    published_by = models.CharField(max_length=200)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.title} (version {self.number})"


class Attestation(models.Model):
    """A user's confirmation that they read one protocol version. A new row each time: the history is the evidence."""

    user = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="attestations")
    confirmed_at = models.DateTimeField()

    class Meta:
        ordering = ["-confirmed_at"]
        indexes = [models.Index(fields=["user", "-confirmed_at"], name="attestation_user_latest")]
