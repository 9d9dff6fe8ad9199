#!/usr/bin/env python3
"""Writes Tests/C4CSRCoreTests/Fixtures/erasure-vector.json from docs/PROTOCOL.md §14.

Independent of the Swift encoder: Python's json, hashlib and the `cryptography` package
only. Entry 1 is the worked example of §9 (entry-vector.json). Run from the repository
root:

    python3 scripts/make_erasure_vector.py
"""
import hashlib
import json

from vector_common import FIXTURES, b64, canonical, entry, key, public


def commitment(field, salt, value):
    """§14: SHA-256("c4csr-commit\\n" ‖ F ‖ "\\n" ‖ S ‖ canonical JSON of V), lowercase hex."""
    return hashlib.sha256(b"c4csr-commit\n" + field.encode() + b"\n" + salt + canonical(value)).hexdigest()


def main():
    first = json.loads((FIXTURES / "entry-vector.json").read_text())
    sofia = key(0x00)
    milano = key(0xA0)
    practice = first["id"]
    fields = json.loads(first["body"])["payload"]["fields"]

    salt = bytes(range(0x80, 0xA0))
    contact = "Maria Petrova, +359 2 123 4567"
    seal = commitment("contact", salt, contact)
    commit_message = b"c4csr-commit\ncontact\n" + salt + canonical(contact)

    revise_value = {
        "clock": {"sofia": 2}, "format": "c4csr/2", "kind": "revise", "origin": "sofia",
        "payload": {"base": [practice], "fields": {**fields, "contact": {"commit": seal}}, "practice": practice},
        "prev": practice, "seq": 2, "time": 1764064800000,
    }
    revise = entry(revise_value, sofia)
    content = {"entry": revise["id"], "field": "contact", "salt": b64(salt), "value": contact}

    erase_value = {
        "clock": {"sofia": 3}, "format": "c4csr/2", "kind": "erase", "origin": "sofia",
        "payload": {"fields": ["contact"], "practice": practice, "reason": "Erasure request SOF-2026-14 (GDPR Art. 17)"},
        "prev": revise["id"], "seq": 3, "time": 1764151200000,
    }
    erase = entry(erase_value, sofia)

    ack_value = {
        "clock": {"milano": 1, "sofia": 3}, "format": "c4csr/2", "kind": "ack", "origin": "milano",
        "payload": {"erase": erase["id"], "practice": practice}, "prev": None, "seq": 1, "time": 1764151260000,
    }
    ack = entry(ack_value, milano)

    # Refused or ignored, each in a history of its own (see §14):
    # content whose salt is not the sealed one (the commitment differs): content_invalid;
    wrong_salt = {**content, "salt": b64(bytes(range(0x81, 0xA1)))}
    # content whose commitment holds but whose value breaks §6 (trailing space): content_invalid;
    untrimmed = contact + " "
    untrimmed_seal = commitment("contact", salt, untrimmed)
    untrimmed_revise = entry({**revise_value, "payload": {**revise_value["payload"],
                              "fields": {**fields, "contact": {"commit": untrimmed_seal}}}}, sofia)
    untrimmed_content = {"entry": untrimmed_revise["id"], "field": "contact", "salt": b64(salt), "value": untrimmed}
    # the same revise in format c4csr/1: a seal there is an invalid payload;
    v1_revise = entry({**revise_value, "format": "c4csr/1"}, sofia)
    # milano erasing sofia's practice: an invalid erasure;
    milano_erase = entry({**erase_value, "origin": "milano", "clock": {"milano": 1, "sofia": 2}, "prev": None, "seq": 1}, milano)
    # sofia acknowledging its own erasure: an invalid ack.
    self_ack = entry({**ack_value, "origin": "sofia", "clock": {"sofia": 4}, "prev": erase["id"], "seq": 4}, sofia)

    digest_text = f"head milano 1 {ack['id']}\nhead sofia 3 {erase['id']}\n".encode()
    vector = {
        "comment": "Written by scripts/make_erasure_vector.py (Python, cryptography) from docs/PROTOCOL.md section 14, "
                   "independently of the Swift encoder. Entry 1 is entry-vector.json.",
        "sofia_seed": bytes(range(0x00, 0x20)).hex(),
        "milano_seed": bytes(range(0xA0, 0xC0)).hex(),
        "milano_public_key": public(milano),
        "salt": salt.hex(),
        "commit_message": b64(commit_message),
        "commit": seal,
        "content": content,
        "export_line": {"body": b64(revise["body"].encode()), "content": [{k: content[k] for k in ("field", "salt", "value")}],
                        "id": revise["id"], "sig": revise["sig"]},
        "entries": [{"body": first["body"], "id": first["id"], "sig": first["sig"]}, revise, erase, ack],
        "wrong_salt_content": wrong_salt,
        "untrimmed_revise": untrimmed_revise,
        "untrimmed_content": untrimmed_content,
        "v1_revise": v1_revise,
        "milano_erase": milano_erase,
        "self_ack": self_ack,
        "digest": hashlib.sha256(digest_text).hexdigest(),
    }
    (FIXTURES / "erasure-vector.json").write_text(json.dumps(vector, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({
        "commit_len": len(commit_message), "commit": seal, "revise_body": revise["body"], "revise_len": len(revise["body"].encode()),
        "revise_id": revise["id"], "revise_sig": revise["sig"], "content": canonical(content).decode(),
        "erase_body": erase["body"], "erase_id": erase["id"], "erase_sig": erase["sig"],
        "milano_key": public(milano), "ack_body": ack["body"], "ack_id": ack["id"], "ack_sig": ack["sig"],
        "export_line": canonical(vector["export_line"]).decode()[:120] + "…", "digest": vector["digest"],
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
