"""Real-shaped test documents: an endorsed programme's OpenBadgeCredential and its endorsement.

Used by the tests and by bench/canon_bench.py. Keys are derived from fixed seeds so that runs are
reproducible; `varied_credential` makes many different credentials from one random generator.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from badges.credentials import (
    DidKey,
    Ed25519PrivateKey,
    build_achievement,
    build_alignment,
    build_did_document,
    build_email_identity,
    build_endorsement_credential,
    build_evidence,
    build_image,
    build_open_badge_credential,
    build_profile,
    build_result_description,
    build_status_entry,
    did_web_from_url,
    make_key_resolver,
    sign,
)
from badges.credentials.did import KeyResolver

SITE = "http://127.0.0.1:8000"


def seeded_key(label: str) -> Ed25519PrivateKey:
    """A deterministic Ed25519 key for tests (never for production)."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


@dataclass
class Parties:
    """The certification body and one member organisation, with keys and DID documents."""

    body_did: str = field(default_factory=lambda: did_web_from_url(SITE))
    org_did: str = field(default_factory=lambda: did_web_from_url(f"{SITE}/orgs/acme"))
    body_key: Ed25519PrivateKey = field(default_factory=lambda: seeded_key("body-key-1"))
    org_key: Ed25519PrivateKey = field(default_factory=lambda: seeded_key("org-key-1"))

    @property
    def body_method(self) -> str:
        return f"{self.body_did}#key-1"

    @property
    def org_method(self) -> str:
        return f"{self.org_did}#key-1"

    def did_documents(self) -> list[dict[str, Any]]:
        return [
            build_did_document(self.body_did, [DidKey("key-1", self.body_key.public_key())]),
            build_did_document(self.org_did, [DidKey("key-1", self.org_key.public_key())]),
        ]

    def resolver(self) -> KeyResolver:
        return make_key_resolver(self.did_documents())

    def body_profile(self) -> dict[str, Any]:
        return build_profile(id=self.body_did, name="Certification Body", url=f"{SITE}/")

    def org_profile(self) -> dict[str, Any]:
        return build_profile(
            id=self.org_did, name="Acme Academy", url="https://acme.example/", email="office@acme.example"
        )


ACHIEVEMENT_ID = "https://acme.example/programmes/data-skills"


def endorsement(parties: Parties, *, achievement_id: str = ACHIEVEMENT_ID) -> dict[str, Any]:
    """The body's unsigned EndorsementCredential for a programme."""
    return build_endorsement_credential(
        id="urn:uuid:6f1c1d6e-1f2a-4b7e-9a51-0e7f3c2b9d10",
        issuer=parties.body_profile(),
        endorsed_id=achievement_id,
        name="Endorsement of the programme Data Skills",
        description="Endorsed by the certification body after review against criteria table v3.",
        endorsement_comment="Meets every required criterion of criteria table v3.",
        valid_from="2025-01-15T09:00:00Z",
        valid_until="2028-01-15T09:00:00Z",
        credential_status=build_status_entry(
            status_list_credential=f"{SITE}/status/endorsements/revocation/1",
            index=17,
            purpose="revocation",
        ),
    )


def signed_endorsement(parties: Parties, **kwargs: Any) -> dict[str, Any]:
    return sign(endorsement(parties, **kwargs), parties.body_key, parties.body_method, "2025-01-15T09:00:05Z")


def achievement(parties: Parties, endorsements: list[dict[str, Any]]) -> dict[str, Any]:
    return build_achievement(
        id=ACHIEVEMENT_ID,
        name="Data Skills",
        description="Foundations of working with data: cleaning, analysis and visualisation.",
        criteria_narrative=(
            "Complete the six modules.\n\nPass the final assessment (70% or more) and submit a "
            "project that analyses a public data set."
        ),
        achievement_type="MicroCredential",
        image=build_image("https://acme.example/programmes/data-skills/badge.png", caption="Data Skills"),
        alignments=[
            build_alignment(
                target_name="work with data",
                target_url="http://data.europa.eu/esco/skill/0a1b2c3d",
                target_framework="ESCO",
                target_type="ceasn:Competency",
            )
        ],
        tags=["data", "analysis", "visualisation"],
        in_language="en",
        creator=parties.org_profile(),
        human_code="DS-101",
        field_of_study="Information and Communication Technologies",
        credits_available=5,
        result_descriptions=[
            build_result_description(
                id="https://acme.example/programmes/data-skills/results/grade",
                name="Final grade",
                result_type="Percent",
                value_min="0",
                value_max="100",
            )
        ],
        endorsements=endorsements,
    )


def credential(
    parties: Parties,
    *,
    number: int = 1,
    email: str = "learner1@example.org",
    salt: str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    endorsements: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An unsigned, real-shaped OpenBadgeCredential with the signed endorsement embedded."""
    if endorsements is None:
        endorsements = [signed_endorsement(parties)]
    return build_open_badge_credential(
        id=f"urn:uuid:00000000-0000-4000-8000-{number:012d}",
        issuer=parties.org_profile(),
        achievement=achievement(parties, endorsements),
        valid_from="2025-03-01T10:00:00Z",
        awarded_date="2025-03-01T10:00:00Z",
        recipient_identity=[build_email_identity(email, salt=salt)],
        evidence=[
            build_evidence(
                id=f"https://acme.example/evidence/{number}",
                name="Final project",
                narrative="An analysis of municipal air-quality data.",
            )
        ],
        credential_status=build_status_entry(
            status_list_credential=f"{SITE}/status/orgs/acme/revocation/1",
            index=number,
            purpose="revocation",
        ),
    )


_WORDS = (
    "data", "skills", "analysis", "learning", "quality", "review", "criteria", "badge", "open",
    "micro", "credential", "module", "project", "assessment", "evidence", "outcome", "level",
    "hours", "language", "portfolio", "ÉTÉ", "naïve", "日本語", "データ", "emoji", "🎓", 'quote"',
    "back\\slash", "tab\there", "new\nline",
)


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def varied_credential(parties: Parties, rng: random.Random, number: int, signed_endorsements: list) -> dict:
    """An unsigned OpenBadgeCredential with random content and optional parts (differential tests)."""
    endorsements = rng.sample(signed_endorsements, rng.randint(0, len(signed_endorsements)))
    criteria_narrative = _text(rng, 2, 30) if rng.random() < 0.9 else None
    ach = build_achievement(
        id=f"https://acme.example/programmes/p{rng.randint(1, 50)}",
        name=_text(rng, 1, 4),
        description=_text(rng, 3, 20),
        criteria_narrative=criteria_narrative,
        criteria_id=f"https://acme.example/criteria/{number}"
        if criteria_narrative is None or rng.random() < 0.3
        else None,
        achievement_type=rng.choice([None, "MicroCredential", "Badge", "Course", "ext:Workshop"]),
        image=build_image(f"https://acme.example/img/{number}.png") if rng.random() < 0.7 else None,
        alignments=[
            build_alignment(target_name=_text(rng, 1, 3), target_url=f"https://esco.example/skill/{i}")
            for i in range(rng.randint(0, 3))
        ],
        tags=[_text(rng, 1, 1) for _ in range(rng.randint(0, 4))],
        in_language=rng.choice([None, "en", "ja", "de"]),
        creator=parties.org_profile() if rng.random() < 0.5 else None,
        human_code=rng.choice([None, f"C-{number}"]),
        credits_available=rng.choice([None, 1, 2.5, 10]),
        endorsements=endorsements,
    )
    recipient_did = f"did:key:z6Mk{number:040d}" if rng.random() < 0.3 else None
    identities = [] if recipient_did and rng.random() < 0.5 else [
        build_email_identity(f"user{number}@example.org", salt=f"{rng.getrandbits(64):016x}")
    ]
    evidence = [
        build_evidence(
            id=f"https://acme.example/evidence/{number}/{i}" if rng.random() < 0.6 else None,
            name=_text(rng, 1, 3),
            narrative=_text(rng, 0, 10) or None,
        )
        for i in range(rng.randint(0, 3))
    ]
    status = None
    if rng.random() < 0.8:
        status = build_status_entry(
            status_list_credential=f"{SITE}/status/orgs/acme/revocation/{rng.randint(1, 3)}",
            index=rng.randint(0, 131071),
            purpose=rng.choice(["revocation", "suspension"]),
        )
    return build_open_badge_credential(
        id=f"urn:uuid:{rng.getrandbits(128):032x}",
        issuer=parties.org_profile(),
        achievement=ach,
        valid_from=f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
        valid_until=rng.choice([None, "2030-01-01T00:00:00Z"]),
        name=rng.choice([None, _text(rng, 1, 5)]),
        description=rng.choice([None, _text(rng, 2, 10)]),
        recipient_did=recipient_did,
        recipient_identity=identities,
        evidence=evidence,
        credential_status=status,
        with_schema=rng.random() < 0.8,
    )
