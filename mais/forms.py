"""GOV.UK Frontend classes for Django form widgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.forms.renderers import Jinja2
from markupsafe import escape  # as Jinja2 escapes (&#34; &#39;), not mais.markup.escape: the output must equal the templates'

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
    ``mais/jinja2/mais/field.html``: label, hint, errors and widget in GOV.UK markup, one template for every form.

    The commonest templates (a text-like field's group, text inputs, selects with their options, text areas) are
    drawn by the Python functions in ``_DRAWN`` instead, from the same context and with the same markup (the test
    renders every field of every form both ways and compares them). Reason: a search page draws eight fields, and
    the template for each field, widget, attribute list and option was about a tenth of the search's CPU (issue 6).
    Anything else (checkboxes, radios, date parts) still goes through its template.
    """

    field_template_name = "mais/field.html"

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        drawn = _DRAWN.get(template_name)
        if drawn is not None:
            html = drawn(self, context)
            if html is not None:
                return html
        return super().render(template_name, context, request)


def _attrs(attrs: dict[str, Any]) -> str:
    """As django/forms/widgets/attrs.html: ``False`` leaves the attribute out, ``True`` writes its name alone."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"' for name, value in attrs.items() if value is not False
    )


def _input(renderer: GovukFormRenderer, context: dict[str, Any]) -> str:
    w = context["widget"]
    value = "" if w["value"] is None else f' value="{escape(w["value"])}"'
    return f'<input type="{escape(w["type"])}" name="{escape(w["name"])}"{value}{_attrs(w["attrs"])}>'


def _textarea(renderer: GovukFormRenderer, context: dict[str, Any]) -> str:
    w = context["widget"]
    return f'<textarea name="{escape(w["name"])}"{_attrs(w["attrs"])}>\n{escape(w["value"]) if w["value"] else ""}</textarea>'


_OPTION = "django/forms/widgets/select_option.html"


def _select(renderer: GovukFormRenderer, context: dict[str, Any]) -> str | None:
    w = context["widget"]
    parts = [f'<select name="{escape(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, group_choices, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return None  # a widget with its own option template: drawn by the templates
            parts.append(f'\n  <option value="{escape(option["value"])}"{_attrs(option["attrs"])}>{escape(option["label"])}</option>')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _field_group(renderer: GovukFormRenderer, context: dict[str, Any]) -> str | None:
    field = context["field"]
    if field.widget_type in ("checkboxselectmultiple", "radioselect"):
        return None
    errors = field.errors
    hint = f'<div class="govuk-hint" id="{escape(field.auto_id)}-hint">{escape(field.help_text)}</div>' if field.help_text else ""
    messages = "".join(
        f'<p class="govuk-error-message" id="{escape(field.auto_id)}-error"><span class="govuk-visually-hidden">Error:</span> {escape(e)}</p>'
        for e in errors
    )
    return (
        f'<div class="govuk-form-group{" govuk-form-group--error" if errors else ""}">\n  \n'
        f'  <label class="govuk-label govuk-label--s" for="{escape(field.id_for_label)}">{escape(field.label)}</label>\n'
        f"  {hint}\n  {messages}\n  {escape(field)}\n  \n</div>"
    )


_DRAWN: dict[str, Callable[[GovukFormRenderer, dict[str, Any]], str | None]] = {
    "mais/field.html": _field_group,
    **{
        f"django/forms/widgets/{kind}.html": _input
        for kind in ("text", "email", "number", "password", "hidden", "date", "datetime", "time", "tel", "url", "search", "color")
    },
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
}
