"""bench/registry.py still runs end to end with a tiny registry: seed, refresh, gunicorn on
127.0.0.1 and a bounded load with each loader. (Not a timed test: the figures are not checked.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

REPO = Path(__file__).resolve().parent.parent.parent
ROW = r"{label}\s+(\d+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+0$"


def run_bench(loader: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    result = subprocess.run(
        [sys.executable, "bench/registry.py", "--count", "30", "--organisations", "3", "--requests", "20",
         "--loader", loader],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.parametrize("loader", ["python", "wrk"])
def test_the_registry_bench_seeds_refreshes_serves_and_loads(loader):
    if loader == "wrk":
        need(shutil.which("wrk") is not None, "wrk is not installed (apt-get install wrk)")
    out = run_bench(loader)
    assert "registry_refresh():" in out and "30 entries and 3 organisations" in out
    assert ("wrk" if loader == "wrk" else "python http.client loader") in out
    for label in (r"/registry/ \(page 1 of 2\)", r"/registry/\?after=… \(1 pages\)", r"programme page, the same one",
                  r"/registry\.json gzip"):
        match = re.search(ROW.format(label=label), out, re.MULTILINE)
        assert match, out
        assert int(match.group(1)) > 0
