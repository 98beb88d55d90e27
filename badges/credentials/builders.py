"""Pure functions that build Open Badges 3.0 / VC 2.0 documents as plain dicts (unsigned).

Shapes follow the 1EdTech OB 3.0 JSON schemas in ../shared/ob3-schemas (the "JSON" variants):
collections as arrays (`type`, `alignment`, `tag`, `evidence`, `credentialSchema`, `endorsement`,
`identifier`), `Image` and `IdentityObject` with a string `type`. Contexts in the order of interop
note 5: VC 2.0, OB context-3.0.3, then extensions.json when `credentialSchema` is present.

`credentialStatus`: OB 3.0 allows at most one status on a credential, and the 1EdTech JSON schema
accepts only a single object there. One entry is therefore written as an object; several entries
are written as an array (valid VC 2.0, but rejected by that schema — prefer one).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import marshal
import re
import secrets
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from .loader import OB_V3P0_CONTEXT, OB_V3P0_EXTENSIONS_CONTEXT, VC_V2_CONTEXT
from .timeutil import as_timestamp

JsonDict = dict[str, Any]
Timestamp = datetime | str
StatusPurpose = Literal["revocation", "suspension"]

SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
ENDORSEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)
STATUS_PURPOSES: tuple[str, ...] = ("revocation", "suspension")


def ob_contexts(*, with_schema: bool) -> list[str]:
    """The `@context` of an OB 3.0 credential: VC 2.0, OB 3.0.3, (extensions.json)."""
    contexts = [VC_V2_CONTEXT, OB_V3P0_CONTEXT]
    if with_schema:
        contexts.append(OB_V3P0_EXTENSIONS_CONTEXT)
    return contexts


def json_copy(value: Any) -> Any:
    """A deep copy of JSON data: written and read back by `marshal` (C code, about three times
    faster than the walk below, which is itself three times faster than `copy.deepcopy`), which
    keeps every type and the order of keys and, like `copy.deepcopy`, an object the data holds twice
    is one object in the copy too. Data `marshal` does not take (a `str` subclass, a lazy
    translation, a datetime) is walked: dicts and lists copied, anything else deep-copied."""
    try:
        return marshal.loads(marshal.dumps(value))  # noqa: S302 (our own bytes, read back at once)
    except ValueError:  # "unmarshallable object"
        return _walked_copy(value)


def _walked_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _walked_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_walked_copy(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return copy.deepcopy(value)


def _put(target: JsonDict, key: str, value: Any) -> None:
    """Set `key` (to a copy of `value`) unless `value` is None or an empty collection."""
    if value is None:
        return
    if isinstance(value, (list, tuple, dict)) and not value:
        return
    target[key] = json_copy(list(value) if isinstance(value, tuple) else value)


def _ts(value: Timestamp | None) -> str | None:
    return None if value is None else as_timestamp(value)


# --- small objects ------------------------------------------------------------------------------


def build_image(url: str, *, caption: str | None = None) -> JsonDict:
    """An OB `Image`: `{id, type: "Image", caption?}`."""
    image: JsonDict = {"id": url, "type": "Image"}
    _put(image, "caption", caption)
    return image


def build_alignment(
    *,
    target_name: str,
    target_url: str,
    target_description: str | None = None,
    target_code: str | None = None,
    target_framework: str | None = None,
    target_type: str | None = None,
) -> JsonDict:
    """An OB `Alignment` to a framework item (competency, standard, occupation…)."""
    alignment: JsonDict = {"type": ["Alignment"], "targetName": target_name, "targetUrl": target_url}
    _put(alignment, "targetDescription", target_description)
    _put(alignment, "targetCode", target_code)
    _put(alignment, "targetFramework", target_framework)
    _put(alignment, "targetType", target_type)
    return alignment


def build_related(*, id: str, in_language: str | None = None, version: str | None = None) -> JsonDict:
    """An OB `Related` achievement: another edition of the same one (another language, an earlier version)."""
    related: JsonDict = {"id": id, "type": ["Related"]}
    _put(related, "inLanguage", in_language)
    _put(related, "version", version)
    return related


def build_evidence(
    *,
    id: str | None = None,
    name: str | None = None,
    description: str | None = None,
    narrative: str | None = None,
    genre: str | None = None,
    audience: str | None = None,
) -> JsonDict:
    """An OB `Evidence` item (a URL and/or a narrative)."""
    evidence: JsonDict = {}
    _put(evidence, "id", id)
    evidence["type"] = ["Evidence"]
    _put(evidence, "name", name)
    _put(evidence, "description", description)
    _put(evidence, "narrative", narrative)
    _put(evidence, "genre", genre)
    _put(evidence, "audience", audience)
    return evidence


def build_profile(
    *,
    id: str,
    name: str,
    url: str | None = None,
    email: str | None = None,
    description: str | None = None,
    image: JsonDict | None = None,
    phone: str | None = None,
    official: str | None = None,
    other_identifiers: Sequence[JsonDict] = (),
    endorsements: Sequence[JsonDict] = (),
) -> JsonDict:
    """An issuer `Profile`; for a credential's issuer, `id` is the issuer's DID (interop note 8)."""
    profile: JsonDict = {"id": id, "type": ["Profile"], "name": name}
    _put(profile, "url", url)
    _put(profile, "email", email)
    _put(profile, "phone", phone)
    _put(profile, "description", description)
    _put(profile, "image", image)
    _put(profile, "official", official)
    _put(profile, "otherIdentifier", list(other_identifiers))
    _put(profile, "endorsement", list(endorsements))
    return profile


def build_identifier_entry(*, identifier: str, identifier_type: str) -> JsonDict:
    """An `IdentifierEntry` (`otherIdentifier` item), e.g. a registry or course code."""
    return {"type": "IdentifierEntry", "identifier": identifier, "identifierType": identifier_type}


def build_result_description(
    *,
    id: str,
    name: str,
    result_type: str,
    allowed_values: Sequence[str] = (),
    required_value: str | None = None,
    value_min: str | None = None,
    value_max: str | None = None,
) -> JsonDict:
    """An OB `ResultDescription` (how results of the achievement are expressed)."""
    result: JsonDict = {"id": id, "type": ["ResultDescription"], "name": name, "resultType": result_type}
    _put(result, "allowedValue", list(allowed_values))
    _put(result, "requiredValue", required_value)
    _put(result, "valueMin", value_min)
    _put(result, "valueMax", value_max)
    return result


# --- recipient identity -------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    """The form of an e-mail address that is hashed: surrounding space removed, lower case."""
    return email.strip().lower()


def hash_identity(value: str, salt: str) -> str:
    """`sha256$<hex>` of the UTF-8 bytes of `value + salt` (OB 3.0 IdentityHash)."""
    digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def build_email_identity(email: str, *, salt: str | None = None) -> JsonDict:
    """An `IdentityObject` for a recipient's e-mail, hashed with a (random by default) salt."""
    salt = secrets.token_hex(16) if salt is None else salt
    return {
        "type": "IdentityObject",
        "identityHash": hash_identity(normalize_email(email), salt),
        "identityType": "emailAddress",
        "hashed": True,
        "salt": salt,
    }


def email_identity_matches(identity: Mapping[str, Any], email: str) -> bool:
    """True if the `IdentityObject` names this e-mail (hashed with its salt, or in plain text)."""
    return _identity_matches(identity, "emailAddress", email, normalize_email)


def _identity_matches(identity: Mapping[str, Any], identity_type: str, value: str,
                      normalize: Callable[[str], str]) -> bool:
    """True if `identity` is of `identity_type` and names `value`, compared in its normalized form:
    in plain text, or as the salted `sha256$…` hash (constant-time either way)."""
    if identity.get("identityType") != identity_type:
        return False
    stored = identity.get("identityHash")
    if not isinstance(stored, str):
        return False
    normalized = normalize(value)
    if not identity.get("hashed"):
        return hmac.compare_digest(normalize(stored).encode(), normalized.encode())
    algorithm, _, digest = stored.partition("$")
    if algorithm.lower() != "sha256" or not digest:
        return False
    expected = hash_identity(normalized, str(identity.get("salt") or ""))
    return hmac.compare_digest(expected.partition("$")[2].encode(), digest.lower().encode())


def normalize_name(name: str) -> str:
    """The form of a person's name that is hashed: NFKC (full-width letters and spaces folded), runs
    of white space made one space, surrounding space removed. Case is kept: names are written as
    their bearer writes them, and a verifier types what the badge's holder shows them."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", name)).strip()


def build_name_identity(name: str, *, hashed: bool, salt: str | None = None) -> JsonDict:
    """An `IdentityObject` of type `name`: the name in plain text (`hashed: false`), or its salted
    SHA-256 (`hashed: true`, `identityHash: sha256$…` of the normalized name + salt, as for e-mail)."""
    if not hashed:
        return {"type": "IdentityObject", "identityHash": name, "identityType": "name", "hashed": False}
    salt = secrets.token_hex(16) if salt is None else salt
    return {
        "type": "IdentityObject",
        "identityHash": hash_identity(normalize_name(name), salt),
        "identityType": "name",
        "hashed": True,
        "salt": salt,
    }


def name_identity_matches(identity: Mapping[str, Any], name: str) -> bool:
    """True if the `IdentityObject` of type `name` names this person (hashed or in plain text)."""
    return _identity_matches(identity, "name", name, normalize_name)


# --- status -------------------------------------------------------------------------------------


def build_status_entry(
    *,
    status_list_credential: str,
    index: int,
    purpose: StatusPurpose,
    id: str | None = None,
) -> JsonDict:
    """A `BitstringStatusListEntry` pointing at entry `index` of a status list credential."""
    if purpose not in STATUS_PURPOSES:
        raise ValueError(f"statusPurpose must be one of {STATUS_PURPOSES}, not {purpose!r}")
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise ValueError(f"status list index must be a non-negative int, not {index!r}")
    return {
        "id": id or f"{status_list_credential}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": str(purpose),  # a model enum member becomes its plain text
        "statusListIndex": str(index),
        "statusListCredential": status_list_credential,
    }


def _status_value(status: JsonDict | Sequence[JsonDict] | None) -> JsonDict | list[JsonDict] | None:
    if status is None:
        return None
    if isinstance(status, Mapping):
        return dict(json_copy(status))
    entries = [dict(json_copy(entry)) for entry in status]
    if not entries:
        return None
    return entries[0] if len(entries) == 1 else entries


def _schema(schema_id: str) -> list[JsonDict]:
    return [{"id": schema_id, "type": SCHEMA_VALIDATOR_TYPE}]


# --- achievement and credentials ----------------------------------------------------------------


def build_achievement(
    *,
    id: str,
    name: str,
    description: str,
    criteria_narrative: str | None = None,
    criteria_id: str | None = None,
    achievement_type: str | None = None,
    image: JsonDict | None = None,
    alignments: Sequence[JsonDict] = (),
    tags: Sequence[str] = (),
    in_language: str | None = None,
    creator: JsonDict | None = None,
    human_code: str | None = None,
    field_of_study: str | None = None,
    specialization: str | None = None,
    version: str | None = None,
    credits_available: float | None = None,
    result_descriptions: Sequence[JsonDict] = (),
    other_identifiers: Sequence[JsonDict] = (),
    related: Sequence[JsonDict] = (),
    endorsements: Sequence[JsonDict] = (),
) -> JsonDict:
    """An OB `Achievement`; `endorsements` are signed EndorsementCredentials, embedded as given."""
    if criteria_narrative is None and criteria_id is None:
        raise ValueError("an Achievement needs criteria: a narrative, a criteria URL, or both")
    criteria: JsonDict = {}
    _put(criteria, "id", criteria_id)
    _put(criteria, "narrative", criteria_narrative)
    achievement: JsonDict = {"id": id, "type": ["Achievement"], "name": name, "description": description}
    achievement["criteria"] = criteria
    _put(achievement, "achievementType", achievement_type)
    _put(achievement, "image", image)
    _put(achievement, "alignment", list(alignments))
    _put(achievement, "tag", list(tags))
    _put(achievement, "inLanguage", in_language)
    _put(achievement, "creator", creator)
    _put(achievement, "humanCode", human_code)
    _put(achievement, "fieldOfStudy", field_of_study)
    _put(achievement, "specialization", specialization)
    _put(achievement, "version", version)
    if credits_available is not None:
        achievement["creditsAvailable"] = float(credits_available)
    _put(achievement, "resultDescription", list(result_descriptions))
    _put(achievement, "otherIdentifier", list(other_identifiers))
    _put(achievement, "related", list(related))
    _put(achievement, "endorsement", list(endorsements))
    return achievement


def build_open_badge_credential(
    *,
    id: str,
    issuer: JsonDict,
    achievement: JsonDict,
    valid_from: Timestamp,
    valid_until: Timestamp | None = None,
    name: str | None = None,
    description: str | None = None,
    recipient_did: str | None = None,
    recipient_identity: Sequence[JsonDict] = (),
    evidence: Sequence[JsonDict] = (),
    credential_status: JsonDict | Sequence[JsonDict] | None = None,
    awarded_date: Timestamp | None = None,
    image: JsonDict | None = None,
    with_schema: bool = True,
) -> JsonDict:
    """An unsigned `OpenBadgeCredential` awarding `achievement` to one recipient.

    The recipient is a DID (`recipient_did`) and/or `IdentityObject`s (`recipient_identity`, e.g.
    from `build_email_identity`). `issuer` is a Profile whose `id` is the signer's DID.
    """
    if not recipient_did and not recipient_identity:
        raise ValueError("an OpenBadgeCredential needs a recipient: a DID or an identity object")
    if not isinstance(issuer, Mapping) or not issuer.get("id"):
        raise ValueError("issuer must be a Profile with an id (the issuer's DID)")
    subject: JsonDict = {}
    _put(subject, "id", recipient_did)
    subject["type"] = ["AchievementSubject"]
    _put(subject, "identifier", list(recipient_identity))
    subject["achievement"] = json_copy(achievement)
    credential: JsonDict = {
        "@context": ob_contexts(with_schema=with_schema),
        "id": id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": name or achievement.get("name"),
    }
    _put(credential, "description", description)
    _put(credential, "image", image)
    credential["issuer"] = json_copy(issuer)
    credential["validFrom"] = as_timestamp(valid_from)
    _put(credential, "validUntil", _ts(valid_until))
    _put(credential, "awardedDate", _ts(awarded_date))
    credential["credentialSubject"] = subject
    _put(credential, "evidence", list(evidence))
    _put(credential, "credentialStatus", _status_value(credential_status))
    if with_schema:
        credential["credentialSchema"] = _schema(ACHIEVEMENT_CREDENTIAL_SCHEMA)
    return credential


def build_endorsement_credential(
    *,
    id: str,
    issuer: JsonDict,
    endorsed_id: str,
    name: str,
    valid_from: Timestamp,
    valid_until: Timestamp | None = None,
    endorsement_comment: str | None = None,
    description: str | None = None,
    credential_status: JsonDict | Sequence[JsonDict] | None = None,
    awarded_date: Timestamp | None = None,
    with_schema: bool = True,
) -> JsonDict:
    """An unsigned `EndorsementCredential` whose subject is `endorsed_id` (e.g. an Achievement id)."""
    if not isinstance(issuer, Mapping) or not issuer.get("id"):
        raise ValueError("issuer must be a Profile with an id (the endorser's DID)")
    subject: JsonDict = {"id": endorsed_id, "type": ["EndorsementSubject"]}
    _put(subject, "endorsementComment", endorsement_comment)
    credential: JsonDict = {
        "@context": ob_contexts(with_schema=with_schema),
        "id": id,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": name,
    }
    _put(credential, "description", description)
    credential["issuer"] = json_copy(issuer)
    credential["validFrom"] = as_timestamp(valid_from)
    _put(credential, "validUntil", _ts(valid_until))
    _put(credential, "awardedDate", _ts(awarded_date))
    credential["credentialSubject"] = subject
    _put(credential, "credentialStatus", _status_value(credential_status))
    if with_schema:
        credential["credentialSchema"] = _schema(ENDORSEMENT_CREDENTIAL_SCHEMA)
    return credential


def build_status_list_credential(
    *,
    id: str,
    issuer: str | JsonDict,
    purpose: StatusPurpose,
    encoded_list: str,
    valid_from: Timestamp,
    valid_until: Timestamp | None = None,
    name: str | None = None,
    ttl_ms: int | None = None,
) -> JsonDict:
    """An unsigned `BitstringStatusListCredential` (terms from the VC 2.0 context alone)."""
    if purpose not in STATUS_PURPOSES:
        raise ValueError(f"statusPurpose must be one of {STATUS_PURPOSES}, not {purpose!r}")
    if not encoded_list.startswith("u"):
        raise ValueError("encodedList must be multibase base64url ('u…'); use StatusList.encode()")
    subject: JsonDict = {
        "id": f"{id}#list",
        "type": "BitstringStatusList",
        "statusPurpose": str(purpose),  # a model enum member becomes its plain text
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        subject["ttl"] = int(ttl_ms)
    credential: JsonDict = {
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
    }
    _put(credential, "name", name)
    credential["issuer"] = json_copy(issuer)
    credential["validFrom"] = as_timestamp(valid_from)
    _put(credential, "validUntil", _ts(valid_until))
    credential["credentialSubject"] = subject
    return credential


def issuer_id(document: Mapping[str, Any]) -> str | None:
    """The issuer's id of a credential: `issuer` as a string, or the `id` of an `issuer` object."""
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def embedded_endorsements(credential: Mapping[str, Any]) -> list[JsonDict]:
    """The EndorsementCredentials embedded in an OpenBadgeCredential's achievement (and issuer)."""
    found: list[JsonDict] = []
    subject = credential.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    for item in subjects:
        if isinstance(item, Mapping):
            achievement = item.get("achievement")
            if isinstance(achievement, Mapping):
                found.extend(e for e in achievement.get("endorsement", []) or [] if isinstance(e, dict))
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        found.extend(e for e in issuer.get("endorsement", []) or [] if isinstance(e, dict))
    return found
