"""CLR 2.0 (Comprehensive Learner Record) documents: an unsigned `ClrCredential` as a plain dict.

A `ClrCredential` is a Verifiable Credential, signed like the others (`sign`, eddsa-rdfc-2022) by
the organisation that publishes the record. Its `ClrSubject` (the learner) holds:

* `verifiableCredential`: the learner's credentials as they were presented, each copied byte for
  byte with its own `proof`, so that each still verifies on its own (the outer proof covers them
  too: the CLR context maps `verifiableCredential` to a plain `@set`, not to a named graph, so the
  nested credentials' statements are part of what the outer signature signs);
* `achievement`: the achievements the record is about (here: the pathway's Achievement);
* `association`: how achievements relate (`isChildOf`, `precedes`, … — `ASSOCIATION_TYPES`, the
  enumeration of the CLR 2.0 JSON Schema);
* `identifier`: the learner's `IdentityObject`s (hashed e-mail, name), as in OB 3.0.

Shape: what the 1EdTech CLR 2.0 JSON Schema (`../shared/clr-schemas/`) accepts. `@context` is VC
2.0, CLR context-2.0.1, OB context-3.0.3 (the order that schema requires), then extensions.json
when `credentialSchema` is written. `Association.type` is a string, as that schema wants.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .builders import JsonDict, Timestamp, _put, _schema, _status_value, _ts, issuer_id
from .loader import OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS_CONTEXT, VC_V2_CONTEXT
from .timeutil import as_timestamp

CLR_V2P0_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_CREDENTIAL_SCHEMA = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"

#: The CLR 2.0 AssociationType vocabulary (an enumeration of the CLR JSON Schema; the context holds none).
ASSOCIATION_TYPES: tuple[str, ...] = (
    "exactMatchOf", "isChildOf", "isParentOf", "isPartOf", "isPeerOf", "isRelatedTo", "precedes", "replacedBy",
)


def clr_contexts(*, with_schema: bool) -> list[str]:
    """The `@context` of a ClrCredential: VC 2.0, CLR 2.0.1, OB 3.0.3, (extensions.json)."""
    contexts = [VC_V2_CONTEXT, CLR_V2P0_CONTEXT, OB_V3P0_CONTEXT]
    if with_schema:
        contexts.append(OB_V3P0_EXTENSIONS_CONTEXT)
    return contexts


def build_association(*, association_type: str, source_id: str, target_id: str) -> JsonDict:
    """A CLR `Association`: the achievement `source_id` stands in `association_type` to `target_id`
    (e.g. a component `isChildOf` the pathway; component A `precedes` component B)."""
    if association_type not in ASSOCIATION_TYPES:
        raise ValueError(f"associationType must be one of {ASSOCIATION_TYPES}, not {association_type!r}")
    for name, value in (("source_id", source_id), ("target_id", target_id)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be an achievement id (a non-empty URI)")
    return {"type": "Association", "associationType": association_type, "sourceId": source_id,
            "targetId": target_id}


def build_clr_credential(
    *,
    id: str,
    issuer: JsonDict,
    name: str,
    valid_from: Timestamp,
    credentials: Sequence[Mapping[str, Any]],
    learner_did: str | None = None,
    learner_identity: Sequence[JsonDict] = (),
    achievements: Sequence[JsonDict] = (),
    associations: Sequence[JsonDict] = (),
    description: str | None = None,
    valid_until: Timestamp | None = None,
    awarded_date: Timestamp | None = None,
    partial: bool | None = None,
    credential_status: JsonDict | Sequence[JsonDict] | None = None,
    with_schema: bool = True,
) -> JsonDict:
    """An unsigned `ClrCredential` bundling `credentials` (signed, each kept exactly as given).

    `issuer` is the publishing organisation's Profile (its `id` the signer's DID). The learner is
    `learner_did` and/or `learner_identity` (IdentityObjects). Every nested credential must carry a
    proof: a CLR holds verifiable credentials, not claims.
    """
    if not isinstance(issuer, Mapping) or not issuer.get("id"):
        raise ValueError("issuer must be a Profile with an id (the publisher's DID)")
    if not credentials:
        raise ValueError("a ClrCredential bundles at least one verifiable credential")
    for number, credential in enumerate(credentials, start=1):
        if not isinstance(credential, Mapping) or not credential.get("proof") or not issuer_id(credential):
            raise ValueError(f"credential {number} is not a signed credential (no proof or no issuer)")
    if not learner_did and not learner_identity:
        raise ValueError("a ClrCredential needs its learner: a DID or an identity object")
    subject: JsonDict = {}
    _put(subject, "id", learner_did)
    subject["type"] = ["ClrSubject"]
    _put(subject, "identifier", list(learner_identity))
    _put(subject, "achievement", list(achievements))
    subject["verifiableCredential"] = [copy.deepcopy(dict(c)) for c in credentials]
    _put(subject, "association", list(associations))
    document: JsonDict = {
        "@context": clr_contexts(with_schema=with_schema),
        "id": id,
        "type": ["VerifiableCredential", "ClrCredential"],
        "name": name,
    }
    _put(document, "description", description)
    if partial is not None:
        document["partial"] = bool(partial)
    document["issuer"] = copy.deepcopy(dict(issuer))
    document["validFrom"] = as_timestamp(valid_from)
    _put(document, "validUntil", _ts(valid_until))
    _put(document, "awardedDate", _ts(awarded_date))
    document["credentialSubject"] = subject
    _put(document, "credentialStatus", _status_value(credential_status))
    if with_schema:
        document["credentialSchema"] = _schema(CLR_CREDENTIAL_SCHEMA)
    return document


def clr_nested_credentials(document: Mapping[str, Any]) -> list[Any]:
    """The credentials a ClrCredential bundles (`credentialSubject.verifiableCredential`), as given."""
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    found: list[Any] = []
    for item in subjects:
        if isinstance(item, Mapping):
            nested = item.get("verifiableCredential")
            found.extend(nested if isinstance(nested, list) else [] if nested is None else [nested])
    return found


__all__ = [
    "ASSOCIATION_TYPES",
    "CLR_CREDENTIAL_SCHEMA",
    "CLR_V2P0_CONTEXT",
    "build_association",
    "build_clr_credential",
    "clr_contexts",
    "clr_nested_credentials",
]
