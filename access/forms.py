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
