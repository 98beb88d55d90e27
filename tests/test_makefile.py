"""`make run PORT=8123` serves on 8123 and the server's public address (SITE_URL: DIDs, URLs, the
banner) follows HOST and PORT unless SITE_URL is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import REPO_ROOT, need


def _dry_run(*args: str, site_url: str | None = None) -> list[str]:
    need(shutil.which("make") is not None, "needs make")
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "HOST", "PORT", "MAKEFLAGS"}}
    if site_url:
        env["SITE_URL"] = site_url
    out = subprocess.run(["make", "-n", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=True)
    return [line for line in out.stdout.splitlines() if "manage.py" in line]


def test_port_and_host_move_the_server_and_its_site_url():
    lines = _dry_run("run", "PORT=8123")
    assert lines[-1].endswith("manage.py runserver 127.0.0.1:8123")
    assert all(line.startswith("SITE_URL=http://127.0.0.1:8123 ") for line in lines), lines
    lines = _dry_run("run", "HOST=localhost", "PORT=9000")
    assert lines[-1].startswith("SITE_URL=http://localhost:9000 ") and lines[-1].endswith("localhost:9000")


def test_a_site_url_that_is_set_wins():
    lines = _dry_run("run", "PORT=8123", site_url="https://badges.example.org")
    assert all(line.startswith("SITE_URL=https://badges.example.org ") for line in lines), lines


def test_the_settings_take_the_address_make_passes():
    port = "8123"
    env = {**os.environ, "SITE_URL": f"http://127.0.0.1:{port}", "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    code = ("import django; django.setup(); from django.conf import settings; "
            "from badges.credentials import did_web_from_url; "
            "print(settings.SITE_URL, did_web_from_url(settings.SITE_URL))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"http://127.0.0.1:{port}", f"did:web:127.0.0.1%3A{port}"]
