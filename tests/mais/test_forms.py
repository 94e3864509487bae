"""Form fields drawn in Python (mais.forms._DRAWN) are the markup their templates draw, for every form in the app.

Each form is drawn unbound, bound with nothing (required-field errors) and bound with markup-like junk in every
field (errors, and values that must come out escaped): every field group and every widget both ways, compared
character for character.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django import forms

import mais.forms
from access.forms import AgencyForm, ImportForm, OtpForm, UserForm
from audit.forms import AlertActionForm, AuditSearchForm, ExportForm, LocateSubjectForm, UserActivityForm
from governance.forms import (
    AgreementForm,
    DisposeForm,
    EmergencyAccessForm,
    HoldForm,
    ProtocolConfirmForm,
    ProtocolPublishForm,
    RetainForm,
)
from partnership.forms import ContactForm, DecideForm, OutcomeForm, ReferralForm, SharingDecisionForm
from records.dataset import ITEMS, ITEMS_BY_CODE
from records.forms import ConsentForm, ItemsForm, PurposeForm, SearchForm

pytestmark = pytest.mark.django_db

ALL_CODES = [item.code for item in ITEMS]
JUNK = "<b>\"Smyth\" & 'O'Brien'</b>"

FORMS: dict[str, Callable[..., forms.Form]] = {
    "search": lambda **kw: SearchForm(allowed=frozenset(["name", "date_of_birth", *SearchForm.IDENTIFIER_FIELDS]), **kw),
    "purpose": PurposeForm,
    "items (every dataset item)": lambda **kw: ItemsForm(item_codes=ALL_CODES, **kw),
    "consent": ConsentForm,
    "consent, enrolling": lambda **kw: ConsentForm(enrolling=True, **kw),
    "otp": OtpForm,
    "user": UserForm,
    "user, editing": lambda **kw: UserForm(editing=True, **kw),
    "agency": AgencyForm,
    "import": ImportForm,
    "audit search": AuditSearchForm,
    "locate subject": LocateSubjectForm,
    "user activity": UserActivityForm,
    "audit export": ExportForm,
    "alert action": AlertActionForm,
    "agreement": AgreementForm,
    "emergency access": EmergencyAccessForm,
    "retain": RetainForm,
    "dispose": DisposeForm,
    "hold": HoldForm,
    "protocol confirm": ProtocolConfirmForm,
    "protocol publish": ProtocolPublishForm,
    "referral": ReferralForm,
    "decide": DecideForm,
    "contact": ContactForm,
    "outcome": OutcomeForm,
    "sharing decision": lambda **kw: SharingDecisionForm(readable=frozenset(ITEMS_BY_CODE), **kw),
}


def _variants(make: Callable[..., forms.Form]) -> list[forms.Form]:
    junk = {bf.html_name: JUNK for bf in make()}
    junk.update({f"{name}_{part}": JUNK for name in junk for part in range(3)})  # date parts and the like
    out = [make(), make(data={}), make(data=junk)]
    for form in out[1:]:
        form.is_valid()
    return out


def _drawn_both_ways(monkeypatch: pytest.MonkeyPatch, draw: Callable[[], Any]) -> tuple[str, str]:
    python = str(draw())
    with monkeypatch.context() as m:
        m.setattr(mais.forms, "_DRAWN", {})
        templates = str(draw())
    return python, templates


@pytest.mark.parametrize("name", list(FORMS))
def test_every_field_is_drawn_as_its_template_draws_it(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compared = 0
    for form in _variants(FORMS[name]):
        for bf in form:
            python, templates = _drawn_both_ways(monkeypatch, bf.as_field_group)
            assert python == templates, f"{name}: field {bf.name}"
            python, templates = _drawn_both_ways(monkeypatch, bf.as_widget)
            assert python == templates, f"{name}: widget of {bf.name}"
            compared += 1
    assert compared


def test_the_python_drawing_is_what_draws_the_common_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise the comparison above would compare the templates with themselves."""
    used: list[str] = []
    for template, draw in list(mais.forms._DRAWN.items()):

        def spy(renderer: Any, context: dict[str, Any], _draw: Any = draw, _template: str = template) -> str | None:
            used.append(_template)
            return _draw(renderer, context)

        monkeypatch.setitem(mais.forms._DRAWN, template, spy)
    form = FORMS["search"](data={"name": JUNK, "reason": "other"})
    html = "".join(str(bf.as_field_group()) for bf in form)
    assert {"mais/field.html", "django/forms/widgets/text.html", "django/forms/widgets/select.html"} <= set(used)
    assert "&lt;b&gt;&#34;Smyth&#34; &amp; &#39;O&#39;Brien&#39;&lt;/b&gt;" in html
