"""One guarded HTTP GET to a URL someone else chose (an issuer's DID document, a status list, an
award's evidence link).

Every hop is checked before it is made:

* scheme http or https only (https only when `https_only`, except plain http to loopback when
  `allow_loopback`, which only the test settings turn on);
* the host is resolved with `getaddrinfo` and EVERY address must be public unicast: loopback,
  private, link-local, multicast, reserved, unspecified and other non-global addresses are refused
  (loopback allowed only with `allow_loopback`), and so are the IPv6 forms that embed such an IPv4
  address (IPv4-mapped, 6to4 2002::/16, NAT64 64:ff9b::/96, Teredo, IPv4-compatible);
* the connection goes to the address that was checked, not to a second lookup of the name, so a
  DNS answer cannot change between the check and the connect (TLS still verifies the host name);
* no proxy from the environment, at most `max_redirects` redirects (each one checked again);
* a total deadline on the whole fetch, every hop included: a watchdog closes the connection when
  it passes, wherever the fetch is blocked (connecting, the TLS handshake, headers or a body sent
  one byte at a time), and the body is read with `read1` so no single read waits for a full chunk;
* a size limit on the body (refused, or with `truncate` the first `max_bytes` are kept and the
  result says so);
* at most FETCH_CONCURRENCY fetches at once in one process (a web worker or a Celery worker): the
  others wait for a slot within their own deadline, then give up with kind "busy". Anonymous
  /verify look-ups therefore cannot tie up more than that many of a worker's threads.

Failures raise `FetchError` with a `kind` and a message meant for people.

A `FetchPool` (one per task: a batch chunk's evidence links) keeps the connections of its fetches
open (HTTP/1.1 keep-alive) and reuses one for a later fetch only when that fetch's own check gave the
same scheme, host, port AND checked address: every hop is still checked and pinned as above, the
pool only saves the TCP (and TLS) set-up. A pooled connection is watched by the deadline of the
fetch using it; one the server closed meanwhile is replaced once by a new connection.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import http.client
import ipaddress
import itertools
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext

from badges.fetch_words import reason_in_words

REDIRECT_CODES = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024


class FetchError(Exception):
    """A fetch that did not return a body. `kind` is one of: refused, unreachable, timeout,
    too_large, http_status, too_many_redirects, busy."""

    def __init__(self, kind: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int
    content_type: str
    body: bytes
    truncated: bool  # only with truncate=True: the body was longer than max_bytes
    # The response's status line reason and headers as received (what a WARC record keeps).
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    http_version: str = "HTTP/1.1"


# NAT64 prefixes (RFC 6052 well-known, RFC 8215 local use): the last 32 bits are an IPv4 address.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """(form, IPv4 address) when `ip` is one of the IPv6 forms that carry an IPv4 address, which a
    relay or a dual-stack host turns back into IPv4: 6to4, NAT64, Teredo and IPv4-compatible.
    (IPv4-mapped is handled by the caller: it is the IPv4 address itself.)"""
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "Teredo", ip.teredo[1]
    if any(ip in network for network in _NAT64):
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d, but not :: or ::1
        return "IPv4-compatible", ipaddress.IPv4Address(int(ip))
    return None


def _address_problem(address: str, *, allow_loopback: bool) -> str | None:
    """Why this address may not be contacted, or None if it may."""
    ip = ipaddress.ip_address(address.partition("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, ipv4 = embedded
            # Never loopback here, even in tests: the embedded address is reached through a relay.
            problem = _address_problem(str(ipv4), allow_loopback=False)
            if problem:
                return gettext("a %(form)s address that embeds %(address)s, %(problem)s") % {
                    "form": form, "address": ipv4, "problem": problem}
            if form in ("6to4", "NAT64"):  # a public IPv4 address behind a translator: judged by it
                return None
    if ip.is_loopback:
        return None if allow_loopback else gettext("a loopback address")
    if ip.is_unspecified:
        return gettext("an unspecified address")
    if ip.is_link_local:
        return gettext("a link-local address")
    if ip.is_multicast:
        return gettext("a multicast address")
    if ip.is_private:
        return gettext("a private address")
    if ip.is_reserved:
        return gettext("a reserved address")
    if not ip.is_global:
        return gettext("not a public address")
    return None


def checked_address(url: str, *, allow_loopback: bool, https_only: bool) -> tuple[str, str, int]:
    """(scheme, address to connect to, port) for a URL that may be fetched; `FetchError` if not."""
    scheme, host, port = _url_target(url)
    return _judged(scheme, host, port, _host_verdict(host, port, allow_loopback=allow_loopback),
                   https_only=https_only, allow_loopback=allow_loopback, url=url)


def _url_target(url: str) -> tuple[str, str, int]:
    """(scheme, host name, port) of a URL whose form may be fetched; `FetchError` if not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError("refused", gettext("%(url)r is not a valid URL.") % {"url": url}) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError("refused", gettext("Only http and https links are followed, not %(scheme)r.")
                         % {"scheme": scheme or gettext("no scheme")})
    if not parts.hostname:
        raise FetchError("refused", gettext("The link %(url)r names no host.") % {"url": url})
    if parts.username or parts.password:
        raise FetchError("refused", gettext("Links carrying a user name or password are not followed."))
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


@dataclass(frozen=True)
class _Verdict:
    """What one resolution of a host name gave: the address to connect to and whether every
    address was loopback, or the `FetchError` that refuses the host."""

    address: str = ""
    all_loopback: bool = False
    error: FetchError | None = None


def _host_verdict(host: str, port: int, *, allow_loopback: bool) -> _Verdict:
    """Resolve `host` now and judge EVERY address it resolves to (see the module's notes)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        return _Verdict(error=FetchError("unreachable", gettext("The host %(host)s could not be found (%(error)s).")
                                         % {"host": host, "error": reason_in_words(error)}))
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        return _Verdict(error=FetchError("unreachable", gettext("The host %(host)s has no address.") % {"host": host}))
    for address in addresses:
        problem = _address_problem(address, allow_loopback=allow_loopback)
        if problem:
            return _Verdict(error=FetchError(
                "refused", gettext("The host %(host)s resolves to %(address)s, %(problem)s; it is not contacted.")
                % {"host": host, "address": address, "problem": problem}))
    all_loopback = all(ipaddress.ip_address(a.partition("%")[0]).is_loopback for a in addresses)
    return _Verdict(address=addresses[0], all_loopback=all_loopback)


def _judged(scheme: str, host: str, port: int, verdict: _Verdict, *, https_only: bool, allow_loopback: bool,
            url: str) -> tuple[str, str, int]:
    if verdict.error is not None:
        raise FetchError(verdict.error.kind, verdict.error.message)
    if scheme == "http" and https_only and not (allow_loopback and verdict.all_loopback):
        raise FetchError("refused", gettext("Only https links are followed here, not %(url)r.") % {"url": url})
    return scheme, verdict.address, port


class _Deadlines:
    """The one thread of a process that fires the watchdogs whose deadline has passed (a timer
    thread per fetch cost more CPU than a fetch from a nearby server). Watchdogs wait in a heap by
    deadline; a cancelled one is dropped when it reaches the top. A forked child (a Celery prefork
    worker) starts its own thread on its first fetch."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, deadline: float, watchdog: _Watchdog) -> None:
        with self._condition:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fetch-deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (deadline, next(self._order), watchdog))
            if self._heap[0][2] is watchdog:  # sooner than what the thread waits for
                self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        watchdog = heapq.heappop(self._heap)[2]
                        break
                    self._condition.wait(self._heap[0][0] - now if self._heap else None)
            watchdog.fire()


_deadlines = _Deadlines()


class _Watchdog:
    """Closes every socket of one fetch when its deadline passes, so that no read, write, connect or
    handshake can outlive the deadline, however slowly the other side trickles bytes."""

    def __init__(self, deadline: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.fired = False
        self.cancelled = False
        _deadlines.add(deadline, self)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            self._close(sock)

    def fire(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    @staticmethod
    def _close(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv on this socket

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            self._sockets.clear()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address checked beforehand instead of resolving the host name again."""

    def __init__(self, host: str, *, pinned: str, watchdog: _Watchdog, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self._pinned = pinned
        self._watchdog = watchdog

    def connect(self) -> None:
        self.sock = socket.create_connection((self._pinned, self.port), self.timeout, self.source_address)
        self._watchdog.watch(self.sock)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, *, pinned: str, tls: ssl.SSLContext, watchdog: _Watchdog, **kwargs) -> None:
        super().__init__(host, context=tls, **kwargs)
        self._pinned = pinned
        self._tls = tls
        self._watchdog = watchdog

    def connect(self) -> None:
        sock = socket.create_connection((self._pinned, self.port), self.timeout, self.source_address)
        self._watchdog.watch(sock)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, pinned: str, watchdog: _Watchdog) -> None:
        super().__init__()
        self._pinned = pinned
        self._watchdog = watchdog

    def http_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPConnection, pinned=self._pinned, watchdog=self._watchdog),
                            req)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, pinned: str, watchdog: _Watchdog) -> None:
        super().__init__()
        self._pinned = pinned
        self._watchdog = watchdog

    def https_open(self, req):
        tls = ssl.create_default_context()
        return self.do_open(functools.partial(_PinnedHTTPSConnection, pinned=self._pinned, tls=tls,
                                              watchdog=self._watchdog), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as HTTPError so that `fetch` can check the next hop itself."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


PoolKey = tuple[str, str, int, str]  # scheme, host name, port, the address checked for it


class FetchPool:
    """Open connections of finished fetches, for later fetches to the same checked address (see the
    module's notes). Thread-safe; `close()` (or leaving the `with` block) closes them all."""

    def __init__(self, per_key: int = 8) -> None:
        self._lock = threading.Lock()
        self._idle: dict[PoolKey, list[http.client.HTTPConnection]] = {}
        self._per_key = per_key
        self.opened = 0  # connections made (for tests and the bench)
        self.reused = 0
        self._verdicts: dict[tuple[str, int, bool], _Verdict] = {}
        self.resolved = 0  # host names resolved and judged (for tests and the bench)

    def checked(self, url: str, *, allow_loopback: bool, https_only: bool) -> tuple[str, str, int]:
        """`checked_address` with each host name (and port) resolved and judged once for the pool's
        life (one batch chunk): its later fetches connect to the address checked then, so a DNS
        answer that changes meanwhile is never followed (no rebinding), and a refused host stays
        refused. Every URL's own form (scheme, user name, https only) is still checked."""
        scheme, host, port = _url_target(url)
        key = (host.lower(), port, allow_loopback)
        with self._lock:
            verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = _host_verdict(host, port, allow_loopback=allow_loopback)
            with self._lock:
                if key in self._verdicts:  # another thread judged it meanwhile: its verdict stands
                    verdict = self._verdicts[key]
                else:
                    self._verdicts[key] = verdict
                    self.resolved += 1
        return _judged(scheme, host, port, verdict, https_only=https_only, allow_loopback=allow_loopback, url=url)

    def take(self, key: PoolKey) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                self.reused += 1
                return idle.pop()
        return None

    def give(self, key: PoolKey, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._per_key:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            connections = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.close()

    def __enter__(self) -> FetchPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _opener(address: str, watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """An opener for http and https only, pinned to `address`, with no proxy and no redirects."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler({}), urllib.request.UnknownHandler(), _PinnedHTTPHandler(address, watchdog),
        _PinnedHTTPSHandler(address, watchdog), urllib.request.HTTPDefaultErrorHandler(), _NoRedirect(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _read(response, *, max_bytes: int, truncate: bool, deadline: float, url: str) -> tuple[bytes, bool]:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes and not truncate:
        raise FetchError("too_large", gettext("%(url)s is %(size)s bytes, more than the %(limit)s bytes allowed.")
                         % {"url": url, "size": f"{int(declared):,}", "limit": f"{max_bytes:,}"})
    body = bytearray()
    while len(body) <= max_bytes:
        if time.monotonic() > deadline:
            raise FetchError("timeout", _too_slow(url))
        # read1: whatever has arrived (one receive at most), never waiting to fill the chunk.
        chunk = response.read1(min(CHUNK, max_bytes + 1 - len(body)))
        if not chunk:
            if time.monotonic() > deadline:  # the watchdog closed the connection: not the end of the body
                raise FetchError("timeout", _too_slow(url))
            return bytes(body), False
        body += chunk
    if truncate:
        return bytes(body[:max_bytes]), True
    raise FetchError("too_large", gettext("%(url)s sends more than the %(limit)s bytes allowed.")
                     % {"url": url, "limit": f"{max_bytes:,}"})


def _too_slow(url: str) -> str:
    return gettext("%(url)s took too long to send its content.") % {"url": url}


def _no_answer(url: str, timeout: float) -> str:
    return gettext("%(url)s did not answer within %(seconds)s seconds.") % {"url": url, "seconds": f"{timeout:g}"}


def _unreachable(url: str, reason: object) -> str:
    return gettext("%(url)s could not be reached (%(reason)s).") % {"url": url, "reason": reason_in_words(reason)}


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    allow_loopback: bool = False,
    https_only: bool = False,
    max_redirects: int = 3,
    truncate: bool = False,
    accept: str = "*/*",
    pool: FetchPool | None = None,
) -> FetchResult:
    """GET `url` under the rules of this module. HTTP status ≥ 400 raises `FetchError("http_status")`.
    With a `pool`, the connection is kept open for a later fetch to the same checked address."""
    deadline = time.monotonic() + timeout
    slots = _slots()
    if not slots.acquire(timeout=max(0.0, timeout)):
        raise FetchError("busy", gettext("Too many outside addresses are being fetched at once; %(url)s was not "
                                         "fetched. Try again in a moment.") % {"url": url})
    watchdog = _Watchdog(deadline)
    try:
        return _fetch(url, deadline=deadline, timeout=timeout, watchdog=watchdog, max_bytes=max_bytes,
                      allow_loopback=allow_loopback, https_only=https_only, max_redirects=max_redirects,
                      truncate=truncate, accept=accept, pool=pool)
    finally:
        watchdog.cancel()
        slots.release()


_slots_lock = threading.Lock()
_slots_by_size: dict[int, threading.BoundedSemaphore] = {}


def _slots() -> threading.BoundedSemaphore:
    """The process's semaphore of FETCH_CONCURRENCY slots (one per value, so a changed setting applies)."""
    size = max(1, int(settings.FETCH_CONCURRENCY))
    with _slots_lock:
        if size not in _slots_by_size:
            _slots_by_size[size] = threading.BoundedSemaphore(size)
        return _slots_by_size[size]


def _request_failed(url: str, error: object, watchdog: _Watchdog, timeout: float) -> FetchError:
    """Sending the request or reading the answer's headers failed: a timeout, or the deadline's
    watchdog closing the connection while the headers trickled in, is no answer in time; anything
    else is an unreachable server."""
    if isinstance(error, TimeoutError) or watchdog.fired:
        return FetchError("timeout", _no_answer(url, timeout))
    return FetchError("unreachable", _unreachable(url, error))


def _body_failed(url: str, error: BaseException, watchdog: _Watchdog) -> FetchError:
    """Reading the body failed: too slow (a timeout, or the watchdog closed it), or broken off."""
    if isinstance(error, TimeoutError) or watchdog.fired:
        return FetchError("timeout", _too_slow(url))
    return FetchError("unreachable", gettext("%(url)s broke off while sending its content (%(error)s).")
                      % {"url": url, "error": reason_in_words(error)})


def _fetch(
    url: str, *, deadline: float, timeout: float, watchdog: _Watchdog, max_bytes: int, allow_loopback: bool,
    https_only: bool, max_redirects: int, truncate: bool, accept: str, pool: FetchPool | None = None,
) -> FetchResult:
    current = url
    for _hop in range(max_redirects + 1):
        check = checked_address if pool is None else pool.checked
        scheme, address, port = check(current, allow_loopback=allow_loopback, https_only=https_only)
        if pool is not None:
            hop = _pooled_hop(pool, current, (scheme, urlsplit(current).hostname or "", port, address),
                              deadline=deadline, timeout=timeout, watchdog=watchdog, max_bytes=max_bytes,
                              truncate=truncate, accept=accept)
            if isinstance(hop, str):  # a redirect: the next hop is checked at the top of the loop
                current = urljoin(current, hop)
                continue
            return hop
        opener = _opener(address, watchdog)
        # The scheme was checked above, and the opener has no file:, ftp: or data: handler anyway.
        request = urllib.request.Request(  # noqa: S310
            current, headers={"Accept": accept, "User-Agent": "endorsement-verifier/1"}
        )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", _no_answer(url, timeout))
        try:
            response = opener.open(request, timeout=remaining)
        except urllib.error.HTTPError as error:
            location = error.headers.get("Location") if error.headers else None
            error.close()
            if error.code in REDIRECT_CODES and location:
                current = urljoin(current, location)
                continue
            message = gettext("%(url)s answered HTTP %(status)s.") % {"url": current, "status": error.code}
            raise FetchError("http_status", message, status=error.code) from None
        except urllib.error.URLError as error:
            raise _request_failed(current, error.reason, watchdog, timeout) from None
        except (OSError, http.client.HTTPException) as error:  # TimeoutError is an OSError
            raise _request_failed(current, error, watchdog, timeout) from None
        try:
            with response:
                body, truncated = _read(response, max_bytes=max_bytes, truncate=truncate, deadline=deadline,
                                        url=current)
                content_type = response.headers.get("Content-Type", "")
                status = response.status
                reason = response.reason or ""
                headers = tuple(response.headers.items())
                http_version = "HTTP/1.0" if getattr(response, "version", 11) == 10 else "HTTP/1.1"
        except (OSError, http.client.HTTPException) as error:  # TimeoutError is an OSError
            raise _body_failed(current, error, watchdog) from None
        return FetchResult(url=current, status=status, content_type=content_type, body=body, truncated=truncated,
                           reason=reason, headers=headers, http_version=http_version)
    raise FetchError("too_many_redirects", gettext("%(url)s redirects more than %(count)s times.")
                     % {"url": url, "count": max_redirects})


def _pooled_connection(pool: FetchPool, key: PoolKey, *, watchdog: _Watchdog, remaining: float
                       ) -> tuple[http.client.HTTPConnection, bool]:
    """A connection to the checked address of `key` (from the pool, or new) watched by this fetch's
    deadline, and whether it was reused."""
    scheme, host, port, address = key
    connection = pool.take(key)
    if connection is not None:
        connection._watchdog = watchdog  # type: ignore[attr-defined]
        connection.timeout = remaining
        if connection.sock is not None:
            connection.sock.settimeout(remaining)
            watchdog.watch(connection.sock)
        return connection, True
    pool.opened += 1
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port=port, pinned=address, tls=ssl.create_default_context(),
                                      watchdog=watchdog, timeout=remaining), False
    return _PinnedHTTPConnection(host, port=port, pinned=address, watchdog=watchdog, timeout=remaining), False


def _pooled_hop(pool: FetchPool, url: str, key: PoolKey, *, deadline: float, timeout: float, watchdog: _Watchdog,
                max_bytes: int, truncate: bool, accept: str) -> FetchResult | str:
    """One hop of `_fetch` on a pooled keep-alive connection: the result, or a redirect's Location."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": accept, "User-Agent": "endorsement-verifier/1"}
    for attempt in (1, 2):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError("timeout", _no_answer(url, timeout))
        connection, reused = _pooled_connection(pool, key, watchdog=watchdog, remaining=remaining)
        try:
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            break
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
            connection.close()
            if reused and attempt == 1 and not watchdog.fired:
                continue  # the server closed the idle connection: once more on a new one
            raise FetchError("unreachable", _unreachable(url, error)) from None
        except (OSError, http.client.HTTPException) as error:  # TimeoutError is an OSError
            connection.close()
            raise _request_failed(url, error, watchdog, timeout) from None
    keep = False
    try:
        location = response.headers.get("Location")
        if response.status in REDIRECT_CODES and location:
            return location
        if response.status >= 400:
            message = gettext("%(url)s answered HTTP %(status)s.") % {"url": url, "status": response.status}
            raise FetchError("http_status", message, status=response.status)
        body, truncated = _read(response, max_bytes=max_bytes, truncate=truncate, deadline=deadline, url=url)
        # The whole body was read (read1 leaves a response with Content-Length open at length 0):
        # closing the response (not the connection) readies the connection for its next request.
        keep = not truncated and not response.will_close and (response.isclosed() or response.length == 0)
        response.close()
        return FetchResult(url=url, status=response.status, content_type=response.headers.get("Content-Type", ""),
                           body=body, truncated=truncated, reason=response.reason or "",
                           headers=tuple(response.headers.items()),
                           http_version="HTTP/1.0" if response.version == 10 else "HTTP/1.1")
    except (OSError, http.client.HTTPException) as error:  # TimeoutError is an OSError
        raise _body_failed(url, error, watchdog) from None
    finally:
        if keep and not watchdog.fired:
            pool.give(key, connection)
        else:
            connection.close()


@dataclass(frozen=True)
class PostResult:
    status: int
    body: bytes  # the first bytes of the answer, at most `max_bytes`


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_loopback: bool = False,
    https_only: bool = False,
    max_bytes: int = 4096,
) -> PostResult:
    """POST `body` to `url` under the rules of this module (a webhook delivery): the host's every
    address checked at this moment and the connection pinned to the one checked, no proxy, a total
    deadline. Redirects are not followed (a 3xx is an answer, and a failed one); a status >= 300
    raises `FetchError("http_status")`, and so do the other failures `fetch` names."""
    deadline = time.monotonic() + timeout
    slots = _slots()
    if not slots.acquire(timeout=max(0.0, timeout)):
        raise FetchError("busy", gettext("Too many outside addresses are being contacted at once; %(url)s was not "
                                         "contacted. It is tried again later.") % {"url": url})
    watchdog = _Watchdog(deadline)
    try:
        _scheme, address, _port = checked_address(url, allow_loopback=allow_loopback, https_only=https_only)
        request = urllib.request.Request(  # noqa: S310 - the scheme was checked above
            url, data=body, method="POST", headers={"User-Agent": "endorsement-webhooks/1", **headers})
        try:
            response = _opener(address, watchdog).open(request, timeout=max(0.001, deadline - time.monotonic()))
        except urllib.error.HTTPError as error:
            error.close()
            raise FetchError("http_status", gettext("%(url)s answered HTTP %(status)s.")
                             % {"url": url, "status": error.code}, status=error.code) from None
        except urllib.error.URLError as error:
            raise _request_failed(url, error.reason, watchdog, timeout) from None
        except (OSError, http.client.HTTPException) as error:  # TimeoutError is an OSError
            raise _request_failed(url, error, watchdog, timeout) from None
        with response:
            status = response.status
            try:
                answer = response.read1(max_bytes) if max_bytes else b""
            except (OSError, http.client.HTTPException):
                answer = b""
        if status >= 300:
            raise FetchError("http_status", gettext("%(url)s answered HTTP %(status)s.")
                             % {"url": url, "status": status}, status=status)
        return PostResult(status=status, body=answer)
    finally:
        watchdog.cancel()
        slots.release()
