"""Bulk synthetic subjects for load tests: ``manage.py seed_subjects --count 1000000``.

Rules and reasons:
- Every dataset item is filled by ``records.synthetic.subject_values`` (Faker
  en_GB names, weighted towards common surnames; aliases; dates of birth over
  44 years, so thousands of people share each one). One in fifty people gets
  a surname from the spelling-variant pairs, so "Smith" also finds "Smyth".
- Identifiers are unique by construction (derived from a permutation of the
  row number), never by retrying, so the load never fails on a duplicate. The
  synthetic NHS number range (999...) holds about 900,000 valid numbers;
  beyond that, and for 15% of people anyway, no NHS number is recorded.
- Rows go in with PostgreSQL COPY in batches; the search indexes are dropped
  first and built once at the end, then the tables are vacuumed and analysed.
- Making up people (Faker) is most of the work, so batches are made in a
  pool of processes, one per core, while this process copies the finished
  ones in order (issue 6: a million took 16 minutes in one process on a
  2-core machine at 2 GHz, over the 15-minute target). Each batch draws from
  its own generator seeded with ``--seed`` and its first row number, so the
  same seed makes the same people whatever the number of processes.
- People are spread over load-test team caseloads; subjects written here
  have no value history (provenance starts with the first real edit).
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import nhs_number
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from faker import Faker

from access.models import Agency, AgencyKind, Team
from records.models import all_agency_kinds
from records.normalise import compact_name, name_words, split_alias
from records.synthetic import VARIANT_PAIRS, pnc_check_letter, subject_values

SEARCH_INDEXES = (
    "subjectname_family_given",
    "subjectname_given_family",
    "subjectname_given_more",
    "subjectname_family_more",
    "subjectname_family_exact",
    "subject_dob_idx",
    "subject_visibility_idx",
)
SUBJECT_COLUMNS = [
    "id",
    "version",
    "created_at",
    "updated_at",
    "consent_status",
    "consent_agency_kinds",
    "lawful_basis",
    "lawful_basis_note",
    "consent_withdrawn_by",
    "inclusion_exception",
]
LETTERS = "ABCDEFGHJKLMNPRTUVWXY"
NHS_STEP = 999_983  # prime, so i * step mod 10**6 visits every stem once


JSON_COLUMNS = {"medication"}
SYNTHETIC_MARK = "Care coordinator (synthetic)"


def _copy_text(value: Any, as_json: bool = False) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list) and not as_json:
        inner = ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
        text = "{" + inner + "}"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class BatchMaker:
    """Makes the COPY text of one batch of people; everything it needs travels with it into the pool's processes."""

    seed: int
    offset: int
    team_groups: list[int]
    perm_id: int
    now: str
    kinds: list[str]
    taken: dict[str, set[str]]
    _fake: Faker | None = field(default=None, repr=False)

    def batch(self, start: int, size: int) -> tuple[list[str], str, str, str]:
        """Value columns, then the subjects, names and caseload-permission rows of people ``start`` to ``start + size``."""
        first = self.offset + start
        rng = random.Random(f"{self.seed}:{first}")
        if self._fake is None:
            self._fake = Faker("en_GB")
        fake = self._fake
        fake.seed_instance(f"{self.seed}:{first}")
        subjects, names, perms = io.StringIO(), io.StringIO(), io.StringIO()
        value_columns: list[str] = []
        for i in range(start, start + size):
            values = person_values(rng, fake, self.offset + i, self.taken)
            value_columns = value_columns or sorted(values)
            sid = uuid.uuid4()  # from the OS, so ids stay unguessable whatever the seed
            meta = [sid, 1, self.now, self.now, "given", self.kinds, "", "", "", ""]
            row = [_copy_text(v) for v in meta] + [_copy_text(values[c], c in JSON_COLUMNS) for c in value_columns]
            subjects.write("\t".join(row) + "\n")
            for kind, given, family in [("current", values["given_names"], values["family_name"])] + [
                ("alias", *split_alias(a)) for a in values["aliases"]
            ]:
                first_name = (name_words(given) or [""])[0]
                names.write(
                    f"{sid}\t{kind}\t{_copy_text(compact_name(family))}\t{_copy_text(compact_name(given))}\t{_copy_text(first_name)}\n"
                )
            perms.write(f"{self.team_groups[i % len(self.team_groups)]}\t{self.perm_id}\t{sid}\n")
        return value_columns, subjects.getvalue(), names.getvalue(), perms.getvalue()


_maker: BatchMaker | None = None  # in each pool process, set once by _start_process


def _start_process(maker: BatchMaker) -> None:
    global _maker
    _maker = maker


def _make_batch(task: tuple[int, int]) -> tuple[list[str], str, str, str]:
    assert _maker is not None  # noqa: S101 (set by the pool's initializer)
    return _maker.batch(*task)


def person_values(rng: random.Random, fake: Faker, n: int, taken: dict[str, set[str]]) -> dict[str, Any]:
    """Every item of person number ``n``, with identifiers derived from ``n`` so they are unique by construction."""
    family = rng.choice(rng.choice(VARIANT_PAIRS)) if rng.random() < 0.02 else None
    values = subject_values(rng, fake, family=family, identifiers=False)
    values["consent_recorded_by"] = SYNTHETIC_MARK
    stem = f"999{(n * NHS_STEP) % 10**6:06d}" if n < 10**6 else ""
    check = nhs_number.calculate_checksum(stem) if stem else None
    nhs = f"{stem}{check}" if check is not None and check != 10 and rng.random() >= 0.15 else None
    values["nhs_number"] = nhs if nhs not in taken["nhs_number"] else None
    year, serial = str(1960 + n % 30), f"{n // 30:07d}"
    pnc = f"{year}/{serial}{pnc_check_letter(year, serial)}"
    values["pnc_id"] = pnc if pnc not in taken["pnc_id"] else None
    a, b, c = n % 21, (n // 21) % 21, (n // 441) % 21
    prison = f"{LETTERS[c]}{1000 + (n // 9261) % 9000}{LETTERS[a]}{LETTERS[b]}" if n < 9261 * 9000 else None
    values["prison_number"] = prison if prison not in taken["prison_number"] else None
    cro = f"{n % 999_999 + 1:06d}/{(n // 999_999) % 100:02d}Z" if rng.random() < 0.7 else None
    values["cro_number"] = cro if cro not in taken["cro_number"] else None
    return values


class Command(BaseCommand):
    help = "Generate N synthetic subjects with COPY (indexes rebuilt at the end)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=20_000)
        parser.add_argument("--teams", type=int, default=20, help="Load-test caseload teams to spread people over.")
        parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="Processes making people (default: one per core).")

    def handle(self, *args: Any, count: int, seed: int, batch: int, teams: int, processes: int, **options: Any) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1")
        if batch < 1 or processes < 1:
            raise CommandError("--batch and --processes must be at least 1")
        started = time.monotonic()
        maker = BatchMaker(
            seed=seed,
            offset=self._offset(),
            team_groups=self._teams(teams),
            perm_id=Permission.objects.get(content_type__app_label="records", codename="change_subject").pk,
            now=timezone.now().isoformat(),
            kinds=all_agency_kinds(),
            taken=self._taken_identifiers(),
        )
        tasks = [(start, min(batch, count - start)) for start in range(0, count, batch)]
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0; SET lock_timeout = 0")  # a bulk job, not a request
            definitions = self._drop_indexes(cursor)
            done = 0
            if processes > 1 and len(tasks) > 1:
                # fork: the pool's processes inherit the maker (and the identifiers already taken) without pickling;
                # they only make text and never touch this process's database connection.
                with multiprocessing.get_context("fork").Pool(min(processes, len(tasks)), _start_process, (maker,)) as pool:
                    for made in pool.imap(_make_batch, tasks):
                        done += self._copy(cursor, made)
                        self.stdout.write(f"  {done:,} subjects loaded ({time.monotonic() - started:.0f} s)")
            else:
                for task in tasks:
                    done += self._copy(cursor, maker.batch(*task))
                    self.stdout.write(f"  {done:,} subjects loaded ({time.monotonic() - started:.0f} s)")
            built = time.monotonic()
            # Inside an outer transaction (tests), deferred foreign-key checks must run before an index can be built.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in definitions:
                cursor.execute(sql)
            # VACUUM sets the visibility map, so the search's visibility join can be index-only from the first query;
            # it cannot run inside a transaction (tests), where ANALYZE alone does.
            analyse = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            for table in ("records_subject", "records_subjectname", "records_subjectgroupobjectpermission", "records_nameword"):
                cursor.execute(f"{analyse} {table}")
        self.stdout.write(
            f"Seeded {count:,} subjects in {time.monotonic() - started:.0f} s (indexes and ANALYZE {time.monotonic() - built:.0f} s of it)."
        )

    @staticmethod
    def _copy(cursor: Any, made: tuple[list[str], str, str, str]) -> int:
        """COPY one made batch into the three tables in one transaction; returns how many people it held."""
        value_columns, subjects, names, perms = made
        with transaction.atomic():
            for table, columns, text in (
                ("records_subject", SUBJECT_COLUMNS + value_columns, subjects),
                ("records_subjectname", ["subject_id", "kind", "family_norm", "given_norm", "given_first"], names),
                ("records_subjectgroupobjectpermission", ["group_id", "permission_id", "content_object_id"], perms),
            ):
                cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))
        return perms.count("\n")

    def _taken_identifiers(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        with connection.cursor() as cursor:
            for field in ("nhs_number", "pnc_id", "prison_number", "cro_number"):
                cursor.execute(f"SELECT {field} FROM records_subject WHERE {field} IS NOT NULL")  # noqa: S608 (fixed names)  # nosec B608
                out[field] = {r[0] for r in cursor.fetchall()}
        return out

    def _offset(self) -> int:
        """Rows already seeded by this command: a second run continues the numbering instead of colliding."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM records_subject WHERE consent_recorded_by = %s", [SYNTHETIC_MARK])
            return int(cursor.fetchone()[0])

    def _teams(self, count: int) -> list[int]:
        agency, _ = Agency.objects.get_or_create(
            code="loadtest-trust", defaults={"name": "Load Test Mental Health Trust (synthetic)", "kind": AgencyKind.NHS_TRUST}
        )
        groups = []
        for n in range(1, count + 1):
            group, _ = Group.objects.get_or_create(name=f"team:loadtest-trust:CMHT {n}")
            Team.objects.get_or_create(agency=agency, name=f"CMHT {n}", defaults={"group": group})
            groups.append(group.pk)
        return groups

    def _drop_indexes(self, cursor: Any) -> list[str]:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [list(SEARCH_INDEXES)])
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        return [definition for _, definition in found]
