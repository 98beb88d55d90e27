"""RDF Dataset Canonicalization (URDNA2015 = RDFC-1.0) of JSON-LD documents, in "safe mode".

Interop rules followed here (see ../shared/INTEROP-NOTES.md):

* URDNA2015 with `base: None` and N-Quads output (notes 1, 2);
* the document is expanded once, with pyld's dropped-property hook, and the expanded form is
  scanned for anything the signature would silently not cover: undefined terms, relative IRIs,
  relative types (note 3). Such a document raises `UnsafeDocumentError`;
* strings holding a control character that pyld escapes differently from RDFC-1.0 are refused
  (note 4);
* the expanded form is reused to build the RDF dataset: the document is expanded once, not twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyld import jsonld
from pyld.identifier_issuer import IdentifierIssuer

from .canonbound import bounded_urdna2015
from .errors import CanonicalizationError, UnknownContextError, UnsafeDocumentError
from .loader import StaticDocumentLoader, default_loader

JsonDict = dict[str, Any]

# Control characters whose N-Quads escaping differs between pyld and RDFC-1.0. pyld escapes only
# \t \n \r (and `"`, `\`) the way RDFC-1.0 does, so those three are accepted; every other
# character of U+0000–U+001F and U+007F is refused.
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# What pyld counts as an absolute IRI (pyld.jsonld._is_absolute_iri); anything else is dropped
# when the RDF dataset is built.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*\Z")
# Characters N-Quads does not allow in an IRIREF; pyld would write them out unescaped.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|^`\\]')

_NQUADS = "application/n-quads"


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_control_characters(document: Any, _path: str = "$") -> None:
    """Refuse any string (key or value) holding a control character other than \\t \\n \\r.

    Raises `UnsafeDocumentError` naming the JSON path of the first offending string.
    """
    if isinstance(document, str):
        match = _BAD_CONTROL.search(document)
        if match:
            raise UnsafeDocumentError(
                f"string at {_path} holds control character U+{ord(match.group()):04X}, which "
                "canonicalizes differently in pyld and RDFC-1.0; remove it before signing",
                term=_path,
            )
    elif isinstance(document, dict):
        for key, value in document.items():
            check_control_characters(key, _path)
            check_control_characters(value, f"{_path}.{key}")
    elif isinstance(document, list):
        for i, value in enumerate(document):
            check_control_characters(value, f"{_path}[{i}]")


def _is_absolute_iri(value: object) -> bool:
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value) is not None


def _check_iri(value: object, what: str) -> None:
    if not _is_absolute_iri(value):
        raise UnsafeDocumentError(
            f"{what} {_describe(value)} is not an absolute IRI (relative IRIs are dropped from "
            "the signed data); use an absolute URL, DID or URN",
            term=str(value),
        )
    assert isinstance(value, str)
    if not value.startswith("_:") and _BAD_IRI_CHARS.search(value):
        raise UnsafeDocumentError(
            f"{what} {_describe(value)} holds a character not allowed in an IRI "
            "(space, <, >, \", {, }, |, ^, `, \\ or a control character); percent-encode it",
            term=value,
        )


def scan_expanded(expanded: Any) -> None:
    """Raise `UnsafeDocumentError` for relative IRIs, relative types or blank-node properties.

    `expanded` is pyld's expanded form (with `base: None`, so relative IRIs stay relative).
    """
    if isinstance(expanded, list):
        for item in expanded:
            scan_expanded(item)
        return
    if not isinstance(expanded, dict):
        return
    if "@value" in expanded:
        datatype = expanded.get("@type")
        if datatype is not None and datatype != "@json":
            _check_iri(datatype, "datatype")
        return
    if "@list" in expanded:
        scan_expanded(expanded["@list"])
        return
    for key, value in expanded.items():
        if key == "@id":
            _check_iri(value, "@id")
        elif key == "@type":
            for type_ in value if isinstance(value, list) else [value]:
                _check_iri(type_, "type")
        elif key in ("@graph", "@included"):
            scan_expanded(value)
        elif key == "@reverse":
            for prop, values in value.items():
                _check_property(prop)
                scan_expanded(values)
        elif key.startswith("@"):
            continue
        else:
            _check_property(key)
            scan_expanded(value)


def _check_property(prop: str) -> None:
    if prop.startswith("_:"):
        raise UnsafeDocumentError(
            f"property {prop!r} expands to a blank node, which is dropped from the signed data",
            term=prop,
        )
    _check_iri(prop, "property")


def _unwrap_pyld_error(error: BaseException) -> Exception:
    """Turn a pyld `JsonLdError` into our error, keeping an `UnknownContextError` it wraps."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UnknownContextError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return CanonicalizationError(f"JSON-LD processing failed: {error}")


class _DroppedTerms:
    """Collects what pyld's expansion drops (the `on_property_dropped` hook)."""

    def __init__(self) -> None:
        self.terms: list[str | None] = []

    def __call__(self, expanded_property: str | None) -> None:
        self.terms.append(expanded_property)

    def raise_if_any(self) -> None:
        if not self.terms:
            return
        names = ", ".join(repr(t) for t in dict.fromkeys(self.terms))
        first = self.terms[0]
        raise UnsafeDocumentError(
            f"term(s) {names} not defined by the document's @context: JSON-LD processing drops "
            "them, so a signature would not cover them; define them in a context or remove them",
            term=first,
        )


def expand(
    document: JsonDict,
    loader: StaticDocumentLoader | None = None,
    *,
    safe: bool = True,
) -> list[Any]:
    """Expand `document` once with pyld (`base: None`), checking it in safe mode unless told not to.

    Raises `UnknownContextError` for a context the loader does not serve, `UnsafeDocumentError`
    for anything a signature would not cover, `CanonicalizationError` for malformed JSON-LD.
    """
    loader = loader or default_loader()
    return expand_with(
        document,
        loader,
        lambda on_dropped: jsonld.JsonLdProcessor(on_property_dropped=on_dropped),
        safe=safe,
    )


def expand_with(
    document: JsonDict,
    loader: StaticDocumentLoader,
    make_processor: Callable[[Callable[[str | None], None]], jsonld.JsonLdProcessor],
    *,
    safe: bool,
    scan_control_characters: bool = True,
) -> list[Any]:
    """Expand `document` with the processor `make_processor(on_property_dropped)` builds: safe mode, once.

    The one place the safe-mode rule lives (both `expand` and `fastcanon.fast_expand` call it):
    control characters refused before expansion (unless the caller already scanned the whole
    document: `scan_control_characters=False`), every term pyld drops refused, and the expanded
    form scanned for relative IRIs, relative types and blank-node properties.
    """
    if safe and scan_control_characters:
        check_control_characters(document)
    dropped = _DroppedTerms()
    processor = make_processor(dropped if safe else jsonld.noop)
    try:
        expanded = processor.expand(document, loader.options())
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    if safe:
        dropped.raise_if_any()
        scan_expanded(expanded)
    return expanded


def expanded_to_dataset(expanded: list[Any]) -> dict[str, list[JsonDict]]:
    """The RDF dataset of an expanded document, exactly as `jsonld.to_rdf` builds it.

    Mirrors pyld's `JsonLdProcessor.to_rdf` after its expansion step (pyld 3.3), so the expanded
    form can be reused instead of expanding the document a second time.
    """
    processor = jsonld.JsonLdProcessor()
    options = {"produceGeneralizedRdf": False, "processingMode": "json-ld-1.1"}
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    try:
        processor._create_node_map(expanded, node_map, "@default", issuer)
        dataset: dict[str, list[JsonDict]] = {}
        for graph_name, graph in sorted(node_map.items()):
            if graph_name == "@default" or _is_absolute_iri(graph_name):
                dataset[graph_name] = processor._graph_to_rdf(graph, issuer, options)
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    return dataset


def canonicalize_dataset(dataset: dict[str, list[JsonDict]]) -> str:
    """URDNA2015 canonical N-Quads of an RDF dataset (pyld's implementation, with its work bounded:
    `CanonicalizationLimitError` for a poison graph). Consumes `dataset`."""
    return bounded_urdna2015(dataset)


def canonicalize_expanded(expanded: list[Any]) -> str:
    """URDNA2015 canonical N-Quads of an already expanded (and checked) document."""
    return canonicalize_dataset(expanded_to_dataset(expanded))


#: A function from a JSON-LD document to its canonical N-Quads; `canonicalize` is the default.
Canonicalizer = Callable[[JsonDict, StaticDocumentLoader], str]


def canonicalize(
    document: JsonDict,
    loader: StaticDocumentLoader | None = None,
    *,
    safe: bool = True,
) -> str:
    """Canonical N-Quads (URDNA2015, `base: None`) of a JSON-LD document, expanding it once.

    With `safe=True` (the default) the document is refused with `UnsafeDocumentError` if it holds
    undefined terms, relative IRIs or types, or control characters.
    """
    return canonicalize_expanded(expand(document, loader, safe=safe))


def reference_normalize(document: JsonDict, loader: StaticDocumentLoader | None = None) -> str:
    """Plain `jsonld.normalize(..., URDNA2015, base None)`: the reference the fast paths must match.

    No safety checks. Uses pyld's own expansion and RDF conversion end to end.
    """
    loader = loader or default_loader()
    try:
        result: str = jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": _NQUADS,
                "base": None,
                "documentLoader": loader,
            },
        )
    except jsonld.JsonLdError as error:
        raise _unwrap_pyld_error(error) from error
    return result
