"""Issue 6's budget of six statements for a record view and a search, in the worst case the bench has met.

The steady state is pinned elsewhere (test_policy.py, test_search.py). Rarely a request does more: the alert rules
raise alerts (one insert for all that are due, at most one alert per user and kind an hour; audit/alerts.py,
``raise_due``), and after a matrix change each worker reads a role set's grants again (access/policy.py). Until
2026-12 each worker also read the protocol version in force again every 30 seconds; it now comes with the user row
(access/backends.py). The bench's most-seen counts (a record view with 5 statements, a search with 6, in a few
requests a run) were such requests. These tests put the extras on one request, so a change that adds a statement to
any of them shows here, not as a rare row in a load-test result.

Priya's agency is made a daytime service and the clock is outside office hours, so her views and searches set off the
out-of-hours alert as well as the rate rule's: the most alerts one event can raise (audit/alerts.py, ``due``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.disclosure import disclose_search, disclose_subject
from access.policy import clear_policy_cache, principal_for
from audit.models import Alert
from audit.services import Purpose, RequestContext
from mais.warmup import warm_process_caches
from records.selectors import SearchCriteria
from tests.conftest import give_purpose
from tests.factories import make_subject

PURPOSE = Purpose("custody_detention", "Custody 42")
CTX = RequestContext("budget", "127.0.0.1")
IN_OFFICE_HOURS = (dt.time.min, dt.time.max)
OUT_OF_HOURS = (dt.time.max, dt.time.max)


@pytest.fixture
def priya_by_day(priya_police, settings):
    """Priya, in an agency that works office hours only, with the per-process caches warm as a started worker's."""
    agency = priya_police.agency
    agency.works_out_of_hours = False
    agency.save()
    settings.OFFICE_HOURS = IN_OFFICE_HOURS
    warm_process_caches()
    return priya_police


def _alert_kinds(person) -> set[str]:
    return set(Alert.objects.filter(username=person.username).values_list("kind", flat=True))


def test_a_record_view_raising_both_its_alerts_runs_three_statements_in_the_choke_point(
    priya_by_day, subject, settings, django_assert_num_queries
):
    """The fields, the audit append with the rules' count, and one insert for both alerts: 3 of the budget's 6."""
    settings.ALERT_VIEWS_PER_HOUR = 1
    who = principal_for(priya_by_day)
    disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)  # in hours, within the rate
    assert _alert_kinds(priya_by_day) == set()
    settings.OFFICE_HOURS = OUT_OF_HOURS
    with django_assert_num_queries(3):
        disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert _alert_kinds(priya_by_day) == {Alert.Kind.VIEW_RATE, Alert.Kind.OUT_OF_HOURS}


@pytest.mark.parametrize("count", [1, 50])
def test_a_search_raising_both_its_alerts_runs_four_statements_in_the_choke_point(count, priya_by_day, settings, django_assert_num_queries):
    """The agreements, the search, the audit append with the rules' count, and one insert for both alerts: 4 of 6,
    for a page of one person as for fifty."""
    settings.ALERT_PEOPLE_PER_HOUR = 1
    settings.SEARCH_PAGE_SIZE = 50
    for _ in range(count):
        make_subject(family_name="Budget", given_names="Casey")
    who = principal_for(priya_by_day)
    disclose_search(principal=who, criteria=SearchCriteria(name="Somebody Else"), purpose=PURPOSE, context=CTX)
    assert _alert_kinds(priya_by_day) == set()
    settings.OFFICE_HOURS = OUT_OF_HOURS
    with django_assert_num_queries(4):
        results = disclose_search(principal=who, criteria=SearchCriteria(name="Budget"), purpose=PURPOSE, context=CTX)
    assert len(results.rows) == count
    assert _alert_kinds(priya_by_day) == {Alert.Kind.MANY_PEOPLE, Alert.Kind.OUT_OF_HOURS}


def _whole_request(client, method: str, path: str, data: dict | None = None):
    """The response and its statements, leaving out the session's: the test settings keep sessions in the database,
    production in Redis (mais/settings.py, SESSION_ENGINE)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.post(path, data) if method == "POST" else client.get(path)
    return response, [q["sql"] for q in captured.captured_queries if '"django_session"' not in q["sql"]]


def test_the_record_page_with_every_rare_extra_at_once_runs_five_statements(priya_by_day, subject, client_for, settings):
    """The whole request: Priya's user row (with the protocol version in force), her roles' grants read again (the
    first request after a matrix change, in each worker), and the choke point's three."""
    settings.ALERT_VIEWS_PER_HOUR = 1
    client = client_for(priya_by_day)
    give_purpose(client, subject.id)
    assert client.get(f"/records/{subject.id}/").status_code == 200  # in hours, within the rate
    settings.OFFICE_HOURS = OUT_OF_HOURS
    clear_policy_cache()  # as when an administrator has changed the matrix
    response, statements = _whole_request(client, "GET", f"/records/{subject.id}/")
    assert response.status_code == 200
    assert len(statements) == 5, statements
    assert sum("access_dataitemgroupobjectpermission" in sql for sql in statements) == 1
    assert not any("governance_protocolversion" in sql for sql in statements)  # in the user row's (prepared) statement
    assert sum(sql.startswith("INSERT INTO audit_alert") for sql in statements) == 1


@pytest.mark.parametrize("count", [1, 50])
def test_the_search_page_with_every_rare_extra_at_once_runs_six_statements(count, priya_by_day, client_for, settings):
    """The whole request: Priya's user row (with the protocol version), her grants read again and the choke point's
    four: the budget's six exactly, for a page of one person as for fifty."""
    settings.ALERT_PEOPLE_PER_HOUR = 1
    settings.SEARCH_PAGE_SIZE = 50
    for _ in range(count):
        make_subject(family_name="Budget", given_names="Casey")
    client = client_for(priya_by_day)
    assert client.post("/search/", {"name": "Somebody Else", "reason": "custody_detention"}).status_code == 200
    settings.OFFICE_HOURS = OUT_OF_HOURS
    clear_policy_cache()
    response, statements = _whole_request(client, "POST", "/search/", {"name": "Budget", "reason": "custody_detention"})
    assert response.status_code == 200 and response.content.decode().count('data-testid="result-link"') == count
    assert len(statements) == 6, statements
    assert sum("access_dataitemgroupobjectpermission" in sql for sql in statements) == 1
    assert not any("governance_protocolversion" in sql for sql in statements)
    assert sum(sql.startswith("INSERT INTO audit_alert") for sql in statements) == 1
    assert _alert_kinds(priya_by_day) == {Alert.Kind.MANY_PEOPLE, Alert.Kind.OUT_OF_HOURS}
