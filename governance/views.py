"""Emergency access, data-sharing agreements and retention review. Thin: validate, one service call, render.

No view here reads a subject: record facts come from access.disclosure.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from access import web
from access.disclosure import NotFound, disclose_retention_queue
from audit.services import Purpose
from governance.forms import (
    AgreementForm,
    DisposeForm,
    EmergencyAccessForm,
    HoldForm,
    ProtocolConfirmForm,
    ProtocolPublishForm,
    RetainForm,
)
from governance.models import DisposedRecord, LegalHold, SharingAgreement
from governance.protocol import ProtocolRefused, attestation_overview, current_protocol, protocol_attest, protocol_publish
from governance.selectors import agreements_all, agreements_expiring
from governance.services import (
    AgreementInput,
    GovernanceRefused,
    agreement_save,
    emergency_access_start,
    legal_hold_lift,
    legal_hold_place,
    record_dispose,
    retention_retain,
)

admin_only = web.role_required("administrator")


def emergency(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    """Break-glass: reason, words and password again; an hour at most; auditors are told."""
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = emergency_access_start(
                principal=web.principal(request),
                user=request.user,  # type: ignore[arg-type]
                subject_id=subject_id,
                reason_code=data["reason_code"],
                reason_text=data["reason_text"].strip(),
                password=data["password"],
                context=web.context(request),
            )
        except GovernanceRefused as exc:
            form.add_error("password" if "password" in str(exc) else None, str(exc))
        else:
            if web.purpose_in_force(request) is None:
                web.remember_purpose(request, Purpose("welfare_concern", f"Emergency access: {data['reason_text'].strip()}"[:500]))
            until = timezone.localtime(grant.expires_at)
            messages.warning(request, f"Emergency access granted until {until:%H:%M}. Every view is reported to the auditors.")
            return redirect("record", subject_id=subject_id)
    return render(
        request, "governance/emergency.html", {"form": form, "subject_id": subject_id, "minutes": settings.EMERGENCY_ACCESS_MINUTES}
    )


def _agreement_status(agreement: SharingAgreement, today: object) -> str:
    if agreement.starts_on > today:  # type: ignore[operator]
        return "not started"
    if agreement.ends_on < today:  # type: ignore[operator]
        return "ended"
    return "in force"


@admin_only
def agreements(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    days = settings.AGREEMENT_EXPIRY_WARNING_DAYS
    rows = [(a, _agreement_status(a, today)) for a in agreements_all()]
    return render(
        request,
        "governance/agreements.html",
        {"rows": rows, "expiring": list(agreements_expiring(today=today, days=days)), "days": days},
    )


@admin_only
def agreement_edit(request: HttpRequest, agreement_id: int | None = None) -> HttpResponse:
    agreement = get_object_or_404(SharingAgreement, pk=agreement_id) if agreement_id else None
    initial = {}
    if agreement is not None:
        initial = {
            "reference": agreement.reference,
            "title": agreement.title,
            "parties": [str(pk) for pk in agreement.parties.values_list("pk", flat=True)],
            "purposes": agreement.purposes,
            "items": agreement.items,
            "starts_on": agreement.starts_on,
            "ends_on": agreement.ends_on,
            "signatory_name": agreement.signatory_name,
            "signatory_role": agreement.signatory_role,
        }

    def taken(reference: str) -> bool:
        others = SharingAgreement.objects.filter(reference=reference)
        return (others.exclude(pk=agreement_id) if agreement_id else others).exists()

    form = AgreementForm(request.POST or None, initial=initial, reference_taken=taken)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved = agreement_save(
            actor=web.principal(request),
            agreement_id=agreement_id,
            data=AgreementInput(
                reference=d["reference"],
                title=d["title"],
                parties=tuple(int(p) for p in d["parties"]),
                purposes=tuple(d["purposes"]),
                items=tuple(d["items"]),
                starts_on=d["starts_on"],
                ends_on=d["ends_on"],
                signatory_name=d["signatory_name"],
                signatory_role=d["signatory_role"],
            ),
            context=web.context(request),
        )
        messages.success(request, f"Agreement {saved.reference} saved. It applies from the next page anyone opens.")
        return redirect("admin-agreements")
    return render(request, "governance/agreement_form.html", {"form": form, "agreement": agreement})


@admin_only
def retention(request: HttpRequest) -> HttpResponse:
    try:
        rows = disclose_retention_queue(principal=web.principal(request), context=web.context(request))
    except NotFound:
        return render(request, "errors/403.html", status=403)
    return render(
        request,
        "governance/retention.html",
        {"rows": rows, "schedule": settings.RETENTION_YEARS, "disposed": DisposedRecord.objects.all()[:20]},
    )


@admin_only
def retention_decide(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    who = web.principal(request)
    ctx = web.context(request)
    action = request.POST.get("action", "")
    retain_form = RetainForm(request.POST if action == "retain" else None)
    dispose_form = DisposeForm(request.POST if action == "dispose" else None)
    hold_form = HoldForm(request.POST if action in ("hold", "lift") else None)
    if request.method == "POST":
        try:
            if action == "retain" and retain_form.is_valid():
                retention_retain(actor=who, subject_id=subject_id, context=ctx, **retain_form.cleaned_data)
                messages.success(request, "Decision recorded: the record is kept until its next review.")
                return redirect("admin-retention")
            if action == "dispose" and dispose_form.is_valid():
                record_dispose(actor=who, subject_id=subject_id, reason=dispose_form.cleaned_data["reason"], context=ctx)
                messages.success(request, "The record has been disposed of. Its tombstone and audit trail remain.")
                return redirect("admin-retention")
            if action == "hold" and hold_form.is_valid():
                legal_hold_place(actor=who, subject_id=subject_id, reason=hold_form.cleaned_data["reason"], context=ctx)
                messages.success(request, "Legal hold placed: the record cannot be disposed of until it is lifted.")
                return redirect("admin-retention-decide", subject_id=subject_id)
            if action == "lift" and hold_form.is_valid():
                legal_hold_lift(
                    actor=who, hold_id=int(request.POST.get("hold", "0") or 0), reason=hold_form.cleaned_data["reason"], context=ctx
                )
                messages.success(request, "Legal hold lifted.")
                return redirect("admin-retention-decide", subject_id=subject_id)
        except GovernanceRefused as exc:
            messages.error(request, str(exc))
    try:
        queue = disclose_retention_queue(principal=who, context=ctx)
    except NotFound:
        return render(request, "errors/403.html", status=403)
    row = next((r for r in queue if r.due.subject_id == subject_id), None)
    holds = LegalHold.objects.filter(subject_id=subject_id)
    return render(
        request,
        "governance/retention_decide.html",
        {
            "subject_id": subject_id,
            "row": row,
            "holds": holds,
            "hold_in_force": any(h.lifted_at is None for h in holds),
            "retain_form": retain_form,
            "dispose_form": dispose_form,
            "hold_form": hold_form,
            "tombstone": DisposedRecord.objects.filter(subject_id=subject_id).first(),
        },
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) and target.startswith("/") else "/"


def protocol(request: HttpRequest) -> HttpResponse:
    """The protocol in force; confirming it opens the rest of the service (mais.middleware.RequireAttestationMiddleware)."""
    current = current_protocol()
    form = ProtocolConfirmForm(request.POST or None, initial={"version": current.pk if current else None})
    if request.method == "POST" and current is not None and form.is_valid():
        try:
            protocol_attest(actor=web.principal(request), version_id=form.cleaned_data["version"], context=web.context(request))
        except ProtocolRefused as exc:
            messages.error(request, str(exc))
            return redirect(f"{request.path}?next={_safe_next(request)}")
        messages.success(request, f"Thank you. You confirmed version {current.number} of the protocol.")
        return redirect(_safe_next(request))
    return render(request, "governance/protocol.html", {"protocol": current, "form": form, "next": _safe_next(request)})


@admin_only
def protocol_admin(request: HttpRequest) -> HttpResponse:
    """Administrators publish a new version (never edit an old one) and see who has confirmed which."""
    current = current_protocol()
    initial = {"title": current.title, "body": current.body} if current else {"title": "Information-sharing protocol"}
    form = ProtocolPublishForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = protocol_publish(actor=web.principal(request), context=web.context(request), **form.cleaned_data)
        except ProtocolRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Version {version.number} published. Every user confirms it before their next page.")
            return redirect("admin-protocol")
    overview = attestation_overview()
    counts = {state: sum(1 for a in overview if a.state == state) for state in ("current", "expired", "old_version", "never")}
    return render(
        request,
        "governance/protocol_admin.html",
        {"protocol": current, "form": form, "overview": overview, "counts": counts, "months": settings.ATTESTATION_MONTHS},
    )
