"""Benchmark: issue N OpenBadgeCredentials under one programme through the real service path.

The credential is the real one: issued by an organisation's did:web, its Achievement embedding
the body's signed EndorsementCredential, an e-mail IdentityObject and the learner's name, evidence
(link and narrative), validFrom/validUntil and a revocation status entry. The bench makes its own
database, migrates it, walks a programme through the real services to a published, signed
endorsement, and then issues N badges as one batch (`badges.batches.award_batch_create` with N
rows), whose chunk tasks (`issue_award_batch_chunk`, 100 rows each) do the work:

* in-process (`--workers 0`, the default): no broker, so the chunk tasks run eagerly, one after
  the other, in this process (one worker);
* Celery (`--workers 1 2`): real `celery -A config worker --pool=prefork --concurrency=K`
  processes on a Redis broker (a queue of the run's own) and a PostgreSQL database the bench
  creates (and drops); "issued" ends when the batch is done, "end to end" when every follow-up
  task is.

Printed for each mode: credentials per second (wall clock and per CPU-second), p50 and p95 ms per
credential, and the share of CPU time in JSON-LD expansion, canonicalization, hashing, Ed25519
signing, the database and the rest; the follow-up tasks each chunk enqueues (status list
publishing, learner e-mails, evidence fetches, registry refresh) are measured separately. Then
the same in-process for a plain-pyld reference path on a smaller N.

    .venv/bin/python bench/issuance.py                       # in-process, fresh SQLite, N=2000
    .venv/bin/python bench/issuance.py --workers 0 1 2       # PostgreSQL; in-process, 1 and 2 workers
    .venv/bin/python bench/issuance.py --n 5 --plain-n 5 --warmup 5   # smoke
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup as setup


def _follow_ups(clock: setup.StageClock) -> str:
    parts = []
    for label in setup.FOLLOW_UPS:
        calls = clock.calls.get(label, 0)
        if calls:
            wall, cpu = clock.scope_wall[label], clock.scopes[label]
            parts.append(f"{label} {calls} × {1000 * wall / calls:.1f} ms wall, {1000 * cpu / calls:.1f} ms CPU")
    return "; ".join(parts) or "none ran"


def _report_credentials(clock: setup.StageClock, scope: str = "chunk tasks") -> None:
    print(f"    per credential, AwardSigner.award (build + canonicalize + sign one credential): "
          f"{setup.p50_p95(clock.latencies['credential'])} wall; "
          f"{setup.p50_p95(clock.cpu_latencies['credential'])} CPU")
    per_row = []
    for wall_ms, rows in zip(clock.latencies.get("scope:" + scope, []), clock.latencies.get("rows", []), strict=False):
        per_row.append(wall_ms / rows)
    if per_row:
        print(f"    per credential within its chunk, everything included (chunk wall time / its rows, "
              f"{len(per_row)} chunks): {setup.p50_p95(per_row)}")
    print(f"    CPU shares of the chunk tasks: "
          f"{clock.breakdown(scope, 'credential', 'building the JSON, copies, checks (rest of AwardSigner.award)')}")


def _count_chunk_rows(clock: setup.StageClock) -> None:
    """Rows per chunk, in chunk order, from the per-credential latencies' counts (all chunks full
    but the last)."""
    from badges.batches import CHUNK_SIZE

    total = len(clock.latencies["credential"])
    chunks = len(clock.latencies.get("scope:chunk tasks", []))
    rows = [CHUNK_SIZE] * chunks
    if chunks and total % CHUNK_SIZE:
        rows[-1] = total % CHUNK_SIZE
    clock.latencies["rows"] = rows


def run_in_process(programme: Any, issuer: Any, n: int, warmup: int, evidence: str, label: str,
                   canonicalizer: Any = None) -> dict[str, Any]:
    """Issue `n` badges with the chunk tasks run eagerly here; returns the figures."""
    clock = setup.StageClock()
    instruments = setup.Instruments(clock).install()
    try:
        if canonicalizer is not None:
            instruments.set_canonicalizer(canonicalizer)
        tag = f"{label[:1]}{int(time.time() * 1000) % 10**8}-"
        if warmup:
            setup.issue_batch(programme, issuer, setup.batch_rows(warmup, evidence, tag="w" + tag))
        clock.reset()
        rows = setup.batch_rows(n, evidence, tag=tag)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        batch = setup.issue_batch(programme, issuer, rows)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        instruments.remove()
    _count_chunk_rows(clock)
    follow_wall = sum(clock.scope_wall.get(name, 0.0) for name in setup.FOLLOW_UPS)
    follow_cpu = sum(clock.scopes.get(name, 0.0) for name in setup.FOLLOW_UPS)
    issue_wall, issue_cpu = wall - follow_wall, cpu - follow_cpu
    print(f"\n{label}: {n} credentials, one process (the batch's chunk tasks run eagerly, one after another)")
    print(f"    ISSUED {n / issue_wall:7.1f} credentials/s wall ({issue_wall:.2f} s), "
          f"{n / issue_cpu:7.1f} per CPU-second ({issue_cpu:.2f} s CPU): award_batch_create with {n} rows until "
          f"its last chunk committed, follow-up tasks taken out")
    _report_credentials(clock)
    print(f"    follow-up tasks (run eagerly at each chunk's commit; taken out above): {_follow_ups(clock)}")
    print(f"    after them: {setup.follow_up_outcomes(batch.pk)}")
    print(f"    end to end with the follow-ups: {n / wall:7.1f} credentials/s wall ({wall:.2f} s)")
    return {"mode": label, "n": n, "per_s_wall": n / issue_wall, "per_cpu_s": n / issue_cpu,
            "credential_p50_ms": setup.percentile(clock.latencies["credential"], 0.5),
            "credential_p95_ms": setup.percentile(clock.latencies["credential"], 0.95)}


def _diff(final: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
    """What a worker process measured after `before` (its file at the end of the warm-up)."""
    if before is None:
        return final
    out: dict[str, Any] = {}
    for key in ("scopes", "scope_wall", "calls"):
        out[key] = {k: v - before[key].get(k, 0) for k, v in final[key].items()}
    out["stages"] = {scope: {k: v - before["stages"].get(scope, {}).get(k, 0.0) for k, v in stages.items()}
                     for scope, stages in final["stages"].items()}
    for key in ("latencies", "cpu_latencies"):
        out[key] = {k: v[len(before.get(key, {}).get(k, [])):] for k, v in final.get(key, {}).items()}
    return out


def _snapshot(directory: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for path in directory.glob("*.json"):
        with contextlib.suppress(ValueError, OSError, KeyError):
            found[path.name] = setup.read_worker_file(path)
    return found


def _wait_batch(batch_id: int, timeout: float) -> Any:
    from badges.models import AwardBatch

    # Poll the state column alone, every 0.2 s: reloading the whole row (its `rows` JSON is megabytes
    # for a large batch) every 20 ms cost PostgreSQL as much CPU as the worker being measured.
    finished = (AwardBatch.State.DONE, AwardBatch.State.FAILED)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if AwardBatch.objects.filter(pk=batch_id, state__in=finished).exists():
            return AwardBatch.objects.only("state", "issued", "total", "error").get(pk=batch_id)
        time.sleep(0.2)
    raise RuntimeError(f"the batch was not done after {timeout:.0f} s")


def run_workers(programme: Any, issuer: Any, n: int, warmup: int, evidence: str, concurrency: int,
                database: setup.BenchDatabase, broker: str, conn_max_age: int) -> dict[str, Any]:
    """Issue `n` badges with the chunk tasks fanned out over `concurrency` Celery worker processes."""
    from django.db import connection
    from django.utils import timezone

    from badges.batches import award_batch_create
    from badges.models import AwardBatch
    from config.celery import app

    work = Path(tempfile.mkdtemp(prefix="microcred-bench-workers-"))
    timings = work / "timings"
    timings.mkdir()
    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    workers = None
    try:
        workers = setup.start_workers(concurrency, database.url, broker, timings, work / "worker.log",
                                      conn_max_age=conn_max_age)
        setup.broker_on(broker, workers.queue)
        setup.wait_for_workers(app, workers, concurrency)
        label = f"Celery, {concurrency} worker process{'es' if concurrency > 1 else ''}"
        tag = f"c{concurrency}-{int(time.time() * 1000) % 10**8}-"
        if warmup:
            batch = award_batch_create(actor=issuer, programme=programme,
                                       rows=setup.batch_rows(warmup, evidence, tag="w" + tag))
            _wait_batch(batch.pk, 120 + warmup / 10)
            if not setup.wait_drained(app, workers, 120 + warmup / 5, setup.follow_ups_done(batch.pk, warmup)):
                raise RuntimeError("the warm-up batch's tasks did not finish in time")
        before = _snapshot(timings)
        pg_name = connection.settings_dict["NAME"]
        rows = setup.batch_rows(n, evidence, tag=tag)
        pg_before = {pid: setup.process_cpu(pid) for pid in setup.postgres_backend_pids(pg_name)}
        cpu0, own0, wall0, started = workers.cpu(), time.process_time(), time.perf_counter(), timezone.now()
        batch = award_batch_create(actor=issuer, programme=programme, rows=rows)
        batch = _wait_batch(batch.pk, 300 + n / 5)
        seen, cpu, own = time.perf_counter() - wall0, workers.cpu() - cpu0, time.process_time() - own0
        # The figures are the moments the workers wrote (the same clock as `started`), not the polls'.
        wall = (AwardBatch.objects.only("finished_at").get(pk=batch.pk).finished_at - started).total_seconds()
        pg_after = {pid: setup.process_cpu(pid) for pid in setup.postgres_backend_pids(pg_name)}
        pg = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
        pg_note = (f"{len(pg_after)} server processes at the end, {len(set(pg_before) - set(pg_after))} gone since the "
                   f"start (their CPU not counted)")
        if batch.state != AwardBatch.State.DONE or batch.issued != n:
            raise RuntimeError(f"the batch did not complete: {batch.state}, {batch.issued}/{n} ({batch.error})")
        drained = setup.wait_drained(app, workers, 600 + n / 2, setup.follow_ups_done(batch.pk, n))
        seen_all, cpu_all = time.perf_counter() - wall0, workers.cpu() - cpu0
        wall_all = (setup.follow_ups_finished_at(batch.pk, started) - started).total_seconds()
        outcomes = setup.follow_up_outcomes(batch.pk)
        clock = setup.StageClock()
        for name, data in _snapshot(timings).items():
            clock.add_json(_diff(data, before.get(name)))
        _count_chunk_rows(clock)
    finally:
        if workers is not None:
            workers.stop()
            setup.broker_off(app, saved, workers.queue)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{label}: {n} credentials, PostgreSQL (DATABASE_CONN_MAX_AGE={conn_max_age} in the workers), "
          f"broker {broker}, a queue of its own")
    print(f"    ISSUED {n / wall:7.1f} credentials/s wall ({wall:.2f} s), {n / cpu:7.1f} per worker CPU-second "
          f"({cpu:.2f} s CPU in the worker processes): award_batch_create with {n} rows until its last chunk "
          f"committed (its finished_at; the poll saw it after {seen:.2f} s)")
    print(f"    also used meanwhile: {pg:.2f} s CPU in the PostgreSQL server processes of the bench database "
          f"({pg_note}), {own:.2f} s in this "
          f"process (validating and storing the {n} rows, then polling the batch's state every 0.2 s)")
    _report_credentials(clock)
    print(f"    follow-up tasks (queued behind the chunks, run by the same workers): {_follow_ups(clock)}")
    print(f"    after them: {outcomes}")
    print(f"    all queued tasks done{'' if drained else ' (NOT drained: timed out)'} after {wall_all:.2f} s, "
          f"{cpu_all:.2f} s worker CPU: {n / wall_all:7.1f} credentials/s end to end "
          f"(the last mail's, check's or list's time; the poll saw it after {seen_all:.2f} s; "
          f"the debounced registry refresh, on a countdown, is not waited for)")
    return {"mode": label, "n": n, "per_s_wall": n / wall, "per_cpu_s": n / cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="credentials per measured batch (default 2000)")
    parser.add_argument("--workers", type=int, nargs="+", default=[0],
                        help="modes to run: 0 = in-process, K = K Celery worker processes (default: 0)")
    parser.add_argument("--database-url", default=None,
                        help="use this database (migrated, filled, left in place) instead of a fresh one")
    parser.add_argument("--pg-server", default=setup.DEFAULT_PG_SERVER,
                        help="PostgreSQL server on which a fresh bench database is created and dropped, when "
                             "Celery workers are used (default %(default)s)")
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database even in-process")
    parser.add_argument("--broker", default=setup.DEFAULT_BROKER, help="Redis broker (default %(default)s)")
    parser.add_argument("--conn-max-age", type=int, default=60,
                        help="DATABASE_CONN_MAX_AGE of the Celery workers (persistent connections, as "
                             "docs/operations.md describes; default %(default)s, 0 = a connection per task)")
    parser.add_argument("--warmup", type=int, default=200,
                        help="rows of an unmeasured batch issued first in each mode (default 200)")
    parser.add_argument("--plain-n", type=int, default=300,
                        help="credentials for the plain-pyld reference, in-process (default 300; 0 to skip)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the fresh database afterwards")
    args = parser.parse_args()
    setup.exit_cleanly_on_sigterm()
    if args.n < 1 or args.warmup < 0 or args.plain_n < 0 or any(k < 0 or k > 16 for k in args.workers):
        parser.error("--n must be positive, --warmup and --plain-n not negative, --workers between 0 and 16")

    postgres = args.postgres or any(k > 0 for k in args.workers)
    database = setup.bench_database(args.database_url, postgres=postgres, pg_server=args.pg_server,
                                    keep=args.keep_db)
    if any(k > 0 for k in args.workers) and database.vendor != "postgresql":
        parser.error("Celery workers need a shared PostgreSQL database (give a postgres:// --database-url)")
    try:
        setup.django_start(database.url)
        print(f"issuance bench: {setup.machine()}")
        print(f"database: {database.vendor} ({'fresh, removed afterwards' if database.created else database.url})")
        started = time.perf_counter()
        setup.migrate()
        programme, issuer = setup.endorsed_programme()
        print(f"set-up (migrate; organisation, programme walked to a published signed endorsement, issuer): "
              f"{time.perf_counter() - started:.1f} s")
        print(setup.HOW_TIMED)
        results = []
        with setup.evidence_server() as evidence:
            for concurrency in args.workers:
                print(f"\n(load average before this run: {setup.load_now()})")
                if concurrency == 0:
                    results.append(run_in_process(programme, issuer, args.n, args.warmup, evidence,
                                                  "in-process, fast path (default)"))
                else:
                    results.append(run_workers(programme, issuer, args.n, args.warmup, evidence, concurrency,
                                               database, args.broker, args.conn_max_age))
            if args.plain_n:
                from badges.credentials import plain_canonicalizer

                print(f"\n(load average before this run: {setup.load_now()})")
                results.append(run_in_process(programme, issuer, args.plain_n, min(args.warmup, 20), evidence,
                                              "in-process, plain pyld reference", canonicalizer=plain_canonicalizer))
        _describe_credential(programme)
        print("\nsummary (issued credentials/s: wall clock, per CPU-second of the processes doing the work)")
        for result in results:
            print(f"    {result['mode']:<40} {result['per_s_wall']:7.1f} /s wall   {result['per_cpu_s']:7.1f} /CPU-s"
                  f"   (n={result['n']})")
        print(f"(load average at the end: {setup.load_now()})")
    finally:
        from django.db import connections

        connections.close_all()
        database.cleanup()


def _describe_credential(programme: Any) -> None:
    from badges import credentials as vc
    from badges.models import Award

    award = Award.objects.filter(programme=programme).first()
    if award is None:
        return
    quads = len(vc.canonicalize({k: v for k, v in award.credential.items() if k != "proof"}).splitlines())
    print(f"credential: {len(json.dumps(award.credential))} bytes of JSON, {quads} quads")


if __name__ == "__main__":
    main()
