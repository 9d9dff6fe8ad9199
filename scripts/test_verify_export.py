#!/usr/bin/env python3
"""The independent verifier against the protocol's test vectors (docs/PROTOCOL.md §9,
§12, §13, §14, §15): every valid log verifies with its digest, every refused case fails, and
an ignored case is reported but not a failure. Run by `make test`:

    python3 scripts/test_verify_export.py
"""
import base64
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/C4CSRCoreTests/Fixtures"
VERIFIER = ROOT / "scripts/verify_export.py"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def line(entry, content=None):
    o = {"body": base64.b64encode(entry["body"].encode()).decode(), "id": entry["id"], "sig": entry["sig"]}
    if content is not None:
        o["content"] = content
    return json.dumps(o, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def item(content):
    return {k: content[k] for k in ("field", "salt", "value")}


class VerifierTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.cards = pathlib.Path(self.dir.name, "cards")
        self.cards.mkdir()
        self.card("sofia", load("entry-vector.json")["public_key"])
        self.card("milano", load("erasure-vector.json")["milano_public_key"])

    def tearDown(self):
        self.dir.cleanup()

    def card(self, city, key):
        (self.cards / f"{city}.toml").write_text(f'city = "{city}"\npublic_key = "{key}"\n')

    def verify(self, lines, digest=None, cards=None, charter=None):
        path = pathlib.Path(self.dir.name, "export.jsonl")
        path.write_text("".join(l + "\n" for l in lines))
        args = [sys.executable, str(VERIFIER), str(path), "--cards", str(cards or self.cards)]
        if digest:
            args += ["--expect-digest", digest]
        if charter:
            args += ["--charter", str(charter)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_rotation_and_officer_vectors_verify_with_their_digests(self):
        for name in ("rotation-vector.json", "officer-vector.json"):
            v = load(name)
            code, out = self.verify([line(e) for e in v["entries"]], v["digest"])
            self.assertEqual(code, 0, f"{name}: {out}")
        v = load("officer-vector.json")
        code, out = self.verify([line(e) for e in v["entries"][:2]] + [line(v["forged_author"])])
        self.assertEqual(code, 1, out)
        self.assertIn("does not verify over the content", out)

    def test_the_erasure_vector_verifies_and_lists_its_confirmations(self):
        v = load("erasure-vector.json")
        code, out = self.verify([line(e) for e in v["entries"]], v["digest"])
        self.assertEqual(code, 0, out)
        self.assertIn("erasure 6946e47b7fea by sofia of contact in aaeeef1076f5: confirmed by milano, sofia", out)

    def test_content_before_its_erasure_verifies_and_matches_the_documented_line(self):
        v = load("erasure-vector.json")
        e = v["entries"]
        code, out = self.verify([line(e[0]), line(e[1], [item(v["content"])])])
        self.assertEqual(code, 0, out)
        self.assertEqual(line(e[1], [item(v["content"])]),
                         json.dumps(v["export_line"], ensure_ascii=False, separators=(",", ":"), sort_keys=True))

    def test_content_that_an_erasure_in_the_file_erased_fails(self):
        v = load("erasure-vector.json")
        e = v["entries"]
        code, out = self.verify([line(e[0]), line(e[1], [item(v["content"])]), line(e[2]), line(e[3])])
        self.assertEqual(code, 1, out)
        self.assertIn("holds the content of contact of 17410b280889, erased by 6946e47b7fea", out)

    def test_a_revision_that_copied_an_erased_seal_cannot_bring_the_value_back(self):
        v = load("erasure-vector.json")
        e = v["entries"]
        revise = json.loads(e[1]["body"])
        copied = {**revise, "clock": {"sofia": 4}, "seq": 4, "prev": e[2]["id"], "time": revise["time"] + 1,
                  "payload": {**revise["payload"], "base": [e[1]["id"]]}}
        body = json.dumps(copied, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
        entry = {"body": body.decode(), "id": hashlib.sha256(body).hexdigest(), "sig": base64.b64encode(key.sign(body)).decode()}
        code, out = self.verify([line(x) for x in e[:3]] + [line(entry, [item(v["content"])])])
        self.assertEqual(code, 1, out)
        self.assertIn("erased by 6946e47b7fea", out)

    def test_refused_contents(self):
        v = load("erasure-vector.json")
        e = v["entries"]
        cases = [
            ([line(e[0]), line(e[1], [item(v["wrong_salt_content"])])], "does not match its commitment"),
            ([line(e[0]), line(v["untrimmed_revise"], [item(v["untrimmed_content"])])], "breaks the text rules"),
            ([line(e[0], [item(v["content"])])], "which this entry does not seal"),
            ([line(e[0]), line(e[1], [])], "non-empty array"),
            ([line(e[0]), line(e[1], [{**item(v["content"]), "salt": base64.b64encode(bytes(31)).decode()}])], "32 bytes"),
        ]
        for lines, why in cases:
            code, out = self.verify(lines)
            self.assertEqual(code, 1, out)
            self.assertIn(why, out)

    def test_an_invalid_erasure_or_ack_is_reported_and_erases_nothing(self):
        v = load("erasure-vector.json")
        e = v["entries"]
        code, out = self.verify([line(e[0]), line(e[1], [item(v["content"])]), line(v["milano_erase"])])
        self.assertEqual(code, 0, out)
        self.assertIn("an invalid erasure (ignored)", out)
        code, out = self.verify([line(x) for x in e[:3]] + [line(v["self_ack"])])
        self.assertEqual(code, 0, out)
        self.assertIn("an invalid ack (ignored)", out)
        self.assertIn("confirmed by sofia\n", out)



class RecoveryTests(unittest.TestCase):
    """Section 15's worked example: a recovery by a majority revokes the thief's entry;
    one vouch of two is not enough; the recover verifies only with the key it names."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.v = load("recovery-vector.json")
        self.cards = pathlib.Path(self.dir.name, "cards")
        self.cards.mkdir()
        for city in ("sofia", "milano", "nantes"):
            (self.cards / f"{city}.toml").write_text(f'city = "{city}"\npublic_key = "{self.v["keys"][city]}"\n')
        self.charter = pathlib.Path(self.dir.name, "network.toml")
        self.charter.write_text('format = "c4csr-network/1"\nname = "CITIES4CSR test"\nfounders = ["sofia", "nantes", "milano"]\n')

    def tearDown(self):
        self.dir.cleanup()

    def verify(self, entries, charter=True, digest=None):
        def key(e):
            b = json.loads(e["body"])
            return (sum(b["clock"].values()), b["origin"].encode(), b["seq"], bytes.fromhex(e["id"]))
        path = pathlib.Path(self.dir.name, "export.jsonl")
        path.write_text("".join(line(e) + "\n" for e in sorted(entries, key=key)))
        args = [sys.executable, str(VERIFIER), str(path), "--cards", str(self.cards)] + (["--charter", str(self.charter)] if charter else [])
        args += ["--expect-digest", digest] if digest else []
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_a_recovery_by_a_majority_revokes_the_thiefs_entry(self):
        h = self.v["histories"][0]
        code, out = self.verify(h["entries"], digest=h["digest"])  # revoked entries stay in the digest
        self.assertEqual(code, 0, out)
        self.assertIn(f"revoked: sofia#2 {h['revoked'][0][:12]}", out)
        self.assertIn(f"recovery: sofia~2 {h['valid_recovers'][0][:12]} gives sofia a new key, standing by sofia#1", out)
        self.assertEqual(out.count("revoked:"), 1, out)

    def test_one_vouch_of_two_is_not_carried_and_revokes_the_new_chain(self):
        h = self.v["histories"][1]
        code, out = self.verify(h["entries"], digest=h["digest"])
        self.assertEqual(code, 0, out)  # an invalid recover is evidence, not a broken file
        self.assertIn(f"bad_recovery: sofia~2#1 {h['invalid'][0][:12]}: the recovery of sofia is not carried: 1 of 2 members vouched for it", out)
        self.assertIn(f"revoked: sofia~2#1 {h['invalid'][0][:12]}", out)
        self.assertNotIn("revoked: sofia#2", out)

    def test_without_the_charter_a_recovery_is_refused_with_a_clear_error(self):
        code, out = self.verify(self.v["histories"][0]["entries"], charter=False)
        self.assertEqual(code, 1, out)
        self.assertIn("give the network's charter (--charter network.toml", out)

    def test_the_charter_beside_the_cards_is_read_as_a_node_reads_it(self):
        (self.cards / "network.toml").write_text(self.charter.read_text())
        h = self.v["histories"][0]
        code, out = self.verify(h["entries"], charter=False, digest=h["digest"])
        self.assertEqual(code, 0, out)
        self.assertIn(f"revoked: sofia#2 {h['revoked'][0][:12]}", out)

    def test_a_recover_signed_by_another_key_than_it_names_fails(self):
        h = self.v["histories"][0]
        recover = next(e for e in h["entries"] if '"kind":"recover"' in e["body"])
        old = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(self.v["seeds"]["sofia"]))
        forged = {**recover, "sig": base64.b64encode(old.sign(recover["body"].encode())).decode()}
        code, out = self.verify([forged if e is recover else e for e in h["entries"]])
        self.assertEqual(code, 1, out)
        self.assertIn("sofia~2#1", out)
        self.assertIn("does not verify with the key in force", out)

    def test_a_small_order_key_on_a_card_is_refused(self):
        # The identity point: one fixed signature would verify any body under it.
        identity = base64.b64encode(bytes([1]) + bytes(31)).decode()
        (self.cards / "nantes.toml").write_text(f'city = "nantes"\npublic_key = "{identity}"\n')
        code, out = self.verify(self.v["histories"][0]["entries"])
        self.assertEqual(code, 1, out)
        self.assertIn("not an acceptable Ed25519 public key", out)

    def test_another_networks_charter_refuses_its_entries(self):
        self.charter.write_text('format = "c4csr-network/1"\nname = "Another network"\nfounders = ["sofia", "nantes", "milano"]\n')
        code, out = self.verify(self.v["histories"][0]["entries"])
        self.assertEqual(code, 1, out)
        self.assertIn("not the charter's", out)

if __name__ == "__main__":
    unittest.main(verbosity=1)
