"""Benchmark of the public registry at 10,000 published endorsements (or --count N).

    .venv/bin/python bench/registry.py [--count 10000] [--organisations 200] [--requests 2000]

1. Seeds a database of its own: a fresh SQLite file in a temporary folder, or the database named by
   DATABASE_URL (which must be an empty database you do not need: it is migrated and filled).
   The seed bypasses the services on purpose and writes with bulk_create: organisations, programmes,
   applications already `published` with their frozen snapshot, endorsements (mostly active, some
   suspended, revoked and expired), two awards per endorsement on average and some issuance
   reports. What the seed does not make: signed credentials (the EndorsementCredentials and the
   awards' OpenBadgeCredentials stay empty; the registry only records whether one exists, so the
   `endorsementCredential` links are absent from this snapshot), status lists and audit events.
2. Renders every entry with `registry_refresh()` (the full rebuild) and prints the seconds (then once
   more, unchanged), then the refresh after one change: one endorsement suspended, one badge
   revoked, each noted as the services note it (`registry_note`) and refreshed with
   `registry_refresh_pending()` (what the Celery task runs), which renders only the noted entries.
3. Serves the app with gunicorn (production settings, 2 workers) on 127.0.0.1 and a free port, and
   loads `/registry/`, a filtered search, programme pages and `/registry.json` with a fixed count of
   requests from a second process: wrk (`apt-get install wrk`) with a Lua script that stops each
   thread after its share, or, without wrk, a small bounded loader (http.client, threads) in a
   subprocess. Prints requests/s and p50/p99 latency for each, then the resident memory (RSS) of
   each gunicorn worker after serving them all. Every request goes to 127.0.0.1.

Targets (issue 14, at 50,000 entries): refresh after one change under 200 ms whatever the size;
each worker under 300 MiB; p99 of distinct searches under 25 ms. (Issue 4: p99 under 50 ms on the
index and programme pages.)
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent

from bench._serve import worker_cpu_seconds  # noqa: E402 (after the project root is on the path)


def _environment(database_url: str, conn_max_age: int = 60) -> dict[str, str]:
    return {
        **os.environ,
        # Persistent connections, as docs/operations.md advises for gunicorn's sync workers: with 0,
        # PostgreSQL starts a backend for every request (a few ms of the latency, none of the CPU
        # counted in "CPU ms/req").
        "DATABASE_CONN_MAX_AGE": str(conn_max_age),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-registry-secret-key-not-for-production-0123456789",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "",
    }


# --- 1. Seed ----------------------------------------------------------------------------------------
WORDS = ("data", "cloud", "security", "design", "health", "welding", "finance", "teaching", "robotics", "nursing",
         "logistics", "marketing", "statistics", "ethics", "tourism", "energy")
LEVELS = ("Level 3", "Level 4", "Level 5", "Level 6", "Level 7")


def seed(count: int, organisations: int) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from badges.models import Award, Programme
    from badges.services import programme_snapshot, snapshot_digest
    from endorsement.models import Application, CriteriaTable, Endorsement, IssuanceReport, TableStatus
    from institutions.models import Organisation

    rng = random.Random(4)
    user = get_user_model().objects.create_user("bench", "bench@example.org", "bench-password")
    table = CriteriaTable.objects.get(code="default", status=TableStatus.PUBLISHED)
    orgs = []
    for n in range(organisations):
        org = Organisation(name=f"Bench University {n}", name_ja=f"ベンチ大学{n}", slug=f"bench-{n}",
                           kind="university", contact_name="Bench", contact_email=f"c{n}@example.org",
                           description=f"Organisation number {n} of the benchmark.")
        org.__dict__["membership"] = "active" if n % 20 else "suspended"  # the FSM field is protected
        orgs.append(org)
    orgs = Organisation.objects.bulk_create(orgs)

    programmes = []
    for n in range(count):
        topic, other = WORDS[n % len(WORDS)], WORDS[(n * 7) % len(WORDS)]
        programmes.append(Programme(
            organisation=orgs[n % organisations], slug=f"programme-{n}",
            name_en=f"{topic.title()} and {other} practice {n}", name_ja=f"{topic}実践プログラム{n}",
            description_en=f"A programme in {topic} with {other}: reading, analysing and presenting work. " * 3,
            description_ja=f"{topic}と{other}のプログラム。読み、分析し、発表する。" * 3,
            criteria_narrative="Pass three assessed assignments with at least 60%.",
            learning_outcomes=[f"Apply {topic} methods", f"Explain {other} results", "Work in a team"],
            learning_hours=str(rng.choice((10, 15, 20, 30, 45, 60, 90))), level=rng.choice(LEVELS),
            level_framework="European Qualifications Framework",
            assessment_method="Graded assignments and a supervised online test.",
            evidence_policy="Graded work is kept for five years.", quality_assurance="Yearly review.",
            responsible_person="Prof. Bench", tags=[topic, other],
            credential_pattern=rng.choice(("embedded", "modular", "rpl")),
            achievement_type=rng.choice(("MicroCredential", "Certificate", "Course", "Badge")),
            alignments=[{"name": topic, "url": f"https://example.org/frameworks/{topic}", "framework": "DigComp"}],
        ))
    programmes = Programme.objects.bulk_create(programmes, batch_size=1000)
    by_org = {o.pk: o for o in orgs}
    for programme in programmes:
        programme.organisation = by_org[programme.organisation_id]

    now = timezone.now()
    applications = []
    for programme in programmes:
        snapshot = programme_snapshot(programme)
        application = Application(programme=programme, organisation_id=programme.organisation_id,
                                  criteria_table=table, snapshot=snapshot, snapshot_sha256=snapshot_digest(snapshot),
                                  revision=1, created_by=user, submitted_at=now, decided_at=now)
        application.__dict__["state"] = "published"
        applications.append(application)
    applications = Application.objects.bulk_create(applications, batch_size=1000)

    endorsements = []
    for n, application in enumerate(applications):
        valid_from = now - timedelta(days=rng.randint(0, 1000), minutes=n)
        endorsement = Endorsement(
            application=application, programme_id=application.programme_id,
            organisation_id=application.organisation_id, valid_from=valid_from,
            valid_until=valid_from + timedelta(days=3 * 365), decided_by=user, published_at=valid_from,
            comment="Meets every criterion.",
        )
        endorsement.__dict__["state"] = rng.choices(("active", "suspended", "revoked", "expired"),
                                                    weights=(85, 5, 5, 5))[0]
        endorsements.append(endorsement)
    endorsements = Endorsement.objects.bulk_create(endorsements, batch_size=1000)

    awards = []
    for endorsement in endorsements:
        for k in range(rng.randint(0, 4)):
            awards.append(Award(
                programme_id=endorsement.programme_id, organisation_id=endorsement.organisation_id,
                endorsement=endorsement, recipient_email=f"learner{k}@example.org", issued_by=user,
                valid_from=now, revoked_at=now if k == 3 else None,
            ))
    Award.objects.bulk_create(awards, batch_size=2000)
    reports = [
        IssuanceReport(organisation_id=e.organisation_id, programme_id=e.programme_id, endorsement=e,
                       period_start=(now - timedelta(days=365)).date(), period_end=now.date(),
                       count=rng.randint(0, 500), platform="Another badge platform", reported_by=user)
        for e in endorsements[::5]
    ]
    IssuanceReport.objects.bulk_create(reports, batch_size=2000)
    print(f"  seeded {len(orgs)} organisations, {len(programmes)} programmes and published endorsements, "
          f"{len(awards)} awards, {len(reports)} issuance reports")


# --- 2. Refresh after one change ---------------------------------------------------------------------
def one_change(count: int, profile: bool = False) -> None:
    """Time the refresh after one change: what a suspension and a revoked badge cost (the row
    change and the note in one transaction, as the services make them; then the pending refresh)."""
    from django.db import transaction
    from django.utils import timezone

    from badges.models import Award
    from endorsement.models import Endorsement, RegistryEntry
    from endorsement.registry import registry_note, registry_refresh_pending
    from endorsement.trust import trust_list_current

    endorsement = Endorsement.objects.filter(state="active").order_by("pk")[count // 2]
    award = Award.objects.filter(revoked_at__isnull=True).exclude(programme_id=endorsement.programme_id).first()
    changes = [("one endorsement suspended", lambda: Endorsement.objects.filter(pk=endorsement.pk).update(
                    state="suspended", state_changed_at=timezone.now()), endorsement.programme_id),
               ("one badge revoked", lambda: Award.objects.filter(pk=award.pk).update(revoked_at=timezone.now()),
                award.programme_id)]
    for label, change, programme_id in changes:
        with transaction.atomic():
            change()
            registry_note([programme_id])
        load_average = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        profiler = cProfile.Profile() if profile else None
        started, cpu_started = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        with transaction.atomic():  # the on-commit work (the trust list, below) timed apart
            snapshot = registry_refresh_pending()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            after, after_cpu = time.perf_counter(), time.process_time()
        after, after_cpu = time.perf_counter() - after, time.process_time() - after_cpu
        if profiler is not None:
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(18)
            print(textwrap.indent(out.getvalue().strip(), "    "))
        read, read_cpu = time.perf_counter(), time.process_time()
        trust_list_current()  # the first read of the list after the change: signs it when due
        read, read_cpu = time.perf_counter() - read, time.process_time() - read_cpu
        print(f"  refresh after {label}: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU "
              f"(load average {load_average}; {snapshot.entry_count} entries; target < 200 ms); then at "
              f"commit (eager: no broker) {after * 1000:.0f} ms wall, {after_cpu * 1000:.0f} ms CPU; the first "
              f"read of the trust list after it (signed there when due): {read * 1000:.0f} ms wall, "
              f"{read_cpu * 1000:.0f} ms CPU")
    suspended = RegistryEntry.objects.get(programme_id=endorsement.programme_id).state
    assert suspended == "suspended", suspended


# --- 3. Load ------------------------------------------------------------------------------------------
# wrk's main thread sleeps for the whole duration even when the threads stop, so the script records
# the wall-clock time of its first request and of its last response (LuaJIT's ffi: gettimeofday),
# writes it to a file once its share is done, and the bench then interrupts wrk (SIGINT makes it
# print its statistics at once). Requests/s = responses / (last - first).
WRK_SCRIPT = """
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
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local limit = tonumber(os.getenv("BENCH_LIMIT"))
local sent, received, first = 0, 0, nil
request = function()
  if first == nil then first = now() end
  sent = sent + 1
  return wrk.format("GET", paths[(sent - 1) % #paths + 1])
end
-- The figures, printed by the script itself in a fixed format (wrk's own summary is not parsed).
done = function(summary, latency, requests)
  io.write(string.format("BENCH-RESULT requests=%d p50_us=%d p99_us=%d\\n", summary.requests,
                         latency:percentile(50), latency:percentile(99)))
end
response = function(status, headers, body)
  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end
  received = received + 1
  if received == limit then
    local out = io.open(os.getenv("BENCH_DONE"), "w")
    out:write(string.format("%d %.6f\\n", received, now() - first))
    out:close()
    wrk.thread:stop()
  end
end
"""

LOADER = textwrap.dedent("""
    import http.client, json, sys, threading, time
    host, port, count, concurrency, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), 30
    headers = json.loads(sys.argv[5])
    paths = [line.strip() for line in sys.stdin if line.strip()]
    latencies, errors, lock, next_index = [], [0], threading.Lock(), [0]
    def worker():
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        while True:
            with lock:
                if next_index[0] >= count:
                    return
                index = next_index[0]
                next_index[0] += 1
            started = time.perf_counter()
            connection.request("GET", paths[index % len(paths)], headers=headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors[0] += response.status != 200
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    wall = time.perf_counter() - started
    latencies.sort()
    pick = lambda f: latencies[min(len(latencies) - 1, round(f * (len(latencies) - 1)))] * 1000
    print(json.dumps({"requests": len(latencies), "rps": len(latencies) / wall, "p50": pick(0.5),
                      "p99": pick(0.99), "errors": errors[0]}))
""")


def _worker_rss_mib(master: int) -> list[float]:
    """The resident memory (VmRSS, MiB) of each gunicorn worker (the master's children)."""
    sizes = []
    for task in Path(f"/proc/{master}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except FileNotFoundError:
                continue
            kib = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if kib:
                sizes.append(int(kib.group(1)) / 1024)
    return sorted(sizes)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (127.0.0.1 only)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def _wrk(port: int, paths: list[str], count: int, connections: int, headers: dict[str, str],
         workdir: Path) -> dict[str, float]:
    script, path_file, done_file = workdir / "limit.lua", workdir / "paths.txt", workdir / "done.txt"
    script.write_text(WRK_SCRIPT)
    path_file.write_text("\n".join(paths) + "\n")
    done_file.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_PATHS": str(path_file), "BENCH_LIMIT": str(count), "BENCH_DONE": str(done_file)}
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", "300s", "--timeout", "10s", "--latency",
               "-s", str(script)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    process = subprocess.Popen([*command, f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while not done_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)  # let the file be complete
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    figures = _result_line(out)
    if not done_file.exists() or figures is None:
        raise RuntimeError(f"wrk gave no result (exit {process.returncode}):\n{out}\n{err[-2000:]}")
    received, seconds = done_file.read_text().split()
    return {
        "requests": int(received),
        "rps": int(received) / float(seconds),
        "p50": figures["p50_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "errors": err.count("status "),
    }


def _result_line(wrk_output: str) -> dict[str, int] | None:
    """The figures the Lua script's done() printed ("BENCH-RESULT requests=N p50_us=N p99_us=N"), or
    None. wrk's own summary is not read: its layout (units, a standard deviation such as "85.50%"
    that a loose pattern took for the 50th percentile) is not a format."""
    match = re.search(r"^BENCH-RESULT requests=(\d+) p50_us=(\d+) p99_us=(\d+)$", wrk_output, re.MULTILINE)
    if match is None:
        return None
    return {"requests": int(match.group(1)), "p50_us": int(match.group(2)), "p99_us": int(match.group(3))}


def _python_loader(port: int, paths: list[str], count: int, connections: int,
                   headers: dict[str, str]) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", LOADER, "127.0.0.1", str(port), str(count), str(connections), json.dumps(headers)],
        input="\n".join(paths), capture_output=True, text=True, timeout=600, check=True,
    )
    return json.loads(result.stdout)


def load(database_url: str, programme_ids: list[str], requests: int, workers: int, connections: int,
         loader: str = "auto", keyset: list[str] | None = None, conn_max_age: int = 60) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning", "--timeout", "120"],
        cwd=ROOT, env=_environment(database_url, conn_max_age), start_new_session=True,
    )
    search = "/registry/?q=data&level=Level+5&standing=active&sort=name"
    pages = -(-len(programme_ids) // 25)
    # Distinct queries: each is rendered afresh (the per-process page cache never holds it).
    distinct = [
        f"/registry/?q={word}&level={level.replace(' ', '+')}&standing={standing}&sort={sort}&page={page}"
        for page in (1, 2) for sort in ("newest", "name", "hours", "valid_until")
        for standing in ("active", "suspended", "revoked", "expired") for level in LEVELS for word in WORDS
    ][:requests]
    scenarios = [
        (f"/registry/ (page 1 of {pages})", ["/registry/"], requests, {}),
        (f"/registry/?page=N ({pages} pages)", [f"/registry/?page={n}" for n in range(1, pages + 1)], requests, {}),
        *([(f"/registry/?after=… ({len(keyset)} pages)", keyset, requests, {})] if keyset else []),
        ("filtered search, one query", [search], requests, {}),
        (f"filtered search, {len(distinct)} distinct", distinct, len(distinct), {}),
        ("programme page, the same one", [f"/registry/{programme_ids[0]}/"], requests, {}),
        (f"programme pages, {min(requests, len(programme_ids))} distinct",
         [f"/registry/{pid}/" for pid in programme_ids[:requests]], min(requests, len(programme_ids)), {}),
        ("/registry.json gzip", ["/registry.json"], max(20, requests // 40), {"Accept-Encoding": "gzip"}),
        ("/registry.json plain", ["/registry.json"], max(10, requests // 100), {}),
    ]
    use_wrk = loader == "wrk" or (loader == "auto" and shutil.which("wrk") is not None)
    runner = "wrk" if use_wrk else "python http.client loader"
    try:
        _wait_for(f"http://127.0.0.1:{port}/registry/", 120)
        # Each worker parses the snapshot and derives its sort orders, indexes and bodies once: warm
        # them up with the first path of each scenario (not counted), so the figures are those of a
        # running server. The distinct-query scenarios then still render every page afresh.
        for _ in range(workers * 4):
            for _label, paths, _count, headers in scenarios:
                request = urllib.request.Request(f"http://127.0.0.1:{port}{paths[0]}", headers=headers)
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (127.0.0.1 only)
                    response.read()
        load_average = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"\n3. load: gunicorn {workers} workers on 127.0.0.1:{port} (DATABASE_CONN_MAX_AGE={conn_max_age}); "
              f"{runner}, {connections} connections; "
              f"load average before: {load_average} on {os.cpu_count()} CPUs")
        print("  (CPU ms/req: the workers' user+system CPU time per request, which other load on the machine does")
        print("  not inflate the way it inflates latency)")
        print(f"  {'what':<36} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} "
              f"{'errors':>6}")
        with tempfile.TemporaryDirectory() as workdir:
            for label, paths, count, headers in scenarios:
                cpu_before = worker_cpu_seconds(server.pid)
                if runner == "wrk":
                    try:
                        result = _wrk(port, paths, count, connections, headers, Path(workdir))
                    except RuntimeError as failure:  # say so, and measure it with the other loader
                        print(f"  ({label}: {str(failure).splitlines()[0]}; measured with the python loader)")
                        result = _python_loader(port, paths, count, connections, headers)
                else:
                    result = _python_loader(port, paths, count, connections, headers)
                cpu = (worker_cpu_seconds(server.pid) - cpu_before) * 1000 / max(1, result["requests"])
                print(f"  {label:<36} {result['requests']:>8} {result['rps']:>9.1f} {result['p50']:>8.1f} "
                      f"{result['p99']:>8.1f} {cpu:>10.1f} {result['errors']:>6}")
        sizes = ", ".join(f"{size:.0f}" for size in _worker_rss_mib(server.pid))
        print(f"  worker memory after serving all of the above (RSS of each gunicorn worker): {sizes} MiB "
              f"(target < 300 MiB at 50,000 entries)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _keyset_paths() -> list[str]:
    """The index's "Next" links of every page (pages 2 to the last), as the pages make them."""
    from endorsement.models import RegistryEntry
    from endorsement.registry import NEWEST
    from endorsement.registry_views import PAGE_SIZE, _cursor

    keys = RegistryEntry.objects.order_by(*NEWEST).values_list("valid_from", "programme_id")
    return [f"/registry/?after={_cursor(n // PAGE_SIZE + 2, key)}" for n, key in enumerate(keys.iterator())
            if n % PAGE_SIZE == PAGE_SIZE - 1]


def _load_stored(args: argparse.Namespace, database_url: str) -> None:
    """Step 3 on the stored registry (unless --no-load): its programme pages and the index's links."""
    from django.db import connection

    from endorsement.models import RegistryEntry

    programme_ids = [str(p) for p in RegistryEntry.objects.order_by("-valid_from", "programme_id")
                     .values_list("public_id", flat=True)]
    keyset = _keyset_paths()
    connection.close()
    if not args.no_load:
        load(database_url, programme_ids, args.requests, args.workers, args.connections, args.loader, keyset,
             args.conn_max_age)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="published endorsements to seed")
    parser.add_argument("--organisations", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000, help="requests per page scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--conn-max-age", type=int, default=60,
                        help="the gunicorn workers' DATABASE_CONN_MAX_AGE (persistent connections; 0: one a request)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database and print its path")
    parser.add_argument("--no-load", action="store_true", help="seed and refresh only")
    parser.add_argument("--seeded", action="store_true",
                        help="DATABASE_URL holds an earlier run's database (--keep: sqlite:///PATH): migrate it and "
                             "refresh what changed, no seed and no full rebuild (to measure the pages again)")
    parser.add_argument("--profile", action="store_true", help="print the profile of each refresh after one change")
    parser.add_argument("--loader", choices=["auto", "wrk", "python"], default="auto",
                        help="wrk when installed (auto), or the small http.client loader")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-registry-")
    own_database = "DATABASE_URL" in os.environ
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/registry.sqlite3"
    os.environ.setdefault("REGISTRY_CACHE_DIR", f"{folder}/open-data")  # the open-data files (registry_views)
    os.environ.update(_environment(database_url))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from endorsement.models import RegistryEntry, RegistrySnapshot, RegistryToken
    from endorsement.registry import registry_refresh

    try:
        print(f"database: {connection.vendor} ({'DATABASE_URL' if own_database else 'temporary: ' + database_url})")
        call_command("migrate", verbosity=0)
        if args.seeded:
            from endorsement.registry import registry_refresh_pending

            registry_refresh_pending()
            print(f"an earlier run's database: {RegistryEntry.objects.count()} entries, no seed, no full rebuild")
            _load_stored(args, database_url)
            return
        print(f"1. seed ({args.count} published endorsements, bulk_create, services bypassed)")
        started = time.perf_counter()
        seed(args.count, args.organisations)
        print(f"  {time.perf_counter() - started:.1f} s")

        print("2. refresh")
        load_average = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        started, cpu_started = time.perf_counter(), time.process_time()
        snapshot = registry_refresh()
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        size = sum(len(b.encode()) for b in RegistryEntry.objects.values_list("body", flat=True).iterator())
        print(f"  load average before: {load_average} on {os.cpu_count()} CPUs")
        print(f"  registry_refresh(): {first:.2f} s wall, {first_cpu:.2f} s CPU in this process, for "
              f"{snapshot.entry_count} entries and {len(snapshot.organisation_profiles)} organisations "
              f"({size / 1e6:.1f} MB of entries, {RegistryToken.objects.count()} index tokens) — the full rebuild")
        started, cpu_started = time.perf_counter(), time.process_time()
        registry_refresh()
        print(f"  again, unchanged (no write): {time.perf_counter() - started:.2f} s wall, "
              f"{time.process_time() - cpu_started:.2f} s CPU; snapshots: {RegistrySnapshot.objects.count()}")
        one_change(args.count, args.profile)
        _load_stored(args, database_url)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
