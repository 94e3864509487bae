"""Set up and serve the demo: migrate, load demo data, print how to sign in, serve on 127.0.0.1:8000.

Ctrl-C (or SIGTERM) stops the server; the embedded PostgreSQL stops with this process.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load demo data, print demo sign-ins and serve http://127.0.0.1:8000 until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Set up and print sign-ins, then exit.")

    def handle(self, *args: Any, addrport: str, no_serve: bool, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        creds = json.loads((settings.VAR_DIR / "demo-credentials.json").read_text())
        out = self.stdout
        out.write("")
        out.write(f"MAIS demo at http://{addrport}/  (credentials also in var/demo-credentials.json)")
        out.write("Each user signs in with username + password, then a 6-digit code from an authenticator app:")
        out.write("add the TOTP secret to any authenticator app, or print the current code with")
        out.write("  make code USER=<username>")
        out.write("On first sign-in each user confirms the network's information-sharing protocol (one tick).\n")
        out.write(f"  {'username':<10} {'password':<20} {'role':<27} {'TOTP secret':<34} agency")
        for c in creds:
            out.write(f"  {c['username']:<10} {c['password']:<20} {c['role']:<27} {c['totp_secret']:<34} {c['agency']}")
        api_token = settings.VAR_DIR / "demo-api-credential.txt"
        if api_token.exists():
            out.write(
                "API (client system 'Merseyside Police custody system (demo)', police role); credential in var/demo-api-credential.txt:"
            )
            out.write(
                f'  curl -s -X POST http://{addrport}/api/v1/search -H "Authorization: Bearer $(cat var/demo-api-credential.txt)" '
                "-H 'X-On-Behalf-Of: PC 1234' -H 'X-Purpose: custody_detention' -H 'Content-Type: application/json' -d '{\"name\": \"Smyth\"}'"
            )
            out.write(f"  OpenAPI description: http://{addrport}/api/schema/")
        out.write("")
        if no_serve:
            return
        out.write("Press Ctrl-C to stop the server and the embedded database.")
        serve_until_stopped(
            lambda: call_command("runserver", addrport, use_reloader=False, use_threading=True, shutdown_message="Stopped.")
        )


def serve_until_stopped(serve: Callable[[], object]) -> None:
    """Run ``serve`` until Ctrl-C or SIGTERM (runserver turns either into a clean exit of the process).

    Rules: SIGTERM (``kill``) stops it as Ctrl-C does; without a handler the process died at once, skipping the
    exit hooks, and the embedded PostgreSQL was left running. And once stopping has begun, further Ctrl-Cs and
    SIGTERMs are ignored, so that the exit hooks, which stop the embedded PostgreSQL, run to their end: ``make``
    passes a SIGTERM sent to its process group on to its child, so the demo gets it twice, and the second, raised
    inside an exit hook, cut short the hook's write of the server's holder list (mais/embedded_db.py).
    """
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        serve()
    except KeyboardInterrupt:
        pass
    finally:
        _ignore_stop_signals()


class _Stop:
    begun = False


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """The first stop signal raises KeyboardInterrupt; any later one, even one that trips before this handler has
    ignored the rest (make's copy of a SIGTERM comes microseconds after the original), does nothing."""
    if _Stop.begun:
        return
    _Stop.begun = True
    _ignore_stop_signals()
    raise KeyboardInterrupt


def _ignore_stop_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
