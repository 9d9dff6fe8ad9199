"""What the test-vector scripts share (make_*_vector.py): §2's canonical JSON, keys
from fixed seeds, and a signed entry. Python's json, hashlib and `cryptography` only,
so that every vector is written independently of the Swift encoder."""
import base64
import hashlib
import json
import pathlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FIXTURES = pathlib.Path("Tests/C4CSRCoreTests/Fixtures")


def canonical(value):
    """§2 for these values: sorted keys, no spaces, UTF-8, integers as digits."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def key(seed_start):
    """The Ed25519 key whose 32-byte seed is seed_start, seed_start + 1, …"""
    return Ed25519PrivateKey.from_private_bytes(bytes(range(seed_start, seed_start + 32)))


def public(k):
    return base64.b64encode(k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def b64(data):
    return base64.b64encode(data).decode()


def entry(value, signing_key):
    """A signed entry as a vector holds it: the body (`value` as canonical JSON, or bytes
    already canonical), its id and its signature."""
    body = value if isinstance(value, bytes) else canonical(value)
    return {"body": body.decode(), "id": hashlib.sha256(body).hexdigest(), "sig": b64(signing_key.sign(body))}
