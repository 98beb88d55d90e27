"""Run 1EdTech's Open Badges 2.0 validator (openbadges-validator-core) offline. Executed by the
interpreter of .venv-ob2 (its own venv: tests/ob2_validator/requirements.txt says why), never
imported by the server or the test suite.

Every HTTP request the validator makes goes through one patched `requests` transport:

* a JSON-LD context in CONTEXTS_DIR/index.json (the OB 2.0 context among them) is answered from
  its local file, never fetched;
* a URL on ALLOWED_ORIGIN (the live test server) is fetched from it;
* anything else is refused (a ConnectionError for the validator) and listed in "refused".

stdin: a JSON list of inputs, each {"url": "..."}, {"json": {...}} or {"png_base64": "..."}.
stdout: one JSON line {"results": [the validator's report per input], "local": [...],
"fetched": [...], "refused": [...]}.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict

CONTEXTS_DIR = Path(os.environ["CONTEXTS_DIR"])
ALLOWED_ORIGIN = os.environ["ALLOWED_ORIGIN"].rstrip("/")
CONTEXTS = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
LOG: dict[str, list[str]] = {"local": [], "fetched": [], "refused": []}
_send = requests.adapters.HTTPAdapter.send


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _local(request: requests.PreparedRequest, path: Path) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = path.read_bytes()
    response.headers = CaseInsensitiveDict({"Content-Type": "application/ld+json"})
    response.url = request.url
    response.request = request
    response.encoding = "utf-8"
    return response


def _offline_send(self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, *args, **kwargs):
    url = request.url or ""
    bare = url.split("#", 1)[0]
    if bare in CONTEXTS:
        LOG["local"].append(bare)
        return _local(request, CONTEXTS_DIR / CONTEXTS[bare])
    if _origin(url) == ALLOWED_ORIGIN:
        LOG["fetched"].append(url)
        return _send(self, request, *args, **kwargs)
    LOG["refused"].append(url)
    raise requests.ConnectionError(f"offline: {url} is neither a local context nor on {ALLOWED_ORIGIN}")


requests.adapters.HTTPAdapter.send = _offline_send

from openbadges import verify  # noqa: E402  (after the transport is patched)


def _input(item: dict):
    if "url" in item:
        return item["url"]
    if "json" in item:
        return json.dumps(item["json"])
    return io.BytesIO(base64.b64decode(item["png_base64"]))


def main() -> None:
    items = json.load(sys.stdin)
    results = [verify(_input(item), use_cache=False) for item in items]
    print(json.dumps({"results": results, **LOG}, default=str))


if __name__ == "__main__":
    main()
