"""The credential library's errors: one base class, one subclass per kind of failure."""

from __future__ import annotations


class CredentialError(Exception):
    """Base class of every error the credential library raises on purpose."""


class UnknownContextError(CredentialError):
    """A JSON-LD document names a context URL that is not bundled with the library."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"unknown JSON-LD context {url!r}: only the bundled contexts are served "
            "(see badges/credentials/contexts/SOURCES.md); nothing is fetched from the network"
        )


class UnsafeDocumentError(CredentialError):
    """The JSON-LD document holds something a signature would not cover.

    `term` names the offending term or value (an undefined property, a relative IRI, a relative
    type, a string with a control character), so a caller can show it.
    """

    def __init__(self, message: str, *, term: str | None = None) -> None:
        self.term = term
        super().__init__(message)


class CanonicalizationError(CredentialError):
    """pyld could not expand or canonicalize the document (malformed JSON-LD)."""


class MultibaseError(CredentialError):
    """A multibase or base58btc string could not be decoded."""


class KeyFormatError(CredentialError):
    """A key is not an Ed25519 Multikey of the expected kind."""


class KeyDecryptionError(CredentialError):
    """An encrypted private key could not be decrypted (wrong secret or damaged token)."""


class KeyNotFoundError(CredentialError):
    """A verification method could not be resolved to a public key."""


class ProofError(CredentialError):
    """A proof could not be created (bad arguments or an unsafe document)."""


class DidError(CredentialError):
    """A DID or DID URL is malformed or of an unsupported method."""


class StatusListError(CredentialError):
    """A status list is malformed, too large, or an index is out of range."""


class BakingError(CredentialError):
    """An image could not be baked or holds no readable credential."""
