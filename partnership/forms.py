"""Forms for referrals and sharing decisions. Messages say what to do, in the user's words."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from mais.forms import GovukFormMixin
from partnership.models import Engagement, Outcome, SharingDecision, Urgency
from partnership.selectors import receiving_teams
from records.dataset import ITEMS
from records.forms import GovDateField
from records.terms import vocabulary_choices

TIME_FORMATS = ["%H:%M", "%H.%M", "%H%M"]


class ReferralForm(GovukFormMixin, forms.Form):
    to_team = forms.TypedChoiceField(coerce=int, label="Refer to", error_messages={"required": "Choose the team to refer to."})
    urgency = forms.ChoiceField(
        label="How urgent is it?",
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how urgent the referral is."},
    )
    reason = forms.CharField(
        label="Why are you referring, and what are you asking the team to do?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example: arrested for shoplifting, appeared distressed and said he had stopped his medication. Please assess in custody.",
        error_messages={"required": "Say why you are referring the person and what you are asking the team to do."},
    )

    def __init__(self, *args: Any, exclude_group_ids: tuple[int, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for team in receiving_teams():
            if team.group_id not in exclude_group_ids:
                groups.setdefault(team.agency.name, []).append((team.pk, team.name))
        self.fields["to_team"].choices = [("", "Choose a team")] + list(groups.items())  # type: ignore[attr-defined]


class DecideForm(GovukFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(
        label="Will your team take this referral?",
        choices=[("accept", "Accept"), ("decline", "Decline")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to accept or decline the referral."},
    )
    reason = forms.CharField(
        label="Reason for declining",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when you decline: the referrer is told, so say which service would be right.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not data.get("reason", "").strip():
            self.add_error("reason", "Say why the team is declining, so the referrer can find the right service.")
        return data


class ContactForm(GovukFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    engagement = forms.ChoiceField(
        label="Did the person engage?",
        choices=Engagement.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the person attended, did not attend or disengaged."},
    )
    contact_on = GovDateField(label="Date of the contact or appointment", error_messages={"required": "Enter the date."})
    contact_time = forms.TimeField(
        label="Time",
        input_formats=TIME_FORMATS,
        help_text="24-hour clock, for example 14:30",
        error_messages={
            "required": "Enter the time, for example 14:30.",
            "invalid": "Enter the time as hours and minutes, for example 14:30.",
        },
    )

    def contact_at(self) -> dt.datetime:
        naive = dt.datetime.combine(self.cleaned_data["contact_on"], self.cleaned_data["contact_time"])
        return timezone.make_aware(naive)


class OutcomeForm(GovukFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="Outcome", choices=Outcome.choices, widget=forms.RadioSelect, error_messages={"required": "Choose the outcome."}
    )
    note = forms.CharField(
        label="Clinical note (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Your team sees it. The referrer sees it only if their role may read diagnoses; the outcome above is always shown.",
    )


YES_NO = [("yes", "Yes, I shared information"), ("no", "No, I decided not to share")]


class SharingDecisionForm(GovukFormMixin, forms.Form):
    """The national information-sharing guidance, in order: purpose, necessity, what and with whom, minimum, lawful basis."""

    decided_on = GovDateField(label="1. When did you decide?", error_messages={"required": "Enter the date of the decision."})
    purpose = forms.CharField(
        label="2. Why was sharing considered? (purpose)",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: the GP asked whether he is still taking his medication after his release.",
        error_messages={"required": "Say why sharing was considered (the purpose)."},
    )
    necessity = forms.CharField(
        label="3. Why was sharing necessary, or why not? (necessity)",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Could the purpose be met without sharing, or by sharing less?",
        error_messages={"required": "Say why sharing was (or was not) necessary."},
    )
    recipient_organisation = forms.CharField(
        label="4. With which organisation?", max_length=200, error_messages={"required": "Enter the organisation you shared with."}
    )
    recipient_person = forms.CharField(
        label="Name and role of the person there",
        max_length=200,
        error_messages={"required": "Enter the name and role of the person you shared with (or were asked by)."},
    )
    shared = forms.ChoiceField(
        label="5. Did you share?", choices=YES_NO, widget=forms.RadioSelect, error_messages={"required": "Say whether you shared."}
    )
    items = forms.MultipleChoiceField(
        label="Which items did you share?",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only the items you passed on.",
    )
    what_shared = forms.CharField(
        label="What exactly did you share?", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    minimum_reasoning = forms.CharField(
        label="Why was this the minimum needed?",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    method = forms.ChoiceField(label="How did you share?", choices=[("", "Choose")] + list(SharingDecision.Method.choices), required=False)
    why_not = forms.CharField(
        label="If you did not share: why not?", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    lawful_basis = forms.ChoiceField(
        label="6. Lawful basis", error_messages={"required": "Choose the lawful basis (consent, or the basis for sharing without it)."}
    )

    def __init__(self, *args: Any, readable: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(i.code, i.label) for i in ITEMS if i.code in readable]  # type: ignore[attr-defined]
        self.fields["lawful_basis"].choices = [  # type: ignore[attr-defined]
            ("", "Choose"),
            ("consent", "The person's consent"),
        ] + vocabulary_choices("lawful_basis")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decided_on") and data["decided_on"] > timezone.localdate():
            self.add_error("decided_on", "The decision cannot be in the future.")
        if data.get("shared") == "yes":
            if not data.get("items") and not data.get("what_shared", "").strip():
                self.add_error("what_shared", "Say what you shared: tick the items or describe it.")
            if not data.get("minimum_reasoning", "").strip():
                self.add_error("minimum_reasoning", "Say why what you shared was the minimum needed.")
            if not data.get("method"):
                self.add_error("method", "Choose how you shared.")
        elif data.get("shared") == "no" and not data.get("why_not", "").strip():
            self.add_error("why_not", "Say why you decided not to share.")
        return data
