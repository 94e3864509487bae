"""CSV downloads: readable items only as columns, for every role that may download; formula-safe; audited first."""

from __future__ import annotations

import csv
import io

import pytest

from access.disclosure import CASELOAD_ITEMS, SUMMARY_ITEMS
from audit.models import AuditEvent
from records.dataset import ITEMS_BY_CODE
from records.views import CSV_EXPORT_ROLES
from tests.access.test_disclosure import ROLE_CODES, readable_by
from tests.factories import make_subject


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


SEARCH = {"name": "Sentinel", "reason": "court_liaison", "reason_detail": "Weekly list", "format": "csv"}


@pytest.mark.parametrize("role", ROLE_CODES)
def test_search_csv_has_exactly_the_readable_summary_items(role, person_for_role, cmht_team, client_for):
    person = person_for_role(role)
    subject = make_subject(team=cmht_team, family_name="Sentinel", given_names="Sam", diagnoses=["F20"])
    response = client_for(person).post("/search/", SEARCH)
    readable = readable_by(role)
    if role not in CSV_EXPORT_ROLES or "identity.family_name" not in readable:
        assert response.status_code in (403, 200)
        assert not AuditEvent.objects.filter(event="export.search", outcome="ok").exists()
        return
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = _rows(response)
    expected = [ITEMS_BY_CODE[c].label for c in SUMMARY_ITEMS if c in readable]
    assert list(rows[0]) == ["record_id", "match_reason", *expected]
    assert rows[0]["record_id"] == str(subject.id)
    event = AuditEvent.objects.get(event="export.search")
    assert set(event.items) == set(SUMMARY_ITEMS) & readable and event.purpose_text == "Weekly list"


def test_export_is_audited_before_the_first_byte(lena_liaison, cmht_team, client_for):
    make_subject(team=cmht_team, family_name="Sentinel")
    response = client_for(lena_liaison).post("/search/", SEARCH)
    assert response.status_code == 200
    # Not one byte of the body has been read yet, and the event is already committed.
    assert AuditEvent.objects.filter(event="export.search", actor=lena_liaison).exists()


def test_downloading_a_later_page_exports_that_page_and_audits_it_as_such(lena_liaison, cmht_team, client_for, settings):
    """ "Download these results" on page 2 gives the people shown on page 2, and the export's audit row names them."""
    settings.SEARCH_PAGE_SIZE = 2
    for _ in range(5):
        make_subject(team=cmht_team, family_name="Sentinel")
    client = client_for(lena_liaison)
    shown = client.post("/search/", {**{k: v for k, v in SEARCH.items() if k != "format"}, "page": "2"}).content.decode()
    assert 'name="page" value="2"' in shown.split('data-testid="export-csv"')[0].rsplit("<form", 1)[1]
    rows = _rows(client.post("/search/", {**SEARCH, "page": "2"}))
    page_two = AuditEvent.objects.get(event="search").additional_data["results"]
    event = AuditEvent.objects.get(event="export.search")
    assert [r["record_id"] for r in rows] == page_two == event.additional_data["results"]
    assert event.additional_data["page"] == 2 and len(rows) == 2


def test_cells_are_safe_against_formula_injection(lena_liaison, cmht_team, client_for):
    make_subject(team=cmht_team, family_name="Sentinel", given_names='=HYPERLINK("http://evil")')
    rows = _rows(client_for(lena_liaison).post("/search/", SEARCH))
    assert rows[0]["Given names"].startswith("'=")


def test_police_cannot_download_lists(priya_police, cmht_team, client_for):
    make_subject(team=cmht_team, family_name="Sentinel")
    assert client_for(priya_police).post("/search/", {**SEARCH, "reason": "custody_detention"}).status_code == 403


def test_caseload_csv_for_the_owning_team(morgan_mh, cmht_team, other_team, client_for):
    ours = make_subject(team=cmht_team, family_name="Caseworth", given_names="=1+2")
    make_subject(team=other_team, family_name="Notours")
    client = client_for(morgan_mh)
    assert client.get("/records/caseload/export/").status_code == 302  # a download is a POST
    response = client.post("/records/caseload/export/")
    rows = _rows(response)
    assert [r["record_id"] for r in rows] == [str(ours.id)]
    readable = readable_by("mh_practitioner")
    expected = [ITEMS_BY_CODE[c].label for c in CASELOAD_ITEMS if c in readable]
    assert list(rows[0]) == ["record_id", "consent_withdrawn", "items_due_for_review", *expected]
    assert rows[0]["Given names"] == "'=1+2"
    event = AuditEvent.objects.get(event="export.caseload")
    assert event.additional_data["surface"] == "csv" and event.additional_data["results"] == [str(ours.id)]


def test_caseload_csv_is_refused_to_others(priya_police, client_for):
    assert client_for(priya_police).post("/records/caseload/export/").status_code == 403
    assert AuditEvent.objects.get(event="export.caseload").outcome == "denied"
