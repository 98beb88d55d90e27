"""Fixtures for the credential library tests: parties with keys, the W3C test vectors' loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from badges.credentials import StaticDocumentLoader, make_loader

from .factories import Parties

EXAMPLES_CONTEXT_URL = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture
def parties() -> Parties:
    return Parties()


@pytest.fixture(scope="session")
def vectors_dir(shared_dir: Path) -> Path:
    return shared_dir / "vc-di-eddsa"


@pytest.fixture(scope="session")
def examples_loader(vectors_dir: Path) -> StaticDocumentLoader:
    """The bundled contexts plus the W3C examples context, read from ../shared."""
    context = json.loads((vectors_dir / "contexts" / "credentials-examples-v2.json").read_text())
    return make_loader({EXAMPLES_CONTEXT_URL: context})


@pytest.fixture(scope="session")
def ob3_schemas(shared_dir: Path) -> dict[str, Any]:
    folder = shared_dir / "ob3-schemas"
    return {
        name: json.loads((folder / f"ob_v3p0_{name}_schema.json").read_text())
        for name in ("achievementcredential", "endorsementcredential")
    }


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any network access (pyld's default loader, sockets) fail loudly."""
    import socket

    from pyld import jsonld

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(jsonld, "_default_document_loader", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="session")
def clr_schema(shared_dir: Path) -> dict[str, Any]:
    """The CLR 2.0 ClrCredential JSON Schema (../shared/clr-schemas; read, never copied)."""
    return json.loads((shared_dir / "clr-schemas" / "clr_v2p0_clrcredential_schema.json").read_text())
