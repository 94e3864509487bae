"""Search, record page, edits and enrolment. Thin: validate, one choke-point or service call, render.

No view here reads a subject: everything shown comes from access.disclosure.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from access import web
from access.disclosure import NotFound, SearchNotAllowed, disclose_item_history, disclose_search, disclose_subject, searchable_criteria
from audit.services import Purpose
from records.dataset import ITEMS, SECTIONS
from records.forms import ItemsForm, PurposeForm, SearchForm, form_initial
from records.selectors import SearchCriteria
from records.services import DuplicateIdentifier, EditConflict, EnrolmentNotPermitted, can_enrol, subject_create, subject_update
from records.terms import terms

SECTION_LABELS = dict(SECTIONS)


def _purpose(form: PurposeForm) -> Purpose:
    return Purpose(form.cleaned_data["reason"], form.cleaned_data.get("reason_detail", "").strip())


def search(request: HttpRequest) -> HttpResponse:
    """Names and identifiers arrive only in POST bodies, never in URLs or server logs."""
    who = web.principal(request)
    allowed = searchable_criteria(who)
    if not allowed:
        return render(request, "errors/403.html", {"message": "Your role does not search records."}, status=403)
    form = SearchForm(request.POST or None, allowed=allowed, initial=_purpose_initial(request))
    results = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        criteria = SearchCriteria(
            name=data.get("name") or "",
            date_of_birth=data.get("date_of_birth"),
            nhs_number=data.get("nhs_number") or "",
            pnc_id=data.get("pnc_id") or "",
            prison_number=data.get("prison_number") or "",
            cro_number=data.get("cro_number") or "",
        )
        purpose = _purpose(form)
        try:
            results = disclose_search(principal=who, criteria=criteria, purpose=purpose, context=web.context(request))
        except SearchNotAllowed as exc:
            form.add_error(exc.criterion if exc.criterion in form.fields else None, str(exc))
        else:
            web.remember_purpose(request, purpose)
    return render(request, "records/search.html", {"form": form, "results": results, "can_enrol": can_enrol(who)})


def _purpose_label(purpose: Purpose) -> str:
    return terms().get(("access_reason", purpose.code), (purpose.code, ""))[0]


def _purpose_initial(request: HttpRequest) -> dict[str, str]:
    purpose = web.purpose_in_force(request)
    return {"reason": purpose.code, "reason_detail": purpose.text} if purpose else {}


def _ask_purpose(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    form = PurposeForm(request.POST or None, initial=_purpose_initial(request))
    if request.method == "POST" and form.is_valid():
        web.remember_purpose(request, _purpose(form))
        return redirect(request.path)
    return render(request, "records/purpose.html", {"form": form, "subject_id": subject_id})


def record(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    purpose = web.purpose_in_force(request)
    if purpose is None or (request.method == "POST" and "reason" in request.POST):
        return _ask_purpose(request, subject_id)
    who = web.principal(request)
    try:
        view = disclose_subject(principal=who, subject_id=subject_id, purpose=purpose, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    preview_roles = web.preview_roles() if who.has_role("administrator") else []
    return render(
        request,
        "records/record.html",
        {"record": view, "purpose": purpose, "purpose_label": _purpose_label(purpose), "preview_roles": preview_roles},
    )


@web.role_required("administrator")
def preview(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    """Administrators see a record as a chosen role would (values they may not read stay hidden)."""
    purpose = web.purpose_in_force(request)
    if purpose is None:
        return _ask_purpose(request, subject_id)
    role = request.GET.get("role", "")
    roles = dict(web.preview_roles())
    if role not in roles:
        messages.error(request, "Choose a role to preview.")
        return redirect("record", subject_id=subject_id)
    from access.policy import principal_for

    who = principal_for(request.user, as_role=role)  # type: ignore[arg-type]
    try:
        view = disclose_subject(principal=who, subject_id=subject_id, purpose=purpose, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    return render(
        request,
        "records/record.html",
        {"record": view, "purpose": purpose, "previewing": roles[role], "preview_roles": web.preview_roles()},
    )


def edit_section(request: HttpRequest, subject_id: uuid.UUID, section: str) -> HttpResponse:
    if section not in SECTION_LABELS:
        return render(request, "errors/404.html", status=404)
    purpose = web.purpose_in_force(request)
    if purpose is None:
        return _ask_purpose(request, subject_id)
    who = web.principal(request)
    try:
        view = disclose_subject(principal=who, subject_id=subject_id, purpose=purpose, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    codes = [i.code for i in ITEMS if i.section == section and i.code in view.writable_items]
    if not codes:
        return render(request, "errors/403.html", {"message": "Your role cannot change this section of this record."}, status=403)
    initial = {**form_initial(codes, dict(view.edit_values)), "version": view.version}
    form = ItemsForm(request.POST or None, item_codes=codes, initial=initial)
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            subject_update(
                principal=who,
                subject_id=subject_id,
                expected_version=form.cleaned_data.get("version") or 0,
                changes=form.changes(),
                purpose=purpose,
                context=web.context(request),
            )
        except EditConflict:
            conflict = True
            # Keep what the user typed; the next save goes against the version now on screen.
            data = request.POST.copy()
            data["version"] = str(view.version)
            form = ItemsForm(data, item_codes=codes, initial=initial)
            form.is_valid()
            form.add_error(
                None,
                "Someone else saved changes to this record while you were editing. Your changes have not been "
                "saved: they are still in the form below. Check the record as it is now, then save again.",
            )
        except DuplicateIdentifier as exc:
            form.add_error(None, str(exc))
        except NotFound:
            return render(request, "errors/404.html", status=404)
        else:
            messages.success(request, f"{SECTION_LABELS[section]} saved.")
            return redirect(reverse("record", args=[subject_id]) + f"#section-{section}")
    current = next(s for s in view.sections if s.code == section)
    return render(request, "records/edit.html", {"form": form, "record": view, "section": current, "conflict": conflict})


def enrol(request: HttpRequest) -> HttpResponse:
    who = web.principal(request)
    if not can_enrol(who):
        return render(
            request, "errors/403.html", {"message": "Only a mental health practitioner on a team can enrol a person."}, status=403
        )
    codes = [i.code for i in ITEMS if i.section == "identity" and i.code in who.grants.writable_on_caseload | who.grants.writable_anywhere]
    form = ItemsForm(request.POST or None, item_codes=codes)
    purpose_form = PurposeForm(request.POST or None, initial={"reason": "data_quality"})
    if request.method == "POST" and form.is_valid() and purpose_form.is_valid():
        purpose = _purpose(purpose_form)
        try:
            subject_id = subject_create(principal=who, changes=form.changes(), purpose=purpose, context=web.context(request))
        except DuplicateIdentifier as exc:
            form.add_error(None, str(exc))
        except EnrolmentNotPermitted as exc:
            form.add_error(None, str(exc))
        else:
            web.remember_purpose(request, purpose)
            messages.success(request, "Person enrolled. Add their mental health and risk information next.")
            return redirect("record", subject_id=subject_id)
    return render(request, "records/enrol.html", {"form": form, "purpose_form": purpose_form})


def item_history(request: HttpRequest, subject_id: uuid.UUID, item_code: str) -> HttpResponse:
    """Past values of one item, only for those who may read the item."""
    purpose = web.purpose_in_force(request)
    if purpose is None:
        return _ask_purpose(request, subject_id)
    try:
        history = disclose_item_history(
            principal=web.principal(request), subject_id=subject_id, item_code=item_code, purpose=purpose, context=web.context(request)
        )
    except NotFound:
        return render(request, "errors/404.html", status=404)
    return render(request, "records/history.html", {"history": history})
