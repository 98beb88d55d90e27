"""Shape templates: the quads of a credential's own part without expanding it, byte-identical to pyld.

Credentials of one programme share the JSON *shape* of their own part (everything but the cached
Achievement, see `fastcanon` section 5): the same keys, array lengths and types, differing only in
string values (ids, e-mail hashes, dates, names). Expanding that part with pyld was still half of
the cost of signing. Here it is expanded once per shape and its quads are reused:

1. **Shape.** A walk of the own part gives its structure (keys in order, nesting, array lengths,
   every number, boolean and null verbatim, the values of `@context`, `type`, `@type` and every
   `@`-key verbatim) and the list of its other string leaves. The structure and the document's
   Achievement key name a shape.
2. **How pyld treats each leaf** is learnt once per shape (on its third sighting): the own part is expanded with every
   leaf wrapped in a `Leaf` (a `str` carrying its position) by a processor that records, for each
   leaf, the call that expanded it: `_expand_value(active context, property)` giving a plain or
   typed literal (the value copied as is, whatever it holds), `_expand_value` giving `{'@id': …}`
   (an `@id`/`@vocab`-typed term), or `_expand_iri(active context)` for an `id`. Any other use
   (a type, a language map, `@json`, an `xsd:double` literal, a leaf seen twice or not at all)
   pins the leaf: its value becomes part of the key.
3. **Signature.** Per credential, an IRI leaf is substitutable only if pyld's own `_expand_iri` /
   `_expand_value`, replayed with the recorded active context, returns the value unchanged, and the
   value is an absolute IRI that safe mode accepts and N-Quads can hold (not a blank node). A
   compact IRI with a defined prefix, a relative IRI or a term is pinned instead. A leaf equal to a
   string of the Achievement's node map or to a constant of the expanded part (an id both hold, a
   name the issuer Profile shares with the Achievement's creator) is pinned too, and so is a leaf
   equal to a pinned one: whatever pyld's node map compares (node ids merged, equal values of one
   property dropped) is then fixed by the key. The other leaves are grouped by equal value. The
   signature is that grouping plus the pinned values.
4. **Template.** For a new signature the own part is expanded again (safe mode) with each group's
   leaves replaced by one placeholder (`urn:x-fastcanon-<random>:<group>`), and the recorded
   treatments must come out the same (same call, same active context object, placeholders kept as
   is); the quads (merged with the Achievement's, as in `fastcanon`) then hold each placeholder only
   as a whole IRI term `<ph>` or as a literal's lexical form `"ph"…`. Per credential the template's
   slots are filled with `<value>` or `"escaped value"…`. A template is kept only if filling it with
   the credential it was built from gives the canonical form the full path gave.

A shape is learnt on its third sighting (learning costs about two expansions of the own part); a
new signature of a known shape at once, unless the shape's signatures keep changing (a pinned leaf
that differs per credential: then it stops after 8 builds). The first-degree hashes of the blank
nodes only constant quads mention are computed once per template (`fastcanon.first_degree_hashes`).

Anything else (a shape or signature not learnt yet, a control character, a key that is not a
string) takes the full path, which raises the authoritative error for an unsafe document.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyld import jsonld

from .canon import _ABSOLUTE_IRI, _BAD_CONTROL, _BAD_IRI_CHARS
from .errors import CredentialError

JsonDict = dict[str, Any]
Quad = tuple[str, str, str, str]

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
_LITERAL_KEYS = frozenset({"@value", "@type", "@language", "@direction"})

#: The sighting of a shape (same Achievement, same own structure) at which it is learnt.
LEARN_AT_SIGHTING = 3

# Leaf kinds.
_PINNED = 0
_LITERAL = 1
_ID = 2  # the value of an `id` key: `_expand_iri(ctx, v, base=…)`
_VALUE_IRI = 3  # an @id/@vocab-typed term: `_expand_value(ctx, property, v, …)` == {'@id': v}


class Leaf(str):
    """A string leaf of the own part, carrying its position in the walk (for the recorder)."""

    index: int


def _is_pinned_key(key: str) -> bool:
    return key == "type" or key.startswith("@")


class _NotJson(Exception):
    """The own part is not plain JSON (a key that is not a string): no template."""


def walk(document: Any, tokens: list[Any], leaves: list[str]) -> None:
    """Append the structure of `document` to `tokens` and its unpinned string leaves to `leaves`.

    Tokens of different kinds have different Python types (keys are `str`, markers `int`, verbatim
    values `tuple`), so the token sequence names one structure only.
    """
    if isinstance(document, dict):
        tokens.append(1)
        for key, value in document.items():
            if not isinstance(key, str):
                raise _NotJson
            tokens.append(key)
            if _is_pinned_key(key):
                tokens.append(("=", json.dumps(value, ensure_ascii=False, sort_keys=True)))
            else:
                walk(value, tokens, leaves)
        tokens.append(2)
    elif isinstance(document, list):
        tokens.append(3)
        for value in document:
            walk(value, tokens, leaves)
        tokens.append(4)
    elif isinstance(document, str):
        tokens.append(0)
        leaves.append(document)
    else:
        tokens.append(("=", json.dumps(value_or_none(document))))


def value_or_none(value: Any) -> Any:
    """JSON scalars as they are; anything else by its repr (never equal to a JSON scalar's dump)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return {"repr": repr(value)}


def _rebuild(document: Any, replace: Callable[[int, str], str], counter: list[int]) -> Any:
    """A copy of `document` with each unpinned string leaf replaced (same order as `walk`)."""
    if isinstance(document, dict):
        return {
            key: value if _is_pinned_key(key) else _rebuild(value, replace, counter)
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_rebuild(value, replace, counter) for value in document]
    if isinstance(document, str):
        index = counter[0]
        counter[0] += 1
        return replace(index, document)
    return document


def _leaf(index: int, value: str) -> Leaf:
    leaf = Leaf(value)
    leaf.index = index
    return leaf


class Recorder:
    """What the recording processor saw: for each leaf index, the calls that expanded it."""

    def __init__(self) -> None:
        self.calls: dict[int, list[tuple[Any, ...]]] = {}
        self.depth = 0

    def value(self, leaf: Leaf, active_ctx: Any, active_property: Any, base: Any, result: Any) -> None:
        self.calls.setdefault(leaf.index, []).append(("value", active_ctx, active_property, base, result))

    def iri(self, leaf: Leaf, active_ctx: Any, base: Any, vocab: bool, local_ctx: Any, result: Any) -> None:
        if self.depth:
            return  # inside `_expand_value`: recorded there
        kind = "id" if not vocab and local_ctx is None else "other"
        self.calls.setdefault(leaf.index, []).append((kind, active_ctx, None, base, result))


def _classify(calls: list[tuple[Any, ...]] | None, leaf: Leaf) -> tuple[Any, ...]:
    """(kind, active context, property, base) of one leaf from what the recorder saw."""
    if not calls or len(calls) != 1:
        return (_PINNED,)
    kind, ctx, prop, base, result = calls[0]
    if kind == "id":
        return (_ID, ctx, None, base)
    if kind != "value" or not isinstance(result, dict):
        return (_PINNED,)
    if set(result) == {"@id"}:
        return (_VALUE_IRI, ctx, prop, base)
    if (
        "@value" in result
        and isinstance(result["@value"], Leaf)  # pyld deep-copies its input: the index survives
        and result["@value"].index == leaf.index
        and set(result) <= _LITERAL_KEYS
        and result.get("@type") not in (XSD_DOUBLE, "@json")
    ):
        return (_LITERAL, ctx, prop, base)
    return (_PINNED,)


def collect_strings(value: Any, out: set[str]) -> None:
    """Every plain string (keys and values) in a JSON-like structure, `Leaf`s excepted."""
    if isinstance(value, str):
        if type(value) is str:
            out.add(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            collect_strings(key, out)
            collect_strings(item, out)
    elif isinstance(value, (list, tuple)):
        for item in value:
            collect_strings(item, out)


_PROCESSOR = jsonld.JsonLdProcessor()


def _iri_ok(value: str) -> bool:
    """An absolute IRI safe mode accepts, N-Quads can hold and pyld keeps; not a blank node."""
    return (
        not value.startswith("_:")
        and _ABSOLUTE_IRI.match(value) is not None
        and _BAD_IRI_CHARS.search(value) is None
    )


@dataclass
class Template:
    """The quads of one signature: constant quads, and quads with slots to fill."""

    constant: list[Quad]
    #: (s, p, o, g) with each slot as (group, suffix): suffix None for an IRI `<v>`, else the
    #: literal's tail after its closing quote.
    slotted: list[tuple[Any, Any, Any, Any]]
    #: First-degree hashes of the blank nodes that only constant quads mention.
    known_hashes: dict[str, str] = field(default_factory=dict)

    def fill(self, groups: dict[int, str], escape: Callable[[str], str]) -> list[Quad]:
        quads = list(self.constant)
        iris: dict[int, str] = {}
        literals: dict[int, str] = {}

        def term(component: Any) -> str:
            if isinstance(component, str):
                return component
            group, suffix = component
            if suffix is None:
                text = iris.get(group)
                if text is None:
                    text = iris[group] = "<" + groups[group] + ">"
                return text
            text = literals.get(group)
            if text is None:
                text = literals[group] = '"' + escape(groups[group]) + '"'
            return text + suffix

        for s, p, o, g in self.slotted:
            quads.append((term(s), term(p), term(o), term(g)))
        return quads


@dataclass
class Shape:
    """One shape of own part: each leaf's treatment, the constants, and templates per signature."""

    kinds: list[tuple[Any, ...]]
    constants: frozenset[str]
    templates: OrderedDict[tuple[Any, ...], Template | None] = field(default_factory=OrderedDict)
    builds: int = 0
    hits: int = 0

    def signature(self, leaves: list[str]) -> tuple[Any, ...]:
        """Per leaf: the pinned value (a str) or the group (index of the first equal leaf, an int)."""
        signature: list[Any] = []
        first: dict[str, int] = {}
        pinned: set[str] = set()
        constants = self.constants
        for index, (value, kind) in enumerate(zip(leaves, self.kinds, strict=True)):
            code = kind[0]
            if code == _LITERAL:
                ok = value not in constants
            elif code == _ID:
                ok = (
                    value not in constants
                    and _iri_ok(value)
                    and _PROCESSOR._expand_iri(kind[1], value, base=kind[3]) == value
                )
            elif code == _VALUE_IRI:
                ok = (
                    value not in constants
                    and _iri_ok(value)
                    and _PROCESSOR._expand_value(kind[1], kind[2], value, {"base": kind[3]}) == {"@id": value}
                )
            else:
                ok = False
            if ok:
                signature.append(first.setdefault(value, index))
            else:
                signature.append(value)
                pinned.add(value)
        if pinned:
            # A leaf equal to a pinned one is pinned too (pyld may compare them).
            for index, item in enumerate(signature):
                if isinstance(item, int) and leaves[index] in pinned:
                    signature[index] = leaves[index]
        return tuple(signature)


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any, lock: threading.Lock) -> None:
        with lock:
            self[key] = value
            while len(self) > self.size:
                self.popitem(last=False)


@dataclass
class Probe:
    """One credential's own part, walked: its shape key, leaves, and what the caches hold for it."""

    key: tuple[Any, ...]
    leaves: list[str]
    shape: Shape | None = None
    signature: tuple[Any, ...] | None = None
    template: Template | None = None
    #: True when a shape or template is missing and may be built once the full path succeeded.
    learn: bool = False


#: Expands a document with a recorder (safe mode or not); raises `CredentialError` like `fast_expand`.
RecordingExpand = Callable[[JsonDict, Recorder, bool], list[Any]]
#: The quads of an expanded own part merged with the cached Achievement's, or None.
ToQuads = Callable[[list[Any]], list[Quad] | None]


class ShapeCache:
    """Per loader: shapes by (Achievement key, structure), templates per shape by signature."""

    def __init__(self, shapes: int = 256, templates_per_shape: int = 64) -> None:
        self.shapes: _LRU = _LRU(shapes)
        self.templates_per_shape = templates_per_shape
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def probe(self, achievement_key: str, own_part: JsonDict) -> Probe | None:
        """Walk the own part and look its template up; None (no template, the full path) when it
        holds a control character or is not plain JSON."""
        tokens: list[Any] = []
        leaves: list[str] = []
        try:
            walk(own_part, tokens, leaves)
        except (_NotJson, TypeError, ValueError):
            return None
        if _BAD_CONTROL.search("".join(leaves)):
            return None  # the full path names the offending string
        probe = Probe((achievement_key, tuple(tokens)), leaves)
        shape = self.shapes.get(probe.key)
        if shape is None or isinstance(shape, int):
            # Learnt on its third sighting: learning costs about two more expansions, not worth it
            # for a shape seen once or twice (a credential signed and then verified once).
            if shape is None and probe.key not in self.shapes:
                self.shapes.put(probe.key, 1, self.lock)
            elif shape is not None:
                if shape + 1 >= LEARN_AT_SIGHTING:
                    probe.learn = True
                else:
                    self.shapes.put(probe.key, shape + 1, self.lock)
            return probe
        probe.shape = shape
        probe.signature = shape.signature(leaves)
        template = shape.templates.get(probe.signature, False)
        if template is False:
            # A shape whose signatures keep changing (a pinned leaf that differs per credential)
            # stops learning: each template would cost more than it saves.
            probe.learn = shape.builds < 8 or shape.hits >= 4 * shape.builds
        elif template is not None:
            probe.template = template
            shape.hits += 1
            self.hits += 1
        return probe

    def fill(self, probe: Probe, escape: Callable[[str], str]) -> list[Quad] | None:
        """The credential's quads from its template, or None without one."""
        if probe.template is None or probe.signature is None:
            return None
        groups = {item: probe.leaves[item] for item in probe.signature if isinstance(item, int)}
        return probe.template.fill(groups, escape)

    def learn(
        self,
        probe: Probe,
        own_part: JsonDict,
        constants: set[str],
        expand: RecordingExpand,
        to_quads: ToQuads,
    ) -> Template | None:
        """Learn the shape (if new) and build the template of the probe's signature.

        Called after the full path canonicalized this very credential; the caller checks the
        template against that result before `keep` stores it.
        """
        self.misses += 1
        shape = probe.shape
        if shape is None:
            shape = self._learn_shape(probe, own_part, constants, expand)
            if shape is None:
                self.shapes.put(probe.key, None, self.lock)
                return None
            self.shapes.put(probe.key, shape, self.lock)
            probe.shape = shape
            probe.signature = shape.signature(probe.leaves)
        assert probe.signature is not None
        shape.builds += 1
        return _build_template(shape, probe.signature, own_part, expand, to_quads)

    def keep(self, probe: Probe, template: Template | None) -> None:
        """Store the template (or None: this signature always takes the full path)."""
        if probe.shape is None or probe.signature is None:
            return
        templates = probe.shape.templates
        with self.lock:
            templates[probe.signature] = template
            while len(templates) > self.templates_per_shape:
                templates.popitem(last=False)

    @staticmethod
    def _learn_shape(
        probe: Probe, own_part: JsonDict, constants: set[str], expand: RecordingExpand
    ) -> Shape | None:
        wrapped = _rebuild(own_part, _leaf, [0])
        recorded = _expand_recorded(wrapped, expand, False)
        if recorded is None:
            return None
        expanded, recorder = recorded
        kinds = [
            _classify(recorder.calls.get(index), leaf)
            for index, leaf in enumerate(_leaves_of(wrapped))
        ]
        if len(kinds) != len(probe.leaves):
            return None
        found = set(constants)
        collect_strings(expanded, found)
        return Shape(kinds=kinds, constants=frozenset(found))


def _expand_recorded(document: JsonDict, expand: RecordingExpand, safe: bool) -> tuple[list[Any], Recorder] | None:
    """The expanded document and what the recorder saw, or None if pyld (or safe mode) refuses it."""
    recorder = Recorder()
    try:
        return expand(document, recorder, safe), recorder
    except CredentialError:
        return None


def _leaves_of(document: Any) -> list[Leaf]:
    leaves: list[Any] = []
    walk(document, [], leaves)
    return leaves


def _build_template(
    shape: Shape, signature: tuple[Any, ...], own_part: JsonDict, expand: RecordingExpand, to_quads: ToQuads
) -> Template | None:
    nonce = secrets.token_hex(8)
    marker = f"urn:x-fastcanon-{nonce}:"
    if nonce in json.dumps(own_part, ensure_ascii=False):
        return None

    def replace(index: int, value: str) -> str:
        item = signature[index]
        if isinstance(item, int):
            return _leaf(index, f"{marker}{item}")
        return value

    recorded = _expand_recorded(_rebuild(own_part, replace, [0]), expand, True)
    if recorded is None:
        return None
    expanded, recorder = recorded
    for index, item in enumerate(signature):
        if not isinstance(item, int):
            continue
        placeholder = f"{marker}{item}"
        calls = recorder.calls.get(index)
        kind = shape.kinds[index]
        if not calls or len(calls) != 1:
            return None
        call_kind, ctx, prop, base, result = calls[0]
        if ctx is not kind[1] or base != kind[3]:
            return None
        if kind[0] == _ID:
            if call_kind != "id" or result != placeholder:
                return None
        elif kind[0] == _VALUE_IRI:
            if call_kind != "value" or prop != kind[2] or result != {"@id": placeholder}:
                return None
        elif kind[0] == _LITERAL:
            if call_kind != "value" or prop != kind[2]:
                return None
            leaf = result.get("@value") if isinstance(result, dict) else None
            if not isinstance(leaf, Leaf) or _classify(calls, leaf)[0] != _LITERAL:
                return None
        else:
            return None
    quads = to_quads(expanded)
    if quads is None:
        return None
    constant: list[Quad] = []
    slotted: list[tuple[Any, Any, Any, Any]] = []
    for quad in quads:
        if not any(marker in component for component in quad):
            constant.append(quad)
            continue
        parts: list[Any] = []
        for component in quad:
            if marker not in component:
                parts.append(component)
                continue
            slot = _slot(component, marker)
            if slot is None:
                return None
            parts.append(slot)
        slotted.append(tuple(parts))
    return Template(constant=constant, slotted=slotted)


def _slot(component: str, marker: str) -> tuple[int, str | None] | None:
    """(group, None) for `<marker N>`, (group, tail) for `"marker N"tail`; None for anything else."""
    if component.startswith("<" + marker) and component.endswith(">"):
        group = component[len(marker) + 1 : -1]
        return (int(group), None) if group.isdigit() and str(int(group)) == group else None
    if component.startswith('"' + marker):
        rest = component[len(marker) + 1 :]
        group, quote, tail = rest.partition('"')
        if not quote or not group.isdigit() or str(int(group)) != group or marker in tail:
            return None
        if tail and not (tail.startswith("@") or tail.startswith("^^<")):
            return None
        return int(group), tail
    return None
