"""The auditor workspace: who saw what and why; reading the trail is audited; role walls; exports; alerts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone

from access.disclosure import disclose_search, disclose_subject
from access.policy import principal_for
from audit.export import safe_cell
from audit.models import Alert, AuditEvent
from audit.services import Purpose, RequestContext, audit_record
from records.models import Subject
from records.selectors import SearchCriteria
from tests.conftest import give_purpose
from tests.factories import PASSWORD

CTX = RequestContext("ws", "127.0.0.1")


def _views(person, subject, n=1, purpose="custody_detention"):
    who = principal_for(person)
    for _ in range(n):
        disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose(purpose, "Custody 42"), context=CTX)


def test_role_walls(priya_police, ada_admin, aud_auditor, client_for, subject):
    for person in (priya_police, ada_admin):
        client = client_for(person)
        for url in ("/audit/", "/audit/events/", f"/audit/subjects/{subject.id}/", "/audit/users/", "/audit/integrity/", "/audit/alerts/"):
            assert client.get(url).status_code == 403, (person.username, url)
    auditor = client_for(aud_auditor)
    give_purpose(auditor, subject.id)
    assert auditor.get(f"/records/{subject.id}/").status_code == 404  # auditors read no record content
    assert auditor.get("/search/").status_code == 403
    assert auditor.get(f"/records/{subject.id}/edit/risk/").status_code == 404
    assert auditor.get("/admin/matrix/").status_code == 403


def test_audit_search_filters_newest_first_and_is_itself_audited(priya_police, nia_nurse, aud_auditor, client_for, subject):
    _views(priya_police, subject, 2)
    _views(nia_nurse, subject, 1)
    client = client_for(aud_auditor)
    html = client.get("/audit/events/", {"username": "priya", "event": "record.view"}).content.decode()
    assert html.count('<td class="govuk-table__cell">record.view') == 2
    assert "custody_nurse" not in html
    reading = AuditEvent.objects.filter(event="audit.search", actor=aud_auditor).latest("id")
    assert reading.additional_data["filters"] == {"username": "priya", "event": "record.view"}
    page = client.get("/audit/events/", {"subject_id": str(subject.id)}).content.decode()
    assert page.index("custody_nurse") < page.index("police_officer")  # newest first


def test_audit_search_rejects_bad_dates_clearly(aud_auditor, client_for):
    html = client_for(aud_auditor).get("/audit/events/", {"date_from": "31/12/2026", "date_to": "01/01/2026"}).content.decode()
    assert "must be the same as or after" in html


def test_subject_access_report_lists_views_edits_and_searches_that_listed_them(priya_police, aud_auditor, client_for, subject):
    _views(priya_police, subject, 1)
    disclose_search(
        principal=principal_for(priya_police),
        criteria=SearchCriteria(name=subject.family_name),
        purpose=Purpose("custody_detention"),
        context=CTX,
    )
    client = client_for(aud_auditor)
    response = client.post("/audit/subjects/locate/", {"nhs_number": subject.nhs_number, "request_reference": "SAR-2026-041"})
    assert response.status_code == 302 and response["Location"] == f"/audit/subjects/{subject.id}/"
    html = client.get(response["Location"]).content.decode()
    assert "record.view" in html and ">search" in html
    assert subject.family_name not in html  # item codes, never values
    assert AuditEvent.objects.filter(event="audit.locate", actor=aud_auditor, subject_id=subject.id, purpose_text="SAR-2026-041").exists()
    assert AuditEvent.objects.filter(event="audit.subject_report", actor=aud_auditor, subject_id=subject.id).exists()


def test_locate_unknown_nhs_number_says_so(aud_auditor, client_for, db):
    html = (
        client_for(aud_auditor)
        .post("/audit/subjects/locate/", {"nhs_number": "943 476 5919", "request_reference": "SAR-1"})
        .content.decode()
    )
    assert "No record on MAIS has this NHS number" in html


def test_export_needs_the_password_and_is_audited_before_the_first_byte(priya_police, aud_auditor, client_for, subject):
    _views(priya_police, subject, 3)
    client = client_for(aud_auditor)
    refused = client.post("/audit/export/subject/", {"subject_id": str(subject.id), "password": "wrong", "reason": "SAR"})
    assert refused.status_code == 400 and b"Nothing was exported" in refused.content
    assert AuditEvent.objects.filter(event="audit.export", outcome="denied", actor=aud_auditor).exists()
    response = client.post("/audit/export/subject/", {"subject_id": str(subject.id), "password": PASSWORD, "reason": "SAR-2026-041"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    export_event = AuditEvent.objects.filter(event="audit.export", outcome="ok", actor=aud_auditor).latest("id")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sum(1 for r in rows if r["event"] == "record.view") == 3
    # The export's own audit row was committed before streaming began, so it is in the file it describes.
    assert max(int(r["id"]) for r in rows) == export_event.id
    assert export_event.additional_data["reason"] == "SAR-2026-041"


def test_formula_injection_is_neutralised_in_exports(aud_auditor, client_for, db):
    audit_record(
        event="search", context=CTX, about=Subject, actor_username='=HYPERLINK("http://evil")', detail={"criteria": {"name": "@SUM(A1)"}}
    )
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("-2") == "'-2" and safe_cell("Smith") == "Smith"
    client = client_for(aud_auditor)
    start = (timezone.localdate() - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    end = timezone.localdate().strftime("%d/%m/%Y")
    response = client.post(
        "/audit/export/user/",
        {"username": '=HYPERLINK("http://evil")', "date_from": start, "date_to": end, "password": PASSWORD, "reason": "test"},
    )
    body = b"".join(response.streaming_content).decode()
    row = list(csv.DictReader(io.StringIO(body)))[0]
    assert row["user"].startswith("'=")


def test_user_activity_report(priya_police, aud_auditor, client_for, subject):
    _views(priya_police, subject, 2)
    client = client_for(aud_auditor)
    today = timezone.localdate().strftime("%d/%m/%Y")
    html = client.get("/audit/users/", {"username": "priya", "date_from": today, "date_to": today}).content.decode()
    assert html.count("record.view") >= 2
    assert AuditEvent.objects.filter(event="audit.user_report", actor=aud_auditor).exists()


def test_integrity_page_runs_verification_and_shows_the_result(aud_auditor, client_for, db):
    client = client_for(aud_auditor)
    assert b"Not verified yet" in client.get("/audit/integrity/").content
    client.post("/audit/integrity/")
    html = client.get("/audit/").content.decode()
    assert "intact" in html
    assert AuditEvent.objects.filter(event="audit.verify", actor=aud_auditor).exists()


# Alert rules: each fires on its pattern and not on normal use.


def test_view_rate_alert(priya_police, subject, settings):
    settings.ALERT_VIEWS_PER_HOUR = 5
    _views(priya_police, subject, 5)
    assert not Alert.objects.exists()
    _views(priya_police, subject, 1)
    assert Alert.objects.get().kind == Alert.Kind.VIEW_RATE
    _views(priya_police, subject, 3)
    assert Alert.objects.count() == 1  # one alert per user and kind per hour


def test_denied_attempts_alert(aud_auditor, subject, settings):
    from access.disclosure import NotFound

    settings.ALERT_DENIALS = 3
    for n in range(3):
        assert Alert.objects.filter(kind=Alert.Kind.DENIED).exists() == (n >= 3)
        with pytest.raises(NotFound):
            _views(aud_auditor, subject, 1)
    assert Alert.objects.get(kind=Alert.Kind.DENIED).username == "aud"


def test_many_people_alert(priya_police, subject, settings):
    settings.ALERT_PEOPLE_PER_HOUR = 4
    who = principal_for(priya_police)
    for name in ["Ames", "Ames", "Ames", "Bell", "Cole", "Dunn"]:
        disclose_search(principal=who, criteria=SearchCriteria(name=name), purpose=Purpose("custody_detention"), context=CTX)
    assert not Alert.objects.exists()  # 4 different people is normal here
    disclose_search(principal=who, criteria=SearchCriteria(name="Eyre"), purpose=Purpose("custody_detention"), context=CTX)
    assert Alert.objects.get().kind == Alert.Kind.MANY_PEOPLE


@pytest.mark.parametrize(
    ("office_hours", "daytime_agency", "expected"),
    [
        ((dt.time.max, dt.time.max), True, True),  # now is outside office hours, daytime agency: alert
        ((dt.time.max, dt.time.max), False, False),  # outside office hours, 24-hour agency (police): normal
        ((dt.time.min, dt.time.max), True, False),  # within office hours: normal
    ],
)
def test_out_of_hours_alert(office_hours, daytime_agency, expected, priya_police, subject, settings):
    settings.OFFICE_HOURS = office_hours
    agency = priya_police.agency
    agency.works_out_of_hours = not daytime_agency
    agency.save()
    _views(principal_person := priya_police, subject, 1)
    assert Alert.objects.filter(kind=Alert.Kind.OUT_OF_HOURS, username=principal_person.username).exists() == expected


def test_out_of_hours_alert_once_an_hour_and_then_no_statement_for_it(priya_police, subject, settings):
    """Priya's agency is a daytime service tonight: her first view raises the alert; her next views in the hour
    neither raise another nor spend a statement trying (the count statement says it was raised, issue 6)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agency = priya_police.agency
    agency.works_out_of_hours = False
    agency.save()
    settings.OFFICE_HOURS = (dt.time.min, dt.time.max)
    _views(priya_police, subject, 1)  # in office hours: no alert, and the per-process caches are warm
    settings.OFFICE_HOURS = (dt.time.max, dt.time.max)
    with CaptureQueriesContext(connection) as first:
        _views(priya_police, subject, 1)
    with CaptureQueriesContext(connection) as later:
        _views(priya_police, subject, 1)
    assert any("INSERT INTO audit_alert" in q["sql"] for q in first.captured_queries)
    assert not any("audit_alert (" in q["sql"] for q in later.captured_queries)
    assert len(later) == len(first) - 1
    assert Alert.objects.filter(kind=Alert.Kind.OUT_OF_HOURS, username=priya_police.username).count() == 1


def test_auditor_closes_and_escalates_alerts_with_audited_notes(aud_auditor, client_for, priya_police, subject, settings):
    settings.ALERT_VIEWS_PER_HOUR = 1
    _views(priya_police, subject, 2)
    alert = Alert.objects.get()
    client = client_for(aud_auditor)
    assert b"Many record views" in client.get("/audit/alerts/").content
    assert client.post(f"/audit/alerts/{alert.id}/", {"action": "close", "note": ""}).status_code == 400
    client.post(f"/audit/alerts/{alert.id}/", {"action": "escalate", "note": "Asked the custody sergeant; passing to the DPO."})
    alert.refresh_from_db()
    assert alert.status == "escalated" and alert.handled_by == "aud"
    event = AuditEvent.objects.get(event="alert.handled")
    assert event.changes == {"status": ["open", "escalated"]}


def test_audit_rows_escape_what_users_typed_and_tag_what_matters(aud_auditor, client_for):
    """The event rows are drawn in Python (issue 6): a reason typed with markup shows as text, a denied event and a
    search's result count are shown, and an empty filter says so."""
    from audit.services import Purpose, RequestContext, audit_record
    from records.models import Subject

    audit_record(
        event="search",
        context=RequestContext("rows"),
        about=Subject,
        actor_username="pc.rows",
        roles="police_officer",
        agency="Force & Co",
        purpose=Purpose("custody_detention", "Ref <script>alert(1)</script>"),
        detail={"result_count": 12},
    )
    audit_record(event="record.view", context=RequestContext("rows"), about=Subject, outcome="denied", actor_username="pc.rows")
    client = client_for(aud_auditor)
    page = client.get("/audit/events/", {"username": "pc.rows"}).content.decode()
    assert "Ref &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "Force &amp; Co" in page and "12 results" in page
    assert '<strong class="govuk-tag govuk-tag--red">denied</strong>' in page
    assert "No events match." in client.get("/audit/events/", {"username": "nobody.at.all"}).content.decode()


@pytest.mark.parametrize("text", [str(uuid.uuid4()), str(uuid.UUID(int=0)), "short", "exactly-13-ch", "fourteen-chars"])
def test_a_rows_record_link_shows_the_id_as_truncatechars_13_does(text):
    """The row draws the id's first twelve characters and an ellipsis itself, without Django's Truncator."""
    from django.template.defaultfilters import truncatechars

    from audit.templatetags.audit_rows import _short_id

    assert _short_id(text) == truncatechars(text, 13)
