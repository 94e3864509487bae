"""manage.py explain_search: the bench's bare-SQL side of the HTTP/SQL ratio, with planning stated apart."""

from __future__ import annotations

import io
import json
from pathlib import Path

from django.core.management import call_command

from loadtests.bench import bare_sql_line
from tests.factories import make_subject


def test_each_run_reports_its_whole_time_and_its_planning_time(db, tmp_path: Path):
    people = [make_subject(given_names="Abbie", family_name="Smyth"), make_subject(given_names="Jon", family_name="Quill")]
    users = tmp_path / "users.json"
    users.write_text(
        json.dumps(
            {
                "people": [
                    {"given_names": p.given_names, "family_name": p.family_name, "date_of_birth": f"{p.date_of_birth:%d/%m/%Y}"}
                    for p in people
                ]
            }
        )
    )
    out = io.StringIO()
    call_command("explain_search", f"--people={users}", "--runs=6", stdout=out)
    explained = json.loads(out.getvalue())
    assert explained["runs"] == 6
    assert len(explained["ms"]) == len(explained["planning_ms"]) == 6
    # Planning is part of each run's time (nothing, or next to nothing, for a full-name search run with the plan
    # PostgreSQL kept for its prepared statement, as the page runs it).
    assert all(0 <= planned < whole for planned, whole in zip(explained["planning_ms"], explained["ms"], strict=True))
    assert any(planned > 0 for planned in explained["planning_ms"])


def test_the_results_line_gives_the_median_planning_beside_the_whole():
    explained = {"ms": [1.0, 2.0, 3.0, 10.0], "planning_ms": [0.5, 1.0, 1.5, 2.0]}
    line = bare_sql_line(explained, http_p50=13.4)
    assert "of 4 searches" in line
    assert "p50 2.5 ms (planning alone 1.2 ms)" in line
    assert "HTTP search p50 13 ms" in line
