"""The sharing matrix: administrators edit it in one grid; each change is versioned, audited and effective at once."""

from __future__ import annotations

from guardian.shortcuts import get_objects_for_group

from access.disclosure import disclose_subject
from access.models import DataItem, PolicyChange, PolicyVersion, Role
from access.policy import _load_grants, principal_for
from access.services import current_grants
from audit.models import AuditEvent
from audit.services import Purpose, RequestContext
from mais.warmup import warm_process_caches
from records.dataset import default_grants
from tests.conftest import give_purpose


def test_default_matrix_is_loaded_as_data(db):
    assert current_grants() == set(default_grants())


def _guardian_reading(role_codes: frozenset[str]) -> tuple[set[str], set[str], set[str], dict[str, tuple[str, ...]]]:
    """The grants as guardian's own ``get_objects_for_group`` reads them, role by role: what ``_load_grants`` reads
    in one statement must be exactly this."""
    readable: set[str] = set()
    anywhere: set[str] = set()
    caseload: set[str] = set()
    readers: dict[str, set[str]] = {}
    for role in Role.objects.filter(code__in=role_codes).select_related("group"):
        view = get_objects_for_group(role.group, "access.view_dataitem", klass=DataItem, accept_global_perms=False)
        change = get_objects_for_group(role.group, "access.change_dataitem", klass=DataItem, accept_global_perms=False)
        view_codes, change_codes = set(view.values_list("code", flat=True)), set(change.values_list("code", flat=True))
        readable |= view_codes | change_codes
        for code in view_codes | change_codes:
            readers.setdefault(code, set()).add(role.code)
        (caseload if role.writes_need_caseload else anywhere).update(change_codes)
    return readable, anywhere, caseload, {code: tuple(sorted(roles)) for code, roles in readers.items()}


def test_the_grants_of_any_set_of_roles_are_read_in_one_statement(db, django_assert_num_queries):
    """Every role alone, a pair and all roles together: one statement each (issue 6: the first request after a
    matrix change stays inside the budget), the same grants as guardian reads and as the default matrix gives."""
    codes = sorted(Role.objects.values_list("code", flat=True))
    assert len(codes) >= 3
    for roles in [frozenset((code,)) for code in codes] + [frozenset(codes[:2]), frozenset(codes)]:
        with django_assert_num_queries(1):
            loaded = _load_grants(roles)
        assert (loaded.readable, loaded.writable_anywhere, loaded.writable_on_caseload, dict(loaded.readers)) == _guardian_reading(roles), (
            roles
        )
        assert loaded.readable == {item for role, item, _ in default_grants() if role in roles}, roles


def _matrix_post(client, cells, summary="test"):
    data = {f"{p}__{r}__{i}": "on" for r, i, p in cells}
    data["summary"] = summary
    return client.post("/admin/matrix/", data)


def test_ada_withdraws_an_item_from_police_and_priya_loses_it_on_her_next_request(ada_admin, priya_police, subject, client_for):
    police = client_for(priya_police)
    give_purpose(police, subject.id)
    assert subject.violence_history in police.get(f"/records/{subject.id}/").content.decode()

    admin = client_for(ada_admin)
    assert admin.get("/admin/matrix/").status_code == 200
    cells = current_grants() - {("police_officer", "risk.violence_history", "view")}
    response = _matrix_post(admin, cells, "Police no longer need violence history")
    assert response.status_code == 302

    assert subject.violence_history not in police.get(f"/records/{subject.id}/").content.decode()
    version = PolicyVersion.objects.order_by("-number").first()
    assert version.number == 2 and version.summary == "Police no longer need violence history"
    assert PolicyChange.objects.filter(
        version=version, role__code="police_officer", item__code="risk.violence_history", granted=False
    ).exists()
    event = AuditEvent.objects.filter(event="policy.change").latest("id")
    assert event.actor == ada_admin
    assert {
        "role": "police_officer",
        "item": "risk.violence_history",
        "permission": "view",
        "before": True,
        "after": False,
    } in event.changes["cells"]


def test_granting_write_grants_read(ada_admin, client_for, db):
    admin = client_for(ada_admin)
    cells = current_grants() | {("police_officer", "mental_health.diagnoses", "change")}
    _matrix_post(admin, cells)
    assert ("police_officer", "mental_health.diagnoses", "view") in current_grants()


def test_matrix_change_needs_a_reason(ada_admin, client_for, db):
    response = _matrix_post(client_for(ada_admin), current_grants(), summary="")
    assert b"Say why the matrix is changing" in response.content


def test_only_administrators_reach_the_matrix(priya_police, aud_auditor, morgan_mh, client_for):
    for person in (priya_police, aud_auditor, morgan_mh):
        assert client_for(person).get("/admin/matrix/").status_code == 403


def test_policy_is_cached_per_version_with_no_per_item_queries(priya_police, subject, django_assert_num_queries):
    warm_process_caches()  # as a worker is once started (mais/warmup.py)
    from access.backends import AccountBackend
    from access.models import User

    principal_for(priya_police)  # warm the per-version cache
    fresh = User.objects.get(pk=priya_police.pk)  # loaded some other way than by the sign-in backend
    with django_assert_num_queries(2):  # groups with the policy version, agency
        principal_for(fresh)
    with django_assert_num_queries(1):  # as every request loads her: user, agency, groups, policy version and devices
        signed_in = AccountBackend().get_user(priya_police.pk)
        who = principal_for(signed_in)
    assert who == principal_for(fresh)
    # The record view: standing (caseload, emergency access, agreements, following and consent in one), then the
    # fields with their provenance read in the audit append's statement (alert rule count, lock, chain tip and
    # insert): two statements, and no transaction block of its own (the append is its only write).
    with django_assert_num_queries(2):
        disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose("custody_detention"), context=RequestContext())


def test_record_view_query_count_does_not_depend_on_items_shown(priya_police, nia_nurse, morgan_mh, subject, django_assert_num_queries):
    """Police read fewer items than nurses; Morgan's caseload check rides in the same standing query as the agreements."""
    warm_process_caches()  # as a worker is once started (mais/warmup.py)
    for person, expected in ((priya_police, 2), (nia_nurse, 2), (morgan_mh, 2)):
        who = principal_for(person)
        with django_assert_num_queries(expected):
            view = disclose_subject(principal=who, subject_id=subject.id, purpose=Purpose("custody_detention"), context=RequestContext())
        assert view.disclosed  # the counts are of a real disclosure, not of an empty one


def test_a_role_taken_away_applies_on_the_next_request(priya_police, subject, client_for):
    """Priya's roles are read with her user row on every request (one query), never kept in her session:
    once an administrator takes her police role away, her very next record view is refused."""
    from tests.conftest import give_purpose

    client = client_for(priya_police)
    give_purpose(client, subject.id)
    assert client.get(f"/records/{subject.id}/").status_code == 200
    priya_police.groups.clear()
    assert client.get(f"/records/{subject.id}/").status_code == 404


def test_the_signed_in_user_is_loaded_as_the_orm_loads_her(priya_police, django_assert_num_queries):
    """The backend reads Priya with plain SQL; every field of her and of her agency must be what the ORM reads."""
    from access.backends import AccountBackend
    from access.models import Agency, User

    with django_assert_num_queries(1):
        loaded = AccountBackend().get_user(priya_police.pk)
        agency = loaded.agency  # came with her: no second query
    orm = User.objects.select_related("agency").get(pk=priya_police.pk)
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(orm, field.attname)), field.name
    for field in Agency._meta.concrete_fields:
        assert getattr(agency, field.attname) == getattr(orm.agency, field.attname), field.name
    assert loaded.signed_in_facts["groups"] and loaded.signed_in_facts["devices"] == [
        f"otp_totp.totpdevice/{d.pk}" for d in priya_police.totpdevice_set.filter(confirmed=True)
    ]
    assert AccountBackend().get_user(10**9) is None
    assert AccountBackend().get_user("not a number") is None
