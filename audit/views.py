"""The auditor workspace: who saw what, when and why. Reading the trail is itself audited.

Auditors see no record content: only events that name item codes, never values.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from access import web
from access.disclosure import locate_subject_for_audit
from audit import selectors
from audit.export import csv_lines
from audit.forms import AlertActionForm, AuditSearchForm, ExportForm, LocateSubjectForm, UserActivityForm, default_period
from audit.models import Alert, AuditEvent
from audit.services import UPDATE, Purpose, audit_record
from audit.verify import verify_and_record

auditor_only = web.role_required("auditor")


def _audit_reading(request: HttpRequest, event: str, detail: dict, subject_id: uuid.UUID | None = None, outcome: str = "ok") -> None:
    audit_record(
        event=event,
        outcome=outcome,
        context=web.context(request),
        about=AuditEvent,
        subject_id=subject_id,
        detail=detail,
        **web.principal(request).audit_identity(),
    )


@auditor_only
def workspace(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "audit/workspace.html",
        {"verification": selectors.last_verification(), "open_alerts": selectors.open_alerts().count(), "locate": LocateSubjectForm()},
    )


@auditor_only
def events(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        filters = selectors.AuditFilters(**{k: v for k, v in form.cleaned_data.items() if v not in ("", None)})
        before = request.GET.get("before")
        page = selectors.event_page(filters, before=int(before) if before and before.isdigit() else None)
        _audit_reading(request, "audit.search", {"filters": filters.as_dict(), "before": before or ""})
    query = request.GET.copy()
    query.pop("before", None)
    return render(request, "audit/events.html", {"form": form, "page": page, "query": query.urlencode()})


@auditor_only
@require_POST
def locate_subject(request: HttpRequest) -> HttpResponse:
    form = LocateSubjectForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "audit/workspace.html",
            {"verification": selectors.last_verification(), "open_alerts": selectors.open_alerts().count(), "locate": form},
        )
    purpose = Purpose("subject_access_request", form.cleaned_data["request_reference"])
    subject_id = locate_subject_for_audit(
        principal=web.principal(request), nhs_number=form.cleaned_data["nhs_number"], purpose=purpose, context=web.context(request)
    )
    if subject_id is None:
        form.add_error("nhs_number", "No record on MAIS has this NHS number. The search has been recorded.")
        return render(
            request,
            "audit/workspace.html",
            {"verification": selectors.last_verification(), "open_alerts": selectors.open_alerts().count(), "locate": form},
        )
    return redirect("audit-subject", subject_id=subject_id)


@auditor_only
def subject_report(request: HttpRequest, subject_id: uuid.UUID) -> HttpResponse:
    """Every consultation and disclosure of one person's record, for a subject access request or an inspection."""
    rows = list(selectors.subject_disclosures(subject_id)[:1000])
    _audit_reading(request, "audit.subject_report", {"rows": len(rows)}, subject_id=subject_id)
    return render(request, "audit/subject_report.html", {"subject_id": subject_id, "rows": rows, "export": ExportForm()})


@auditor_only
def user_report(request: HttpRequest) -> HttpResponse:
    start, end = default_period()
    form = UserActivityForm(request.GET or None, initial={"date_from": start, "date_to": end})
    rows = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        rows = list(selectors.user_activity(data["username"], data["date_from"], data["date_to"])[:1000])
        _audit_reading(
            request,
            "audit.user_report",
            {"username": data["username"], "from": str(data["date_from"]), "to": str(data["date_to"]), "rows": len(rows)},
        )
    return render(request, "audit/user_report.html", {"form": form, "rows": rows, "export": ExportForm(), "query": request.GET.urlencode()})


@auditor_only
@require_POST
def export_csv(request: HttpRequest, kind: str) -> HttpResponseBase:
    """CSV of a subject report or a user report. Password again; audited before the first byte is sent."""
    form = ExportForm(request.POST)
    if not form.is_valid() or not request.user.check_password(form.cleaned_data["password"]):
        _audit_reading(request, "audit.export", {"kind": kind}, outcome="denied")
        if form.is_valid():
            form.add_error("password", "That password is not right. Nothing was exported.")
        return render(request, "audit/export_refused.html", {"form": form}, status=400)
    if kind == "subject":
        try:
            subject_id = uuid.UUID(request.POST.get("subject_id", ""))
        except ValueError:
            return render(request, "errors/400.html", status=400)
        qs = selectors.subject_disclosures(subject_id)
        detail = {"kind": kind, "subject_id": str(subject_id), "reason": form.cleaned_data["reason"]}
        name = f"mais-subject-access-{subject_id}.csv"
    elif kind == "user":
        activity = UserActivityForm(request.POST)
        if not activity.is_valid():
            return render(request, "errors/400.html", status=400)
        data = activity.cleaned_data
        subject_id = None
        qs = selectors.user_activity(data["username"], data["date_from"], data["date_to"])
        detail = {
            "kind": kind,
            "username": data["username"],
            "from": str(data["date_from"]),
            "to": str(data["date_to"]),
            "reason": form.cleaned_data["reason"],
        }
        name = f"mais-user-activity-{data['username']}.csv"
    else:
        return render(request, "errors/404.html", status=404)
    _audit_reading(request, "audit.export", detail, subject_id=subject_id)
    response = StreamingHttpResponse(csv_lines(qs.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@auditor_only
def integrity(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        report = verify_and_record()
        _audit_reading(request, "audit.verify", {"ok": report.ok, "rows": report.rows_checked, "first_bad_id": report.first_bad_id})
        messages.success(request, report.message) if report.ok else messages.error(request, report.message)
        return redirect("audit-integrity")
    return render(request, "audit/integrity.html", {"verification": selectors.last_verification()})


@auditor_only
def alerts(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/alerts.html", {"alerts": selectors.recent_alerts(), "form": AlertActionForm()})


@auditor_only
@require_POST
def alert_action(request: HttpRequest, alert_id: int) -> HttpResponse:
    form = AlertActionForm(request.POST)
    alert = Alert.objects.filter(id=alert_id, status=Alert.Status.OPEN).first()
    if alert is None:
        messages.error(request, "That alert is already closed or escalated.")
        return redirect("audit-alerts")
    if not form.is_valid():
        return render(request, "audit/alerts.html", {"alerts": selectors.recent_alerts(), "form": form, "failed": alert_id}, status=400)
    who = web.principal(request)
    before = alert.status
    alert.status = Alert.Status.CLOSED if form.cleaned_data["action"] == "close" else Alert.Status.ESCALATED
    alert.note, alert.handled_by, alert.handled_at = form.cleaned_data["note"], who.username, timezone.now()
    alert.save()
    audit_record(
        event="alert.handled",
        action=UPDATE,
        context=web.context(request),
        about=Alert,
        object_pk=str(alert.id),
        changes={"status": [before, alert.status]},
        detail={"kind": alert.kind, "user": alert.username},
        **who.audit_identity(),
    )
    messages.success(request, f"Alert {alert.status}.")
    return redirect("audit-alerts")
