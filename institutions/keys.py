"""Issuer identities: each organisation's did:web, its signing keys, DID document and Profile.

The body is `did:web:<host>` (document at /.well-known/did.json); a member organisation is
`did:web:<host>:organisations:<slug>` (document at /organisations/<slug>/did.json). Everything is
derived from settings.SITE_URL.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from badges import credentials as vc
from institutions.models import IssuerKey, Organisation


def organisation_did(organisation: Organisation) -> str:
    if organisation.is_certification_body:
        return vc.did_web_from_url(settings.SITE_URL)
    return vc.did_web_from_url(f"{settings.SITE_URL}/organisations/{organisation.slug}")


def organisation_did_document_url(organisation: Organisation) -> str:
    if organisation.is_certification_body:
        return settings.SITE_URL + "/.well-known/did.json"
    return settings.SITE_URL + reverse("organisation-did", args=[organisation.slug])


def _context(organisation: Organisation) -> str:
    # Binds each encrypted key to its owner: a key row copied to another organisation fails to decrypt.
    return f"organisation:{organisation.pk}"


def _create_key(organisation: Organisation, number: int) -> IssuerKey:
    private_key = vc.generate_private_key()
    return IssuerKey.objects.create(
        organisation=organisation,
        fragment=f"key-{number}",
        public_key_multibase=vc.public_key_to_multibase(private_key.public_key()),
        private_key_encrypted=vc.encrypt_private_key(
            private_key, settings.KEY_ENCRYPTION_SECRET, context=_context(organisation)
        ),
    )


@transaction.atomic
def issuer_key_active(organisation: Organisation) -> IssuerKey:
    """The organisation's current signing key, created on first use. Safe under concurrency: the
    organisation row is locked and a partial unique constraint allows one active key."""
    key = IssuerKey.objects.filter(organisation=organisation, retired_at__isnull=True).first()
    if key is not None:
        return key
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    key = IssuerKey.objects.filter(organisation=organisation, retired_at__isnull=True).first()
    return key or _create_key(organisation, IssuerKey.objects.filter(organisation=organisation).count() + 1)


@transaction.atomic
def issuer_key_rotate(organisation: Organisation) -> IssuerKey:
    """Retire the current key (it stays in the DID document) and create the next one."""
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    count = IssuerKey.objects.filter(organisation=organisation).count()
    IssuerKey.objects.filter(organisation=organisation, retired_at__isnull=True).update(retired_at=timezone.now())
    return _create_key(organisation, count + 1)


def signing_material(organisation: Organisation) -> tuple[vc.Ed25519PrivateKey, str]:
    """(private key, verification method id) for signing as this organisation."""
    key = issuer_key_active(organisation)
    private_key = vc.decrypt_private_key(
        key.private_key_encrypted, settings.KEY_ENCRYPTION_SECRET, context=_context(organisation)
    )
    return private_key, f"{organisation_did(organisation)}#{key.fragment}"


def did_document(organisation: Organisation) -> dict[str, Any]:
    """The DID document: every key, current and retired, as a Multikey assertion method, except
    the keys found compromised (`rotate_key --compromised`, badges.rekey). The first
    use creates the organisation's key; after that this is one read (verification calls it for
    every credential it checks)."""
    def listed() -> list[tuple[str, str, Any]]:
        return list(IssuerKey.objects.filter(organisation=organisation, compromised_at__isnull=True)
                    .order_by("created_at", "id").values_list("fragment", "public_key_multibase", "retired_at"))

    rows = listed()
    if not any(retired_at is None for _fragment, _key, retired_at in rows):
        issuer_key_active(organisation)
        rows = listed()
    keys = [vc.DidKey(fragment=fragment, public_key=key) for fragment, key, _retired_at in rows]
    return vc.build_did_document(organisation_did(organisation), keys)


def issuer_profile(organisation: Organisation) -> dict[str, Any]:
    """The issuer `Profile` embedded in credentials: id is the DID (interop note 8)."""
    url = organisation.website or settings.SITE_URL + "/"
    return vc.build_profile(
        id=organisation_did(organisation), name=organisation.name, url=url, email=organisation.contact_email or None,
        description=organisation.description or None,
    )
