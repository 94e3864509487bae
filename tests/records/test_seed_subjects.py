"""seed_subjects: bulk synthetic people that search, the record page and the caseload treat like any others."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from access.disclosure import disclose_search, disclose_subject
from access.policy import principal_for
from audit.services import Purpose, RequestContext
from records.dataset import ITEMS
from records.management.commands.seed_subjects import SEARCH_INDEXES
from records.models import Subject, SubjectName
from records.selectors import SearchCriteria

CTX = RequestContext("seed-test", "127.0.0.1")


def test_seeding_fills_every_item_and_keeps_identifiers_unique(priya_police):
    out = io.StringIO()
    call_command("seed_subjects", count=300, batch=120, stdout=out)
    call_command("seed_subjects", count=200, batch=200, stdout=out)  # a second run continues the numbering
    assert "Seeded 200 subjects" in out.getvalue()
    assert Subject.objects.count() == 500
    assert SubjectName.objects.filter(kind="current").count() == 500
    assert SubjectName.objects.filter(kind="alias").exists()
    # Some items are legitimately empty for a given person (most people have no communication needs or
    # weapons history), so the rule is per item across the population: each is filled for a plausible share.
    people = list(Subject.objects.all())
    for item in ITEMS:
        filled = sum(1 for s in people if any(getattr(s, f) not in (None, "", []) for f in item.model_fields))
        assert filled >= len(people) // 5, f"{item.code} filled for only {filled} of {len(people)}"
    subject = people[len(people) // 2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'subjectname_%' OR indexname LIKE 'subject_%'")
        assert {r[0] for r in cursor.fetchall()} >= set(SEARCH_INDEXES)  # dropped for the load, built again
    # Seeded people behave like any others through the choke point.
    who = principal_for(priya_police)
    hit = disclose_search(
        principal=who, criteria=SearchCriteria(name=subject.family_name), purpose=Purpose("custody_detention"), context=CTX
    )
    assert subject.id in {r.subject_id for r in hit.rows} or len(hit.rows) == hit.limit
    view = disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose("custody_detention"), context=CTX)
    assert view.heading.startswith(subject.family_name.upper())


def test_count_must_be_positive(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_subjects", count=0)


def test_a_pool_of_processes_makes_the_same_people_as_one(db):
    """The same seed gives the same people (not ids) whatever the number of processes: each batch seeds its own generator."""
    call_command("seed_subjects", count=250, batch=100, processes=2, seed=7, stdout=io.StringIO())
    pooled = list(Subject.objects.order_by("nhs_number", "pnc_id").values_list("pnc_id", "family_name", "given_names", "date_of_birth"))
    Subject.objects.all().delete()
    call_command("seed_subjects", count=250, batch=100, processes=1, seed=7, stdout=io.StringIO())
    alone = list(Subject.objects.order_by("nhs_number", "pnc_id").values_list("pnc_id", "family_name", "given_names", "date_of_birth"))
    assert len(pooled) == 250
    assert pooled == alone
    assert len({name for _, name, _, _ in pooled}) > 50  # batches are not copies of each other
    assert SubjectName.objects.filter(kind="current").count() == 250


def test_batch_and_processes_must_be_positive(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--batch and --processes"):
        call_command("seed_subjects", count=10, processes=0)
