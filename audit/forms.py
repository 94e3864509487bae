"""Forms of the auditor workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from mais.forms import GovukFormMixin
from records.forms import GovDateField
from records.terms import vocabulary_choices
from records.validators import validate_nhs_number

EVENTS = [
    "search",
    "record.view",
    "record.preview",
    "record.history",
    "record.edit",
    "record.create",
    "login.password",
    "login.failed",
    "login.lockout",
    "login.second_factor",
    "login.second_factor_failed",
    "logout",
    "otp.enrolled",
    "otp.enrol_failed",
    "policy.change",
    "admin.agency",
    "admin.user",
    "audit.search",
    "audit.subject_report",
    "audit.user_report",
    "audit.export",
    "audit.verify",
    "audit.locate",
    "alert.handled",
]


class AuditSearchForm(GovukFormMixin, forms.Form):
    username = forms.CharField(label="User (username)", max_length=150, required=False)
    agency = forms.CharField(label="Agency (exact name)", max_length=200, required=False)
    role = forms.CharField(label="Role code", max_length=50, required=False)
    subject_id = forms.UUIDField(
        label="Subject record id",
        required=False,
        error_messages={"invalid": "Enter the record id as shown in its address, for example 3f2b…"},
    )
    event = forms.ChoiceField(label="Action", required=False, choices=[("", "Any")] + [(e, e) for e in EVENTS])
    purpose_code = forms.ChoiceField(label="Reason for access", required=False)
    date_from = GovDateField(label="From date", required=False)
    date_to = GovDateField(label="To date", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose_code"].choices = [("", "Any")] + vocabulary_choices("access_reason")  # type: ignore[attr-defined]
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date.")
        return data


class LocateSubjectForm(GovukFormMixin, forms.Form):
    nhs_number = forms.CharField(label="NHS number of the person making the request", max_length=20)
    request_reference = forms.CharField(label="Subject access request reference", max_length=100)

    def clean_nhs_number(self) -> str:
        return validate_nhs_number(self.cleaned_data["nhs_number"])


class UserActivityForm(GovukFormMixin, forms.Form):
    username = forms.CharField(label="Username", max_length=150)
    date_from = GovDateField(label="From date")
    date_to = GovDateField(label="To date")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The 'to' date must be the same as or after the 'from' date.")
        return data


class ExportForm(GovukFormMixin, forms.Form):
    """Exports need the password again: a walked-away-from screen must not leak a whole trail."""

    password = forms.CharField(label="Your password", widget=forms.PasswordInput, help_text="Exports need your password again")
    reason = forms.CharField(
        label="Why is this export needed?", max_length=300, help_text="For example: subject access request SAR-2026-041"
    )


class AlertActionForm(GovukFormMixin, forms.Form):
    action = forms.ChoiceField(choices=[("close", "Close"), ("escalate", "Escalate")])
    note = forms.CharField(
        label="Note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a note saying what you found."},
    )


def default_period() -> tuple[dt.date, dt.date]:
    today = dt.date.today()
    return today - dt.timedelta(days=30), today
