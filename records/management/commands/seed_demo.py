"""Load demo agencies, teams, one user per role and synthetic subjects. Safe to run twice.

Writes var/demo-credentials.json (username, password, role, agency, base32
TOTP secret per demo user). Passwords and secrets are random per machine and
kept across runs, so a second run changes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
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
from access.policy import principal_for
from api.models import ApiClient
from api.services import api_client_register, api_credential_issue
from audit.services import Purpose, RequestContext, audit_record
from governance.models import ProtocolVersion, SharingAgreement
from governance.protocol import protocol_publish
from partnership.models import Referral
from partnership.services import PartnershipRefused, referral_contact, referral_create, referral_decide, referral_outcome
from records.dataset import ITEMS
from records.models import ItemChange, Subject, SubjectGroupObjectPermission
from records.services import _json_value, _sync_search_names
from records.synthetic import demo_subjects
from records.vocabularies import VOCABULARIES

DEMO_API_CLIENT = "Merseyside Police custody system (demo)"

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
    ("liaison", "Lena", "Diversion", "liaison_diversion", "mersey-mh-trust", "Liverpool Liaison and Diversion"),
    ("inreach", "Ian", "Inreach", "prison_inreach", "hmp-health", None),
    ("dualdx", "Dara", "Dual", "dual_diagnosis", "hmp-health", None),
    ("probation", "Pat", "Manager", "probation_officer", "probation-nw", None),
    ("mhnurse", "Morgan", "Practitioner", "mh_practitioner", "mersey-mh-trust", "North Liverpool CMHT"),
    ("admin", "Ada", "Administrator", "administrator", "mersey-mh-trust", None),
    ("auditor", "Aud", "Governance", "auditor", "mersey-mh-trust", None),
]

DEMO_PROTOCOL = """This protocol is agreed by the partner agencies of the network. It applies every time you search MAIS, read a record, record information in it, or share what you learned from it with anyone else.

1. Share to keep people safe. Information about a person with severe mental illness leaving prison is shared so that police, custody, liaison and diversion, prison and probation staff can keep that person and others safe. Not sharing can also cause harm.

2. Give your reason. Every search and every record you open asks why. Choose the reason that is true and add words where they help; an auditor may ask you about it.

3. Use only what you need. MAIS shows you only the items your role and your agency's data-sharing agreement allow. Do not copy more than you need into other systems.

4. Respect consent and its limits. If a person has withdrawn consent, only the owning team can see the record. Sharing without consent needs a lawful basis, which the record states.

5. Emergency access is for emergencies. Use "Request emergency access" only when someone is at immediate risk. It lasts an hour at most and every use is reviewed.

6. Record what you share outside MAIS. When you pass information to someone outside the system (a GP, a housing provider), record the decision in MAIS: purpose, necessity, what was shared and with whom, and the lawful basis.

7. Tell partners what happened. When you receive a referral, record whether the person engaged and the outcome, so that the referring agency hears back.

8. Report concerns. If you think information was seen or shared wrongly, tell your information governance lead the same day."""


class Command(BaseCommand):
    help = "Load demo agencies, users (one per role) and synthetic subjects; write var/demo-credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--subjects", type=int, default=320)

    def handle(self, *args: Any, subjects: int, **options: Any) -> None:
        path = settings.VAR_DIR / "demo-credentials.json"
        existing = {c["username"]: c for c in json.loads(path.read_text())} if path.exists() else {}
        with transaction.atomic():
            credentials = self._users(existing)
            self._agreements()
            self._protocol()
            created = self._subjects(subjects)
            self._referrals()
            self._api_client()
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

    def _referrals(self) -> None:
        """Referrals in every state, so the queues and reports have something to show: police custody to liaison and
        diversion, probation to the community mental health team. Made through the services, as users would."""
        if Referral.objects.exists():
            return
        police, probation, lena = (principal_for(User.objects.get(username=u)) for u in ("police", "probation", "liaison"))
        ld = Team.objects.get(name="Liverpool Liaison and Diversion")
        cmht = Team.objects.get(name="North Liverpool CMHT")
        ctx = RequestContext.system()
        made = []
        ids = list(Subject.objects.order_by("created_at").values_list("id", flat=True)[40:70])
        for n, subject_id in enumerate(ids):
            actor, team, purpose = (
                (probation, cmht, Purpose("offender_management", "IOM review"))
                if n % 3 == 2
                else (police, ld, Purpose("custody_detention", f"Custody record {4100 + n}"))
            )
            try:
                made.append(
                    referral_create(
                        actor=actor,
                        subject_id=subject_id,
                        to_team_id=team.pk,
                        reason="Arrested overnight; distressed and says he has stopped his medication. Please assess.",
                        urgency=("urgent", "soon", "routine")[n % 3],
                        purpose=purpose,
                        context=ctx,
                    )
                )
            except PartnershipRefused:
                continue  # consent does not cover the team: the service refuses, as it would a user
        for n, referral in enumerate(r for r in made if r.to_team_id == ld.pk):
            if n % 5 == 4:
                continue  # left waiting in Lena's queue
            accept = n % 7 != 3
            referral = referral_decide(
                actor=lena,
                referral_id=referral.pk,
                version=referral.version,
                accept=accept,
                reason="" if accept else "Not in our area: please refer to the Wirral team.",
                context=ctx,
            )
            if not accept or n % 4 == 1:
                continue
            engagement = ("attended", "attended", "did_not_attend", "attended", "disengaged")[n % 5]
            referral = referral_contact(
                actor=lena,
                referral_id=referral.pk,
                version=referral.version,
                engagement=engagement,
                contact_at=timezone.now(),
                context=ctx,
            )
            outcome = "not_engaged" if engagement != "attended" else ("diverted", "support_in_place", "no_further_action")[n % 3]
            referral_outcome(actor=lena, referral_id=referral.pk, version=referral.version, outcome=outcome, note="", context=ctx)

    def _protocol(self) -> None:
        """Version 1 of the network's information-sharing protocol, published by the demo administrator."""
        if ProtocolVersion.objects.exists():
            return
        protocol_publish(
            actor=principal_for(User.objects.get(username="admin")),
            title="Merseyside MAIS information-sharing protocol (demo)",
            body=DEMO_PROTOCOL,
            change_summary="First version.",
            context=RequestContext.system(),
        )

    def _api_client(self) -> None:
        """A demo client system (the police custody system); its credential is written to var/ once."""
        path = settings.VAR_DIR / "demo-api-credential.txt"
        if ApiClient.objects.filter(name=DEMO_API_CLIENT).exists() and path.exists():
            return
        client = ApiClient.objects.filter(name=DEMO_API_CLIENT).first() or api_client_register(
            actor=None,
            name=DEMO_API_CLIENT,
            agency=Agency.objects.get(code="merseyside-police"),
            role=Role.objects.get(code="police_officer"),
            context=RequestContext.system(),
        )
        path.write_text(api_credential_issue(actor=None, client=client, context=RequestContext.system()) + "\n")
        path.chmod(0o600)

    def _agreements(self) -> None:
        """The network's agreement covers every agency, item and purpose; an annex ending soon shows the expiry warning."""
        today = timezone.localdate()
        purposes = [code for code, _, _ in VOCABULARIES["access_reason"][1]]
        network, _ = SharingAgreement.objects.get_or_create(
            reference="MAIS-ISA-2026",
            defaults={
                "title": "MAIS network information-sharing agreement",
                "purposes": purposes,
                "items": [i.code for i in ITEMS],
                "starts_on": dt.date(2026, 1, 1),
                "ends_on": today + dt.timedelta(days=400),
                "signatory_name": "Dr Robin Example",
                "signatory_role": "Caldicott Guardian, Mersey Care (demo)",
            },
        )
        network.parties.add(*Agency.objects.all())
        if set(network.purposes) != set(purposes):  # a newer vocabulary added reasons (e.g. change notification)
            network.purposes = purposes
            network.save(update_fields=["purposes"])
        annex, created = SharingAgreement.objects.get_or_create(
            reference="MAIS-ISA-2026-A1",
            defaults={
                "title": "Annex 1: release planning with prison in-reach",
                "purposes": ["release_planning"],
                "items": [i.code for i in ITEMS if i.section in ("identity", "mental_health")],
                "starts_on": dt.date(2026, 1, 1),
                "ends_on": today + dt.timedelta(days=20),
                "signatory_name": "Jo Example",
                "signatory_role": "Head of Healthcare, HMP Demo",
            },
        )
        if created:
            annex.parties.add(*Agency.objects.filter(kind=AgencyKind.PRISON_HEALTH))

    def _subjects(self, count: int) -> int:
        if Subject.objects.exists():
            return 0
        owner = User.objects.get(username="mhnurse")
        team = Team.objects.get(name="North Liverpool CMHT")
        perm = Permission.objects.get(content_type__app_label="records", codename="change_subject")
        now = timezone.now()
        created = 0
        for index, values in enumerate(demo_subjects(count)):
            # Some people are shared without consent, some have withdrawn it (never the named examples of the README).
            if index > 100 and index % 17 == 0:
                values.update(consent_status="not_obtained", consent_agency_kinds=[], lawful_basis="public_task_health")
                values["lawful_basis_note"] = "Needed by custody and liaison staff to keep the person safe on arrest."
            elif index > 100 and index % 29 == 0:
                values.update(consent_status="withdrawn", consent_withdrawn_at=now, consent_withdrawn_by="Morgan Example, demo")
            if index > 100 and index % 9 == 0:
                # Some people are still in prison with a release date ahead (the caseload report's "next three months").
                values["release_date"] = timezone.localdate() + dt.timedelta(days=5 + index % 85)
            subject = Subject.objects.create(**values)
            _sync_search_names(subject)
            SubjectGroupObjectPermission.objects.create(group=team.group, permission=perm, content_object=subject)
            ItemChange.objects.bulk_create(
                ItemChange(
                    subject=subject,
                    item_code=item.code,
                    value={f: _json_value(getattr(subject, f)) for f in item.model_fields},
                    # A quarter of the people have risk items last reviewed four months ago: overdue.
                    changed_at=now - dt.timedelta(days=120) if index % 4 == 0 and item.section == "risk" else now,
                    changed_by=owner,
                    changed_by_name=owner.get_full_name(),
                    agency_name=team.agency.name,
                    role_code="mh_practitioner",
                )
                for item in ITEMS
            )
            created += 1
        self._due_for_retention(owner)
        audit_record(
            event="demo.seed",
            context=RequestContext.system(),
            about=Subject,
            detail={"subjects_created": created},
            actor_username="system",
        )
        return created

    def _due_for_retention(self, owner: User) -> None:
        """Three people released and untouched for seven years: due for retention review."""
        long_ago = timezone.now() - dt.timedelta(days=7 * 366)
        ids = list(Subject.objects.order_by("-nhs_number").values_list("id", flat=True)[:3])
        Subject.objects.filter(id__in=ids).update(release_date=long_ago.date(), updated_at=long_ago, mappa_category="")
        ItemChange.objects.filter(subject_id__in=ids).update(changed_at=long_ago)
