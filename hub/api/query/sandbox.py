"""Network confinement for the processes that execute SPARQL (queries and updates).

Oxigraph runs ``SERVICE`` calls itself, with its own HTTP client, and offers no hook to refuse
them. The parse check of :mod:`hub.api.query.safety` refuses what it can see, but two parsers
can always read a text differently, so the worker processes are also put where they *cannot*
reach what is not allowed, whatever they parse:

* the worker moves into a network namespace of its own (``unshare``; a user namespace too when
  it is not root), where no interface but loopback exists: no host, no port, no DNS;
* with an empty allow-list (the default), that is all: no network at all;
* with an allow-list, each allowed ``host:port`` gets a loopback address in the worker
  (127.0.0.2, 127.0.0.3, ...), written in a private ``/etc/hosts`` (a mount namespace, so
  nothing changes outside), where a relay thread listens. Each connection it accepts is asked
  of an *egress* process, forked before the namespaces were left, which connects to that
  allowed ``host:port`` only (it receives an index, never an address) and passes the socket
  back (``SCM_RIGHTS``). TLS goes through untouched: certificates are checked as usual.

Where the kernel refuses namespaces (some containers), :func:`confine` logs a warning and the
parse check is the only guard; :data:`CONFINED` says which case holds.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import ipaddress
import logging
import os
import signal
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger("maillage.sandbox")

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
CONNECT_TIMEOUT = 10.0

CONFINED = False
"""True once this process is in its own network namespace."""


@dataclass(frozen=True)
class Endpoint:
    """One allowed ``host:port`` and the loopback address it is given inside the sandbox."""

    host: str
    port: int
    local: str


def endpoints(allowlist: tuple[str, ...] | list[str]) -> list[Endpoint]:
    """The distinct ``host:port`` pairs of the allow-list, each with its own loopback address."""
    found: list[Endpoint] = []
    seen: set[tuple[str, int]] = set()
    for iri in allowlist:
        parts = urlsplit(iri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            log.warning("allow-list entry %r is not an http(s) URL; it is ignored", iri)
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.hostname, port)
        if key in seen:
            continue
        seen.add(key)
        local = _local_address(parts.hostname, len(found))
        if local is None:
            log.warning("allow-list host %s: an IP outside loopback; give its name", parts.hostname)
            continue
        found.append(Endpoint(parts.hostname, port, local))
    return found


def _local_address(host: str, index: int) -> str | None:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"127.0.0.{2 + index}"  # a name: /etc/hosts sends it here
    return str(address) if address.version == 4 and address.is_loopback else None


def confine(allowlist: tuple[str, ...]) -> None:
    """Leave the host's network; keep a path to the allow-listed endpoints only.

    Must run first in the worker, while it has a single thread (a user namespace requires it).
    """
    global CONFINED
    allowed = endpoints(allowlist)
    egress = _start_egress(allowed) if allowed else None
    flags = CLONE_NEWNET | (CLONE_NEWNS if allowed else 0)
    if os.geteuid() != 0:
        flags |= CLONE_NEWUSER
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(flags) != 0:
        log.warning(
            "cannot confine SPARQL workers to the allow-list (unshare: %s); only the parse check "
            "guards SERVICE calls", os.strerror(ctypes.get_errno()),
        )
        if egress is not None:
            egress.close()
        return
    CONFINED = True
    if egress is None:
        return
    _loopback_up()
    _private_hosts_file(libc, allowed)
    for index, endpoint in enumerate(allowed):
        listener = socket.create_server((endpoint.local, endpoint.port), backlog=64)
        threading.Thread(
            target=_relay, args=(listener, egress, index), daemon=True, name=f"relay-{index}"
        ).start()


def _start_egress(allowed: list[Endpoint]) -> socket.socket:
    """Fork the process that keeps the host's network and connects to allowed endpoints only."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the egress: the worker's sole link to the network
        ours.close()
        try:
            ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _egress_loop(theirs, allowed)
        finally:
            os._exit(0)
    theirs.close()
    return ours


def _egress_loop(channel: socket.socket, allowed: list[Endpoint]) -> None:
    while True:
        request = channel.recv(16)
        if not request:
            return  # the worker is gone
        try:
            endpoint = allowed[int(request)]
            remote = socket.create_connection((endpoint.host, endpoint.port), CONNECT_TIMEOUT)
        except (ValueError, IndexError, OSError):
            channel.sendall(b"no")  # never why: the caller must not learn what exists
            continue
        with remote:
            socket.send_fds(channel, [b"ok"], [remote.fileno()])


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(probe, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def _private_hosts_file(libc: ctypes.CDLL, allowed: list[Endpoint]) -> None:
    """Names resolve to the relays, and only the allow-listed names resolve at all."""
    lines = [f"{e.local} {e.host}" for e in allowed if e.local != e.host]
    if not any(e.host == "localhost" for e in allowed):
        lines.append("127.0.0.1 localhost")
    fd, path = tempfile.mkstemp(prefix="maillage-hosts-")
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0 or libc.mount(
        path.encode(), b"/etc/hosts", None, MS_BIND, None
    ) != 0:
        log.warning("cannot give SPARQL workers their own /etc/hosts: %s", os.strerror(ctypes.get_errno()))
    os.unlink(path)  # the bind mount keeps the file alive


_EGRESS_LOCK = threading.Lock()


def _relay(listener: socket.socket, egress: socket.socket, index: int) -> None:
    while True:
        client, _ = listener.accept()
        with _EGRESS_LOCK:
            egress.sendall(str(index).encode())
            answer, fds, _flags, _addr = socket.recv_fds(egress, 2, 1)
        if answer != b"ok" or not fds:
            client.close()
            continue
        remote = socket.socket(fileno=fds[0])
        remote.setblocking(True)  # it was connected with a timeout, which made the file non-blocking
        for source, sink in ((client, remote), (remote, client)):
            threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock, how in ((sink, socket.SHUT_WR), (source, socket.SHUT_RD)):
            with contextlib.suppress(OSError):
                sock.shutdown(how)
