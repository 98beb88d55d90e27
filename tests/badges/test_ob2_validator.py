"""The Open Badges 2.0 mirror checked by 1EdTech's own OB 2.0 validator (openbadges-validator-core,
`openbadges` on PyPI), run offline against a live test server.

The validator pins PyLD 0.7.1 and jsonschema 2.6.0, which cannot be installed beside the server's
pyld 3.3, so it lives in .venv-ob2 (made by `make install` from tests/ob2_validator/requirements.txt)
and runs as a subprocess: tests/ob2_validator/run_validator.py patches its HTTP transport so that
every JSON-LD context (the OB 2.0 one among them) is read from ../shared/contexts, the live server
is fetched, and anything else is refused (and the test fails on any refusal)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from badges.awards import award_issue, award_revoke
from endorsement import services
from tests.conftest import REPO_ROOT, need
from tests.factories import awarding_setup

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a live server reads it
OB2_PYTHON = REPO_ROOT / ".venv-ob2" / "bin" / "python"
WRAPPER = REPO_ROOT / "tests" / "ob2_validator" / "run_validator.py"
TIMEOUT_SECONDS = 300


def validate(live_url: str, contexts: Path, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    need(OB2_PYTHON.exists(), f"{OB2_PYTHON} is missing: run `make install` (it makes .venv-ob2)")
    completed = subprocess.run(
        [str(OB2_PYTHON), str(WRAPPER)], input=json.dumps(inputs), capture_output=True, text=True,
        timeout=TIMEOUT_SECONDS, check=False, cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", ""), "CONTEXTS_DIR": str(contexts), "ALLOWED_ORIGIN": live_url},
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    answer = json.loads(completed.stdout.splitlines()[-1])
    assert answer["refused"] == [], answer["refused"]  # it asked for nothing we do not serve locally
    assert "https://w3id.org/openbadges/v2" in answer["local"]  # the context came from the local copy
    assert all(url.startswith(live_url) for url in answer["fetched"])
    return answer["results"]


def _errors(result: dict[str, Any]) -> list[str]:
    return [m.get("result") for m in result["report"]["messages"] if m["messageLevel"] == "ERROR"]


def _node(result: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in result["graph"] if n.get("id") == node_id)


@pytest.fixture
def live(live_server, settings, tmp_path, shared_dir):
    settings.SITE_URL = live_server.url  # every mirror URL names the live server
    settings.MEDIA_ROOT = tmp_path
    programme, _app, _cast, issuer = awarding_setup()
    awards = [
        award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                    recipient_name="山田花子", evidence_url="https://example.org/work/1",
                    evidence_narrative="Three assignments passed."),
        award_issue(actor=issuer, programme=programme, recipient_email="taro@example.org"),
        award_issue(actor=issuer, programme=programme, recipient_email="jiro@example.org"),
        award_issue(actor=issuer, programme=programme, recipient_did="did:example:saburo"),
    ]
    award_revoke(actor=issuer, award=awards[2], reason="Issued in error")
    return live_server.url, shared_dir / "contexts", awards


def test_every_mirrored_assertion_is_valid_and_a_revoked_one_is_reported_revoked(live):
    url, contexts, awards = live
    assertion_urls = [f"{url}/ob2/assertions/{a.public_id}" for a in awards]
    results = validate(url, contexts, [{"url": u} for u in assertion_urls])
    for assertion_url, result in zip(assertion_urls, results, strict=True):
        assert _errors(result) == [], (assertion_url, result["report"]["messages"])
        assert result["report"]["valid"] is True, assertion_url
        assertion = _node(result, assertion_url)
        badge = _node(result, assertion["badge"])
        issuer = _node(result, badge["issuer"])
        assert issuer["revocationList"] == f"{issuer['id']}/revocations"
        assert badge["endorsement"], "the BadgeClass carries the body's endorsement"
        award = awards[assertion_urls.index(assertion_url)]
        assert assertion["related"] == award.credential["id"], "it names the OB 3.0 credential it mirrors"
    # The revoked one: its hosted Assertion, as the validator read it, says revoked, with the reason.
    revoked = _node(results[2], assertion_urls[2])
    assert revoked["revoked"] is True and revoked["revocationReason"] == "Issued in error"
    assert "revoked" not in _node(results[0], assertion_urls[0])


def test_a_suspended_endorsement_reads_revoked_in_the_validators_graph(live):
    url, contexts, awards = live
    endorsement = awards[0].endorsement
    services.endorsement_suspend(actor=endorsement.decided_by, endorsement=endorsement, comment="Under review")
    [result] = validate(url, contexts, [{"url": f"{url}/ob2/assertions/{awards[0].public_id}"}])
    assert result["report"]["valid"] is True, result["report"]["messages"]  # the Assertion itself stands
    node = _node(result, f"{url}/ob2/endorsements/{endorsement.public_id}")
    assert node["revoked"] is True and node["revocationReason"] == "suspended"


def test_the_baked_ob2_png_and_the_assertion_json_validate_too_and_a_broken_one_does_not(live, client):
    url, contexts, awards = live
    png = client.get(f"/ob2/assertions/{awards[0].public_id}.png").content
    assertion = client.get(f"/ob2/assertions/{awards[0].public_id}").json()
    unknown = {**assertion, "id": f"{url}/ob2/assertions/{uuid.uuid4()}"}  # hosted nowhere
    results = validate(url, contexts, [{"png_base64": base64.b64encode(png).decode()}, {"json": assertion},
                                       {"json": unknown}])
    for result in results[:2]:
        assert _errors(result) == [], result["report"]["messages"]
        assert result["report"]["valid"] is True
        assert _node(result, assertion["id"])["badge"] == assertion["badge"]
    # Hosted verification is real: a copy naming an id this server does not host is refused.
    assert results[2]["report"]["valid"] is False and _errors(results[2])
