#!/usr/bin/env python3
"""Generate a large, valid, signed c4csr log for benchmarks and scale tests.

    scripts/gen_log.py OUT.jsonl --entries 100000 [--cities 10] [--cards DIR] [--seed 1] [--officers]

Writes a JSON Lines export (docs/PROTOCOL.md §7) of ENTRIES publish entries from
CITIES synthetic cities (`bench-01`, `bench-02`, …), each signed with a key derived
from the seed, and a peer card per city into --cards. The history is a valid causal
one: the cities write in turn and each has seen everything before it, so the
export is in merged order and imports in one pass. Written from the protocol
document alone (no Swift code), like scripts/verify_export.py. With --officers, each
city's first entry enrols an officer (docs/PROTOCOL.md §13) and the officer writes
every later entry (format c4csr/2 with `author`: two signatures to verify per entry).

Needs Python's `cryptography`.
"""
import argparse
import base64
import hashlib
import json
import os
import pathlib
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

WORDS = ["zelena", "škola", "двор", "parks", "quartier", "fiatal", "kopiena", "impresa", "bairro", "mécénat",
         "zaļā", "közösség", "Пазарджик", "rijeka", "barrio", "ciudad", "park", "green", "jobs", "skills"]


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def city_key(seed, i):
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"c4csr-bench/{seed}/{i}".encode()).digest())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--cities", type=int, default=10)
    ap.add_argument("--cards", help="directory to write the cities' peer cards into")
    ap.add_argument("--seed", default="1")
    ap.add_argument("--time", type=int, default=1_764_061_200_000, help="time of the first entry (ms)")
    ap.add_argument("--officers", action="store_true", help="an officer per city writes every entry after its enrolment")
    args = ap.parse_args()
    if not 1 <= args.cities <= 99 or args.entries < 0:
        ap.error("--cities must be 1..99 and --entries >= 0")

    cities = [f"bench-{i + 1:02d}" for i in range(args.cities)]
    keys = [city_key(args.seed, i) for i in range(args.cities)]
    if args.cards:
        d = pathlib.Path(args.cards)
        d.mkdir(parents=True, exist_ok=True)
        for city, key in zip(cities, keys):
            pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            (d / f"{city}.toml").write_text(
                f'format = "c4csr-card/1"\ncity = "{city}"\nname = "{city}"\nlocal_name = "{city}"\n'
                f'country = "EU"\nlanguage = "en"\npublic_key = "{base64.b64encode(pub).decode()}"\n', "utf-8")

    officers = [Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"c4csr-bench/{args.seed}/officer/{i}".encode()).digest())
                for i in range(args.cities)]
    clock = {}
    prev = {}
    with open(args.out, "wb", buffering=1 << 20) as out:
        for n in range(args.entries):
            i = n % args.cities
            origin = cities[i]
            seq = clock.get(origin, 0) + 1
            clock[origin] = seq
            w = [WORDS[(n * 7 + k) % len(WORDS)] for k in range(4)]
            fields = {
                "challenge": f"Challenge {n}: {w[0]} {w[1]}",
                "language": "en",
                "sdgs": [1 + n % 17],
                "status": "running",
                "summary": {"en": f"Practice {n} about {w[2]} and {w[3]}.", "local": f"{w[0]} {w[1]} {w[2]} {w[3]} {n}"},
                "themes": [f"theme-{n % 12}"],
                "title": {"en": f"Practice {n}", "local": f"{w[0].capitalize()} {n}"},
            }
            value = {
                "clock": dict(clock), "format": "c4csr/1", "kind": "publish", "origin": origin,
                "payload": {"fields": fields}, "prev": prev.get(origin), "seq": seq, "time": args.time + n,
            }
            if args.officers and seq == 1:
                pub = officers[i].public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                value.update(format="c4csr/2", kind="officer",
                             payload={"action": "enrol", "key": base64.b64encode(pub).decode(), "officer": f"officer-{i + 1:02d}"})
            elif args.officers:
                content = {"city": origin, "kind": "publish", "officer": f"officer-{i + 1:02d}", "payload": value["payload"],
                           "time": value["time"]}
                value["format"] = "c4csr/2"
                value["author"] = {"officer": f"officer-{i + 1:02d}",
                                   "sig": base64.b64encode(officers[i].sign(b"c4csr-content\n" + canonical(content))).decode()}
            body = canonical(value)
            entry_id = hashlib.sha256(body).hexdigest()
            prev[origin] = entry_id
            sig = keys[i].sign(body)
            out.write(canonical({"body": base64.b64encode(body).decode(), "id": entry_id,
                                 "sig": base64.b64encode(sig).decode()}) + b"\n")
    print(f"gen_log: {args.entries} entries from {args.cities} cities -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
