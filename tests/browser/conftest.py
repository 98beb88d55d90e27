"""Tests in a real browser: Playwright for Python driving Debian's Chromium (/usr/bin/chromium, never a
downloaded browser) against pytest-django's live server.

The live server runs the app in a thread of this process on a transactional test database, so
on-commit tasks fire (Celery runs them eagerly, in the server's thread) just as they do in
production. Each test gets its own Playwright, Chromium and fresh profile directory; `Browser.visit`
and `Browser.shot` save a full-page screenshot of every page under
test-output/screenshots/<test name>/NN-<page>.png (test-output/ is git-ignored), and a failing test
leaves a last screenshot of where it stopped.

Without /usr/bin/chromium or the playwright package the tests skip with the reason, except under
CI=true, where they fail (tests.conftest.need).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, need

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
STEP_TIMEOUT_MS = 5_000  # one click, fill or expectation
NAVIGATION_TIMEOUT_MS = 10_000  # one page load, including the server's work behind a form


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives /usr/bin/chromium through Playwright (fails under CI=true when missing)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    # Lets the browser fixture see whether the test body failed, to keep a screenshot of that moment.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Browser:
    """One Chromium page on the live server, with numbered full-page screenshots."""

    def __init__(self, page: Any, base_url: str, shots: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.shots = shots
        self.count = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def visit(self, path: str, name: str) -> Any:
        """Open `path` of the live server and take its screenshot; returns the response."""
        response = self.page.goto(self.url(path))
        self.shot(name)
        return response

    def shot(self, name: str) -> Path:
        """Save the whole page as NN-<name>.png."""
        self.count += 1
        target = self.shots / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def log_in(self, username: str, password: str, name: str = "login") -> None:
        """Log in through the site's login form (the portal)."""
        self.visit("/accounts/login/", name)
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()


def _playwright_api() -> Any:
    need(CHROMIUM.exists(), f"{CHROMIUM} is missing: install the Debian package (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        need(False, "the playwright package is missing (.venv/bin/pip install playwright; no browser download)")
    return sync_api


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in-process right after commit (in the thread that commits), even when a
    broker is configured."""
    from config.celery import app

    eager = {"task_always_eager": True, "task_eager_propagates": True}
    before = {key: app.conf[key] for key in eager}
    app.conf.update(eager)
    yield
    app.conf.update(before)


@pytest.fixture
def browser(request: pytest.FixtureRequest, live_server: Any, eager_tasks: None, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """A fresh Chromium (new profile: no cookies) with one English page, on the live server."""
    sync_api = _playwright_api()
    # Playwright's sync API keeps an event loop in this thread; Django refuses database access from
    # a thread with a running loop unless told that it is safe (here it is: nothing else runs in it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    shots = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            locale="en-GB", timezone_id="UTC", viewport={"width": 1280, "height": 900}, accept_downloads=True,
        )
        try:
            context.set_default_timeout(STEP_TIMEOUT_MS)
            context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
            sync_api.expect.set_options(timeout=STEP_TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            session = Browser(page, live_server.url, shots)
            yield session
            failed = getattr(request.node, "rep_call", None)
            if failed is not None and failed.failed:
                session.shot("failure")
        finally:
            context.close()
