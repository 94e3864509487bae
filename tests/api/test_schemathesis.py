"""Schemathesis against the live API (in-process WSGI, test database): no server errors and no response that breaks
the OpenAPI description, for generated searches, reads, updates, FHIR exports and change lists.

Each operation's Hypothesis strategy is driven directly (schemathesis' pytest plugin does not load under pytest 9).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.cache import caches
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.factories import make_subject


@pytest.fixture
def api_schema(db):
    # The raw WSGI handler closes the database connection after each request; the test's transaction needs it open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_every_operation_conforms_to_the_description(api_schema, pat_probation, api_for, cmht_team):
    make_subject(team=cmht_team, family_name="Schemer")
    caller = api_for(pat_probation)
    headers = {"Authorization": f"Bearer {caller.token}", "X-On-Behalf-Of": "Officer 7", "X-Purpose": "offender_management"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/v1/search",
        "GET /api/v1/subjects/{subject_id}",
        "PATCH /api/v1/subjects/{subject_id}",
        "GET /api/v1/subjects/{subject_id}/fhir",
        "GET /api/v1/changes",
    }
    for operation in operations:
        caches["shared"].clear()  # generated calls must not be rate limited into a single status code

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def check(case):
            # positive_data_acceptance is left out: business rules the description cannot express (a valid NHS
            # number, at least one search criterion) rightly turn some schema-valid requests into 400s. Every
            # other check runs: no server error, documented status codes, content types and response schemas.
            case.call_and_validate(headers=headers, excluded_checks=[checks.positive_data_acceptance])

        check()
