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
and was not erased by a valid erasure in the file. With the network's charter
(`--charter network.toml`, section 15): chains of later generations (`sofia~2`), whose
first entry is a `recover` verified with the key its motion names, and the verdicts —
which `member` and `recover` entries are valid, which entries are revoked. Then
recomputes heads and the network digest, and lists each erasure with the cities that
confirmed it, each invalid membership entry and each revoked entry.
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
KINDS["c4csr/2"] = KINDS["c4csr/1"] | {"rotate", "officer", "erase", "ack", "vouch", "member", "recover"}
MEMBERSHIP = {"vouch", "member", "recover"}  # section 15
MAX_GENERATION = 999
MAX_FOUNDERS = 256
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
    # The publishing city's: any of its chains (section 15) may erase.
    return text_ok(p["reason"], 500, False) and publish is not None and publish[0] == p["practice"] \
        and chain_of(publish[1])[0] == chain_of(origin)[0] and happened_before(publish[2], clock)


# Section 3: the encodings of the points of small order (for them one fixed signature
# verifies any message); the sign bit of the last byte is ignored. Non-canonical
# encodings (y >= 2^255 - 19) are refused too.
SMALL_ORDER = [bytes(32), bytes([1]) + bytes(31),
               bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
               bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
               bytes([0xEC]) + b"\xff" * 30 + b"\x7f"]  # p - 1 (order 2)


def public_key(raw, what):
    """An acceptable Ed25519 public key (section 3), or a ValueError naming `what`."""
    if len(raw) != 32:
        raise ValueError(f"{what} is 32 bytes")
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    masked = raw[:31] + bytes([raw[31] & 0x7F])
    if y >= 2**255 - 19 or masked in SMALL_ORDER:
        raise ValueError(f"{what} is not an acceptable Ed25519 public key (small order or non-canonical, section 3)")
    return Ed25519PublicKey.from_public_bytes(raw)


def chain_of(cid):
    """Section 15: a chain id's city and generation ("sofia~2" -> ("sofia", 2)), or None."""
    if not isinstance(cid, str):
        return None
    city, sep, g = cid.partition("~")
    if not city or not sep:
        return (city, 1) if city else None
    if not (g.isascii() and g.isdigit()) or g[0] == "0" or not 2 <= int(g) <= MAX_GENERATION:
        return None
    return (city, int(g))


def chain_id(city, generation):
    return city if generation == 1 else f"{city}~{generation}"


def std_base64(text, length, what):
    raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    if len(raw) != length or base64.b64encode(raw).decode() != text:
        raise ValueError(f"{what} is the standard base64 of {length} bytes")
    return raw


def is_hex64(v):
    return isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)


def read_charter(path):
    """Section 15: the charter, and the network id (SHA-256 of its canonical JSON)."""
    c = tomllib.loads(pathlib.Path(path).read_text("utf-8"))
    founders = c.get("founders")
    if set(c) != {"format", "name", "founders"} or c["format"] != "c4csr-network/1":
        raise SystemExit(f"verify_export: {path}: a charter has exactly format = \"c4csr-network/1\", name and founders")
    if not text_ok(c["name"], 100, False) or not isinstance(founders, list) or not 1 <= len(founders) <= MAX_FOUNDERS \
            or len(set(founders)) != len(founders) or any(chain_of(f) != (f, 1) for f in founders):
        raise SystemExit(f"verify_export: {path}: name is 1-100 characters; founders 1-{MAX_FOUNDERS} distinct city ids")
    value = {"format": c["format"], "founders": sorted(founders, key=lambda f: f.encode()), "name": c["name"]}
    return set(founders), hashlib.sha256(canonical(value)).hexdigest()


def motion_of(m):
    """Section 15: a motion, exactly as written: its canonical bytes, slot, subject and,
    for a recovery, what it names."""
    if isinstance(m, dict) and m.get("action") == "admit" and set(m) == {"action", "city", "key"} and chain_of(m["city"]) == (m["city"], 1):
        public_key(std_base64(m["key"], 32, "a motion's key"), "a motion's key")
        return {"motion": canonical(m), "slot": ("admit", m["city"]), "subject": m["city"], "recover": None}
    if isinstance(m, dict) and m.get("action") == "recover" and set(m) == {"action", "city", "generation", "key", "last"} \
            and chain_of(m["city"]) == (m["city"], 1):
        g, last = m["generation"], m["last"]
        if type(g) is not int or not 2 <= g <= MAX_GENERATION:
            raise ValueError(f"a recover motion's generation is 2 to {MAX_GENERATION}")
        public_key(std_base64(m["key"], 32, "a motion's key"), "a motion's key")
        if not isinstance(last, dict) or set(last) != {"id", "seq"} or type(last["seq"]) is not int or last["seq"] < 0 \
                or (last["seq"] == 0) != (last["id"] is None) or (last["id"] is not None and not is_hex64(last["id"])):
            raise ValueError("a recover motion's last is {id, seq}: id null exactly when seq is 0")
        return {"motion": canonical(m), "slot": ("recover", m["city"], g), "subject": m["city"],
                "recover": {"city": m["city"], "generation": g, "key": m["key"], "last_id": last["id"], "last_seq": last["seq"]}}
    raise ValueError("a motion is {action: admit, city, key} or {action: recover, city, generation, key, last}")


def statement_of(kind, p, origin, seq, network):
    """Section 15: a vouch, member or recover payload, exactly; its network must be ours."""
    if not isinstance(p, dict) or not is_hex64(p.get("network")):
        raise ValueError(f"a {kind} payload names the network id (64 lowercase hex digits)")
    if p["network"] != network:
        raise ValueError(f"this {kind} names network {p['network'][:16]}, not the charter's {network[:16]}")
    if kind == "member":
        if set(p) != {"action", "network"} or p["action"] not in ("join", "leave"):
            raise ValueError("a member payload is exactly {action: join or leave, network}")
        return {"kind": p["action"]}
    if set(p) != {"motion", "network"}:
        raise ValueError(f"a {kind} payload is exactly {{motion, network}}")
    st = {"kind": kind, **motion_of(p["motion"])}
    if kind == "recover":
        r = st["recover"]
        if r is None:
            raise ValueError("a recover entry names a recover motion")
        if origin != chain_id(r["city"], r["generation"]) or seq != 1:
            raise ValueError(f"a recover of {r['city']} generation {r['generation']} is the entry at seq 1 of {chain_id(r['city'], r['generation'])}")
    return st


class Verdicts:
    """Section 15's verdicts, computed in merged order from the entries held: which member
    and recover entries are valid, and which entries are revoked."""

    def __init__(self, founders, links, positions, enacting, vouches, founding_keys):
        """`positions`: (chain, seq) -> {id: clock}, the clocks the main pass keeps."""
        self.founders, self.links, self.positions, self.vouches = founders, links, positions, vouches
        self.valid_membership, self.valid_recovers, self.invalid = [], {}, {}
        for e in sorted(enacting, key=lambda f: f["order"]):
            why = self.refusal(e, founding_keys)
            if why:
                self.invalid[e["id"]] = why
            elif e["st"]["kind"] == "recover":
                self.valid_recovers.setdefault(e["origin"], []).append(e)
            else:
                self.valid_membership.append(e)

    def fact(self, entry_id):
        origin, seq, prev = self.links[entry_id]
        return {"id": entry_id, "origin": origin, "city": chain_of(origin)[0], "seq": seq, "prev": prev, "clock": self.positions[(origin, seq)][entry_id]}

    @staticmethod
    def in_past(e, f):
        return f["seq"] <= e["clock"].get(f["origin"], 0)

    def ancestor(self, entry_id, seq):
        cursor = entry_id
        while cursor in self.links and self.links[cursor][1] > seq:
            cursor = self.links[cursor][2]
        return cursor if cursor in self.links and self.links[cursor][1] == seq else None

    def is_revoked(self, entry_id, scope=None):
        origin, seq, _ = self.links[entry_id]
        city, generation = chain_of(origin)
        def in_scope(f):
            return scope is None or self.in_past(scope, f)
        if generation > 1:
            first = self.ancestor(entry_id, 1)
            if not any(f["id"] == first and in_scope(f) for f in self.valid_recovers.get(origin, [])):
                return True
        if generation >= MAX_GENERATION:
            return False
        for rec in self.valid_recovers.get(chain_id(city, generation + 1), []):
            if not in_scope(rec):
                continue
            r = rec["st"]["recover"]
            if seq > r["last_seq"] or r["last_id"] not in self.links or self.ancestor(r["last_id"], seq) != entry_id:
                return True
        return False

    def members_at(self, e):
        last = {}
        for m in self.valid_membership:
            if self.in_past(e, m) and not self.is_revoked(m["id"], e):
                held = last.get(m["city"])
                if held is None or self.comes_after(m, held):
                    last[m["city"]] = m
        members = set(self.founders)
        for city, m in last.items():
            (members.add if m["st"]["kind"] == "join" else members.discard)(city)
        return members

    @staticmethod
    def comes_after(a, b):
        ga, gb = chain_of(a["origin"])[1], chain_of(b["origin"])[1]
        if ga != gb:
            return ga > gb
        if a["seq"] != b["seq"]:
            return a["seq"] > b["seq"]
        return a["st"]["kind"] == "leave" and b["st"]["kind"] == "join"

    def member_before(self, city, e):
        if e["prev"] is None or e["prev"] not in self.links:
            return city in self.founders
        return city in self.members_at(self.fact(e["prev"]))

    def tally(self, motion, slot, subject, e):
        electorate = self.members_at(e) - {subject}
        said = {}
        for v in self.vouches.get(slot, []):
            if self.in_past(e, v) and not self.is_revoked(v["id"], e):
                said.setdefault(v["city"], set()).add(v["st"]["motion"])
        count = sum(1 for c in electorate if said.get(c) == {motion})
        return count, len(electorate), 2 * count > len(electorate)

    def refusal(self, e, founding_keys):
        kind, city = e["st"]["kind"], e["city"]
        if kind != "recover" and self.is_revoked(e["id"], e):
            return f"it is in a revoked part of {city}'s chains"
        if kind == "join":
            if self.member_before(city, e):
                return f"{city} is a member already"
            if city not in founding_keys:
                return f"no founding key is known for {city}"
            n, of, carried = self.tally(canonical({"action": "admit", "city": city, "key": founding_keys[city]}), ("admit", city), city, e)
            return None if carried else f"the admission of {city} is not carried: {n} of {of} members vouched for it"
        if kind == "leave":
            return None if self.member_before(city, e) else f"{city} is not a member"
        r = e["st"]["recover"]
        n, of, carried = self.tally(e["st"]["motion"], e["st"]["slot"], city, e)
        if not carried:
            return f"the recovery of {city} is not carried: {n} of {of} members vouched for it"
        old = chain_id(city, r["generation"] - 1)
        if r["generation"] > 2 and not any(self.in_past(e, f) for f in self.valid_recovers.get(old, [])):
            return f"generation {r['generation'] - 1} of {city} was never recovered into (generations are not skipped)"
        if r["last_id"] is not None:
            last = self.links.get(r["last_id"])
            if last is None or last[0] != old or last[1] != r["last_seq"] or r["last_seq"] > e["clock"].get(old, 0):
                return f"the entry it stands by, {old}#{r['last_seq']} {r['last_id'][:12]}, is not in its past"
        return None


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
    """Each city's card key: as a key, and as written (an admission names it)."""
    keys, written = {}, {}
    for d in dirs:
        for path in sorted(pathlib.Path(d).glob("*.toml")):
            card = tomllib.loads(path.read_text("utf-8"))
            if "public_key" in card and card["city"] not in keys:
                try:
                    keys[card["city"]] = public_key(base64.b64decode(card["public_key"], validate=True), f"the key on {path.name}")
                except ValueError as err:
                    raise SystemExit(f"verify_export: {err}")
                written[card["city"]] = card["public_key"]
    return keys, written


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export")
    ap.add_argument("--cards", action="append", default=[], help="a directory of peer cards (*.toml)")
    ap.add_argument("--expect-digest", help="fail unless the recomputed digest (full or 16-digit prefix) equals this")
    ap.add_argument("--charter", help="the network's charter (network.toml, section 15): needed for vouch, member and "
                                      "recover entries and for chains of later generations (sofia~2); by default the "
                                      "network.toml of the first --cards directory that has one, as a node reads it")
    args = ap.parse_args()
    if args.charter is None:
        args.charter = next((str(p) for d in args.cards if (p := pathlib.Path(d, "network.toml")).is_file()), None)
    keys, written_keys = load_keys(args.cards)
    founders, network = read_charter(args.charter) if args.charter else (None, None)
    links = {}       # id -> (origin, seq, prev), with a charter (section 15's walks)
    enacting = []    # member and recover entries (section 15)
    vouches = {}     # slot -> vouch entries
    ackers = {}      # erase id -> [(ack id, origin)]

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
                # Section 15: origin and clock name chains; a later generation, or a
                # membership kind, needs the charter; a c4csr/1 body names generation 1 only.
                parts = chain_of(origin)
                if parts is None or not isinstance(clock, dict) or any(chain_of(c) is None for c in clock):
                    raise ValueError("origin and every clock component are city or chain ids")
                later = parts[1] > 1 or any(chain_of(c)[1] > 1 for c in clock)
                if (later or e["kind"] in MEMBERSHIP) and network is None:
                    raise ValueError("a membership entry or a later generation's chain: give the network's charter "
                                     "(--charter network.toml, docs/PROTOCOL.md section 15)")
                if later and e["format"] != "c4csr/2":
                    raise ValueError("a body naming a chain of generation 2 or more is c4csr/2")
                statement = statement_of(e["kind"], e["payload"], origin, seq, network) if e["kind"] in MEMBERSHIP else None
                if parts[1] > 1 and seq == 1 and e["kind"] != "recover":
                    raise ValueError(f"the entry at seq 1 of {origin} is its recover")
                # Section 12: the key in force is the card's for seq 1, else the key in force
                # after the predecessor (whose line comes earlier: checked below); section 15:
                # at seq 1 of a later generation, the key its recover names.
                if seq == 1 or prev not in key_after:
                    if parts[1] > 1:
                        if seq != 1:
                            raise ValueError("its predecessor is not earlier in the file")
                        key = public_key(base64.b64decode(statement["recover"]["key"]), "the key a recover names")
                    elif origin not in keys:
                        raise ValueError(f"no public key for {origin} in the cards")
                    else:
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
                    after = public_key(raw, "a rotation's key")
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
                        officers_now = {**officers, p["officer"]: public_key(raw, "an officer's key")}
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
                        erasures[entry_id] = (origin, clock, p["practice"], p["fields"], e["time"], {parts[0]})
                    else:
                        invalid.append(f"{where}: an invalid erasure (ignored)")
                elif e["kind"] == "ack":
                    target = erasures.get(p.get("erase")) if set(p) == {"erase", "practice"} else None
                    if target is None or target[2] != p["practice"] or chain_of(target[0])[0] == parts[0] \
                            or not happened_before(target[1], clock):
                        invalid.append(f"{where}: an invalid ack (ignored)")
                    else:
                        ackers.setdefault(p["erase"], []).append((entry_id, parts[0]))
                key = (sum(clock.values()), origin.encode(), seq, bytes.fromhex(entry_id))
                if last_key is not None and key <= last_key:
                    raise ValueError("the file is not in merged order (clock sum, origin, seq, id)")
                last_key = key
                positions.setdefault((origin, seq), {})[entry_id] = clock
                key_after[entry_id] = after
                officers_after[entry_id] = officers_now
                top[origin] = max(top.get(origin, 0), seq)
                if network is not None:  # an accepted line only: the verdicts read its position
                    links[entry_id] = (origin, seq, prev)
                    if statement is not None:
                        fact = {"id": entry_id, "origin": origin, "city": parts[0], "seq": seq, "prev": prev, "clock": clock,
                                "st": statement, "order": key}
                        if statement["kind"] == "vouch":
                            vouches.setdefault(statement["slot"], []).append(fact)
                        else:
                            enacting.append(fact)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as err:
                problems.append(f"{where}: {err}")

    # Section 15: the verdicts. Revoked entries stay in heads and the digest (evidence) and
    # have no effect: an erasure or ack that is revoked erases or confirms nothing.
    revoked = set()
    if network is not None:
        verdicts = Verdicts(founders, links, positions, enacting, vouches, written_keys)
        for f in enacting:
            if f["id"] in verdicts.invalid:
                code = "bad_recovery" if f["st"]["kind"] == "recover" else "bad_membership"
                print(f"{code}: {f['origin']}#{f['seq']} {f['id'][:12]}: {verdicts.invalid[f['id']]} (kept as evidence)")
        recovered = {chain_of(c)[0] for c in verdicts.valid_recovers}
        for entry_id, (origin, seq, _) in links.items():
            if (chain_of(origin)[1] > 1 or chain_of(origin)[0] in recovered) and verdicts.is_revoked(entry_id):
                revoked.add(entry_id)
        for entry_id in sorted(revoked, key=lambda i: (links[i][0].encode(), links[i][1], i)):
            origin, seq, _ = links[entry_id]
            print(f"revoked: {origin}#{seq} {entry_id[:12]}")
        for chain, recs in sorted(verdicts.valid_recovers.items()):
            for rec in recs:
                r = rec["st"]["recover"]
                print(f"recovery: {chain} {rec['id'][:12]} gives {r['city']} a new key, standing by "
                      f"{chain_id(r['city'], r['generation'] - 1)}#{r['last_seq']}")
    for eid in [i for i in erasures if i in revoked]:
        invalid.append(f"erasure {eid[:12]}: revoked (ignored)")
        del erasures[eid]
    for eid, acks in ackers.items():
        if eid in erasures:
            erasures[eid][5].update(city for ack_id, city in acks if ack_id not in revoked)

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
