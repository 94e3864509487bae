"""Named people, one per role, and helpers shared by the whole suite.

Permission tests are written around these people: "Priya (police) must not
see Morgan's diagnoses".
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, AgencyKind, Role, Team, User
from access.policy import clear_policy_cache
from api.services import api_client_register, api_credential_issue
from audit.services import RequestContext
from tests.factories import PASSWORD, join_network_agreement, make_subject, make_team, make_user

API_CTX = RequestContext("api-test", "127.0.0.1")

PEOPLE = {
    # fixture name: (username, role, agency code, agency kind)
    "priya_police": ("priya", "police_officer", "police", AgencyKind.POLICE),
    "nia_nurse": ("nia", "custody_nurse", "custody", AgencyKind.CUSTODY_HEALTH),
    "farid_fme": ("farid", "forensic_medical_examiner", "custody", AgencyKind.CUSTODY_HEALTH),
    "lena_liaison": ("lena", "liaison_diversion", "trust", AgencyKind.NHS_TRUST),
    "ian_inreach": ("ian", "prison_inreach", "prison", AgencyKind.PRISON_HEALTH),
    "dara_dual": ("dara", "dual_diagnosis", "prison", AgencyKind.PRISON_HEALTH),
    "pat_probation": ("pat", "probation_officer", "probation", AgencyKind.PROBATION),
    "morgan_mh": ("morgan", "mh_practitioner", "trust", AgencyKind.NHS_TRUST),
    "ada_admin": ("ada", "administrator", "trust", AgencyKind.NHS_TRUST),
    "aud_auditor": ("aud", "auditor", "trust", AgencyKind.NHS_TRUST),
}
ROLE_FIXTURES = {role: name for name, (_, role, _, _) in PEOPLE.items()}


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    clear_policy_cache()
    yield
    clear_policy_cache()


def load_reference_data() -> None:
    """The data migrations load (roles, items, the default matrix, vocabularies), loaded again, idempotently."""
    import importlib

    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from records import terms
    from records.migrations import _vocab

    ContentType.objects.clear_cache()
    _vocab.load(apps, None)
    importlib.import_module("access.migrations.0002_dataset_and_default_matrix").load(apps, None)
    terms._terms = None
    clear_policy_cache()


@pytest.fixture(autouse=True)
def _allow_audit_flush(request):
    """Django flushes transactional test databases with TRUNCATE; the audit trigger allows it only when asked.

    That flush also removes what the data migrations loaded, so every test that finds it gone (the test
    after a transactional one) loads it again first.
    """
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("transactional_db")  # set up first, whatever order the test lists its fixtures in
        with connection.cursor() as cursor:
            cursor.execute("SET mais.allow_audit_truncate = on")
        if not Role.objects.exists():
            load_reference_data()
    elif "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        if not Role.objects.exists():
            load_reference_data()
    yield


def _agency(code: str, kind: str) -> Agency:
    # 24-hour agencies by default, so that no test depends on the time of day it runs at; all party to
    # the test network's data-sharing agreement (tests/governance narrow it).
    agency, created = Agency.objects.get_or_create(
        code=code, defaults={"name": f"{code.title()} Agency (test)", "kind": kind, "works_out_of_hours": True}
    )
    if created:
        join_network_agreement(agency)
    return agency


@pytest.fixture
def cmht_team(db) -> Team:
    """North CMHT: Morgan's team, which owns the caseload of the subjects made with ``team=cmht_team``."""
    return make_team("North CMHT", _agency("trust", AgencyKind.NHS_TRUST))


@pytest.fixture
def other_team(db) -> Team:
    return make_team("South CMHT", _agency("trust", AgencyKind.NHS_TRUST))


def _make_person(name: str, team: Team | None = None) -> User:
    username, role, agency, kind = PEOPLE[name]
    return make_user(username, role=role, agency=_agency(agency, kind), team=team)


@pytest.fixture
def priya_police(db):
    return _make_person("priya_police")


@pytest.fixture
def nia_nurse(db):
    return _make_person("nia_nurse")


@pytest.fixture
def farid_fme(db):
    return _make_person("farid_fme")


@pytest.fixture
def lena_liaison(db):
    return _make_person("lena_liaison")


@pytest.fixture
def ian_inreach(db):
    return _make_person("ian_inreach")


@pytest.fixture
def dara_dual(db):
    return _make_person("dara_dual")


@pytest.fixture
def pat_probation(db):
    return _make_person("pat_probation")


@pytest.fixture
def morgan_mh(db, cmht_team):
    return _make_person("morgan_mh", team=cmht_team)


@pytest.fixture
def ada_admin(db):
    return _make_person("ada_admin")


@pytest.fixture
def aud_auditor(db):
    return _make_person("aud_auditor")


@pytest.fixture
def person_for_role(request):
    """The named person holding a role: person_for_role('police_officer') is Priya."""
    return lambda role: request.getfixturevalue(ROLE_FIXTURES[role])


@pytest.fixture
def subject(db, cmht_team):
    """Alex: one subject on North CMHT's caseload, every item filled."""
    return make_subject(team=cmht_team, family_name="Quenby", given_names="Alex")


def signed_in(user: User) -> Client:
    """A client that has signed in with password and a verified second factor."""
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    from django_otp.oath import totp

    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
    response = client.post("/login/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/", response.content[:500]
    return client


@pytest.fixture
def client_for():
    return signed_in


def give_purpose(client: Client, subject_id, code: str = "custody_detention") -> Client:
    """Answer the purpose-of-access page the way a user does."""
    response = client.post(f"/records/{subject_id}/", {"reason": code, "reason_detail": "Custody record 123"})
    assert response.status_code == 302, response.content[:300]
    return client


class ApiCaller:
    """A client system as the tests drive it: its credential, the end user, the purpose."""

    def __init__(self, token: str, on_behalf_of: str = "PC 1234 Example", purpose: str = "custody_detention") -> None:
        self.http = Client()
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}", "X-On-Behalf-Of": on_behalf_of, "X-Purpose": purpose}

    def get(self, path: str, **extra: str):
        return self.http.get(path, headers={**self.headers, **extra})

    def post(self, path: str, body: dict, **extra: str):
        return self.http.post(path, body, content_type="application/json", headers={**self.headers, **extra})

    def patch(self, path: str, body: dict, **extra: str):
        return self.http.patch(path, body, content_type="application/json", headers={**self.headers, **extra})


@pytest.fixture
def api_for(db):
    """api_for(person) -> an ApiCaller for a client system of the person's agency acting with the person's role."""

    def make(person, *, name: str | None = None) -> ApiCaller:
        role = Role.objects.get(group__in=person.groups.all())
        client = api_client_register(
            actor=None, name=name or f"{person.agency.code} {role.code} system", agency=person.agency, role=role, context=API_CTX
        )
        caller = ApiCaller(api_credential_issue(actor=None, client=client, context=API_CTX))
        caller.client = client  # type: ignore[attr-defined]
        return caller

    return make
