"""The options of the evidence archive's storage (STORAGES["evidence"]) read from the environment.

The filesystem (Django's FileSystemStorage) by default; any S3-compatible store (AWS S3, MinIO,
Ceph, Cloudflare R2, Sakura Cloud object storage) with EVIDENCE_STORAGE_BACKEND=
storages.backends.s3.S3Storage (django-storages) and the EVIDENCE_S3_* variables below. The bucket
stays private: copies are only ever served through the application's own view (badges.evidence_views,
which applies withdrawal and the headers), so no object is given a public ACL and no pre-signed
(querystring) URL is ever made. docs/evidence.md lists the variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_str

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"
_S3_ALIASES = {S3, "storages.backends.s3boto3.S3Boto3Storage", "storages.backends.s3.S3Boto3Storage"}
_PUBLIC_ACLS = {"public-read", "public-read-write", "authenticated-read"}
ADDRESSING_STYLES = ("auto", "virtual", "path")


def evidence_storage_options(backend: str, *, root: Path) -> dict[str, Any]:
    """The OPTIONS of STORAGES["evidence"] for `backend`. A setting that cannot work (no bucket, a
    public ACL, an unknown addressing style) stops start-up naming the variable."""
    if backend == FILESYSTEM:
        return {"location": str(root), "base_url": None}
    if backend not in _S3_ALIASES:
        return {}  # another backend reads its own settings
    bucket = env_str("EVIDENCE_S3_BUCKET", "")
    if not bucket:
        raise ImproperlyConfigured("EVIDENCE_S3_BUCKET must name the bucket when EVIDENCE_STORAGE_BACKEND is S3.")
    style = env_str("EVIDENCE_S3_ADDRESSING_STYLE", "auto").strip().lower()
    if style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(f"EVIDENCE_S3_ADDRESSING_STYLE={style!r} is not one of "
                                   f"{', '.join(ADDRESSING_STYLES)}.")
    acl = env_str("EVIDENCE_S3_DEFAULT_ACL", "").strip() or None
    if acl in _PUBLIC_ACLS:
        raise ImproperlyConfigured(f"EVIDENCE_S3_DEFAULT_ACL={acl!r}: archived evidence may hold personal data and is "
                                   "served only through the application; leave it unset or use \"private\".")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": env_str("EVIDENCE_S3_ENDPOINT_URL", "") or None,  # None: AWS itself
        "region_name": env_str("EVIDENCE_S3_REGION", "") or None,
        # Unset: boto3's own chain (an instance role, AWS_* variables, ~/.aws).
        "access_key": env_str("EVIDENCE_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env_str("EVIDENCE_S3_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": None if style == "auto" else style,
        "location": env_str("EVIDENCE_S3_PREFIX", "").strip("/"),
        "default_acl": acl,  # None: no ACL header at all, the bucket's own (private) policy applies
        "querystring_auth": False,  # never a pre-signed URL: the application serves every copy itself
        # Content-addressed names: the same name is the same bytes, so overwriting is harmless and
        # saves the HEAD request django-storages would make to find a free name.
        "file_overwrite": True,
        "signature_version": "s3v4",
        "use_ssl": env_bool("EVIDENCE_S3_USE_SSL", True),
        "verify": env_bool("EVIDENCE_S3_VERIFY_TLS", True),
    }
    return options
