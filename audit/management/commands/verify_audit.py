"""Verify the audit hash chain; exit non-zero naming the first bad row."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from audit.verify import verify_and_record


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain. Exits 1 and names the first bad row if it is broken."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_and_record()
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {report.message}"))
            return
        self.stderr.write(f"BROKEN: {report.message}")
        sys.exit(1)
