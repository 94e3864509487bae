"""Referrals and outcomes between agencies, tried as the people involved would.

Priya (police custody) refers Alex to the Liaison and Diversion team; Lena
(in that team) sees it in her queue, accepts it, records that Alex attended
and the outcome; Priya is told the outcome in words her role may read. Pat
(probation) is party to none of it and sees none of it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from access.disclosure import NotFound, disclose_referral, disclose_referral_list
from access.models import AgencyKind
from access.policy import principal_for
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from partnership.models import OUTCOME_NOTE_ITEM, Referral
from partnership.services import (
    PartnershipRefused,
    referral_contact,
    referral_create,
    referral_decide,
    referral_outcome,
)
from records.models import ConsentStatus
from tests.access.test_disclosure import ROLE_CODES, readable_by
from tests.conftest import _agency, give_purpose
from tests.factories import make_subject, make_team

PURPOSE = Purpose("custody_detention", "Custody record 42")
CTX = RequestContext("test-request", "127.0.0.1")
REFERRING_ROLES = [r for r in ROLE_CODES if r not in ("auditor", "administrator", "liaison_diversion")]


@pytest.fixture
def ld_team(db, lena_liaison):
    """Liverpool Liaison and Diversion: Lena's team."""
    team = make_team("Liaison and Diversion", _agency("trust", AgencyKind.NHS_TRUST))
    lena_liaison.groups.add(team.group)
    return team


def refer(person, subject, team, *, urgency="urgent", reason="Distressed in custody; says he stopped his medication."):
    return referral_create(
        actor=principal_for(person),
        subject_id=subject.id,
        to_team_id=team.pk,
        reason=reason,
        urgency=urgency,
        purpose=PURPOSE,
        context=CTX,
    )


def accept(person, referral):
    return referral_decide(
        actor=principal_for(person), referral_id=referral.pk, version=referral.version, accept=True, reason="", context=CTX
    )


def test_priya_refers_alex_and_lena_sees_it_in_her_queue_by_name(priya_police, lena_liaison, ld_team, subject, client_for):
    priya = give_purpose(client_for(priya_police), subject.id)
    response = priya.post(
        f"/records/{subject.id}/refer/", {"to_team": ld_team.pk, "urgency": "urgent", "reason": "Distressed in custody; please assess."}
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == "pending" and referral.purpose_code == "custody_detention"
    created = AuditEvent.objects.get(event="referral.create")
    assert created.subject_id == subject.id and created.actor_id == priya_police.pk and created.additional_data["to_team"] == ld_team.name
    lena = client_for(lena_liaison)
    page = lena.get("/referrals/").content.decode()
    assert "QUENBY, Alex" in page and "Urgent" in page
    listed = AuditEvent.objects.get(event="referral.list", actor_id=lena_liaison.pk, additional_data__box="team")
    assert str(subject.id) in listed.additional_data["results"]
    assert "identity.family_name" in listed.items


def test_the_whole_lifecycle_through_the_pages(priya_police, lena_liaison, ld_team, subject, client_for):
    referral = refer(priya_police, subject, ld_team)
    lena = client_for(lena_liaison)
    url = f"/referrals/{referral.pk}/"
    # Declining without a reason is refused with a clear message and changes nothing.
    page = lena.post(f"{url}decide/", {"version": 1, "decision": "decline", "reason": ""})
    assert page.status_code == 400 and "Say why the team is declining" in page.content.decode()
    assert Referral.objects.get().status == "pending"
    assert lena.post(f"{url}decide/", {"version": 1, "decision": "accept"}).status_code == 302
    today = timezone.localdate().strftime("%d/%m/%Y")
    bad = lena.post(f"{url}contact/", {"version": 2, "engagement": "attended", "contact_on": today, "contact_time": "25:99"})
    assert "Enter the time as hours and minutes" in bad.content.decode()
    now = timezone.localtime()
    assert (
        lena.post(
            f"{url}contact/", {"version": 2, "engagement": "attended", "contact_on": today, "contact_time": now.strftime("%H:%M")}
        ).status_code
        == 302
    )
    done = lena.post(f"{url}outcome/", {"version": 3, "outcome": "diverted", "note": "Started on a community treatment plan."})
    assert done.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "closed" and referral.engagement == "attended" and referral.first_contact_at is not None
    kinds = list(AuditEvent.objects.filter(object_pk=str(referral.pk), event__startswith="referral.").values_list("event", flat=True))
    for kind in ("referral.create", "referral.accepted", "referral.contact", "referral.outcome"):
        assert kind in kinds
    priya = client_for(priya_police)
    assert "1 referral you made has a new outcome" in priya.get("/search/").content.decode()
    page = priya.get(url).content.decode()
    assert "Diverted to a health or social care service" in page
    assert "Attended" in page
    assert "1 referral you made" not in priya.get("/search/").content.decode()
    # Marking the outcome seen is a change of state, audited once: Priya's second look changes nothing.
    priya.get(url)
    seen = AuditEvent.objects.get(event="referral.outcome_seen")
    assert seen.actor_id == priya_police.pk and seen.object_pk == str(referral.pk) and seen.subject_id == subject.id
    assert seen.changes["outcome_seen_at"][0] is None


@pytest.mark.parametrize("role", REFERRING_ROLES)
def test_the_outcome_note_reaches_the_referrer_only_if_their_role_may_read_it(role, person_for_role, lena_liaison, ld_team, cmht_team):
    person = person_for_role(role)
    subject = make_subject(team=cmht_team, family_name="Noteworthy", given_names="Nat")
    referral = refer(person, subject, ld_team)
    referral = accept(lena_liaison, referral)
    referral_outcome(
        actor=principal_for(lena_liaison),
        referral_id=referral.pk,
        version=referral.version,
        outcome="admitted",
        note="NOTE-TOKEN clinical detail",
        context=CTX,
    )
    view = disclose_referral(principal=principal_for(person), referral_id=referral.pk, context=CTX)
    assert view.facts.outcome_label == "Admitted to hospital"
    may_read = OUTCOME_NOTE_ITEM in readable_by(role)
    assert (view.outcome_note == "NOTE-TOKEN clinical detail") == may_read
    assert view.outcome_note_withheld == (not may_read)
    event = AuditEvent.objects.filter(event="referral.view", actor_id=person.pk).latest("id")
    assert (OUTCOME_NOTE_ITEM in event.items) == may_read
    # The receiving team, who wrote it, always sees it.
    assert disclose_referral(principal=principal_for(lena_liaison), referral_id=referral.pk, context=CTX).outcome_note


def test_the_outcome_note_never_reaches_the_police_page(priya_police, lena_liaison, ld_team, subject, client_for):
    assert OUTCOME_NOTE_ITEM not in readable_by("police_officer")
    referral = accept(lena_liaison, refer(priya_police, subject, ld_team))
    referral_outcome(
        actor=principal_for(lena_liaison),
        referral_id=referral.pk,
        version=referral.version,
        outcome="admitted",
        note="NOTE-TOKEN",
        context=CTX,
    )
    page = client_for(priya_police).get(f"/referrals/{referral.pk}/").content.decode()
    assert "NOTE-TOKEN" not in page and "not shared with your role" in page


def test_pat_who_is_party_to_nothing_sees_nothing_and_is_audited(priya_police, pat_probation, ld_team, subject, client_for):
    referral = refer(priya_police, subject, ld_team)
    pat = client_for(pat_probation)
    assert pat.get(f"/referrals/{referral.pk}/").status_code == 404
    denied = AuditEvent.objects.get(event="referral.view", actor_id=pat_probation.pk)
    assert denied.outcome == "denied" and denied.subject_id == subject.id
    assert pat.get("/referrals/9999999/").status_code == 404
    assert pat.post(f"/referrals/{referral.pk}/decide/", {"version": 1, "decision": "accept"}).status_code == 404
    assert Referral.objects.get().status == "pending"
    with pytest.raises(NotFound):
        disclose_referral(principal=principal_for(pat_probation), referral_id=referral.pk, context=CTX)


def test_only_the_receiving_team_acts_on_a_referral(priya_police, morgan_mh, lena_liaison, ld_team, subject):
    referral = refer(priya_police, subject, ld_team)
    for outsider in (priya_police, morgan_mh):
        with pytest.raises(PartnershipRefused, match="Only the team the person was referred to"):
            referral_decide(actor=principal_for(outsider), referral_id=referral.pk, version=1, accept=True, reason="", context=CTX)
    with pytest.raises(PartnershipRefused, match="accepted referral"):
        referral_outcome(actor=principal_for(lena_liaison), referral_id=referral.pk, version=1, outcome="admitted", note="", context=CTX)
    assert Referral.objects.get().status == "pending"


def test_two_people_in_the_queue_cannot_overwrite_each_other(priya_police, lena_liaison, ld_team, subject):
    referral = refer(priya_police, subject, ld_team)
    accept(lena_liaison, referral)
    with pytest.raises(PartnershipRefused, match="updated this referral while you were looking"):
        referral_decide(actor=principal_for(lena_liaison), referral_id=referral.pk, version=1, accept=False, reason="No", context=CTX)


def test_contact_cannot_be_in_the_future(priya_police, lena_liaison, ld_team, subject):
    referral = accept(lena_liaison, refer(priya_police, subject, ld_team))
    with pytest.raises(PartnershipRefused, match="cannot be in the future"):
        referral_contact(
            actor=principal_for(lena_liaison),
            referral_id=referral.pk,
            version=referral.version,
            engagement="attended",
            contact_at=timezone.now() + dt.timedelta(hours=2),
            context=CTX,
        )


def test_a_referral_is_refused_to_a_team_that_could_not_see_the_record(priya_police, subject):
    subject.consent_status = ConsentStatus.GIVEN
    subject.consent_agency_kinds = [AgencyKind.POLICE]
    subject.lawful_basis = ""
    subject.save()
    probation_team = make_team("Integrated Offender Management", _agency("probation", AgencyKind.PROBATION))
    with pytest.raises(PartnershipRefused, match="cannot see this person's record"):
        refer(priya_police, subject, probation_team)
    assert not Referral.objects.exists()


def test_a_second_open_referral_to_the_same_team_is_refused(priya_police, ld_team, subject):
    refer(priya_police, subject, ld_team)
    with pytest.raises(PartnershipRefused, match="already has an open referral"):
        refer(priya_police, subject, ld_team)


def test_nobody_refers_a_person_whose_record_they_cannot_open(priya_police, ld_team, subject):
    subject.consent_status = ConsentStatus.WITHDRAWN
    subject.lawful_basis = ""
    subject.save()
    with pytest.raises(PartnershipRefused, match="whose record you can open"):
        refer(priya_police, subject, ld_team)


def test_the_form_says_what_is_missing(priya_police, ld_team, subject, client_for):
    priya = give_purpose(client_for(priya_police), subject.id)
    page = priya.post(f"/records/{subject.id}/refer/", {"to_team": "", "urgency": "", "reason": ""}).content.decode()
    for message in ("Choose the team to refer to.", "Choose how urgent the referral is.", "Say why you are referring the person"):
        assert message in page
    assert not Referral.objects.exists()


@pytest.mark.parametrize("count", [1, 50])
def test_queue_query_count_is_constant(count, priya_police, lena_liaison, ld_team, cmht_team, django_assert_num_queries):
    for i in range(count):
        refer(priya_police, make_subject(team=cmht_team), ld_team, urgency=["urgent", "soon", "routine"][i % 3])
    who = principal_for(lena_liaison)
    ContentType.objects.get_for_model(Referral)
    disclose_referral_list(principal=who, box="team", open_only=True, context=CTX)
    # referrals, savepoint, agreements, names, audit append (chain tip and insert in one), release: the same for 1 and 50.
    # (Lena's role writes nowhere on a caseload, so her caseload is not read.)
    with django_assert_num_queries(6):
        rows = disclose_referral_list(principal=who, box="team", open_only=True, context=CTX)
    assert len(rows) == count
    urgencies = [r.facts.urgency for r in rows]
    assert urgencies == sorted(urgencies, key=["urgent", "soon", "routine"].index)


@pytest.mark.parametrize("steps", [1, 25])
def test_referral_page_query_count_is_constant(steps, priya_police, lena_liaison, ld_team, subject, django_assert_num_queries):
    referral = accept(lena_liaison, refer(priya_police, subject, ld_team))
    for _ in range(steps):
        referral = referral_contact(
            actor=principal_for(lena_liaison),
            referral_id=referral.pk,
            version=referral.version,
            engagement="attended",
            contact_at=timezone.now(),
            context=CTX,
        )
    who = principal_for(priya_police)
    disclose_referral(principal=who, referral_id=referral.pk, context=CTX)
    # referral, savepoint, agreements, names, consent facts, standing, audit append, release, events.
    with django_assert_num_queries(9):
        view = disclose_referral(principal=who, referral_id=referral.pk, context=CTX)
    assert len(view.events) == steps + 2
