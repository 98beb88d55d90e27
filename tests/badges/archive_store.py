"""The evidence archive in a test's own folder, and what is in it (shared by the archive tests)."""

from __future__ import annotations

from pathlib import Path

from badges.models import EvidenceBlob


def archive_in(settings, root: Path) -> Path:
    """Point the "evidence" storage at `root` (a test's tmp_path) and return it."""
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    return root


def stored_files(root: Path) -> list[Path]:
    """The files of the archive but those of the endorsements' documents (snapshot, criteria table)."""
    documents = set(EvidenceBlob.objects.filter(copies__endorsement__isnull=False).values_list("sha384", flat=True))
    return [p for p in root.rglob("*") if p.is_file() and p.name not in documents] if root.exists() else []


def award_blobs() -> int:
    """Blobs but those of the endorsements' documents (orphans included)."""
    return EvidenceBlob.objects.exclude(copies__endorsement__isnull=False).count()
