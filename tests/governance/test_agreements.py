"""Data-sharing agreements narrow the role grants, per purpose, on the record page and in search.

The matrix is generated from the policy data: for every role, an agreement covering only the identity and
risk sections leaves exactly (role grants ∩ covered items) visible, and each other granted item says why.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from access.disclosure import SUMMARY_ITEMS, SearchNotAllowed, disclose_search, disclose_subject
from access.governance import WITHHELD_REASONS
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from governance.models import SharingAgreement
from records.dataset import ITEMS
from records.selectors import SearchCriteria
from tests.access.test_disclosure import ROLE_CODES, TOKEN_ITEMS, readable_by, sentinel_subject
from tests.conftest import give_purpose
from tests.factories import make_agreement

PURPOSE = Purpose("custody_detention", "test")
CTX = RequestContext("test-request", "127.0.0.1")
COVERED = {i.code for i in ITEMS if i.section in ("identity", "risk")}


def narrow_agreement(person, *, items=COVERED, purposes=None, ends_on=dt.date(2099, 12, 31)):
    """Take the person's agency out of the test network agreement and give it a narrower one."""
    SharingAgreement.objects.get(reference="TEST-NETWORK").parties.remove(person.agency)
    return make_agreement(
        [person.agency], reference=f"NARROW-{person.agency.code}", items=sorted(items), purposes=purposes, ends_on=ends_on
    )


READING_ROLES = [r for r in ROLE_CODES if r not in ("auditor", "mh_practitioner")]


@pytest.mark.parametrize("role", READING_ROLES)
def test_record_shows_role_grants_narrowed_by_the_agreement(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    narrow_agreement(person)
    expected = readable_by(role) & COVERED
    view = disclose_subject(principal=principal_for(person), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    items = {i.code: i for s in view.sections for i in s.items}
    assert {c for c, i in items.items() if not i.withheld} == expected
    for code, item in items.items():
        if code in readable_by(role) and code not in COVERED:
            assert item.reason == "agreement" and item.marker == WITHHELD_REASONS["agreement"], code
        elif code not in readable_by(role):
            assert item.reason == "role", code
    rendered = repr(view)
    for code in TOKEN_ITEMS:
        assert (f"TOKEN-{code}" in rendered) == (code in expected), code
    event = AuditEvent.objects.get(event="record.view", subject_id=subject.id)
    assert set(event.items) == expected
    assert event.additional_data["agreements"] == [f"NARROW-{person.agency.code}"]


@pytest.mark.parametrize("role", READING_ROLES)
def test_search_rows_follow_the_same_agreement(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    narrow_agreement(person)
    who = principal_for(person)
    if "identity.family_name" not in readable_by(role):
        with pytest.raises(SearchNotAllowed):
            disclose_search(principal=who, criteria=SearchCriteria(name="Sentinel"), purpose=PURPOSE, context=CTX)
        return
    row = next(r for r in disclose_search(principal=who, criteria=SearchCriteria(name="Sentinel"), purpose=PURPOSE, context=CTX).rows)
    assert row.subject_id == subject.id
    for code in SUMMARY_ITEMS:
        assert row.items[code].withheld == (code not in readable_by(role) & COVERED), code


def test_the_page_says_in_words_why_an_item_is_withheld(nia_nurse, subject, client_for):
    narrow_agreement(nia_nurse)
    client = client_for(nia_nurse)
    give_purpose(client, subject.id)
    html = client.get(f"/records/{subject.id}/").content.decode()
    assert WITHHELD_REASONS["agreement"] in html
    assert WITHHELD_REASONS["role"] in html


def test_an_agreement_covers_only_its_purposes(nia_nurse, subject):
    narrow_agreement(nia_nurse, items={i.code for i in ITEMS}, purposes=["release_planning"])
    who = principal_for(nia_nurse)
    view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    granted = readable_by("custody_nurse")
    assert view.disclosed == ()
    assert {i.reason for s in view.sections for i in s.items if i.code in granted} == {"purpose"}
    planned = disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose("release_planning"), context=CTX)
    assert set(planned.disclosed) == granted


def test_agreement_expiry_takes_effect_on_the_next_request(priya_police, subject):
    narrow_agreement(priya_police, items={i.code for i in ITEMS}, ends_on=dt.date(2030, 6, 30))
    who = principal_for(priya_police)
    # 22:00 in London on the last day: local dates decide.
    with time_machine.travel(dt.datetime(2030, 6, 30, 21, 0, tzinfo=dt.UTC), tick=False):
        assert set(disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX).disclosed) == readable_by(
            "police_officer"
        )
    with time_machine.travel(dt.datetime(2030, 7, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
        assert view.disclosed == ()
        assert view.item("identity.family_name").reason == "agreement"
        with pytest.raises(SearchNotAllowed, match="no data-sharing agreement"):
            disclose_search(principal=who, criteria=SearchCriteria(name="Quenby"), purpose=PURPOSE, context=CTX)


def test_the_owning_team_needs_no_agreement(morgan_mh, subject):
    SharingAgreement.objects.get(reference="TEST-NETWORK").parties.remove(morgan_mh.agency)
    view = disclose_subject(principal=principal_for(morgan_mh), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert set(view.disclosed) == readable_by("mh_practitioner")


def test_no_agreement_at_all_shows_nothing_but_still_audits(priya_police, subject):
    SharingAgreement.objects.get(reference="TEST-NETWORK").parties.remove(priya_police.agency)
    view = disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    assert view.disclosed == () and view.heading == "Name not shared with your role"
    assert AuditEvent.objects.filter(event="record.view", subject_id=subject.id, items=[]).exists()


def test_administrator_records_an_agreement_and_sees_those_ending_soon(ada_admin, priya_police, client_for):
    client = client_for(ada_admin)
    today = dt.date.today()
    data = {
        "reference": "ISA-TEST-7",
        "title": "Custody annex",
        "parties": [str(priya_police.agency.pk)],
        "purposes": ["custody_detention"],
        "items": ["identity.family_name", "risk.suicide_level"],
        "starts_on": "01/01/2026",
        "ends_on": "31/12/2025",
        "signatory_name": "Sam Signer",
        "signatory_role": "Chief Constable",
    }
    html = client.post("/admin/agreements/new/", data).content.decode()
    assert "The end date must be on or after the start date." in html
    assert 'value="Custody annex"' in html
    data["ends_on"] = (today + dt.timedelta(days=10)).strftime("%d/%m/%Y")
    assert client.post("/admin/agreements/new/", data).status_code == 302
    agreement = SharingAgreement.objects.get(reference="ISA-TEST-7")
    event = AuditEvent.objects.get(event="agreement.create")
    assert event.changes["after"]["items"] == ["identity.family_name", "risk.suicide_level"]
    listing = client.get("/admin/agreements/").content.decode()
    assert 'data-testid="expiring"' in listing and "ISA-TEST-7" in listing
    assert 'data-testid="agreements-expiring"' in client.get("/admin/").content.decode()
    data["items"] = ["identity.family_name"]
    assert client.post(f"/admin/agreements/{agreement.pk}/", data).status_code == 302
    update = AuditEvent.objects.get(event="agreement.update")
    assert update.changes["before"]["items"] == ["identity.family_name", "risk.suicide_level"]
    assert update.changes["after"]["items"] == ["identity.family_name"]
    # A duplicate reference is refused with a message, not a crash.
    assert "Another agreement already has this reference." in client.post("/admin/agreements/new/", data).content.decode()


def test_only_administrators_manage_agreements(priya_police, client_for):
    assert client_for(priya_police).get("/admin/agreements/").status_code == 403
