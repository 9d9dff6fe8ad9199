#!/usr/bin/env python3
"""Writes Tests/C4CSRCoreTests/Fixtures/officer-vector.json from docs/PROTOCOL.md §13.

Independent of the Swift encoder: Python's json and the `cryptography` package only.
Entry 1 is the worked example of §9 (entry-vector.json). Run from the repository root:

    python3 scripts/make_officer_vector.py
"""
import hashlib
import json

from vector_common import FIXTURES, b64, canonical, entry, key, public


def content_message(body_value, officer):
    content = {
        "city": body_value["origin"], "kind": body_value["kind"], "officer": officer,
        "payload": body_value["payload"], "time": body_value["time"],
    }
    return b"c4csr-content\n" + canonical(content)


def main():
    first = json.loads((FIXTURES / "entry-vector.json").read_text())
    city = key(0x00)
    officer = key(0x40)
    stranger = key(0x60)
    publish_id = first["id"]

    enrol = {
        "clock": {"sofia": 2}, "format": "c4csr/2", "kind": "officer", "origin": "sofia",
        "payload": {"action": "enrol", "key": public(officer), "officer": "mpetrova"},
        "prev": publish_id, "seq": 2, "time": 1764064800000,
    }
    enrol_entry = entry(canonical(enrol), city)

    def retract_after(prev_id, author_key):
        value = {
            "clock": {"sofia": 3}, "format": "c4csr/2", "kind": "retract", "origin": "sofia",
            "payload": {"base": [publish_id], "practice": publish_id, "reason": "Moved to the city parks programme."},
            "prev": prev_id, "seq": 3, "time": 1764068400000,
        }
        message = content_message(value, "mpetrova")
        value["author"] = {"officer": "mpetrova", "sig": b64(author_key.sign(message))}
        return value, message

    retract, message = retract_after(enrol_entry["id"], officer)
    retract_entry = entry(canonical(retract), city)
    forged, _ = retract_after(enrol_entry["id"], stranger)
    forged_entry = entry(canonical(forged), city)

    # Another history: mpetrova removed at seq 3; the same retract, at seq 4, is refused.
    remove_value = {
        **enrol, "payload": {"action": "remove", "officer": "mpetrova"},
        "clock": {"sofia": 3}, "seq": 3, "prev": enrol_entry["id"], "time": 1764066600000,
    }
    remove_entry = entry(canonical(remove_value), city)
    late = {
        "clock": {"sofia": 4}, "format": "c4csr/2", "kind": "retract", "origin": "sofia",
        "payload": {"base": [publish_id], "practice": publish_id, "reason": "Moved to the city parks programme."},
        "prev": remove_entry["id"], "seq": 4, "time": 1764068400000,
    }
    late["author"] = {"officer": "mpetrova", "sig": b64(officer.sign(content_message(late, "mpetrova")))}
    late_entry = entry(canonical(late), city)

    digest_text = f"head sofia 3 {retract_entry['id']}\n".encode()
    vector = {
        "comment": "Written by scripts/make_officer_vector.py (Python, cryptography) from docs/PROTOCOL.md section 13, "
                   "independently of the Swift encoder. Entry 1 is entry-vector.json.",
        "city_seed": bytes(range(0x00, 0x20)).hex(),
        "officer_seed": bytes(range(0x40, 0x60)).hex(),
        "officer_public_key": public(officer),
        "stranger_seed": bytes(range(0x60, 0x80)).hex(),
        "content_message": message.decode(),
        "author_sig": retract["author"]["sig"],
        "entries": [{"body": first["body"], "id": first["id"], "sig": first["sig"]}, enrol_entry, retract_entry],
        "forged_author": forged_entry,
        "removed_remove": remove_entry,
        "removed_retract": late_entry,
        "digest": hashlib.sha256(digest_text).hexdigest(),
    }
    (FIXTURES / "officer-vector.json").write_text(json.dumps(vector, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({
        "officer_key": public(officer), "enrol_body": enrol_entry["body"], "enrol_id": enrol_entry["id"],
        "enrol_sig": enrol_entry["sig"], "content_len": len(message), "content_message": message.decode().replace("\n", "\\n"),
        "author_sig": vector["author_sig"], "retract_body": retract_entry["body"], "retract_id": retract_entry["id"],
        "retract_sig": retract_entry["sig"], "digest": vector["digest"],
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
