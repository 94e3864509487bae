"""Two app nodes sharing Redis and one database: what happens on one holds on the other.

Two gunicorn processes (the container's start command, production settings) with the same
MAIS_REDIS_URL and DATABASE_URL. Someone guessing Priya's password on node A locks her out on node B;
Nia's session, started on node A, works on node B, and once she signs out on node B the old session
cookie is refused on node A.
"""

from __future__ import annotations

import http.cookiejar
import socket
from pathlib import Path

import pytest
import redis
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.appserver import AppServer, production_env, shared_database_url
from tests.security.http import Browser

REDIS_URL = "redis://127.0.0.1:6379/14"


def _redis_answers() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379 (the CI machine has it)")


def node(log: Path) -> AppServer:
    return AppServer(production_env(DATABASE_URL=shared_database_url(), MAIS_REDIS_URL=REDIS_URL), log)


def _server_password(user, password: str) -> None:
    user.password = PBKDF2PasswordHasher().encode(password, PBKDF2PasswordHasher().salt())
    user.save()


def test_lockout_and_sign_out_hold_across_nodes(transactional_db, priya_police, nia_nurse, tmp_path):
    redis.Redis.from_url(REDIS_URL).flushdb()
    _server_password(priya_police, "Priya-correct-horse-battery")
    _server_password(nia_nurse, "Nia-correct-horse-battery")
    a, b = node(tmp_path / "a.log"), node(tmp_path / "b.log")
    try:
        # Someone guesses Priya's password on node A until she is locked out...
        guesser = Browser(a.base)
        guesser.get("/login/")
        statuses = [guesser.post("/login/", {"username": "priya", "password": f"guess-{i}"}).status for i in range(6)]
        assert statuses[-1] == 429, statuses
        # ...and on node B the right password does not get her in either.
        priya = Browser(b.base)
        priya.get("/login/")
        assert priya.post("/login/", {"username": "priya", "password": "Priya-correct-horse-battery"}).status == 429
        assert AuditEvent.objects.filter(event="login.lockout").exists()

        # Nia signs in on node A; the same session works on node B.
        nia = Browser(a.base)
        nia.get("/login/")
        assert nia.post("/login/", {"username": "nia", "password": "Nia-correct-horse-battery"}).status == 302
        device = TOTPDevice.objects.get(user=nia_nurse)
        assert nia.post("/login/verify/", {"code": f"{totp(device.bin_key):06d}"}).status == 302
        assert nia.get("/search/").status == 200
        nia.base = b.base
        assert nia.get("/search/").status == 200
        old_session = nia.cookie("sessionid")
        # She signs out on node B; her old session cookie is refused on node A.
        assert nia.post("/logout/", {}).status == 200
        replay = Browser(a.base)
        replay.cookies.set_cookie(next(c for c in nia.cookies if c.name == "csrftoken"))
        replay.cookies.set_cookie(
            http.cookiejar.Cookie(
                0, "sessionid", old_session, None, False, "127.0.0.1", False, False, "/", True, False, None, False, None, None, {}
            )
        )
        response = replay.get("/search/")
        assert response.status == 302 and response.headers["Location"].startswith("/login/")
    finally:
        a.stop()
        b.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
