"""The evidence archive: what an award's evidence was, kept so that it outlives its link.

* Uploaded files (PDF, PNG, JPEG, GIF, WebP, plain text, a zip of a portfolio) are typed by their
  bytes (`filetype`'s signatures; plain text is strict UTF-8 without control characters), limited
  per file and per award, and refused whole (400, nothing stored) when any one is wrong.
* A fetched evidence link is kept as a WARC/1.1 `response` record (ISO 28500, written with
  `warcio`): the HTTP status line, headers and body as the server received them.
* Bytes are stored once per content, content-addressed by SHA-384 (`EvidenceBlob`), through the
  Django storage alias "evidence" (the filesystem by default, S3 with django-storages).
* Each award's item (`ArchivedEvidence`) has an unguessable URL (`/evidence/<token>`), a digest
  in Subresource Integrity form (`sha384-<base64>`) and, when uploaded with the award, is named
  in the signed credential's `relatedResource` with that digest.
* Withdrawal (by the organisation, at the learner's request, audited) and the retention sweep turn
  an item into a tombstone: the URL answers 410 Gone, the digest, when and by whom stay, and the
  bytes are deleted once no live item holds the same content.

Nothing here imports a tasks module; the views and the verifier read through `copy_*` functions.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import get_urlconf, reverse
from django.utils import timezone
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from badges.fetch import FetchResult
from badges.models import ArchivedEvidence, Award, EvidenceBlob, EvidenceUpload
from badges.routes import resolve_path
from badges.texts import gettext as _
from config.errors import InvalidInput, NotFound, NotPermitted, WrongState
from endorsement.audit import AuditAction, audit_record
from institutions.permissions import UserLike, can_issue_for, is_member_of

log = logging.getLogger(__name__)

Kind = ArchivedEvidence.Kind
Reason = ArchivedEvidence.Reason

WARC_MEDIA_TYPE = "application/warc"
# What may be uploaded, by the type its bytes show (never by the name or the declared type).
# HTML and SVG are refused: served from this site they could run scripts.
ALLOWED_TYPES: dict[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "text/plain": "text",
    "application/zip": "zip",
}
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f/\\]")


def evidence_storage() -> Storage:
    """The storage holding archived bytes (settings.STORAGES["evidence"])."""
    return storages["evidence"]


def digest_sri(data: bytes) -> str:
    """The Subresource Integrity form of the SHA-384 of `data`, as VC 2.0 `digestSRI` takes it."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def sniff(data: bytes) -> str | None:
    """The media type the bytes show, among ALLOWED_TYPES; None for anything else."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED_TYPES else None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _TEXT_CONTROL.search(text) else "text/plain"


# --- uploads -------------------------------------------------------------------------------------
class UploadLike(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True)
class EvidenceFile:
    """One checked upload, read into memory (at most EVIDENCE_UPLOAD_MAX_BYTES)."""

    name: str
    data: bytes
    media_type: str

    @property
    def sha384(self) -> str:
        return hashlib.sha384(self.data).hexdigest()


def _clean_name(name: str | None) -> str:
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = _NAME_BAD.sub("", name).strip()
    return name[:200] or "evidence"


def evidence_files_clean(uploads: Sequence[UploadLike], *, field: str = "evidence_file"
                         ) -> tuple[list[EvidenceFile], dict[str, list[str]]]:
    """Check uploaded evidence files: how many, each one's size and type by content, and their
    total. Returns the files, or [] and the errors under `field`. Reads at most one byte past each
    limit, so an oversized upload is never read whole."""
    per_file = int(settings.EVIDENCE_UPLOAD_MAX_BYTES)
    per_award = int(settings.EVIDENCE_AWARD_MAX_BYTES)
    most = int(settings.EVIDENCE_AWARD_MAX_FILES)
    errors: list[str] = []
    if len(uploads) > most:
        return [], {field: [_("At most %(count)d evidence files per badge.") % {"count": most}]}
    files: list[EvidenceFile] = []
    total = 0
    for upload in uploads:
        name = _clean_name(getattr(upload, "name", None))
        if getattr(upload, "size", None) is not None and upload.size > per_file:
            errors.append(_("“%(name)s” is larger than the %(limit)s bytes allowed for one file.")
                          % {"name": name, "limit": f"{per_file:,}"})
            continue
        data = upload.read(per_file + 1)
        if len(data) > per_file:
            errors.append(_("“%(name)s” is larger than the %(limit)s bytes allowed for one file.")
                          % {"name": name, "limit": f"{per_file:,}"})
            continue
        if not data:
            errors.append(_("“%(name)s” is empty.") % {"name": name})
            continue
        media_type = sniff(data)
        if media_type is None:
            errors.append(_("“%(name)s” is not a PDF, an image (PNG, JPEG, GIF, WebP), plain text (UTF-8) or a zip "
                            "file, judged by its content.") % {"name": name})
            continue
        total += len(data)
        files.append(EvidenceFile(name, data, media_type))
    if not errors and total > per_award:
        errors.append(_("The evidence files of one badge may be %(limit)s bytes in all; these are %(total)s.")
                      % {"limit": f"{per_award:,}", "total": f"{total:,}"})
    if errors:
        return [], {field: errors}
    return files, {}


# --- storing -------------------------------------------------------------------------------------
def _storage_name(sha384: str) -> str:
    return f"sha384/{sha384[:2]}/{sha384[2:4]}/{sha384}"


def blob_store(data: bytes, media_type: str) -> EvidenceBlob:
    """The blob holding `data`, stored once (`blobs_store` for one content)."""
    return blobs_store([(data, media_type)])[hashlib.sha384(data).hexdigest()]


def blobs_store(contents: Iterable[tuple[bytes, str]], *, stored: Iterable[str] = ()) -> dict[str, EvidenceBlob]:
    """The blobs holding each content (bytes, media type), by SHA-384 (hex), each stored once however
    often it is given; a blob already there is reused (and its bytes written again if they were
    removed). `stored`: the SHA-384 of blobs stored before (a batch's files), which must still be
    there (`EvidenceBlob.DoesNotExist` otherwise). Call inside the transaction that refers to them.

    At most three statements whatever the number of contents (a batch chunk's): the rows there
    already, locked; one INSERT … ON CONFLICT DO NOTHING of the others; those read back, locked. The
    lock (held until the caller commits) is what keeps the retention sweep (`_remove_unreferenced`)
    from removing a blob's bytes while a new reference to it is being written: the sweep locks the
    blob before it looks for live references, so it waits for this transaction and then sees its
    copies; a blob the sweep marked removed first is seen removed here and its bytes written again.
    Rows are locked and inserted in SHA-384 order, so two chunks sharing contents do not deadlock.

    The bytes are written at once, once per content (content-addressed: a file left by a rolled-back
    write is checked and reused by the next store of the same content; inside
    `new_files_removed_on_failure` none is left). The bytes written are the
    bytes just hashed: that is recorded as a new blob's first hash (`verified_*`, see
    `copy_check_cached`)."""
    wanted: dict[str, tuple[bytes, str]] = {}
    for data, media_type in contents:
        wanted.setdefault(hashlib.sha384(data).hexdigest(), (data, media_type))
    named = set(stored) - set(wanted)
    shas = sorted(set(wanted) | named)
    if not shas:
        return {}
    now = timezone.now()
    locked = EvidenceBlob.objects.select_for_update().order_by("sha384")
    blobs = {blob.sha384: blob for blob in locked.filter(sha384__in=shas)}
    missing = [sha for sha in sorted(wanted) if sha not in blobs]
    if missing:
        EvidenceBlob.objects.bulk_create([
            EvidenceBlob(sha384=sha, size=len(wanted[sha][0]), media_type=wanted[sha][1],
                         storage_name=_storage_name(sha), verified_at=now, verified_size=len(wanted[sha][0]),
                         verified_intact=True)
            for sha in missing], ignore_conflicts=True)  # a row another transaction committed meanwhile stays
        blobs.update((blob.sha384, blob) for blob in locked.filter(sha384__in=missing))
    for sha in sorted(named):
        if sha not in blobs or blobs[sha].removed_at is not None:
            raise EvidenceBlob.DoesNotExist(f"No stored evidence file sha384:{sha[:16]}…")
    storage = evidence_storage()
    new = set(missing)
    written = _written_new.get()
    for sha, (data, _media_type) in wanted.items():
        blob = blobs[sha]
        if sha in new and blob.removed_at is None:
            if written is not None:  # before the write: one cut short is removed too
                written.append((sha, blob.storage_name))
            _blob_write(storage, blob.storage_name, data, sha)
        elif blob.removed_at is not None or not storage.exists(blob.storage_name):
            if storage.exists(blob.storage_name):
                storage.delete(blob.storage_name)
            _blob_write(storage, blob.storage_name, data, sha)
            blob.removed_at = None
            blob.verified_at, blob.verified_size, blob.verified_intact = now, len(data), True
            blob.save(update_fields=["removed_at", "verified_at", "verified_size", "verified_intact"])
    return blobs


# The new blobs' files `blobs_store` wrote inside `new_files_removed_on_failure` (SHA-384, name).
_written_new: ContextVar[list[tuple[str, str]] | None] = ContextVar("archive_written_new", default=None)


@contextlib.contextmanager
def new_files_removed_on_failure() -> Iterator[None]:
    """Around an outermost issuing transaction (`with new_files_removed_on_failure(),
    transaction.atomic():`): when the block fails, its transaction rolled back, the files
    `blobs_store` wrote inside it for blobs it inserted are deleted again, so that a failed chunk
    leaves no bytes on disk that no row names. A file whose blob another transaction has committed
    meanwhile (the same content, stored by another chunk) is kept (`_orphans_remove`)."""
    written: list[tuple[str, str]] = []
    token = _written_new.set(written)
    try:
        yield
    except BaseException:
        _written_new.reset(token)
        token = None
        _orphans_remove(written)
        raise
    finally:
        if token is not None:
            _written_new.reset(token)


class _KeepNothing(Exception):
    """Rolls back `_orphans_remove`'s stand-in row."""


def _orphans_remove(written: Sequence[tuple[str, str]]) -> None:
    """Delete the files of blobs whose rows rolled back, unless a blob row names them by now. For
    each, a stand-in row with its SHA-384 is inserted and rolled back: the insert waits for a
    transaction still inserting the same content (the unique index) and fails if one committed it,
    and while it is held nobody can store that content, so the file is deleted only when no row
    names it and none is about to. Never raises (the chunk's own error is the one to report)."""
    storage = evidence_storage()
    for sha, name in written:
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        EvidenceBlob.objects.create(sha384=sha, size=0, media_type="", storage_name=name)
                except IntegrityError:
                    continue  # another transaction's blob names this file: it stays
                storage.delete(name)
                raise _KeepNothing
        except _KeepNothing:
            pass
        except Exception:
            log.exception("the file %s left by a failed transaction could not be removed", name)


def _holds(storage: Storage, name: str, sha384: str) -> bool:
    """Whether the stored file `name` holds exactly the bytes whose SHA-384 is `sha384`."""
    try:
        with storage.open(name, "rb") as handle:
            digest = hashlib.sha384()
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    except (FileNotFoundError, OSError):
        return False
    return digest.hexdigest() == sha384


def _blob_write(storage: Storage, name: str, data: bytes, sha384: str) -> None:
    """Write `data` as `name`. A file there already (a concurrent writer of the same content, or a
    write whose transaction rolled back, possibly cut short) is kept when it holds these bytes and
    replaced when it does not."""
    saved = storage.save(name, ContentFile(data))
    if saved == name:
        return
    storage.delete(saved)  # the storage chose another name: `name` was taken
    if not _holds(storage, name, sha384):
        storage.delete(name)
        saved = storage.save(name, ContentFile(data))
        if saved != name:  # another writer got there first, with the same bytes: keep one
            storage.delete(saved)


def new_token() -> str:
    """The unguessable part of an archived copy's URL (256 random bits)."""
    return secrets.token_urlsafe(32)


def copy_url(token: str) -> str:
    """The stable, unguessable address of an archived copy."""
    return settings.SITE_URL + reverse("evidence-copy", args=[token])


def related_resource(copy: ArchivedEvidence) -> dict[str, Any]:
    """The VC 2.0 relatedResource entry naming an archived copy and its digest."""
    return {"id": copy_url(copy.token), "digestSRI": copy.digest_sri, "mediaType": copy.media_type}


def sri_of_hex(sha384: str) -> str:
    """`digest_sri` from a SHA-384 already computed (hex)."""
    return "sha384-" + base64.b64encode(bytes.fromhex(sha384)).decode("ascii")


@dataclass(frozen=True)
class PlannedCopy:
    """A copy about to be archived for an award, known before signing (its URL and digest go into
    the credential): an upload, a file of a batch (stored already: `data` is None), or the WARC
    record of the evidence link fetched just before signing (kind "web")."""

    token: str
    name: str
    media_type: str
    sha384: str  # hex
    size: int
    data: bytes | None = None  # None: the blob with this SHA-384 was stored when the batch was accepted
    kind: str = Kind.UPLOAD
    original_url: str = ""
    taken_at: datetime | None = None

    @classmethod
    def of_file(cls, file: EvidenceFile) -> PlannedCopy:
        return cls(new_token(), file.name, file.media_type, file.sha384, len(file.data), file.data)

    @property
    def url(self) -> str:
        return copy_url(self.token)

    @property
    def digest_sri(self) -> str:
        return sri_of_hex(self.sha384)

    def related_resource(self) -> dict[str, Any]:
        return {"id": self.url, "digestSRI": self.digest_sri, "mediaType": self.media_type}


def copies_plan(files: Iterable[EvidenceFile]) -> list[PlannedCopy]:
    return [PlannedCopy.of_file(f) for f in files]


def copies_save(award: Award, planned: Sequence[PlannedCopy]) -> list[ArchivedEvidence]:
    """Inside the issuing transaction: `copies_save_many` for one award."""
    return copies_save_many([(award, planned)])


def copies_save_many(planned: Iterable[tuple[Award, Sequence[PlannedCopy]]]) -> list[ArchivedEvidence]:
    """Inside the issuing transaction, for awards just saved (a batch chunk's, or one): store the
    planned copies' bytes, once per content across all of them (`blobs_store`), and save their
    ArchivedEvidence rows in one INSERT. A copy planned without bytes names a blob stored before (a
    batch's file); it must still be there."""
    planned = [(award, list(plans)) for award, plans in planned]
    plans = [plan for _award, award_plans in planned for plan in award_plans]
    blobs = blobs_store([(plan.data, plan.media_type) for plan in plans if plan.data is not None],
                        stored=[plan.sha384 for plan in plans if plan.data is None])
    rows = []
    for award, award_plans in planned:
        for position, plan in enumerate(award_plans):
            blob = blobs.get(plan.sha384)
            if blob is None:  # planned with bytes whose digest is not the one it names
                raise ValueError(f"the copy {plan.token[:8]}… names a digest its bytes do not have")
            rows.append(ArchivedEvidence(
                token=plan.token, award=award, blob=blob, kind=plan.kind, position=position,
                digest_sri=plan.digest_sri, size=plan.size, media_type=plan.media_type,
                filename=plan.name if plan.kind == Kind.UPLOAD else "", original_url=plan.original_url,
                taken_at=plan.taken_at or award.issued_at or timezone.now(), in_credential=True))
    return ArchivedEvidence.objects.bulk_create(rows) if rows else []


def web_copy_plan(result: FetchResult, *, url: str, taken_at: datetime) -> PlannedCopy:
    """The WARC record of an evidence link fetched before signing, planned to be archived and named
    (with its digest) in the credential."""
    data = warc_record(result, taken_at=taken_at)
    return PlannedCopy(new_token(), "", WARC_MEDIA_TYPE, hashlib.sha384(data).hexdigest(), len(data), data,
                       kind=Kind.WEB, original_url=url, taken_at=taken_at)


def warc_record(result: FetchResult, *, taken_at: datetime) -> bytes:
    """A WARC/1.1 file of one `response` record: what `result` received, as received."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
    # The body was received de-chunked: a Transfer-Encoding header would misdescribe it.
    kept = [(k, v) for k, v in result.headers if k.lower() != "transfer-encoding"]
    headers = StatusAndHeaders(f"{result.status} {result.reason}".strip(), kept, protocol=result.http_version)
    warc_headers = {"WARC-Date": taken_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if result.truncated:  # only the first EVIDENCE_MAX_BYTES were read (ISO 28500 §5.13)
        warc_headers["WARC-Truncated"] = "length"
    record = writer.create_warc_record(
        result.url, "response", payload=io.BytesIO(result.body), http_headers=headers,
        warc_headers_dict=warc_headers)
    writer.write_record(record)
    return out.getvalue()


def archive_fetched_page(award_id: int, result: FetchResult, *, taken_at: datetime) -> ArchivedEvidence | None:
    """Keep the first successful fetch of an award's evidence link as a WARC record (once per
    award: a second call returns the copy already kept)."""
    with transaction.atomic():
        award = Award.objects.select_for_update().filter(pk=award_id).first()
        if award is None:
            return None
        existing = ArchivedEvidence.objects.filter(award=award, kind=Kind.WEB).first()
        if existing is not None:
            return existing
        data = warc_record(result, taken_at=taken_at)
        blob = blob_store(data, WARC_MEDIA_TYPE)
        position = ArchivedEvidence.objects.filter(award=award).count()
        return ArchivedEvidence.objects.create(
            token=new_token(), award=award, blob=blob, kind=Kind.WEB, position=position,
            digest_sri=digest_sri(data), size=len(data), media_type=WARC_MEDIA_TYPE,
            original_url=award.evidence_url, taken_at=taken_at, in_credential=False)


# --- what an endorsement was judged on ----------------------------------------------------------------
def canonical_json(value: Any) -> bytes:
    """The bytes archived for a JSON document: keys sorted, no insignificant white space, UTF-8."""
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def document_archive(*, endorsement: Any, kind: str, document: Any, original_url: str = "") -> ArchivedEvidence:
    """Archive one document an endorsement was judged on (the frozen snapshot, the criteria table
    version) as canonical JSON, once per endorsement and kind: a second call returns the first copy
    (so signing again never changes what was archived)."""
    existing = ArchivedEvidence.objects.filter(endorsement=endorsement, kind=kind).select_related("blob").first()
    if existing is not None:
        return existing
    data = canonical_json(document)
    blob = blob_store(data, "application/json")
    return ArchivedEvidence.objects.create(
        token=new_token(), endorsement=endorsement, blob=blob, kind=kind,
        position=[Kind.SNAPSHOT, Kind.CRITERIA].index(kind) if kind in (Kind.SNAPSHOT, Kind.CRITERIA) else 0,
        digest_sri=digest_sri(data), size=len(data), media_type="application/json", original_url=original_url,
        taken_at=timezone.now(), in_credential=True)


# --- reading -------------------------------------------------------------------------------------
def copy_for_token(token: str) -> ArchivedEvidence:
    """The archived copy a URL names (withdrawn ones too: their tombstone), or NotFound."""
    copy = (ArchivedEvidence.objects.select_related("blob", "award", "withdrawn_by")
            .filter(token=token).first()) if token else None
    if copy is None:
        raise NotFound(_("No such archived evidence."))
    return copy


def copy_read(copy: ArchivedEvidence) -> bytes | None:
    """The stored bytes of a live copy; None when withdrawn or missing from the storage."""
    if copy.withdrawn_at is not None or copy.blob.removed_at is not None:
        return None
    storage = evidence_storage()
    try:
        with storage.open(copy.blob.storage_name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        return None


def copies_of_award(award: Award) -> list[ArchivedEvidence]:
    return list(ArchivedEvidence.objects.filter(award=award).select_related("blob", "withdrawn_by")
                .order_by("position", "pk"))


# --- withdrawal and retention --------------------------------------------------------------------
def _remove_unreferenced(blob_ids: Iterable[int]) -> int:
    """Delete the bytes of blobs no live copy refers to any more, nor a file uploaded for a batch
    not yet forgotten (after commit, so a rollback never loses bytes). Returns how many blobs were
    marked removed."""
    removed = []
    for blob in (EvidenceBlob.objects.select_for_update().order_by("sha384")  # blobs_store's order
                 .filter(pk__in=list(blob_ids), removed_at__isnull=True)):
        if not ArchivedEvidence.objects.filter(blob=blob, withdrawn_at__isnull=True).exists() \
                and not EvidenceUpload.objects.filter(blob=blob).exists():
            removed.append(blob)
    if not removed:
        return 0
    ids = [b.pk for b in removed]
    EvidenceBlob.objects.filter(pk__in=ids).update(removed_at=timezone.now())

    def delete() -> None:
        # Under the blobs' lock, only those still marked removed: content stored again after this
        # commit (`blobs_store` cleared removed_at and wrote the bytes) keeps its bytes.
        storage = evidence_storage()
        with transaction.atomic():
            for blob in (EvidenceBlob.objects.select_for_update().order_by("sha384")
                         .filter(pk__in=ids, removed_at__isnull=False)):
                if storage.exists(blob.storage_name):
                    storage.delete(blob.storage_name)

    transaction.on_commit(delete)
    return len(removed)


def copy_withdraw(*, actor: UserLike, copy: ArchivedEvidence, reason: str = Reason.LEARNER) -> ArchivedEvidence:
    """Withdraw an archived copy (owners and issuers of the award's organisation): the URL answers
    410 Gone from now on, the bytes are deleted after commit unless another live copy holds the
    same content, and the tombstone (digest, when, by whom, why) stays. Audited. Withdrawing a
    withdrawn copy is refused (409)."""
    if copy.award is None:
        raise WrongState(_("What an endorsement was judged on is part of the public record and is not withdrawn."))
    organisation = copy.award.organisation
    if not can_issue_for(actor, organisation):
        if is_member_of(actor, organisation):
            raise NotPermitted(_("Only the organisation's owners and issuers may withdraw evidence."))
        raise NotFound(_("No such archived evidence."))
    if reason not in (Reason.LEARNER, Reason.ORGANISATION):
        raise InvalidInput(_("The evidence was not withdrawn."),
                           field_errors={"reason": [_("Choose the learner's request or the organisation's decision.")]})
    with transaction.atomic():
        copy = ArchivedEvidence.objects.select_for_update(of=("self",)).select_related("award", "blob").get(pk=copy.pk)
        if copy.withdrawn_at is not None:
            raise WrongState(_("This evidence was already withdrawn on %(date)s.")
                             % {"date": f"{copy.withdrawn_at:%Y-%m-%d}"})
        copy.withdrawn_at = timezone.now()
        copy.withdrawn_by = actor if getattr(actor, "pk", None) else None
        copy.withdrawal_reason = reason
        copy.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit_record(actor=actor, action=AuditAction.EVIDENCE_WITHDRAWN, subject=copy.award,
                     comment=str(Reason(reason).label),
                     data={"credential": (copy.award.credential or {}).get("id", ""), "digestSRI": copy.digest_sri,
                           "reason": reason})
        _remove_unreferenced([copy.blob_id])
    return copy


def evidence_retention_due(now: datetime | None = None) -> Q:
    """Live copies of awards that ended (expired or revoked) more than EVIDENCE_RETENTION_DAYS ago."""
    limit = (now or timezone.now()) - timedelta(days=int(settings.EVIDENCE_RETENTION_DAYS))
    return Q(withdrawn_at__isnull=True, award__isnull=False) & (
        Q(award__valid_until__lt=limit) | Q(award__revoked_at__lt=limit))


def evidence_retention_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """The beat task's work: withdraw (reason "retention", by the system) the copies past their
    retention, at most `limit` per run, and delete their bytes as withdrawal does. Safe to repeat:
    a withdrawn copy is not due again. Returns how many copies were withdrawn."""
    now = now or timezone.now()
    due = list(ArchivedEvidence.objects.filter(evidence_retention_due(now)).order_by("pk")
               .values_list("pk", flat=True)[:limit])
    done = 0
    for pk in due:
        with transaction.atomic():
            copy = ArchivedEvidence.objects.select_for_update(of=("self",)).select_related("award").filter(
                pk=pk, withdrawn_at__isnull=True).first()
            if copy is None:
                continue
            copy.withdrawn_at = now
            copy.withdrawal_reason = Reason.RETENTION
            copy.save(update_fields=["withdrawn_at", "withdrawal_reason"])
            audit_record(actor=None, action=AuditAction.EVIDENCE_WITHDRAWN, subject=copy.award,
                         comment=str(Reason.RETENTION.label),
                         data={"credential": (copy.award.credential or {}).get("id", ""),
                               "digestSRI": copy.digest_sri, "reason": Reason.RETENTION.value})
            _remove_unreferenced([copy.blob_id])
            done += 1
    return done


# --- checking a copy against its signed digest (the verifier) ------------------------------------
_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$")
_SRI_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}


class CopyOutcome:
    INTACT = "intact"
    ALTERED = "altered"
    WITHDRAWN = "withdrawn"
    UNAVAILABLE = "unavailable"
    NO_DIGEST = "no-digest"


@dataclass(frozen=True)
class CopyCheck:
    outcome: str
    detail: str = ""
    taken_at: datetime | None = None
    withdrawn_at: datetime | None = None


def parse_sri(value: Any) -> tuple[str, bytes] | None:
    """(algorithm, digest) of one SRI value ("sha384-<base64>"); None when it is not one we check."""
    if not isinstance(value, str):
        return None
    for part in value.split():  # SRI allows several; the strongest we know is used
        match = _SRI.match(part)
        if match:
            try:
                digest = base64.b64decode(match.group(2), validate=True)
            except ValueError:
                continue
            if len(digest) == _SRI_LENGTHS[match.group(1)]:
                return match.group(1), digest
    return None


# The shape of the tokens `new_token` makes (256 bits, base64url without padding).
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
_STAND_IN_TOKEN = "T" * 43


@lru_cache(maxsize=8)
def _copy_path_prefix(urlconf: str) -> str | None:
    """The path before the token in an archived copy's address ("/evidence/"), when a token of
    `new_token`'s shape resolves there to the copy's view with that very token; else None."""
    path = reverse("evidence-copy", args=[_STAND_IN_TOKEN], urlconf=urlconf)
    match = resolve_path(path)
    if not path.endswith(_STAND_IN_TOKEN) or match is None or match.url_name != "evidence-copy" \
            or match.kwargs.get("token") != _STAND_IN_TOKEN:
        return None
    return path[:-len(_STAND_IN_TOKEN)]


def copy_token(url: Any) -> str | None:
    """The token of one of this server's archived copies a URL names (its /evidence/<token>
    address), or None.

    Every badge names copies of its own, so their paths are new to the route memo
    (badges.routes) at each first verification, and walking the URL patterns for one cost 60 µs.
    A path that is the copies' prefix and a token of the shape this server makes is answered
    from the resolution of a stand-in token of that shape (the patterns match by the path's
    characters' classes, and tests/badges/test_archive_verify.py checks the two ways agree);
    any other path is resolved."""
    if not isinstance(url, str):
        return None
    prefix = settings.SITE_URL + "/"
    if not url.startswith(prefix):
        return None
    path = "/" + url[len(prefix):].split("?", 1)[0].split("#", 1)[0]
    copies = _copy_path_prefix(get_urlconf() or settings.ROOT_URLCONF)
    if copies is not None and path.startswith(copies) and _TOKEN_SHAPE.fullmatch(path, len(copies)):
        return path[len(copies):]
    match = resolve_path(path)
    if match is None or match.url_name != "evidence-copy":
        return None
    return match.kwargs.get("token")


def archived_copy_check(url: Any, sri: Any, *, cached: bool = False,
                        copy_of: Callable[[str], ArchivedEvidence | None] | None = None) -> CopyCheck:
    """Fetch the copy a credential names (ours read from the archive, anyone else's over the
    network under the verifier's fetch rules) and compare it with the signed digest. Never raises.
    `cached` (the verifier's default, and the badge page): one of ours signed with its own digest
    is checked by `copy_check_cached` (the stored size at every check, the bytes hashed again when
    it differs or the last hash is EVIDENCE_COPY_CHECK_SECONDS old) instead of being hashed at
    every check. `copy_of(token)`: the copy with that token and its blob, when the caller read it
    already (badges.verification_data); otherwise it is read here."""
    from badges.fetch import FetchError, fetch

    parsed = parse_sri(sri)
    if not isinstance(url, str) or parsed is None:
        return CopyCheck(CopyOutcome.NO_DIGEST)
    algorithm, expected = parsed
    token = copy_token(url)
    taken_at = None
    if token is not None:
        copy = (copy_of(token) if copy_of is not None
                else ArchivedEvidence.objects.select_related("blob").filter(token=token).first())
        if copy is None:
            return CopyCheck(CopyOutcome.UNAVAILABLE, _("This registry holds no archived copy at this address."))
        if copy.withdrawn_at is not None:
            return CopyCheck(CopyOutcome.WITHDRAWN, str(copy.get_withdrawal_reason_display()),
                             taken_at=copy.taken_at, withdrawn_at=copy.withdrawn_at)
        if cached and sri == copy.digest_sri:
            return copy_check_cached(copy)
        data = copy_read(copy)
        if data is None:
            return CopyCheck(CopyOutcome.UNAVAILABLE, _("Its bytes are missing from the archive."),
                             taken_at=copy.taken_at)
        taken_at = copy.taken_at
    else:
        loopback = bool(settings.VERIFY_ALLOW_LOOPBACK)
        try:
            data = fetch(url, timeout=float(settings.VERIFY_FETCH_TIMEOUT),
                         max_bytes=int(settings.EVIDENCE_MAX_BYTES), allow_loopback=loopback,
                         https_only=not loopback, max_redirects=3).body
        except FetchError as error:
            if error.status == 410:
                return CopyCheck(CopyOutcome.WITHDRAWN, error.message)
            return CopyCheck(CopyOutcome.UNAVAILABLE, error.message)
    if hashlib.new(algorithm, data).digest() == expected:
        return CopyCheck(CopyOutcome.INTACT, taken_at=taken_at)
    return CopyCheck(CopyOutcome.ALTERED, taken_at=taken_at)


# --- what the badge page shows ---------------------------------------------------------------------
@dataclass(frozen=True)
class EvidenceItem:
    """One archived copy of an award's evidence as its badge page shows it."""

    copy: ArchivedEvidence
    url: str
    check: CopyCheck

    @property
    def name(self) -> str:
        return self.copy.filename or self.copy.original_url


def evidence_items(award: Award) -> list[EvidenceItem]:
    """Each archived copy of the award with its check (`copy_check_cached`: the stored size at each
    view, the digest at most once per EVIDENCE_COPY_CHECK_SECONDS)."""
    items = []
    now = timezone.now()
    for copy in copies_of_award(award):
        items.append(EvidenceItem(copy, copy_url(copy.token), copy_check_cached(copy, now=now)))
    return items


# --- the badge page's check, cached ------------------------------------------------------------------
def _stored_size(blob: EvidenceBlob) -> int | None:
    try:
        return int(evidence_storage().size(blob.storage_name))
    except (FileNotFoundError, OSError, ValueError):
        return None
    except Exception:  # a remote store's own error (botocore's ClientError for a missing key)
        return None


def blob_verify(blob: EvidenceBlob, *, now: datetime | None = None) -> bool | None:
    """Hash a blob's stored bytes against its name (their SHA-384) and record when, at what size and
    with what outcome (`verified_*`). True intact, False altered, None when the bytes are missing."""
    now = now or timezone.now()
    storage = evidence_storage()
    try:
        with storage.open(blob.storage_name, "rb") as handle:
            digest, size = hashlib.sha384(), 0
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
                size += len(chunk)
    except (FileNotFoundError, OSError):
        intact, size = None, None
    else:
        intact = digest.hexdigest() == blob.sha384
    EvidenceBlob.objects.filter(pk=blob.pk).update(verified_at=now, verified_size=size, verified_intact=intact)
    blob.verified_at, blob.verified_size, blob.verified_intact = now, size, intact
    return intact


def copy_check_cached(copy: ArchivedEvidence, *, now: datetime | None = None) -> CopyCheck:
    """What the badge page says of an archived copy, without re-hashing it at every view. The rules
    (docs/evidence.md): a withdrawn copy is withdrawn; the stored size is read at every view (a stat,
    or a HEAD request on S3), and a size other than the one last hashed, or no hash within
    EVIDENCE_COPY_CHECK_SECONDS, hashes the bytes again now; otherwise the last hash's outcome stands.
    So a copy altered to another size shows "altered" at the next view, and one altered to the same
    size within EVIDENCE_COPY_CHECK_SECONDS of the last hash (at a view, a verification or by the
    daily beat task). The verifier (/verify, POST /api/v1/verify) follows the same rules for a copy
    presented with its own digest; one presented with any other digest is hashed at once."""
    now = now or timezone.now()
    if copy.withdrawn_at is not None:
        return CopyCheck(CopyOutcome.WITHDRAWN, str(copy.get_withdrawal_reason_display()),
                         taken_at=copy.taken_at, withdrawn_at=copy.withdrawn_at)
    blob = copy.blob
    if blob.removed_at is not None:
        return CopyCheck(CopyOutcome.UNAVAILABLE, _("Its bytes are missing from the archive."), taken_at=copy.taken_at)
    size = _stored_size(blob)
    if size is None:
        return CopyCheck(CopyOutcome.UNAVAILABLE, _("Its bytes are missing from the archive."), taken_at=copy.taken_at)
    interval = timedelta(seconds=int(settings.EVIDENCE_COPY_CHECK_SECONDS))
    fresh = (blob.verified_at is not None and blob.verified_intact is not None and blob.verified_size == size
             and now - blob.verified_at < interval)
    intact = blob.verified_intact if fresh else blob_verify(blob, now=now)
    if intact is None:
        return CopyCheck(CopyOutcome.UNAVAILABLE, _("Its bytes are missing from the archive."), taken_at=copy.taken_at)
    if intact and copy.digest_sri == sri_of_hex(blob.sha384):
        return CopyCheck(CopyOutcome.INTACT, taken_at=copy.taken_at)
    return CopyCheck(CopyOutcome.ALTERED, taken_at=copy.taken_at)


def blobs_verify_due(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Beat (daily, with the retention sweep): re-hash the stored blobs whose last hash is older than
    EVIDENCE_COPY_CHECK_SECONDS (never hashed first), at most `limit`. Returns how many were hashed."""
    now = now or timezone.now()
    due = (EvidenceBlob.objects.filter(removed_at__isnull=True)
           .filter(Q(verified_at__isnull=True)
                   | Q(verified_at__lt=now - timedelta(seconds=int(settings.EVIDENCE_COPY_CHECK_SECONDS))))
           .order_by(F("verified_at").asc(nulls_first=True), "pk")[:limit])
    count = 0
    for blob in due:
        blob_verify(blob, now=now)
        count += 1
    return count
