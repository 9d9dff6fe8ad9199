#!/usr/bin/env python3
"""Verify a `c4csr export` using only docs/PROTOCOL.md, independently of the Swift code.

    scripts/verify_export.py EXPORT.jsonl --cards DIR [--cards DIR ...] [--expect-digest HEX]

Checks, for every line: the id is the SHA-256 of the body; the body is canonical JSON
with the fields of format c4csr/1 or c4csr/2; the Ed25519 signature verifies with the
origin's key in force (section 12: the key on its peer card, until a rotation in the
entry's own chain replaced it; a rotation's proof verifies with its new key); an officer
entry fits the officers in force and an author's signature verifies with the key of an
officer in force (section 13); the chain (seq, prev) and the vector clock are consistent; every entry's causal past precedes it; the file is in merged order;
a line's content (section 14) matches its entry's sealed field, follows the text rules,
and was not erased by a valid erasure in the file. Then recomputes heads and the
network digest, and lists each erasure with the cities that confirmed it.
Exit status 0 only if all holds.
Needs Python 3.11+ (tomllib) and the `cryptography` package.
"""
import argparse
import base64
import hashlib
import json
import pathlib
import sys
import tomllib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FIELDS = {"clock", "format", "kind", "origin", "payload", "prev", "seq", "time"}
KINDS = {"c4csr/1": {"publish", "revise", "retract", "adopt"}}
KINDS["c4csr/2"] = KINDS["c4csr/1"] | {"rotate", "officer", "erase", "ack"}
PRACTICE_KINDS = KINDS["c4csr/1"]
MAX_OFFICERS = 64  # section 11
MAX_CLOCK_COMPONENTS = 256  # section 11
MAX_ENTRIES_PER_POSITION = 2
MAX_FORKED_POSITIONS = 16
# Section 14: the fields that may be sealed, their maximum length, and whether a line
# break is allowed in them.
PERSONAL = {"summary": (8000, True), "challenge": (8000, True), "outcomes": (8000, True), "area": (200, False), "contact": (200, False)}
WHITE_SPACE = set(range(0x09, 0x0E)) | {0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000} | set(range(0x2000, 0x200B))


def text_ok(t, limit, multiline):
    """The text rules of section 6: length in code points, no controls, trimmed."""
    if not isinstance(t, str) or not 1 <= len(t) <= limit or ord(t[0]) in WHITE_SPACE or ord(t[-1]) in WHITE_SPACE:
        return False
    for ch in map(ord, t):
        if ch in (0x0A, 0x09, 0x2028, 0x2029):
            if not multiline:
                return False
        elif ch < 0x20 or 0x7F <= ch <= 0x9F or 0x202A <= ch <= 0x202E or 0x2066 <= ch <= 0x2069:
            return False
    return True


def check_content(e, entry_id, items):
    """Section 14: each content of a line is a sealed field of its entry, committed to."""
    fields = e["payload"].get("fields") if e["format"] == "c4csr/2" and e["kind"] in ("publish", "revise") else None
    if not isinstance(items, list) or not items or [c.get("field") for c in items] != sorted({c.get("field") for c in items}):
        raise ValueError("content is a non-empty array sorted by field, one item per field")
    for c in items:
        f = c["field"]
        if set(c) != {"field", "salt", "value"} or f not in PERSONAL:
            raise ValueError("a content is {field, salt, value} for a personal field")
        seal = fields.get(f) if isinstance(fields, dict) else None
        if not isinstance(seal, dict) or set(seal) != {"commit"}:
            raise ValueError(f"content for {f}, which this entry does not seal")
        salt = base64.b64decode(c["salt"], validate=True)
        if len(salt) != 32 or base64.b64encode(salt).decode() != c["salt"]:
            raise ValueError("a content's salt is the standard base64 of 32 bytes")
        if hashlib.sha256(b"c4csr-commit\n" + f.encode() + b"\n" + salt + canonical(c["value"])).hexdigest() != seal["commit"]:
            raise ValueError(f"the content of {f} does not match its commitment")
        v, (limit, multiline) = c["value"], PERSONAL[f]
        ok = (isinstance(v, dict) and set(v) == {"en", "local"} and all(text_ok(v[k], limit, multiline) for k in v)) if f == "summary" \
            else text_ok(v, limit, multiline)
        if not ok:
            raise ValueError(f"the content of {f} breaks the text rules of section 6")
    return [(entry_id, c["field"]) for c in items]


def happened_before(a, b):
    """Clock a happened before clock b (section 4)."""
    return a != b and all(b.get(c, 0) >= n for c, n in a.items())


def erasure_valid(p, origin, clock, versions):
    """Section 14: a well-formed erase of the erasing city's own practice, which happened before it."""
    if set(p) != {"fields", "practice", "reason"} or not isinstance(p["fields"], list) or not p["fields"]:
        return False
    if p["fields"] != sorted(set(p["fields"])) or any(f not in PERSONAL for f in p["fields"]):
        return False
    publish = versions.get(p["practice"])
    return text_ok(p["reason"], 500, False) and publish is not None and publish[0] == p["practice"] \
        and publish[1] == origin and happened_before(publish[2], clock)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in object")
    return dict(pairs)


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def only_safe_integers(value):
    """c4csr/1 bodies hold no floating point, and integers within +-(2^53 - 1)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return abs(value) <= 2**53 - 1
    if isinstance(value, list):
        return all(only_safe_integers(v) for v in value)
    if isinstance(value, dict):
        return all(only_safe_integers(v) for v in value.values())
    return False  # float, NaN, Infinity


def load_keys(dirs):
    keys = {}
    for d in dirs:
        for path in sorted(pathlib.Path(d).glob("*.toml")):
            card = tomllib.loads(path.read_text("utf-8"))
            if "public_key" in card and card["city"] not in keys:
                keys[card["city"]] = Ed25519PublicKey.from_public_bytes(base64.b64decode(card["public_key"], validate=True))
    return keys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("--cards", action="append", default=[], help="a directory of peer cards (*.toml)")
    ap.add_argument("--expect-digest", help="fail unless the recomputed digest (full or 16-digit prefix) equals this")
    args = ap.parse_args()
    keys = load_keys(args.cards)

    problems = []
    positions = {}   # (origin, seq) -> {id: clock}
    key_after = {}   # id -> the key in force after that entry (section 12)
    officers_after = {}  # id -> {officer: key} in force after that entry (section 13)
    top = {}         # origin -> highest seq
    versions = {}    # publish/revise id -> (practice, origin, clock, sealed fields)
    contents = {}    # (entry id, field) -> line
    erasures = {}    # erase id -> (origin, clock, practice, fields, time, confirmations)
    invalid = []     # ignored erase and ack entries (section 14): reported, not failures
    last_key = None
    count = 0
    with open(args.export, "rb") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            count += 1
            where = f"line {n}"
            try:
                line = json.loads(raw, object_pairs_hook=no_duplicates)
                body = base64.b64decode(line["body"], validate=True)
                sig = base64.b64decode(line["sig"], validate=True)
                entry_id = hashlib.sha256(body).hexdigest()
                if line.get("id", entry_id) != entry_id:
                    raise ValueError(f"id {line['id'][:12]} is not SHA-256(body) {entry_id[:12]}")
                e = json.loads(body.decode("utf-8"), object_pairs_hook=no_duplicates)
                if not only_safe_integers(e):
                    raise ValueError("body holds a non-integer or out-of-range number")
                if canonical(e) != body:
                    raise ValueError("body is not canonical JSON")
                members = set(e)
                if "author" in members and e.get("format") == "c4csr/2" and e.get("kind") in PRACTICE_KINDS:
                    members.discard("author")
                if members != FIELDS or e["format"] not in KINDS or e["kind"] not in KINDS[e["format"]]:
                    raise ValueError("body does not have the fields and kinds of format c4csr/1 or c4csr/2")
                origin, seq, prev, clock = e["origin"], e["seq"], e["prev"], e["clock"]
                where = f"line {n} ({origin}#{seq} {entry_id[:12]})"
                # Section 12: the key in force is the card's for seq 1, else the key in force
                # after the predecessor (whose line comes earlier: checked below).
                if seq == 1 or prev not in key_after:
                    if origin not in keys:
                        raise ValueError(f"no public key for {origin} in the cards")
                    key = keys[origin]
                    officers = {}
                else:
                    key = key_after[prev]
                    officers = officers_after[prev]
                try:
                    key.verify(sig, body)
                except InvalidSignature:
                    raise ValueError("signature does not verify with the key in force")
                after = key
                if e["kind"] == "rotate":
                    p = e["payload"]
                    if set(p) != {"key", "proof"} or seq == 1:
                        raise ValueError("a rotate has exactly key and proof, and is never a chain's first entry")
                    raw = base64.b64decode(p["key"], validate=True)
                    if len(raw) != 32:
                        raise ValueError("a rotate's key is 32 bytes")
                    after = Ed25519PublicKey.from_public_bytes(raw)
                    try:
                        after.verify(base64.b64decode(p["proof"], validate=True), f"c4csr-rotate\n{origin}\n{seq}\n{prev}".encode())
                    except InvalidSignature:
                        raise ValueError("the rotation's proof does not verify with its new key")
                officers_now = officers
                if e["kind"] == "officer":
                    # Section 13: enrol (or re-key) an officer, or remove one in force.
                    p = e["payload"]
                    action = p.get("action")
                    if action == "enrol" and set(p) == {"action", "key", "officer"}:
                        raw = base64.b64decode(p["key"], validate=True)
                        if len(raw) != 32 or base64.b64encode(raw).decode() != p["key"]:
                            raise ValueError("an officer's key is the standard base64 of 32 bytes")
                        if p["officer"] not in officers and len(officers) >= MAX_OFFICERS:
                            raise ValueError(f"{MAX_OFFICERS} officers are in force; no more may be enrolled")
                        officers_now = {**officers, p["officer"]: Ed25519PublicKey.from_public_bytes(raw)}
                    elif action == "remove" and set(p) == {"action", "officer"}:
                        if p["officer"] not in officers:
                            raise ValueError(f"officer {p['officer']} is not in force, so cannot be removed")
                        officers_now = {o: k for o, k in officers.items() if o != p["officer"]}
                    else:
                        raise ValueError("an officer payload is {action: enrol, key, officer} or {action: remove, officer}")
                if "author" in e:
                    a = e["author"]
                    if set(a) != {"officer", "sig"} or a["officer"] not in officers:
                        raise ValueError("its author is not an officer in force at this entry")
                    content = {"city": origin, "kind": e["kind"], "officer": a["officer"], "payload": e["payload"], "time": e["time"]}
                    raw = base64.b64decode(a["sig"], validate=True)
                    if len(raw) != 64 or base64.b64encode(raw).decode() != a["sig"]:
                        raise ValueError("an author's sig is the standard base64 of 64 bytes")
                    try:
                        officers[a["officer"]].verify(raw, b"c4csr-content\n" + canonical(content))
                    except InvalidSignature:
                        raise ValueError(f"the signature of officer {a['officer']} does not verify over the content")
                if clock.get(origin) != seq or any(v < 1 for v in clock.values()):
                    raise ValueError("clock[origin] must equal seq and components must be >= 1")
                if (seq == 1) != (prev is None):
                    raise ValueError("prev must be null exactly when seq is 1")
                if seq > 1:
                    before = positions.get((origin, seq - 1), {})
                    if prev not in before:
                        raise ValueError("its predecessor is not earlier in the file")
                    if any(before[prev].get(c, 0) > clock.get(c, 0) for c in before[prev]):
                        raise ValueError("its clock does not cover its predecessor's")
                if len(clock) > MAX_CLOCK_COMPONENTS:
                    raise ValueError(f"its clock has {len(clock)} components; the limit is {MAX_CLOCK_COMPONENTS}")
                for city, k in clock.items():
                    if city == origin:
                        continue
                    # Section 4, rule 3: an entry at (city, k) earlier in the file whose own
                    # clock this clock covers (so the whole causal past precedes this line).
                    there = positions.get((city, k), {})
                    if not there:
                        raise ValueError(f"its clock depends on {city}#{k}, which is not earlier in the file")
                    if not any(all(c.get(x, 0) <= clock.get(x, 0) for x in c) for c in there.values()):
                        raise ValueError(f"its clock names {city}#{k} but does not cover that entry's clock")
                if "content" in line:
                    for pair in check_content(e, entry_id, line["content"]):
                        contents[pair] = n
                p = e["payload"]
                if e["kind"] in ("publish", "revise") and isinstance(p, dict):
                    practice = entry_id if e["kind"] == "publish" else p.get("practice")
                    versions[entry_id] = (practice, origin, clock, p.get("fields"))
                elif e["kind"] == "erase":
                    if erasure_valid(p, origin, clock, versions):
                        erasures[entry_id] = (origin, clock, p["practice"], p["fields"], e["time"], {origin})
                    else:
                        invalid.append(f"{where}: an invalid erasure (ignored)")
                elif e["kind"] == "ack":
                    target = erasures.get(p.get("erase")) if set(p) == {"erase", "practice"} else None
                    if target is None or target[2] != p["practice"] or target[0] == origin or not happened_before(target[1], clock):
                        invalid.append(f"{where}: an invalid ack (ignored)")
                    else:
                        target[5].add(origin)
                key = (sum(clock.values()), origin.encode(), seq, bytes.fromhex(entry_id))
                if last_key is not None and key <= last_key:
                    raise ValueError("the file is not in merged order (clock sum, origin, seq, id)")
                last_key = key
                positions.setdefault((origin, seq), {})[entry_id] = clock
                key_after[entry_id] = after
                officers_after[entry_id] = officers_now
                top[origin] = max(top.get(origin, 0), seq)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as err:
                problems.append(f"{where}: {err}")

    # Section 14: what each valid erasure erased (a pair and its seal) must be on no line.
    def seal(vid, f):
        fields = versions[vid][3] if vid in versions else None
        v = fields.get(f) if isinstance(fields, dict) else None
        return v.get("commit") if isinstance(v, dict) else None
    for eid, (o, clock, practice, fields, when, confirmed) in erasures.items():
        erased = {seal(vid, f) for vid, (vp, vo, vclock, _) in versions.items() if vp == practice and vo == o
                  and happened_before(vclock, clock) for f in fields} - {None}
        for (vid, f), n in contents.items():
            if seal(vid, f) in erased:
                problems.append(f"line {n}: holds the content of {f} of {vid[:12]}, erased by {eid[:12]}")
        print(f"erasure {eid[:12]} by {o} of {', '.join(fields)} in {practice[:12]}: confirmed by {', '.join(sorted(confirmed))}")
    for note in invalid:
        print(note)
    heads = sorted((o, s, i) for o, s in top.items() for i in positions[(o, s)])
    forks = sorted((o, s, i) for (o, s), ids in positions.items() if len(ids) > 1 for i in ids)
    text = "".join(f"head {o} {s} {i}\n" for o, s, i in heads) + "".join(f"fork {o} {s} {i}\n" for o, s, i in forks)
    digest = hashlib.sha256(text.encode()).hexdigest()
    # Forks are a member's equivocation, recorded as evidence (section 4): reported, and
    # within the bounds of section 11 (two entries per position, 16 positions per city).
    per_city = {}
    for (o, s), ids in positions.items():
        if len(ids) > 1:
            per_city.setdefault(o, []).append(s)
            print(f"equivocation: {o} signed {len(ids)} entries with seq {s}")
            if len(ids) > MAX_ENTRIES_PER_POSITION:
                problems.append(f"{o}#{s} holds {len(ids)} entries; at most {MAX_ENTRIES_PER_POSITION} are kept")
    for o, seqs in per_city.items():
        if len(seqs) > MAX_FORKED_POSITIONS:
            problems.append(f"{o} has {len(seqs)} forked positions; at most {MAX_FORKED_POSITIONS} are kept")
    if args.expect_digest and not digest.startswith(args.expect_digest):
        problems.append(f"digest {digest[:16]} differs from the expected {args.expect_digest[:16]}")
    for p in problems:
        print(f"verify_export: {p}", file=sys.stderr)
    print(f"{count} entries, {len(heads)} cities, network digest {digest[:16]} ({digest})")
    print("OK: verified independently of c4csr" if not problems else f"FAILED: {len(problems)} problem(s)")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
