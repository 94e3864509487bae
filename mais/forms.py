"""GOV.UK Frontend classes for Django form widgets."""

from __future__ import annotations

from typing import Any

from django import forms

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
