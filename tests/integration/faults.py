"""Private services the fault tests start, kill and restart themselves (never the machine's shared
PostgreSQL or Redis): a `redis-server` on a port of 16380–16389, a PostgreSQL cluster made with
`initdb` in a temporary directory on a port of 55433–55439 (ten higher for each further pytest-xdist
worker), real `celery -A config worker`
processes with queue and node names of their own, an SMTP server that records what it accepted,
and an HTTP server for evidence links. Every process is started in a session of its own and dies
with the test process (PR_SET_PDEATHSIG) and with its fixture. Waits poll with deadlines.
"""

from __future__ import annotations

import contextlib
import ctypes
import email
import glob
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT, WORKER, need

# Each pytest-xdist worker probes its own ranges (tests.conftest.WORKER), so two workers never pick the
# same free port between one's probe and its server's bind.
REDIS_PORTS = range(16380 + 10 * WORKER, 16390 + 10 * WORKER)
POSTGRES_PORTS = range(55433 + 10 * WORKER, 55440 + 10 * WORKER)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, *, every: float = 0.1,
             details: Callable[[], str] = lambda: "") -> Any:
    """Poll `condition` until it returns something true; fail after `timeout` seconds saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{details()}")
        time.sleep(every)


def _die_with_parent() -> Callable[[], None]:
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return lambda: prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def _free_port(ports: range) -> int:
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    need(False, f"no free port in {ports.start}–{ports.stop - 1} for a private service")
    raise AssertionError("unreachable")


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with_parent())


def _kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


# --- Redis --------------------------------------------------------------------------------------
@dataclass
class PrivateRedis:
    """`redis-server` without persistence: killed, it restarts empty (the worst case for a broker)."""

    directory: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        need(binary is not None, "needs redis-server on PATH for the fault tests")
        self.port = self.port or _free_port(REDIS_PORTS)
        self.process = _spawn([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(self.directory)], self.directory / "redis.log")
        wait_for(self.answers, 15, f"redis-server on port {self.port}",
                 details=lambda: (self.directory / "redis.log").read_text(errors="replace"))

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            _kill_group(self.process)
            self.process = None

    def queued(self, queue: str) -> int:
        import redis

        return int(redis.Redis(port=self.port, socket_connect_timeout=1).llen(queue))


# --- PostgreSQL ---------------------------------------------------------------------------------
def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    need(bool(found), f"needs PostgreSQL's {name} (under /usr/lib/postgresql/*/bin) for the fault tests")
    return found[-1]


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root (CI containers), run its programs as `postgres`."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    need(runuser is not None, "running as root, and runuser is missing to start PostgreSQL as `postgres`")
    return [runuser, "-u", "postgres", "--"]


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb, trust authentication), on a private port, in
    a temporary directory of its own (owned by `postgres` when the tests run as root)."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fault-pg-")))
    port: int = 0

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create(self) -> None:
        self.port = _free_port(POSTGRES_PORTS)
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        subprocess.run([*_as_postgres_user(), _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        self.start()

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")
        result = subprocess.run([*_as_postgres_user(), _pg_bin("pg_ctl"), "-D", str(self.data), "-l",
                                 str(self.directory / "postgres.log"), "-o", options, "-w", "-t", str(int(timeout)),
                                 *args], capture_output=True, timeout=timeout + 10)
        if result.returncode != 0:
            log = (self.directory / "postgres.log")
            raise AssertionError(f"pg_ctl {' '.join(args)} failed: {result.stderr.decode(errors='replace')}\n"
                                 f"{log.read_text(errors='replace') if log.exists() else ''}")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def start(self) -> None:
        self._ctl("start")

    def restart_immediately(self) -> None:
        """As after a crash: every backend killed, the server recovers from its WAL and starts."""
        self._ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError, AssertionError):
            self._ctl("stop", "-m", "immediate", timeout=20)

    def sql(self, query: str, params: tuple = (), database: str = "endorse") -> list[tuple]:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{database}", autocommit=True,
                             connect_timeout=3) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


# --- Celery workers -----------------------------------------------------------------------------
@dataclass
class Worker:
    """A real `celery -A config worker` (prefork) on the test's database and private broker, on a
    queue and node name of its own, with the beat embedded (-B) when asked: the recovery sweeps then
    run by themselves, as in production."""

    env: dict[str, str]
    log: Path
    queue: str
    concurrency: int = 1
    beat: bool = False
    node: str = field(default_factory=lambda: f"fault-{uuid.uuid4().hex[:8]}@localhost")
    process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
                   f"--concurrency={self.concurrency}", "-Q", self.queue, "-n", self.node, "--loglevel=INFO",
                   "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if self.beat:
            command += ["-B", "-s", str(self.log.with_suffix(".beat-schedule"))]
        self.process = _spawn(command, self.log, self.env)
        wait_for(lambda: self.ready() or self.exited(), 60, f"worker {self.node} to start",
                 details=self.read_log)
        assert not self.exited(), f"the worker exited:\n{self.read_log()}"
        return self

    def ready(self) -> bool:
        return " ready." in self.read_log()

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def pool_children(self) -> list[int]:
        """The prefork pool processes (children of the worker's main process)."""
        assert self.process is not None
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.process.pid:
                        found.append(int(entry.name))
        return found

    def kill(self) -> None:
        """SIGKILL to the worker and all its processes at once: nothing acknowledges anything."""
        if self.process is not None:
            _kill_group(self.process)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            _kill_group(self.process)


@dataclass
class Beat:
    """`celery -A config beat`: the periodic recovery sweeps, sent to the test's queue."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> Beat:
        self.process = _spawn([sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                               "-s", str(self.log.with_suffix(".schedule"))], self.log, self.env)
        wait_for(lambda: "beat: Starting" in self.read_log() or self.process.poll() is not None, 60,
                 "celery beat to start", details=self.read_log)
        assert self.process.poll() is None, f"beat exited:\n{self.read_log()}"
        return self

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            _kill_group(self.process, signal.SIGTERM)
            if self.process.poll() is None:
                _kill_group(self.process)


def database_url_of_tests() -> str:
    """DATABASE_URL, pointed at the database pytest-django created (test_<name>)."""
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@contextlib.contextmanager
def broker_of_this_process(url: str, queue: str) -> Iterator[None]:
    """This process sends tasks to `url` (on `queue`) instead of running them eagerly; restored after."""
    import kombu.pools
    from django.conf import settings

    from config.celery import app

    def reset() -> None:
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "task_default_queue")}
    saved_setting = settings.CELERY_TASK_ALWAYS_EAGER
    app.conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    reset()
    try:
        yield
    finally:
        app.conf.update(saved)
        settings.CELERY_TASK_ALWAYS_EAGER = saved_setting
        reset()


def worker_env(*, database_url: str, broker: str, queue: str, smtp_port: int, **settings: int) -> dict[str, str]:
    """The environment of a fault-test worker: tests.integration.fault_settings (the test settings,
    mail over SMTP to the test's server when `smtp_port` is given, else kept in memory) and short
    recovery timings."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.integration.fault_settings",
           "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker, "FAULT_QUEUE": queue,
           "PYTHONPATH": str(REPO_ROOT)}
    env.pop("CELERY_RESULT_BACKEND", None)
    env.pop("FAULT_SMTP_PORT", None)
    if smtp_port:
        env["FAULT_SMTP_PORT"] = str(smtp_port)
    env.update({name: str(value) for name, value in settings.items()})
    return env


# --- SMTP ---------------------------------------------------------------------------------------
@dataclass
class Accepted:
    recipients: list[str]
    message_id: str
    subject: str


class SmtpSink:
    """A small SMTP server on 127.0.0.1 that records each message it accepts (answered 250).

    `hold_at = n`: the n-th message's DATA is read but not answered, and `held` is set: the test
    kills the sender then. A message whose sender vanished before the answer was never accepted, as
    SMTP has it, and is not recorded. `drop_at = n`: the n-th message's connection is closed before
    it is answered (a server gone mid-conversation). `connections` counts the sessions opened."""

    def __init__(self, delay: float = 0.0) -> None:
        self.accepted: list[Accepted] = []
        self.delay = delay
        self.hold_at: int | None = None
        self.drop_at: int | None = None
        self.connections = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._received = 0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self) -> None:
                with sink._lock:
                    sink.connections += 1
                self.reply("220 fault-test SMTP")
                recipients: list[str] = []
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.reply("250 fault-test")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go on")
                        data = b""
                        while True:
                            chunk = self.rfile.readline()
                            if not chunk:
                                return
                            if chunk in (b".\r\n", b".\n"):
                                break
                            data += chunk
                        if not sink._receive(self, recipients, data):
                            return
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def _receive(self, handler: Any, recipients: list[str], data: bytes) -> bool:
        with self._lock:
            self._received += 1
            number = self._received
        if self.delay:
            time.sleep(self.delay)
        if self.drop_at is not None and number == self.drop_at:
            return False  # the connection closes unanswered
        if self.hold_at is not None and number == self.hold_at:
            self.held.set()
            self.release.wait(30)
            return False  # never answered: the sender was killed meanwhile
        message = email.message_from_bytes(data)
        try:
            handler.reply("250 accepted")
        except OSError:
            return False
        with self._lock:
            self.accepted.append(Accepted(recipients, message.get("Message-ID", ""), message.get("Subject", "")))
        return True

    def by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for message in self.accepted:
                for recipient in message.recipients:
                    counts[recipient] = counts.get(recipient, 0) + 1
        return counts

    def __enter__(self) -> SmtpSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def running(*processes: Any) -> Iterator[None]:
    """Stop every worker (or kill every service) given, however the block ends."""
    try:
        yield
    finally:
        for process in processes:
            with contextlib.suppress(Exception):
                (process.stop if hasattr(process, "stop") else process.kill)()
