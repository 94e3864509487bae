"""Forms of the access app."""

from __future__ import annotations

from typing import Any

from django import forms

from access.models import DataItem, Role
from mais.forms import GovukFormMixin


class OtpForm(GovukFormMixin, forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=16,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        error_messages={"required": "Enter the code from your authenticator app."},
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].replace(" ", "").strip()


class MatrixForm(forms.Form):
    """A checkbox per (role, item, read/write)."""

    summary = forms.CharField(
        label="Why is the matrix changing?",
        max_length=500,
        required=True,
        error_messages={"required": "Say why the matrix is changing: it is kept with this version."},
    )

    def __init__(self, *args: Any, roles: list[Role], items: list[DataItem], current: set[tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles, self.items = roles, items
        for item in items:
            for role in roles:
                for perm in ("view", "change"):
                    name = f"{perm}__{role.code}__{item.code}"
                    self.fields[name] = forms.BooleanField(required=False, initial=(role.code, item.code, perm) in current)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "item": item,
                "cells": [
                    (role, self[f"view__{role.code}__{item.code}"], self[f"change__{role.code}__{item.code}"]) for role in self.roles
                ],
            }
            for item in self.items
        ]

    def cells(self) -> set[tuple[str, str, str]]:
        out = set()
        for name, value in self.cleaned_data.items():
            if value is True and "__" in name:
                perm, role, item = name.split("__")
                out.add((role, item, perm))
        return out


class AgencyForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        from access.models import Agency

        model = Agency
        fields = ["code", "name", "kind", "works_out_of_hours"]
        help_texts = {"code": "Short identifier used in CSV imports, for example merseyside-police"}


class UserForm(GovukFormMixin, forms.Form):
    username = forms.RegexField(
        label="Username",
        regex=r"^[a-z0-9][a-z0-9._-]{1,149}$",
        max_length=150,
        error_messages={"invalid": "Use 2-150 lower-case letters, digits, dots, dashes or underscores."},
    )
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="Work email")
    agency: forms.ModelChoiceField = forms.ModelChoiceField(label="Agency", queryset=None, empty_label="Choose an agency")  # type: ignore[arg-type,type-arg]
    roles = forms.MultipleChoiceField(
        label="Roles", widget=forms.CheckboxSelectMultiple, error_messages={"required": "Choose at least one role."}
    )
    expires_on = forms.DateField(
        label="Account expires on",
        required=False,
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
        help_text="For example, 31/03/2027. The account cannot sign in after this date.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        from access.models import Agency

        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["roles"].choices = list(Role.objects.values_list("code", "label"))  # type: ignore[attr-defined]
        if editing:
            self.fields["username"].disabled = True
        self.style_fields()

    def clean_username(self) -> str:
        from access.models import User

        username = self.cleaned_data["username"]
        if not self.fields["username"].disabled and User.objects.filter(username=username).exists():
            raise forms.ValidationError("That username is already taken.")
        return username

    def clean_expires_on(self) -> Any:
        import datetime as dt

        value = self.cleaned_data.get("expires_on")
        if value and value <= dt.date.today() and not self.fields["username"].disabled:
            raise forms.ValidationError("The expiry date must be in the future.")
        return value


class ImportForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: username, first_name, last_name, email, agency_code, roles (separated by ;), expires_on (YYYY-MM-DD or empty)",
    )
