"""Forms for agreements, emergency access and retention decisions. Clear messages; nothing typed is lost."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from access.models import Agency
from mais.forms import GovukFormMixin
from records.dataset import ITEMS
from records.forms import GovDateField
from records.terms import vocabulary_choices


class AgreementForm(GovukFormMixin, forms.Form):
    reference = forms.CharField(label="Reference", max_length=50, help_text="For example ISA-2026-004.")
    title = forms.CharField(label="Title", max_length=200)
    parties = forms.MultipleChoiceField(label="Agencies party to the agreement", widget=forms.CheckboxSelectMultiple)
    purposes = forms.MultipleChoiceField(label="Purposes it covers", widget=forms.CheckboxSelectMultiple)
    items = forms.MultipleChoiceField(label="Data items it covers", widget=forms.CheckboxSelectMultiple)
    starts_on = GovDateField(label="Starts on")
    ends_on = GovDateField(label="Ends on")
    signatory_name = forms.CharField(label="Signed by", max_length=200)
    signatory_role = forms.CharField(label="Signatory's role", max_length=200, help_text="For example Caldicott Guardian.")

    def __init__(self, *args: Any, reference_taken: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reference_taken = reference_taken
        self.fields["parties"].choices = [(str(a.pk), a.name) for a in Agency.objects.filter(is_active=True)]  # type: ignore[attr-defined]
        self.fields["purposes"].choices = vocabulary_choices("access_reason")  # type: ignore[attr-defined]
        self.fields["items"].choices = [(i.code, f"{i.section.replace('_', ' ').capitalize()}: {i.label}") for i in ITEMS]  # type: ignore[attr-defined]

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        if self.reference_taken and self.reference_taken(reference):
            raise forms.ValidationError("Another agreement already has this reference.")
        return reference

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if isinstance(starts, dt.date) and isinstance(ends, dt.date) and ends < starts:
            self.add_error("ends_on", "The end date must be on or after the start date.")
        return data


class EmergencyAccessForm(GovukFormMixin, forms.Form):
    reason_code = forms.ChoiceField(label="Why is this an emergency?", error_messages={"required": "Select why this is an emergency."})
    reason_text = forms.CharField(
        label="What is happening",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example the custody record number and the risk you are managing. Auditors will review this.",
        error_messages={"required": "Describe what is happening."},
    )
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput,
        help_text="Enter the password you signed in with, to confirm it is you.",
        error_messages={"required": "Enter your password."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = [("", "Choose a reason")] + vocabulary_choices("emergency_reason")  # type: ignore[attr-defined]


class RetainForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Why keep this record", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    next_review_on = GovDateField(label="Review again on")


class DisposeForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Why dispose of this record", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.CharField(
        label="Type DISPOSE to confirm",
        help_text="Disposal erases the record and its history for good. Only the tombstone and the audit trail remain.",
    )

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value.upper() != "DISPOSE":
            raise forms.ValidationError("Type DISPOSE to confirm that this record should be erased.")
        return value


class HoldForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Reason for the hold", max_length=500, help_text="For example a claim or inquiry reference.")


class ProtocolConfirmForm(GovukFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="I have read the information-sharing protocol and will share in line with it",
        error_messages={"required": "Tick the box to confirm you have read the protocol."},
    )


class ProtocolPublishForm(GovukFormMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=200, error_messages={"required": "Enter a title."})
    body = forms.CharField(
        label="Text of the protocol",
        widget=forms.Textarea(attrs={"rows": 18}),
        help_text="Plain text; a blank line starts a new paragraph.",
        error_messages={"required": "Enter the text of the protocol."},
    )
    change_summary = forms.CharField(
        label="What changed",
        max_length=500,
        help_text="Shown to users when they confirm the new version.",
        error_messages={"required": "Say what changed, so users know what to read."},
    )
