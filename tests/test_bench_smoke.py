"""The benchmarks in bench/ still run: each is started as a subprocess with a tiny N and must exit
0 and print its figures. (Not a timed test: the figures themselves are not checked.)"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

REPO = Path(__file__).resolve().parent.parent
RATE = r"\d+\.\d /s wall +\d+\.\d /CPU-s"


def run_bench(*args: str, timeout: int = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    result = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def test_the_issuance_bench_issues_in_process_and_prints_its_figures():
    out = run_bench("bench/issuance.py", "--n", "5", "--warmup", "5", "--plain-n", "5")
    assert re.search(r"in-process, fast path \(default\) +" + RATE + r" +\(n=5\)", out), out
    assert re.search(r"in-process, plain pyld reference +" + RATE + r" +\(n=5\)", out), out
    assert re.search(r"per credential, AwardSigner\.award .*p50 +\d+\.\d\d ms, p95 +\d+\.\d\d ms", out), out
    assert re.search(r"CPU shares of the chunk tasks: expansion +\d+\.\d%", out), out


@pytest.mark.postgres
@pytest.mark.redis
def test_the_issuance_bench_fans_out_over_a_celery_worker_and_prints_its_figures():
    need(listening("127.0.0.1", 5432), "needs PostgreSQL on 127.0.0.1:5432 for the Celery mode of bench/issuance.py")
    need(listening("127.0.0.1", 6379), "needs Redis on 127.0.0.1:6379 for the Celery mode of bench/issuance.py")
    # The broker database of this test worker (tests.conftest: TEST_REDIS_URL, one per xdist worker),
    # not the bench's default, which another worker's integration tests may be purging.
    broker = ["--broker", os.environ["TEST_REDIS_URL"]] if os.environ.get("TEST_REDIS_URL") else []
    out = run_bench("bench/issuance.py", "--workers", "1", "--n", "5", "--warmup", "0", "--plain-n", "0", *broker)
    assert re.search(r"Celery, 1 worker process +" + RATE + r" +\(n=5\)", out), out
    assert re.search(r"CPU shares of the chunk tasks: expansion +\d+\.\d%", out), out


def test_the_verification_bench_verifies_and_prints_its_figures():
    out = run_bench("bench/verify.py", "--n", "5", "--warmup", "2", "--plain-n", "5")
    assert re.search(r"credential_verify \(the service\), fast path \(default\) +" + RATE + r" +\(n=5\)", out), out
    assert re.search(r"vc\.verify alone \(the badge's proof\), plain pyld reference +" + RATE + r" +\(n=5\)", out), out
    assert "5 verified, 0 not" in out
    # The same badges again, each verified once before: the badge's proof from the memo.
    assert re.search(r"credential_verify \(the service\), repeated: .* +" + RATE + r" +\(n=5\)", out), out
    # badges.verification_data: the issuers, then the award with everything joined to it, its
    # archived evidence copies included.
    statements = (r"SQL statements per verification \(.*\): 2 for the records \(the award's archived evidence "
                  r"copies joined\), 0 more for archived evidence copies$")
    assert re.search(statements, out, re.MULTILINE), out


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_the_verification_bench_posts_to_the_api_over_http():
    out = run_bench("bench/verify.py", "--n", "5", "--warmup", "2", "--plain-n", "0", "--http", "20",
                    "--skip-in-process")
    # First-time verifications (each badge once, its proof checked), then repeated ones (the memo's).
    assert re.search(r"POST /api/v1/verify over HTTP, first-time \(.*\): gunicorn 2 workers \(sync\), .* "
                     r"5 requests over 5 badges", out), out
    assert re.search(r"POST /api/v1/verify over HTTP, repeated \(.*\): gunicorn 2 workers \(sync\), .* "
                     r"20 requests over 5 badges", out), out
    assert len(re.findall(r"\d+\.\d req/s +p50 +\d+\.\d ms +p99 +\d+\.\d ms .* not verified or not 200: 0",
                          out)) == 2, out


def test_the_canonicalization_micro_benchmark_runs():
    out = run_bench("bench/canon_bench.py", "--count", "5")
    assert re.search(r"sign +\d+\.\d credentials/s wall", out), out
    assert re.search(r"verify +\d+\.\d credentials/s wall", out), out


@pytest.mark.postgres
@pytest.mark.redis
def test_the_recovery_bench_kills_a_worker_and_prints_the_time_to_recover():
    import shutil

    need(listening("127.0.0.1", 5432), "needs PostgreSQL on 127.0.0.1:5432 for bench/recovery.py")
    need(shutil.which("redis-server") is not None, "needs redis-server for bench/recovery.py's private broker")
    out = run_bench("bench/recovery.py", "--rows", "200", "--visibility", "4", "--stall", "3", "--sweep", "1")
    assert re.search(r"broker redelivery \(visibility timeout\) +\d+\.\d s +every row once: True", out), out
    assert re.search(r"stall sweep \(beat\) +\d+\.\d s +every row once: True", out), out


def test_the_list_memory_bench_prints_the_peak_rss_of_each_way_of_listing():
    out = run_bench("bench/lists.py", "--n", "30")
    assert re.search(r"API, 30 awards in pages of 1,000 .* peak RSS +\d+\.\d MB .* 31 rows in 1 page", out), out
    assert re.search(r"limit=30 asked \(clamped to 1,000 rows\) +peak RSS +\d+\.\d MB", out), out
    assert re.search(r"before: 20 awards with the old queryset .* peak RSS +\d+\.\d MB", out), out


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.53ms    1.21ms  20.12ms   85.50%
    Req/Sec     3.20k   210.00     3.50k    99.00%
  Latency Distribution
     50%    2.31ms
     75%    2.90ms
     90%    3.70ms
     99%    7.12ms
  15930 requests in 5.00s, 41.21MB read
"""


def test_the_http_benches_read_percentiles_from_the_distribution_not_the_stdev_column():
    """The thread statistics end in "85.50%" and "99.00%": only the distribution's lines count
    (bench/_serve.py, bench/verify.py's reader of wrk; bench/registry.py's wrk script prints its
    own figures and parses nothing)."""
    from bench._serve import wrk_percentile

    assert wrk_percentile(WRK_OUTPUT, 50) == "2.31ms"
    assert wrk_percentile(WRK_OUTPUT, 99) == "7.12ms"
    assert wrk_percentile(WRK_OUTPUT.split("  Latency Distribution")[0], 99) is None


def test_the_evidence_bench_issues_a_batch_with_and_without_files_and_prints_the_storage_used():
    out = run_bench("bench/evidence.py", "--n", "3", "--warmup", "1", "--size", "4096")
    rates = re.findall(r"(\d+\.\d) badges/s wall, +(\d+\.\d) /CPU-s", out)
    assert len(rates) == 3 and all(float(w) > 0 and float(c) > 0 for w, c in rates), out  # two ways, the issuing share
    assert "without files" in out and "a 4 KB file each" in out and "+3 files" in out, out
    assert re.search(r"load average \d+\.\d–\d+\.\d", out) and "s CPU" in out, out
    assert "rows: 3 archived items" in out and "upload of the 3 files beforehand" in out, out
