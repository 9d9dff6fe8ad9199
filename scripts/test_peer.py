#!/usr/bin/env python3
"""A hostile or faulty c4csr peer, written from docs/PROTOCOL.md with only Python's
standard library and `cryptography`, independent of the Swift encoder.

    test_peer.py attack  --target URL --pin PIN --dir CITY_DIR [--victim-dir DIR]
        Pushes every kind of bad input to a daemon as the city in CITY_DIR (whose card
        the daemon holds): forged signatures, another city's key, wrong prev, seq gaps,
        clocks claiming missing entries, replays, a fork, unknown cities, invalid UTF-8,
        deep and huge JSON, out-of-range numbers, broken entry streams; and tries to
        connect without a certificate and with an unknown one. Checks each answer and
        that the daemon's heads change only as they must. Prints one JSON summary
        line; exit status 0 only if every expectation held.

    test_peer.py serve --mode MODE --dir CITY_DIR [--port N] [--other-dir DIR]
        A misbehaving server with the identity in CITY_DIR: close (closes mid-response),
        slow (answers a byte at a time), truncated, oversized, http500, garbage,
        wrongcert (presents the certificate of --other-dir). Prints its port, serves
        until killed.
"""
import argparse
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def card(directory):
    import tomllib
    return tomllib.loads(open(os.path.join(directory, "city.toml"), encoding="utf-8").read())


def signing_key(directory):
    seed = base64.b64decode(open(os.path.join(directory, "keys", "entry-signing.key")).read().strip())
    return Ed25519PrivateKey.from_private_bytes(seed)


def spki_pin(der_cert):
    cert = x509.load_der_x509_certificate(der_cert)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256//" + base64.b64encode(hashlib.sha256(spki).digest()).decode()


def stream(entries, more=False):
    out = b"C4S1" + bytes([1 if more else 0]) + struct.pack(">I", len(entries))
    for body, sig in entries:
        out += struct.pack(">I", len(body)) + body + sig
    return out


PRACTICE = {"fields": {"challenge": "c", "language": "en", "status": "running",
                       "summary": {"en": "s", "local": "s"}, "title": {"en": "t", "local": "t"}}}


def entry(key, origin, seq, prev, clock, payload=PRACTICE, kind="publish", time_ms=1764061200000):
    body = canonical({"clock": clock, "format": "c4csr/1", "kind": kind, "origin": origin, "payload": payload,
                      "prev": prev, "seq": seq, "time": time_ms})
    return body, key.sign(body)


# --- attack ---------------------------------------------------------------------------

class Client:
    def __init__(self, target, pin, cert, key):
        self.host, self.port = target.split("//")[1].rstrip("/").rsplit(":", 1)
        self.port = int(self.port)
        self.pin = pin
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if cert:
            self.ctx.load_cert_chain(cert, key)

    def request(self, method, path, body=b"", content_type="application/json"):
        raw = socket.create_connection((self.host, self.port), timeout=20)
        with self.ctx.wrap_socket(raw) as s:
            if spki_pin(s.getpeercert(binary_form=True)) != self.pin:
                raise RuntimeError("server key does not match the pin")
            head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: {content_type}\r\n" \
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            s.sendall(head.encode() + body)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        header, _, payload = data.partition(b"\r\n\r\n")
        status = int(header.split(b" ")[1])
        return status, payload

    def raw(self, data):
        """Sends `data` as it is (a request this client would never form) and reads the answer."""
        raw = socket.create_connection((self.host, self.port), timeout=20)
        with self.ctx.wrap_socket(raw) as s:
            s.sendall(data)
            answer = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLError, OSError):
                    break
                if not chunk:
                    break
                answer += chunk
        header, _, payload = answer.partition(b"\r\n\r\n")
        status = int(header.split(b" ")[1]) if header.startswith(b"HTTP/") else 0
        return status, payload

    def heads(self):
        status, payload = self.request("GET", "/v1/heads")
        assert status == 200, (status, payload)
        return json.loads(payload)

    def push(self, entries_or_bytes):
        body = entries_or_bytes if isinstance(entries_or_bytes, bytes) else stream(entries_or_bytes)
        status, payload = self.request("POST", "/v1/push", body, "application/x-c4csr-entries")
        return status, json.loads(payload) if payload else None


def attack(args):
    me = card(args.dir)
    key = signing_key(args.dir)
    city = me["city"]
    client = Client(args.target, args.pin, os.path.join(args.dir, "tls.crt"), os.path.join(args.dir, "keys", "tls.key"))
    results = []
    failures = []

    def expect(name, ok, detail=""):
        results.append(name)
        if not ok:
            failures.append(f"{name}: {detail}")

    before = client.heads()
    victim = before["city"]
    other = Ed25519PrivateKey.generate()

    def refused(name, entries, code=None):
        status, answer = client.push(entries)
        ok = status == 200 and answer["inserted"] == 0 and len(answer["refused"]) == len(entries)
        if ok and code:
            ok = all(r["code"] == code for r in answer["refused"])
        expect(name, ok, f"HTTP {status} {answer}")

    def bad_request(name, raw):
        status, answer = client.push(raw)
        expect(name, status in (400, 413) and answer and "error" in answer, f"HTTP {status} {answer}")

    body, sig = entry(key, city, 1, None, {city: 1})
    refused("forged signature", [(body, bytes(64))], "entry_bad_signature")
    refused("signature by another key", [(body, other.sign(body))], "entry_bad_signature")
    refused("entry of the victim city signed by us", [entry(key, victim, 1, None, {victim: 1})], "entry_bad_signature")
    refused("wrong prev", [entry(key, city, 2, "ab" * 32, {city: 2})], "missing_predecessor")
    refused("seq gap", [entry(key, city, 5, "cd" * 32, {city: 5})], "missing_predecessor")
    refused("clock claims missing entries", [entry(key, city, 1, None, {city: 1, "milano": 999})], "missing_dependency")
    refused("unknown city", [entry(key, "atlantis", 1, None, {"atlantis": 1})], "entry_unknown_origin")
    refused("clock[origin] is not seq", [entry(key, city, 1, None, {city: 2})], "entry_malformed")
    for name, value in [("seq beyond 2^53", 2**60), ("negative time", -1)]:
        b = canonical({"clock": {city: 1}, "format": "c4csr/1", "kind": "publish", "origin": city, "payload": PRACTICE,
                       "prev": None, "seq": value if "seq" in name else 1, "time": value if "time" in name else 0})
        refused(name, [(b, key.sign(b))])
    b = b'{"clock":{"' + city.encode() + b'":1},"format":"c4csr/1","kind":"publish","origin":"' + city.encode() + \
        b'","payload":{"x":"\xff\xfe"},"prev":null,"seq":1,"time":0}'
    refused("invalid UTF-8", [(b, key.sign(b))])
    b = canonical({"clock": {city: 1}, "format": "c4csr/1", "kind": "publish", "origin": city, "payload": PRACTICE,
                   "prev": None, "seq": 1, "time": 0}).replace(b',"format"', b', "format"')
    refused("not canonical (whitespace)", [(b, key.sign(b))], "entry_not_canonical")
    # Arithmetic a member controls: a clock of 1,100 components near 2^53 (the sort of the
    # merged order overflowed on it) is out of range; 255 components wait for cities
    # this node has no card for, and nothing traps.
    huge_clock = {city: 1, **{f"c{i}": 2**53 - 1 for i in range(1100)}}
    refused("clock with 1,100 components near 2^53", [entry(key, city, 1, None, huge_clock)], "entry_out_of_range")
    wide_clock = {city: 1, **{f"c{i}": 2**53 - 1 for i in range(255)}}
    refused("clock naming 255 unknown cities at 2^53-1", [entry(key, city, 1, None, wide_clock)], "missing_dependency")
    deep = {"fields": PRACTICE["fields"]}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    refused("deeply nested JSON", [entry(key, city, 1, None, {city: 1}, payload=deep)])
    huge = canonical({"clock": {city: 1}, "format": "c4csr/1", "kind": "publish", "origin": city,
                      "payload": {"fields": PRACTICE["fields"], "pad": "x" * 70000}, "prev": None, "seq": 1, "time": 0})
    bad_request("huge entry (over 64 KiB)", stream([(huge, key.sign(huge))]))
    bad_request("entry stream with a wrong magic", b"XXXX" + stream([(body, key.sign(body))])[4:])
    bad_request("truncated entry stream", stream([(body, key.sign(body))])[:-10])
    bad_request("entry stream announcing 4 billion entries", b"C4S1\x00\xff\xff\xff\xff")
    bad_request("entry stream with trailing bytes", stream([(body, key.sign(body))]) + b"junk")
    status, payload = client.request("POST", "/v1/pull", b'{"have": [1,2]}')
    expect("pull with a malformed body", status == 400, f"HTTP {status}")
    status, payload = client.request("POST", "/v1/pull", b"[" * 100000)
    expect("pull with deeply nested JSON", status == 400, f"HTTP {status}")
    status, payload = client.request("POST", "/v1/entries", b'{"ids":["' + b"zz" * 32 + b'"]}')
    expect("entries with a bad id", status == 400, f"HTTP {status}")
    status, payload = client.raw(b"POST /v1/push HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                 b"Connection: close\r\n\r\nzz\r\nC4S1\r\n0\r\n\r\n")
    try:
        got = json.loads(payload)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        got = None
    expect("malformed chunking is a JSON 400", status == 400 and got == "malformed_message", f"HTTP {status} {payload[:200]}")
    for method, path, want, code in [("GET", "/v1/nothing", 404, "not_found"), ("GET", "/v2/heads", 400, "unsupported_version"),
                                     ("DELETE", "/v1/heads", 405, "method_not_allowed")]:
        status, payload = client.request(method, path)
        try:
            got = json.loads(payload)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            got = None
        expect(f"{method} {path} is a JSON {want}", status == want and got == code, f"HTTP {status} {payload}")

    after_bad = client.heads()
    expect("nothing of the above was stored", after_bad["digest"] == before["digest"], f"{before['digest']} -> {after_bad['digest']}")

    # A valid entry, then its replay: stored once.
    good = entry(key, city, 1, None, {city: 1})
    status, answer = client.push([good])
    expect("a valid entry is accepted", status == 200 and answer["inserted"] == 1, f"{status} {answer}")
    status, answer = client.push([good])
    expect("its replay changes nothing", status == 200 and answer["inserted"] == 0 and answer["duplicates"] == 1, f"{answer}")
    # A fork: a second, different entry with the same (origin, seq) — kept as evidence.
    fork = entry(key, city, 1, None, {city: 1}, payload={"fields": dict(PRACTICE["fields"], status="planned")})
    status, answer = client.push([fork])
    expect("a fork is kept as evidence", status == 200 and answer["inserted"] == 1 and answer["forks"] == 1, f"{answer}")
    after = client.heads()
    expect("the fork shows in the heads", after["forks"] == 2 and after["entries"] == before["entries"] + 2, f"{after}")

    # Clients that are not peers are refused during the TLS handshake.
    for name, cert in [("no client certificate", None), ("a certificate no card pins", args.stranger)]:
        if name.startswith("a certificate") and not cert:
            continue
        try:
            c = Client(args.target, args.pin, cert and os.path.join(cert, "tls.crt"), cert and os.path.join(cert, "keys", "tls.key"))
            status, _ = c.request("GET", "/v1/heads")
            expect(f"{name} is refused", False, f"got HTTP {status}")
        except (ssl.SSLError, ConnectionError, OSError, IndexError, ValueError) as e:
            expect(f"{name} is refused", True, str(e))
    status, _ = client.request("GET", "/v1/health")
    expect("the daemon still serves", status == 200, f"HTTP {status}")

    print(json.dumps({"tried": len(results), "failed": failures}))
    return 0 if not failures else 1


# --- serve ----------------------------------------------------------------------------

def serve(args):
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a parent may have left it ignored
    cert_dir = args.other_dir if args.mode == "wrongcert" else args.dir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(cert_dir, "tls.crt"), os.path.join(cert_dir, "keys", "tls.key"))
    ctx.verify_mode = ssl.CERT_NONE  # the faults under test are the server's; it does not ask for a client certificate
    listener = socket.create_server(("127.0.0.1", args.port))
    print(listener.getsockname()[1], flush=True)
    me = card(args.dir)

    def handle(raw):
        try:
            raw.settimeout(30)
            try:
                s = ctx.wrap_socket(raw, server_side=True)
            except ssl.SSLError:
                return
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    return
                data += chunk
            heads = canonical({"city": me["city"], "digest": "0" * 64, "entries": 0, "forks": 0,
                               "format": "c4csr-sync/1", "heads": []})
            if args.mode == "close":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"city\"")
            elif args.mode == "slow":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(heads))
                for b in heads:
                    s.sendall(bytes([b]))
                    time.sleep(1)
            elif args.mode == "truncated":
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(heads) + 100) + heads)
            elif args.mode == "oversized":
                size = 40 << 20
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size)
                block = b" " * 65536
                for _ in range(size // len(block)):
                    s.sendall(block)
            elif args.mode == "http500":
                body = b'{"error":{"code":"internal","message":"the test peer is broken"}}'
                s.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            elif args.mode in ("hugeheads", "hugeclock"):
                # What a hostile member answers: 10,000 heads at 2^53 - 1 (the heads
                # comparison overflowed on it), or a pulled entry whose clock has 1,100
                # components near 2^53 (the merged order overflowed on it).
                path = data.split(b" ", 2)[1]
                if path == b"/v1/heads" and args.mode == "hugeheads":
                    body = canonical({"city": me["city"], "digest": "1" * 64, "entries": 2**53 - 1, "forks": 0,
                                      "format": "c4csr-sync/1",
                                      "heads": [[f"c{i}", 2**53 - 1, "ab" * 32] for i in range(10000)]})
                elif path == b"/v1/heads":
                    body = canonical({"city": me["city"], "digest": "1" * 64, "entries": 1, "forks": 0,
                                      "format": "c4csr-sync/1", "heads": [[me["city"], 1, "ab" * 32]]})
                elif path == b"/v1/pull" and args.mode == "hugeclock":
                    clock = {me["city"]: 1, **{f"c{i}": 2**53 - 1 for i in range(1100)}}
                    body = stream([entry(signing_key(args.dir), me["city"], 1, None, clock)])
                else:
                    body = stream([])
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            elif args.mode == "garbage":
                body = b"<html>not c4csr</html>"
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            else:  # wrongcert: the handshake already failed on the client's pin check
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(heads) + heads)
            s.close()
        except (OSError, ssl.SSLError):
            pass

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("attack")
    a.add_argument("--target", required=True)
    a.add_argument("--pin", required=True)
    a.add_argument("--dir", required=True, help="the attacking city's data directory (its card is known to the target)")
    a.add_argument("--stranger", help="data directory of a city the target does not know")
    s = sub.add_parser("serve")
    s.add_argument("--mode", required=True, choices=["close", "slow", "truncated", "oversized", "http500", "garbage", "wrongcert", "hugeheads", "hugeclock"])
    s.add_argument("--dir", required=True)
    s.add_argument("--other-dir")
    s.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    return attack(args) if args.command == "attack" else serve(args)


if __name__ == "__main__":
    sys.exit(main())
