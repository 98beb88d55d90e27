"""`manage.py verify_audit`: walk the hash-chained audit trail; exit 1 at the first broken link.

With `--against CHECKPOINT` (a file or an http(s) URL of a signed checkpoint, repeatable) the chain
must also still hold what each checkpoint signed: this finds events deleted from the end with the
head lowered, and an event rewritten with every later hash recomputed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from endorsement.audit import audit_verify
from endorsement.checkpoints import CheckpointError, audit_verify_against, checkpoint_load


class Command(BaseCommand):
    help = "Check every link of the audit trail; print the first broken one and exit 1, or exit 0."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--against", action="append", default=[], metavar="CHECKPOINT",
            help="a signed checkpoint (file or http(s) URL) the chain must still agree with; may be repeated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            checkpoints = [checkpoint_load(source) for source in options["against"]]
            report = audit_verify_against(checkpoints) if checkpoints else audit_verify()
        except CheckpointError as error:
            raise CommandError(f"checkpoint refused: {error}") from None
        if not report.ok and report.against_checkpoint:
            raise CommandError(f"audit chain disagrees with a signed checkpoint at seq {report.broken_seq}: "
                               f"{report.reason}")
        if not report.ok:
            # CommandError goes to stderr and makes the exit status 1.
            raise CommandError(
                f"audit chain broken at seq {report.broken_seq}: {report.reason} "
                f"({report.checked} events before it verified)"
            )
        suffix = f", consistent with {len(checkpoints)} signed checkpoint(s)" if checkpoints else ""
        self.stdout.write(f"audit chain intact: {report.checked} events{suffix}")
