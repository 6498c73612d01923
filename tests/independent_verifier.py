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

CONTEXT = b"ikrar/claim/v2\n"
GROUP_DIGITS = [0, 3, 5, 8, 10, 13, 15, 17]
NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,'-`\u2019()"


def fail(reason):
    print("INVALID:", reason)
    sys.exit(1)


def digits_to_bytes(text):
    if not text.isdigit() or not text.isascii():
        fail("claim is not decimal digits")
    if len(text) % 17 not in GROUP_DIGITS:
        fail("claim has a length no group count explains")
    out = bytearray()
    at = 0
    while at < len(text):
        k = 7 if len(text) - at >= 17 else GROUP_DIGITS.index(len(text) - at)
        value = int(text[at : at + GROUP_DIGITS[k]])
        at += GROUP_DIGITS[k]
        if value >> (8 * k):
            fail("a digit group exceeds its byte range")
        out += value.to_bytes(k, "big")
    return bytes(out)


def decode_name(data):
    bits = "".join(f"{b:08b}" for b in data)
    at, name = 0, ""
    while True:
        rest = bits[at:]
        if len(rest) < 8 and set(rest) <= {"1"}:
            return name
        if len(rest) < 6:
            fail("name is cut short")
        symbol = int(bits[at : at + 6], 2)
        at += 6
        if symbol < len(NAME_ALPHABET):
            name += NAME_ALPHABET[symbol]
            continue
        width = {61: 12, 62: 24}.get(symbol)
        if width is None or len(bits) - at < width:
            fail("name is damaged")
        c = chr(int(bits[at : at + width], 2))
        at += width
        shortest = 6 if c in NAME_ALPHABET else 12 if ord(c) < 0x1000 else 24
        if shortest != width:
            fail("name is not in its shortest form")
        name += c


def masked(packed):
    kind, first, last = packed // 10**8, packed // 10**4 % 10**4, packed % 10**4
    if packed == 0:
        return ""
    if kind == 1:
        return f"{first:04}**********{last:04}"
    if kind == 2:
        return f"{first:04}********{last:04}"
    fail("masked id is damaged")


def main():
    keys = json.load(open(sys.argv[1]))["keys"]
    link = sys.argv[2]
    path, _, claim_text = link.partition("#")
    path_id = path.rstrip("/").rsplit("/", 1)[-1]
    try:
        id_bytes = base64.b32decode(path_id + "=" * (-len(path_id) % 8))
    except Exception:
        fail("certificate id in the path is not base32")
    raw = digits_to_bytes(claim_text)
    claim, signature = raw[:-64], raw[-64:]
    if len(raw) < 64 + 28 or claim[0] != 2:
        fail("unknown version or truncated")
    key_hint = claim[1:3]
    (signed_at, packed) = struct.unpack(">II", claim[3:11])
    campaign_len = claim[27]
    if 28 + campaign_len > len(claim):
        fail("truncated campaign id")
    campaign_id = claim[28 : 28 + campaign_len].decode("utf-8")
    name = decode_name(claim[28 + campaign_len :])
    masked_id = masked(packed)
    message = CONTEXT + id_bytes + claim
    candidates = [k for k in keys if bytes.fromhex(k["key_id"])[:2] == key_hint]
    if not candidates:
        fail("no published key starts with " + key_hint.hex())
    for key in candidates:
        public = bytes.fromhex(key["public_key_hex"])
        if hashlib.sha256(public).digest()[:8].hex() != key["key_id"]:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
            break
        except InvalidSignature:
            continue
    else:
        fail("signature does not verify under any key with hint " + key_hint.hex())
    when = datetime.datetime.fromtimestamp(signed_at, datetime.timezone.utc).isoformat()
    print(f"certificate {path_id}\nsigner {name} ({masked_id})\ncampaign {campaign_id}")
    print(f"signed_at {when}\nkey_id {key['key_id']}\nVALID")


if __name__ == "__main__":
    main()
