"""`manage.py audit_checkpoint`: sign a checkpoint of the audit chain now (beat does it hourly)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from endorsement.checkpoints import CheckpointError, checkpoint_from_row, checkpoint_make


class Command(BaseCommand):
    help = (
        "Sign a checkpoint of the audit chain (its length and head hash) with the body's key, store it and "
        "print it as JSON (or write it to --output). Nothing new is signed when no event was added since the "
        "last one. Exits 1, signing nothing, if the chain does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="also write the checkpoint to FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = checkpoint_make()
        except CheckpointError as error:
            raise CommandError(str(error)) from None
        text = json.dumps(checkpoint_from_row(row).document(), indent=2) + "\n"
        if options["output"]:
            try:
                Path(options["output"]).write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(f"{options['output']}: cannot be written ({error})") from None
        self.stdout.write(text, ending="")
