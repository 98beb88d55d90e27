"""RDF canonicalization is bounded (badges/credentials/canonbound.py): a real poison graph (blank
nodes that all look alike at the first degree, the worst case of RDFC-1.0's N-degree hashing) is
refused after a bounded amount of work, through both canonicalizers and the public verify API,
while documents with a few look-alike blank nodes still canonicalize exactly as pyld does."""

from __future__ import annotations

import copy
import json
import time

import pytest

from badges.credentials.canon import canonicalize, reference_normalize
from badges.credentials.canonbound import CanonicalizationLimitError
from badges.credentials.fastcanon import fast_canonicalize

KNOWS = "https://example.org/knows"


def clique(k: int) -> list[dict]:
    """k blank nodes, each pointing at every other: every first-degree hash is the same."""
    return [{"@id": f"_:n{i}", KNOWS: [{"@id": f"_:n{j}"} for j in range(k) if j != i]} for i in range(k)]


def poison(k: int) -> dict:
    return {"@context": {"@version": 1.1}, "@graph": clique(k)}


@pytest.mark.parametrize("canonicalizer", [canonicalize, fast_canonicalize], ids=["canon", "fastcanon"])
def test_a_poison_graph_is_refused_after_bounded_work(canonicalizer):
    # Unbounded, pyld needs about 30 s for 7 nodes and minutes for 8 on this machine.
    started = time.monotonic()
    with pytest.raises(CanonicalizationLimitError, match="N-degree hashing"):
        canonicalizer(poison(8))
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("k", [2, 3, 4])
def test_a_few_look_alike_blank_nodes_still_canonicalize_as_pyld_does(k):
    document = poison(k)
    assert canonicalize(copy.deepcopy(document)) == reference_normalize(copy.deepcopy(document))
    assert fast_canonicalize(copy.deepcopy(document)) == reference_normalize(copy.deepcopy(document))


def test_more_blank_nodes_than_allowed_are_refused_before_any_hashing():
    document = {"@context": {"@version": 1.1},
                "@graph": [{"@id": f"_:b{i}", KNOWS: {"@value": str(i)}} for i in range(1001)]}
    started = time.monotonic()
    with pytest.raises(CanonicalizationLimitError, match="1,001 blank nodes"):
        canonicalize(document)
    assert time.monotonic() - started < 3.0


@pytest.mark.django_db
def test_a_poison_credential_posted_to_the_public_verify_api_is_refused_with_a_clear_message():
    from tests.badges.test_verification_api import API, endorsement_credential, row_counts
    from tests.factories import api_client

    crafted = copy.deepcopy(endorsement_credential())
    crafted["credentialSubject"][KNOWS] = clique(8)
    before = row_counts()
    started = time.monotonic()
    response = api_client().post(API, data=json.dumps(crafted), content_type="application/json")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    body = response.json()
    assert body["verified"] is False
    proof = next(c for c in body["checks"] if c["id"] == "proof")
    assert proof["passed"] is False
    assert "N-degree hashing" in proof["message"] and "refused" in proof["message"]
    assert elapsed < 10.0, f"the verification took {elapsed:.1f} s"
    assert row_counts() == before
