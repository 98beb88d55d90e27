"""Shared fixtures: where ../shared/ lives, and how a missing service is treated."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from django.utils import translation

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# pytest-xdist (`make test` runs two workers, docs/testing.md): "gw0", "gw1", … in each worker, absent
# in a plain `pytest` run. pytest-django already gives each worker a test database of its own
# (test_<name>_gw1); what else two workers could share is told apart by this number.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def _worker_redis_url(url: str, worker: int) -> str:
    """TEST_REDIS_URL's database for this worker: the one given for the first, the ones below it
    for the others (15, 14, … in CI), so that a worker purging its broker never empties another's
    queue. Counting down keeps clear of database 0, a developer's usual one."""
    if not url or worker == 0:
        return url
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base - worker if base - worker >= 1 else base + worker
    return urlunsplit(parts._replace(path=f"/{number % 16}"))


if os.environ.get("TEST_REDIS_URL"):
    os.environ["TEST_REDIS_URL"] = _worker_redis_url(os.environ["TEST_REDIS_URL"], WORKER)


def need(condition: bool, reason: str) -> None:
    """Skip when `condition` is false, except under CI=true, where the test fails instead.

    Used for what a user's own clone may lack (../shared/, PostgreSQL, Redis, a Celery worker):
    a skip there is honest, but in CI a missing part means the suite did not prove anything.
    """
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must be available)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared/ folder beside the repository (test data we read but never copy)."""
    need(SHARED_DIR.is_dir(), f"{SHARED_DIR} is absent: tests that read ../shared/ cannot run")
    return SHARED_DIR


if os.environ.get("MUTATION_TEST_DB"):
    # `make mutation` (scripts/mutation.py sets MUTATION_TEST_DB to an empty folder, on /dev/shm when
    # there is one). mutmut forks one process per mutant from the process that ran its stats pass,
    # and pytest-django would migrate a new in-memory test database in every one of them (the larger
    # part of a database-backed mutant's run). Here the first session (the stats pass) migrates it
    # once into a SQLite file, the template; every later session, each forked mutant run, works on
    # its own copy of that file, so two workers never share one and no mutant sees another's rows.
    @pytest.fixture(scope="session")
    def django_db_setup(django_test_environment, django_db_blocker):
        from django.conf import settings
        from django.db import connections

        folder = Path(os.environ["MUTATION_TEST_DB"])
        template, serialized = folder / "template.sqlite3", folder / "template.json"
        mine = folder / f"session-{os.getpid()}.sqlite3"
        connection = connections["default"]
        assert connection.vendor == "sqlite", "MUTATION_TEST_DB is for the SQLite test database"
        with django_db_blocker.unblock():
            if not template.exists():
                connection.settings_dict.setdefault("TEST", {})["NAME"] = str(mine)
                connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=True)
                connection.close()
                partial = folder / f"template-{os.getpid()}.partial"
                shutil.copyfile(mine, partial)
                serialized.write_text(connection._test_serialized_contents, encoding="utf-8")
                partial.rename(template)  # atomic: a reader sees the whole file or none
            else:
                shutil.copyfile(template, mine)
                connection.close()
                connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = str(mine)
                # What `serialized_rollback=True` tests restore after flushing (Django keeps it here).
                connection._test_serialized_contents = serialized.read_text(encoding="utf-8")
        yield
        with django_db_blocker.unblock():
            connection.close()
        mine.unlink(missing_ok=True)
else:
    @pytest.fixture(scope="session")
    def django_db_setup(django_db_setup, django_db_blocker):
        """pytest-django's, then, before it drops a PostgreSQL test database, the sessions something
        left open on it are named in a warning and ended: otherwise the drop fails ("being accessed
        by other users") and the database is left behind. A full CI run left one or two, idle, whose
        holder was not found (docs/testing.md); the warning keeps them in sight."""
        yield
        from django.db import connection

        if connection.vendor != "postgresql":
            return
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute("SELECT pid, state, left(query, 200), pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            left = cursor.fetchall()
        connection.close()
        if left:
            warnings.warn(f"{len(left)} session(s) were left open on the test database and were ended: "
                          + "; ".join(f"pid {pid} ({state}), last statement: {query}" for pid, state, query, _ in left),
                          stacklevel=1)


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    """A test-client request in Japanese leaves Japanese active in this thread (LocaleMiddleware
    activates the request's language; nothing deactivates it), and messages built later with
    gettext would come out in Japanese in tests that expect English."""
    yield
    translation.deactivate()


@pytest.fixture
def postgres() -> None:
    """The test database is PostgreSQL (DATABASE_URL=postgres://…)."""
    from django.db import connection

    need(connection.vendor == "postgresql",
         f"needs PostgreSQL (DATABASE_URL=postgres://…); the test database is {connection.vendor}")
