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
- People are spread over load-test team caseloads; subjects written here
  have no value history (provenance starts with the first real edit).
"""

from __future__ import annotations

import io
import json
import random
import time
import uuid
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


class Command(BaseCommand):
    help = "Generate N synthetic subjects with COPY (indexes rebuilt at the end)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=20_000)
        parser.add_argument("--teams", type=int, default=20, help="Load-test caseload teams to spread people over.")

    def handle(self, *args: Any, count: int, seed: int, batch: int, teams: int, **options: Any) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1")
        started = time.monotonic()
        rng = random.Random(seed)
        fake = Faker("en_GB")
        fake.seed_instance(seed)
        team_groups = self._teams(teams)
        perm_id = Permission.objects.get(content_type__app_label="records", codename="change_subject").pk
        taken = self._taken_identifiers()
        offset = self._offset()
        value_columns: list[str] | None = None
        now = timezone.now().isoformat()
        kinds = all_agency_kinds()
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0; SET lock_timeout = 0")  # a bulk job, not a request
            definitions = self._drop_indexes(cursor)
            done = 0
            while done < count:
                size = min(batch, count - done)
                subjects, names, perms = io.StringIO(), io.StringIO(), io.StringIO()
                for i in range(done, done + size):
                    values = self._values(rng, fake, offset + i, taken)
                    if value_columns is None:
                        value_columns = sorted(values)
                    sid = uuid.uuid4()  # from the OS, so ids stay unguessable whatever the seed
                    meta = [sid, 1, now, now, "given", kinds, "", "", "", ""]
                    row = [_copy_text(v) for v in meta] + [_copy_text(values[c], c in JSON_COLUMNS) for c in value_columns]
                    subjects.write("\t".join(row) + "\n")
                    for kind, given, family in [("current", values["given_names"], values["family_name"])] + [
                        ("alias", *split_alias(a)) for a in values["aliases"]
                    ]:
                        first = (name_words(given) or [""])[0]
                        names.write(
                            f"{sid}\t{kind}\t{_copy_text(compact_name(family))}\t{_copy_text(compact_name(given))}\t{_copy_text(first)}\n"
                        )
                    perms.write(f"{team_groups[i % len(team_groups)]}\t{perm_id}\t{sid}\n")
                with transaction.atomic():
                    for table, columns, buffer in (
                        ("records_subject", SUBJECT_COLUMNS + (value_columns or []), subjects),
                        ("records_subjectname", ["subject_id", "kind", "family_norm", "given_norm", "given_first"], names),
                        ("records_subjectgroupobjectpermission", ["group_id", "permission_id", "content_object_id"], perms),
                    ):
                        buffer.seek(0)
                        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
                done += size
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

    def _values(self, rng: random.Random, fake: Faker, n: int, taken: dict[str, set[str]]) -> dict[str, Any]:
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
