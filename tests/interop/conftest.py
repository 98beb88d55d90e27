"""The independent verifier: Digital Bazaar's JavaScript VC library, run by `node verify.mjs`.

Its npm packages are pinned in package.json / package-lock.json here; `npm ci --prefix tests/interop`
installs them (.ci/run does when node_modules is missing). Without node or node_modules the tests
skip, except under CI=true, where they fail (tests.conftest.need).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need

INTEROP_DIR = Path(__file__).resolve().parent
VERIFY_SCRIPT = INTEROP_DIR / "verify.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"
TIMEOUT_SECONDS = 120

Verifier = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def run_verifier(node: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run verify.mjs on `items` ({credential, didDocuments, statusLists}); one {verified, error,
    status} per item, in order. A crash, a timeout or output of the wrong shape fails the test."""
    try:
        completed = subprocess.run(
            [node, str(VERIFY_SCRIPT)], input=json.dumps(items, ensure_ascii=False), capture_output=True,
            text=True, encoding="utf-8", timeout=TIMEOUT_SECONDS, cwd=INTEROP_DIR, check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"node verify.mjs took more than {TIMEOUT_SECONDS}s for {len(items)} credentials")
    if completed.returncode != 0:
        pytest.fail(f"node verify.mjs exited with {completed.returncode}:\n{completed.stderr}")
    results = json.loads(completed.stdout)
    assert isinstance(results, list) and len(results) == len(items), completed.stdout[:2000]
    return results


@pytest.fixture(scope="session")
def js_verify() -> Verifier:
    """A function verifying credentials with the JavaScript verifier."""
    node = shutil.which("node")
    need(node is not None, "node is not installed: the independent (JavaScript) verifier cannot run")
    need(NODE_MODULES.is_dir(), f"{NODE_MODULES} is missing: run `npm ci --prefix tests/interop` "
                                "to install the independent verifier")
    return lambda items: run_verifier(node, items)
