"""Evidence files of a batch: inside a zip uploaded with the batch, or uploaded beforehand.

* **A zip** uploaded as the batch's file holds the sheet (one .csv, .tsv or .json file at its top
  level) and the evidence files; the sheet's `evidence_files` column (エビデンスファイル) names each
  row's files by their path in the zip (`portfolio/report.pdf`), several separated by `|`.
* **Uploaded beforehand** (`POST /api/v1/programmes/{public_id}/evidence-files`): each file is
  checked and stored content-addressed at once, and the answer gives its `handle`, its digest in
  SRI form (`sha384-…`), which the sheet names instead of a path. Only the organisation that
  uploaded a file can name it.

Every file is checked as an award's upload is (badges.archive: by content, EVIDENCE_UPLOAD_MAX_BYTES
each, EVIDENCE_AWARD_MAX_FILES and EVIDENCE_AWARD_MAX_BYTES per row). The zip is never extracted to
disk: its entry names are only looked up (a name that climbs out (`../`), is absolute, or names a
device is refused, so nothing can be written anywhere), and an entry is read through a bounded
decompressor, at most one byte past the per-file limit whatever its header claims (a zip bomb stops
there), with EVIDENCE_BATCH_ZIP_MAX_ENTRIES entries and EVIDENCE_BATCH_FILES_MAX_BYTES decompressed
in all. Encrypted entries and symbolic links are refused. A problem in any row refuses the batch
whole, before anything is stored; a good batch's files are stored once per content when it is
accepted, and its rows keep their digests, so the chunks sign them without reading them again.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from badges.archive import _clean_name, blob_store, evidence_files_clean, parse_sri, sniff, sri_of_hex
from badges.awards import check_can_issue
from badges.models import EvidenceBlob, EvidenceUpload, Programme
from config.errors import InvalidInput
from endorsement.audit import AuditAction, audit_record
from institutions.models import Organisation
from institutions.permissions import UserLike

SEPARATOR = "|"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
SHEET_SUFFIXES = (".csv", ".tsv", ".json")


def is_zip(content: bytes) -> bool:
    return content[:4] in ZIP_MAGIC


@dataclass(frozen=True)
class BatchFile:
    """One evidence file a batch row names, checked: what its credential will carry."""

    name: str
    sha384: str
    size: int
    media_type: str

    def as_row(self) -> dict[str, Any]:
        return {"name": self.name, "sha384": self.sha384, "size": self.size, "media_type": self.media_type}


def zip_path(name: str) -> str | None:
    """An entry name as the sheet names it (NFC, forward slashes, no leading "./"), or None when it
    is unsafe: absolute, a drive, climbing out with "..", or empty."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/")).strip()
    while name.startswith("./"):
        name = name[2:]
    if not name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = name.split("/")
    if any(part == ".." for part in parts) or any(ord(c) < 32 for c in name):
        return None
    return posixpath.normpath(name)


class BatchZip:
    """The entries of a batch's zip by path, read with bounded decompression. Raises InvalidInput
    (under `file`) for a zip that cannot be read or lists too many entries."""

    def __init__(self, content: bytes) -> None:
        limit = int(settings.EVIDENCE_BATCH_ZIP_MAX_BYTES)
        if len(content) > limit:
            raise _file_error(_("The zip file is larger than the %(limit)s bytes allowed.") % {"limit": f"{limit:,}"})
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
            raise _file_error(_("The zip file cannot be read.")) from None
        most = int(settings.EVIDENCE_BATCH_ZIP_MAX_ENTRIES)
        if len(infos) > most:
            raise _file_error(_("The zip file lists more than %(n)s entries.") % {"n": f"{most:,}"})
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.unsafe: set[str] = set()
        for info in infos:
            if info.is_dir():
                continue
            path = zip_path(info.filename)
            if path is None:
                self.unsafe.add(info.filename)
                continue
            self.entries.setdefault(path, info)
        self.read_bytes = 0

    def sheet(self, limit: int) -> tuple[str, bytes]:
        """The one CSV, TSV or JSON file at the zip's top level, and its bytes (at most `limit`, the
        batch file limit)."""
        sheets = [p for p in self.entries if "/" not in p and p.lower().endswith(SHEET_SUFFIXES)]
        if len(sheets) != 1:
            raise _file_error(_("A batch's zip holds one CSV (or JSON) file at its top level, beside the evidence "
                                "files; this one holds %(n)d.") % {"n": len(sheets)})
        data, problem = self._read(sheets[0], limit)
        if problem:
            raise _file_error(problem)
        return sheets[0], data

    def _read(self, path: str, limit: int) -> tuple[bytes, str]:
        info = self.entries[path]
        if info.flag_bits & 0x1:
            return b"", _("“%(path)s” is encrypted.") % {"path": path}
        if stat.S_ISLNK(info.external_attr >> 16):
            return b"", _("“%(path)s” is a symbolic link, not a file.") % {"path": path}
        if info.file_size > limit:
            return b"", _("“%(path)s” is larger than the %(limit)s bytes allowed for one file.") % {
                "path": path, "limit": f"{limit:,}"}
        try:
            with self.archive.open(info) as handle:
                data = handle.read(limit + 1)  # the decompressor stops here, whatever the header says
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as error:
            return b"", _("“%(path)s” cannot be read from the zip (%(error)s).") % {"path": path, "error": error}
        if len(data) > limit:
            return b"", _("“%(path)s” is larger than the %(limit)s bytes allowed for one file.") % {
                "path": path, "limit": f"{limit:,}"}
        return data, ""

    def file(self, path: str) -> tuple[bytes, str]:
        """An evidence file's bytes, or b"" and why not."""
        if path not in self.entries:
            return b"", _("“%(path)s” is not in the zip.") % {"path": path}
        total = int(settings.EVIDENCE_BATCH_FILES_MAX_BYTES)
        data, problem = self._read(path, int(settings.EVIDENCE_UPLOAD_MAX_BYTES))
        if problem:
            return b"", problem
        self.read_bytes += len(data)
        if self.read_bytes > total:
            return b"", _("The files of the zip come to more than the %(limit)s bytes a batch may hold.") % {
                "limit": f"{total:,}"}
        return data, ""


def _file_error(message: str) -> InvalidInput:
    return InvalidInput(message, field_errors={"file": [message]}, details={"row_errors": []})


def references(value: Any) -> list[str] | None:
    """The file references of one row's cell (`a.pdf|b.png`) or JSON value (a string or a list of
    strings); None when the value is neither."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(SEPARATOR) if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return None


class FileResolver:
    """Resolves the references of a batch's rows: a digest to a file the organisation uploaded
    beforehand, a path to an entry of the batch's zip (read and checked once however many rows
    name it). Stores nothing: `store` does, once the whole batch is good."""

    def __init__(self, organisation: Organisation, archive: BatchZip | None) -> None:
        self.organisation = organisation
        self.archive = archive
        self.from_zip: dict[str, tuple[BatchFile | None, str]] = {}
        self.pending: dict[str, str] = {}  # sha384 -> zip path of a file to store
        self.by_row: list[list[BatchFile]] = []  # filled by rows_validate, one list per row

    def resolve(self, value: Any) -> tuple[list[BatchFile], list[str]]:
        refs = references(value)
        if refs is None:
            return [], [_("Give the file names as text, separated by “|”.")]
        if not refs:
            return [], []
        most = int(settings.EVIDENCE_AWARD_MAX_FILES)
        if len(refs) > most:
            return [], [_("At most %(count)d evidence files per badge.") % {"count": most}]
        files, problems = [], []
        for ref in refs:
            file, problem = self._one(ref)
            if problem:
                problems.append(problem)
            elif file is not None:
                files.append(file)
        per_award = int(settings.EVIDENCE_AWARD_MAX_BYTES)
        total = sum(f.size for f in files)
        if not problems and total > per_award:
            problems.append(_("The evidence files of one badge may be %(limit)s bytes in all; these are %(total)s.")
                            % {"limit": f"{per_award:,}", "total": f"{total:,}"})
        return ([], problems) if problems else (files, [])

    def _one(self, ref: str) -> tuple[BatchFile | None, str]:
        parsed = parse_sri(ref) if ref.startswith("sha") else None
        if parsed is not None:
            return self._uploaded(ref, parsed)
        if self.archive is None:
            return None, _("“%(ref)s” is neither the handle of a file uploaded beforehand (sha384-…) nor, without "
                           "a zip, a file of this batch: upload the sheet and its files in one zip.") % {"ref": ref}
        path = zip_path(ref)
        if path is None:
            return None, _("“%(ref)s” is not a path inside the zip (no “..”, no leading “/”).") % {"ref": ref}
        if path not in self.from_zip:
            self.from_zip[path] = self._zipped(path)
        return self.from_zip[path]

    def _uploaded(self, ref: str, parsed: tuple[str, bytes]) -> tuple[BatchFile | None, str]:
        algorithm, digest = parsed
        if algorithm != "sha384":
            return None, _("“%(ref)s”: the handle of an uploaded file is its sha384- digest.") % {"ref": ref}
        upload = (EvidenceUpload.objects.select_related("blob")
                  .filter(organisation=self.organisation, blob__sha384=digest.hex()).first())
        if upload is None:
            return None, _("No file with the handle “%(ref)s” was uploaded by your organisation.") % {"ref": ref}
        if upload.blob.removed_at is not None:
            return None, _("The file “%(name)s” (%(ref)s) was removed since it was uploaded: upload it again.") % {
                "name": upload.filename, "ref": ref}
        blob = upload.blob
        return BatchFile(upload.filename, blob.sha384, blob.size, blob.media_type), ""

    def _zipped(self, path: str) -> tuple[BatchFile | None, str]:
        data, problem = self.archive.file(path)
        if problem:
            return None, problem
        if not data:
            return None, _("“%(name)s” is empty.") % {"name": path}
        media_type = sniff(data)
        if media_type is None:
            return None, _("“%(name)s” is not a PDF, an image (PNG, JPEG, GIF, WebP), plain text (UTF-8) or a zip "
                           "file, judged by its content.") % {"name": path}
        sha = hashlib.sha384(data).hexdigest()
        self.pending.setdefault(sha, path)
        return BatchFile(_clean_name(path), sha, len(data), media_type), ""

    def store(self, actor: UserLike | None = None) -> None:
        """Inside the transaction accepting the batch: store each file of the zip the rows name, once
        per content (read again, bounded, and its digest checked again), recorded as uploaded for a
        batch, so that its bytes stay until the chunks have named them (a withdrawal elsewhere of
        the same content does not remove them meanwhile; see `_remove_unreferenced`)."""
        for sha, path in self.pending.items():
            data, problem = self.archive._read(path, int(settings.EVIDENCE_UPLOAD_MAX_BYTES))
            if problem or hashlib.sha384(data).hexdigest() != sha:
                raise _file_error(_("“%(path)s” changed while the batch was read.") % {"path": path})
            blob = blob_store(data, sniff(data) or "application/octet-stream")
            EvidenceUpload.objects.get_or_create(
                organisation=self.organisation, blob=blob,
                defaults={"filename": _clean_name(path), "uploaded_by": actor if getattr(actor, "pk", None) else None})


# --- uploaded beforehand ---------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadedFile:
    """A file stored for a later batch: the handle its sheet names it by."""

    upload: EvidenceUpload

    def as_json(self) -> dict[str, Any]:
        blob = self.upload.blob
        return {"handle": sri_of_hex(blob.sha384), "digestSRI": sri_of_hex(blob.sha384),
                "filename": self.upload.filename, "size": blob.size, "mediaType": blob.media_type}


def evidence_upload_store(*, actor: UserLike, organisation: Organisation, uploads: list[Any],
                          programme: Programme | None = None) -> list[UploadedFile]:
    """Store evidence files for a later batch (owners and issuers of the organisation). Each is
    checked as an award's upload is, by content and size; any one in error refuses them all (400
    under `evidence_file`, nothing stored). The same content uploaded again answers the same handle.
    Each file stored is audited (`evidence.uploaded`: its handle, name, size, type, the programme it
    was sent for, and whether the organisation had sent the same content before)."""
    check_can_issue(actor, organisation)
    if not uploads:
        raise InvalidInput(_("Send one or more evidence_file parts."),
                           field_errors={"evidence_file": [_("This field is required.")]})
    files, errors = [], []
    for upload in uploads:
        checked, problem = evidence_files_clean([upload])
        errors += problem.get("evidence_file", [])
        files += checked
    if errors:
        raise InvalidInput(_("No file was stored: correct the files in error."), field_errors={"evidence_file": errors})
    stored = []
    with transaction.atomic():
        for file in files:
            blob = blob_store(file.data, file.media_type)
            upload, created = EvidenceUpload.objects.get_or_create(
                organisation=organisation, blob=blob,
                defaults={"filename": file.name, "uploaded_by": actor if getattr(actor, "pk", None) else None})
            audit_record(actor=actor, action=AuditAction.EVIDENCE_UPLOADED, subject=upload, data={
                "organisation": organisation.slug, "handle": sri_of_hex(blob.sha384), "filename": file.name,
                "size": blob.size, "media_type": blob.media_type, "already_stored": not created,
                "programme": str(programme.public_id) if programme is not None else None})
            stored.append(UploadedFile(upload))
    return stored


def evidence_uploads_sweep(*, now: Any = None) -> int:
    """Beat (with the retention sweep): forget files uploaded for a batch more than
    EVIDENCE_UPLOAD_KEEP_DAYS ago, and delete the bytes no badge holds. Returns how many were
    forgotten."""
    from datetime import timedelta

    from django.utils import timezone

    from badges.archive import _remove_unreferenced

    limit = (now or timezone.now()) - timedelta(days=int(settings.EVIDENCE_UPLOAD_KEEP_DAYS))
    old = list(EvidenceUpload.objects.filter(created_at__lt=limit).values_list("pk", "blob_id")[:1000])
    if not old:
        return 0
    with transaction.atomic():
        EvidenceUpload.objects.filter(pk__in=[pk for pk, _blob in old]).delete()
        _remove_unreferenced({blob for _pk, blob in old})
    return len(old)


__all__ = ["BatchFile", "BatchZip", "EvidenceBlob", "FileResolver", "UploadedFile", "evidence_upload_store",
           "evidence_uploads_sweep", "is_zip", "references", "zip_path"]
