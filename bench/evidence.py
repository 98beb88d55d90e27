"""Benchmark: the cost of archiving evidence files with the badges (issue 10, docs/evidence.md).

Issues N badges one by one through the real award service (`badges.awards.award_issue`, as
`POST /api/v1/programmes/{id}/awards` does), three ways, on a fresh database and a fresh archive
folder of the bench's own:

* without files (the baseline);
* each with its own evidence file of `--size` bytes (a PDF header and random bytes: every file
  distinct, the worst case for storage), archived and bound into the credential;
* all with the very same file (stored once: the content-addressed case).

Printed for each: badges per second (wall clock and per CPU-second), p50/p95 ms per badge, and the
archive's files and bytes on disk (with the database's rows of the archive).

    .venv/bin/python bench/evidence.py                    # N=2000, 200 KB files, fresh SQLite
    .venv/bin/python bench/evidence.py --postgres         # on a fresh PostgreSQL database
    .venv/bin/python bench/evidence.py --n 5 --warmup 2   # smoke
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup as setup


def _disk(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def _issue(programme: Any, issuer: Any, n: int, files: Any, tag: str, offset: int = 0
           ) -> tuple[float, float, list[float]]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from badges.awards import award_issue

    latencies = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i in range(offset, offset + n):
        uploads = [SimpleUploadedFile(f"evidence-{i}.pdf", data) for data in files(i)]
        start = time.perf_counter()
        award_issue(actor=issuer, programme=programme, recipient_email=f"l{tag}{i}@example.org",
                    recipient_name=f"Learner {i}", evidence_narrative="Assessed portfolio.", evidence_files=uploads)
        latencies.append((time.perf_counter() - start) * 1000)
    return time.perf_counter() - wall0, time.process_time() - cpu0, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--size", type=int, default=200 * 1024, help="bytes per evidence file")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--block", type=int, default=100,
                        help="badges per way in each round: the ways take turns, so each meets the same database "
                             "growth (every award makes the status list and the tables larger)")
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url")
    args = parser.parse_args()

    setup.exit_cleanly_on_sigterm()
    database = setup.bench_database(args.database_url, postgres=args.postgres)
    archive = Path(tempfile.mkdtemp(prefix="microcred-evidence-bench-"))
    os.environ["EVIDENCE_ROOT"] = str(archive)
    try:
        setup.django_start(database.url)
        from django.conf import settings

        settings.STORAGES = {**settings.STORAGES, "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(archive)}}}
        settings.EVIDENCE_UPLOAD_MAX_BYTES = max(settings.EVIDENCE_UPLOAD_MAX_BYTES, args.size + 64)
        settings.EVIDENCE_AWARD_MAX_BYTES = max(settings.EVIDENCE_AWARD_MAX_BYTES, args.size + 64)
        from django.core.files.storage import storages

        storages._storages.pop("evidence", None)  # the alias as just set
        setup.migrate()
        from badges.models import ArchivedEvidence, EvidenceBlob

        programme, issuer = setup.endorsed_programme()
        print(f"machine: {setup.machine()}; load {setup.load_now()}; database {database.vendor}; "
              f"N={args.n}, files of {args.size:,} bytes")
        header = b"%PDF-1.7\n"
        same = header + os.urandom(args.size - len(header))
        ways = [
            ("without files", lambda i: []),
            ("a distinct file each", lambda i: [header + os.urandom(args.size - len(header))]),
            ("the same file in every badge", lambda i: [same]),
        ]
        _issue(programme, issuer, args.warmup, lambda i: [], "warm")
        totals = {label: [0.0, 0.0, [], 0, 0] for label, _files in ways}  # wall, cpu, latencies, files, bytes
        done = 0
        while done < args.n:
            block = min(args.block, args.n - done)
            for way, (label, files) in enumerate(ways):
                before_files, before_bytes = _disk(archive)
                wall, cpu, latencies = _issue(programme, issuer, block, files, f"w{way}-", offset=done)
                after_files, after_bytes = _disk(archive)
                total = totals[label]
                total[0] += wall
                total[1] += cpu
                total[2] += latencies
                total[3] += after_files - before_files
                total[4] += after_bytes - before_bytes
            done += block
        baseline = None
        for label, (wall, cpu, latencies, added_files, added_bytes) in totals.items():
            rate = args.n / wall
            baseline = baseline or rate
            print(f"  {label:<30} {rate:8.1f} /s wall {args.n / cpu:8.1f} /CPU-s; per badge "
                  f"{setup.p50_p95(latencies)}; {rate / baseline:5.0%} of the baseline")
            print(f"    archive: +{added_files} files, +{added_bytes / 1e6:,.1f} MB on disk "
                  f"({added_bytes / max(1, args.n) / 1024:,.1f} KiB per badge)")
        print(f"  archive rows: {ArchivedEvidence.objects.filter(award__isnull=False).count()} award items, "
              f"{ArchivedEvidence.objects.filter(endorsement__isnull=False).count()} endorsement documents, "
              f"{EvidenceBlob.objects.count()} blobs")
    finally:
        shutil.rmtree(archive, ignore_errors=True)
        database.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
