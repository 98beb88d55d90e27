"""Resolving this server's own URL paths, remembered: the verifier resolves the same few paths (a
status list's, the body's endorsement's, an archived copy's) in verification after verification,
and walking the URL patterns again each time cost more than any of its checks.

`resolve_path(path)` is `django.urls.resolve(path)`, or None where that raises Resolver404,
remembered per URLconf and path (at most 4,096 paths of at most 2,000 characters, the least
recently used dropped first; a longer path is resolved every time). The URL
patterns do not change while a process runs; a test that swaps the URLconf gets its own entries.
The ResolverMatch is shared between callers: read it, never change it.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.urls import Resolver404, ResolverMatch, get_urlconf, resolve

MAX_PATH = 2000


@lru_cache(maxsize=4096)
def _resolved(urlconf: str, path: str) -> ResolverMatch | None:
    try:
        return resolve(path, urlconf)
    except Resolver404:
        return None


def resolve_path(path: str) -> ResolverMatch | None:
    """The view this server's URL `path` names, or None."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    if len(path) > MAX_PATH:
        return _resolved.__wrapped__(urlconf, path)
    return _resolved(urlconf, path)
