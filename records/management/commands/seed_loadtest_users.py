"""Load-test accounts: one per Locust virtual user, each with its own password and authenticator secret.

``manage.py seed_loadtest_users --police 90 --nurses 30 --mh 15 --auditors 15 --out var/loadtest-users.json``

Rules and reasons:
- Every virtual user signs in through the real login and TOTP step, so each
  needs its own account (django-otp refuses a code already used by that
  device, and one account shared by 150 users would also skew the audit).
- Accounts live in synthetic load-test agencies that are party to a
  load-test sharing agreement covering every item and purpose, so the
  police and nurses see what the default matrix lets them see.
- Mental-health practitioners join the load-test caseload teams made by
  ``seed_subjects`` and get the ids of people on their team's caseload, so
  their edits are allowed writes, not refusals.
- The password is hashed once and the hash shared: hashing 150 passwords
  would cost minutes and prove nothing. Running it again replaces the
  passwords and secrets and rewrites the file (mode 600).
- The file also carries a sample of seeded people (names, dates of birth,
  ids) for the scenarios to search for and open.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, AgencyKind, Role, Team, User
from governance.models import SharingAgreement
from records.dataset import ITEMS
from records.management.commands.seed_subjects import SYNTHETIC_MARK
from records.vocabularies import VOCABULARIES

PREFIX = "lt-"
AGREEMENT = "MAIS-LOADTEST"
# role code, option name, username stem, agency code
KINDS = (
    ("police_officer", "police", "police", "loadtest-police"),
    ("custody_nurse", "nurses", "nurse", "loadtest-custody"),
    ("mh_practitioner", "mh", "mh", "loadtest-trust"),
    ("auditor", "auditors", "auditor", "loadtest-trust"),
)
AGENCIES = {
    "loadtest-police": ("Load Test Police Force (synthetic)", AgencyKind.POLICE, True),
    "loadtest-custody": ("Load Test Custody Healthcare (synthetic)", AgencyKind.CUSTODY_HEALTH, True),
    "loadtest-trust": ("Load Test Mental Health Trust (synthetic)", AgencyKind.NHS_TRUST, False),
}


class Command(BaseCommand):
    help = "Create one account per load-test virtual user and write their sign-in details and a sample of people."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--police", type=int, default=90)
        parser.add_argument("--nurses", type=int, default=30)
        parser.add_argument("--mh", type=int, default=15)
        parser.add_argument("--auditors", type=int, default=15)
        parser.add_argument("--sample", type=int, default=500, help="People to sample for searches and views.")
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, out: Path, sample: int, **options: Any) -> None:
        counts = {option: options[option] for _, option, _, _ in KINDS}
        if any(n < 0 for n in counts.values()) or not sum(counts.values()):
            raise CommandError("Give at least one user, and no negative counts.")
        people = self._sample(sample)
        if not people:
            raise CommandError("No seeded people found: run seed_subjects first.")
        password = secrets.token_urlsafe(18)
        with transaction.atomic():
            agencies = self._agencies()
            teams = list(Team.objects.filter(agency=agencies["loadtest-trust"]).select_related("group").order_by("id"))
            users: list[dict[str, Any]] = []
            hashed = make_password(password)
            for role_code, option, stem, agency_code in KINDS:
                role = Role.objects.get(code=role_code)
                for n in range(1, counts[option] + 1):
                    team = teams[(n - 1) % len(teams)] if role_code == "mh_practitioner" and teams else None
                    users.append(self._user(f"{PREFIX}{stem}-{n:03d}", hashed, role, agencies[agency_code], team))
            for entry in users:
                entry["password"] = password
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"users": users, "people": people}, indent=1, default=str) + "\n")
        out.chmod(0o600)
        self.stdout.write(f"{len(users)} load-test users written to {out} with {len(people)} sampled people.")

    def _agencies(self) -> dict[str, Agency]:
        agencies = {}
        for code, (name, kind, all_hours) in AGENCIES.items():
            agencies[code], _ = Agency.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "works_out_of_hours": all_hours}
            )
        today = timezone.localdate()
        agreement, _ = SharingAgreement.objects.update_or_create(
            reference=AGREEMENT,
            defaults={
                "title": "Load-test agreement (synthetic agencies only)",
                "purposes": [code for code, _, _ in VOCABULARIES["access_reason"][1]],
                "items": [i.code for i in ITEMS],
                "starts_on": today - dt.timedelta(days=1),
                "ends_on": today + dt.timedelta(days=365),
                "signatory_name": "Load test",
                "signatory_role": "Synthetic",
            },
        )
        agreement.parties.add(*agencies.values())
        return agencies

    def _user(self, username: str, hashed: str, role: Role, agency: Agency, team: Team | None) -> dict[str, Any]:
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": "Load",
                "last_name": f"Test {username[len(PREFIX) :]}",
                "email": f"{username}@example.invalid",
                "agency": agency,
                "is_active": True,
                "password": hashed,
            },
        )
        user.groups.set([role.group] + ([team.group] if team else []))
        key = secrets.token_bytes(20)
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name="Authenticator app", key=key.hex(), confirmed=True)
        entry: dict[str, Any] = {"username": username, "role": role.code, "totp_secret": base64.b32encode(key).decode()}
        if team is not None:
            entry["caseload"] = self._caseload(team.group)
        return entry

    def _caseload(self, group: Group) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT content_object_id FROM records_subjectgroupobjectpermission WHERE group_id = %s ORDER BY content_object_id LIMIT 50",
                [group.pk],
            )
            return [str(r[0]) for r in cursor.fetchall()]

    def _sample(self, size: int) -> list[dict[str, str]]:
        """Seeded people, spread over the table (TABLESAMPLE reads a fraction of pages, not the whole table)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM records_subject WHERE consent_recorded_by = %s", [SYNTHETIC_MARK])
            total = int(cursor.fetchone()[0])
            if not total:
                return []
            percent = min(100.0, max(0.01, 100.0 * size * 4 / total))
            cursor.execute(
                f"SELECT id, family_name, given_names, date_of_birth FROM records_subject TABLESAMPLE SYSTEM ({percent:.4f}) REPEATABLE (7) "  # noqa: S608 (a number)  # nosec B608
                "WHERE consent_recorded_by = %s LIMIT %s",
                [SYNTHETIC_MARK, size],
            )
            rows = cursor.fetchall()
        return [{"id": str(i), "family_name": f, "given_names": g, "date_of_birth": d.strftime("%d/%m/%Y")} for i, f, g, d in rows]
