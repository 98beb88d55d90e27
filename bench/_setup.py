"""Shared set-up of bench/issuance.py and bench/verify.py (not a benchmark itself).

* a database of the bench's own: a fresh temporary SQLite file, or a fresh PostgreSQL database
  created on the local server and dropped afterwards, or the DATABASE_URL given;
* Django started with `config.settings.test` (DEBUG off, e-mail kept in memory, evidence links on
  127.0.0.1 allowed), migrated;
* an organisation, a programme walked through the real services to a published, signed
  endorsement (`tests.factories.awarding_setup`) and a user with the issuer role;
* a small HTTP server on 127.0.0.1 the awards' evidence links point at, so the evidence tasks
  fetch real pages without leaving the machine;
* `StageClock`: timers wrapped around the credential library's stage functions (JSON-LD
  expansion, canonicalization, hashing, Ed25519), Celery's Task.apply_async and the database
  cursor, only inside the bench (and inside the bench's Celery workers, see below); nothing is
  changed outside the bench;
* Celery workers (`celery -A config worker --pool=prefork -Q <queue> -n <node> -I bench._setup`)
  started as subprocesses on the same database and a Redis broker, on a queue and node name of
  their own (runs sharing the broker never take each other's tasks) and ended with the bench,
  however it ends. Imported by a worker (`-I`), this module sends the worker's own tasks to that
  queue, installs the same timers in each worker process and writes what they measured to
  $BENCH_TIMINGS_DIR/<pid>.json after every task.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SETTINGS = "config.settings.test"
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
TIMINGS_ENV = "BENCH_TIMINGS_DIR"
# Set (to a folder) in the bench's environment, each worker process writes a wall-clock cProfile of
# everything it ran there, waits included, after every task (`BENCH_WORKER_PROFILE=/tmp/p bench/issuance.py
# --workers 1`; the file holds the warm-up batch too; with BENCH_WORKER_PROFILE_CPU=1 too, on the
# process's CPU clock instead). The timers' overhead grows under it.
PROFILE_ENV = "BENCH_WORKER_PROFILE"


# --- the machine ------------------------------------------------------------------------------------
def machine() -> str:
    """nproc, CPU model, Python version and the load average, for the report."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"load average {load} (1/5/15 min) at start")


def load_now() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p50_p95(values: list[float]) -> str:
    if not values:
        return "p50 n/a, p95 n/a"
    return f"p50 {statistics.median(values):6.2f} ms, p95 {percentile(values, 0.95):6.2f} ms"


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM (a timeout, a stopped session) ends the bench through its `finally` blocks, so that
    its database is dropped and its workers are stopped."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))


# --- the database -----------------------------------------------------------------------------------
@dataclass
class BenchDatabase:
    """Where the bench writes: `url` for DATABASE_URL; `cleanup()` removes what the bench created."""

    url: str
    vendor: str
    created: str = ""  # a file or a database name the bench made and removes
    server: str = ""

    def cleanup(self) -> None:
        if not self.created:
            return
        if self.vendor == "sqlite":
            shutil.rmtree(Path(self.created).parent, ignore_errors=True)
        else:
            _pg_admin(self.server, f'DROP DATABASE IF EXISTS "{self.created}" WITH (FORCE)')


def _pg_admin(server: str, sql: str) -> None:
    import psycopg

    parts = urlsplit(server)
    admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres"
                        else parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def bench_database(database_url: str | None, *, postgres: bool, pg_server: str = DEFAULT_PG_SERVER,
                   keep: bool = False) -> BenchDatabase:
    """The database given, or a fresh one: PostgreSQL (created on `pg_server`) when `postgres`,
    else a SQLite file in a temporary directory. With `keep`, nothing is removed afterwards."""
    if database_url:
        vendor = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        return BenchDatabase(url=database_url, vendor=vendor)
    if postgres:
        name = f"microcred_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _pg_admin(pg_server, f'CREATE DATABASE "{name}"')
        return BenchDatabase(url=f"{pg_server.rstrip('/')}/{name}", vendor="postgresql",
                             created="" if keep else name, server=pg_server)
    directory = tempfile.mkdtemp(prefix="microcred-bench-")
    path = Path(directory) / "bench.sqlite3"
    return BenchDatabase(url=f"sqlite:///{path}", vendor="sqlite", created="" if keep else str(path))


def django_start(database_url: str) -> None:
    """Django with the bench settings on `database_url`, tasks eager (no broker) in this process;
    the Celery mode switches the broker on at run time, as the integration tests do."""
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("CELERY_BROKER_URL", None)
    import logging

    import django

    django.setup()
    # Eager tasks log every run at INFO: thousands of lines that say nothing about speed.
    logging.getLogger("celery").setLevel(logging.WARNING)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- the world: an endorsed programme and its issuer ----------------------------------------------------
def endorsed_programme() -> tuple[Any, Any]:
    """(programme, issuer user): a complete programme walked through the real services (apply,
    submit, review, endorse, sign the EndorsementCredential, publish) by `tests.factories`."""
    from tests.factories import awarding_setup

    programme, _application, _cast, issuer = awarding_setup()
    return programme, issuer


def batch_rows(n: int, evidence_base: str, *, offset: int = 0, tag: str = "") -> list[Any]:
    """N upload rows as a JSON batch would carry them: e-mail, name, evidence link and narrative."""
    from badges.batches import rows_from_json

    data = [{
        "email": f"learner{tag}{offset + i}@example.org",
        "name": f"Learner {tag}{offset + i}",
        "evidence_url": f"{evidence_base}/work/{tag}{offset + i}",
        "evidence_narrative": "Passed three assessed assignments; final project on regional sales data.",
    } for i in range(n)]
    return rows_from_json(data)


def issue_batch(programme: Any, issuer: Any, rows: list[Any]) -> Any:
    """The batch service with no broker: its chunk tasks, and their follow-up tasks, run eagerly in
    this process. Returns the finished batch; raises if it did not complete."""
    from badges.batches import award_batch_create
    from badges.models import AwardBatch

    batch = award_batch_create(actor=issuer, programme=programme, rows=rows)
    batch = AwardBatch.objects.get(pk=batch.pk)
    if batch.state != AwardBatch.State.DONE or batch.issued != len(rows):
        raise RuntimeError(f"the batch did not complete: state {batch.state}, {batch.issued}/{len(rows)} "
                           f"({batch.error})")
    return batch


def follow_up_outcomes(batch_id: int) -> str:
    """What the follow-up tasks of a batch left behind: evidence standings, learners mailed."""
    from django.db.models import Count

    from badges.models import EvidenceCheck

    standings = dict(EvidenceCheck.objects.filter(award__batch_id=batch_id).values_list("standing")
                     .annotate(n=Count("id")).order_by())
    mailed = sum(mails.count() for mails in _learner_mails(batch_id))
    return f"evidence links {standings or 'none'}; learners mailed {mailed}"


def _learner_mails(batch_id: int) -> list[Any]:
    """The batch's learner mails (`Notification` rows keyed `award-issued:<award>`), as querysets of
    at most 500 keys each."""
    from badges.models import Award
    from endorsement.models import Notification

    keys = [f"award-issued:{public_id}" for public_id in
            Award.objects.filter(batch_id=batch_id).values_list("public_id", flat=True)]
    return [Notification.objects.filter(key__in=keys[i:i + 500]) for i in range(0, len(keys), 500)]


def follow_ups_finished_at(batch_id: int, since: Any) -> Any:
    """The moment the last of a batch's work was done, as the workers wrote it: the batch finished,
    its last learner mailed, its last evidence link checked, a status list signed after `since`
    (the bench database holds this run only). The polling that sees it only decides when to look."""
    from django.db.models import Max

    from badges.models import AwardBatch, EvidenceCheck, StatusList

    moments = [AwardBatch.objects.get(pk=batch_id).finished_at,
               EvidenceCheck.objects.filter(award__batch_id=batch_id).aggregate(m=Max("last_checked_at"))["m"],
               StatusList.objects.filter(signed_at__gte=since).aggregate(m=Max("signed_at"))["m"]]
    moments += [mails.aggregate(m=Max("sent_at"))["m"] for mails in _learner_mails(batch_id)]
    return max(moment for moment in moments if moment is not None)


class _EvidenceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the web servers of learning platforms answer
    body = (b"<!doctype html><title>Coursework</title><p>Assessed work of a learner: "
            + b"graded 78/100. " * 20 + b"</p>")

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        # The head and the body in one write, as a web server does: written apart, the body waited
        # for the client's delayed ACK of the head (Nagle), about 40 ms a response.
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(self.body)
        self.flush_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def evidence_server() -> Iterator[str]:
    """A small HTTP server on 127.0.0.1 serving an evidence page at any path; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EvidenceHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- timers ---------------------------------------------------------------------------------------
CRYPTO_STAGES = ("expansion", "canonicalization", "hashing", "signing")
# Inside a chunk, around the evidence: its links fetched before signing (badges.evidence.links_snapshot,
# the fetch threads' CPU included) and the copies written to the archive (badges.archive.copies_save_many).
EVIDENCE_STAGES = ("fetching evidence links", "archiving evidence copies")
STAGES = (*CRYPTO_STAGES, "enqueueing tasks", *EVIDENCE_STAGES, "database")
FOLLOW_UPS = {
    "status list publishing": ("badges.status", "status_list_publish"),
    "learner e-mails (a chunk's, one task)": ("badges.awards", "award_emails_send"),
    "evidence fetches": ("badges.evidence", "evidence_fetch"),
    "registry refresh": ("endorsement.registry", "registry_refresh"),
}


@dataclass
class _Frame:
    scope: str | None  # a scope frame names its scope; a stage frame has None
    stage: str = ""
    child: float = 0.0  # CPU seconds in nested timed frames (stages and scopes)
    child_scope: float = 0.0  # CPU seconds in nested scopes only
    child_scope_wall: float = 0.0  # wall-clock seconds in nested scopes


@dataclass
class StageClock:
    """CPU time by scope (the chunk task, each kind of follow-up task, a verification) and, inside
    each, by stage. A stage's time is exclusive (a stage nested in another counts only in the inner
    one); a scope's time includes its stages but not the scopes nested in it (the eager follow-up
    tasks that run when a chunk commits count in their own scope, not in the chunk's). Latencies
    of single operations are kept in ms, wall clock and CPU."""

    scopes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stages: dict[str, dict[str, float]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    scope_wall: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu_latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    _stack: list[_Frame] = field(default_factory=list)

    def _scope(self) -> str:
        for frame in reversed(self._stack):
            if frame.scope is not None:
                return frame.scope
        return "outside"

    def timed(self, function: Callable[..., Any], *, stage: str = "", scope: str | None = None) -> Callable[..., Any]:
        clock = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            frame = _Frame(scope=scope, stage=stage)
            clock._stack.append(frame)
            wall0, cpu0 = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                cpu = time.process_time() - cpu0
                wall = time.perf_counter() - wall0
                clock._stack.pop()
                if scope is not None:
                    own_cpu, own_wall = cpu - frame.child_scope, wall - frame.child_scope_wall
                    clock.scopes[scope] += own_cpu
                    clock.scope_wall[scope] += own_wall
                    clock.calls[scope] += 1
                    clock.latencies["scope:" + scope].append(own_wall * 1000)
                    clock.cpu_latencies["scope:" + scope].append(own_cpu * 1000)
                else:
                    clock.stages[clock._scope()][stage] += cpu - frame.child
                if clock._stack:
                    parent = clock._stack[-1]
                    parent.child += cpu
                    parent.child_scope += cpu if scope is not None else frame.child_scope
                    parent.child_scope_wall += wall if scope is not None else frame.child_scope_wall

        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper

    def latency(self, function: Callable[..., Any], name: str) -> Callable[..., Any]:
        """Wall-clock and CPU ms of each call (no frame: stages inside count in the enclosing scope)."""
        clock = self

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall0, cpu0 = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                clock.latencies[name].append((time.perf_counter() - wall0) * 1000)
                clock.cpu_latencies[name].append((time.process_time() - cpu0) * 1000)

        wrapper.__wrapped__ = function  # type: ignore[attr-defined]
        return wrapper

    def db_wrapper(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        """A Django `execute_wrapper`: the cursor's execute, timed as the stage "database"."""
        return self.timed(execute, stage="database")(sql, params, many, context)

    def reset(self) -> None:
        for mapping in (self.scopes, self.stages, self.scope_wall, self.calls, self.latencies, self.cpu_latencies):
            mapping.clear()

    # --- merging what worker processes measured ---
    def as_json(self) -> dict[str, Any]:
        return {"scopes": dict(self.scopes), "stages": {k: dict(v) for k, v in self.stages.items()},
                "scope_wall": dict(self.scope_wall), "calls": dict(self.calls),
                "latencies": dict(self.latencies), "cpu_latencies": dict(self.cpu_latencies)}

    def add_json(self, data: dict[str, Any]) -> None:
        for name, value in data["scopes"].items():
            self.scopes[name] += value
        for scope, stages in data["stages"].items():
            for stage, value in stages.items():
                self.stages[scope][stage] += value
        for name, value in data["scope_wall"].items():
            self.scope_wall[name] += value
        for name, value in data["calls"].items():
            self.calls[name] += value
        for name, values in data["latencies"].items():
            self.latencies[name] += values
        for name, values in data["cpu_latencies"].items():
            self.cpu_latencies[name] += values

    def breakdown(self, scope: str | list[str], inner: str = "", inner_label: str = "") -> str:
        """'expansion 12.3% · canonicalization …' of the CPU time of one scope (or several, added
        up). With `inner` (a latency name whose calls hold every credential stage, e.g.
        AwardSigner.award), the rest of those calls is shown apart from the rest of the scope."""
        names = [scope] if isinstance(scope, str) else scope
        total = sum(self.scopes.get(name, 0.0) for name in names)
        if total <= 0:
            return "(nothing measured)"
        stages: dict[str, float] = defaultdict(float)
        for name in names:
            for stage, value in self.stages.get(name, {}).items():
                stages[stage] += value
        parts = [(name, stages.get(name, 0.0)) for name in CRYPTO_STAGES]
        crypto = sum(value for _name, value in parts)
        rest = total - sum(stages.get(name, 0.0) for name in STAGES)
        if inner and self.cpu_latencies.get(inner):
            inside = sum(self.cpu_latencies[inner]) / 1000
            parts.append((inner_label, inside - crypto))
            rest -= inside - crypto
        if stages.get("enqueueing tasks"):
            parts.append(("enqueueing follow-up tasks", stages["enqueueing tasks"]))
        parts += [(name, stages[name]) for name in EVIDENCE_STAGES if stages.get(name)]
        parts += [("database (cursor execute)", stages.get("database", 0.0)), ("ORM, transactions, other", rest)]
        return " · ".join(f"{name} {100 * value / total:4.1f}%" for name, value in parts)


HOW_TIMED = (
    "time shares: CPU time (time.process_time) of the scope, split by timers the bench wraps around "
    "badges.credentials.fastcanon.fast_expand and canon.expand (expansion), proof._canonicalizer "
    "minus the expansion inside it (RDF conversion + RDFC-1.0 canonicalization, proof-options "
    "template), proof.hash_data (SHA-256), the Ed25519 key's sign/verify, Celery's Task.apply_async "
    "(enqueueing follow-up tasks; with no broker, the eager dispatch around them) and the Django "
    "cursor's execute (database, client side), and in a chunk badges.evidence.links_snapshot (fetching "
    "evidence links before signing, its threads' CPU included) and badges.archive.copies_save_many (archiving "
    "evidence copies); times are exclusive (a nested timed call counts once). "
    "The rest is ORM work, transactions, row loading, checks."
)


class Instruments:
    """Installs a `StageClock` on the library and services (monkeypatching, undone by `remove`)."""

    def __init__(self, clock: StageClock) -> None:
        self.clock = clock
        self._undo: list[tuple[Any, str, Any]] = []
        self._db_wrapped: list[Any] = []

    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._undo.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, replacement)

    def install(self, *, chunks: bool = True, verification: bool = False, database: bool = True) -> Instruments:
        import importlib

        from cryptography.hazmat.primitives.asymmetric import ed25519

        import badges.credentials.proof as proof_module
        from badges.credentials import canon, fastcanon

        clock = self.clock
        self._patch(fastcanon, "fast_expand", clock.timed(fastcanon.fast_expand, stage="expansion"))
        self._patch(canon, "expand", clock.timed(canon.expand, stage="expansion"))
        self._patch(proof_module, "_canonicalizer", clock.timed(proof_module._canonicalizer, stage="canonicalization"))
        self._patch(proof_module, "hash_data", clock.timed(proof_module.hash_data, stage="hashing"))
        private_type = type(ed25519.Ed25519PrivateKey.generate())
        public_type = type(ed25519.Ed25519PrivateKey.generate().public_key())
        self._patch(private_type, "sign", clock.timed(private_type.sign, stage="signing"))
        self._patch(public_type, "verify", clock.timed(public_type.verify, stage="signing"))
        if chunks:
            import badges.batches
            from badges.awards import AwardSigner

            self._patch(badges.batches, "award_batch_issue_chunk",
                        clock.timed(badges.batches.award_batch_issue_chunk, scope="chunk tasks"))
            self._patch(AwardSigner, "award", clock.latency(AwardSigner.award, "credential"))
            self._patch(badges.batches, "links_snapshot",
                        clock.timed(badges.batches.links_snapshot, stage="fetching evidence links"))
            self._patch(badges.batches, "copies_save_many",
                        clock.timed(badges.batches.copies_save_many, stage="archiving evidence copies"))
            from celery.app.task import Task

            # Sending a task (to the broker; with no broker, Celery's eager dispatch around the
            # task, whose own work is timed in its scope).
            self._patch(Task, "apply_async", clock.timed(Task.apply_async, stage="enqueueing tasks"))
            for label, (module_name, function_name) in FOLLOW_UPS.items():
                module = importlib.import_module(module_name)
                self._patch(module, function_name, clock.timed(getattr(module, function_name), scope=label))
        if database:
            from django.db import connections

            connection = connections["default"]
            connection.execute_wrappers.append(clock.db_wrapper)
            self._db_wrapped.append(connection)
        return self

    def set_canonicalizer(self, canonicalizer: Any) -> None:
        """Choose the default canonicalizer (None: the fast one), keeping its timer."""
        import badges.credentials.proof as proof_module

        proof_module.set_default_canonicalizer(canonicalizer)
        self._patch(proof_module, "_canonicalizer",
                    self.clock.timed(proof_module._canonicalizer, stage="canonicalization"))

    def remove(self) -> None:
        import badges.credentials.proof as proof_module

        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)
        proof_module.set_default_canonicalizer(None)
        for connection in self._db_wrapped:
            with contextlib.suppress(ValueError):
                connection.execute_wrappers.remove(self.clock.db_wrapper)
        self._db_wrapped.clear()


# --- CPU time of other processes (Celery workers, PostgreSQL backends) ----------------------------
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its live children (a prefork worker and its pool)."""
    return process_cpu(pid) + sum(process_cpu(child) for child in children_of(pid))


def postgres_backend_pids(database: str) -> list[int]:
    """Server processes serving `database` (pg_stat_activity), to add their CPU time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        return [row[0] for row in cursor.fetchall()]


# --- Celery workers ---------------------------------------------------------------------------------
QUEUE_ENV = "BENCH_QUEUE"


@dataclass
class Workers:
    """A worker started by `start_workers`: its own queue and node name, so that benches (or test
    runs) sharing the broker never take each other's tasks."""

    process: subprocess.Popen
    timings_dir: Path
    log_path: Path
    queue: str
    node: str

    def cpu(self) -> float:
        return tree_cpu(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: children finish and exit
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _die_with_parent() -> Callable[[], None] | None:
    """A pre-exec function for the worker subprocess: SIGTERM when the bench process dies, however
    it dies (Linux prctl PR_SET_PDEATHSIG), so that no worker outlives its bench. Resolved here, in
    the parent, so that the child only makes the one C call between fork and exec."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


def start_workers(concurrency: int, database_url: str, broker: str, timings_dir: Path, log_path: Path, *,
                  conn_max_age: int = 0) -> Workers:
    """`celery -A config worker --pool=prefork --concurrency=K` on the bench database and broker,
    consuming a queue of this run only, and importing this module (-I) so each process measures
    with a StageClock and sends its follow-up tasks to that queue."""
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    queue, node = f"bench-{tag}", f"bench-{tag}@{platform.node()}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "DATABASE_URL": database_url,
           "CELERY_BROKER_URL": broker, TIMINGS_ENV: str(timings_dir), QUEUE_ENV: queue, "PYTHONPATH": str(REPO),
           "DATABASE_CONN_MAX_AGE": str(conn_max_age)}
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
               f"--concurrency={concurrency}", "-I", "bench._setup", "-Q", queue, "-n", node,
               "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    log = log_path.open("wb")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                               preexec_fn=_die_with_parent())
    log.close()
    return Workers(process=process, timings_dir=timings_dir, log_path=log_path, queue=queue, node=node)


def broker_on(broker: str, queue: str) -> Any:
    """Send tasks from this process to `queue` on `broker` instead of running them eagerly."""
    from config.celery import app

    app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)
    app._pool = None
    app.amqp._producer_pool = None
    return app


def broker_off(app: Any, saved: dict[str, Any], queue: str) -> None:
    """Delete the run's queue from the broker and go back to eager tasks."""
    with contextlib.suppress(Exception), app.connection_for_write() as connection:
        channel = connection.default_channel
        # Tasks still held on a countdown (the debounced registry refresh) come back to the queue
        # when the worker stops; the queue goes, with what is left in it.
        channel.client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None


def wait_for_workers(app: Any, workers: Workers, expected: int, timeout: float = 90) -> None:
    """Until our worker answers a ping and all its pool processes are up (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if workers.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited; see {workers.log_path}:\n{workers.log_path.read_text()}")
        if (app.control.ping(destination=[workers.node], timeout=0.5)
                and len(children_of(workers.process.pid)) >= expected):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the Celery worker did not come up in {timeout:.0f} s; see {workers.log_path}")


def queue_length(app: Any, queue: str) -> int:
    with app.connection_for_read() as connection:
        return int(connection.default_channel.client.llen(queue))


def wait_drained(app: Any, workers: Workers, timeout: float, finished: Callable[[], bool] = lambda: True) -> bool:
    """Until `finished()` (what the tasks were to leave in the database is there), our queue is
    empty and our worker answers that it runs nothing. A worker that does not answer in time counts
    as busy. Countdown tasks (the debounced registry refresh) are not waited for. Bounded; False on
    timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue_length(app, workers.queue) == 0 and finished():
            active = app.control.inspect(destination=[workers.node], timeout=1.0).active()
            if active is not None and not any(active.values()):
                return True
        time.sleep(0.2)
    return False


def follow_ups_done(batch_id: int, total: int) -> Callable[[], bool]:
    """For `wait_drained`: every evidence link of the batch fetched once, every learner mailed."""

    def finished() -> bool:
        from badges.models import EvidenceCheck

        unfetched = EvidenceCheck.objects.filter(award__batch_id=batch_id, last_checked_at__isnull=True).exists()
        return not unfetched and follow_up_outcomes(batch_id).endswith(f"learners mailed {total}")

    return finished


# --- inside a worker process (imported with -I, BENCH_TIMINGS_DIR set) ---------------------------
def _worker_hooks() -> None:
    from celery import signals

    state: dict[str, Any] = {"clock": None, "latencies": '{"latencies": {}, "cpu_latencies": {}}'}
    directory = Path(os.environ[TIMINGS_ENV])

    def write(latencies_changed: bool) -> None:
        """The totals after every task; the latency lists (long) re-serialized after chunk tasks only."""
        clock = state["clock"]
        if clock is None:
            return
        if latencies_changed:
            state["latencies"] = json.dumps({"latencies": dict(clock.latencies),
                                             "cpu_latencies": dict(clock.cpu_latencies)})
        totals = json.dumps({"scopes": dict(clock.scopes), "stages": {k: dict(v) for k, v in clock.stages.items()},
                             "scope_wall": dict(clock.scope_wall), "calls": dict(clock.calls)})
        path = directory / f"{os.getpid()}.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text('{"totals": ' + totals + ', "lists": ' + state["latencies"] + "}")
        temporary.replace(path)

    if os.environ.get(QUEUE_ENV):
        from config.celery import app

        # Follow-up tasks the chunk tasks send stay on this run's queue.
        app.conf.task_default_queue = os.environ[QUEUE_ENV]

    @signals.worker_process_init.connect(weak=False)
    def install(**_kwargs: Any) -> None:
        import django

        django.setup()
        clock = StageClock()
        state["clock"] = clock
        Instruments(clock).install()
        if os.environ.get(PROFILE_ENV):  # a wall-clock profile of every task, waits included
            import cProfile

            cpu_clock = os.environ.get(PROFILE_ENV + "_CPU") == "1"  # the process's CPU time instead
            state["profile"] = cProfile.Profile(time.process_time) if cpu_clock else cProfile.Profile()
            state["profile"].enable()

    @signals.task_postrun.connect(weak=False)
    def after_task(task: Any = None, **_kwargs: Any) -> None:
        write(latencies_changed=task is not None and task.name.endswith("issue_award_batch_chunk"))
        profile = state.get("profile")
        if profile is not None:  # dump_stats stops the profiler: start it again after
            profile.dump_stats(Path(os.environ[PROFILE_ENV]) / f"worker-{os.getpid()}.prof")
            profile.enable()


def read_worker_file(path: Path) -> dict[str, Any]:
    """What a worker process wrote (see `_worker_hooks`), in `StageClock.as_json` form."""
    data = json.loads(path.read_text())
    return {**data["totals"], **data["lists"]}


# Only the workers `start_workers` runs have BENCH_TIMINGS_DIR in their environment.
if os.environ.get(TIMINGS_ENV):
    _worker_hooks()
