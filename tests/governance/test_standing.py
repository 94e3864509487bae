"""subject_standing folds three lookups into one query; it must agree with each of them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from access.disclosure import writable_items_for
from access.governance import active_emergency, agreement_coverage, agreements_in_force, subject_standing
from access.policy import principal_for
from governance.models import EmergencyAccess, SharingAgreement
from tests.factories import make_subject


def _separately(principal, subject_id, purpose):
    _, on_caseload = writable_items_for(principal, subject_id)
    return on_caseload, active_emergency(principal, subject_id), agreement_coverage(principal, purpose)


def test_standing_agrees_with_the_three_lookups(priya_police, morgan_mh, nia_nurse, cmht_team, other_team):
    mine = make_subject(team=cmht_team)
    elsewhere = make_subject(team=other_team)
    now = timezone.now()
    # Priya broke the glass on one record; an older, expired grant on the other must not count.
    EmergencyAccess.objects.create(
        user=priya_police,
        subject=mine,
        reason_code="risk_to_life",
        reason_text="x",
        started_at=now,
        expires_at=now + dt.timedelta(minutes=30),
    )
    EmergencyAccess.objects.create(
        user=priya_police,
        subject=elsewhere,
        reason_code="risk_to_life",
        reason_text="x",
        started_at=now,
        expires_at=now - dt.timedelta(minutes=1),
    )
    # An agreement for custody only, and one that has ended: coverage must differ by purpose and ignore the ended one.
    narrow = SharingAgreement.objects.create(
        reference="NARROW-1",
        title="t",
        purposes=["custody_detention"],
        items=["risk.suicide_level"],
        starts_on=timezone.localdate() - dt.timedelta(days=5),
        ends_on=timezone.localdate() + dt.timedelta(days=5),
        signatory_name="s",
        signatory_role="r",
    )
    ended = SharingAgreement.objects.create(
        reference="ENDED-1",
        title="t",
        purposes=["custody_detention"],
        items=["risk.weapons"],
        starts_on=timezone.localdate() - dt.timedelta(days=50),
        ends_on=timezone.localdate() - dt.timedelta(days=1),
        signatory_name="s",
        signatory_role="r",
    )
    for person in (priya_police, morgan_mh, nia_nurse):
        narrow.parties.add(person.agency)
        ended.parties.add(person.agency)
    for person in (priya_police, morgan_mh, nia_nurse):
        who = principal_for(person)
        for subject in (mine, elsewhere):
            for purpose in ("custody_detention", "care_planning"):
                standing = subject_standing(who, subject.id, purpose)
                on_caseload, emergency, coverage = _separately(who, subject.id, purpose)
                assert (standing.on_caseload, standing.emergency, standing.coverage) == (on_caseload, emergency, coverage), (
                    person.username,
                    purpose,
                )
    # The cases the comparison covered are real ones, not all-empty.
    assert subject_standing(principal_for(morgan_mh), mine.id, "care_planning").on_caseload
    assert not subject_standing(principal_for(morgan_mh), elsewhere.id, "care_planning").on_caseload
    assert subject_standing(principal_for(priya_police), mine.id, "custody_detention").emergency is not None
    assert subject_standing(principal_for(priya_police), elsewhere.id, "custody_detention").emergency is None
    police = subject_standing(principal_for(priya_police), elsewhere.id, "custody_detention").coverage
    assert "NARROW-1" in police.references and "ENDED-1" not in police.references
    assert "risk.suicide_level" in police.for_purpose
    # agreements_in_force is plain SQL; it must say what the ORM says of the same rule.
    for person in (priya_police, morgan_mh, nia_nurse):
        today = timezone.localdate()
        orm = SharingAgreement.objects.filter(parties=person.agency_id, starts_on__lte=today, ends_on__gte=today)
        assert sorted(agreements_in_force(principal_for(person))) == sorted(orm.values_list("reference", "items", "purposes"))


def test_following_rides_in_the_standing_query_and_reaches_the_page(priya_police, subject, client_for):
    """Priya's Follow button reads what the standing query says, and it changes the moment she follows."""
    from notifications.models import Follow
    from tests.conftest import give_purpose

    who = principal_for(priya_police)
    assert subject_standing(who, subject.id, "custody_detention").following is False
    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert b"Follow this record" in client.get(f"/records/{subject.id}/").content
    Follow.objects.create(user=priya_police, subject_id=subject.id)
    assert subject_standing(who, subject.id, "custody_detention").following is True
    assert b"Stop following" in client.get(f"/records/{subject.id}/").content


def test_standing_brings_the_subjects_consent_facts(priya_police, cmht_team):
    """The record view decides on these before it reads the record: they must be the subject's own, and None for a
    subject that does not exist."""
    import uuid

    from access.governance import ConsentFacts
    from records.models import ConsentStatus

    given = make_subject(team=cmht_team, consent_status=ConsentStatus.GIVEN, consent_agency_kinds=["police", "nhs_trust"], lawful_basis="")
    withdrawn = make_subject(team=cmht_team, consent_status=ConsentStatus.WITHDRAWN, lawful_basis="safeguarding")
    who = principal_for(priya_police)
    assert subject_standing(who, given.id, "custody_detention").consent == ConsentFacts("given", ("police", "nhs_trust"), "")
    assert subject_standing(who, withdrawn.id, "custody_detention").consent == ConsentFacts(
        "withdrawn", tuple(withdrawn.consent_agency_kinds), "safeguarding"
    )
    assert subject_standing(who, uuid.uuid4(), "custody_detention").consent is None
