#!/usr/bin/env python3
"""Writes Tests/C4CSRCoreTests/Fixtures/recovery-vector.json from docs/PROTOCOL.md §15.

Independent of the Swift encoder: Python's json, hashlib and the `cryptography` package
only. The worked example of §15: three founders (milano, nantes, sofia); sofia loses its
key; milano and nantes vouch for a recovery that gives sofia a new key and names sofia#1
(entry-vector.json) as the last entry valid under the old one; sofia~2's `recover` enacts
it; a thief holding the old key signs sofia#2, which is revoked. A second history has only
milano's vouch in the recover's past: not carried, so the recover is invalid and sofia~2's
chain is revoked instead. Run from the repository root:

    python3 scripts/make_recovery_vector.py
"""
import hashlib
import json

from vector_common import FIXTURES, canonical, entry, key, public


def main():
    first = json.loads((FIXTURES / "entry-vector.json").read_text())
    sofia, milano, nantes, sofia_new = key(0x00), key(0x20), key(0x80), key(0xc0)

    # The charter (§15): its network id is the SHA-256 of its canonical JSON, founders sorted.
    charter = {"format": "c4csr-network/1", "founders": sorted(["sofia", "milano", "nantes"]), "name": "CITIES4CSR test"}
    network = hashlib.sha256(canonical(charter)).hexdigest()

    motion = {"action": "recover", "city": "sofia", "generation": 2, "key": public(sofia_new),
              "last": {"id": first["id"], "seq": 1}}

    def vouch(origin, signing_key, time):
        return entry({
            "clock": {origin: 1, "sofia": 1}, "format": "c4csr/2", "kind": "vouch", "origin": origin,
            "payload": {"motion": motion, "network": network}, "prev": None, "seq": 1, "time": time,
        }, signing_key)

    vouch_milano = vouch("milano", milano, 1764151200000)
    vouch_nantes = vouch("nantes", nantes, 1764151260000)

    def recover(clock):
        return entry({
            "clock": clock, "format": "c4csr/2", "kind": "recover", "origin": "sofia~2",
            "payload": {"motion": motion, "network": network}, "prev": None, "seq": 1, "time": 1764151320000,
        }, sofia_new)

    recovered = recover({"milano": 1, "nantes": 1, "sofia": 1, "sofia~2": 1})
    one_vouch = recover({"milano": 1, "sofia": 1, "sofia~2": 1})

    # The thief, with the old key, after the entry the members stood by.
    thief = entry({
        "clock": {"sofia": 2}, "format": "c4csr/1", "kind": "retract", "origin": "sofia",
        "payload": {"base": [first["id"]], "practice": first["id"], "reason": "Withdrawn."},
        "prev": first["id"], "seq": 2, "time": 1764151380000,
    }, sofia)

    first_entry = {"body": first["body"], "id": first["id"], "sig": first["sig"]}

    def digest(entries):
        """§5 over chains: one head line per chain (its highest seq), sorted by chain id as bytes."""
        top = {}
        for e in entries:
            b = json.loads(e["body"])
            if b["seq"] > top.get(b["origin"], (0, ""))[0]:
                top[b["origin"]] = (b["seq"], e["id"])
        lines = sorted((o.encode(), s, i) for o, (s, i) in top.items())
        return hashlib.sha256("".join(f"head {o.decode()} {s} {i}\n" for o, s, i in lines).encode()).hexdigest()
    vector = {
        "comment": "Written by scripts/make_recovery_vector.py (Python, cryptography) from docs/PROTOCOL.md section 15, "
                   "independently of the Swift encoder. Entry sofia#1 is entry-vector.json.",
        "charter": charter,
        "charter_canonical": canonical(charter).decode(),
        "network": network,
        "keys": {
            "sofia": public(sofia), "milano": public(milano), "nantes": public(nantes), "sofia~2": public(sofia_new),
        },
        "seeds": {
            "sofia": bytes(range(0x00, 0x20)).hex(), "milano": bytes(range(0x20, 0x40)).hex(),
            "nantes": bytes(range(0x80, 0xa0)).hex(), "sofia~2": bytes(range(0xc0, 0xe0)).hex(),
        },
        "motion": motion,
        "motion_canonical": canonical(motion).decode(),
        "histories": [
            {
                "name": "a majority vouched: the recovery is valid and revokes the thief's entry",
                "entries": [first_entry, vouch_milano, vouch_nantes, recovered, thief],
                "valid_recovers": [recovered["id"]],
                "invalid": [],
                "revoked": [thief["id"]],
                "digest": digest([first_entry, vouch_milano, vouch_nantes, recovered, thief]),
            },
            {
                "name": "one vouch of two: not carried, so the recover is invalid and its chain revoked",
                "entries": [first_entry, vouch_milano, one_vouch, thief],
                "valid_recovers": [],
                "invalid": [one_vouch["id"]],
                "revoked": [one_vouch["id"]],
                "digest": digest([first_entry, vouch_milano, one_vouch, thief]),
            },
        ],
    }
    (FIXTURES / "recovery-vector.json").write_text(json.dumps(vector, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({"network": network, "motion": motion, "recover": recovered["id"], "thief": thief["id"]}, indent=1))


if __name__ == "__main__":
    main()
