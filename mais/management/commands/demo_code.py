"""Print the current TOTP code of a demo user (demo convenience only)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp


class Command(BaseCommand):
    help = "Print the current 6-digit code for a demo user listed in var/demo-credentials.json."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        import base64

        path = settings.VAR_DIR / "demo-credentials.json"
        creds = {c["username"]: c for c in json.loads(path.read_text())} if path.exists() else {}
        if username not in creds:
            raise CommandError(f"{username!r} is not a demo user; demo users are: {', '.join(creds) or 'none (run make demo)'}")
        key = base64.b32decode(creds[username]["totp_secret"])
        self.stdout.write(f"{totp(key, step=30, t0=0, digits=6, drift=0):06d}  (valid for {30 - int(time.time()) % 30} s)")
