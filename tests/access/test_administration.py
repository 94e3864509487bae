"""The administrator workspace: agencies, users, CSV import, access review; every action audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Agency, User
from audit.models import AuditEvent
from tests.conftest import give_purpose
from tests.factories import PASSWORD

HEADER = "username,first_name,last_name,email,agency_code,roles,expires_on\n"


def test_only_administrators_reach_the_workspace(priya_police, aud_auditor, morgan_mh, client_for):
    for person in (priya_police, aud_auditor, morgan_mh):
        client = client_for(person)
        for url in ("/admin/", "/admin/users/", "/admin/users/new/", "/admin/agencies/", "/admin/access-review/", "/admin/users/import/"):
            assert client.get(url).status_code == 403, (person.username, url)


def test_administrator_reads_no_health_risk_or_justice_content(ada_admin, client_for, subject):
    client = client_for(ada_admin)
    give_purpose(client, subject.id, "data_quality")
    html = client.get(f"/records/{subject.id}/").content.decode()
    for value in (subject.violence_history, subject.relapse_signs, subject.offence_history, subject.custody_advice):
        assert value not in html


def test_register_edit_roles_and_audit_before_and_after(ada_admin, client_for, db):
    agency = Agency.objects.create(code="nw-police", name="NW Police", kind="police")
    client = client_for(ada_admin)
    response = client.post(
        "/admin/users/new/",
        {
            "username": "sam.officer",
            "first_name": "Sam",
            "last_name": "Officer",
            "email": "sam@police.example",
            "agency": agency.pk,
            "roles": ["police_officer"],
            "expires_on": "31/12/2099",
        },
    )
    assert response.status_code == 302
    sam = User.objects.get(username="sam.officer")
    assert not sam.has_usable_password()
    created = AuditEvent.objects.filter(event="admin.user", actor=ada_admin).latest("id")
    assert created.changes["before"] is None and created.changes["after"]["roles"] == ["police_officer"]
    client.post(
        f"/admin/users/{sam.pk}/",
        {
            "first_name": "Sam",
            "last_name": "Officer",
            "email": "sam@police.example",
            "agency": agency.pk,
            "roles": ["police_officer", "custody_nurse"],
            "expires_on": "31/12/2099",
        },
    )
    edit = AuditEvent.objects.filter(event="admin.user", actor=ada_admin).latest("id")
    assert edit.changes["before"]["roles"] == ["police_officer"]
    assert edit.changes["after"]["roles"] == ["custody_nurse", "police_officer"]


def test_register_refuses_bad_input_clearly(ada_admin, client_for, db):
    html = (
        client_for(ada_admin)
        .post("/admin/users/new/", {"username": "Bad Name!", "email": "nope", "expires_on": "01/01/2000"})
        .content.decode()
    )
    assert "lower-case letters" in html and "Enter a valid email address" in html and "Choose at least one role" in html


def test_deactivating_a_user_ends_their_session_on_the_next_request(ada_admin, priya_police, client_for):
    police = client_for(priya_police)
    assert police.get("/search/").status_code == 200
    client_for(ada_admin).post(f"/admin/users/{priya_police.pk}/deactivate/")
    response = police.get("/search/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    relogin = Client().post("/login/", {"username": "priya", "password": PASSWORD})
    assert relogin.status_code == 200  # refused with the usual message
    assert AuditEvent.objects.filter(event="admin.user", changes__action="deactivate").exists()


def test_deactivating_an_agency_stops_its_users(ada_admin, priya_police, client_for):
    police = client_for(priya_police)
    client_for(ada_admin).post(f"/admin/agencies/{priya_police.agency_id}/", {"active": "0"})
    assert police.get("/search/").status_code == 302
    assert Client().post("/login/", {"username": "priya", "password": PASSWORD}).status_code == 200
    assert AuditEvent.objects.filter(event="admin.agency", changes__action="deactivate").exists()


def test_expired_account_session_ends(priya_police, client_for):
    police = client_for(priya_police)
    User.objects.filter(pk=priya_police.pk).update(expires_on=timezone.localdate() - dt.timedelta(days=1))
    assert police.get("/search/").status_code == 302


def test_reset_second_factor_forces_enrolment(ada_admin, priya_police, client_for):
    client_for(ada_admin).post(f"/admin/users/{priya_police.pk}/reset-second-factor/")
    assert not TOTPDevice.objects.filter(user=priya_police).exists()
    response = Client().post("/login/", {"username": "priya", "password": PASSWORD})
    assert response["Location"] == "/login/enrol/"


def test_password_link_sets_a_password_but_never_bypasses_the_second_factor(ada_admin, priya_police, client_for):
    admin = client_for(ada_admin)
    admin.post(f"/admin/users/{priya_police.pk}/password-link/")
    page = admin.get(f"/admin/users/{priya_police.pk}/").content.decode()
    link = page.split('data-testid="reset-link">')[1].split("<")[0].replace("http://testserver", "")
    browser = Client()
    form = browser.get(link, follow=True)
    assert b"Set your password" in form.content
    done = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": "a brand new passphrase 7", "new_password2": "a brand new passphrase 7"},
    )
    assert done.status_code == 302 and done["Location"] == "/login/reset/done/"
    assert browser.get("/search/").status_code == 302  # not signed in
    step = browser.post("/login/", {"username": "priya", "password": "a brand new passphrase 7"})
    assert step["Location"] == "/login/verify/"
    assert browser.get("/search/")["Location"] == "/login/verify/"
    assert Client().get(link, follow=True).content.count(b"expired or was already used") == 1


def _import(client, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/admin/users/import/", {"file": SimpleUploadedFile("users.csv", text.encode(), content_type="text/csv")})


def test_csv_import_registers_every_row_when_all_are_good(ada_admin, client_for, db):
    Agency.objects.create(code="probation-nw", name="Probation NW", kind="probation")
    text = (
        HEADER
        + "alex.om,Alex,Omar,alex@probation.example,probation-nw,probation_officer,2099-01-01\nbea.o,Bea,O'Brien,bea@probation.example,probation-nw,probation_officer;auditor,\n"
    )
    response = _import(client_for(ada_admin), text)
    assert response.status_code == 302
    assert set(User.objects.filter(username__in=["alex.om", "bea.o"]).values_list("username", flat=True)) == {"alex.om", "bea.o"}
    assert AuditEvent.objects.filter(event="admin.user", changes__action="register").count() == 2


def test_csv_import_is_all_or_nothing_and_lists_each_bad_row(ada_admin, priya_police, client_for):
    Agency.objects.create(code="probation-nw", name="Probation NW", kind="probation")
    Agency.objects.create(code="closed", name="Closed", kind="other", is_active=False)
    rows = [
        "good.one,Good,One,good@x.example,probation-nw,probation_officer,",
        "priya,Dup,Existing,d@x.example,probation-nw,probation_officer,",  # exists already
        "twin,Twin,A,t1@x.example,probation-nw,probation_officer,",
        "twin,Twin,B,t2@x.example,probation-nw,probation_officer,",  # duplicate in file
        'evil,"=HYPERLINK(""http://evil"")",X,e@x.example,probation-nw,probation_officer,',  # formula injection
        "norole,No,Role,n@x.example,probation-nw,,",
        "badagency,Bad,Agency,b@x.example,nowhere,police_officer,",
        "closedag,Closed,Agency,c@x.example,closed,police_officer,",
        "baddate,Bad,Date,bd@x.example,probation-nw,police_officer,31/12/2030",
        "bademail,Bad,Email,not-an-email,probation-nw,police_officer,",
        "extra,Too,Many,m@x.example,probation-nw,police_officer,,surplus",
    ]
    html = _import(client_for(ada_admin), HEADER + "\n".join(rows) + "\n").content.decode()
    assert "No users were registered" in html
    for row, words in [
        (3, "already exists"),
        (5, "also on row 4"),
        (6, "must not start with"),
        (7, "at least one role"),
        (8, "does not exist"),
        (9, "is deactivated"),
        (10, "YYYY-MM-DD"),
        (11, "not a valid address"),
        (12, "more cells"),
    ]:
        assert f"Row {row}: " in html and words in html, (row, words)
    assert "Row 2:" not in html
    assert not User.objects.filter(username__in=["good.one", "twin", "evil"]).exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,email\nx,y\n", "The first row must be exactly"),
        (HEADER, "The file has no users in it"),
    ],
)
def test_csv_import_rejects_malformed_files(text, message, ada_admin, client_for, db):
    assert message in _import(client_for(ada_admin), text).content.decode()


def test_csv_import_rejects_non_utf8(ada_admin, client_for, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    html = (
        client_for(ada_admin)
        .post("/admin/users/import/", {"file": SimpleUploadedFile("u.csv", "caf\xe9".encode("latin-1"))})
        .content.decode()
    )
    assert "not UTF-8" in html


def test_access_review_lists_unused_expiring_and_expired_and_deactivates_in_one_step(ada_admin, client_for, db):
    agency = Agency.objects.create(code="a", name="A", kind="other")
    today = timezone.localdate()
    stale = User.objects.create(username="stale", agency=agency, last_login=timezone.now() - dt.timedelta(days=120))
    soon = User.objects.create(username="soon", agency=agency, last_login=timezone.now(), expires_on=today + dt.timedelta(days=10))
    gone = User.objects.create(username="gone", agency=agency, last_login=timezone.now(), expires_on=today - dt.timedelta(days=1))
    fresh = User.objects.create(username="fresh", agency=agency, last_login=timezone.now())
    client = client_for(ada_admin)
    html = client.get("/admin/access-review/").content.decode()
    for user in (stale, soon, gone):
        assert f">{user.username}<" in html
    assert ">fresh<" not in html
    response = client.post(f"/admin/users/{stale.pk}/deactivate/", {"next": "/admin/access-review/"})
    assert response["Location"] == "/admin/access-review/"
    stale.refresh_from_db()
    assert not stale.is_active and fresh.is_active


def test_agency_create_and_edit_are_audited(ada_admin, client_for, db):
    client = client_for(ada_admin)
    client.post("/admin/agencies/", {"code": "new-ag", "name": "New Agency", "kind": "probation"})
    agency = Agency.objects.get(code="new-ag")
    client.post(f"/admin/agencies/{agency.pk}/", {"code": "new-ag", "name": "Renamed Agency", "kind": "probation"})
    event = AuditEvent.objects.filter(event="admin.agency").latest("id")
    assert event.changes["before"]["name"] == "New Agency" and event.changes["after"]["name"] == "Renamed Agency"
