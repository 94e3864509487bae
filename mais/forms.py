"""GOV.UK Frontend classes for Django form widgets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import Jinja2

WIDGET_CLASSES = {
    forms.Textarea: "govuk-textarea",
    forms.Select: "govuk-select",
    forms.CheckboxSelectMultiple: "govuk-checkboxes__input",
    forms.CheckboxInput: "govuk-checkboxes__input",
    forms.HiddenInput: "",
}


class GovukFormMixin:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self) -> None:
        """Call again after adding fields."""
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            css = next((c for w, c in WIDGET_CLASSES.items() if isinstance(field.widget, w)), "govuk-input")
            if css:
                field.widget.attrs["class"] = css
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"


class GovukFormRenderer(Jinja2):
    """Django's Jinja2 form renderer, drawing each field group (``{{ field.as_field_group }}``) with
    ``mais/jinja2/mais/field.html``: label, hint, errors and widget in GOV.UK markup, one template for every form."""

    field_template_name = "mais/field.html"
