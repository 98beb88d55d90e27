"""`manage.py registry_rebuild`: render every registry entry again (the full rebuild).

Changes re-render only their own entries (endorsement.registry); this renders all of them, writes
those that differ and prints how many entries the registry has and its digest. Safe to repeat.
Run it after a deployment that changed how entries are rendered (the daily beat task
`rebuild_registry` does the same).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from endorsement.registry import registry_refresh


class Command(BaseCommand):
    help = "Render every entry of the public registry again; write the ones that changed."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        snapshot = registry_refresh()
        self.stdout.write(f"registry: {snapshot.entry_count} entries, digest {snapshot.digest} "
                          f"({time.perf_counter() - started:.1f} s)")
