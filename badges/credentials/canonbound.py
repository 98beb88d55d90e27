"""RDFC-1.0 (URDNA2015) with a bound on its work, as RDFC-1.0 §4.4 and its security considerations
recommend ("poison" graphs): the N-degree hashing is exponential in the number of blank nodes that
share a first-degree hash, so a crafted credential of a few kilobytes could hold a worker for hours.

`bounded_urdna2015(dataset)` is pyld's URDNA2015, refusing with `CanonicalizationLimitError`:

* a dataset with more than `max_blank_nodes` blank nodes (a credential has a handful);
* more than `max_work` units of N-degree work, counted as each call of Hash N-Degree Quads plus the
  permutations it is about to try (the factorial of every group of related blank nodes sharing a
  hash). An ordinary credential whose blank nodes all differ at the first degree spends none; two
  identical evidence objects spend a few units.

The work is counted before it is done, so a refusal comes after a bounded amount of it.
"""

from __future__ import annotations

import math
from typing import Any

from pyld.canon import URDNA2015

from .errors import CanonicalizationError

MAX_BLANK_NODES = 1000
MAX_WORK = 5_000
_NQUADS = "application/n-quads"


class CanonicalizationLimitError(CanonicalizationError):
    """Canonicalizing the document would take more work than allowed: it is refused."""


class _BoundedURDNA2015(URDNA2015):
    def __init__(self, *, max_blank_nodes: int, max_work: int) -> None:
        super().__init__()
        self.max_blank_nodes = max_blank_nodes
        self.max_work = max_work
        self.work = 0

    def _spend(self, units: int) -> None:
        self.work += units
        if self.work > self.max_work:
            raise CanonicalizationLimitError(
                f"canonicalizing this document needs more than {self.max_work:,} steps of N-degree hashing "
                "(many blank nodes that look alike, as in a crafted 'poison' graph); it is refused"
            )

    def main(self, dataset: dict[str, list[dict[str, Any]]], options: dict[str, Any]) -> str:
        blank_nodes = {
            quad[position]["value"]
            for quads in dataset.values() for quad in quads
            for position in ("subject", "object") if quad.get(position, {}).get("type") == "blank node"
        }
        blank_nodes.update(name for name in dataset if name.startswith("_:"))
        if len(blank_nodes) > self.max_blank_nodes:
            raise CanonicalizationLimitError(
                f"the document holds {len(blank_nodes):,} blank nodes, more than the {self.max_blank_nodes:,} "
                "allowed; it is refused"
            )
        result: str = super().main(dataset, options)
        return result

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        self._spend(1)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        related: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        # hash_n_degree_quads tries every permutation of each group next: pay for them first.
        self._spend(sum(math.factorial(min(len(nodes), 20)) for nodes in related.values()))
        return related


def bounded_urdna2015(
    dataset: dict[str, list[dict[str, Any]]], *, max_blank_nodes: int = MAX_BLANK_NODES, max_work: int = MAX_WORK
) -> str:
    """Canonical N-Quads of a pyld dataset (consumed), or `CanonicalizationLimitError`."""
    return _BoundedURDNA2015(max_blank_nodes=max_blank_nodes, max_work=max_work).main(
        dataset, {"algorithm": "URDNA2015", "format": _NQUADS})
