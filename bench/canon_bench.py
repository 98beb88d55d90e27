"""Micro-benchmark: issue and verify real-shaped OpenBadgeCredentials on one core.

The credential is the real shape: an OpenBadgeCredential whose Achievement embeds the body's
signed EndorsementCredential (with its own proof), an e-mail IdentityObject, evidence and a
status entry (~87 quads). Every credential in a run is distinct (id, recipient, status index).

    .venv/bin/python bench/canon_bench.py [--count 1000] [--plain]

Prints credentials/s, p50/p95 latency in ms, and the share of time spent in expansion,
RDF conversion + canonicalization, hashing and Ed25519 for sign and verify, with the fast path
(the default) and, with --plain, plain pyld for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from badges.credentials import canon, fastcanon, sign, verify
from badges.credentials.proof import plain_canonicalizer, set_default_canonicalizer
from tests.badges.credentials.factories import Parties, credential, signed_endorsement


def _pin_to_one_core(cpu: int | None) -> str:
    """Keep the (single-threaded) process on one CPU, so it is measured on one core."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    allowed = os.sched_getaffinity(0)
    chosen = cpu if cpu is not None else max(allowed)
    os.sched_setaffinity(0, {chosen})
    return f"pinned to CPU {chosen} of {sorted(allowed)}"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _run(label: str, items: list, action: Callable) -> list:
    """Run `action` over `items`; report wall-clock and CPU-time rates and latency percentiles."""
    latencies, results = [], []
    start, cpu_start = time.perf_counter(), time.process_time()
    for item in items:
        t0 = time.perf_counter()
        results.append(action(item))
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        f"  {label:<8} {len(items) / elapsed:7.1f} credentials/s wall, {len(items) / cpu:7.1f} per CPU-second"
        f"   p50 {statistics.median(latencies):5.2f} ms   p95 {_percentile(latencies, 0.95):5.2f} ms"
    )
    return results


class _Timer:
    """Accumulates the time spent inside one function (patched in place for a measurement)."""

    def __init__(self, owner: object, name: str) -> None:
        self.owner, self.name, self.total = owner, name, 0.0
        self.original = getattr(owner, name)

    def __enter__(self) -> _Timer:
        original = self.original

        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.total += time.process_time() - t0

        setattr(self.owner, self.name, timed)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(self.owner, self.name, self.original)


def _shares(label: str, items: list, action: Callable) -> None:
    """Share of CPU time in expansion, RDF + canonicalization, hashing, and the rest (Ed25519…)."""
    import badges.credentials.proof as proof_module

    with (
        _Timer(canon, "expand") as plain_expand,
        _Timer(fastcanon, "fast_expand") as fast_expand,
        _Timer(proof_module, "hash_data") as hashing,
        _Timer(proof_module, "_canonicalizer") as canonicalizing,
        _Timer(type(Parties().org_key), "sign") as signing,
    ):
        cpu_start = time.process_time()
        for item in items:
            action(item)
        whole = time.process_time() - cpu_start
    expansion = plain_expand.total + fast_expand.total
    parts = {
        "expansion": expansion,
        "RDF+canonicalization": canonicalizing.total - expansion,
        "hashing": hashing.total,
        "Ed25519 sign": signing.total,
        "rest (Ed25519 verify, copies, checks)": whole - canonicalizing.total - hashing.total - signing.total,
    }
    text = "   ".join(f"{name} {100 * value / whole:4.1f}%" for name, value in parts.items())
    print(f"  {label:<8} {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="credentials per run (default 1000)")
    parser.add_argument("--plain", action="store_true", help="also measure plain pyld for comparison")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the highest allowed)")
    args = parser.parse_args()

    pinned = _pin_to_one_core(args.cpu)
    print(f"canon_bench: {pinned}, Python {sys.version.split()[0]}, {args.count} credentials")
    print("(wall-clock rates suffer when other processes share the CPU; per-CPU-second rates do not)")
    parties = Parties()
    endorsed = signed_endorsement(parties)
    documents = [
        credential(parties, number=n, email=f"learner{n}@example.org", endorsements=[endorsed])
        for n in range(args.count)
    ]
    quads = len(canon.canonicalize(documents[0]).splitlines())
    print(f"credential: OpenBadgeCredential with embedded signed EndorsementCredential, {quads} quads")
    resolver = parties.resolver()

    # Warm up (first-call costs: context processing, imports), as a long-running worker would be.
    for document in documents[:20]:
        verify(sign(document, parties.org_key, parties.org_method), resolver)

    # The worst case for the caches: every credential from a different programme (its own
    # Achievement and endorsement), as when verifying credentials from many issuers.
    sample = min(300, len(documents))
    distinct = []
    for n in range(sample):
        programme = f"https://acme.example/programmes/p{n}"
        own_endorsement = signed_endorsement(parties, achievement_id=programme)
        document = credential(parties, number=n, endorsements=[own_endorsement])
        document["credentialSubject"]["achievement"]["id"] = programme
        distinct.append(document)
    print(f"\nfast path, every credential from a different programme ({sample} credentials)")
    distinct_signed = _run("sign", distinct, lambda d: sign(d, parties.org_key, parties.org_method))
    _run("verify", distinct_signed, lambda d: verify(d, resolver))

    modes = [("fast path (default)", None)]
    if args.plain:
        modes.append(("plain pyld", plain_canonicalizer))
    for label, canonicalizer in modes:
        print(f"\n{label}")
        signed = _run(
            "sign",
            documents,
            lambda d, c=canonicalizer: sign(d, parties.org_key, parties.org_method, canonicalizer=c),
        )
        results = _run("verify", signed, lambda d, c=canonicalizer: verify(d, resolver, canonicalizer=c))
        assert all(r.verified for r in results), "a credential failed to verify"
        sample = min(300, len(documents))
        set_default_canonicalizer(canonicalizer)
        try:
            _shares("sign", documents[:sample], lambda d: sign(d, parties.org_key, parties.org_method))
            _shares("verify", signed[:sample], lambda d: verify(d, resolver))
        finally:
            set_default_canonicalizer(None)


if __name__ == "__main__":
    main()
