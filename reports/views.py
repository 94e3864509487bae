"""Reports with charts: counts only, small counts suppressed, each table beneath its chart, filterable, as CSV.

Thin: parse the filters, one selector or choke-point call per table, render. Who may see which report is
decided here by role (network reports: administrators and auditors; the caseload report: the owning team),
and again by the choke point for every report that counts records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from access import web
from access.disclosure import (
    NotFound,
    disclose_caseload_profile,
    disclose_overdue_reviews,
    disclose_release_to_contact,
)
from access.policy import Principal
from audit.services import RequestContext
from mais.routers import replica_reads
from reports.selectors import (
    SOURCE_COLUMNS,
    Period,
    activity_by_agency_month,
    agency_names,
    referral_contacts,
    referral_figures,
)
from reports.services import report_view_record
from reports.tables import Table


def _network(who: Principal) -> bool:
    return who.has_role("administrator") or who.has_role("auditor")


def _team(who: Principal) -> bool:
    return bool(who.team_group_ids and who.grants.writable_on_caseload)


@dataclass(frozen=True)
class Filters:
    period: Period
    agency: str

    def as_detail(self) -> dict[str, str]:
        return {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), "agency": self.agency}


def _activity(who: Principal, f: Filters, ctx: RequestContext) -> list[Table]:
    with replica_reads():
        rows = activity_by_agency_month(f.period, f.agency)
    report_view_record(actor=who, report="activity", params=f.as_detail(), context=ctx)
    return [
        Table.of(
            "Searches and record views per agency per month",
            ("Searches", "Record views"),
            [(f"{r.month:%b %Y} · {r.agency}", (r.searches, r.views)) for r in rows],
        ),
        Table.of(
            "Active users per agency per month",
            ("Active users",),
            [(f"{r.month:%b %Y} · {r.agency}", (r.active_users,)) for r in rows],
            note="A user is active in a month when they signed in or used the service that month.",
        ),
    ]


def _referrals(who: Principal, f: Filters, ctx: RequestContext) -> list[Table]:
    with replica_reads():
        figures = referral_figures(f.period, f.agency)
    report_view_record(actor=who, report="referrals", params=f.as_detail(), context=ctx)
    return [
        Table.of("Referrals by source agency", SOURCE_COLUMNS, figures.by_source),
        Table.of("Referrals by outcome", ("Referrals",), [(label, (n,)) for label, n in figures.by_outcome]),
        Table.of(
            "Time from referral to first contact (accepted referrals)", ("Referrals",), [(b, (n,)) for b, n in figures.to_first_contact]
        ),
    ]


def _release(who: Principal, f: Filters, ctx: RequestContext) -> list[Table]:
    counts = disclose_release_to_contact(principal=who, contacts=referral_contacts(f.period, f.agency), detail=f.as_detail(), context=ctx)
    return [
        Table.of(
            "Time from release to first contact",
            ("Referrals",),
            [(b, (n,)) for b, n in counts],
            note="Referrals made in the period that led to a contact, by days between the person's last release and that contact.",
        )
    ]


def _overdue(who: Principal, f: Filters, ctx: RequestContext) -> list[Table]:
    rows = disclose_overdue_reviews(principal=who, context=ctx)
    return [
        Table.of(
            "Items overdue for review, per caseload team",
            ("Records on caseload", "Risk items overdue", "Mental health items overdue"),
            [(team, (records, risk, mh)) for team, records, risk, mh in rows],
            note="As on the caseload page: never reviewed, or last changed or confirmed longer ago than the section's limit. Today's position.",
        )
    ]


def _caseload(who: Principal, f: Filters, ctx: RequestContext) -> list[Table]:
    profile = disclose_caseload_profile(principal=who, context=ctx)
    return [Table.of(title, ("People",), [(label, (n,)) for label, n in rows]) for title, rows in profile.tables]


@dataclass(frozen=True)
class Report:
    title: str
    description: str
    allowed: Callable[[Principal], bool]
    build: Callable[[Principal, Filters, RequestContext], list[Table]]
    filtered: bool = True


REPORTS = {
    "activity": Report("Searches, record views and active users", "Per agency per month, from the audit trail.", _network, _activity),
    "referrals": Report("Referrals by source and outcome", "Acceptance, first contact, disengagement and outcomes.", _network, _referrals),
    "release-contact": Report(
        "Time from release to first contact", "How soon referred people were seen after release.", _network, _release
    ),
    "overdue": Report(
        "Items overdue for review", "Risk and mental health items past their review date, per team.", _network, _overdue, filtered=False
    ),
    "caseload": Report(
        "Your team's caseload",
        "By diagnosis group, MAPPA level, risk levels and upcoming release dates.",
        _team,
        _caseload,
        filtered=False,
    ),
}


def index(request: HttpRequest) -> HttpResponse:
    who = web.principal(request)
    available = [(slug, r) for slug, r in REPORTS.items() if r.allowed(who)]
    if not available:
        return render(request, "errors/403.html", {"message": "Your role has no reports."}, status=403)
    return render(request, "reports/index.html", {"reports": available})


def _month(value: str | None, default: dt.date) -> tuple[dt.date, str]:
    if not value:
        return default, ""
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        return default, f"“{value}” is not a month. Use the form YYYY-MM, for example 2026-04."
    return parsed, ""


def _filters(request: HttpRequest) -> tuple[Filters, list[str]]:
    this_month = timezone.localdate().replace(day=1)
    six_back = this_month
    for _ in range(5):
        six_back = (six_back - dt.timedelta(days=1)).replace(day=1)
    start, e1 = _month(request.GET.get("from"), six_back)
    end, e2 = _month(request.GET.get("to"), this_month)
    errors = [e for e in (e1, e2) if e]
    if start > end:
        errors.append("The start month is after the end month; showing the last six months instead.")
        start, end = six_back, this_month
    agency = request.GET.get("agency", "")
    if agency and agency not in agency_names():
        errors.append("No such agency; showing every agency.")
        agency = ""
    return Filters(Period(start, end), agency), errors


def report(request: HttpRequest, report: str) -> HttpResponse:
    who = web.principal(request)
    spec = REPORTS.get(report)
    if spec is None or not spec.allowed(who):
        return render(request, "errors/404.html", status=404)
    filters, errors = _filters(request)
    try:
        tables = spec.build(who, filters, web.context(request))
    except NotFound:
        return render(request, "errors/404.html", status=404)
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for table in tables:
            writer.writerows(table.csv_rows())
            writer.writerow([])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="mais-report-{report}.csv"'
        return response
    return render(
        request,
        "reports/report.html",
        {
            "slug": report,
            "spec": spec,
            "tables": tables,
            "filters": filters,
            "errors": errors,
            "agencies": agency_names() if spec.filtered else [],
            "query": request.GET.urlencode(),
        },
    )
