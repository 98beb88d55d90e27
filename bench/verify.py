"""Benchmark: verify N issued OpenBadgeCredentials, through the verification service and alone.

The bench makes its own database, walks a programme to a published, signed endorsement and issues
N badges through the batch service (in-process, not timed: see bench/issuance.py for that). Each
credential is then verified

* through the real verification service, `badges.verification.credential_verify` (what
  POST /api/v1/verify and the /verify page call): shape, issuer DID resolved from the database,
  the proof, dates, the revocation status list (read from the database, its own proof verified),
  the award held by this registry, its evidence standing, and for the embedded endorsement its
  shape, subject, issuer, proof, dates, suspension status list and registry standing. A document
  whose proofs verified before with the same keys (the endorsement, the status lists) is answered
  from the service's memo (`badges.verification.VERIFIED_DOCUMENTS`); each run starts with it
  empty and warms up on other badges than those it measures. The CPU time of each check is shown;
* through `badges.credentials.verify` alone: the badge's own proof; then the badge's proof and the
  embedded EndorsementCredential's proof, both canonicalized and checked for every badge (keys
  resolved once, no database, no memo).

Printed for each: credentials per second (wall clock and per CPU-second), p50 and p95 ms per
credential, and the share of CPU time in JSON-LD expansion, canonicalization, hashing, Ed25519,
the database and the rest; then the same with plain pyld on a smaller N, for comparison.

    .venv/bin/python bench/verify.py                   # fresh SQLite, N=2000
    .venv/bin/python bench/verify.py --postgres        # a fresh PostgreSQL database on 127.0.0.1
    .venv/bin/python bench/verify.py --n 5 --plain-n 5 # smoke
    .venv/bin/python bench/verify.py --postgres --plain-n 0 --http 4000   # and over HTTP (below)

First-time and repeated verifications are reported apart. The runs above verify each badge once
(first-time: its proof is checked; only the embedded endorsement's and the status lists' proofs,
the same in every badge, come from the memo). `--repeat-n K` then verifies K badges again, each
verified once before (not counted): the badge's own proof answered from VERIFIED_DOCUMENTS (keyed
by the badge's exact JSON and the keys that verified it), every record still read afresh. The
repeated figure is what a badge verified again and again costs (a badge page's visitors, a
wallet's re-checks), not the general one.

With `--http R`, the badges are then posted to POST /api/v1/verify of a gunicorn server (production
settings with the anonymous throttle lifted, `--http-workers` processes, sync workers or with
`--http-threads T` gthread workers of T threads, persistent database connections) on 127.0.0.1 by
wrk (`--http-connections` connections, one thread): first each badge once (at most R: first-time),
then R requests over 200 badges every worker verified before (repeated). Printed for each:
requests/s, p50 and p99 latency, the workers' CPU ms per request, and the load average.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup as setup

# The verification service's checks, each timed as a scope of its own (see `_per_check`).
CHECKS = {
    "records": "this registry's records read (issuers with keys; award, evidence, status lists, endorsement; "
               "archived copies)",
    "shape": "shape (both credentials)",
    "issuer": "issuer DID resolved (badge and endorsement: database)",
    "proof": "proofs (badge; endorsement from the memo once verified)",
    "dates": "dates",
    "status": "status lists (read from the database, proof from the memo, bit looked up)",
    "award_registry": "award held by this registry",
    "evidence": "evidence standing",
    "subject": "endorsement subject",
    "endorsement_registry": "endorsement held active by this registry",
    "archived_copy": "archived evidence copies (stored size; digest from the blob's last hash)",
}


def _check_timers(clock: setup.StageClock, instruments: setup.Instruments) -> None:
    from badges import verification, verification_data

    for name in CHECKS:
        if name == "records":  # the statements of badges.verification_data, wherever they are made
            for method in ("_read_issuers", "_read_award", "_read_copies", "status_list", "endorsement"):
                original = getattr(verification_data.VerificationRecords, method)
                instruments._patch(verification_data.VerificationRecords, method,
                                   clock.timed(original, scope="check:records"))
            continue
        original = getattr(verification._Verifier, name)
        instruments._patch(verification._Verifier, name, clock.timed(original, scope="check:" + name))


def _records_statements_timed(clock: setup.StageClock, instruments: setup.Instruments) -> None:
    """The records' statements as production runs them: on the kept psycopg cursor, past Django's
    cursor wrapper, which badges.verification_data takes only when no execute wrapper listens (so
    the bench installs none). The database timer is then `execute_kept` (execute and fetch); a
    verification of the bench makes no other statement (see "SQL statements per verification").
    Where nothing is prepared (SQLite), every statement goes through Django's cursor, timed by an
    execute wrapper as in the other benches."""
    from django.conf import settings
    from django.db import connections

    from badges import verification_data

    connection = connections["default"]
    if connection.vendor != "postgresql" or not settings.VERIFY_PREPARED_STATEMENTS:
        connection.execute_wrappers.append(clock.db_wrapper)
        instruments._db_wrapped.append(connection)
        return
    instruments._patch(verification_data, "execute_kept", clock.timed(verification_data.execute_kept,
                                                                       stage="database"))


def _per_check(clock: setup.StageClock, scope: str, n: int) -> None:
    rows = [(label, "check:" + name) for name, label in CHECKS.items()]
    rows.append(("the rest of credential_verify (report, summary, messages)", scope))
    for label, name in rows:
        cpu = clock.scopes.get(name, 0.0)
        if not cpu:
            continue
        database = clock.stages.get(name, {}).get("database", 0.0)
        crypto = sum(clock.stages.get(name, {}).get(stage, 0.0) for stage in setup.CRYPTO_STAGES)
        print(f"      {label:<78} {1000 * cpu / n:6.3f} ms CPU  (canonicalization, hashing, Ed25519 "
              f"{1000 * crypto / n:5.3f}; cursor execute {1000 * database / n:5.3f})")


def _measure(label: str, credentials: list[dict[str, Any]], warm: list[dict[str, Any]],
             action: Callable[[dict[str, Any]], bool], scope: str, canonicalizer: Any = None,
             checks: bool = False) -> dict[str, Any]:
    """Verify `warm` (not counted), then `credentials`, each once."""
    from badges.verification import VERIFIED_DOCUMENTS

    clock = setup.StageClock()
    instruments = setup.Instruments(clock).install(chunks=False, database=False)
    _records_statements_timed(clock, instruments)
    if checks:
        _check_timers(clock, instruments)
    timed_action = clock.timed(clock.latency(action, "verification"), scope=scope)
    VERIFIED_DOCUMENTS.clear()  # each run starts cold, then warms up on other badges
    try:
        if canonicalizer is not None:
            instruments.set_canonicalizer(canonicalizer)
        for credential in warm:
            timed_action(credential)
        clock.reset()
        failures = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for credential in credentials:
            failures += not timed_action(credential)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        instruments.remove()
        VERIFIED_DOCUMENTS.clear()
    n = len(credentials)
    print(f"\n{label}: {n} credentials, one process")
    print(f"    VERIFIED {n / wall:7.1f} credentials/s wall ({wall:.2f} s), {n / cpu:7.1f} per CPU-second "
          f"({cpu:.2f} s CPU); {n - failures} verified, {failures} not")
    scopes = [scope] + [name for name in clock.scopes if name.startswith("check:")]
    print(f"    per credential: {setup.p50_p95(clock.latencies['verification'])} wall; "
          f"{setup.p50_p95(clock.cpu_latencies['verification'])} CPU")
    print(f"    CPU shares: {clock.breakdown(scopes)}")
    if checks:
        print("    CPU per credential, check by check:")
        _per_check(clock, scope, n)
    if failures:
        raise SystemExit(f"{failures} credential(s) did not verify: the bench measured a failure path")
    return {"mode": label, "n": n, "per_s_wall": n / wall, "per_cpu_s": n / cpu,
            "p50_ms": statistics.median(clock.latencies["verification"])}


def _statements(verify: Callable[[dict[str, Any]], Any], credential: dict[str, Any]) -> str:
    """How many SQL statements one verification makes: this registry's records, and besides the
    archive check's reads of the archived evidence copies the badge names (badges.archive)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        verify(credential)
    archive = sum('FROM "badges_archivedevidence"' in q["sql"] for q in queries.captured_queries)
    return (f"{len(queries.captured_queries) - archive} for the records (the award's archived evidence copies "
            f"joined), {archive} more for archived evidence copies")


# wrk posts the credentials of a file, one JSON document a line, in turn; stops after BENCH_LIMIT
# responses and writes their count and the seconds from the first request (as bench/registry.py).
WRK_POST_SCRIPT = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local function now()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local limit = tonumber(os.getenv("BENCH_LIMIT"))
local sent, received, first = 0, 0, nil
local headers = {["Content-Type"] = "application/json", ["Accept-Language"] = "en"}
request = function()
  if first == nil then first = now() end
  sent = sent + 1
  return wrk.format("POST", "/api/v1/verify", headers, bodies[(sent - 1) % #bodies + 1])
end
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"verified":true', 1, true) then
    io.stderr:write("failed " .. status .. "\\n")
  end
  received = received + 1
  if received == limit then
    local out = io.open(os.getenv("BENCH_DONE"), "w")
    out:write(string.format("%d %.6f\\n", received, now() - first))
    out:close()
    wrk.thread:stop()
  end
end
"""


def _wrk_post(server: Any, credentials: list[dict[str, Any]], requests: int, connections: int) -> dict[str, Any]:
    """wrk posting `credentials` in turn, `requests` in all, to the server's /api/v1/verify."""
    import os
    import signal
    import subprocess
    import tempfile

    from bench._serve import wrk_ms, wrk_percentile

    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        (work / "post.lua").write_text(WRK_POST_SCRIPT)
        (work / "bodies.txt").write_text("\n".join(json.dumps(c) for c in credentials) + "\n")
        done = work / "done.txt"
        wrk_env = {**os.environ, "BENCH_BODIES": str(work / "bodies.txt"), "BENCH_LIMIT": str(requests),
                   "BENCH_DONE": str(done)}
        load_before = setup.load_now()
        cpu_before = server.cpu_seconds()
        process = subprocess.Popen(["wrk", "-t", "1", "-c", str(connections), "-d", "600s", "--timeout", "10s",
                                    "--latency", "-s", str(work / "post.lua"), server.base],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=wrk_env)
        deadline = time.monotonic() + 600
        while not done.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        cpu = server.cpu_seconds() - cpu_before
        if not done.exists() or not wrk_percentile(out, 99):
            raise RuntimeError(f"wrk gave no result (exit {process.returncode}):\n{out}\n{err[-2000:]}")
        received, seconds = done.read_text().split()
    return {"requests": int(received), "rps": int(received) / float(seconds), "p50": wrk_ms(wrk_percentile(out, 50)),
            "p99": wrk_ms(wrk_percentile(out, 99)), "cpu_ms": 1000 * cpu / int(received),
            "failed": err.count("failed "), "load_before": load_before, "load_after": setup.load_now()}


def _post(url: str, credential: dict[str, Any]) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(credential).encode(),  # noqa: S310 (127.0.0.1)
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (127.0.0.1 only)
        return json.loads(response.read())


def over_http(database_url: str, credentials: list[dict[str, Any]], warm: list[dict[str, Any]], requests: int,
              workers: int, connections: int, worker_args: tuple[str, ...] = (), repeat_set: int = 200) -> None:
    """POST the credentials to /api/v1/verify of a gunicorn server on `database_url`, with wrk:
    first each of `credentials` once (first-time verifications: no worker has seen the badge, its
    proof is checked), at most `requests`; then `requests` posts cycling over the first
    `repeat_set` badges, which every worker has verified before (the badge's proof answered from
    the memo, VERIFIED_DOCUMENTS; everything else checked as always)."""
    import shutil

    from django.conf import settings

    from bench._serve import gunicorn

    if shutil.which("wrk") is None:
        raise SystemExit("--http needs wrk (apt-get install wrk)")
    env = {"SECRET_KEY": "bench-verify-secret-key-not-for-production-0123456789", "SITE_URL": settings.SITE_URL,
           "DATABASE_CONN_MAX_AGE": "60"}
    kind = f" ({' '.join(worker_args)})" if worker_args else " (sync)"
    with gunicorn(database_url, settings="bench.verify_http_settings", workers=workers, env=env,
                  args=worker_args) as server:
        url = f"{server.base}/api/v1/verify"
        # The first answer, checked; then each worker warmed up on badges not measured (not counted).
        answer = json.loads(server.wait_for("/api/v1/verify", body=json.dumps(warm[0]).encode(),
                                            headers={"Content-Type": "application/json"}))
        if not answer.get("verified"):
            raise SystemExit(f"the server did not verify the badge: {answer}")
        for number in range(20 * workers):
            _post(url, warm[number % len(warm)])
        first = credentials[:requests]
        runs = [("first-time (each badge once: its proof checked)", first, len(first))]
        repeated = credentials[:min(repeat_set, len(credentials))]
        for _round in range(3 * workers):  # every worker has verified every one of them (not counted)
            for credential in repeated:
                _post(url, credential)
        runs.append((f"repeated ({len(repeated)} badges each worker verified before: the badge's proof from the "
                     f"memo)", repeated, requests))
        for label, items, count in runs:
            result = _wrk_post(server, items, count, connections)
            print(f"\nPOST /api/v1/verify over HTTP, {label}: gunicorn {workers} workers{kind}, wrk 1 thread "
                  f"{connections} connections, {result['requests']} requests over {len(items)} badges")
            print(f"    (load average before: {result['load_before']}; after: {result['load_after']})")
            print(f"    {result['rps']:7.1f} req/s   p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms   "
                  f"workers' CPU {result['cpu_ms']:5.2f} ms/request   not verified or not 200: {result['failed']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="credentials to issue and verify (default 2000)")
    parser.add_argument("--plain-n", type=int, default=300,
                        help="credentials for the plain-pyld reference (default 300; 0 to skip)")
    parser.add_argument("--warmup", type=int, default=20,
                        help="badges verified first in each run, not counted (other badges than those measured; "
                             "default 20)")
    parser.add_argument("--database-url", default=None,
                        help="use this database (migrated, filled, left in place) instead of a fresh one")
    parser.add_argument("--postgres", action="store_true",
                        help="a fresh PostgreSQL database (created on --pg-server and dropped) instead of SQLite")
    parser.add_argument("--pg-server", default=setup.DEFAULT_PG_SERVER, help="default %(default)s")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the fresh database afterwards")
    parser.add_argument("--http", type=int, default=0, metavar="R",
                        help="then POST R requests to /api/v1/verify of a gunicorn server (default 0: not)")
    parser.add_argument("--http-workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--http-connections", type=int, default=4, help="wrk connections (default 4)")
    parser.add_argument("--http-threads", type=lambda text: [int(t) for t in text.split(",")], default=[0],
                        help="gunicorn's gthread workers with this many threads each (keep-alive connections) "
                             "instead of its sync workers (default 0: sync); several, comma-separated, run one "
                             "server after another (0,4: sync, then gthread with 4 threads)")
    parser.add_argument("--repeat-n", type=int, default=400,
                        help="then verify this many of the badges again, in-process, each verified once before "
                             "(not counted): the badge's proof from the memo (default 400, at most the memo's 512; "
                             "0 to skip)")
    parser.add_argument("--skip-in-process", action="store_true",
                        help="with --http: only the HTTP run, not the in-process ones")
    args = parser.parse_args()
    setup.exit_cleanly_on_sigterm()
    if args.n < 1 or args.plain_n < 0 or args.warmup < 0:
        parser.error("--n must be positive, --plain-n and --warmup not negative")

    database = setup.bench_database(args.database_url, postgres=args.postgres, pg_server=args.pg_server,
                                    keep=args.keep_db)
    try:
        setup.django_start(database.url)
        print(f"verification bench: {setup.machine()}")
        print(f"database: {database.vendor} ({'fresh, removed afterwards' if database.created else database.url})")
        started = time.perf_counter()
        setup.migrate()
        programme, issuer = setup.endorsed_programme()
        with setup.evidence_server() as evidence:
            batch = setup.issue_batch(programme, issuer, setup.batch_rows(args.warmup + args.n, evidence, tag="v"))
        from badges import credentials as vc
        from badges.did_resolver import DidResolver
        from badges.models import Award
        from badges.verification import credential_verify

        issued = list(Award.objects.filter(batch=batch).order_by("batch_row").values_list("credential", flat=True))
        warm, credentials = issued[:args.warmup], issued[args.warmup:]
        print(f"set-up (migrate; programme walked to a published signed endorsement; {len(issued)} badges issued "
              f"through the batch service, in-process): {time.perf_counter() - started:.1f} s")
        first = credentials[0]
        quads = len(vc.canonicalize({k: v for k, v in first.items() if k != "proof"}).splitlines())
        print(f"credential: {len(json.dumps(first))} bytes of JSON, {quads} quads, with the body's "
              f"EndorsementCredential (its own proof) inside its Achievement")
        print(setup.HOW_TIMED)
        print(f"SQL statements per verification (django.test.utils.CaptureQueriesContext, one badge): "
              f"{_statements(credential_verify, credentials[0])}")

        def through_service(credential: dict[str, Any]) -> bool:
            return credential_verify(credential).verified

        resolver = DidResolver().key_resolver()

        def library_only(credential: dict[str, Any]) -> bool:
            return vc.verify(credential, resolver).verified

        def both_proofs(credential: dict[str, Any]) -> bool:
            endorsements = vc.embedded_endorsements(credential)
            return bool(endorsements) and vc.verify(credential, resolver).verified and all(
                vc.verify(endorsement, resolver).verified for endorsement in endorsements)

        results = []
        runs = [] if args.skip_in_process else [(None, "fast path (default)", credentials),
                                                (vc.plain_canonicalizer, "plain pyld reference",
                                                 credentials[:args.plain_n])]
        for canonicalizer, suffix, items in runs:
            if not items:
                continue
            print(f"\n(load average before these runs: {setup.load_now()})")
            results.append(_measure(f"credential_verify (the service), {suffix}", items, warm, through_service,
                                    "credential_verify", canonicalizer, checks=True))
            results.append(_measure(f"vc.verify alone (the badge's proof), {suffix}", items, warm, library_only,
                                    "vc.verify", canonicalizer))
            results.append(_measure(f"vc.verify of the badge and its embedded endorsement, {suffix}", items, warm,
                                    both_proofs, "vc.verify", canonicalizer))
        if not args.skip_in_process and args.repeat_n:
            repeated = credentials[:args.repeat_n]
            print(f"\n(load average before the repeated run: {setup.load_now()})")
            results.append(_measure("credential_verify (the service), repeated: badges verified before, their proofs "
                                    "from the memo", repeated, repeated, through_service, "credential_verify",
                                    checks=True))
        if args.http:
            from django.db import connections

            connections.close_all()
            for threads in args.http_threads:
                worker_args = ("--worker-class", "gthread", "--threads", str(threads)) if threads else ()
                over_http(database.url, credentials, warm, args.http, args.http_workers, args.http_connections,
                          worker_args)
        print("\nsummary (verified credentials/s: wall clock, per CPU-second)")
        for result in results:
            print(f"    {result['mode']:<58} {result['per_s_wall']:7.1f} /s wall   "
                  f"{result['per_cpu_s']:7.1f} /CPU-s   (n={result['n']})")
        print(f"(load average at the end: {setup.load_now()})")
    finally:
        from django.db import connections

        connections.close_all()
        database.cleanup()


if __name__ == "__main__":
    main()
