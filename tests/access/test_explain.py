""" "Why can I see this?": every explanation names the rule that actually applied.

Generated from the policy data (guardian grants) and the agreements in the
database, for every role: each shown item names the roles whose grant allows
it and the agreement that covers it for the purpose given (or the caseload, or
emergency access), each withheld item names the rule that withholds it, and
no explanation carries a value.
"""

from __future__ import annotations

import pytest

from access.disclosure import disclose_subject
from access.policy import principal_for
from access.services import current_grants
from audit.services import Purpose, RequestContext
from governance.services import emergency_access_start
from records.dataset import ITEMS
from tests.access.test_disclosure import ROLE_CODES, readable_by, sentinel_subject
from tests.conftest import give_purpose
from tests.factories import PASSWORD, make_agreement
from tests.governance.test_agreements import COVERED, narrow_agreement

PURPOSE = Purpose("custody_detention", "test")
CTX = RequestContext("test-request", "127.0.0.1")
READING_ROLES = [r for r in ROLE_CODES if r not in ("auditor", "mh_practitioner")]


def roles_granting(item_code: str) -> set[str]:
    return {role for role, item, _ in current_grants() if item == item_code}


def items_of(view):
    return {i.code: i for s in view.sections for i in s.items}


@pytest.mark.parametrize("role", READING_ROLES)
def test_each_explanation_matches_the_role_grant_and_agreement_that_applied(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    view = disclose_subject(principal=principal_for(person), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    for code, item in items_of(view).items():
        why = item.why
        assert why is not None, code
        if code in readable_by(role):
            assert not item.withheld
            assert why.rule == "agreement", code
            assert set(why.roles) == roles_granting(code) & {role}, code
            assert why.agreements == ("TEST-NETWORK",), code
            assert any("TEST-NETWORK" in line for line in why.lines)
            assert any(line.startswith("Lawful basis:") for line in why.lines)
        else:
            assert item.withheld and why.rule == "role", code
            assert why.roles == () and why.agreements == ()
        assert not any("TOKEN-" in line for line in why.lines), code


@pytest.mark.parametrize("role", READING_ROLES)
def test_withheld_items_explain_the_missing_agreement_or_the_other_purpose(role, person_for_role, cmht_team):
    person = person_for_role(role)
    subject = sentinel_subject(cmht_team)
    # The agency's agreement covers identity and risk for custody, and everything else only for care planning.
    narrow_agreement(person)
    elsewhere = {i.code for i in ITEMS if i.section == "mental_health"}
    make_agreement([person.agency], reference=f"CARE-{role}", items=sorted(elsewhere), purposes=["care_planning"])
    view = disclose_subject(principal=principal_for(person), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    for code, item in items_of(view).items():
        why = item.why
        granted = code in readable_by(role)
        if granted and code in COVERED:
            assert why.rule == "agreement" and why.agreements == (f"NARROW-{person.agency.code}",), code
        elif granted and code in elsewhere:
            assert item.withheld and why.rule == "purpose" and why.other_agreements == (f"CARE-{role}",), code
            assert "Person in police custody" in " ".join(why.lines)
        elif granted:
            assert item.withheld and why.rule == "agreement_missing", code
        else:
            assert item.withheld and why.rule == "role", code


def test_the_owning_team_is_told_it_needs_no_agreement(morgan_mh, subject):
    view = disclose_subject(principal=principal_for(morgan_mh), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    for code, item in items_of(view).items():
        if not item.withheld:
            assert item.why.rule == "caseload", code
            assert item.why.agreements == ()


def test_emergency_access_is_named_as_the_reason(priya_police, subject):
    who = principal_for(priya_police)
    emergency_access_start(
        principal=who,
        user=priya_police,
        subject_id=subject.id,
        context=CTX,
        reason_code="custody_risk",
        reason_text="Custody record 77: tied ligature.",
        password=PASSWORD,
    )
    view = disclose_subject(principal=who, subject_id=subject.id, purpose=PURPOSE, context=CTX)
    rules = {item.why.rule for item in items_of(view).values()}
    assert rules == {"emergency"}
    withheld_normally = set(items_of(view)) - readable_by("police_officer")
    for code in withheld_normally:
        assert items_of(view)[code].why.roles == (), code


def test_the_lawful_basis_line_follows_the_record(priya_police, cmht_team):
    subject = sentinel_subject(cmht_team)
    subject.lawful_basis = "safeguarding"
    subject.save()
    view = disclose_subject(principal=principal_for(priya_police), subject_id=subject.id, purpose=PURPOSE, context=CTX)
    why = items_of(view)["identity.family_name"].why
    assert "Public task: safeguarding individuals at risk" in why.lines[-1]


def test_the_record_page_offers_the_explanation_on_demand(priya_police, subject, client_for):
    client = give_purpose(client_for(priya_police), subject.id)
    html = client.get(f"/records/{subject.id}/").content.decode()
    assert html.count("Why can I see this?") == len(readable_by("police_officer"))
    assert html.count("Why is this not shared?") == len(ITEMS) - len(readable_by("police_officer"))
    assert 'data-why="role"' in html and 'data-why="agreement"' in html
