"""Set up and serve the demo: migrate, load demo data, print how to sign in, serve on 127.0.0.1:8000.

Ctrl-C (or SIGTERM) stops the server; the embedded PostgreSQL stops with this process.
"""

from __future__ import annotations

import json
import signal
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
        # `kill` (SIGTERM) stops it the same way as Ctrl-C: without this the process died at once, skipping the
        # exit hooks, and the embedded PostgreSQL was left running.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            call_command("runserver", addrport, use_reloader=False, use_threading=True)
        except KeyboardInterrupt:
            out.write("Stopped.")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
