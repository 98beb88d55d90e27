"""A pyld document loader that serves only the bundled JSON-LD contexts and never the network.

The bundled files are read and parsed once per process. Each loader also owns a cache of resolved
contexts (pyld's `ContextResolver`), so that a context is processed once per loader and not once
per document: pass `loader.options()` (or use the helpers in `canon`) to get that benefit.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from cachetools import LRUCache
from pyld.context_resolver import ContextResolver

from .errors import UnknownContextError

CONTEXTS_PACKAGE = "badges.credentials.contexts"

#: Context URLs the library writes into the documents it builds.
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_V3P0_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_V3P0_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1_CONTEXT = "https://w3id.org/security/multikey/v1"


@cache
def bundled_index() -> dict[str, str]:
    """The URL → file name map of the bundled contexts (`contexts/index.json`)."""
    text = resources.files(CONTEXTS_PACKAGE).joinpath("index.json").read_text(encoding="utf-8")
    index: dict[str, str] = json.loads(text)
    return index


@cache
def _bundled_documents() -> dict[str, dict[str, Any]]:
    base = resources.files(CONTEXTS_PACKAGE)
    return {
        url: json.loads(base.joinpath(name).read_text(encoding="utf-8"))
        for url, name in bundled_index().items()
    }


def bundled_context(url: str) -> dict[str, Any]:
    """A deep copy of the bundled context document for `url`; `UnknownContextError` if none."""
    try:
        return copy.deepcopy(_bundled_documents()[url])
    except KeyError:
        raise UnknownContextError(url) from None


class StaticDocumentLoader:
    """A pyld document loader (`loader(url, options)`) over a fixed set of parsed documents.

    Serves the bundled contexts plus any `extra` documents given (URL → parsed JSON). Any other
    URL raises `UnknownContextError` (pyld wraps it in its own `JsonLdError`; the `canon`
    helpers unwrap it again). Never performs I/O after construction.
    """

    def __init__(self, extra: Mapping[str, dict[str, Any]] | None = None) -> None:
        documents = dict(_bundled_documents())
        for url, document in (extra or {}).items():
            if not isinstance(document, dict):
                raise TypeError(f"extra document for {url!r} must be a parsed JSON object")
            documents[url] = copy.deepcopy(document)
        self._documents = documents
        # Resolved contexts cached per loader (never in pyld's process-wide cache, whose entries
        # would outlive a loader with `extra` documents and leak into other loaders).
        self._resolved_cache: LRUCache = LRUCache(maxsize=256)
        # Caches of the fast canonicalization path (badges.credentials.fastcanon), per loader
        # because what they hold depends on the documents this loader serves.
        self.fast_caches: dict[str, Any] = {}
        self.fast_caches_lock = threading.Lock()

    @property
    def urls(self) -> frozenset[str]:
        """Every URL this loader serves."""
        return frozenset(self._documents)

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            document = self._documents[url]
        except KeyError:
            raise UnknownContextError(url) from None
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            # pyld may rewrite context URLs in place: hand out a copy, keep the original intact.
            "document": copy.deepcopy(document),
            # The tag lets pyld keep the resolved context in this loader's resolver cache.
            "tag": "static",
        }

    def context_resolver(self) -> ContextResolver:
        """A pyld `ContextResolver` sharing this loader's resolved-context cache."""
        return ContextResolver(self._resolved_cache, self)

    def options(self, **extra: Any) -> dict[str, Any]:
        """pyld options for this loader: `documentLoader`, `contextResolver`, `base: None`."""
        opts: dict[str, Any] = {
            "documentLoader": self,
            "contextResolver": self.context_resolver(),
            "base": None,
        }
        opts.update(extra)
        return opts


_default_loader: StaticDocumentLoader | None = None


def make_loader(extra: Mapping[str, dict[str, Any]] | None = None) -> StaticDocumentLoader:
    """A loader serving the bundled contexts, plus `extra` documents (URL → parsed JSON) if given.

    Without `extra`, the process-wide default loader is returned (so its caches are shared).
    """
    global _default_loader
    if extra:
        return StaticDocumentLoader(extra)
    if _default_loader is None:
        _default_loader = StaticDocumentLoader()
    return _default_loader


def default_loader() -> StaticDocumentLoader:
    """The process-wide loader of the bundled contexts."""
    return make_loader()
