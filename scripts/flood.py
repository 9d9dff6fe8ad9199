#!/usr/bin/env python3
"""Hold a daemon's sync port under a flood, for the open-port tests (loopback only).

    scripts/flood.py PORT [--source 127.0.0.2] [--idle 2000] [--slow-handshake 50 --handshake-source 127.0.0.4]
                     [--slow-body 20 --cert CRT --key KEY --body-source 127.0.0.3]
                     [--seconds 10]

Three kinds of connection, each reopened as soon as the server closes it, until
--seconds have passed:
- idle: a TCP connection that never sends a byte;
- slow handshake: a TLS ClientHello dribbled one byte a second;
- slow body (with --cert/--key, a pinned peer's TLS identity): a finished handshake,
  then `POST /v1/push` announcing 24 MiB and sending a few bytes a second.
Reconnections are limited to --rate a second. Prints one JSON line at the end: connections opened and closed by the server per kind.
The target must be 127.0.0.1 (or another loopback address): nothing else is allowed.
"""
import argparse
import json
import resource
import selectors
import socket
import ssl
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--source", default="127.0.0.2", help="source address of idle and slow-handshake connections")
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--slow-handshake", type=int, default=50)
    ap.add_argument("--handshake-source", default="127.0.0.4")
    ap.add_argument("--slow-body", type=int, default=0)
    ap.add_argument("--body-source", default="127.0.0.3")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rate", type=int, default=500, help="most reconnections a second")
    args = ap.parse_args()
    if not args.host.startswith("127.") and args.host != "::1":
        sys.exit("flood.py: loopback targets only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.idle + args.slow_handshake + args.slow_body + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    stats = {k: {"opened": 0, "closed_by_server": 0, "failed": 0} for k in ("idle", "handshake", "body")}
    sel = selectors.DefaultSelector()
    slots = []  # (kind, socket or None, state)

    def connect(source):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.setblocking(False)
        s.connect_ex((args.host, args.port))
        return s

    hello = build_client_hello()
    tls = None
    if args.slow_body:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        tls.load_cert_chain(args.cert, args.key)

    def open_slot(kind):
        try:
            if kind == "body":
                raw = socket.create_connection((args.host, args.port), timeout=5, source_address=(args.body_source, 0))
                s = tls.wrap_socket(raw)
                s.sendall(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-c4csr-entries\r\n"
                          b"Content-Length: 25165824\r\n\r\nC4S1")
                s.setblocking(False)
            else:
                s = connect(args.source if kind == "idle" else args.handshake_source)
            stats[kind]["opened"] += 1
            return [kind, s, 0]
        except OSError:
            stats[kind]["failed"] += 1
            return [kind, None, 0]

    for kind, n in (("idle", args.idle), ("handshake", args.slow_handshake), ("body", args.slow_body)):
        for _ in range(n):
            slots.append(open_slot(kind))

    # Wait on readability (a closed connection reads as EOF) rather than polling every
    # socket, and reopen at most --rate connections a second: the flood holds the
    # server's caps without burning this machine's CPU (tests share it).
    for i, slot in enumerate(slots):
        if slot[1] is not None:
            sel.register(slot[1], selectors.EVENT_READ, i)
    end = time.monotonic() + args.seconds
    next_drip = time.monotonic() + 1
    budget = args.rate
    budget_at = time.monotonic()
    closed = []
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.1):
            i = key.data
            kind, s, _ = slots[i]
            try:
                data = s.recv(4096)
                if data:
                    continue
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                pass
            stats[kind]["closed_by_server"] += 1
            sel.unregister(s)
            s.close()
            slots[i][1] = None
            closed.append(i)
        now = time.monotonic()
        if now - budget_at >= 1:
            budget, budget_at = args.rate, now
        while closed and budget > 0:
            i = closed.pop(0)
            budget -= 1
            slots[i] = open_slot(slots[i][0])
            if slots[i][1] is not None:
                sel.register(slots[i][1], selectors.EVENT_READ, i)
            else:
                closed.append(i)
                break
        if now >= next_drip:
            next_drip = now + 1
            for i, (kind, s, sent) in enumerate(slots):
                if s is None:
                    continue
                try:
                    if kind == "handshake" and sent < len(hello):
                        s.send(hello[sent:sent + 1])
                        slots[i][2] += 1
                    elif kind == "body":
                        s.send(b"\x00" * 16)
                except (OSError, ssl.SSLError, BlockingIOError):
                    pass
    for _, s, _ in slots:
        if s is not None:
            s.close()
    print(json.dumps(stats, sort_keys=True))


def build_client_hello():
    """The first bytes of a TLS 1.2 ClientHello record: enough to start a handshake."""
    body = (b"\x03\x03" + b"\x00" * 32 + b"\x00" + b"\x00\x02\xc0\x2b" + b"\x01\x00" + b"\x00\x00")
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake


if __name__ == "__main__":
    main()
