"""`manage.py verify_audit`: walk the hash-chained audit trail; exit 1 at the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from endorsement.audit import audit_verify


class Command(BaseCommand):
    help = "Check every link of the audit trail; print the first broken one and exit 1, or exit 0."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.ok:
            # CommandError goes to stderr and makes the exit status 1.
            raise CommandError(
                f"audit chain broken at seq {report.broken_seq}: {report.reason} "
                f"({report.checked} events before it verified)"
            )
        self.stdout.write(f"audit chain intact: {report.checked} events")
