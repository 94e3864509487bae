"""Partnership working: referrals between agencies with their outcomes, and recorded sharing decisions.

Rules and reasons:
- A referral asks another team to act for one person, with a reason and an
  urgency; only that team accepts or declines it and records engagement and
  the outcome, and the referrer is told the outcome. Partners said they never
  heard what happened after they referred: this closes that loop.
- The outcome is told in two parts: a coded outcome in plain words that any
  referrer may read, and an optional clinical note that is shown to the
  referrer only when their role and agreements let them read
  ``OUTCOME_NOTE_ITEM`` for that person (the choke point decides).
- A sharing decision records a disclosure made outside MAIS (a phone call to
  a GP, a letter to a housing provider), or a decision not to share, in the
  terms of the national information-sharing guidance. It is readable by the
  owning team, its author and auditors, and is an audit event.
- None of these rows hold dataset values; they hold what partners wrote.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

# The clinical note of an outcome may mention diagnosis and treatment, so it is governed like the diagnoses item.
OUTCOME_NOTE_ITEM = "mental_health.diagnoses"


class Urgency(models.TextChoices):
    URGENT = "urgent", "Urgent: contact today"
    SOON = "soon", "Soon: contact within 3 days"
    ROUTINE = "routine", "Routine: contact within 10 days"


class Engagement(models.TextChoices):
    ATTENDED = "attended", "Attended"
    DID_NOT_ATTEND = "did_not_attend", "Did not attend"
    DISENGAGED = "disengaged", "Disengaged"


class Outcome(models.TextChoices):
    """Outcomes in words every referrer may read: what happened, never why clinically."""

    SUPPORT_IN_PLACE = "support_in_place", "Assessed: support from the team is now in place"
    DIVERTED = "diverted", "Diverted to a health or social care service"
    ADMITTED = "admitted", "Admitted to hospital"
    REFERRED_ON = "referred_on", "Referred on to another service"
    NO_FURTHER_ACTION = "no_further_action", "Assessed: no further action needed from the team"
    NOT_ENGAGED = "not_engaged", "The team could not engage the person"


class Referral(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the team"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CLOSED = "closed", "Outcome recorded"

    subject = models.ForeignKey("records.Subject", on_delete=models.CASCADE, related_name="+")
    referred_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    referred_by_name = models.CharField(max_length=200)
    from_agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="+")
    to_team = models.ForeignKey("access.Team", on_delete=models.PROTECT, related_name="referrals")
    purpose_code = models.CharField(max_length=40, help_text="The referrer's reason for access; the receiving team works under it.")
    reason = models.TextField(max_length=2000)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_name = models.CharField(max_length=200, blank=True)
    decline_reason = models.CharField(max_length=1000, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    engagement = models.CharField(max_length=20, choices=Engagement.choices, blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(max_length=2000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome_seen_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["to_team", "status", "created_at"], name="referral_queue"),
            models.Index(fields=["referred_by", "-created_at"], name="referral_sent"),
            models.Index(fields=["subject"], name="referral_subject"),
        ]


class ReferralEvent(models.Model):
    """The referral's timeline as both sides see it (who did what, when). No clinical detail."""

    class Kind(models.TextChoices):
        CREATED = "created", "Referred"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CONTACT = "contact", "Contact recorded"
        OUTCOME = "outcome", "Outcome recorded"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    by_name = models.CharField(max_length=200)
    agency_name = models.CharField(max_length=200)
    text = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "id"]


class SharingDecision(models.Model):
    """One decision to share (or not) outside MAIS, in the terms of the information-sharing guidance."""

    class Method(models.TextChoices):
        PHONE = "phone", "Telephone"
        EMAIL = "email", "Secure email"
        LETTER = "letter", "Letter"
        MEETING = "meeting", "In person or at a meeting"

    subject = models.ForeignKey("records.Subject", on_delete=models.CASCADE, related_name="+")
    recorded_by = models.ForeignKey("access.User", on_delete=models.PROTECT, related_name="+")
    recorded_by_name = models.CharField(max_length=200)
    agency_name = models.CharField(max_length=200)
    recorded_at = models.DateTimeField()
    decided_on = models.DateField()
    purpose = models.CharField(max_length=1000)
    necessity = models.CharField(max_length=1000)
    recipient_organisation = models.CharField(max_length=200)
    recipient_person = models.CharField(max_length=200)
    shared = models.BooleanField()
    items = ArrayField(models.CharField(max_length=80), default=list, blank=True)
    what_shared = models.CharField(max_length=2000, blank=True)
    minimum_reasoning = models.CharField(max_length=1000, blank=True)
    why_not = models.CharField(max_length=2000, blank=True)
    lawful_basis = models.CharField(max_length=40)
    method = models.CharField(max_length=10, choices=Method.choices, blank=True)

    class Meta:
        ordering = ["-decided_on", "-recorded_at"]
        indexes = [models.Index(fields=["subject", "-decided_on"], name="sharing_subject")]
