"""Load demo agencies, teams, one user per role and synthetic subjects. Safe to run twice.

Writes var/demo-credentials.json (username, password, role, agency, base32
TOTP secret per demo user). Passwords and secrets are random per machine and
kept across runs, so a second run changes nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.models import GroupObjectPermission  # noqa: F401

from access.models import Agency, AgencyKind, Role, Team, User
from audit.services import RequestContext, audit_record
from records.dataset import ITEMS
from records.models import ItemChange, Subject, SubjectGroupObjectPermission
from records.services import _json_value, _sync_search_names
from records.synthetic import demo_subjects

AGENCIES = [
    ("merseyside-police", "Merseyside Police (demo)", AgencyKind.POLICE),
    ("custody-health", "Custody Healthcare Partnership (demo)", AgencyKind.CUSTODY_HEALTH),
    ("mersey-mh-trust", "Mersey Mental Health NHS Trust (demo)", AgencyKind.NHS_TRUST),
    ("hmp-health", "HMP Liverpool Healthcare (demo)", AgencyKind.PRISON_HEALTH),
    ("probation-nw", "Probation Service North West (demo)", AgencyKind.PROBATION),
]
# username, first, last, role, agency code, team name
USERS = [
    ("police", "Priya", "Constable", "police_officer", "merseyside-police", None),
    ("nurse", "Nia", "Custody", "custody_nurse", "custody-health", None),
    ("fme", "Farid", "Examiner", "forensic_medical_examiner", "custody-health", None),
    ("liaison", "Lena", "Diversion", "liaison_diversion", "mersey-mh-trust", None),
    ("inreach", "Ian", "Inreach", "prison_inreach", "hmp-health", None),
    ("dualdx", "Dara", "Dual", "dual_diagnosis", "hmp-health", None),
    ("probation", "Pat", "Manager", "probation_officer", "probation-nw", None),
    ("mhnurse", "Morgan", "Practitioner", "mh_practitioner", "mersey-mh-trust", "North Liverpool CMHT"),
    ("admin", "Ada", "Administrator", "administrator", "mersey-mh-trust", None),
    ("auditor", "Aud", "Governance", "auditor", "mersey-mh-trust", None),
]


class Command(BaseCommand):
    help = "Load demo agencies, users (one per role) and synthetic subjects; write var/demo-credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--subjects", type=int, default=320)

    def handle(self, *args: Any, subjects: int, **options: Any) -> None:
        path = settings.VAR_DIR / "demo-credentials.json"
        existing = {c["username"]: c for c in json.loads(path.read_text())} if path.exists() else {}
        with transaction.atomic():
            credentials = self._users(existing)
            created = self._subjects(subjects)
        path.write_text(json.dumps(credentials, indent=2) + "\n")
        path.chmod(0o600)
        self.stdout.write(f"Demo data ready: {Subject.objects.count()} subjects ({created} new), {len(credentials)} demo users.")

    def _users(self, existing: dict[str, dict[str, str]]) -> list[dict[str, str]]:
        agencies = {}
        for code, name, kind in AGENCIES:
            agencies[code], _ = Agency.objects.get_or_create(
                code=code,
                defaults={"name": name, "kind": kind, "works_out_of_hours": kind in (AgencyKind.POLICE, AgencyKind.CUSTODY_HEALTH)},
            )
        out = []
        for username, first, last, role_code, agency_code, team_name in USERS:
            known = existing.get(username)
            user = User.objects.filter(username=username).first()
            if user is None or known is None:
                password = f"demo-{secrets.token_urlsafe(9)}"
                key = secrets.token_bytes(20)
                user = user or User(username=username)
                user.first_name, user.last_name = first, last
                user.email = f"{username}@example.invalid"
                user.agency = agencies[agency_code]
                user.set_password(password)
                user.save()
                TOTPDevice.objects.filter(user=user).delete()
                TOTPDevice.objects.create(user=user, name="Authenticator app", key=key.hex(), confirmed=True)
                known = {
                    "username": username,
                    "password": password,
                    "role": role_code,
                    "agency": agencies[agency_code].name,
                    "totp_secret": base64.b32encode(key).decode(),
                }
            user.groups.add(Role.objects.get(code=role_code).group)
            if team_name:
                group, _ = Group.objects.get_or_create(name=f"team:{agency_code}:{team_name}")
                Team.objects.get_or_create(agency=agencies[agency_code], name=team_name, defaults={"group": group})
                user.groups.add(group)
            out.append(known)
        return out

    def _subjects(self, count: int) -> int:
        if Subject.objects.exists():
            return 0
        owner = User.objects.get(username="mhnurse")
        team = Team.objects.get(name="North Liverpool CMHT")
        perm = Permission.objects.get(content_type__app_label="records", codename="change_subject")
        now = timezone.now()
        created = 0
        for values in demo_subjects(count):
            subject = Subject.objects.create(**values)
            _sync_search_names(subject)
            SubjectGroupObjectPermission.objects.create(group=team.group, permission=perm, content_object=subject)
            ItemChange.objects.bulk_create(
                ItemChange(
                    subject=subject,
                    item_code=item.code,
                    value={f: _json_value(getattr(subject, f)) for f in item.model_fields},
                    changed_at=now,
                    changed_by=owner,
                    changed_by_name=owner.get_full_name(),
                    agency_name=team.agency.name,
                    role_code="mh_practitioner",
                )
                for item in ITEMS
            )
            created += 1
        audit_record(
            event="demo.seed",
            context=RequestContext.system(),
            about=Subject,
            detail={"subjects_created": created},
            actor_username="system",
        )
        return created
