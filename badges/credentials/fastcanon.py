"""The fast canonicalization path: the same canonical N-Quads as `jsonld.normalize`, sooner.

What is signed never changes: `fast_canonicalize(doc)` returns byte for byte what
`jsonld.normalize(doc, {'algorithm': 'URDNA2015', 'format': 'application/n-quads', 'base': None})`
returns (proved by the differential tests over hundreds of generated credentials). It is faster
because:

1. **Context processing is memoized.** pyld re-processes every type-scoped context (Achievement,
   Profile, EndorsementCredential, DataIntegrityProof…) at every node, because each
   non-propagating context is a fresh clone with a fresh id that misses pyld's own cache. Context
   processing is a pure function of (active context, local context, options), and pyld freezes
   processed contexts, so the result is memoized per loader, keyed by the identity of the active
   context (kept alive by the memo so its id cannot be reused) and the local context (the URLs, or
   the identity of a context object owned by a resolved context).
2. **Expansion happens once** (with the safe-mode hook). pyld's own node map (which merges nodes
   sharing an @id) runs on it; its RDF conversion is mirrored to emit N-Quads term tuples
   directly (documents holding an @list are left to pyld's conversion).
3. **RDFC-1.0 on tuples.** When every blank node has a unique first-degree hash (the usual case
   for credentials, whose blank nodes hang off distinct paths), canonical labels follow directly
   from the sorted hashes. When two blank nodes share a first-degree hash, pyld's full URDNA2015
   (with its N-degree hashing) runs instead.
4. **Proof configurations are templated.** A proof configuration with at most one blank node is
   canonicalized once per (context, options other than `created`); only the `created` literal is
   substituted and the lines re-sorted (a single blank node is always `_:c14n0`).
5. **The embedded Achievement is expanded once per programme** (see section 5 below): every
   credential of a programme carries the same Achievement with the body's signed endorsement,
   about two thirds of the document.
6. **The credential's own part comes from a shape template** (section 6, `shapecanon`): learnt
   once per JSON shape of the own part, its quads are filled with each credential's string values
   where pyld's recorded and replayed treatment of the leaf keeps the value as it is.

Anything unexpected (lists, shared first-degree hashes, unusual shapes) takes a slower path that
is still exact; the differential tests compare every path with plain `jsonld.normalize`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from c14n.Canonicalize import canonicalize as _jcs
from pyld import jsonld
from pyld.identifier_issuer import IdentifierIssuer

from .canon import (
    _ABSOLUTE_IRI,
    _unwrap_pyld_error,
    check_control_characters,
    expand_with,
)
from .canonbound import bounded_urdna2015
from .errors import CredentialError
from .loader import StaticDocumentLoader, default_loader
from .shapecanon import Leaf, Probe, Recorder, ShapeCache, collect_strings

JsonDict = dict[str, Any]

_log = logging.getLogger(__name__)

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


# --- 1. memoized context processing ------------------------------------------------------------


class ContextMemo:
    """A bounded LRU memo of processed JSON-LD contexts, owned by one loader."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Any, ...], tuple[Any, Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...], active_ctx: Any, local_ctx: Any, by_identity: bool) -> Any:
        entry = self._data.get(key)
        if entry is None or entry[0] is not active_ctx or (by_identity and entry[1] is not local_ctx):
            return None
        self.hits += 1
        return entry[2]

    def put(self, key: tuple[Any, ...], active_ctx: Any, local_ctx: Any, result: Any) -> None:
        with self._lock:
            self.misses += 1
            self._data[key] = (active_ctx, local_ctx, result)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def _loader_cache(loader: StaticDocumentLoader, name: str, factory: Any) -> Any:
    cache = loader.fast_caches.get(name)
    if cache is None:
        with loader.fast_caches_lock:
            cache = loader.fast_caches.setdefault(name, factory())
    return cache


def context_memo(loader: StaticDocumentLoader) -> ContextMemo:
    """The context memo of a loader (created on first use)."""
    memo: ContextMemo = _loader_cache(loader, "contexts", ContextMemo)
    return memo


class _MemoProcessor(jsonld.JsonLdProcessor):
    """pyld's processor with `_process_context` memoized (see the module docstring)."""

    def __init__(self, memo: ContextMemo, loader: StaticDocumentLoader, on_property_dropped: Any) -> None:
        super().__init__(on_property_dropped=on_property_dropped)
        self._memo = memo
        self._loader = loader

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: dict[str, Any],
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: set[str] | None = None,
    ) -> Any:
        key = None
        by_identity = False
        if not cycles and options.get("documentLoader") is self._loader:
            if isinstance(local_ctx, str):
                local_key: tuple[Any, ...] = ("url", local_ctx)
            elif isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
                local_key = ("urls", *local_ctx)
            else:
                local_key = ("object", id(local_ctx))
                by_identity = True
            key = (
                id(active_ctx),
                local_key,
                options.get("base"),
                options.get("processingMode"),
                override_protected,
                propagate,
                validate_scoped,
            )
            cached = self._memo.get(key, active_ctx, local_ctx, by_identity)
            if cached is not None:
                return cached
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if key is not None:
            self._memo.put(key, active_ctx, local_ctx, result)
        return result


class _RecordingProcessor(_MemoProcessor):
    """`_MemoProcessor` that tells a `shapecanon.Recorder` how each `Leaf` was expanded."""

    def __init__(
        self, memo: ContextMemo, loader: StaticDocumentLoader, on_property_dropped: Any, recorder: Recorder
    ) -> None:
        super().__init__(memo, loader, on_property_dropped)
        self._recorder = recorder

    def _expand_value(self, active_ctx: Any, active_property: Any, value: Any, options: dict[str, Any]) -> Any:
        if not isinstance(value, Leaf):
            return super()._expand_value(active_ctx, active_property, value, options)
        recorder = self._recorder
        recorder.depth += 1
        try:
            result = super()._expand_value(active_ctx, active_property, value, options)
        finally:
            recorder.depth -= 1
        recorder.value(value, active_ctx, active_property, options.get("base", ""), result)
        return result

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        result = super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        if isinstance(value, Leaf):
            self._recorder.iri(value, active_ctx, base, vocab, local_ctx, result)
        return result


def _recording_expand(loader: StaticDocumentLoader) -> Any:
    memo = context_memo(loader)

    def expand(document: JsonDict, recorder: Recorder, safe: bool) -> list[Any]:
        return expand_with(
            document,
            loader,
            lambda on_dropped: _RecordingProcessor(memo, loader, on_dropped, recorder),
            safe=safe,
            scan_control_characters=False,
        )

    return expand


def fast_expand(
    document: JsonDict,
    loader: StaticDocumentLoader | None = None,
    *,
    safe: bool = True,
    checked: bool = False,
) -> list[Any]:
    """`canon.expand` with memoized context processing: same result, same safety checks.

    `checked=True` skips the control-character scan, for a caller that already scanned the
    whole document.
    """
    loader = loader or default_loader()
    memo = context_memo(loader)
    return expand_with(
        document,
        loader,
        lambda on_dropped: _MemoProcessor(memo, loader, on_dropped),
        safe=safe,
        scan_control_characters=not checked,
    )


# --- 2. expanded form → quads (pyld's node map and RDF conversion) -----------------------------

#: A quad as N-Quads term strings: (subject, predicate, object, graph) with graph "" by default.
Quad = tuple[str, str, str, str]


def _escape(value: str) -> str:
    # Exactly pyld.nquads.escape (interop note 4: other control characters are refused earlier).
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


def _term(component: dict[str, Any]) -> str:
    kind = component["type"]
    if kind == "IRI":
        return "<" + component["value"] + ">"
    if kind == "blank node":
        return component["value"]
    text = '"' + _escape(component["value"]) + '"'
    datatype = component["datatype"]
    if datatype == RDF_LANGSTRING:
        if component.get("language"):
            text += "@" + component["language"]
    elif datatype != XSD_STRING:
        text += "^^<" + datatype + ">"
    return text


_PYLD_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")  # pyld's test, `$` and all


class _ListFound(Exception):
    """An @list value: left to pyld's own RDF conversion."""


def _literal(lexical: str, datatype: str, language: str | None = None) -> str:
    text = '"' + _escape(lexical) + '"'
    if datatype == RDF_LANGSTRING:
        return text + "@" + language if language else text
    if datatype != XSD_STRING:
        return text + "^^<" + datatype + ">"
    return text


def _object_term(item: Any) -> str | None:
    """The N-Quads term of a node-map value, mirroring pyld's `_object_to_rdf` (rdfDirection None)."""
    if jsonld._is_value(item):
        value = item["@value"]
        datatype = item.get("@type")
        if datatype == "@json":
            return _literal(_jcs(value).decode("UTF-8"), jsonld.RDF_JSON_LITERAL)
        if jsonld._is_bool(value):
            return _literal("true" if value else "false", datatype or jsonld.XSD_BOOLEAN)
        if jsonld._is_double(value):
            return _literal(jsonld._canonicalize_double(value), datatype or jsonld.XSD_DOUBLE)
        if datatype == jsonld.XSD_DOUBLE:
            try:
                number = float(value)
            except (ValueError, TypeError):
                return _literal(value, jsonld.XSD_DOUBLE)
            return _literal(jsonld._canonicalize_double(number), jsonld.XSD_DOUBLE)
        if jsonld._is_integer(value) and abs(value) >= 1e21:
            return _literal(jsonld._canonicalize_double(value), datatype or jsonld.XSD_DOUBLE)
        if jsonld._is_integer(value):
            return _literal(str(int(value)), datatype or jsonld.XSD_INTEGER)
        if "@language" in item:
            return _literal(value, datatype or RDF_LANGSTRING, item["@language"])
        return _literal(value, datatype or XSD_STRING)
    if jsonld._is_list(item):
        raise _ListFound
    node_id = item["@id"] if jsonld._is_object(item) else item
    if node_id.startswith("_:"):
        return node_id
    if not _PYLD_ABSOLUTE_IRI.match(node_id):
        return None
    return "<" + node_id + ">"


def _graph_to_quads(graph: dict[str, Any], graph_term: str, out: list[Quad]) -> None:
    """Quads of one node-map graph, mirroring pyld's `_graph_to_rdf` (no generalized RDF)."""
    for node_id, node in sorted(graph.items()):
        if not _PYLD_ABSOLUTE_IRI.match(node_id):
            continue
        subject = node_id if node_id.startswith("_:") else "<" + node_id + ">"
        for prop, items in sorted(node.items()):
            if prop == "@type":
                prop = RDF_TYPE
            elif jsonld._is_keyword(prop):
                continue
            if not _PYLD_ABSOLUTE_IRI.match(prop) or prop.startswith("_:"):
                continue
            predicate = "<" + prop + ">"
            for item in items:
                term = _object_term(item)
                if term is not None:
                    out.append((subject, predicate, term, graph_term))


def expanded_to_quads(expanded: list[Any]) -> list[Quad] | None:
    """Quads of an expanded document as `jsonld.to_rdf` makes them, or None if it holds a list.

    pyld's node map (with its merging of nodes) is used as is; its RDF conversion is mirrored to
    produce N-Quads term tuples directly.
    """
    processor = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    quads: list[Quad] = []
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default":
                _graph_to_quads(graph, "", quads)
            elif _PYLD_ABSOLUTE_IRI.match(graph_name):
                term = graph_name if graph_name.startswith("_:") else "<" + graph_name + ">"
                _graph_to_quads(graph, term, quads)
    except _ListFound:
        return None
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    return quads


def expanded_to_dataset(expanded: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The RDF dataset of an expanded document, exactly as `jsonld.to_rdf` builds it (pyld 3.3)."""
    processor = jsonld.JsonLdProcessor()
    options = {"produceGeneralizedRdf": False, "processingMode": "json-ld-1.1"}
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    dataset: dict[str, list[dict[str, Any]]] = {}
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default" or _ABSOLUTE_IRI.match(graph_name):
                dataset[graph_name] = processor._graph_to_rdf(graph, issuer, options)
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    return dataset


def dataset_to_quads(dataset: dict[str, list[dict[str, Any]]]) -> list[Quad]:
    """pyld's dataset as N-Quads term tuples (duplicates kept, as pyld keeps them)."""
    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        if graph_name == "@default":
            graph_term = ""
        else:
            graph_term = graph_name if graph_name.startswith("_:") else "<" + graph_name + ">"
        for triple in triples:
            quads.append(
                (_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]), graph_term)
            )
    return quads


# --- 3. RDFC-1.0 on tuples ---------------------------------------------------------------------


def _line(quad: Quad) -> str:
    s, p, o, g = quad
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _first_degree_line(quad: Quad, node: str) -> str:
    s, p, o, g = quad
    if s[0] == "_":
        s = "_:a" if s == node else "_:z"
    if o[0] == "_":
        o = "_:a" if o == node else "_:z"
    if g and g[0] == "_":
        g = "_:a" if g == node else "_:z"
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


def _mentions(quads: list[Quad]) -> dict[str, list[Quad]]:
    # Mirrors pyld: a quad is listed once per blank-node position it fills.
    mentions: dict[str, list[Quad]] = {}
    for quad in quads:
        s, _p, o, g = quad
        if s[0] == "_":
            mentions.setdefault(s, []).append(quad)
        if o[0] == "_":
            mentions.setdefault(o, []).append(quad)
        if g and g[0] == "_":
            mentions.setdefault(g, []).append(quad)
    return mentions


def _first_degree_hash(node: str, node_quads: list[Quad]) -> str:
    lines = sorted(_first_degree_line(q, node) for q in node_quads)
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def first_degree_hashes(quads: list[Quad], exclude: set[str]) -> dict[str, str]:
    """The first-degree hash of each blank node of `quads` not in `exclude`.

    For a template: a blank node mentioned only by constant quads has the same hash in every
    credential, so `canonicalize_quads(…, known=…)` need not compute it again.
    """
    return {
        node: _first_degree_hash(node, node_quads)
        for node, node_quads in _mentions(quads).items()
        if node not in exclude
    }


def canonicalize_quads(quads: list[Quad], known: dict[str, str] | None = None) -> str | None:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of quads when all first-degree hashes differ.

    Returns None when two blank nodes share a first-degree hash: the caller must then run the
    full algorithm (pyld's URDNA2015, with N-degree hashing). `known` holds first-degree hashes
    already computed (blank nodes whose quads are the same every time).
    """
    mentions = _mentions(quads)
    if not mentions:
        return "".join(sorted(_line(q) for q in quads))
    hashes: dict[str, str] = {}
    for node, node_quads in mentions.items():
        digest = known.get(node) if known else None
        hashes[digest or _first_degree_hash(node, node_quads)] = node
    if len(hashes) != len(mentions):
        return None
    labels = {node: f"_:c14n{i}" for i, (_h, node) in enumerate(sorted(hashes.items()))}
    out = []
    for s, p, o, g in quads:
        if s[0] == "_":
            s = labels[s]
        if o[0] == "_":
            o = labels[o]
        if g and g[0] == "_":
            g = labels[g]
        out.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
    out.sort()
    return "".join(out)


# --- 4. proof configuration templates ----------------------------------------------------------

_PLACEHOLDER = "0001-01-01T00:00:00Z"
_PLACEHOLDER_LITERAL = f'"{_PLACEHOLDER}"^^<http://www.w3.org/2001/XMLSchema#dateTime>'


class _TemplateCache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.data: OrderedDict[str, list[str] | None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> list[str] | bool | None:
        """The template lines, None if the configuration cannot be templated, False if unknown."""
        return self.data.get(key, False)

    def put(self, key: str, value: list[str] | None) -> None:
        with self.lock:
            self.data[key] = value
            while len(self.data) > self.size:
                self.data.popitem(last=False)


def _template_cache(loader: StaticDocumentLoader) -> _TemplateCache:
    cache: _TemplateCache = _loader_cache(loader, "proof-templates", _TemplateCache)
    return cache


def _template_key(document: JsonDict) -> str | None:
    """A cache key for a proof configuration, or None when it is not templatable."""
    created = document.get("created")
    if not isinstance(created, str) or not _TIMESTAMP.match(created) or created == _PLACEHOLDER:
        return None
    if document.get("type") != "DataIntegrityProof":
        return None
    try:
        return json.dumps({**document, "created": None}, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        return None


def canonicalize_dataset(dataset: dict[str, list[dict[str, Any]]]) -> str:
    """Canonical N-Quads of a pyld dataset: the tuple fast path, else pyld's URDNA2015."""
    canonical = canonicalize_quads(dataset_to_quads(dataset))
    if canonical is not None:
        return canonical
    return bounded_urdna2015(dataset)


def canonicalize_expanded(expanded: list[Any]) -> str:
    """Canonical N-Quads of an expanded document (tuple fast path, pyld where it declines)."""
    quads = expanded_to_quads(expanded)
    if quads is not None:
        canonical = canonicalize_quads(quads)
        if canonical is not None:
            return canonical
    return canonicalize_dataset(expanded_to_dataset(expanded))


def _canonicalize_full(
    document: JsonDict, loader: StaticDocumentLoader, safe: bool, *, checked: bool = False
) -> str:
    return canonicalize_expanded(fast_expand(document, loader, safe=safe, checked=checked))


# --- 5. the embedded Achievement, expanded once per programme ----------------------------------
#
# Every credential of a programme embeds the same Achievement (with the body's signed
# EndorsementCredential inside): two thirds of the document. JSON-LD expansion is a pure function
# of (active context, property, element), and the active context at
# `credentialSubject.achievement` depends only on the document's @context, the root's types and
# the subject's types (type-scoped and property-scoped contexts along that path). So the
# Achievement is expanded once inside a wrapper with the same path, and each credential expands
# only the rest (with the Achievement replaced by a reference to its id); the cached expanded
# Achievement is then put back in place of the reference. The result is the same expanded
# document pyld would produce, and pyld's own node map, RDF conversion and canonicalization run
# on it as before.
#
# One step further, the Achievement's node map and the quads of each of its nodes are cached as
# well (blank nodes relabelled `_:a…` so they cannot meet the credential's `_:b…`). Per
# credential, only its own nodes are mapped and converted; a node both hold (the issuer Profile
# that is also the Achievement's creator, the Achievement id itself) is merged exactly as pyld's
# node map merges it (values added unless `compare_values` finds an equal one), and converted
# per credential. Any deviation from the expected shapes falls back to an exact slower path.

_MISSING: Any = object()
_ROOT_SENTINEL = "urn:x-microcred-fastcanon:root"
_SUBJECT_SENTINEL = "urn:x-microcred-fastcanon:subject"


@dataclass(frozen=True)
class _AchievementGraph:
    """The Achievement's node map (blank nodes relabelled `_:a…`) and each node's quads."""

    default_nodes: dict[str, JsonDict]
    node_quads: dict[tuple[str, str], list[Quad]]


@dataclass(frozen=True)
class _ExpandedAchievement:
    root_types: Any
    subject_types: Any
    subject_property: str
    achievement_property: str
    expanded: JsonDict
    graph: _AchievementGraph | None


class _AchievementCache:
    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.data: OrderedDict[str, _ExpandedAchievement | None] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def put(self, key: str, value: _ExpandedAchievement | None) -> None:
        with self.lock:
            self.misses += 1
            self.data[key] = value
            while len(self.data) > self.size:
                self.data.popitem(last=False)


def achievement_cache(loader: StaticDocumentLoader) -> _AchievementCache:
    """The per-loader cache of expanded Achievements (created on first use)."""
    cache: _AchievementCache = _loader_cache(loader, "achievements", _AchievementCache)
    return cache


def _achievement_parts(document: JsonDict) -> tuple[Any, JsonDict, JsonDict, str] | None:
    """(context, subject, achievement, achievement id) when the split applies, else None."""
    context = document.get("@context")
    if not (isinstance(context, str) or (isinstance(context, list) and all(isinstance(c, str) for c in context))):
        return None
    if any(key.startswith("@") and key != "@context" for key in document):
        return None
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict) or any(key.startswith("@") for key in subject):
        return None
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        return None
    achievement_id = achievement.get("id")
    if not isinstance(achievement_id, str) or achievement_id.startswith("_:"):
        return None
    if not _ABSOLUTE_IRI.match(achievement_id):
        return None
    return context, subject, achievement, achievement_id


def _has_blank_node_datatype(expanded: Any) -> bool:
    """True if a value has a blank-node datatype (pyld's node map relabels those in place)."""
    if isinstance(expanded, list):
        return any(_has_blank_node_datatype(item) for item in expanded)
    if isinstance(expanded, dict):
        if "@value" in expanded:
            datatype = expanded.get("@type")
            return isinstance(datatype, str) and datatype.startswith("_:")
        return any(_has_blank_node_datatype(value) for value in expanded.values())
    return False


def _expand_achievement(
    context: Any, document: JsonDict, subject: JsonDict, achievement: JsonDict, loader: StaticDocumentLoader
) -> _ExpandedAchievement | None:
    wrapper_subject: JsonDict = {"@id": _SUBJECT_SENTINEL}
    if "type" in subject:
        wrapper_subject["type"] = subject["type"]
    wrapper_subject["achievement"] = achievement
    wrapper: JsonDict = {"@context": context, "@id": _ROOT_SENTINEL}
    if "type" in document:
        wrapper["type"] = document["type"]
    wrapper["credentialSubject"] = wrapper_subject
    try:
        expanded = fast_expand(wrapper, loader, safe=True, checked=True)
    except CredentialError:
        return None  # the full path will raise the precise error
    if len(expanded) != 1 or expanded[0].get("@id") != _ROOT_SENTINEL:
        return None
    root = expanded[0]
    root_props = [k for k in root if k not in ("@id", "@type")]
    if len(root_props) != 1 or len(root[root_props[0]]) != 1:
        return None
    wrapped_subject = root[root_props[0]][0]
    if not isinstance(wrapped_subject, dict) or wrapped_subject.get("@id") != _SUBJECT_SENTINEL:
        return None
    subject_props = [k for k in wrapped_subject if k not in ("@id", "@type")]
    if len(subject_props) != 1 or len(wrapped_subject[subject_props[0]]) != 1:
        return None
    expanded_achievement = wrapped_subject[subject_props[0]][0]
    if not isinstance(expanded_achievement, dict) or expanded_achievement.get("@id") != achievement.get("id"):
        return None
    if _has_blank_node_datatype(expanded_achievement):
        return None
    return _ExpandedAchievement(
        root_types=root.get("@type"),
        subject_types=wrapped_subject.get("@type"),
        subject_property=root_props[0],
        achievement_property=subject_props[0],
        expanded=expanded_achievement,
        graph=_achievement_graph(expanded),
    )


def _relabel(value: Any) -> Any:
    """A node-map structure with its blank node identifiers renamed `_:bN` → `_:aN` (keys too).

    The wrapper's identifier issuer labels every blank node `_:b…` (the Achievement holds no
    explicit blank node identifiers); the credential's own node map uses `_:b…` as well.
    """
    if isinstance(value, str):
        return "_:a" + value[3:] if value.startswith("_:b") else value
    if isinstance(value, list):
        return [_relabel(item) for item in value]
    if isinstance(value, dict):
        if "@value" in value:
            return value
        return {_relabel(key): _relabel(item) for key, item in value.items()}
    return value


def _achievement_graph(expanded_wrapper: list[Any]) -> _AchievementGraph | None:
    """Node map and per-node quads of the wrapper minus its two scaffold nodes, or None.

    None (use the expanded splice instead) when the Achievement holds a list, an @index, or a
    blank-node type: cases where its quads are not a fixed function of its own nodes.
    """
    processor = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    processor._create_node_map(expanded_wrapper, node_map, "@default", issuer)
    node_map["@default"].pop(_ROOT_SENTINEL, None)
    node_map["@default"].pop(_SUBJECT_SENTINEL, None)
    node_map = _relabel(node_map)
    node_quads: dict[tuple[str, str], list[Quad]] = {}
    for graph_name, graph in node_map.items():
        if graph_name == "@default":
            term = ""
        elif _PYLD_ABSOLUTE_IRI.match(graph_name):
            term = graph_name if graph_name.startswith("_:") else "<" + graph_name + ">"
        else:
            continue
        for node_id, node in graph.items():
            if "@index" in node or any(t.startswith("_:") for t in node.get("@type", [])):
                return None
            if _SUBJECT_SENTINEL in json.dumps(node) or _ROOT_SENTINEL in json.dumps(node):
                return None
            quads: list[Quad] = []
            try:
                _graph_to_quads({node_id: node}, term, quads)
            except _ListFound:
                return None
            node_quads[(graph_name, node_id)] = quads
    return _AchievementGraph(default_nodes=node_map["@default"], node_quads=node_quads)


def _merge_nodes(own: JsonDict, cached: JsonDict) -> JsonDict | None:
    """The node pyld's node map would build from both, or None when that is not certain.

    pyld adds each value unless an equal one (`compare_values`) is already there. Values that
    compare equal but would not give the same RDF term would make the result depend on the
    traversal order: then give up (the caller takes the exact splice path).
    """
    if "@index" in own or "@index" in cached:
        return None
    merged = {key: list(value) if isinstance(value, list) else value for key, value in own.items()}
    for prop, values in cached.items():
        if prop == "@id":
            continue
        if prop.startswith("@") and prop != "@type":
            return None
        existing = merged.setdefault(prop, [])
        for value in values:
            match = next((u for u in existing if jsonld.JsonLdProcessor.compare_values(u, value)), _MISSING)
            if match is _MISSING:
                existing.append(value)
            elif prop != "@type" and _object_term(match) != _object_term(value):
                return None
    return merged


def _quads_with_cached_graph(expanded: list[Any], graph: _AchievementGraph) -> list[Quad] | None:
    """All quads of the credential: its own nodes, the Achievement's cached quads, merged nodes."""
    processor = jsonld.JsonLdProcessor()
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    quads: list[Quad] = []
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        own_default = node_map["@default"]
        shared = own_default.keys() & graph.default_nodes.keys()
        for graph_name, own_graph in sorted(node_map.items()):
            if graph_name == "@default":
                _graph_to_quads({k: v for k, v in own_graph.items() if k not in shared}, "", quads)
            elif _PYLD_ABSOLUTE_IRI.match(graph_name):
                term = graph_name if graph_name.startswith("_:") else "<" + graph_name + ">"
                _graph_to_quads(own_graph, term, quads)
        for (graph_name, node_id), node_quads in graph.node_quads.items():
            if graph_name == "@default" and node_id in shared:
                continue
            quads.extend(node_quads)
        merged_graph = {}
        for node_id in shared:
            merged = _merge_nodes(own_default[node_id], graph.default_nodes[node_id])
            if merged is None:
                return None
            merged_graph[node_id] = merged
        _graph_to_quads(merged_graph, "", quads)
    except _ListFound:
        return None
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    return quads


def _canonicalize_split(document: JsonDict, loader: StaticDocumentLoader) -> str | None:
    """Canonical N-Quads via the cached expanded Achievement, or None to take the full path."""
    parts = _achievement_parts(document)
    if parts is None:
        return None
    context, subject, achievement, achievement_id = parts
    try:
        key = json.dumps(
            [context, document.get("type"), subject.get("type"), achievement], ensure_ascii=False
        )
    except (TypeError, ValueError):
        return None
    if _ROOT_SENTINEL in key or _SUBJECT_SENTINEL in key or '"_:' in key:
        return None
    cache = achievement_cache(loader)
    cached = cache.data.get(key, _MISSING)
    if cached is _MISSING:
        # Every entry of the cache was made here, after this check of the whole document: an
        # Achievement found in it (equal JSON) holds no control character.
        check_control_characters(document)
        cached = _expand_achievement(context, document, subject, achievement, loader)
        cache.put(key, cached)
        checked = True
    else:
        cache.hits += 1
        checked = False
    if cached is None:
        return None
    rest = {**document, "credentialSubject": {**subject, "achievement": {"id": achievement_id}}}
    probe = None
    if cached.graph is not None:
        shapes = shape_cache(loader)
        probe = shapes.probe(key, rest)  # None: a control character, or not plain JSON
        if probe is not None and probe.template is not None:
            quads = shapes.fill(probe, _escape)
            return canonicalize_quads(quads, probe.template.known_hashes) if quads is not None else None
    if not checked:
        check_control_characters(document)
    try:
        expanded = fast_expand(rest, loader, safe=True, checked=True)
    except CredentialError:
        return None  # the full path raises the authoritative error
    if len(expanded) != 1:
        return None
    root = expanded[0]
    if root.get("@type") != cached.root_types:
        return None
    subjects = root.get(cached.subject_property)
    if not isinstance(subjects, list) or len(subjects) != 1:
        return None
    expanded_subject = subjects[0]
    if expanded_subject.get("@type") != cached.subject_types:
        return None
    if expanded_subject.get(cached.achievement_property) != [{"@id": achievement_id}]:
        return None
    if cached.graph is not None:
        quads = _quads_with_cached_graph(expanded, cached.graph)
        canonical = canonicalize_quads(quads) if quads is not None else None
        if canonical is not None:
            if probe is not None and probe.learn:
                _learn_shape_template(probe, rest, cached.graph, canonical, loader)
            return canonical
        return None  # pyld's node map has run on `expanded`: start again on the full path
    # The cached subtree is shared, not copied: pyld's node map and RDF conversion only read it
    # (values with blank-node datatypes, which it would relabel, are excluded above).
    expanded_subject[cached.achievement_property] = [cached.expanded]
    return canonicalize_expanded(expanded)


# --- 6. the credential's own part: quads from a shape template (see shapecanon) ----------------


def shape_cache(loader: StaticDocumentLoader) -> ShapeCache:
    """The per-loader cache of own-part shapes and their templates (created on first use)."""
    cache: ShapeCache = _loader_cache(loader, "shapes", ShapeCache)
    return cache


def _learn_shape_template(
    probe: Probe, rest: JsonDict, graph: _AchievementGraph, canonical: str, loader: StaticDocumentLoader
) -> None:
    """Build the template of this credential's signature and keep it if it reproduces `canonical`."""
    shapes = shape_cache(loader)
    constants: set[str] = set()
    collect_strings(graph.default_nodes, constants)
    for graph_name, node_id in graph.node_quads:
        constants.update((graph_name, node_id))
    try:
        template = shapes.learn(
            probe,
            rest,
            constants,
            _recording_expand(loader),
            lambda expanded: _quads_with_cached_graph(expanded, graph),
        )
    except Exception:  # learning must never break canonicalizing: this shape keeps the full path
        _log.exception("fastcanon: could not learn a shape template")
        template = None
    if template is not None:
        slotted_nodes = {c for quad in template.slotted for c in quad if isinstance(c, str) and c[:1] == "_"}
        template.known_hashes = first_degree_hashes(template.constant, slotted_nodes)
        probe.template = template
        quads = shapes.fill(probe, _escape)
        if quads is None or canonicalize_quads(quads, template.known_hashes) != canonical:
            template = None
    shapes.keep(probe, template)


def fast_canonicalize(
    document: JsonDict, loader: StaticDocumentLoader | None = None, *, safe: bool = True
) -> str:
    """Canonical N-Quads (URDNA2015, `base: None`), byte-identical to `jsonld.normalize`.

    Same safety checks as `canon.canonicalize` (raises `UnsafeDocumentError`,
    `UnknownContextError`, `CanonicalizationError` in the same cases).
    """
    loader = loader or default_loader()
    key = _template_key(document) if safe else None
    if key is None:
        if safe:
            split = _canonicalize_split(document, loader)  # checks control characters itself
            if split is not None:
                return split
            check_control_characters(document)
        return _canonicalize_full(document, loader, safe, checked=safe)
    cache = _template_cache(loader)
    template = cache.get(key)
    created = document["created"]
    if template is False:
        canonical = _canonicalize_full({**document, "created": _PLACEHOLDER}, loader, safe)
        lines = canonical.splitlines(keepends=True)
        # Usable only with at most one blank node (always `_:c14n0`, whatever `created` is) and
        # exactly one line holding the placeholder literal.
        usable = "_:c14n1" not in canonical and sum(_PLACEHOLDER_LITERAL in ln for ln in lines) == 1
        template = lines if usable else None
        cache.put(key, template)
    if template is None:
        return _canonicalize_full(document, loader, safe)
    check_control_characters(document)
    assert isinstance(template, list)
    literal = f'"{created}"^^<http://www.w3.org/2001/XMLSchema#dateTime>'
    lines = [ln.replace(_PLACEHOLDER_LITERAL, literal) for ln in template]
    lines.sort()
    return "".join(lines)


def fast_canonicalizer(document: JsonDict, loader: StaticDocumentLoader) -> str:
    """`fast_canonicalize` with the `(document, loader)` signature `proof.sign` / `verify` take."""
    return fast_canonicalize(document, loader)
