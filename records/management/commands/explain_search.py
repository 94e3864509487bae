"""The police search as bare SQL: ``manage.py explain_search --people var/bench/users-30000.json --runs 200``.

For ``make bench``'s second cross-check: the same statement the search page
runs (``records.selectors.search_statement``; a full-name search prepared, as the page runs it), built from the same mix of
criteria the Locust police scenario sends (full name and date of birth six
times in ten, surname alone otherwise), run with EXPLAIN ANALYZE on the same
database. Prints JSON: each run's server-side time in ms (planning and execution, as EXPLAIN ANALYZE reports them),
and each run's planning time alone, which the bench reports beside the total: at 30,000 people planning was most of
an unprepared search (issue 6: 1.15 of 1.76 ms at the median), and a prepared full-name search whose plan PostgreSQL
keeps has next to none.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection

from access.disclosure import SUMMARY_ITEMS, search_fields
from access.models import AgencyKind
from mais import prepared
from records.selectors import SearchCriteria, prepared_search, search_page_window, search_statement


class Command(BaseCommand):
    help = "EXPLAIN ANALYZE the police search for sampled people; print each run's time and planning time (ms) as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=Path, required=True, help="The file written by seed_loadtest_users.")
        parser.add_argument("--runs", type=int, default=200)
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *args: Any, people: Path, runs: int, seed: int, **options: Any) -> None:
        sample = json.loads(people.read_text())["people"]
        rng = random.Random(seed)
        times: list[float] = []
        planning: list[float] = []
        # The page's statement fetches the results' values too: those of every summary item here, as many as any
        # role's page asks for.
        fields = search_fields(frozenset(SUMMARY_ITEMS))
        with connection.cursor() as cursor:
            for _ in range(runs):
                person = rng.choice(sample)
                if rng.random() < 0.6:
                    name = f"{person['given_names'].split()[0]} {person['family_name']}"
                    dob = dt.datetime.strptime(person["date_of_birth"], "%d/%m/%Y").date()
                else:
                    name, dob = person["family_name"], None
                criteria = SearchCriteria(name=name, date_of_birth=dob, include_aliases=True)
                # The first page, as the results page asks for it.
                limit, _ = search_page_window(1, settings.SEARCH_PAGE_SIZE)
                statement = search_statement(criteria, limit=limit, agency_kind=AgencyKind.POLICE, fields=fields)
                assert statement is not None
                sql, params = statement
                if prepared_search(criteria):
                    # As the page runs it: prepared, with the plan PostgreSQL keeps (records.selectors.prepared_search).
                    plan = prepared.explain_analyze(cursor, sql, params)
                else:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
                    plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                planned = float(plan[0].get("Planning Time", 0.0))
                times.append(float(plan[0]["Execution Time"]) + planned)
                planning.append(planned)
        self.stdout.write(json.dumps({"runs": runs, "ms": times, "planning_ms": planning}))
