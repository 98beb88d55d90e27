"""Verifying a presented Open Badges 3.0 credential, ours or anyone's: the service behind the
/verify page and POST /api/v1/verify.

What is checked, each as one entry {id, label, passed, message, informational, code} of the report
(`code` is "<check>.<outcome>", machine-readable and the same in every language: CHECK_CODES):

* `shape`: an Open Badges 3.0 credential (W3C context first; type OpenBadgeCredential /
  AchievementCredential or EndorsementCredential; an issuer; a subject);
* `issuer`: the issuer's DID resolved (ours from the database, did:key offline, other did:web over
  HTTPS: see `badges.did_resolver`);
* `proof`: every eddsa-rdfc-2022 proof verifies with a key the issuer's DID document lists. Only
  the bundled JSON-LD contexts are used: a credential with any other context fails, and no context
  is ever fetched;
* `dates`: validFrom (issuanceDate) not in the future, validUntil (expirationDate) not passed;
* `status`: each credentialStatus entry's Bitstring Status List (ours from the database, others
  over HTTPS), signed by the credential's own issuer, with the entry's bit clear;
* `registry`: for the body's EndorsementCredentials, that this registry still holds the
  endorsement active and published; for our members' badges, that the award exists and is not
  revoked;
* `endorsement-<n>-*`: every endorsement embedded in the badge gets the same checks, plus
  `subject` (it endorses the very achievement, or issuer, it is embedded in);
* `evidence` (our awards only) and `identity` (when an e-mail is given): informational.
* `archive-<n>`: every archived copy the credential names in `relatedResource` with a
  `digestSRI` is fetched (ours read from the archive) and its digest compared: `archive.intact`,
  `archive.altered`, `archive.withdrawn` (its issuer withdrew it: a tombstone, not a change) or
  `archive.unavailable`. Informational: evidence does not unmake a credential.

Decisions:

* Input that holds no credential at all (empty, malformed JSON, JSON that is not an object, a file
  that is neither PNG nor SVG, an image with nothing baked in, anything over
  VERIFY_MAX_UPLOAD_BYTES) raises `InvalidInput` with a field message (HTTP 400 / form errors):
  there is nothing to report on. Every JSON object gets a report (HTTP 200), verified or not.
* The report's `verdict` is one word for the whole (VERDICTS, see `VerificationReport.verdict`);
  `genuine` says the credential's own form, issuer and signature hold; `recipient_matches` is the
  e-mail check (None when no address was given). A genuine badge in force checked against another
  address is `verified` with the verdict `recipient-mismatch`: the page's banner says so.
* A status list that cannot be fetched, read or trusted, or has expired, gives `status.unknown`
  (failed: "status unknown"), never "not revoked".
* `verified` is true when every check that is not informational passed. Informational checks are:
  "held by this registry" for an endorsement by another body (this registry cannot know), the
  e-mail match, and the evidence standing (evidence moving does not unmake a credential).
* Embedded endorsements count towards `verified`: a badge displaying an endorsement that is
  forged, expired, suspended or about another achievement is not reported as verified.
* A status list must be signed by the credential's own issuer, carry the id it is fetched by and
  the entry's purpose; an unsupported status type fails (the credential cannot be shown not to be
  revoked).
* A check that breaks on unexpected input is reported as failed, never as a server error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import ResolverMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy

from badges import credentials as vc
from badges.did_resolver import DidResolver, is_local_did, site_did
from badges.routes import resolve_path
from badges.texts import gettext as _
from badges.texts import in_language
from badges.verification_data import AwardRecord, EndorsementRecord, VerificationRecords
from config.errors import InvalidInput
from config.i18n import visitor_language
from config.phrases import remark, space
from config.request_guard import JsonProblem, check_json_value

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
VC_CONTEXTS = ("https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1")
BADGE_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
ENDORSEMENT_TYPE = "EndorsementCredential"
CLR_TYPE = "ClrCredential"
# At most this many credentials bundled in a ClrCredential are checked (each in full).
MAX_NESTED_CREDENTIALS = 20
STATUS_ENTRY_TYPE = "BitstringStatusListEntry"
STATUS_LIST_TYPE = "BitstringStatusListCredential"
# Another server's clock may run a little ahead of ours.
CLOCK_LEEWAY = timedelta(minutes=5)
MAX_PROOFS = 4


@dataclass(frozen=True)
class Check:
    """One check. `code` is machine-readable, "<check>.<outcome>" (e.g. `status.revoked`; CHECK_CODES
    lists them all); `message` says the same in words, in the visitor's language."""

    id: str
    label: str
    passed: bool
    message: str
    informational: bool = False
    code: str = ""

    @property
    def kind(self) -> str:
        """The check without its endorsement prefix or item number: `endorsement-2-status` →
        `status`, `archive-3` → `archive`."""
        return check_kind(self.id)

    @property
    def outcome(self) -> str:
        return self.code.partition(".")[2]

    def as_dict(self) -> JsonDict:
        """The check as the report's JSON carries it (POST /api/v1/verify's CheckOutput: these six
        fields; built directly, `dataclasses.asdict` deep-copies every value)."""
        return {"id": self.id, "label": str(self.label), "passed": bool(self.passed), "message": str(self.message),
                "informational": bool(self.informational), "code": self.code}


ENDORSEMENT_PREFIX = re.compile(r"^(credential-\d+-)?(endorsement-\d+-)?")
NESTED_PREFIX = "credential-"
ITEM_SUFFIX = re.compile(r"-\d+$")
# At most this many archived copies of one credential are fetched and checked.
MAX_ARCHIVED_COPIES = 20


@lru_cache(maxsize=4096)
def check_kind(check_id: str) -> str:
    """`Check.kind` of a check id (remembered: the ids are the verifier's own, a few hundred)."""
    return ITEM_SUFFIX.sub("", ENDORSEMENT_PREFIX.sub("", check_id))

# Every code a check can carry ("<check>.<outcome>"), in the order docs/credentials.md lists them.
CHECK_CODES = (
    "shape.ok", "shape.not-open-badges",
    "issuer.ok", "issuer.missing", "issuer.unresolved",
    "proof.ok", "proof.too-many-proofs", "proof.invalid",
    *(f"proof.{reason.value.replace('_', '-')}" for reason in vc.VerificationFailure),
    "dates.ok", "dates.endorsed-when-issued", "dates.not-yet-valid", "dates.expired", "dates.invalid",
    "status.not-revoked", "status.no-status", "status.revoked", "status.suspended", "status.unknown",
    "registry.ok", "registry.not-found", "registry.revoked", "registry.other-issuer", "registry.suspended",
    "registry.expired", "registry.not-published", "registry.elsewhere", "registry.superseded", "registry.scheduled",
    "registry.endorsed-when-issued", "registry.not-in-force-when-issued",
    "subject.ok", "subject.other",
    "evidence.reachable", "evidence.changed", "evidence.gone", "evidence.pending",
    "archive.intact", "archive.altered", "archive.withdrawn", "archive.unavailable", "archive.no-digest",
    "identity.match", "identity.mismatch", "identity.no-email", "identity.not-a-badge",
    "nested.ok", "nested.too-many", "nested.not-an-object", "nested.clr-in-clr",
    "error.error",
)

# The verdict, one word for the whole report (see VerificationReport.verdict).
VERDICTS = ("verified", "recipient-mismatch", "not-genuine", "revoked", "suspended", "expired", "not-yet-valid",
            "status-unknown", "endorsement-invalid", "credential-invalid", "not-verified")


@dataclass
class VerificationReport:
    checks: list[Check]
    credential: JsonDict = field(default_factory=dict)  # a short summary of what was presented

    def _own(self, kind: str) -> Check | None:
        return next((c for c in self.checks if c.id == kind), None)

    @property
    def verified(self) -> bool:
        """Genuine and in force: every check that is not informational passed."""
        required = [c for c in self.checks if not c.informational]
        return bool(required) and all(c.passed for c in required)

    @property
    def genuine(self) -> bool:
        """The credential itself is well-formed, its issuer resolved and its signature holds: what it
        says is what its issuer signed (whether it is still in force is another matter)."""
        own = [self._own(kind) for kind in ("shape", "issuer", "proof")]
        return all(c is not None and c.passed for c in own)

    @property
    def recipient_matches(self) -> bool | None:
        """Whether the e-mail address (and the name, badges.identity) given are the recipient's; None
        when none was given."""
        given = [c for c in (self._own("identity"), self._own("recipient-name")) if c is not None]
        return None if not given else all(c.passed for c in given)

    @property
    def all_passed(self) -> bool:
        """Every check passed, the informational ones included."""
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def informational_failed(self) -> int:
        return sum(1 for c in self.checks if c.informational and not c.passed)

    @property
    def verdict(self) -> str:
        """One of VERDICTS: what the banner says. The first that applies: not-genuine (the credential's
        form, issuer or signature fails: nothing it says can be trusted); revoked or suspended (its
        status list, or this registry's record of it); expired or not-yet-valid; status-unknown (its
        status list could not be had); not-verified (any other failing check of the credential itself);
        credential-invalid (a credential a ClrCredential bundles fails one of its own checks);
        endorsement-invalid (an endorsement it carries fails); recipient-mismatch (genuine and in
        force, but the e-mail address given is not the recipient's); verified."""
        if not self.genuine:
            return "not-genuine"
        own = [c for c in self.checks if not c.id.startswith(("endorsement-", NESTED_PREFIX)) and not c.informational]
        codes = {c.code for c in own if not c.passed}
        for verdict, found in (("revoked", {"status.revoked", "registry.revoked"}),
                               ("suspended", {"status.suspended", "registry.suspended"}),
                               ("expired", {"dates.expired", "registry.expired"}),
                               ("not-yet-valid", {"dates.not-yet-valid"}),
                               ("status-unknown", {"status.unknown"})):
            if codes & found:
                return verdict
        if codes:
            return "not-verified"
        if any(c.id.startswith(NESTED_PREFIX) and not c.passed and not c.informational for c in self.checks):
            return "credential-invalid"
        if not self.verified:
            return "endorsement-invalid"
        if self.recipient_matches is False:
            return "recipient-mismatch"
        return "verified"

    def as_dict(self) -> JsonDict:
        return {"verified": self.verified, "verdict": self.verdict, "genuine": self.genuine,
                "recipient_matches": self.recipient_matches,
                "checks": [c.as_dict() for c in self.checks], "credential": self.credential}


# --- Reading the input ----------------------------------------------------------------------------
def max_upload_bytes() -> int:
    return int(getattr(settings, "VERIFY_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def _refuse(field_name: str, message: str) -> InvalidInput:
    return InvalidInput(message, field_errors={field_name: [message]})


def upload_too_large(field_name: str) -> InvalidInput:
    """The error for input over VERIFY_MAX_UPLOAD_BYTES, on `field_name`."""
    limit = max_upload_bytes() / (1024 * 1024)
    return _refuse(field_name, _("This is larger than the %(limit)g MB a credential may be.") % {"limit": limit})


NOT_PARSED = object()


def credential_from_json(text: str | bytes, *, field_name: str = "credential", parsed: Any = NOT_PARSED) -> JsonDict:
    """The credential in a JSON text; `InvalidInput` (on `field_name`) if it holds none. `parsed`:
    what config.request_guard already parsed and checked of this very text (`request.checked_json`),
    when it did: then the text is not parsed again."""
    if isinstance(text, bytes | bytearray):
        if len(text) > max_upload_bytes():
            raise upload_too_large(field_name)
        if parsed is not NOT_PARSED:  # decoded as below, parsed with json.loads, checked by check_json_value
            return _credential_object(parsed, field_name)
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse(field_name, _("This is not UTF-8 text, so it cannot be a JSON credential.")) from None
    if len(text) > max_upload_bytes():
        raise upload_too_large(field_name)
    if not text.strip():
        raise _refuse(field_name, _("Paste a credential (its JSON) or upload a badge image."))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise _refuse(field_name, _("This is not valid JSON: %(msg)s (line %(line)d, column %(column)d).")
                      % {"msg": error.msg, "line": error.lineno, "column": error.colno}) from None
    except (ValueError, RecursionError):
        raise _refuse(field_name, _("This JSON cannot be read (numbers too long or nesting too deep).")) from None
    try:  # the same bounds as every JSON body (config/request_guard.py): pyld recurses as deep as the JSON
        check_json_value(value)
    except JsonProblem as problem:
        raise _refuse(field_name, problem.message) from None
    return _credential_object(value, field_name)


def _credential_object(value: Any, field_name: str) -> JsonDict:
    if not isinstance(value, dict):
        raise _refuse(field_name, _("A credential is a JSON object ({…}); this JSON is a %(kind)s.")
                      % {"kind": type(value).__name__.replace("dict", "object").replace("str", "string")})
    return value


def credential_from_image(data: bytes, *, field_name: str = "file") -> JsonDict:
    """The credential baked into a PNG or SVG badge; `InvalidInput` (on `field_name`) if none."""
    if len(data) > max_upload_bytes():
        raise upload_too_large(field_name)
    if not data:
        raise _refuse(field_name, _("The file is empty."))
    try:
        kind = vc.image_kind(data)
    except vc.BakingError:
        raise _refuse(field_name, _("This file is neither a PNG nor an SVG image, so it holds no badge.")) from None
    try:
        return vc.extract(data)
    except vc.BakingError as error:
        raise _refuse(field_name, _("No credential could be read from this %(kind)s image: %(reason)s")
                      % {"kind": kind.upper(), "reason": error}) from None


# --- Small readers of untrusted JSON --------------------------------------------------------------
def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _types(document: Any) -> list[str]:
    if not isinstance(document, Mapping):
        return []
    return [t for t in _as_list(document.get("type")) if isinstance(t, str)]


def _text(value: Any, limit: int = 300) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _subjects(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(document.get("credentialSubject")) if isinstance(s, Mapping)]


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _when(moment: datetime) -> str:
    """A moment in a message, in UTC: 「2026-12-02 15:01 UTC」 in English; in Japanese the site's
    DATETIME_FORMAT with the zone in full-width parentheses, as the other Japanese messages say it:
    「2026年12月2日 15:01（UTC）」 (docs/i18n.md, "Japanese typography")."""
    moment = moment.astimezone(UTC)
    if visitor_language() == "ja":
        return f"{date_format(moment, 'DATETIME_FORMAT')}（UTC）"
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _sentences(parts: Any) -> str:
    """Sentences (or the parts of one) in a row: a space between them in English, none in Japanese,
    whose sentences end with 。 (config.phrases.space)."""
    return space().join(parts)


def _local_route(url: Any) -> ResolverMatch | None:
    """The view of this server a URL names, when the URL is under SITE_URL."""
    if not isinstance(url, str) or not url.startswith(settings.SITE_URL + "/"):
        return None
    return resolve_path(urlsplit(url).path)


def _summary(credential: Mapping[str, Any]) -> JsonDict:
    issuer = credential.get("issuer")
    subject = next(iter(_subjects(credential)), {})
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), Mapping) else {}
    return {
        "id": _text(credential.get("id"), 1000),
        "type": _types(credential)[:10],
        "name": _text(credential.get("name")),
        "issuer": {
            "id": _text(vc.issuer_id(credential), 1000),
            "name": _text(issuer.get("name")) if isinstance(issuer, Mapping) else "",
        },
        "achievement": _text(achievement.get("name")),
        "subject": _text(subject.get("id"), 1000),
        "valid_from": _text(credential.get("validFrom") or credential.get("issuanceDate"), 40),
        "valid_until": _text(credential.get("validUntil") or credential.get("expirationDate"), 40),
    }


# --- Our own records ----------------------------------------------------------------------------
# One verification reads them through its `VerificationRecords` (badges.verification_data): the
# issuers, the award with its evidence check, status list and endorsement, in two statements, as rows.
def endorsement_for_credential(credential_id: Any) -> EndorsementRecord | None:
    """This registry's endorsement whose signed credential has this id (as the registry check
    reads it), or None."""
    return VerificationRecords().endorsement(credential_id)


def endorsement_credential_id(endorsement: Any) -> str:
    """The id (URL) of one of this registry's EndorsementCredentials."""
    return settings.SITE_URL + reverse("endorsement-credential", args=[endorsement.public_id])


def award_for_credential(credential_id: Any) -> AwardRecord | None:
    """This registry's award whose signed credential has this id (the id carries its public_id),
    as the award checks read it, or None."""
    return VerificationRecords().award(credential_id)


# --- The verifier ---------------------------------------------------------------------------------
# proof.<reason>: every vc.VerificationFailure, with hyphens (proof.signature-mismatch).
PROOF_CODES = {reason: reason.value.replace("_", "-") for reason in vc.VerificationFailure}
PROOF_MESSAGES = {
    vc.VerificationFailure.NO_PROOF: gettext_lazy(
        "The credential carries no proof, so nothing shows who issued it or that it is unaltered."),
    vc.VerificationFailure.UNKNOWN_CONTEXT: gettext_lazy(
        "The credential uses a JSON-LD context this verifier does not hold (%(detail)s). Contexts are never "
        "fetched from the network, so its signature cannot be checked."),
    vc.VerificationFailure.SIGNATURE_MISMATCH: gettext_lazy(
        "The signature does not match the credential: it was altered after signing, or signed with a key other "
        "than its issuer's (%(method)s)."),
    vc.VerificationFailure.KEY_NOT_FOUND: gettext_lazy("The signing key could not be found: %(detail)s"),
    vc.VerificationFailure.UNSAFE_DOCUMENT: gettext_lazy(
        "The credential holds data its signature would not cover (%(detail)s), so it is refused."),
}


def document_digest(document: JsonDict) -> bytes | None:
    """The SHA-256 of a parsed JSON document's exact content, for the memo's key. The content is
    written by `marshal` (version 2: no back-references, whose use would depend on how the objects
    happen to be shared in memory), which writes every value with its exact type (True, 1 and 1.0
    differ, a tuple is not a list) and every object's keys in their order, and whose bytes read
    back into the very same document: two documents that differ anywhere give different bytes.
    It is several times cheaper than the JSON text the key was taken from before (the body's
    endorsement: about 6 µs against 18, hash included); the digest keeps the memo's size bounded
    whatever the documents' size. None for what marshal does not write (another type than JSON's,
    a subclass of one, nesting deeper than its limit): then nothing is remembered."""
    try:
        content = marshal.dumps(document, 2)
    except (ValueError, RecursionError):
        return None
    return hashlib.sha256(content).digest()


class _VerifiedDocuments:
    """Documents whose every proof verified, by their exact content and the keys that verified them.

    The EndorsementCredential embedded in every badge of a programme, and a status list until it is
    re-published, come back the same in verification after verification; checking their proofs
    again would canonicalize the same bytes for the same answer. A document is keyed by the
    SHA-256 of its exact content (`document_digest`: key order and types included) and by each
    proof's verification method with the raw public key it resolves to in the current
    verification: a changed document, or a method that now resolves to another key, misses.
    Everything else is still checked every time (the DID resolved, the status list read from the
    database and its bit looked up, the registry standing). Only successes are kept, at most
    `size`, the least recently used dropped first.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._data: OrderedDict[tuple[bytes, tuple[tuple[str, bytes], ...]], vc.VerificationResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, tuple[tuple[str, bytes], ...]]) -> vc.VerificationResult | None:
        with self._lock:
            result = self._data.get(key)
            if result is not None:
                self._data.move_to_end(key)
            return result

    def put(self, key: tuple[bytes, tuple[tuple[str, bytes], ...]], result: vc.VerificationResult) -> None:
        with self._lock:
            self._data[key] = result
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


VERIFIED_DOCUMENTS = _VerifiedDocuments()


class _DecodedLists:
    """Status lists' bitstrings, decoded, by their exact `encodedList` text.

    A status list is read from the database (or fetched) at every verification, so a revocation or
    a suspension shows at once; what is kept is only the decoding of the very same text (base64url,
    then GZIP of at least 16 kB), which gives the very same bits. A re-published list has another
    `encodedList` and misses. Keyed by the text itself (compared in full on a hit); the bits are
    kept as immutable bytes and each lookup gets its own StatusList over them. At most `size`, the
    least recently used dropped first; a list that does not decode is not kept."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def decode(self, encoded: Any) -> vc.StatusList:
        """`vc.StatusList.decode(encoded)`, from the memo when this very text was decoded before."""
        if not isinstance(encoded, str):
            return vc.StatusList.decode(encoded)  # raises the library's error
        with self._lock:
            bits = self._data.get(encoded)
            if bits is not None:
                self._data.move_to_end(encoded)
        if bits is None:
            bits = vc.StatusList.decode(encoded).to_bytes()
            with self._lock:
                self._data[encoded] = bits
                while len(self._data) > self.size:
                    self._data.popitem(last=False)
        return vc.StatusList.from_bytes(bits)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


DECODED_LISTS = _DecodedLists()


class _Verifier:
    """One verification: caches DIDs and status lists so each is resolved or fetched once."""

    def __init__(self, now: datetime, *, cached_copies: bool = True) -> None:
        self.now = now
        self.cached_copies = cached_copies
        self.dids = DidResolver()
        self.keys = self.dids.key_resolver()
        self._lists: dict[str, tuple[JsonDict | None, str, str]] = {}
        self._list_proofs: dict[str, vc.VerificationResult] = {}
        # This registry's records, read afresh for this verification only (badges.verification_data).
        self.records = VerificationRecords()
        self.dids.records = self.records

    def run(self, check_id: str, label: str, step: Callable[..., Check | None], *args: Any) -> Check | None:
        """One check; its step gives the outcome as `code` ("revoked"), made "<check>.<outcome>" here."""
        try:
            check = step(check_id, label, *args)
        except Exception:  # a verifier of untrusted input reports, never raises
            log.exception("verification check %s failed unexpectedly", check_id)
            return Check(check_id, label, False, _("This check could not be completed because of an error."),
                         code="error.error")
        if check is None:
            return None
        return Check(check.id, check.label, check.passed, check.message, check.informational,
                     f"{check_kind(check.id)}.{check.code}")

    def verify_proofs(self, document: JsonDict) -> vc.VerificationResult:
        """`vc.verify` with this verification's keys, answered from VERIFIED_DOCUMENTS when the very
        same document verified before with the very same keys."""
        key = self._verified_key(document)
        if key is not None:
            known = VERIFIED_DOCUMENTS.get(key)
            if known is not None:
                return known
        result = vc.verify(document, self.keys)
        if key is not None and result.verified:
            VERIFIED_DOCUMENTS.put(key, result)
        return result

    def _verified_key(self, document: JsonDict) -> tuple[bytes, tuple[tuple[str, bytes], ...]] | None:
        proofs = _as_list(document.get("proof"))
        if not proofs or len(proofs) > MAX_PROOFS:
            return None
        methods = []
        for proof in proofs:
            method = proof.get("verificationMethod") if isinstance(proof, Mapping) else None
            if not isinstance(method, str):
                return None
            try:
                public_key = self.keys(method)
            except Exception:  # vc.verify reports why
                return None
            if not isinstance(public_key, vc.Ed25519PublicKey):
                return None
            methods.append((method, public_key.public_bytes_raw()))
        digest = document_digest(document)
        return None if digest is None else (digest, tuple(methods))

    # --- the report ---
    def report(self, credential: JsonDict, email: str, *, nested: bool = False) -> VerificationReport:
        badge = bool(BADGE_TYPES & set(_types(credential)))
        self.records.preload(credential, [e for e, _target, _where in embedded_with_targets(credential)], badge=badge)
        checks: list[Check | None] = [
            self.run("shape", _("A CLR 2.0 ClrCredential") if CLR_TYPE in _types(credential) and not nested
                     else _("An Open Badges 3.0 credential"), self.shape, credential, None, nested),
            *self.credential_checks(credential, "", ""),
        ]
        award = self.records.award(credential.get("id")) if badge else None
        checks.append(self.run("registry", _("Issued through this registry"), self.award_registry, credential, award))
        if award is not None:
            checks.append(self.run("evidence", _("Evidence still in place"), self.evidence, award))
        resources = [r for r in _as_list(credential.get("relatedResource")) if isinstance(r, Mapping)]
        for number, resource in enumerate(resources[:MAX_ARCHIVED_COPIES], start=1):
            checks.append(self.run(f"archive-{number}", _("Archived evidence %(number)d matches its signed digest")
                                   % {"number": number}, self.archived_copy, resource))
        # Embedded endorsements are judged at the badge's issuance: a badge issued while the
        # endorsement was in force stays "endorsed when issued" after that endorsement ended or
        # was renewed (superseded); suspended and revoked ones still fail.
        issued_at = _parse_time(credential.get("validFrom") or credential.get("issuanceDate"))
        for number, (endorsement, target, where) in enumerate(embedded_with_targets(credential), start=1):
            endorser = endorsement.get("issuer")
            by = (_text(endorser.get("name")) if isinstance(endorser, Mapping) else "") \
                or _text(vc.issuer_id(endorsement)) or _("unknown issuer")
            prefix = _("Endorsement %(number)d (by %(by)s): ") % {"number": number, "by": by}
            pid = f"endorsement-{number}-"
            checks.append(self.run(pid + "shape", prefix + _("An endorsement credential"), self.shape, endorsement,
                                   ENDORSEMENT_TYPE))
            checks.append(self.run(pid + "subject", prefix + _("Endorses this %(where)s") % {"where": where},
                                   self.subject, endorsement, target))
            checks.extend(self.credential_checks(endorsement, pid, prefix, issued_at=issued_at))
        summary = _summary(credential)
        if CLR_TYPE in _types(credential) and not nested:
            summary["credentials"] = []
            for number, item in enumerate(vc.clr_nested_credentials(credential), start=1):
                found, item_summary = self.nested(number, item)
                checks.extend(found)
                if item_summary is not None:
                    summary["credentials"].append(item_summary)
        if email:
            checks.append(self.run("identity", _("Recipient's e-mail address"), self.identity, credential, email))
        return VerificationReport([c for c in checks if c is not None], summary)

    def nested(self, number: int, item: Any) -> tuple[list[Check | None], JsonDict | None]:
        """The checks of the `number`th credential a ClrCredential bundles, each prefixed
        `credential-<number>-`, and its summary (with `verified` and `verdict`)."""
        pid = f"{NESTED_PREFIX}{number}-"
        if number > MAX_NESTED_CREDENTIALS:
            if number == MAX_NESTED_CREDENTIALS + 1:
                return [Check(pid + "nested", _("Credentials it bundles"), False, _(
                    "The record bundles more than %(max)d credentials; the rest were not checked.")
                    % {"max": MAX_NESTED_CREDENTIALS}, code="nested.too-many")], None
            return [], None
        label = _("Credential %(number)d") % {"number": number}
        if not isinstance(item, dict):
            return [Check(pid + "nested", label, False, _("This bundled credential is not a JSON object."),
                          code="nested.not-an-object")], None
        if CLR_TYPE in _types(item):
            return [Check(pid + "nested", label, False, _("A ClrCredential inside a ClrCredential is not checked."),
                          code="nested.clr-in-clr")], None
        inner = self.report(item, "", nested=True)
        name = _text(item.get("name")) or (inner.credential.get("achievement") or "")
        prefix = _("Credential %(number)d (%(name)s): ") % {"number": number, "name": name or "?"}
        checks: list[Check | None] = [replace(c, id=pid + c.id, label=prefix + c.label) for c in inner.checks]
        return checks, {**inner.credential, "number": number, "verified": inner.verified, "verdict": inner.verdict}

    def credential_checks(self, credential: JsonDict, pid: str, prefix: str, *,
                          issued_at: datetime | None = None) -> list[Check | None]:
        """`issued_at`: for an endorsement embedded in a badge, when the badge was issued."""
        if issued_at is None:
            dates_label, registry_label = _("Within its validity period"), _("Held active by this registry")
        else:
            dates_label, registry_label = _("In force when the badge was issued"), _("Endorsed when issued, "
                                                                                    "according to this registry")
        checks = [
            self.run(pid + "issuer", prefix + _("Issuer identified"), self.issuer, credential),
            self.run(pid + "proof", prefix + _("Signature valid"), self.proof, credential),
            self.run(pid + "dates", prefix + dates_label, self.dates, credential, issued_at),
            self.run(pid + "status", prefix + _("Revocation and suspension status"), self.status, credential),
        ]
        if ENDORSEMENT_TYPE in _types(credential):
            checks.append(self.run(pid + "registry", prefix + registry_label,
                                   self.endorsement_registry, credential, issued_at))
        return checks

    # --- the checks ---
    def shape(self, check_id: str, label: str, credential: JsonDict, expected: str | None,
              nested: bool = False) -> Check:
        problems: list[str] = []
        contexts = _as_list(credential.get("@context"))
        if not contexts:
            problems.append(_("it has no @context"))
        elif contexts[0] not in VC_CONTEXTS:
            problems.append(_("its @context does not start with the W3C credentials context (%(url)s)")
                            % {"url": VC_CONTEXTS[0]})
        types = set(_types(credential))
        if "VerifiableCredential" not in types:
            problems.append(_("its type does not include VerifiableCredential"))
        kinds = {expected} if expected else BADGE_TYPES | {ENDORSEMENT_TYPE} | (set() if nested else {CLR_TYPE})
        if not types & kinds:
            problems.append(_("its type includes none of %(kinds)s") % {"kinds": ", ".join(sorted(kinds))})
        if not vc.issuer_id(credential):
            problems.append(_("it names no issuer"))
        subjects = _subjects(credential)
        if not subjects:
            problems.append(_("it has no credentialSubject"))
        elif types & BADGE_TYPES and not any(isinstance(s.get("achievement"), Mapping) for s in subjects):
            problems.append(_("its credentialSubject names no achievement"))
        elif ENDORSEMENT_TYPE in types and not all(isinstance(s.get("id"), str) for s in subjects):
            problems.append(_("its credentialSubject does not say what it endorses (no id)"))
        elif CLR_TYPE in types and not vc.clr_nested_credentials(credential):
            problems.append(_("its credentialSubject bundles no verifiableCredential"))
        if problems:
            return Check(check_id, label, False, _("Not an Open Badges 3.0 credential: %(problems)s.")
                         % {"problems": "; ".join(problems)}, code="not-open-badges")
        if CLR_TYPE in types and not expected:
            count = len(vc.clr_nested_credentials(credential))
            return Check(check_id, label, True, _("A ClrCredential in the form CLR 2.0 describes, bundling %(count)d "
                                                  "credentials.") % {"count": count}, code="ok")
        kind = ENDORSEMENT_TYPE if ENDORSEMENT_TYPE in types else "OpenBadgeCredential"
        return Check(check_id, label, True, _("An %(kind)s in the form Open Badges 3.0 describes.") % {"kind": kind},
                     code="ok")

    def issuer(self, check_id: str, label: str, credential: JsonDict) -> Check:
        issuer_id = vc.issuer_id(credential)
        if not issuer_id:
            return Check(check_id, label, False, _("The credential names no issuer."), code="missing")
        resolution = self.dids.resolve(issuer_id)
        if not resolution.resolved:
            return Check(check_id, label, False, resolution.error, code="unresolved")
        issuer = credential.get("issuer")
        name = _text(issuer.get("name")) if isinstance(issuer, Mapping) else ""
        who = f"{name}{remark(issuer_id)}" if name else issuer_id
        return Check(check_id, label, True, _("%(who)s, resolved from %(source)s.")
                     % {"who": who, "source": resolution.source}, code="ok")

    def proof(self, check_id: str, label: str, credential: JsonDict) -> Check:
        if len(_as_list(credential.get("proof"))) > MAX_PROOFS:
            return Check(check_id, label, False, _("The credential carries more than %(max)d proofs; it is not "
                                                   "checked.") % {"max": MAX_PROOFS}, code="too-many-proofs")
        result = self.verify_proofs(credential)
        if result.verified:
            proofs = _("%(count)d proofs") % {"count": result.proofs_checked} if result.proofs_checked > 1 else ""
            return Check(check_id, label, True, _("Signed with %(method)s%(proofs)s; unaltered since.")
                         % {"method": result.verification_method, "proofs": remark(proofs) if proofs else ""},
                         code="ok")
        template = PROOF_MESSAGES.get(result.reason)
        message = (template % {"detail": result.message, "method": result.verification_method or "?"}
                   if template else result.message)
        return Check(check_id, label, False, message, code=PROOF_CODES.get(result.reason, "invalid"))

    def dates(self, check_id: str, label: str, credential: JsonDict, issued_at: datetime | None = None) -> Check:
        """Within the validity period now; for an embedded endorsement (`issued_at` given), at the
        badge's issuance: an endorsement that ended after the badge was issued still endorses it."""
        problems: list[str] = []
        notes: list[str] = []
        outcome = "ok"
        passed_as = "ok"  # or "endorsed-when-issued"
        start_key = next((k for k in ("validFrom", "issuanceDate") if k in credential), None)
        end_key = next((k for k in ("validUntil", "expirationDate") if k in credential), None)
        if start_key is None:
            problems.append(_("It states no validFrom date."))
            outcome = "invalid"
        else:
            start = _parse_time(credential[start_key])
            if start is None:
                problems.append(_("Its %(key)s is not a date and time.") % {"key": start_key})
                outcome = "invalid"
            elif start > self.now + CLOCK_LEEWAY:
                problems.append(_("It is not valid until %(when)s.") % {"when": _when(start)})
                outcome = "not-yet-valid"
            else:
                notes.append(_("Valid from %(when)s") % {"when": _when(start)})
        if end_key is not None:
            end = _parse_time(credential[end_key])
            if end is None:
                problems.append(_("Its %(key)s is not a date and time.") % {"key": end_key})
                outcome = "invalid"
            elif end <= self.now and issued_at is not None and issued_at < end:
                passed_as = "endorsed-when-issued"
                notes.append(_("until %(when)s; it has ended since, but the badge was issued on %(issued)s, while it "
                               "was valid: endorsed when issued.") % {"when": _when(end), "issued": _when(issued_at)})
            elif end <= self.now:
                problems.append(_("It expired on %(when)s.") % {"when": _when(end)})
                outcome = "expired" if outcome == "ok" else outcome
            else:
                notes.append(_("until %(when)s.") % {"when": _when(end)})
        else:
            notes.append(_("with no end date."))
        if problems:
            return Check(check_id, label, False, _sentences(problems), code=outcome)
        return Check(check_id, label, True, _sentences(notes), code=passed_as)

    def status(self, check_id: str, label: str, credential: JsonDict) -> Check:
        entries = _as_list(credential.get("credentialStatus"))
        if not entries:
            return Check(check_id, label, True, _("The credential carries no status entry: its issuer cannot revoke "
                                                  "or suspend it."), code="no-status")
        issuer_id = vc.issuer_id(credential)
        found: list[tuple[str, str]] = [self.status_entry(entry, issuer_id) for entry in entries[:10]]
        if len(entries) > 10:
            found.append(("unknown", _("More than ten status entries; the rest were not checked.")))
        outcomes = {outcome for outcome, _message in found}
        for outcome in ("revoked", "suspended"):
            if outcome in outcomes:
                return Check(check_id, label, False, _sentences(m for o, m in found if o == outcome), code=outcome)
        if "unknown" in outcomes:
            # Never "not revoked" when a list could not be read: the standing is simply not known.
            reasons = _sentences(m for o, m in found if o == "unknown")
            return Check(check_id, label, False, _("Status unknown: %(reasons)s So whether the issuer has revoked or "
                                                   "suspended it cannot be told.") % {"reasons": reasons},
                         code="unknown")
        return Check(check_id, label, True, _sentences(m for _o, m in found), code="not-revoked")

    def status_entry(self, entry: Any, issuer_id: str | None) -> tuple[str, str]:
        """(outcome, words) for one entry: not-revoked (also for a purpose that does not bear on
        validity), revoked, suspended, or unknown (the list cannot be had or trusted)."""
        if not isinstance(entry, Mapping):
            return "unknown", _("A credentialStatus entry is not a JSON object.")
        if STATUS_ENTRY_TYPE not in _types(entry):
            return "unknown", _("The status type %(type)s is not supported.") \
                % {"type": ", ".join(_types(entry)) or "?"}
        purpose = entry.get("statusPurpose")
        if purpose not in ("revocation", "suspension"):
            return "not-revoked", _("A status entry for the purpose “%(purpose)s” does not bear on validity; not "
                                    "assessed.") % {"purpose": _text(purpose, 40)}
        if str(entry.get("statusSize", 1)) != "1":
            return "unknown", _("Status entries of more than one bit are not supported.")
        raw_index = entry.get("statusListIndex")
        if not (isinstance(raw_index, str | int) and str(raw_index).isdigit()):
            return "unknown", _("The status entry's statusListIndex is not a whole number.")
        index = int(raw_index)
        url = entry.get("statusListCredential")
        if not isinstance(url, str) or not url:
            return "unknown", _("The status entry names no status list.")
        document, where, error = self.status_list(url)
        if document is None:
            return "unknown", error
        problem = self.status_list_problem(document, url, issuer_id, purpose)
        if problem:
            return "unknown", problem
        try:
            bit = DECODED_LISTS.decode(document["credentialSubject"]["encodedList"]).get(index)
        except vc.StatusListError as error:
            return "unknown", _("The status list %(url)s cannot be read: %(reason)s") % {"url": url, "reason": error}
        if bit and purpose == "revocation":
            return "revoked", _("The issuer has REVOKED this credential (status list %(url)s, entry %(index)d).") \
                % {"url": url, "index": index}
        if bit:
            return "suspended", _("The issuer has SUSPENDED this credential (status list %(url)s, entry %(index)d).") \
                % {"url": url, "index": index}
        state = _("revoked") if purpose == "revocation" else _("suspended")
        return "not-revoked", _("Not %(state)s, according to the issuer's signed status list (%(where)s).") \
            % {"state": state, "where": where}

    def status_list(self, url: str) -> tuple[JsonDict | None, str, str]:
        """(the status list credential, where it came from, why not) for a statusListCredential URL."""
        if url not in self._lists:
            self._lists[url] = self._load_status_list(url)
        return self._lists[url]

    def _load_status_list(self, url: str) -> tuple[JsonDict | None, str, str]:
        if url.startswith(settings.SITE_URL + "/"):
            match = _local_route(url)
            if match is None or match.url_name != "status-list":
                return None, "", _("This registry has no status list at %(url)s.") % {"url": url}
            found = self.records.status_list(url)  # read with the award when it is the award's list
            if not found:
                return None, "", _("This registry has not published the status list %(url)s.") % {"url": url}
            return found, _("this registry's records"), ""
        document, error = self.dids.fetch_json(url, accept="application/vc+ld+json, application/ld+json, "
                                                            "application/json")
        if document is None:
            return None, "", _("The status list %(url)s could not be fetched: %(reason)s") \
                % {"url": url, "reason": error}
        return document, url, ""

    def status_list_problem(self, document: JsonDict, url: str, issuer_id: str | None, purpose: str) -> str | None:
        if STATUS_LIST_TYPE not in _types(document):
            return _("%(url)s is not a BitstringStatusListCredential.") % {"url": url}
        if document.get("id") != url:
            return _("The status list fetched from %(url)s names another id.") % {"url": url}
        list_issuer = vc.issuer_id(document)
        if list_issuer != issuer_id:
            return _("The status list %(url)s is issued by %(list)s, not by the credential's issuer %(issuer)s.") \
                % {"url": url, "list": list_issuer, "issuer": issuer_id}
        if url not in self._list_proofs:
            self._list_proofs[url] = self.verify_proofs(document)
        result = self._list_proofs[url]
        if not result.verified:
            return _("The status list %(url)s does not verify: %(reason)s") % {"url": url, "reason": result.message}
        end = _parse_time(document.get("validUntil"))
        if end is not None and end <= self.now:
            return _("The status list %(url)s expired on %(when)s.") % {"url": url, "when": _when(end)}
        subject = document.get("credentialSubject")
        if not isinstance(subject, Mapping) or not isinstance(subject.get("encodedList"), str):
            return _("The status list %(url)s has no encodedList.") % {"url": url}
        if purpose not in _as_list(subject.get("statusPurpose")):
            return _("The status list %(url)s is not a %(purpose)s list.") % {"url": url, "purpose": purpose}
        return None

    def subject(self, check_id: str, label: str, endorsement: JsonDict, target: str | None) -> Check:
        endorsed = [s.get("id") for s in _subjects(endorsement)]
        if target and target in endorsed:
            return Check(check_id, label, True, _("It endorses %(id)s.") % {"id": target}, code="ok")
        return Check(check_id, label, False, _("It endorses %(endorsed)s, not %(target)s: it was copied from "
                                               "elsewhere.") % {"endorsed": ", ".join(map(str, endorsed)) or "?",
                                                                "target": target or "?"}, code="other")

    def endorsement_registry(self, check_id: str, label: str, credential: JsonDict,
                             issued_at: datetime | None = None) -> Check:
        """The registry's word on an endorsement: active now; or, embedded in a badge issued at
        `issued_at`, in force then (it may have expired or been superseded by its renewal since)."""
        from endorsement.models import ApplicationState, EndorsementState

        issuer_id = vc.issuer_id(credential)
        if issuer_id != site_did():
            return Check(check_id, label, False, _("Endorsed by %(issuer)s, not by this registry, so this registry "
                                                   "cannot say whether it still holds.") % {"issuer": issuer_id},
                         informational=True, code="elsewhere")
        endorsement = self.records.endorsement(credential.get("id"))
        if endorsement is None:
            return Check(check_id, label, False, _("This registry holds no endorsement with the id %(id)s.")
                         % {"id": _text(credential.get("id"), 1000)}, code="not-found")
        what = _("The endorsement of %(programme)s (%(organisation)s)") % {
            "programme": endorsement.programme, "organisation": endorsement.organisation}
        ended = {EndorsementState.EXPIRED, EndorsementState.SUPERSEDED}
        if issued_at is not None and (endorsement.state in ended or endorsement.valid_until <= self.now) \
                and endorsement.state not in {EndorsementState.SUSPENDED, EndorsementState.REVOKED}:
            end = endorsement.valid_until
            if endorsement.state == EndorsementState.SUPERSEDED and endorsement.state_changed_at:
                end = min(end, endorsement.state_changed_at)
            if issued_at < end:
                successor = endorsement.successor if endorsement.state in ended else None
                if endorsement.state == EndorsementState.SUPERSEDED and successor is not None:
                    message = _("%(what)s was in force when the badge was issued (%(issued)s); it was replaced on "
                                "%(when)s by its renewal or a revised version (%(next)s): endorsed when issued.") % {
                        "what": what, "issued": _when(issued_at), "when": _when(end),
                        "next": endorsement_credential_id(successor)}
                else:
                    message = _("%(what)s was in force when the badge was issued (%(issued)s); it ended on "
                                "%(when)s: endorsed when issued.") % {
                        "what": what, "issued": _when(issued_at), "when": _when(end)}
                return Check(check_id, label, True, message, code="endorsed-when-issued")
            return Check(check_id, label, False, _("%(what)s was not in force when the badge was issued (%(issued)s)."
                                                   ) % {"what": what, "issued": _when(issued_at)},
                         code="not-in-force-when-issued")
        if issued_at is not None and endorsement.state == EndorsementState.SCHEDULED \
                and endorsement.valid_from <= self.now and endorsement.application.state == ApplicationState.PUBLISHED:
            return Check(check_id, label, True, _("%(what)s is in force on this registry until %(when)s.")
                         % {"what": what, "when": _when(endorsement.valid_until)}, code="ok")
        if endorsement.state != EndorsementState.ACTIVE:
            since = remark(_when(endorsement.state_changed_at)) if endorsement.state_changed_at else ""
            return Check(check_id, label, False, _("%(what)s is %(state)s%(since)s.")
                         % {"what": what, "state": endorsement.get_state_display().lower(), "since": since},
                         code=str(endorsement.state))
        if endorsement.application.state != ApplicationState.PUBLISHED:
            return Check(check_id, label, False, _("%(what)s is not published on the registry.") % {"what": what},
                         code="not-published")
        if endorsement.valid_until <= self.now:
            return Check(check_id, label, False, _("%(what)s ended on %(when)s.")
                         % {"what": what, "when": _when(endorsement.valid_until)}, code="expired")
        return Check(check_id, label, True, _("%(what)s is active on this registry until %(when)s.")
                     % {"what": what, "when": _when(endorsement.valid_until)}, code="ok")

    def award_registry(self, check_id: str, label: str, credential: JsonDict,
                       award: AwardRecord | None) -> Check | None:
        from institutions.keys import organisation_did

        issuer_id = vc.issuer_id(credential) or ""
        if not (BADGE_TYPES & set(_types(credential))) or not is_local_did(issuer_id) or issuer_id == site_did():
            return None  # not a badge of one of our members: nothing this registry could add
        if award is None and _local_route(credential.get("id")) is not None:
            pathway_check = self.pathway_credential_registry(check_id, label, credential, issuer_id)
            if pathway_check is not None:
                return pathway_check
        if award is None:
            return Check(check_id, label, False, _("This registry has no record of an award with the id %(id)s.")
                         % {"id": _text(credential.get("id"), 1000)}, code="not-found")
        if organisation_did(award.organisation) != issuer_id:
            return Check(check_id, label, False, _("This registry's award %(id)s was issued by another organisation.")
                         % {"id": award.public_id}, code="other-issuer")
        if award.revoked_at is not None:
            reason = f": {award.revocation_reason}" if award.revocation_reason else "."
            return Check(check_id, label, False, _("%(organisation)s revoked this award on %(when)s%(reason)s")
                         % {"organisation": award.organisation, "when": _when(award.revoked_at), "reason": reason},
                         code="revoked")
        return Check(check_id, label, True, _("Issued by %(organisation)s on %(when)s; not revoked.")
                     % {"organisation": award.organisation, "when": _when(award.issued_at)}, code="ok")

    def pathway_credential_registry(self, check_id: str, label: str, credential: JsonDict,
                                    issuer_id: str) -> Check | None:
        """This registry's record of a pathway credential it issued (pathways.completion); None
        when the id names none."""
        from institutions.keys import organisation_did
        from pathways.completion_models import Completion

        match = _local_route(credential.get("id"))
        if match is None or match.url_name != "pathway-credential":
            return None
        completion = Completion.objects.filter(public_id=match.kwargs["public_id"], badge__isnull=False) \
            .select_related("pathway__organisation").first()
        if completion is None or completion.badge.get("id") != credential.get("id"):
            return None
        organisation = completion.pathway.organisation
        if organisation_did(organisation) != issuer_id:
            return Check(check_id, label, False, _("This registry's pathway credential was issued by another "
                                                   "organisation."), code="other-issuer")
        if completion.revoked_at is not None:
            return Check(check_id, label, False, _("%(organisation)s revoked this pathway credential on %(when)s: "
                                                   "%(reason)s") % {"organisation": organisation.name,
                                                                    "when": _when(completion.revoked_at),
                                                                    "reason": completion.revocation_reason},
                         code="revoked")
        return Check(check_id, label, True, _("Pathway credential issued by %(organisation)s on %(when)s; not "
                                              "revoked.") % {"organisation": organisation.name,
                                                             "when": _when(completion.issued_at)}, code="ok")

    def evidence(self, check_id: str, label: str, award: AwardRecord) -> Check | None:
        from badges.evidence import EvidenceCheck

        standing = award.evidence_standing  # read with the award (badges.verification_data)
        if standing is None:
            return None
        return Check(check_id, label, standing.standing == EvidenceCheck.Standing.REACHABLE, standing.message,
                     informational=True, code=str(standing.standing))

    def archived_copy(self, check_id: str, label: str, resource: Mapping[str, Any]) -> Check:
        from badges.archive import CopyOutcome, archived_copy_check

        url = _text(resource.get("id"), 1000)
        result = archived_copy_check(resource.get("id"), resource.get("digestSRI"), cached=self.cached_copies,
                                     copy_of=self.records.archived_copy)
        values = {"url": url, "detail": result.detail,
                  "taken": _when(result.taken_at) if result.taken_at else "",
                  "withdrawn": _when(result.withdrawn_at) if result.withdrawn_at else ""}
        if result.outcome == CopyOutcome.INTACT:
            message = (_("Evidence intact: the archived copy taken on %(taken)s at %(url)s has the digest the issuer "
                         "signed.") if result.taken_at else
                       _("Evidence intact: the archived copy at %(url)s has the digest the issuer signed.")) % values
        elif result.outcome == CopyOutcome.ALTERED:
            message = _("Evidence altered: the archived copy at %(url)s no longer has the digest the issuer signed; "
                        "what it holds now is not the evidence that was signed.") % values
        elif result.outcome == CopyOutcome.WITHDRAWN:
            message = (_("Evidence withdrawn: the issuer withdrew the archived copy at %(url)s on %(withdrawn)s "
                         "(%(detail)s); its digest remains in the credential, its content is gone.")
                       if result.withdrawn_at else
                       _("Evidence withdrawn: the archived copy at %(url)s answers that it was withdrawn.")) % values
        elif result.outcome == CopyOutcome.UNAVAILABLE:
            message = _("The archived copy at %(url)s could not be checked: %(detail)s") % values
        else:
            message = _("The related resource %(url)s carries no digestSRI this verifier can check.") % values
        return Check(check_id, label, result.outcome == CopyOutcome.INTACT, message, informational=True,
                     code=result.outcome)

    def identity(self, check_id: str, label: str, credential: JsonDict, email: str) -> Check:
        if not (BADGE_TYPES | {CLR_TYPE}) & set(_types(credential)):
            return Check(check_id, label, False, _("Only a badge names a recipient; this credential has none to "
                                                   "compare."), informational=True, code="not-a-badge")
        identities = [
            i for s in _subjects(credential) for i in _as_list(s.get("identifier"))
            if isinstance(i, Mapping) and i.get("identityType") == "emailAddress"
        ]
        if not identities:
            return Check(check_id, label, False, _("The credential does not name its recipient by e-mail address."),
                         informational=True, code="no-email")
        if any(vc.email_identity_matches(i, email) for i in identities):
            return Check(check_id, label, True, _("The e-mail address you gave is the recipient's."),
                         informational=True, code="match")
        return Check(check_id, label, False, _("The e-mail address you gave is not the one the credential names."),
                     informational=True, code="mismatch")


def embedded_with_targets(credential: Mapping[str, Any]) -> list[tuple[JsonDict, str | None, str]]:
    """(endorsement, id of what it sits on, "achievement" or "issuer") for every embedded
    EndorsementCredential: the same places as `vc.embedded_endorsements`, with where each sits, so
    that an endorsement copied from another achievement can be told apart."""
    found: list[tuple[JsonDict, str | None, str]] = []
    for subject in _subjects(credential):
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping):
            target = achievement.get("id") if isinstance(achievement.get("id"), str) else None
            found += [(e, target, _("achievement")) for e in _as_list(achievement.get("endorsement"))
                      if isinstance(e, dict)]
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        target = issuer.get("id") if isinstance(issuer.get("id"), str) else None
        found += [(e, target, _("issuer")) for e in _as_list(issuer.get("endorsement")) if isinstance(e, dict)]
    return found[:20]


def credential_verify(credential: Mapping[str, Any], *, email: str = "", now: datetime | None = None,
                      cached_copies: bool = True) -> VerificationReport:
    """Check a presented credential and say, check by check, what holds. Never raises for bad input.
    It reads only, but for the record of an archived copy's last hash. `email`, if given, is
    compared with the recipient's identity. `cached_copies` (the default, the badge page's rules
    too): this server's archived copies signed with their own digest are checked by
    badges.archive.copy_check_cached: the stored size at every verification, the bytes hashed
    again (and when recorded on the blob) when the size differs or the last hash is
    EVIDENCE_COPY_CHECK_SECONDS old; False hashes them at every verification."""
    if not isinstance(credential, Mapping):
        raise _refuse("credential", _("A credential is a JSON object."))
    verifier = _Verifier(now or timezone.now(), cached_copies=cached_copies)
    with in_language():  # the report's texts, translated once per language (badges.texts)
        return verifier.report(dict(credential), (email or "").strip())
