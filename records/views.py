"""Search, record page, edits and enrolment. Thin: validate, one choke-point or service call, render.

No view here reads a subject: everything shown comes from access.disclosure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse

from access import web
from access.disclosure import (
    CASELOAD_ITEMS,
    SUMMARY_ITEMS,
    NotFound,
    SearchNotAllowed,
    disclose_caseload,
    disclose_item_history,
    disclose_search,
    disclose_subject,
    searchable_criteria,
)
from audit.services import Purpose
from notifications.selectors import followed_team_ids
from partnership.selectors import unseen_outcomes
from records.dataset import ITEMS, SECTIONS
from records.exports import list_csv
from records.forms import ConsentForm, ItemsForm, PurposeForm, SearchForm, form_initial
from records.selectors import SearchCriteria
from records.services import (
    ConsentInput,
    ConsentNotPermitted,
    DuplicateIdentifier,
    EditConflict,
    EnrolmentNotPermitted,
    can_enrol,
    consent_change,
    inclusion_warnings,
    items_confirm,
    subject_create,
    subject_update,
)
from records.terms import terms

SECTION_LABELS = dict(SECTIONS)
REVIEW_DAYS_TEXT = ", ".join(f"{SECTION_LABELS[s].lower()} {d} days" for s, d in settings.REVIEW_DAYS.items())


def _purpose(form: PurposeForm) -> Purpose:
    return Purpose(form.cleaned_data["reason"], form.cleaned_data.get("reason_detail", "").strip())


# Roles whose work needs lists they can take away (a liaison and diversion team's weekly list, a caseload).
CSV_EXPORT_ROLES = ("liaison_diversion", "mh_practitioner", "probation_officer", "prison_inreach", "dual_diagnosis")


def _may_export(request: HttpRequest) -> bool:
    who = web.principal(request)
    return any(who.has_role(r) for r in CSV_EXPORT_ROLES)


def _criteria(data: dict) -> SearchCriteria:
    return SearchCriteria(
        name=data.get("name") or "",
        date_of_birth=data.get("date_of_birth"),
        nhs_number=data.get("nhs_number") or "",
        pnc_id=data.get("pnc_id") or "",
        prison_number=data.get("prison_number") or "",
        cro_number=data.get("cro_number") or "",
    )


def _csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def search(request: HttpRequest) -> HttpResponseBase:
    """Names and identifiers arrive only in POST bodies, never in URLs or server logs."""
    who = web.principal(request)
    allowed = searchable_criteria(who)
    if not allowed:
        return render(request, "errors/403.html", {"message": "Your role does not search records."}, status=403)
    form = SearchForm(request.POST or None, allowed=allowed, initial=_purpose_initial(request))
    results = None
    if request.method == "POST" and form.is_valid():
        criteria = _criteria(form.cleaned_data)
        purpose = _purpose(form)
        export = request.POST.get("format") == "csv"
        if export and not _may_export(request):
            return render(request, "errors/403.html", {"message": "Your role does not download lists."}, status=403)
        try:
            results = disclose_search(
                principal=who,
                criteria=criteria,
                purpose=purpose,
                context=web.context(request),
                surface="csv" if export else "page",
                page=form.cleaned_data["page"],
            )
        except SearchNotAllowed as exc:
            form.add_error(exc.criterion if exc.criterion in form.fields else None, str(exc))
            results = None
        else:
            web.remember_purpose(request, purpose)
            if export:
                # The choke point committed the export's audit event before this response starts.
                rows = [(str(r.subject_id), r.items, ["; ".join(r.reasons)]) for r in results.rows]
                return _csv_response(list_csv(rows=rows, order=SUMMARY_ITEMS, extra_header=["match_reason"]), "mais-search.csv")
    new_outcomes = unseen_outcomes(who.user_id) if request.method == "GET" else 0
    return render(
        request,
        "records/search.jinja",
        {"form": form, "results": results, "can_enrol": can_enrol(who), "can_export": _may_export(request), "new_outcomes": new_outcomes},
        using="jinja2",
    )


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
    # Everything else the page needs is read first: after the disclosure commits with its audit row, nothing may
    # fail before the page is served (a served page and its audit event always come together, issue 7).
    preview_roles = web.preview_roles() if who.has_role("administrator") else []
    label = _purpose_label(purpose)
    try:
        view = disclose_subject(principal=who, subject_id=subject_id, purpose=purpose, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    return render(
        request,
        "records/record.jinja",
        {"record": view, "purpose": purpose, "purpose_label": label, "preview_roles": preview_roles, "following": view.following},
        using="jinja2",
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
        "records/record.jinja",
        {"record": view, "purpose": purpose, "previewing": roles[role], "preview_roles": web.preview_roles()},
        using="jinja2",
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
    return render(request, "records/edit.jinja", {"form": form, "record": view, "section": current, "conflict": conflict}, using="jinja2")


def _consent_input(form: ConsentForm) -> ConsentInput:
    data = form.cleaned_data
    given = data["consent_status"] == "given"
    return ConsentInput(
        status=data["consent_status"],
        given_on=data.get("consent_given_on") if given else None,
        agency_kinds=tuple(data.get("agency_kinds") or ()) if given else (),
        lawful_basis=data.get("lawful_basis") or "",
        lawful_basis_note=(data.get("lawful_basis_note") or "").strip(),
        inclusion_exception=(data.get("inclusion_exception") or "").strip(),
    )


def enrol(request: HttpRequest) -> HttpResponse:
    who = web.principal(request)
    if not can_enrol(who):
        return render(
            request, "errors/403.html", {"message": "Only a mental health practitioner on a team can enrol a person."}, status=403
        )
    codes = [i.code for i in ITEMS if i.section == "identity" and i.code in who.grants.writable_on_caseload | who.grants.writable_anywhere]
    form = ItemsForm(request.POST or None, item_codes=codes)
    consent_form = ConsentForm(request.POST or None, enrolling=True)
    purpose_form = PurposeForm(request.POST or None, initial={"reason": "data_quality"})
    warnings: list[str] = []
    if request.method == "POST" and all([form.is_valid(), consent_form.is_valid(), purpose_form.is_valid()]):
        warnings = inclusion_warnings(
            date_of_birth=form.cleaned_data.get("date_of_birth"),
            severe_mental_illness=consent_form.cleaned_data["severe_mental_illness"] == "yes",
        )
        if warnings and not consent_form.cleaned_data.get("inclusion_exception", "").strip():
            consent_form.add_error(
                "inclusion_exception",
                "This person does not meet the inclusion criteria. Give a reason to enrol them anyway, or do not enrol them.",
            )
        else:
            purpose = _purpose(purpose_form)
            try:
                subject_id = subject_create(
                    principal=who,
                    changes=form.changes(),
                    consent=_consent_input(consent_form),
                    purpose=purpose,
                    context=web.context(request),
                )
            except (DuplicateIdentifier, EnrolmentNotPermitted) as exc:
                form.add_error(None, str(exc))
            else:
                web.remember_purpose(request, purpose)
                messages.success(request, "Person enrolled. Add their mental health and risk information next.")
                return redirect("record", subject_id=subject_id)
    return render(
        request, "records/enrol.html", {"form": form, "consent_form": consent_form, "purpose_form": purpose_form, "warnings": warnings}
    )


def consent(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    """The owning team records consent, its withdrawal (one action), or a lawful basis without consent."""
    purpose = web.purpose_in_force(request)
    if purpose is None:
        return _ask_purpose(request, subject_id)
    who = web.principal(request)
    try:
        view = disclose_subject(principal=who, subject_id=subject_id, purpose=purpose, context=web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    if not view.on_caseload or view.consent is None:
        return render(request, "errors/403.html", {"message": "Only the team that owns this record can change consent."}, status=403)
    current = view.consent
    initial = {
        "consent_status": "given" if current.status == "given" else "not_obtained",
        "consent_given_on": current.given_on,
        "agency_kinds": list(current.agency_kinds),
        "lawful_basis": current.lawful_basis,
        "lawful_basis_note": current.lawful_basis_note,
    }
    form = ConsentForm(request.POST if request.POST.get("action") == "change" else None, initial=initial)
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            change = ConsentInput(status="withdrawn", lawful_basis=current.lawful_basis, lawful_basis_note=current.lawful_basis_note)
        elif form.is_valid():
            change = _consent_input(form)
        else:
            change = None
        if change is not None:
            try:
                consent_change(principal=who, subject_id=subject_id, consent=change, purpose=purpose, context=web.context(request))
            except ConsentNotPermitted as exc:
                return render(request, "errors/403.html", {"message": str(exc)}, status=403)
            except NotFound:
                return render(request, "errors/404.html", status=404)
            if change.status == "withdrawn":
                messages.success(
                    request,
                    "Consent withdrawn. From now on only your team can see this record, and it shows in no search.",
                )
            else:
                messages.success(request, "Consent and lawful basis saved.")
            return redirect("record", subject_id=subject_id)
    return render(request, "records/consent.html", {"record": view, "form": form})


def confirm_section(request: HttpRequest, subject_id: uuid.UUID, section: str) -> HttpResponse:
    """'Still accurate': records a review of every item of the section the user may write, without changing them."""
    purpose = web.purpose_in_force(request)
    if request.method != "POST" or purpose is None or section not in SECTION_LABELS:
        return redirect("record", subject_id=subject_id)
    try:
        codes = items_confirm(
            principal=web.principal(request), subject_id=subject_id, section=section, purpose=purpose, context=web.context(request)
        )
    except NotFound:
        return render(request, "errors/404.html", status=404)
    messages.success(request, f"{SECTION_LABELS[section]}: {len(codes)} items confirmed as still accurate today.")
    return redirect(reverse("record", args=[subject_id]) + f"#section-{section}")


def caseload(request: HttpRequest) -> HttpResponse:
    """A mental health practitioner's caseload with the items due for review."""
    who = web.principal(request)
    try:
        rows = disclose_caseload(principal=who, purpose=Purpose("care_planning", "Caseload review"), context=web.context(request))
    except NotFound:
        return render(request, "errors/403.html", {"message": "Only a mental health practitioner on a team has a caseload."}, status=403)
    web.remember_purpose(request, Purpose("care_planning", "Caseload review"))
    following = bool(followed_team_ids(request.user))  # type: ignore[arg-type]
    return render(request, "records/caseload.html", {"rows": rows, "review_days": REVIEW_DAYS_TEXT, "following": following})


def caseload_export(request: HttpRequest) -> HttpResponseBase:
    """The caseload as CSV: readable items only, audited as an export before the first byte."""
    if request.method != "POST":
        return redirect("caseload")
    who = web.principal(request)
    try:
        rows = disclose_caseload(
            principal=who, purpose=Purpose("care_planning", "Caseload list download"), context=web.context(request), surface="csv"
        )
    except NotFound:
        return render(request, "errors/403.html", {"message": "Only a mental health practitioner on a team has a caseload."}, status=403)
    lines = list_csv(
        rows=[(str(r.subject_id), r.items, ["yes" if r.consent_withdrawn else "", str(len(r.overdue))]) for r in rows],
        order=CASELOAD_ITEMS,
        extra_header=["consent_withdrawn", "items_due_for_review"],
    )
    return _csv_response(lines, "mais-caseload.csv")


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
