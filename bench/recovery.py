"""How long a batch stays stalled when its worker is SIGKILLed in the middle of a chunk, and what
brings it back (docs/operations.md, "Failure modes").

    .venv/bin/python bench/recovery.py [--rows 400] [--visibility 30] [--stall 15] [--sweep 5]

Two runs, each on a fresh batch: a Celery worker issues it; once a chunk has committed the worker
and its pool are SIGKILLed together (a lost machine: nothing is acknowledged), and a second worker is
started at once. The bench prints the time from the kill to the batch being done.

* "broker redelivery": the stall sweep is off; the chunk's message, unacknowledged in Redis, is
  handed to the second worker once the visibility timeout (`--visibility`) has passed.
* "stall sweep": the visibility timeout is an hour (kombu's default); beat runs the recovery sweep
  every `--sweep` seconds and resumes the batch once no chunk has committed for `--stall` seconds.

The production defaults are 900 s, 300 s and 60 s (the recovery is then the smaller of about 16 and
about 6 minutes); the bench's smaller figures show the mechanism and its overhead in reasonable time.
Where it runs: a fresh PostgreSQL database created on `--pg-server` and dropped afterwards, a
private `redis-server` on a port of 16380–16389 (tests/integration/faults.py), workers with a queue
and node name of their own, all stopped with the bench.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup as setup


def one_run(label: str, programme, issuer, rows: int, database_url: str, redis, work: Path, **timings: int) -> dict:
    from badges.batches import award_batch_create, rows_from_json
    from badges.models import Award, AwardBatch
    from tests.integration.faults import Beat, Worker, broker_of_this_process, running, wait_for, worker_env

    queue = f"bench-recovery-{uuid.uuid4().hex[:8]}"
    env = worker_env(database_url=database_url, broker=redis.url, queue=queue, smtp_port=0, **timings)
    first, second = Worker(env, work / f"{queue}-1.log", queue), Worker(env, work / f"{queue}-2.log", queue)
    beat = Beat(env, work / f"{queue}-beat.log")
    use_beat = timings.get("BATCH_STALL_SECONDS", 0) < 3600
    with running(first, second, beat), broker_of_this_process(redis.url, queue):
        first.start()
        if use_beat:
            beat.start()
        tag = uuid.uuid4().hex[:6]
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows_from_json(
            [{"email": f"r{tag}{i}@example.org", "name": f"Learner {i}"} for i in range(rows)]))
        started = time.perf_counter()
        wait_for(lambda: AwardBatch.objects.get(pk=batch.pk).issued >= 100, 300, "the first chunk", every=0.02,
                 details=first.read_log)
        first.kill()
        killed = time.perf_counter()
        at_kill = AwardBatch.objects.get(pk=batch.pk).issued
        second.start()
        wait_for(lambda: AwardBatch.objects.get(pk=batch.pk).state == AwardBatch.State.DONE, 3600,
                 "the batch to finish", every=0.05, details=second.read_log)
        done = time.perf_counter()
    final = AwardBatch.objects.get(pk=batch.pk)
    awards = Award.objects.filter(batch=batch)
    once = awards.count() == rows == final.issued == awards.values("batch_row").distinct().count()
    print(f"\n{label}: {rows} rows, the worker SIGKILLed at {at_kill}/{rows} ({killed - started:.1f} s after upload)")
    print(f"    RECOVERED in {done - killed:6.1f} s after the kill (batch done; every row issued once: {once}); "
          f"settings {', '.join(f'{k}={v}' for k, v in timings.items())}")
    return {"label": label, "recovery_s": done - killed, "once": once}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=400, help="rows per batch (default 400: 4 chunks)")
    parser.add_argument("--visibility", type=int, default=30, help="visibility timeout, seconds (default 30)")
    parser.add_argument("--stall", type=int, default=15, help="BATCH_STALL_SECONDS (default 15)")
    parser.add_argument("--sweep", type=int, default=5, help="RECOVERY_SWEEP_SECONDS (default 5)")
    parser.add_argument("--pg-server", default=setup.DEFAULT_PG_SERVER,
                        help="PostgreSQL server on which a fresh bench database is created (default %(default)s)")
    args = parser.parse_args()
    if args.rows < 200 or min(args.visibility, args.stall, args.sweep) < 1:
        parser.error("--rows at least 200 (the kill comes after the first chunk of 100); timings at least 1")
    setup.exit_cleanly_on_sigterm()
    database = setup.bench_database(None, postgres=True, pg_server=args.pg_server)
    work = Path(tempfile.mkdtemp(prefix="microcred-bench-recovery-"))
    redis = None
    try:
        setup.django_start(database.url)
        from tests.integration.faults import PrivateRedis

        print(f"recovery bench: {setup.machine()}")
        setup.migrate()
        programme, issuer = setup.endorsed_programme()
        (work / "redis").mkdir()
        redis = PrivateRedis(work / "redis")
        redis.start()
        results = [
            one_run("broker redelivery (visibility timeout)", programme, issuer, args.rows, database.url, redis, work,
                    CELERY_VISIBILITY_TIMEOUT_SECONDS=args.visibility, BATCH_STALL_SECONDS=86400,
                    RECOVERY_SWEEP_SECONDS=3600),
            one_run("stall sweep (beat)", programme, issuer, args.rows, database.url, redis, work,
                    CELERY_VISIBILITY_TIMEOUT_SECONDS=3600, BATCH_STALL_SECONDS=args.stall,
                    RECOVERY_SWEEP_SECONDS=args.sweep),
        ]
        print("\nsummary (time from the SIGKILL to the batch done)")
        for result in results:
            print(f"    {result['label']:<42} {result['recovery_s']:6.1f} s   every row once: {result['once']}")
        print(f"(load average at the end: {setup.load_now()})")
    finally:
        if redis is not None:
            redis.kill()
        from django.db import connections

        connections.close_all()
        database.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
