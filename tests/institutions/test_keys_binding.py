"""An organisation's private key is bound to that organisation at rest (issue 15): the stored token
decrypts only with the organisation's own context, so a key row copied to another organisation
cannot be used to sign as it. The expected bytes come from AES-GCM and HKDF applied here, with the
documented format label, context and info string — not from the library's own decrypt."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from badges import credentials as vc
from institutions.keys import issuer_key_active, signing_material
from institutions.models import IssuerKey
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def b64url(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_token(token: str, *, aad: bytes) -> bytes:
    """Decrypt a stored token as the format is documented: v.salt.nonce.ciphertext, AES-256-GCM
    under HKDF-SHA256(KEY_ENCRYPTION_SECRET, salt, info)."""
    version, salt, nonce, ciphertext = token.split(".")
    assert version == "ed25519-aesgcm-v1"
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b64url(salt),
               info=b"microcred-endorse signing key encryption v1").derive(settings.KEY_ENCRYPTION_SECRET.encode())
    return AESGCM(key).decrypt(b64url(nonce), b64url(ciphertext), aad)


def test_the_stored_key_is_bound_to_its_organisations_id():
    organisation = OrganisationFactory()
    row = issuer_key_active(organisation)
    raw = open_token(row.private_key_encrypted, aad=f"ed25519-aesgcm-v1|organisation:{organisation.pk}".encode())
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert row.public_key_multibase == vc.multibase_encode(b"\xed\x01" + public)
    for unbound in (b"ed25519-aesgcm-v1|", f"ed25519-aesgcm-v1|organisation:{organisation.pk + 1}".encode()):
        with pytest.raises(InvalidTag):
            open_token(row.private_key_encrypted, aad=unbound)


def test_a_key_row_copied_to_another_organisation_does_not_sign_for_it():
    victim, thief = OrganisationFactory(), OrganisationFactory()
    stolen = issuer_key_active(victim).private_key_encrypted
    own = issuer_key_active(thief)
    IssuerKey.objects.filter(pk=own.pk).update(private_key_encrypted=stolen)

    with pytest.raises(vc.KeyDecryptionError):
        signing_material(thief)
    # Nothing was changed by the refusal: the victim still signs with its own key.
    _private_key, method = signing_material(victim)
    assert method.endswith("#key-1")
    assert IssuerKey.objects.get(pk=own.pk).private_key_encrypted == stolen
