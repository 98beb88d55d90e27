"""Signed checkpoints of the audit chain: tamper evidence that does not trust the database.

The hash chain (endorsement.audit) finds an event changed in place, but not someone with write
access who deletes the last events and lowers the head row, or who rewrites an event and
recomputes every later hash: the chain uses no secret, and nothing outside the database
remembers it. A checkpoint is that memory, in the manner of a Certificate Transparency signed
tree head: the chain's length and head hash at a moment, signed with the body's Ed25519 key,
published at /audit/checkpoints/ and kept by anyone who wants to hold the body to account.
`verify_audit --against CHECKPOINT` then checks the chain against any checkpoint ever published.

The signed bytes are UTF-8 text, five lines, each ending in a line feed (docs/operations.md):

    microcred-endorse audit checkpoint v1
    <origin: the body's DID>
    <seq: the number of events, decimal>
    <head: the hash of event #seq, 64 lowercase hex digits; 64 zeros for an empty chain>
    <time: when it was made, RFC 3339 in UTC with a Z>

A checkpoint is not itself an audit event: an event for it would move the head it has just signed.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from django.db import transaction
from django.utils import timezone

from badges import credentials as vc
from endorsement.audit import GENESIS, ChainReport, audit_verify
from endorsement.models import AuditCheckpoint, AuditEvent, AuditHead
from institutions.keys import organisation_did, signing_material
from institutions.models import IssuerKey, Organisation

log = logging.getLogger(__name__)

FORMAT = "microcred-endorse audit checkpoint v1"
DOCUMENT_TYPE = "AuditCheckpoint"
#: The largest checkpoint document `checkpoint_load` reads (a checkpoint is about 500 bytes).
MAX_DOCUMENT_BYTES = 64 * 1024
FETCH_TIMEOUT_SECONDS = 10
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


class CheckpointError(Exception):
    """A checkpoint that cannot be made, read or trusted; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    seq: int
    head: str
    time: str
    verification_method: str
    signature: str

    def signed_bytes(self) -> bytes:
        return checkpoint_signed_bytes(origin=self.origin, seq=self.seq, head=self.head, time=self.time)

    def document(self) -> dict[str, Any]:
        """The published JSON form."""
        return {
            "type": DOCUMENT_TYPE,
            "format": FORMAT,
            "origin": self.origin,
            "seq": self.seq,
            "head": self.head,
            "time": self.time,
            "verificationMethod": self.verification_method,
            "signature": self.signature,
        }


def checkpoint_signed_bytes(*, origin: str, seq: int, head: str, time: str) -> bytes:
    """The exact bytes a checkpoint's Ed25519 signature covers (see the module docstring)."""
    return f"{FORMAT}\n{origin}\n{seq}\n{head}\n{time}\n".encode()


def checkpoint_from_row(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        origin=row.origin,
        seq=row.seq,
        head=row.head_hash,
        time=vc.format_datetime(row.made_at),
        verification_method=row.verification_method,
        signature=row.signature,
    )


def _body() -> Organisation:
    return Organisation.objects.get(is_certification_body=True)


def checkpoint_make(at: datetime | None = None) -> AuditCheckpoint:
    """Sign and store a checkpoint of the chain as it is now, or return the latest one if no event
    was appended since (so the periodic task writes nothing when nothing happened). `at` is the
    moment it is made, now unless given (to the second: the signed time and the stored one are
    both taken from it).

    Refuses (`CheckpointError`, nothing written) to sign a chain that does not verify, or one that
    no longer holds what the latest stored checkpoint signed: the body never vouches for a trail
    that was tampered with.
    """
    with transaction.atomic():
        # The head row is the appenders' lock: no event is added while the checkpoint is made.
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        latest = AuditCheckpoint.objects.order_by("-seq").first()
        report = audit_verify()
        if not report.ok:
            raise CheckpointError(
                f"the audit chain is broken at seq {report.broken_seq} ({report.reason}): no checkpoint is signed"
            )
        if latest is not None:
            against = chain_against(checkpoint_from_row(latest))
            if not against.ok:
                raise CheckpointError(f"{against.reason}: no checkpoint is signed")
            if latest.seq == head.seq:
                return latest
        body = _body()
        private_key, method = signing_material(body)
        made_at = (at or timezone.now()).replace(microsecond=0)
        origin = organisation_did(body)
        time = vc.format_datetime(made_at)
        signed = checkpoint_signed_bytes(origin=origin, seq=head.seq, head=head.hash, time=time)
        signature = vc.multibase_encode(private_key.sign(signed))
        row = AuditCheckpoint.objects.create(
            seq=head.seq, head_hash=head.hash, made_at=made_at, origin=origin,
            verification_method=method, signature=signature,
        )
    log.info("audit checkpoint signed: seq %d, head %s", row.seq, row.head_hash)
    return row


# --- reading a checkpoint that someone kept ---------------------------------------------------------


def checkpoint_parse(document: Any) -> Checkpoint:
    """A checkpoint from its JSON form, every field checked; `CheckpointError` names the first bad one."""
    if not isinstance(document, dict):
        raise CheckpointError("a checkpoint is a JSON object")
    if document.get("type") != DOCUMENT_TYPE or document.get("format") != FORMAT:
        raise CheckpointError(f"not an audit checkpoint: type must be {DOCUMENT_TYPE!r} and format {FORMAT!r}")
    seq = document.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise CheckpointError("seq must be a whole number, 0 or more")
    head = document.get("head")
    if not isinstance(head, str) or not _HEX64.match(head):
        raise CheckpointError("head must be 64 lowercase hexadecimal digits")
    if seq == 0 and head != GENESIS:
        raise CheckpointError("a checkpoint of an empty chain has the genesis head (64 zeros)")
    time = document.get("time")
    if not isinstance(time, str) or not _TIME.match(time):
        raise CheckpointError("time must be an RFC 3339 UTC time such as 2026-03-02T09:00:00Z")
    fields = {}
    for name in ("origin", "verificationMethod", "signature"):
        value = document.get(name)
        if not isinstance(value, str) or not value or len(value) > 400 or "\n" in value:
            raise CheckpointError(f"{name} must be a non-empty string on one line")
        fields[name] = value
    return Checkpoint(
        origin=fields["origin"], seq=seq, head=head, time=time,
        verification_method=fields["verificationMethod"], signature=fields["signature"],
    )


def checkpoint_load(source: str) -> Checkpoint:
    """Read a checkpoint from a file path or an http(s) URL (at most MAX_DOCUMENT_BYTES)."""
    scheme = urlsplit(source).scheme.lower()
    try:
        if scheme in ("http", "https"):
            request = urllib.request.Request(source, headers={"Accept": "application/json"})  # noqa: S310
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                raw = response.read(MAX_DOCUMENT_BYTES + 1)
        elif scheme in ("", "file") or len(scheme) == 1:  # a path (a Windows drive letter is not a scheme)
            path = Path(source[len("file://"):] if scheme == "file" else source)
            with path.open("rb") as handle:
                raw = handle.read(MAX_DOCUMENT_BYTES + 1)
        else:
            raise CheckpointError(f"{source}: give a file or an http(s) URL")
    except OSError as error:
        raise CheckpointError(f"{source}: cannot be read ({error})") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise CheckpointError(f"{source}: larger than {MAX_DOCUMENT_BYTES} bytes, not a checkpoint")
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError(f"{source}: not JSON") from None
    try:
        return checkpoint_parse(document)
    except CheckpointError as error:
        raise CheckpointError(f"{source}: {error}") from None


def checkpoint_check_signature(checkpoint: Checkpoint) -> None:
    """Raise `CheckpointError` unless the checkpoint is the body's and its signature verifies with
    the body's key it names (current or retired)."""
    body = _body()
    did = organisation_did(body)
    if checkpoint.origin != did:
        raise CheckpointError(f"the checkpoint is of {checkpoint.origin!r}, not of this body ({did!r})")
    controller, _, fragment = checkpoint.verification_method.partition("#")
    key = IssuerKey.objects.filter(organisation=body, fragment=fragment).first() if controller == did else None
    if key is None:
        raise CheckpointError(
            f"the checkpoint names the key {checkpoint.verification_method!r}, which is not one of the body's keys"
        )
    try:
        public_key = vc.public_key_from_multibase(key.public_key_multibase)
        public_key.verify(vc.multibase_decode(checkpoint.signature), checkpoint.signed_bytes())
    except (InvalidSignature, vc.CredentialError):
        raise CheckpointError(
            f"the checkpoint's signature does not verify with {checkpoint.verification_method!r}: "
            "it was not signed by the body, or it was altered"
        ) from None


def chain_against(checkpoint: Checkpoint) -> ChainReport:
    """Does the chain in the database still hold what `checkpoint` signed? (Its signature is not
    checked here: see `checkpoint_check_signature`.) Assumes the chain itself verifies."""
    checked = AuditEvent.objects.count()
    when = checkpoint.time
    if checkpoint.seq == 0:
        return ChainReport(True, checked)
    event = AuditEvent.objects.filter(seq=checkpoint.seq).only("hash").first()
    if event is None:
        return ChainReport(
            False, checked, checked + 1,
            f"the chain has {checked} events, but the checkpoint of {when} signed {checkpoint.seq}: "
            "events were removed (truncated)",
            against_checkpoint=True,
        )
    if event.hash != checkpoint.head:
        return ChainReport(
            False, checked, checkpoint.seq,
            f"event #{checkpoint.seq} does not have the hash the checkpoint of {when} signed: "
            f"the chain was rewritten at or before #{checkpoint.seq}",
            against_checkpoint=True,
        )
    return ChainReport(True, checked)


def audit_verify_against(checkpoints: list[Checkpoint]) -> ChainReport:
    """Walk the chain, then check it against each checkpoint (whose signature must verify).

    Raises `CheckpointError` for a checkpoint that is not the body's genuine signature; returns
    the first failure otherwise (the chain's own, then the oldest checkpoint's).
    """
    for checkpoint in checkpoints:
        checkpoint_check_signature(checkpoint)
    report = audit_verify()
    if not report.ok:
        return report
    for checkpoint in sorted(checkpoints, key=lambda c: c.seq):
        against = chain_against(checkpoint)
        if not against.ok:
            return against
    return report


def checkpoint_latest() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq").first()
