"""Benchmark of issue 10: issuing a batch of 2,000 badges with a 200 KB evidence file each, against
the same batch without files: throughput and the storage used (docs/evidence.md).

Two batches of N rows go through the real batch service (`badges.batches`): the same learners'
fields, one batch with no files, the other naming in its `evidence_files` column one distinct file
of `--size` bytes per row (a PDF header and random bytes, so no two are alike: the worst case for
storage), uploaded beforehand through the evidence upload service (`POST …/evidence-files`,
`badges.batch_files.evidence_upload_store`: checked by content, hashed, stored content-addressed),
which is timed as part of the cost of the files. Each batch is accepted (`award_batch_create`:
every row checked, the files resolved) and then issued chunk by chunk in this process, the two
batches' chunks taking turns, so that both meet the same database growth; each chunk signs its
rows, stores their archive rows and runs its follow-up tasks eagerly (status list, learner mails),
as a worker would.

Printed for each way: wall time, CPU time of this process (all the work runs in it), the load
average of the machine around it, badges per wall second and per CPU-second, p50/p95 per chunk,
and the storage it added: files and bytes in the archive, rows, and (SQLite) the database file's
growth over its chunks.

    .venv/bin/python bench/evidence.py                    # N=2000, 200 KB files, fresh SQLite
    .venv/bin/python bench/evidence.py --postgres         # on a fresh PostgreSQL database
    .venv/bin/python bench/evidence.py --n 20 --warmup 2  # smoke
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


class Way:
    """One batch's measurements."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.wall = self.cpu = 0.0
        self.chunks: list[float] = []
        self.loads: list[float] = []
        self.db_growth = 0
        self.batch: Any = None

    def timed(self, work: Any, db_size: Any) -> Any:
        size0 = db_size()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = work()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        self.wall += wall
        self.cpu += cpu
        self.db_growth += db_size() - size0
        self.loads.append(os.getloadavg()[0])
        return result, wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--size", type=int, default=200 * 1000, help="bytes per evidence file (200 KB)")
    parser.add_argument("--warmup", type=int, default=20, help="badges issued first, not measured")
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
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import connection

        from badges import batches
        from badges.batch_files import evidence_upload_store
        from badges.models import ArchivedEvidence, AwardBatch, EvidenceBlob, EvidenceUpload

        sqlite_file = Path(connection.settings_dict["NAME"]) if connection.vendor == "sqlite" else None

        def db_size() -> int:
            return sqlite_file.stat().st_size if sqlite_file and sqlite_file.exists() else 0

        programme, issuer = setup.endorsed_programme()
        print(f"machine: {setup.machine()}; load {setup.load_now()}; database {database.vendor}; "
              f"N={args.n} per batch, files of {args.size:,} bytes, chunks of {batches.CHUNK_SIZE}")
        # Warm-up (imports, caches, the first status list): a small batch without files, eagerly.
        if args.warmup:
            setup.issue_batch(programme, issuer, batches.rows_from_json(
                [{"email": f"warm{i}@example.org"} for i in range(args.warmup)]))

        plain, filed = Way("without files"), Way(f"a {args.size // 1000} KB file each")
        header = b"%PDF-1.7\n"

        # The files, uploaded beforehand (what an LMS export script would do), in requests of 10.
        def upload_all() -> list[str]:
            handles = []
            for start in range(0, args.n, 10):
                uploads = [SimpleUploadedFile(f"evidence-{i}.pdf", header + os.urandom(args.size - len(header)))
                           for i in range(start, min(start + 10, args.n))]
                handles += [f.as_json()["handle"] for f in
                            evidence_upload_store(actor=issuer, organisation=programme.organisation, uploads=uploads)]
            return handles

        files0 = _disk(archive)
        handles, upload_wall = filed.timed(upload_all, db_size)
        upload_cpu = filed.cpu

        def rows(tag: str, with_files: bool) -> list[Any]:
            return batches.rows_from_json([{
                "email": f"learner-{tag}{i}@example.org", "name": f"Learner {i}",
                "evidence_narrative": "Passed three assessed assignments; final project on regional sales data.",
                **({"evidence_files": handles[i]} if with_files else {})} for i in range(args.n)])

        # Accepted with their chunk tasks held back, so that the two batches' chunks can take turns.
        started = batches.award_batch_start
        batches.award_batch_start = lambda batch, chunks=None: None
        try:
            plain.batch, _ = plain.timed(lambda: batches.award_batch_create(
                actor=issuer, programme=programme, rows=rows("p", False)), db_size)
            filed.batch, _ = filed.timed(lambda: batches.award_batch_create(
                actor=issuer, programme=programme, rows=rows("f", True)), db_size)
        finally:
            batches.award_batch_start = started
        for start in range(0, args.n, batches.CHUNK_SIZE):
            end = min(start + batches.CHUNK_SIZE, args.n)
            for way in (plain, filed):
                _issued, wall = way.timed(
                    lambda w=way, s=start, e=end: batches.award_batch_issue_chunk(w.batch.pk, s, e), db_size)
                way.chunks.append(wall * 1000)
        files1 = _disk(archive)
        for way in (plain, filed):
            batch = AwardBatch.objects.get(pk=way.batch.pk)
            if batch.state != AwardBatch.State.DONE or batch.issued != args.n:
                raise RuntimeError(f"{way.label}: the batch did not complete ({batch.state}, {batch.issued})")

        print(f"  upload of the {args.n:,} files beforehand: {upload_wall:.1f} s wall, {upload_cpu:.1f} s CPU "
              f"({args.n / upload_wall:,.0f} files/s wall, {args.n / max(upload_cpu, 1e-9):,.0f} /CPU-s)")
        for way in (plain, filed):
            print(f"  {way.label:<18} {way.wall:7.1f} s wall, {way.cpu:7.1f} s CPU "
                  f"(CPU/wall {way.cpu / way.wall:4.0%}; load average {min(way.loads):.1f}–{max(way.loads):.1f}): "
                  f"{args.n / way.wall:6.1f} badges/s wall, {args.n / way.cpu:6.1f} /CPU-s; per chunk of "
                  f"{batches.CHUNK_SIZE} {setup.p50_p95(way.chunks)}")
        issue_wall, issue_cpu = filed.wall - upload_wall, filed.cpu - upload_cpu
        print(f"    of which accepting and issuing the batch with files: {issue_wall:.1f} s wall, "
              f"{issue_cpu:.1f} s CPU "
              f"({args.n / issue_wall:.1f} badges/s wall, {args.n / issue_cpu:.1f} /CPU-s; "
              f"{plain.cpu / issue_cpu:4.0%} of the per-CPU throughput without files)")
        print(f"  with files / without: {plain.wall / filed.wall:4.0%} of the wall-clock throughput, "
              f"{plain.cpu / filed.cpu:4.0%} of the per-CPU throughput "
              f"(+{(filed.cpu - plain.cpu) / args.n * 1000:.1f} ms CPU per badge, uploads included)")
        added_files, added_bytes = files1[0] - files0[0], files1[1] - files0[1]
        print(f"  archive: +{added_files:,} files, +{added_bytes / 1e6:,.1f} MB on disk "
              f"({added_bytes / max(1, args.n) / 1000:,.1f} KB per badge with a file; nothing for the batch "
              f"without files)")
        print(f"  rows: {ArchivedEvidence.objects.filter(award__batch=filed.batch).count():,} archived items, "
              f"{EvidenceBlob.objects.filter(uploads__isnull=False).count():,} blobs, "
              f"{EvidenceUpload.objects.count():,} uploads")
        if sqlite_file:
            print(f"  SQLite file growth over each way's work: without files +{plain.db_growth / 1e6:.1f} MB, "
                  f"with files +{filed.db_growth / 1e6:.1f} MB (the archive's bytes are not in the database)")
        print(f"  load at the end: {setup.load_now()}")
    finally:
        shutil.rmtree(archive, ignore_errors=True)
        database.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
