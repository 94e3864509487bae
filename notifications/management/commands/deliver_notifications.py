"""Send due change notifications (email, webhooks; retries). Run it every minute, or with --loop as a worker."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.services import deliver_due


class Command(BaseCommand):
    help = "Send due change notifications and retry failed ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, checking every --interval seconds.")
        parser.add_argument("--interval", type=int, default=15)

    def handle(self, *args: Any, loop: bool, interval: int, **options: Any) -> None:
        while True:
            counts = deliver_due()
            if any(counts.values()):
                self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
            if not loop:
                return
            time.sleep(interval)
