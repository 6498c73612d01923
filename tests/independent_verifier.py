#!/usr/bin/env python3
"""Verify an ikrar QR link offline, written only from docs/certificate-format.md and docs/log.md.

usage: independent_verifier.py KEYS_JSON_FILE LINK [--log BASE_URL]
Prints the claim and VALID (exit 0), or the reason it is not valid (exit 1).

The key list is trusted only as far as its signed note (docs/log.md, "The signed key list"): a
claim is checked with the keys the note lists, and one signed by a revoked key at or after the
revocation instant is not valid. With --log, the note is also checked against the public log
itself: every key event up to the note's tree size, each proven included under a checkpoint signed
by a log key that is not revoked, must add up to exactly the listed keys.
"""
import base64
import datetime
import hashlib
import json
import struct
import sys
import urllib.request

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


def note_key_hash(name, public):
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]


def open_note(note, name, public):
    """The signed text of a C2SP signed note if `public` signed it under `name`, else None."""
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        return None
    text += "\n"
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            return None
        signer, _, sig = line[2:].partition(" ")
        sig = base64.b64decode(sig)
        if signer != name or len(sig) != 68 or sig[:4] != note_key_hash(name, public):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(sig[4:], text.encode())
            return text
        except InvalidSignature:
            return None
    return None


def instant(field):
    return None if field == "-" else int(field)


def read_key_list(doc):
    """The keys as the signed note lists them: {key_id: {...}}, and the note's origin and size."""
    note = doc.get("signed_note")
    if note is None:
        fail("the key list carries no signed note")
    lines = note.split("\n\n", 1)[0].split("\n")
    if len(lines) < 3 or lines[0] != "ikrar-keys/v1":
        fail("the key list's note is not an ikrar-keys/v1 note")
    origin, size = lines[1], int(lines[2])
    listed = {}
    for line in lines[3:]:
        f = line.split(" ")
        if len(f) != 9 or f[0] != "key":
            fail("a key line of the note is malformed: " + line)
        public = bytes.fromhex(f[4])
        if hashlib.sha256(public).digest()[:8].hex() != f[1]:
            fail("a listed key does not hash to its key id")
        listed[f[1]] = {
            "roles": set(f[2].split(",")),
            "active_roles": set() if f[3] == "-" else set(f[3].split(",")),
            "public": public,
            "valid_from": int(f[5]),
            "retired_at": instant(f[6]),
            "valid_until": instant(f[7]),
            "revoked_at": instant(f[8]),
        }
    # Signed by a log key it lists that is not revoked.
    signers = [
        k for k in listed.values()
        if "log" in k["roles"] and k["revoked_at"] is None and open_note(note, origin, k["public"])
    ]
    if not signers:
        fail("the key list's note is not signed by a listed log key that is not revoked")
    # The JSON fields must say what the note says.
    for key in doc["keys"]:
        entry = listed.get(key["key_id"])
        if entry is None or bytes.fromhex(key["public_key_hex"]) != entry["public"]:
            fail("the JSON key list differs from its signed note")
        until = key.get("valid_until")
        until = None if until is None else int(datetime.datetime.fromisoformat(until).timestamp())
        if until != entry["valid_until"]:
            fail("the JSON key list's revocation instant differs from its signed note")
    if len(doc["keys"]) != len(listed):
        fail("the JSON key list differs from its signed note")
    return listed, origin, size


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162, section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def fetch(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return r.read()


def fold_key_events(events):
    """The keys as the log's key events describe them (docs/log.md, "Key events")."""
    keys = {}
    for entry in events:
        if len(entry) < 51 or entry[0] != 1:
            fail("a key event is malformed")
        tag, bits = entry[1], entry[2]
        key_id, public = entry[3:11].hex(), entry[11:43]
        roles = {name for bit, name in ((1, "claim"), (2, "log"), (4, "seal")) if bits & bit}
        first = struct.unpack(">q", entry[43:51])[0]
        k = keys.setdefault(key_id, {
            "roles": set(), "active_roles": set(), "public": public, "valid_from": first,
            "retired_at": None, "valid_until": None, "revoked_at": None,
        })
        if tag == 3 and len(entry) == 51:
            k["valid_from"] = min(k["valid_from"], first)
            k["roles"] |= roles
            k["active_roles"] |= roles
            k["retired_at"] = None
        elif tag == 4 and len(entry) == 51:
            k["active_roles"] -= roles
            if not k["active_roles"]:
                k["retired_at"] = first
        elif tag == 5 and len(entry) == 59:
            at = struct.unpack(">q", entry[51:59])[0]
            k["valid_until"] = first if k["valid_until"] is None else min(k["valid_until"], first)
            k["revoked_at"] = at if k["revoked_at"] is None else min(k["revoked_at"], at)
        else:
            fail("a key event is malformed")
    return keys


def check_against_log(base, listed, origin, size):
    """Every key event in the first `size` entries, proven included under a checkpoint signed by
    a log key that is not revoked, must fold into exactly the listed keys."""
    note = fetch(base, "/log/checkpoint").decode()
    lines = note.split("\n")
    if lines[0] != origin:
        fail("the checkpoint names another log")
    cp_size, root = int(lines[1]), base64.b64decode(lines[2])
    signer = [
        k for k in listed.values()
        if "log" in k["roles"] and open_note(note, origin, k["public"])
    ]
    if not signer:
        fail("the checkpoint is not signed by a listed log key")
    if any(k["revoked_at"] is not None for k in signer):
        fail("the checkpoint is signed by a revoked log key")
    if cp_size < size:
        fail(f"the checkpoint ({cp_size}) does not cover the key list's tree size ({size})")
    events = []
    for index in range(size):
        e = json.loads(fetch(base, f"/log/entries/{index}"))
        if e["kind"] != "key":
            continue
        entry = base64.b64decode(e["entry"])
        p = json.loads(fetch(base, f"/log/proof/inclusion?index={index}&size={cp_size}"))
        proof = [base64.b64decode(h) for h in p["hashes"]]
        if not verify_inclusion(index, cp_size, leaf_hash(entry), proof, root):
            fail(f"key event {index} is not included in the checkpoint")
        events.append(entry)
    logged = fold_key_events(events)
    if events and logged != listed:
        fail("the signed key list does not match the key events in the log")
    if not events and len(listed) != 1:
        fail("without key events in the log the key list must hold the genesis key alone")
    print(f"key list matches the log: {len(events)} key events up to size {size}")


def main():
    args = sys.argv[1:]
    base = None
    if "--log" in args:
        at = args.index("--log")
        base = args[at + 1].rstrip("/")
        del args[at : at + 2]
    doc = json.load(open(args[0]))
    link = args[1]
    listed, origin, size = read_key_list(doc)
    if base is not None:
        check_against_log(base, listed, origin, size)
    keys = [
        {"key_id": key_id, "public_key_hex": k["public"].hex(), **k}
        for key_id, k in listed.items()
        if "claim" in k["roles"]
    ]
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
    # One boundary rule: signed at or after the key's revocation instant is not genuine.
    if key["valid_until"] is not None and signed_at >= key["valid_until"]:
        fail("signed at or after the instant its key was revoked from (key " + key["key_id"] + ")")
    when = datetime.datetime.fromtimestamp(signed_at, datetime.timezone.utc).isoformat()
    print(f"certificate {path_id}\nsigner {name} ({masked_id})\ncampaign {campaign_id}")
    print(f"signed_at {when}\nkey_id {key['key_id']}\nVALID")


if __name__ == "__main__":
    main()
