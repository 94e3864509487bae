"""No record content or credential reaches a log.

The app runs under gunicorn with the container's start command and production settings, its access and
error logs and the app's own log captured to a file. Morgan signs in (password and TOTP), searches by NHS
number and by name, opens the record, and writes a diagnosis note; then the logs are scanned for each
seeded canary: the synthetic NHS number, the family name searched for, the note, the password, the TOTP
code and the session key. The PostgreSQL server's log is scanned too when this connection can find it
(``pg_current_logfile()``); statement logging of this database would itself be a leak.
"""

from __future__ import annotations

import random
import secrets
from pathlib import Path

from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.synthetic import synthetic_nhs_number
from tests.appserver import AppServer, production_env, shared_database_url
from tests.factories import make_subject
from tests.security.http import Browser, form_fields


def _pg_log() -> tuple[Path | None, int]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_logfile()")
            name = cursor.fetchone()[0]
            cursor.execute("SHOW data_directory")
            data_dir = cursor.fetchone()[0]
    except Exception:  # noqa: BLE001 (not allowed for this role, or no log collector: nothing to scan)
        return None, 0
    if not name:
        return None, 0
    path = Path(name) if name.startswith("/") else Path(data_dir) / name
    try:
        return path, path.stat().st_size
    except OSError:
        return None, 0


def test_no_canary_reaches_any_log(transactional_db, morgan_mh, cmht_team, tmp_path):
    tag = secrets.token_hex(4).upper()
    nhs = synthetic_nhs_number(random.Random(secrets.randbits(32)))
    family = f"Canaryfield{tag.lower()}"
    note = f"CANARY-DIAGNOSIS-{tag} hears voices at night"
    password = f"Canary-Pass-{tag}-{secrets.token_hex(6)}"
    # Hashed as the server (production hashers) can check it; the suite's own fast hasher is not among them.
    morgan_mh.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt())
    morgan_mh.save()
    person = make_subject(team=cmht_team, family_name=family, given_names="Cora", nhs_number=nhs)

    env = production_env(DATABASE_URL=shared_database_url(), MAIS_LOG_LEVEL="INFO")
    log = tmp_path / "app.log"
    pg_log, pg_offset = _pg_log()
    with AppServer(env, log) as app:
        browser = Browser(app.base)
        browser.get("/login/")
        assert browser.post("/login/", {"username": "morgan", "password": password}).status == 302
        device = TOTPDevice.objects.get(user=morgan_mh)
        code = f"{totp(device.bin_key):06d}"
        assert browser.post("/login/verify/", {"code": code}).status == 302
        session_key = browser.cookie("sessionid")
        assert session_key
        purpose = {"reason": "care_planning", "reason_detail": "Review"}
        assert browser.post("/search/", {**purpose, "nhs_number": nhs}).status == 200
        assert family.upper() in browser.post("/search/", {**purpose, "name": family}).body
        assert browser.post(f"/records/{person.id}/", purpose).status == 302
        assert browser.get(f"/records/{person.id}/").status == 200
        edit = browser.get(f"/records/{person.id}/edit/mental_health/")
        assert edit.status == 200
        fields = [(k, note if k == "relapse_signs" else v) for k, v in form_fields(edit.body)]
        saved = browser.post(f"/records/{person.id}/edit/mental_health/", fields)
        assert saved.status == 302, saved.body[:2000]
        assert note in browser.get(f"/records/{person.id}/").body
        # A failed sign-in with the password typed into the username box: a common slip.
        Browser(browser.base).post("/login/", {"username": password, "password": "wrong"})
        browser.post("/logout/", {})

    canaries = {"NHS number": nhs, "family name": family, "diagnosis note": note, "password": password, "TOTP code": code}
    canaries["session key"] = session_key
    texts = {"gunicorn and app log": log.read_text(errors="replace")}
    assert "GET /login/" in texts["gunicorn and app log"], "the access log was written"
    if pg_log is not None:
        with pg_log.open("rb") as handle:
            handle.seek(pg_offset)
            texts["PostgreSQL log"] = handle.read().decode(errors="replace")
    leaks = [f"{what} in the {where}" for where, text in texts.items() for what, value in canaries.items() if value in text]
    assert not leaks, leaks
