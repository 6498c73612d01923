#!/usr/bin/env python3
"""Verify an ikrar QR link offline, written only from docs/certificate-format.md.

usage: independent_verifier.py KEYS_JSON_FILE LINK
Prints the claim and VALID (exit 0), or the reason it is not valid (exit 1).
"""
import base64
import datetime
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CONTEXT = b"ikrar/claim/v1\n"


def b32(text):
    return base64.b32decode(text + "=" * (-len(text) % 8))


def fail(reason):
    print("INVALID:", reason)
    sys.exit(1)


def main():
    keys = json.load(open(sys.argv[1]))["keys"]
    link = sys.argv[2]
    path, _, claim_text = link.partition("#")
    path_id = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        raw = b32(claim_text)
    except Exception:
        fail("claim is not base32")
    claim, signature = raw[:-64], raw[-64:]
    if len(claim) < 78 or claim[0] != 1:
        fail("unknown version or truncated")
    key_id = claim[1:9]
    certificate_id = base64.b32encode(claim[9:19]).decode().rstrip("=")
    (signed_at,) = struct.unpack(">q", claim[19:27])
    document_sha256 = claim[27:59].hex()
    at = 75
    texts = []
    for _ in range(3):
        n = claim[at]
        texts.append(claim[at + 1 : at + 1 + n].decode("utf-8"))
        at += 1 + n
    if at != len(claim):
        fail("trailing bytes")
    if certificate_id != path_id:
        fail("certificate id in the claim differs from the link")
    key = next((k for k in keys if k["key_id"] == key_id.hex()), None)
    if key is None:
        fail("unknown key id " + key_id.hex())
    public = bytes.fromhex(key["public_key_hex"])
    if hashlib.sha256(public).digest()[:8] != key_id:
        fail("key id does not match the public key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, CONTEXT + claim)
    except InvalidSignature:
        fail("signature does not verify")
    when = datetime.datetime.fromtimestamp(signed_at, datetime.timezone.utc).isoformat()
    campaign_id, name, masked = texts
    print(f"certificate {certificate_id}\nsigner {name} ({masked})\ncampaign {campaign_id}")
    print(f"signed_at {when}\ndocument_sha256 {document_sha256}\nVALID")


if __name__ == "__main__":
    main()
