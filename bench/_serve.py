"""The HTTP benches' server and load generator, shared: gunicorn started on 127.0.0.1 with the
project's WSGI application, the workers' CPU time read from /proc, and wrk's latency figures read.

bench/verify.py uses all of it; bench/registry.py, whose wrk script prints its own figures, takes
the workers' CPU time from it (`worker_cpu_seconds`) and still starts its gunicorn itself.

    with gunicorn(database_url, settings="config.settings.production", workers=2) as server:
        server.wait_for("/registry/")
        before = server.cpu_seconds()
        ...
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_cpu_seconds(master: int) -> float:
    """User + system CPU seconds used so far by the gunicorn workers (children of the master)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for task in Path(f"/proc/{master}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def wrk_percentile(wrk_output: str, percent: int) -> str | None:
    """The latency at `percent` from wrk's "Latency Distribution" block ("12.34ms"), or None. Only
    a line that starts with the percentile counts (the thread statistics above it end with a
    standard deviation such as "85.50%")."""
    match = re.search(rf"^\s*{percent}%\s+(\d[\d.]*\w*)\s*$", wrk_output, re.MULTILINE)
    return match.group(1) if match else None


def wrk_ms(text: str) -> float:
    """wrk's duration ("850.00us", "12.3ms", "1.2s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}[unit]


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its master's pid and its address."""

    pid: int
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """The workers' CPU seconds so far (user + system)."""
        return worker_cpu_seconds(self.pid)

    def wait_for(self, path: str, seconds: float = 120, *, body: bytes | None = None,
                 headers: Mapping[str, str] | None = None) -> bytes:
        """The first 200 answer to GET `path` (POST `body` when given), retried while the server
        starts; raises after `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                request = urllib.request.Request(self.base + path, data=body,  # noqa: S310 (127.0.0.1 only)
                                                 headers=dict(headers or {}))
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (127.0.0.1 only)
                    if response.status == 200:
                        return response.read()
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.base}{path} did not answer within {seconds} s")
            time.sleep(0.3)


@contextmanager
def gunicorn(database_url: str, *, settings: str, workers: int = 2, env: Mapping[str, str] | None = None,
             args: tuple[str, ...] = ()) -> Iterator[Server]:
    """gunicorn serving config.wsgi:application with `settings` on `database_url`, `workers`
    processes, on 127.0.0.1 and a free port, in a session of its own; stopped (SIGTERM to its
    process group) on leaving. `env` adds to the environment (production settings need a
    SECRET_KEY: a bench one is set); `args` adds to gunicorn's command line."""
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "DATABASE_URL": database_url,
                   "SECRET_KEY": "bench-http-secret-key-not-for-production-0123456789",
                   "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": "",
                   **(env or {})}
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--log-level", "warning", "--timeout", "120", *args],
        cwd=ROOT, env=environment, start_new_session=True)
    try:
        yield Server(process.pid, port)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
