"""Forms for search, purpose of access, enrolment and item edits.

Fields are built from the item specifications (records.dataset), not from
the models, so no form can query or expose a subject by itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from mais.forms import GovukFormMixin
from records.dataset import (
    CHOICE,
    CHOICE_LIST,
    CODE_LIST,
    CONTACT,
    DATE,
    IDENTIFIER,
    ITEMS_BY_CODE,
    MEDICATION,
    NAME,
    STRUCTURED,
    TEXT_LIST,
    ItemSpec,
)
from records.terms import terms, vocabulary_choices
from records.validators import IDENTIFIER_VALIDATORS, validate_date_of_birth, validate_not_future

DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d %m %Y", "%Y-%m-%d", "%d.%m.%Y"]
DATE_HINT = "For example, 27/03/1985"
SYSTEM_REASONS = {"notification"}  # reasons the system records; never offered to users


class GovDateField(forms.DateField):
    default_error_messages = {"invalid": "Enter a real date as day/month/year, for example 27/03/1985."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", DATE_FORMATS)
        kwargs.setdefault("help_text", DATE_HINT)
        super().__init__(**kwargs)
        self.widget.format = "%d/%m/%Y"  # type: ignore[attr-defined]


class PurposeForm(GovukFormMixin, forms.Form):
    """Why the record is consulted: required for every search and record view (DPA 2018 s.62)."""

    reason = forms.ChoiceField(label="Reason for access", error_messages={"required": "Select the reason you need this information."})
    reason_detail = forms.CharField(
        label="More detail (optional unless the reason is 'Other')",
        max_length=500,
        required=False,
        help_text="For example a custody record or incident number. Do not enter the person's name.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reasons = [(code, label) for code, label in vocabulary_choices("access_reason") if code not in SYSTEM_REASONS]
        self.fields["reason"].choices = [("", "Choose a reason")] + reasons  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reason") == "other" and not data.get("reason_detail", "").strip():
            self.add_error("reason_detail", "Explain the reason for access when you choose 'Other'.")
        return data


class SearchForm(PurposeForm):
    name = forms.CharField(
        label="Name or other name used", max_length=200, required=False, help_text="Spelling mistakes and variants are allowed"
    )
    date_of_birth = GovDateField(label="Date of birth", required=False)
    nhs_number = forms.CharField(label="NHS number", max_length=20, required=False)
    pnc_id = forms.CharField(label="PNC ID", max_length=20, required=False, help_text="For example, 2012/0001234X")
    prison_number = forms.CharField(label="Prison number", max_length=10, required=False)
    cro_number = forms.CharField(label="CRO number", max_length=12, required=False)

    IDENTIFIER_FIELDS = {
        "nhs_number": "identity.nhs_number",
        "pnc_id": "identity.pnc_id",
        "prison_number": "identity.prison_number",
        "cro_number": "identity.cro_number",
    }

    def __init__(self, *args: Any, allowed: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ["name", "date_of_birth", *self.IDENTIFIER_FIELDS]:
            if name not in allowed:
                del self.fields[name]
        # Search fields first, purpose last.
        order = [n for n in ["name", "date_of_birth", *self.IDENTIFIER_FIELDS] if n in self.fields]
        self.order_fields(order + ["reason", "reason_detail"])
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for field, code in self.IDENTIFIER_FIELDS.items():
            value = (data.get(field) or "").strip()
            if value:
                try:
                    data[field] = IDENTIFIER_VALIDATORS[code](value)
                except ValidationError as exc:
                    self.add_error(field, exc)
        searched = [f for f in ["name", "date_of_birth", *self.IDENTIFIER_FIELDS] if f in self.fields and data.get(f)]
        if not searched:
            raise ValidationError("Enter a name, date of birth or identifier to search for.")
        data["page"] = self._page()
        return data

    def _page(self) -> int:
        """Which page of results: 1 unless a "Next" or "Previous" button of the results asked for another.

        Not a field of the form, so that a new search always starts at the first page.
        """
        raw = str(self.data.get("page") or "1").strip()
        last = settings.SEARCH_MAX_PAGES
        # ASCII digits, and few: "²" passes str.isdigit() but not int(), and int() refuses thousands of digits.
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= last:
            self.add_error(None, f"There is no page {raw[:10]} of results: pages go from 1 to {last}. Search again from the first page.")
            return 1
        return int(raw)


def _choice_field(label: str, vocabulary: str, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", "Not recorded")] + vocabulary_choices(vocabulary), required=False, **kwargs)


def item_fields(item: ItemSpec, *, enrolling: bool = False) -> dict[str, forms.Field]:
    """The form fields that edit one item, keyed by model field name."""
    f = item.model_fields
    help_text = item.help_text
    if item.kind == NAME:
        return {
            f[0]: forms.CharField(
                label=item.label, max_length=100, help_text=help_text, error_messages={"required": f"Enter the {item.label.lower()}."}
            )
        }
    if item.kind == DATE:
        validators = (
            [validate_date_of_birth]
            if item.code == "identity.date_of_birth"
            else [validate_not_future]
            if item.code != "identity.release_date"
            else []
        )
        return {f[0]: GovDateField(label=item.label, required=False, validators=validators)}
    if item.kind == CHOICE:
        return {f[0]: _choice_field(item.label, item.vocabulary or "", help_text=help_text)}
    if item.kind == CHOICE_LIST:
        return {
            f[0]: forms.MultipleChoiceField(
                label=item.label,
                choices=vocabulary_choices(item.vocabulary or ""),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=help_text,
            )
        }
    if item.kind == CODE_LIST:
        return {f[0]: forms.CharField(label=item.label, required=False, help_text="ICD-10 codes separated by commas, for example F20, F10")}
    if item.kind in (TEXT_LIST, MEDICATION):
        return {f[0]: forms.CharField(label=item.label, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text)}
    if item.kind == IDENTIFIER:
        return {f[0]: forms.CharField(label=item.label, max_length=20, required=False, help_text=help_text)}
    if item.kind in (CONTACT, STRUCTURED):
        out: dict[str, forms.Field] = {}
        for name, label in zip(f, item.field_labels, strict=True):
            full = f"{item.label}: {label.lower()}"
            if name.endswith("_on"):
                out[name] = GovDateField(label=full, required=False, validators=[validate_not_future])
            elif name == "suicide_attempt_count":
                out[name] = forms.IntegerField(label=full, required=False, min_value=0, max_value=500)
            elif name in ("mappa_category", "mappa_level"):
                out[name] = _choice_field(full, name)
            elif name == "last_custody_outcome":
                out[name] = _choice_field(full, "custody_outcome")
            else:
                out[name] = forms.CharField(label=full, max_length=30 if name.endswith("_phone") else 200, required=False)
        return out
    return {f[0]: forms.CharField(label=item.label, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text)}


def initial_text(item: ItemSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Stored values in the shape the form fields show."""
    out: dict[str, Any] = {}
    for name in item.model_fields:
        value = values.get(name)
        if item.kind == CODE_LIST:
            value = ", ".join(value or [])
        elif item.kind == TEXT_LIST:
            value = "\n".join(value or [])
        elif item.kind == MEDICATION:
            value = "\n".join("; ".join(m.get(k, "") for k in ("name", "dose", "frequency")) for m in value or [])
        out[name] = value
    return out


class ItemsForm(GovukFormMixin, forms.Form):
    """Edits a set of items; cleaned values are in model shape, grouped by item code."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, item_codes: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item_codes = item_codes
        for code in item_codes:
            item = ITEMS_BY_CODE[code]
            for name, field in item_fields(item).items():
                if code in ("identity.family_name", "identity.given_names"):
                    field.required = True
                self.fields[name] = field
        self.style_fields()

    def _clean_item(self, item: ItemSpec, data: dict[str, Any]) -> None:
        name = item.model_fields[0]
        if item.kind == IDENTIFIER:
            raw = (data.get(name) or "").strip()
            if raw:
                try:
                    data[name] = IDENTIFIER_VALIDATORS[item.code](raw)
                except ValidationError as exc:
                    self.add_error(name, exc)
            else:
                data[name] = None
        elif item.kind == CODE_LIST:
            codes = [c.strip().upper() for c in (data.get(name) or "").replace(";", ",").split(",") if c.strip()]
            known = {code for (vocab, code) in terms() if vocab == item.vocabulary}
            unknown = [c for c in codes if c not in known]
            if unknown:
                self.add_error(
                    name, f"Not an ICD-10 chapter F code at three-character level: {', '.join(unknown)}. Use codes such as F20 or F32."
                )
            data[name] = list(dict.fromkeys(codes))
        elif item.kind == TEXT_LIST:
            data[name] = [line.strip() for line in (data.get(name) or "").splitlines() if line.strip()]
        elif item.kind == MEDICATION:
            meds = []
            for number, line in enumerate((data.get(name) or "").splitlines(), start=1):
                if not line.strip():
                    continue
                parts = [p.strip() for p in line.split(";")]
                if len(parts) > 3 or not parts[0]:
                    self.add_error(
                        name, f"Line {number}: write each medicine as 'name; dose; frequency', for example 'Olanzapine; 10 mg; once a day'."
                    )
                    continue
                parts += [""] * (3 - len(parts))
                meds.append({"name": parts[0], "dose": parts[1], "frequency": parts[2]})
            data[name] = meds
        elif item.kind == CHOICE_LIST:
            data[name] = list(data.get(name) or [])
        else:
            for field in item.model_fields:
                if data.get(field) is None and not isinstance(self.fields[field], (forms.DateField, forms.IntegerField)):
                    data[field] = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for code in self.item_codes:
            self._clean_item(ITEMS_BY_CODE[code], data)
        return data

    def changes(self) -> dict[str, dict[str, Any]]:
        return {code: {f: self.cleaned_data.get(f) for f in ITEMS_BY_CODE[code].model_fields} for code in self.item_codes}


def form_initial(item_codes: list[str], values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in item_codes:
        out.update(initial_text(ITEMS_BY_CODE[code], values))
    return out


def today() -> dt.date:
    return dt.date.today()


class ConsentForm(GovukFormMixin, forms.Form):
    """Consent, or the lawful basis for sharing without it; and, at enrolment, the inclusion criteria."""

    consent_status = forms.ChoiceField(
        label="Consent to share",
        choices=[
            ("", "Choose one"),
            ("given", "The person consents to sharing"),
            ("not_obtained", "Shared without consent, on a lawful basis"),
        ],
        error_messages={"required": "Say whether the person consents, or which lawful basis applies without consent."},
    )
    consent_given_on = GovDateField(label="Date consent was given", required=False, validators=[validate_not_future])
    agency_kinds = forms.MultipleChoiceField(
        label="Kinds of agency the consent covers",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only agencies of these kinds will see the record, unless a lawful basis without consent is also recorded.",
    )
    lawful_basis = forms.ChoiceField(
        label="Lawful basis for sharing without consent",
        required=False,
        help_text="Required when sharing without consent. Optional with consent: it lets the record be shared if consent is withdrawn.",
    )
    lawful_basis_note = forms.CharField(
        label="Why this basis applies", max_length=500, required=False, help_text="For example the risk that sharing manages."
    )

    def __init__(self, *args: Any, enrolling: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from access.models import AgencyKind

        self.fields["agency_kinds"].choices = AgencyKind.choices  # type: ignore[attr-defined]
        self.fields["lawful_basis"].choices = [("", "None")] + vocabulary_choices("lawful_basis")  # type: ignore[attr-defined]
        if enrolling:
            self.fields["severe_mental_illness"] = forms.ChoiceField(
                label="Does the person have a severe and enduring mental illness?",
                choices=[("", "Choose one"), ("yes", "Yes"), ("no", "No")],
                error_messages={"required": "Say whether the person has a severe and enduring mental illness."},
                help_text="For example schizophrenia, bipolar disorder, severe depression or a personality disorder.",
            )
            self.fields["inclusion_exception"] = forms.CharField(
                label="Reason for enrolling outside the inclusion criteria",
                max_length=500,
                required=False,
                help_text="Only needed if the person is not 21 to 65 or has no severe and enduring mental illness.",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("consent_status")
        if status == "given":
            if not data.get("consent_given_on"):
                self.add_error("consent_given_on", "Enter the date the person gave consent.")
            if not data.get("agency_kinds"):
                self.add_error("agency_kinds", "Select the kinds of agency the person agreed to share with.")
        elif status == "not_obtained":
            if not data.get("lawful_basis"):
                self.add_error("lawful_basis", "Select the lawful basis for sharing without consent.")
            if not data.get("lawful_basis_note", "").strip():
                self.add_error("lawful_basis_note", "Explain why this lawful basis applies.")
        return data
