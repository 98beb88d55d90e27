"""The Open Badges 2.0 hosted mirror of every endorsed programme and every award (docs/credentials.md,
"Open Badges 2.0 mirror"; URLs in docs/api.md).

Platforms that read only Open Badges 2.0 get, beside each signed OB 3.0 credential, the OB 2.0
objects that say the same, at stable URLs on this server (config/ld_urls.py):

* `/ob2/issuers/<slug>`: the organisation's (or the body's) Issuer Profile, naming its RevocationList;
* `/ob2/issuers/<slug>/revocations`: the RevocationList;
* `/ob2/badgeclasses/<programme>` (and `/v<n>` for a later endorsed version): the BadgeClass, from the
  same endorsed snapshot as the OB 3.0 Achievement, with the body's endorsement as OB 2.0
  `Endorsement` objects (`/ob2/endorsements/<endorsement>`, hosted like an Assertion);
* `/ob2/assertions/<award>`: the Assertion, hosted verification (`verification: {"type": "hosted"}`);
  its `related` names the OB 3.0 credential it mirrors (the award's credential id).

Nothing here is stored: every document is built on request from the rows the OB 3.0 status lists are
computed from (`Award.revoked_at`, `Endorsement.state`), so a revocation or a suspension is in the
mirror the moment it is committed, and a reinstated endorsement leaves the body's RevocationList at
once. Hosted OB 2.0 objects are not signed: their trust is that this server serves them at their id.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from badges.awards import award_url
from badges.models import Award, Programme
from endorsement.credentials import programme_achievement
from endorsement.models import Endorsement, EndorsementState
from institutions.models import MembershipState, Organisation

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
OB2_CONTEXTS = (OB2_CONTEXT, "https://openbadgespec.org/v2/context.json")
JsonDict = dict[str, Any]

# Why an entry is in a RevocationList (its `revocationReason`, fixed English words like the OB 3.0
# status purposes: the reason an award was revoked for is appended when one was given).
REASON_REVOKED = "revoked"
REASON_SUSPENDED = "suspended"
# The body's endorsements listed in its RevocationList while in these states.
ENDORSEMENT_WITHDRAWN = (EndorsementState.SUSPENDED, EndorsementState.REVOKED)


def _url(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=list(args))


def issuer_url(organisation: Organisation) -> str:
    return _url("ob2-issuer", organisation.slug)


def revocation_list_url(organisation: Organisation) -> str:
    return _url("ob2-revocations", organisation.slug)


def badge_class_url(programme: Programme, version: int = 1) -> str:
    if version > 1:
        return _url("ob2-badgeclass-version", programme.public_id, version)
    return _url("ob2-badgeclass", programme.public_id)


def badge_class_image_url(programme: Programme) -> str:
    return _url("ob2-badgeclass-image", programme.public_id)


def endorsement_url(endorsement: Endorsement) -> str:
    return _url("ob2-endorsement", endorsement.public_id)


def assertion_url(public_id: Any) -> str:
    """The award's OB 2.0 Assertion: its id, and the URL its hosted verification fetches."""
    return _url("ob2-assertion", public_id)


def assertion_png_url(public_id: Any) -> str:
    return _url("ob2-assertion-png", public_id)


def issuer_public(organisation: Organisation) -> bool:
    """Whether the organisation has a public OB 2.0 profile: the body, and every member that was
    admitted (as its DID document: an applicant or a rejected one has none)."""
    return organisation.is_certification_body or organisation.membership not in (
        MembershipState.APPLIED, MembershipState.REJECTED)


def issuer_document(organisation: Organisation) -> JsonDict:
    """The OB 2.0 Issuer Profile. `email` and `url` are required by the OB 2.0 validator; the
    verification policy is the default one (assertions hosted on this server's origin)."""
    document: JsonDict = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": issuer_url(organisation),
        "name": organisation.name,
        "url": organisation.website or settings.SITE_URL + "/",
        "email": organisation.contact_email,
        "revocationList": revocation_list_url(organisation),
    }
    if organisation.description:
        document["description"] = organisation.description
    if organisation.contact_phone:
        document["telephone"] = organisation.contact_phone
    return document


def _revoked_awards(organisation: Organisation) -> Iterable[tuple[Any, str]]:
    rows = Award.objects.filter(organisation=organisation, revoked_at__isnull=False, credential__isnull=False)
    for public_id, reason in rows.order_by("revoked_at", "pk").values_list("public_id", "revocation_reason"):
        yield assertion_url(public_id), f"{REASON_REVOKED}: {reason}" if reason else REASON_REVOKED


def _withdrawn_endorsements() -> Iterable[tuple[str, str]]:
    rows = Endorsement.objects.filter(state__in=ENDORSEMENT_WITHDRAWN, credential__isnull=False)
    for endorsement in rows.order_by("state_changed_at", "pk"):
        yield endorsement_url(endorsement), (
            REASON_SUSPENDED if endorsement.state == EndorsementState.SUSPENDED else REASON_REVOKED)


def revoked_entries(organisation: Organisation) -> list[JsonDict]:
    """The RevocationList's `revokedAssertions`: the organisation's revoked awards, and for the
    body its suspended or revoked endorsements (a reinstated one is no longer listed)."""
    entries = list(_revoked_awards(organisation))
    if organisation.is_certification_body:
        entries += list(_withdrawn_endorsements())
    return [{"id": url, "revocationReason": reason} for url, reason in entries]


def revocation_list_document(organisation: Organisation) -> JsonDict:
    return {
        "@context": OB2_CONTEXT,
        "type": "RevocationList",
        "id": revocation_list_url(organisation),
        "issuer": issuer_url(organisation),
        "revokedAssertions": revoked_entries(organisation),
    }


def _body() -> Organisation:
    return Organisation.objects.get(is_certification_body=True)


def badge_class_endorsements(programme: Programme, version: int) -> list[Endorsement]:
    """The endorsements the BadgeClass names: those the OB 3.0 Achievement of the version embeds
    (its newest signed one, endorsement.credentials.programme_achievement)."""
    newest = (Endorsement.objects.filter(programme=programme, version=version, credential__isnull=False)
              .order_by("-valid_from").first())
    return [newest] if newest else []


def _alignment(alignment: Any) -> JsonDict | None:
    """An OB 3.0 Alignment as an OB 2.0 AlignmentObject (targetName and targetUrl are required)."""
    if not isinstance(alignment, dict) or not alignment.get("targetName") or not alignment.get("targetUrl"):
        return None
    mirrored = {"targetName": alignment["targetName"], "targetUrl": alignment["targetUrl"]}
    for key in ("targetDescription", "targetFramework", "targetCode"):
        if alignment.get(key):
            mirrored[key] = alignment[key]
    return mirrored


def badge_class_document(programme: Programme, version: int = 1) -> JsonDict | None:
    """The OB 2.0 BadgeClass of one endorsed version of the programme, mapped from the OB 3.0
    Achievement of that version (the same endorsed snapshot); None while the version has none."""
    achievement = programme_achievement(programme.pk, version)
    if achievement is None:
        return None
    criteria = achievement.get("criteria") or {}
    document: JsonDict = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_class_url(programme, version),
        "name": achievement.get("name") or programme.name,
        "description": achievement.get("description") or achievement.get("name") or programme.name,
        "image": badge_class_image_url(programme),
        "criteria": {key: criteria[key] for key in ("id", "narrative") if criteria.get(key)},
        "issuer": issuer_url(programme.organisation),
        "endorsement": [endorsement_url(e) for e in badge_class_endorsements(programme, version)],
        # The OB 3.0 Achievement this BadgeClass mirrors (dc:relation in the OB 2.0 context).
        "related": [{"id": achievement["id"]}],
        "version": str(version),
    }
    alignments = [a for a in (_alignment(a) for a in achievement.get("alignment") or []) if a]
    if alignments:
        document["alignment"] = alignments
    if achievement.get("tag"):
        document["tags"] = list(achievement["tag"])
    if achievement.get("inLanguage"):
        document["@language"] = achievement["inLanguage"]
    return document


def endorsement_document(endorsement: Endorsement) -> JsonDict | None:
    """The body's endorsement of a programme version as an OB 2.0 Endorsement (hosted; revoked or
    suspended ones are in the body's RevocationList). None until its OB 3.0 credential is signed."""
    if not endorsement.credential:
        return None
    subject = endorsement.credential.get("credentialSubject") or {}
    claim: JsonDict = {"id": badge_class_url(endorsement.programme, endorsement.version)}
    if subject.get("endorsementComment"):
        claim["endorsementComment"] = subject["endorsementComment"]
    document: JsonDict = {
        "@context": OB2_CONTEXT,
        "type": "Endorsement",
        "id": endorsement_url(endorsement),
        "claim": claim,
        "issuer": issuer_url(_body()),
        "issuedOn": _iso(endorsement.valid_from),
        "expires": _iso(endorsement.valid_until),
        "verification": {"type": "hosted"},
        "related": [{"id": endorsement.credential["id"]}],
    }
    if endorsement.state in ENDORSEMENT_WITHDRAWN:
        document["revoked"] = True
        document["revocationReason"] = (
            REASON_SUSPENDED if endorsement.state == EndorsementState.SUSPENDED else REASON_REVOKED)
    return document


def _iso(moment: datetime | None) -> str | None:
    """An ISO 8601 date-time in UTC with a Z, to the second (as the OB 3.0 credentials state them)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def recipient(award: Award) -> JsonDict:
    """The OB 2.0 IdentityObject: the same salted SHA-256 of the e-mail address as the OB 3.0
    credential's (`sha256$` + hex of address + salt: one scheme in both versions); a learner known
    only by a DID is named by it as a `url` identity, unhashed."""
    identity = award.identity or {}
    if identity.get("identityType") == "emailAddress" and identity.get("identityHash"):
        mirrored: JsonDict = {"type": "email", "hashed": bool(identity.get("hashed")),
                              "identity": identity["identityHash"]}
        if identity.get("salt"):
            mirrored["salt"] = identity["salt"]
        return mirrored
    return {"type": "url", "hashed": False, "identity": award.recipient_did}


def assertion_document(award: Award) -> JsonDict:
    """The award's OB 2.0 Assertion, from its signed OB 3.0 credential and its current state."""
    credential = award.credential or {}
    document: JsonDict = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": assertion_url(award.public_id),
        "recipient": recipient(award),
        "badge": badge_class_url(award.programme, award.endorsement.version),
        "issuedOn": credential.get("awardedDate") or credential.get("validFrom") or _iso(award.issued_at),
        "verification": {"type": "hosted"},
        "image": assertion_png_url(award.public_id),
        # The OB 3.0 OpenBadgeCredential this Assertion mirrors (docs/credentials.md).
        "related": [{"id": credential.get("id") or award_url(award.public_id)}],
    }
    if award.valid_until is not None:
        document["expires"] = credential.get("validUntil") or _iso(award.valid_until)
    evidence = []
    if award.evidence_url or award.evidence_narrative:
        item: JsonDict = {}
        if award.evidence_url:
            item["id"] = award.evidence_url
        if award.evidence_narrative:
            item["narrative"] = award.evidence_narrative
        evidence.append(item)
    if evidence:
        document["evidence"] = evidence
    if award.revoked_at is not None:
        document["revoked"] = True
        document["revocationReason"] = award.revocation_reason or REASON_REVOKED
    return document


def award_for_assertion(public_id: Any) -> Award | None:
    """The award whose Assertion this is; None if there is none (or it was never signed)."""
    return (Award.objects.select_related("programme__organisation", "organisation", "endorsement")
            .filter(public_id=public_id, credential__isnull=False).first())
