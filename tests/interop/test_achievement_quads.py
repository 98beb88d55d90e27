"""Another JSON-LD processor reads the Achievement document as we do: jsonld.js (expand.mjs) expands
/achievements/<uuid>.json (with its @context) to the same canonical quads as the Achievement embedded
in a badge, and those are the quads pyld gives. Without its @context the document expands to nothing,
which is how it was served before."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from django.conf import settings
from django.test import Client

from badges import credentials as vc
from badges.awards import award_issue
from tests.conftest import need
from tests.factories import awarding_setup
from tests.interop.conftest import INTEROP_DIR, NODE_MODULES, TIMEOUT_SECONDS

pytestmark = pytest.mark.django_db
EXPAND_SCRIPT = INTEROP_DIR / "expand.mjs"


def js_expand(documents: list[dict]) -> list[dict]:
    node = shutil.which("node")
    need(node is not None, "node is not installed: jsonld.js cannot run")
    need(NODE_MODULES.is_dir(), f"{NODE_MODULES} is missing: run `npm ci --prefix tests/interop`")
    completed = subprocess.run([node, str(EXPAND_SCRIPT)], input=json.dumps(documents, ensure_ascii=False),
                               capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT_SECONDS,
                               cwd=INTEROP_DIR, check=False)
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert len(results) == len(documents)
    return results


def test_jsonld_js_expands_the_achievement_document_to_the_quads_of_the_embedded_achievement():
    programme, *_rest, issuer = awarding_setup()
    award = award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org",
                        recipient_name="Hanako Yamada")
    # As served: the Achievement's own id, asked for JSON-LD as a JSON-LD client asks.
    response = Client().get(embedded_id := award.credential["credentialSubject"]["achievement"]["id"],
                            HTTP_ACCEPT="application/ld+json")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/ld+json")
    document = response.json()
    assert document == Client().get(f"/achievements/{programme.public_id}.json").json()
    embedded = award.credential["credentialSubject"]["achievement"]
    assert document["id"] == embedded_id
    # Its level alignment and related edition are part of what both expand to.
    assert embedded["alignment"][0]["targetCode"] == "5" and embedded["related"][0]["inLanguage"] == "en"
    bare = {k: v for k, v in document.items() if k != "@context"}
    served, in_badge, without_context = js_expand(
        [document, {"@context": award.credential["@context"], **embedded}, bare])
    assert served["error"] is None and in_badge["error"] is None, (served["error"], in_badge["error"])
    assert served["expanded"] == 1 and served["nquads"]
    assert served["nquads"] == in_badge["nquads"]
    assert served["nquads"] == vc.reference_normalize(document, vc.default_loader())  # and pyld agrees
    assert "<https://schema.org/targetFramework> \"European Qualifications Framework\"" in served["nquads"]
    assert without_context["expanded"] == 0  # the old document: nothing at all to jsonld.js


def test_the_english_edition_expands_with_jsonld_js_as_with_pyld_and_names_the_main_one():
    programme, *_rest, issuer = awarding_setup()
    award_issue(actor=issuer, programme=programme, recipient_email="hanako@example.org")
    main_id = f"{settings.SITE_URL}/achievements/{programme.public_id}"
    document = Client().get(f"{main_id}/en", HTTP_ACCEPT="application/ld+json").json()
    (expanded,) = js_expand([document])
    assert expanded["error"] is None and expanded["expanded"] == 1
    assert expanded["nquads"] == vc.reference_normalize(document, vc.default_loader())
    assert f"<{main_id}/en> <https://schema.org/inLanguage> \"en\" ." in expanded["nquads"]
    assert f"<{main_id}> <https://schema.org/inLanguage> \"ja\" ." in expanded["nquads"]  # the related edition
