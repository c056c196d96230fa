"""The network under fetch: an httpx transport that connects only where it may.

Every host is resolved here and each address checked before connecting to it:
private, loopback, link-local and other non-public ranges are refused unless the
caller allows them. Checking at connect time, not before the request, leaves no gap
for a name to resolve differently in between (DNS rebinding), and covers every
redirect hop alike.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from daybook.errors import FetchError, NetworkError, RefusedError


class Refusal(Exception):
    """Raised inside the transport; ``Fetcher`` turns it into a ``FetchError`` for the URL."""

    def __init__(self, kind: type[FetchError], word: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.word, self.detail = kind, word, detail


def is_public(address: str) -> bool:
    """Whether ``address`` is on the public internet (not private, loopback, link-local...)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``; a name that does not resolve raises a ``Refusal``."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        word = "connection" if exc.errno == socket.EAI_AGAIN else "dns"
        raise Refusal(NetworkError, word, f"{host} does not resolve ({exc.strerror})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in found))


async def public_addresses(host: str, port: int) -> list[str]:
    """The addresses of ``host``, if every one is public; else a ``Refusal``."""
    addresses = await resolve(host, port)
    for address in addresses:
        if not is_public(address):
            raise Refusal(
                RefusedError,
                "private",
                f"{host} is at {address}, a private, loopback or link-local address"
                " (--allow-private fetches it anyway)",
            )
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves each host itself, refuses non-public addresses, connects to the checked one."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._allow_private:
            addresses = await resolve(host, port)
        else:
            addresses = await public_addresses(host, port)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("daybook does not fetch over unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(
    *, allow_private: bool, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncHTTPTransport:
    """httpx's transport, connecting only to public addresses unless ``allow_private``."""
    context = ssl_context or httpx.create_ssl_context()
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=context)
    # httpx takes no network backend of its own, so its pool is rebuilt around ours.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allow_private=allow_private),
    )
    return transport
