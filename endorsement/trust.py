"""Trust that travels: the body's list of endorsed issuers, in the forms verifiers in the wild read.

Two forms of one list, both derived from the newest registry snapshot (endorsement.registry), so a
suspended, revoked or expired endorsement leaves them when it leaves the registry:

* an OpenID Federation trust anchor, as the Digital Credentials Consortium's issuer-registry client
  (used by `@digitalcredentials/verifier-core`, VerifierPlus and the Learner Credential Wallet) reads
  it: the body's entity configuration at `/.well-known/openid-federation`, a JWT signed with the
  body's key, whose `metadata.federation_entity.federation_fetch_endpoint` answers `?sub=<issuer DID>`
  with a signed subordinate statement for an endorsed organisation and a 404 for anyone else. The
  statements are signed per request (an Ed25519 signature costs microseconds), so they are never
  staler than the snapshot;
* a signed, short-lived list credential (`TrustListCredential`): a W3C VC of the whole list, valid for
  `TRUST_LIST_VALID`, re-signed when the list changes (after each registry refresh that wrote a new
  snapshot) and at least every `TRUST_LIST_RESIGN_AFTER` (an hourly beat task), so a stale copy shows
  by its `validUntil`.

An organisation is listed when its membership is active and at least one of its programmes' current
endorsements is in force now (`Item.standing`: an active endorsement past its end is expired before
the hourly expiry task records it). JWTs are made with joserfc (docs/credentials.md, "The list of
endorsed issuers"): algorithm EdDSA (RFC 8037) with the body's Ed25519 signing key, the same key
(and rotation, `rotate_key`) as its Data Integrity proofs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.urls import reverse
from django.utils import timezone, translation
from django_countries import countries
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import OKPKey

from badges import credentials as vc
from endorsement.models import EndorsementState, RegistryEntry, TrustListCredential
from endorsement.registry import NEWEST, Registry, registry_current
from institutions.keys import did_document, organisation_did, signing_material
from institutions.models import MembershipState, Organisation

log = logging.getLogger(__name__)
# RFC 9864 deprecates "EdDSA" for the fully specified "Ed25519"; we keep "EdDSA" (RFC 8037), which the
# JOSE libraries verifiers run today all accept, and so silence joserfc's warning about it.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

ALGORITHM = "EdDSA"
ENTITY_STATEMENT_TYPE = "entity-statement+jwt"
ENTITY_STATEMENT_CONTENT_TYPE = "application/entity-statement+jwt"
#: How long the body's entity configuration is valid for (OpenID Federation `exp`).
ENTITY_CONFIGURATION_SECONDS = 24 * 3600
#: How long a subordinate statement is valid for: short, so that a verifier which caches statements
#: until they expire stops trusting a revoked issuer within the hour.
SUBORDINATE_STATEMENT_SECONDS = 3600
#: The list credential's validity, and the age at which an unchanged list is signed again.
TRUST_LIST_VALID = timedelta(days=2)
TRUST_LIST_RESIGN_AFTER = timedelta(days=1)
KEEP_TRUST_LISTS = 5
LIST_CREDENTIAL_TYPE = "EndorsedIssuerListCredential"


# --- Who is endorsed ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EndorsedIssuer:
    """An organisation the body endorses now, with what is endorsed and until when."""

    did: str
    slug: str
    name: str
    name_ja: str
    homepage: str
    registry_page: str
    country: str
    achievements: tuple[dict[str, Any], ...]

    @property
    def location(self) -> str:
        with translation.override("en"):
            return str(countries.name(self.country)) or self.country

    @property
    def endorsed_until(self) -> str:
        return max(a["endorsedUntil"] for a in self.achievements)


# What an entry gives the list besides its dates, by the entry's digest (a hash of its body, so
# exact): (organisation slug, the achievement's parts before and after its dates, the end of its
# granted renewal). One per process, replaced by each derivation with the entries it read, so it
# holds at most the active entries; only the bodies of entries new or changed since are parsed.
_Parts = tuple[str, dict[str, Any], dict[str, Any], datetime | None]
_parts_by_digest: dict[str, _Parts] = {}


def _parts(entry: dict[str, Any]) -> _Parts:
    endorsement, programme = entry["endorsement"], entry["programme"]
    following = entry.get("next_endorsement")
    head = {
        "id": endorsement["achievement"] or entry["links"]["achievement"],
        "type": "EndorsedAchievement",
        "name": programme["name_en"] or programme["name_ja"],
        **({"nameJa": programme["name_ja"]} if programme["name_ja"] else {}),
    }
    tail = {
        "registryPage": entry["url"],
        **({"endorsementCredential": endorsement["endorsementCredential"]}
           if endorsement["endorsementCredential"] else {}),
    }
    renewal_until = datetime.fromisoformat(following["valid_until"]) if following else None
    return entry["organisation"]["slug"], head, tail, renewal_until


def _entry_parts(rows: list[tuple[Any, ...]]) -> dict[str, _Parts]:
    """The parts of these (pk, digest, …) rows: held ones from the memo, the others parsed from
    their bodies (read by primary key, in chunks)."""
    known = _parts_by_digest
    parts = {digest: known[digest] for _pk, digest, *_rest in rows if digest in known}
    missing = [pk for pk, digest, *_rest in rows if digest not in parts]
    for start in range(0, len(missing), 2000):
        for digest, body in RegistryEntry.objects.filter(pk__in=missing[start:start + 2000]).values_list(
                "digest", "body"):
            parts[digest] = _parts(json.loads(body))
    return parts


def endorsed_issuers(registry: Registry | None, now: datetime | None = None) -> dict[str, EndorsedIssuer]:
    """The organisations endorsed at `now`, by DID, from a registry snapshot (in DID order).

    Reads the few columns it needs of the entries recorded active (only those can be endorsed now:
    `Item.standing`), and parses only the bodies of entries it has not seen (`_parts_by_digest`)."""
    global _parts_by_digest
    if registry is None:
        return {}
    now = now or timezone.now()
    rows = list(RegistryEntry.objects.filter(state=EndorsementState.ACTIVE).order_by(*NEWEST).values_list(
        "pk", "digest", "valid_from", "valid_until", "renewal_from"))
    parts = _entry_parts(rows)
    _parts_by_digest = parts
    achievements: dict[str, list[dict[str, Any]]] = {}
    for _pk, digest, valid_from, valid_until, renewal_from in rows:
        renewed = renewal_from is not None and renewal_from <= now
        if valid_until <= now and not renewed:  # expired before the hourly task records it (Item.standing)
            continue
        slug, head, tail, renewal_until = parts[digest]
        organisation = registry.organisations_by_slug.get(slug)
        if organisation is None or organisation["membership"] != MembershipState.ACTIVE:
            continue
        until = renewal_until if renewed and renewal_until is not None else valid_until
        achievements.setdefault(organisation["did"], []).append({
            **head, "endorsedFrom": vc.format_datetime(valid_from), "endorsedUntil": vc.format_datetime(until), **tail,
        })
    by_did = {o["did"]: o for o in registry.organisations}
    result = {}
    for did in sorted(achievements):
        organisation = by_did[did]
        result[did] = EndorsedIssuer(
            did=did, slug=organisation["slug"], name=organisation["name"], name_ja=organisation["name_ja"] or "",
            homepage=organisation["website"] or organisation["url"], registry_page=organisation["url"],
            country=organisation["country"] or "",
            achievements=tuple(sorted(achievements[did], key=lambda a: (a["id"], a["endorsedUntil"]))),
        )
    return result


def _next_change(registry: Registry, now: datetime) -> datetime | None:
    """The first moment after `now` at which an entry's standing changes by time alone (an
    endorsement reaching its end, a renewal starting): until then `endorsed_issuers` is unchanged."""
    active = RegistryEntry.objects.filter(state=EndorsementState.ACTIVE)
    moments = [active.filter(valid_until__gt=now).aggregate(first=Min("valid_until"))["first"],
               active.filter(renewal_from__gt=now).aggregate(first=Min("renewal_from"))["first"]]
    return min((m for m in moments if m is not None), default=None)


# (the parsed snapshot it was built from, computed at, valid before, issuers): one per process, replaced
# as time or the snapshot moves on (registry_current hands out a new object for a new snapshot).
_memo: tuple[Registry, datetime, datetime | None, dict[str, EndorsedIssuer]] | None = None


def endorsed_issuers_now(now: datetime | None = None) -> dict[str, EndorsedIssuer]:
    """`endorsed_issuers` of the newest snapshot at `now`, kept in the process while neither the
    snapshot nor any standing (by time) changed."""
    global _memo
    now = now or timezone.now()
    registry = registry_current()
    if registry is None:
        return {}
    held = _memo
    if held is not None and held[0] is registry and held[1] <= now and (held[2] is None or now < held[2]):
        return held[3]
    issuers = endorsed_issuers(registry, now)
    _memo = (registry, now, _next_change(registry, now), issuers)
    return issuers


# --- OpenID Federation ----------------------------------------------------------------------------
def entity_id() -> str:
    """The body's Entity Identifier: the site's address (its entity configuration is at
    `<entity id>/.well-known/openid-federation`)."""
    return settings.SITE_URL


def fetch_endpoint_url() -> str:
    return settings.SITE_URL + reverse("federation-fetch")


def list_endpoint_url() -> str:
    return settings.SITE_URL + reverse("federation-list")


def _jwks(organisation: Organisation) -> dict[str, Any]:
    """The organisation's keys as JWKs (OKP, Ed25519): every key its DID document lists, current and
    retired, not the compromised ones; `kid` is the verification method id."""
    keys = vc.assertion_keys(did_document(organisation))
    return {"keys": [{**OKPKey.import_key(public).as_dict(private=False), "kid": method, "alg": ALGORITHM,
                      "use": "sig"} for method, public in keys.items()]}


def _sign(claims: dict[str, Any]) -> str:
    body = Organisation.objects.get(is_certification_body=True)
    private_key, method = signing_material(body)
    header = {"alg": ALGORITHM, "typ": ENTITY_STATEMENT_TYPE, "kid": method}
    return jwt.encode(header, claims, OKPKey.import_key(private_key), algorithms=[ALGORITHM])


def organisation_logo_url(organisation: Organisation) -> str | None:
    """`logo_uri` (OpenID Federation 1.0, "Informational Metadata Extensions"): the absolute URL of
    the organisation's logo, served by endorsement.registry_images; None when it has none."""
    if not organisation.logo:
        return None
    return settings.SITE_URL + reverse("registry:organisation_logo", args=[organisation.slug])


def entity_configuration(now: datetime | None = None) -> str:
    """The body's Entity Configuration as a signed JWT (iss = sub = the body's entity id)."""
    now = now or timezone.now()
    body = Organisation.objects.get(is_certification_body=True)
    issued = int(now.timestamp())
    federation_entity = {
        "federation_fetch_endpoint": fetch_endpoint_url(),
        "federation_list_endpoint": list_endpoint_url(),
        "organization_name": body.name,
        "homepage_uri": body.website or settings.SITE_URL + "/",
        **({"logo_uri": logo} if (logo := organisation_logo_url(body)) else {}),
        **({"contacts": [body.contact_email]} if body.contact_email else {}),
    }
    claims = {
        "iss": entity_id(), "sub": entity_id(), "iat": issued, "exp": issued + ENTITY_CONFIGURATION_SECONDS,
        "jwks": _jwks(body),
        "metadata": {
            "federation_entity": federation_entity,
            "institution_additional_information": {
                "legal_name": body.name, **({"legal_name_ja": body.name_ja} if body.name_ja else {}),
                "did": organisation_did(body),
                "registry": settings.SITE_URL + reverse("registry:index"),
                "trust_list_credential": settings.SITE_URL + reverse("registry:trust_list"),
            },
        },
    }
    return _sign(claims)


def sub_candidates(decoded: str, raw: str | None) -> list[str]:
    """The DIDs a `sub` parameter may mean. The DCC client appends the DID to `?sub=` without
    percent-encoding it, so `did:web:host%3A8000:…` (a did:web with a port) arrives decoded as
    `did:web:host:8000:…`; the raw, undecoded value is tried after the decoded one."""
    values = [decoded]
    if raw and raw not in values:
        values.append(raw)
    return values


def subordinate_statement(sub: str, now: datetime | None = None) -> str | None:
    """The signed statement about an endorsed issuer, or None for anyone the body does not endorse now."""
    now = now or timezone.now()
    issuer = endorsed_issuers_now(now).get(sub)
    if issuer is None:
        return None
    organisation = Organisation.objects.filter(slug=issuer.slug, is_certification_body=False).first()
    if organisation is None:  # deleted since the snapshot
        return None
    issued = int(now.timestamp())
    until = int(datetime.fromisoformat(issuer.endorsed_until.replace("Z", "+00:00")).timestamp())
    claims = {
        "iss": entity_id(), "sub": issuer.did, "iat": issued,
        "exp": min(issued + SUBORDINATE_STATEMENT_SECONDS, until),
        "jwks": _jwks(organisation),
        "metadata": {
            "federation_entity": {
                "organization_name": issuer.name,
                "homepage_uri": issuer.homepage,
                **({"logo_uri": logo} if (logo := organisation_logo_url(organisation)) else {}),
                "location": issuer.location,
            },
            "institution_additional_information": {
                "legal_name": issuer.name, **({"legal_name_ja": issuer.name_ja} if issuer.name_ja else {}),
                "registry_page": issuer.registry_page,
            },
            "endorsement": {
                "endorser": organisation_did(Organisation.objects.get(is_certification_body=True)),
                "endorsed_until": issuer.endorsed_until,
                "achievements": [_plain(a) for a in issuer.achievements],
            },
        },
    }
    return _sign(claims)


def _plain(achievement: dict[str, Any]) -> dict[str, Any]:
    """An endorsed achievement as JWT claims: snake_case names, no JSON-LD type."""
    names = {"endorsedFrom": "endorsed_from", "endorsedUntil": "endorsed_until", "registryPage": "registry_page",
             "endorsementCredential": "endorsement_credential", "nameJa": "name_ja"}
    return {names.get(k, k): v for k, v in achievement.items() if k != "type"}


def subordinates() -> list[str]:
    """The federation list endpoint's answer: the entity ids (DIDs) of every endorsed issuer."""
    return list(endorsed_issuers_now())


# --- The signed list credential -------------------------------------------------------------------
def _namespace() -> str:
    return settings.SITE_URL + "/ns/trust-list#"


def list_context() -> dict[str, Any]:
    """The inline JSON-LD context of the list's own terms (VC 2.0 defines the rest)."""
    ns, date = _namespace(), "http://www.w3.org/2001/XMLSchema#dateTime"
    return {
        "@protected": True,
        LIST_CREDENTIAL_TYPE: ns + LIST_CREDENTIAL_TYPE,
        "EndorsedIssuerList": ns + "EndorsedIssuerList",
        "EndorsedIssuer": ns + "EndorsedIssuer",
        "EndorsedAchievement": ns + "EndorsedAchievement",
        "endorser": {"@id": ns + "endorser", "@type": "@id"},
        "endorsedIssuers": {"@id": ns + "endorsedIssuers", "@container": "@set"},
        "endorsedAchievements": {"@id": ns + "endorsedAchievements", "@container": "@set"},
        "homepage": {"@id": "https://schema.org/url", "@type": "@id"},
        "location": ns + "location",
        "nameJa": {"@id": "https://schema.org/name", "@language": "ja"},
        "endorsedFrom": {"@id": ns + "endorsedFrom", "@type": date},
        "endorsedUntil": {"@id": ns + "endorsedUntil", "@type": date},
        "registryPage": {"@id": ns + "registryPage", "@type": "@id"},
        "endorsementCredential": {"@id": ns + "endorsementCredential", "@type": "@id"},
    }


def trust_list_url() -> str:
    return settings.SITE_URL + reverse("registry:trust_list")


def _list_subject(issuers: dict[str, EndorsedIssuer], endorser: str) -> dict[str, Any]:
    return {
        "id": settings.SITE_URL + reverse("registry:index"),
        "type": "EndorsedIssuerList",
        "endorser": endorser,
        "endorsedIssuers": [{
            "id": issuer.did,
            "type": "EndorsedIssuer",
            "name": issuer.name,
            **({"nameJa": issuer.name_ja} if issuer.name_ja else {}),
            "homepage": issuer.homepage,
            "location": issuer.location,
            "registryPage": issuer.registry_page,
            "endorsedAchievements": list(issuer.achievements),
        } for issuer in issuers.values()],
    }


def _content_digest(subject: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(subject, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def trust_list_due(latest: TrustListCredential | None, registry: Registry | None, now: datetime) -> bool:
    """Whether the newest signed list may no longer say what the registry says at `now`: there is
    none; the registry has a newer snapshot than the one it was derived from (every change that
    reaches the registry writes one: that is the mark "due", made in the change's own commit); an
    endorsement reached its end or a renewal started since (`changes_at`); it is a day old
    (`TRUST_LIST_RESIGN_AFTER`) or within the hour of its end."""
    if latest is None:
        return True
    registry_digest = registry.digest if registry is not None else ""
    return (latest.registry_digest != registry_digest
            or (latest.changes_at is not None and latest.changes_at <= now)
            or latest.signed_at <= now - TRUST_LIST_RESIGN_AFTER
            or latest.valid_until <= now + timedelta(hours=1))


def _lock_signing(body_id: int) -> None:
    """Hold the signing lock until this transaction ends: the certification body's row, written (an
    UPDATE that changes nothing), so a second signer waits on PostgreSQL (its row lock) and on
    SQLite (the database's write lock, which `SELECT … FOR UPDATE` would not take there)."""
    Organisation.objects.filter(pk=body_id).update(is_certification_body=True)


@transaction.atomic
def trust_list_refresh(now: datetime | None = None) -> TrustListCredential:
    """Sign the list of endorsed issuers when it changed or the newest copy is a day old; else
    return the newest copy unchanged (noting the registry snapshot it was checked against). Nothing
    is derived when the newest copy is not due (`trust_list_due`). Safe to repeat and to run in two
    workers at once: the signing lock (`_lock_signing`) is taken first, so the second waits for the
    first, then finds the list it signed not due."""
    now = now or timezone.now()
    body = Organisation.objects.get(is_certification_body=True)
    _lock_signing(body.pk)
    registry = registry_current()
    latest = TrustListCredential.objects.order_by("-id").first()
    if latest is not None and not trust_list_due(latest, registry, now):
        return latest
    endorser = organisation_did(body)
    subject = _list_subject(endorsed_issuers(registry, now), endorser)
    digest = _content_digest(subject)
    registry_digest = registry.digest if registry is not None else ""
    changes_at = _next_change(registry, now) if registry is not None else None
    if latest is not None and latest.digest == digest and latest.signed_at > now - TRUST_LIST_RESIGN_AFTER:
        if (latest.registry_digest, latest.changes_at) != (registry_digest, changes_at):  # checked, not signed
            TrustListCredential.objects.filter(pk=latest.pk).update(registry_digest=registry_digest,
                                                                    changes_at=changes_at)
            latest.registry_digest, latest.changes_at = registry_digest, changes_at
        return latest
    valid_until = now + TRUST_LIST_VALID
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2", list_context()],
        "id": trust_list_url(),
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "name": f"Organisations endorsed by {body.name}",
        "issuer": {"id": endorser, "name": body.name},
        "validFrom": vc.format_datetime(now),
        "validUntil": vc.format_datetime(valid_until),
        "credentialSubject": subject,
    }
    private_key, method = signing_material(body)
    row = TrustListCredential.objects.create(
        signed_at=now, valid_until=valid_until, digest=digest, registry_digest=registry_digest,
        changes_at=changes_at, credential=vc.sign(unsigned, private_key, method, now))
    stale = TrustListCredential.objects.order_by("-id").values_list("pk", flat=True)[KEEP_TRUST_LISTS:]
    TrustListCredential.objects.filter(pk__in=list(stale)).delete()
    log.info("signed the list of endorsed issuers: %d issuers, valid until %s", len(subject["endorsedIssuers"]),
             unsigned["validUntil"])
    return row


def trust_list_current(now: datetime | None = None) -> TrustListCredential:
    """The signed list that says what the registry says now. Not due (`trust_list_due`): the newest
    copy, without deriving anything. Due: signed here, by its first reader (without a broker the
    change's own commit only marks it due, so the person who made the change does not wait for
    the signing). A reader arriving while another signs waits for the lock, then finds the list that
    one signed (`trust_list_refresh` derives again and signs nothing when it is unchanged): it is
    never handed a list that may be stale, and the list is never signed twice at once."""
    now = now or timezone.now()
    latest = TrustListCredential.objects.order_by("-id").first()
    if trust_list_due(latest, registry_current(), now):
        latest = trust_list_refresh(now)
    return latest


