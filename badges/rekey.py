"""A signing key found compromised: take it out of the DID document and re-sign what it signed.

`rotate_key --compromised` (docs/operations.md, "A compromised key"). The key is marked
compromised, which removes it from the issuer's DID document at once (`verificationMethod` and
`assertionMethod`; no key is in `authentication`), so whatever was or will be signed with it, by us
or by whoever holds the copy, no longer verifies. Everything this server signed with it is signed
again with the next key, unchanged but for its proof: the facts were true, only the signature's
key is in doubt, so no learner loses a badge and no programme its endorsement for a leak they had no
part in. (A credential forged with the stolen key is in no table of ours, is not re-signed, and now
fails.) What is re-signed:

- the organisation's learners' badges (`Award.credential`);
- for the body: its EndorsementCredentials, and then every badge carrying one of them (the badge
  embeds the endorsement with its own proof, so it is signed again by its own issuer's active key);
- the issuer's status lists (`badges.status.status_list_publish` re-signs a list whose proof names
  another key than the active one), in the same transaction; for the body, after commit, a new
  audit checkpoint and the registry.

A copy someone downloaded before fails from then on: the badge page, `/badges/<id>.json` and the
baked images serve the re-signed credential, with the same id, content and status entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from badges import credentials as vc
from badges.models import Award, StatusList
from badges.status import status_list_publish
from config.errors import NotFound, WrongState
from config.tasking import enqueue_on_commit
from endorsement.models import Endorsement
from institutions.keys import issuer_key_rotate, organisation_did, signing_material
from institutions.models import IssuerKey, Organisation


@dataclass(frozen=True)
class CompromiseReport:
    """What `key_compromised` did: the key taken out, the one signing now, and how many credentials
    were signed again."""

    compromised: str  # verification method id of the compromised key
    active: str  # verification method id of the key that signs now
    awards: int
    endorsements: int
    status_lists: int


def _signed_with(credential: Any, method: str) -> bool:
    proofs = credential.get("proof") if isinstance(credential, dict) else None
    proofs = proofs if isinstance(proofs, list) else [proofs]
    return any(isinstance(p, dict) and p.get("verificationMethod") == method for p in proofs)


def _resign(credential: dict[str, Any], private_key: vc.Ed25519PrivateKey, method: str) -> dict[str, Any]:
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return vc.sign(unsigned, private_key, method, timezone.now().replace(microsecond=0))


def _replace_endorsements(credential: dict[str, Any], new: dict[str, dict[str, Any]]) -> bool:
    """Put the re-signed EndorsementCredentials (by id) in the badge's achievement; True if any was."""
    achievement = credential.get("credentialSubject", {}).get("achievement", {})
    embedded = achievement.get("endorsement") or []
    replaced = [new.get(e.get("id"), e) if isinstance(e, dict) else e for e in embedded]
    if replaced == embedded:
        return False
    achievement["endorsement"] = replaced
    return True


def key_compromised(*, actor: Any, organisation: Organisation, fragment: str | None = None,
                    reason: str = "") -> CompromiseReport:
    """Mark the organisation's key `fragment` (default: the active one) compromised, rotate to a new
    key if it was the active one, and re-sign everything signed with it. One transaction, audited
    (`key.compromised`); refused (`NotFound`, `WrongState`, nothing written) for a key the
    organisation does not have or one already marked."""
    from endorsement.audit import AuditAction, audit_record

    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
        keys = IssuerKey.objects.filter(organisation=organisation)
        key = keys.filter(fragment=fragment).first() if fragment else keys.filter(retired_at__isnull=True).first()
        if key is None:
            raise NotFound(f"{organisation.name} has no key {fragment!r}." if fragment
                           else f"{organisation.name} has no signing key yet: nothing can have been signed with it.")
        if key.compromised_at is not None:
            raise WrongState(f"The key {key.fragment} of {organisation.name} was already marked compromised "
                             f"on {key.compromised_at:%Y-%m-%d %H:%M} UTC.")
        did = organisation_did(organisation)
        method = f"{did}#{key.fragment}"
        if key.retired_at is None:
            issuer_key_rotate(organisation)
            key.refresh_from_db()
        key.compromised_at = timezone.now()
        key.save(update_fields=["compromised_at"])
        private_key, active = signing_material(organisation)

        new_endorsements: dict[str, dict[str, Any]] = {}
        if organisation.is_certification_body:
            for endorsement in Endorsement.objects.select_for_update().filter(credential__isnull=False):
                if _signed_with(endorsement.credential, method):
                    endorsement.credential = _resign(endorsement.credential, private_key, active)
                    endorsement.save(update_fields=["credential"])
                    new_endorsements[endorsement.credential["id"]] = endorsement.credential
        awards = 0
        signers: dict[int, tuple[vc.Ed25519PrivateKey, str]] = {organisation.pk: (private_key, active)}
        candidates = Award.objects.select_for_update().filter(credential__isnull=False)
        if not new_endorsements:
            candidates = candidates.filter(organisation=organisation)
        for award in candidates.select_related("organisation").iterator(chunk_size=500):
            changed = _replace_endorsements(award.credential, new_endorsements) if new_endorsements else False
            if changed or (award.organisation_id == organisation.pk and _signed_with(award.credential, method)):
                if award.organisation_id not in signers:
                    signers[award.organisation_id] = signing_material(award.organisation)
                award.credential = _resign(award.credential, *signers[award.organisation_id])
                award.save(update_fields=["credential"])
                awards += 1
        lists = [s.pk for s in StatusList.objects.filter(organisation=organisation, credential__isnull=False)
                 if _signed_with(s.credential, method)]
        for pk in lists:  # here, not after commit: the list must verify as soon as the key is gone
            status_list_publish(pk)
        if organisation.is_certification_body:
            enqueue_on_commit("endorsement.tasks.make_audit_checkpoint")
            if new_endorsements:
                enqueue_on_commit("endorsement.tasks.rebuild_registry")
        audit_record(
            actor=actor, action=AuditAction.KEY_COMPROMISED, subject=organisation, comment=reason,
            data={"key": method, "now_signing": active, "awards_resigned": awards,
                  "endorsements_resigned": len(new_endorsements), "status_lists_resigned": len(lists)},
        )
    return CompromiseReport(compromised=method, active=active, awards=awards, endorsements=len(new_endorsements),
                            status_lists=len(lists))
