"""The evidence storage from the environment (config/evidence_storage.py) and, through a real
S3-compatible server started here as its own process (moto's `moto_server`), a blob stored by
issuing an award and served by /evidence/<token>."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile

from config.evidence_storage import FILESYSTEM, S3, evidence_storage_options
from tests.conftest import need

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
S3_VARIABLES = ("EVIDENCE_S3_BUCKET", "EVIDENCE_S3_ENDPOINT_URL", "EVIDENCE_S3_REGION", "EVIDENCE_S3_ACCESS_KEY_ID",
                "EVIDENCE_S3_SECRET_ACCESS_KEY", "EVIDENCE_S3_ADDRESSING_STYLE", "EVIDENCE_S3_DEFAULT_ACL",
                "EVIDENCE_S3_PREFIX", "EVIDENCE_S3_USE_SSL", "EVIDENCE_S3_VERIFY_TLS")


@pytest.fixture
def s3_env(monkeypatch):
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_filesystem_default_takes_its_folder(tmp_path):
    assert evidence_storage_options(FILESYSTEM, root=tmp_path) == {"location": str(tmp_path), "base_url": None}


def test_s3_options_come_from_the_environment_private_and_without_signed_urls(s3_env, tmp_path):
    s3_env.setenv("EVIDENCE_S3_BUCKET", "evidence-archive")
    s3_env.setenv("EVIDENCE_S3_ENDPOINT_URL", "https://s3.isk01.sakurastorage.jp")
    s3_env.setenv("EVIDENCE_S3_REGION", "jp-north-1")
    s3_env.setenv("EVIDENCE_S3_ACCESS_KEY_ID", "AKIDEXAMPLE")
    s3_env.setenv("EVIDENCE_S3_SECRET_ACCESS_KEY", "secret")
    s3_env.setenv("EVIDENCE_S3_ADDRESSING_STYLE", "Path")
    s3_env.setenv("EVIDENCE_S3_PREFIX", "/badges/")
    options = evidence_storage_options(S3, root=tmp_path)
    assert options == {
        "bucket_name": "evidence-archive", "endpoint_url": "https://s3.isk01.sakurastorage.jp",
        "region_name": "jp-north-1", "access_key": "AKIDEXAMPLE", "secret_key": "secret",
        "addressing_style": "path", "location": "badges", "default_acl": None, "querystring_auth": False,
        "file_overwrite": True, "signature_version": "s3v4", "use_ssl": True, "verify": True}
    # django-storages takes every one of them (an unknown option would raise here).
    from storages.backends.s3 import S3Storage

    storage = S3Storage(**options)
    assert storage.bucket_name == "evidence-archive" and storage.querystring_auth is False
    assert storage.default_acl is None and storage.addressing_style == "path"


def test_s3_defaults_leave_credentials_and_endpoint_to_boto3(s3_env, tmp_path):
    s3_env.setenv("EVIDENCE_S3_BUCKET", "b")
    options = evidence_storage_options(S3, root=tmp_path)
    assert options["endpoint_url"] is None and options["access_key"] is None and options["secret_key"] is None
    assert options["addressing_style"] is None and options["region_name"] is None and options["location"] == ""


@pytest.mark.parametrize(("variables", "words"), [
    ({}, "EVIDENCE_S3_BUCKET must name the bucket"),
    ({"EVIDENCE_S3_BUCKET": "b", "EVIDENCE_S3_DEFAULT_ACL": "public-read"}, "served only through the application"),
    ({"EVIDENCE_S3_BUCKET": "b", "EVIDENCE_S3_ADDRESSING_STYLE": "dns"}, "EVIDENCE_S3_ADDRESSING_STYLE='dns'"),
    ({"EVIDENCE_S3_BUCKET": "b", "EVIDENCE_S3_USE_SSL": "maybe"}, "EVIDENCE_S3_USE_SSL='maybe' is not a boolean"),
])
def test_an_s3_setting_that_cannot_work_stops_start_up_naming_the_variable(s3_env, tmp_path, variables, words):
    for name, value in variables.items():
        s3_env.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=words.replace("(", r"\(")):
        evidence_storage_options(S3, root=tmp_path)


def test_the_settings_module_wires_the_environment_into_storages(tmp_path):
    """A fresh interpreter with the S3 variables set: STORAGES["evidence"] is django-storages' S3."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "EVIDENCE_STORAGE_BACKEND": S3, "EVIDENCE_S3_BUCKET": "evidence", "EVIDENCE_S3_REGION": "ap-northeast-1",
           "DJANGO_SECRET_KEY": "x" * 50, "SECRET_KEY": "x" * 50}
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "from django.core.files.storage import storages; s = storages['evidence']; "
            "print(json.dumps([settings.STORAGES['evidence']['BACKEND'], type(s).__name__, s.bucket_name, "
            "s.region_name, s.querystring_auth]))")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f'["{S3}", "S3Storage", "evidence", "ap-northeast-1", false]'


# --- a real S3-compatible server ------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def moto_server(tmp_path):
    """`moto_server` (moto[server], a dev dependency) on a private port, stopped after the test."""
    binary = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    need(Path(binary).exists(), "needs moto_server (pip install 'moto[server]', in the dev dependencies) for the "
                                "S3 storage test")
    port = _free_port()
    log = tmp_path / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                need(False, f"moto_server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


@pytest.mark.s3
@pytest.mark.django_db
def test_a_blob_is_stored_in_and_served_from_an_s3_compatible_server(moto_server, s3_env, settings, client,
                                                                   tmp_path):
    import boto3

    from badges.awards import award_issue
    from badges.models import ArchivedEvidence
    from tests.factories import awarding_setup

    s3_env.setenv("EVIDENCE_S3_BUCKET", "evidence-test")
    s3_env.setenv("EVIDENCE_S3_ENDPOINT_URL", moto_server)
    s3_env.setenv("EVIDENCE_S3_REGION", "us-east-1")
    s3_env.setenv("EVIDENCE_S3_ACCESS_KEY_ID", "testing")
    s3_env.setenv("EVIDENCE_S3_SECRET_ACCESS_KEY", "testing")
    s3_env.setenv("EVIDENCE_S3_ADDRESSING_STYLE", "path")
    s3_env.setenv("EVIDENCE_S3_USE_SSL", "false")
    s3_env.setenv("EVIDENCE_S3_PREFIX", "archive")
    bucket = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    bucket.create_bucket(Bucket="evidence-test")
    settings.STORAGES = {**settings.STORAGES, "evidence": {"BACKEND": S3,
                                                           "OPTIONS": evidence_storage_options(S3, root=tmp_path)}}

    programme, _, _, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="aiko@example.org",
                        evidence_files=[SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")])
    (copy,) = ArchivedEvidence.objects.filter(award=award)
    sha = hashlib.sha384(PDF).hexdigest()
    key = f"archive/sha384/{sha[:2]}/{sha[2:4]}/{sha}"
    assert bucket.get_object(Bucket="evidence-test", Key=key)["Body"].read() == PDF
    # No public grant on the object: only the owner.
    grants = bucket.get_object_acl(Bucket="evidence-test", Key=key)["Grants"]
    assert all(g["Grantee"].get("URI", "").rsplit("/", 1)[-1] not in {"AllUsers", "AuthenticatedUsers"}
               for g in grants)
    response = client.get(f"/evidence/{copy.token}")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body == PDF
