"""A worker fills its per-process caches before it serves (mais.warmup, gunicorn.conf.py's post_worker_init), so a
fresh worker's first record view and first search run the same statements as every later one (issue 6)."""

from __future__ import annotations

import logging
import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection

import records.terms
from access.disclosure import disclose_search, disclose_subject
from access.policy import principal_for
from audit.services import Purpose, RequestContext
from mais import warmup
from records.selectors import SearchCriteria

PURPOSE = Purpose("custody_detention")


@pytest.fixture
def cold(monkeypatch):
    """This process as a new worker has it: no content types or vocabularies loaded yet (asked for after the fixtures
    that make people, whose making loads them)."""
    ContentType.objects.clear_cache()
    monkeypatch.setattr(records.terms, "_terms", None)
    yield
    ContentType.objects.clear_cache()


def test_a_cold_process_pays_for_its_caches_on_its_first_record_view(priya_police, subject, cold, django_assert_num_queries):
    """What the warm-up is for: without it, Priya's first view in a new worker runs more than the usual two."""
    who = principal_for(priya_police)
    with django_assert_num_queries(4):  # standing, the Subject content type, the vocabularies, read and append
        disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=RequestContext())


def test_after_the_warm_up_the_first_record_view_runs_its_usual_two_statements(priya_police, subject, cold, django_assert_num_queries):
    with django_assert_num_queries(2):  # every model's content type in one statement, the vocabularies in one
        assert warmup.warm_process_caches()
    who = principal_for(priya_police)
    with django_assert_num_queries(2):  # standing; the record read in the statement that appends its audit row
        view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=RequestContext())
    assert view.disclosed


def test_after_the_warm_up_the_first_search_runs_its_usual_three_statements(priya_police, subject, cold, django_assert_num_queries):
    assert warmup.warm_process_caches()
    who = principal_for(priya_police)
    with django_assert_num_queries(3):  # agreements, the search, the audit append
        results = disclose_search(principal=who, criteria=SearchCriteria(name="Quenby"), purpose=PURPOSE, context=RequestContext())
    assert [row.subject_id for row in results.rows] == [subject.id]


def test_a_database_that_does_not_answer_at_start_leaves_the_worker_starting(cold, monkeypatch, caplog, db):
    """The worker starts and says why its caches are cold; its first requests load them as before."""

    def down(*models, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ContentType.objects, "get_for_models", down)
    with caplog.at_level(logging.WARNING, logger="mais"):
        assert warmup.warm_process_caches() is False
    assert "the database did not answer (OperationalError)" in caplog.text
    assert records.terms._terms is None


def test_the_warm_up_leaves_no_idle_connection_behind(db):
    """gunicorn runs post_worker_init on the worker's main thread and requests on other threads, each with a connection
    of its own: the main thread's connection is closed once the caches are warm, not left idle for the worker's life."""
    seen: dict[str, object] = {}

    def worker_main_thread() -> None:
        seen["warm"] = warmup.warm_process_caches()
        seen["connection"] = connection.connection  # this thread's; None once closed

    thread = threading.Thread(target=worker_main_thread)
    thread.start()
    thread.join()
    assert seen == {"warm": True, "connection": None}
