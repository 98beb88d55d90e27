"""A second verifier stack besides Digital Bazaar's: the Digital Credentials Consortium's
verifier-core (dcc-verify.mjs), as their wallet and VerifierPlus run it, with its own did:web
resolver, status list checker and 1EdTech schema check. It resolves our did:web DIDs and fetches the
status lists from a live test server (SITE_URL is the server's address, so the DIDs name it), and
reads contexts and schemas from local files: nothing leaves the machine.

Every credential the server signs verifies there (badges of every shape, the EndorsementCredential,
status lists, after an ordinary rotation and after `rotate_key --compromised`), a tampered copy of
each fails its signature step, and a revoked badge fails its revocation step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from badges.awards import award_revoke
from badges.models import Award
from badges.rekey import key_compromised
from tests.conftest import need
from tests.interop.conftest import INTEROP_DIR, NODE_MODULES, TIMEOUT_SECONDS
from tests.interop.test_independent_verifier import Signed, sign_everything

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server reads it
SCRIPT = INTEROP_DIR / "dcc-verify.mjs"
VERIFIER_CORE = NODE_MODULES / "@digitalcredentials" / "verifier-core"


def dcc_verify(live_url: str, schemas: Path, credentials: list[dict[str, Any]],
               registries: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """verifier-core's results for `credentials`; `registries` are the known DID registries it asks
    whether the issuer is registered (none by default)."""
    node = shutil.which("node")
    need(node is not None, "node is not installed: the DCC verifier cannot run")
    need(VERIFIER_CORE.is_dir(), f"{VERIFIER_CORE} is missing: run `npm ci --prefix tests/interop`")
    completed = subprocess.run(
        [node, str(SCRIPT)], input=json.dumps(credentials, ensure_ascii=False), capture_output=True, text=True,
        encoding="utf-8", timeout=TIMEOUT_SECONDS, cwd=INTEROP_DIR, check=False,
        env={**os.environ, "LIVE_SERVER_URL": live_url, "SCHEMAS_DIR": str(schemas),
             "DCC_REGISTRIES": json.dumps(registries or [])},
    )
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout.splitlines()[-1])
    assert answer["refused"] == [], answer["refused"]  # it asked for nothing we do not serve locally
    assert len(answer["results"]) == len(credentials)
    return answer["results"]


@pytest.fixture
def live(live_server, settings, tmp_path, shared_dir) -> tuple[Signed, Any]:
    settings.SITE_URL = live_server.url  # the DIDs and status list URLs name the live server
    settings.MEDIA_ROOT = tmp_path
    signed = sign_everything()
    signed.site_url = live_server.url
    signed.organisation_url = f"{live_server.url}/organisations/{signed.organisation.slug}"
    return signed, lambda credentials: dcc_verify(live_server.url, shared_dir / "ob3-schemas", credentials)


def steps(result: dict[str, Any]) -> dict[str, bool]:
    return {step["id"]: step["valid"] for step in result["log"]}


def test_the_dcc_verifier_accepts_every_credential_we_sign_resolving_our_did_web(live):
    signed, verify = live
    results = verify([case.credential for case in signed.cases])
    failed = {c.name: (r["errors"], r["log"]) for c, r in zip(signed.cases, results, strict=True) if not r["verified"]}
    assert failed == {}
    for case, result in zip(signed.cases, results, strict=True):
        assert steps(result)["valid_signature"] is True, case.name
        if "credentialStatus" in case.credential:  # its list was fetched and verified: bit unset
            purpose = case.credential["credentialStatus"]["statusPurpose"]
            assert steps(result)[f"{purpose}_status"] is True, case.name
            assert any("/status/" in url for url in result["fetched"]), (case.name, result["fetched"])
        if "credentialSchema" in case.credential:  # the 1EdTech schema, checked by ajv this time
            assert [s["valid"] for s in result["schema"]] == [True], (case.name, result["schema"])
    # Both issuers' DID documents came from the live server (verifier-core caches a resolved DID).
    fetched = {url for result in results for url in result["fetched"]}
    assert {url for url in fetched if url.endswith("did.json")} == {
        f"{signed.organisation_url}/did.json", f"{signed.site_url}/.well-known/did.json"}


def test_it_rejects_a_tampered_copy_of_each_one(live):
    signed, verify = live
    results = verify([case.tampered() for case in signed.cases])
    for case, result in zip(signed.cases, results, strict=True):
        assert result["verified"] is False, case.name
        assert any(e.startswith("invalid_signature") for e in result["errors"]), (case.name, result["errors"])


def test_it_reads_a_revoked_badge_s_bit_from_the_live_status_list(live):
    signed, verify = live
    revoked, kept = signed.awards["evidence"], signed.awards["e-mail identity"]
    award_revoke(actor=signed.issuer, award=revoked, reason="Evidence found to be plagiarised.")
    signed.export()
    first, second = verify([revoked.credential, kept.credential])
    assert steps(first)["valid_signature"] is True and steps(first)["revocation_status"] is False
    assert first["verified"] is False
    assert second["verified"] is True, second


def test_after_a_compromised_key_the_re_signed_badges_verify_and_the_old_copies_do_not(live):
    signed, verify = live
    # sign_everything rotated the member's key once: key-1 signed every badge but the last one.
    before = {name: award.credential for name, award in signed.awards.items()}
    report = key_compromised(actor=None, organisation=signed.organisation, fragment="key-1", reason="test")
    assert report.awards == len(before) - 1
    now = {name: Award.objects.get(pk=award.pk).credential for name, award in signed.awards.items()}
    assert now["after a key rotation"] == before["after a key rotation"]  # signed with key-2: untouched
    stale = [name for name in before if name != "after a key rotation"]
    results = verify([*now.values(), *(before[name] for name in stale)])
    fresh, old = results[:len(now)], results[len(now):]
    assert {n: r["errors"] for n, r in zip(now, fresh, strict=True) if not r["verified"]} == {}
    assert [r["verified"] for r in old] == [False] * len(stale)
    assert all(steps(r).get("valid_signature") is not True for r in old), [r["errors"] for r in old]
