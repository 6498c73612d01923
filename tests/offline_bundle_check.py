#!/usr/bin/env python3
"""Check the offline bundle (ikrar-bukti.json) inside an ikrar certificate PDF, without the server.

usage: offline_bundle_check.py (CERTIFICATE_PDF | --json BUNDLE_JSON) PUBLIC_KEY_HEX...

Written from docs/certificate-format.md ("The offline bundle") and docs/log.md alone, with
pyHanko's PDF reader (to find the attached file) and the `cryptography` package (Ed25519). The
public keys given (32-byte Ed25519 keys in hex, e.g. `public_key_hex` of
/.well-known/ikrar-keys.json, fetched beforehand) are the only ones trusted. Checks:

1. the PDF attaches ikrar-bukti.json as a document-level associated file (catalog /AF and the
   /EmbeddedFiles name tree, /AFRelationship /Supplement, /Subtype application/json);
2. the QR claim's digits decode to claim bytes and signature, and one trusted key whose key id
   starts with the claim's key hint signed "ikrar/claim/v2\\n" || id bytes || claim bytes;
3. the log entry is the issuance entry recomputed from the claim;
4. the RFC 6962 inclusion proof leads from that entry at its index to the root of the tree size;
5. the checkpoint names that size and root and is signed, as a C2SP note, by a trusted key.

Prints one JSON object with each finding and exits 0 only when all hold.
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FILE_NAME = "ikrar-bukti.json"
FORMAT = "ikrar-bukti/1"
CLAIM_PREFIX = b"ikrar/claim/v2\n"
DIGITS_FOR = {1: 3, 2: 5, 3: 8, 4: 10, 5: 13, 6: 15}


class Refused(Exception):
    pass


def attached_bundle(pdf_path, report):
    """The bytes of ikrar-bukti.json, found the way a PDF/A-3 reader finds associated files."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with open(pdf_path, "rb") as f:
        reader = PdfFileReader(f, strict=True)
        root = reader.root
        names = root["/Names"]["/EmbeddedFiles"]["/Names"]
        pairs = {str(names[i]): names[i + 1] for i in range(0, len(names), 2)}
        if FILE_NAME not in pairs:
            raise Refused(f"no {FILE_NAME} in /EmbeddedFiles: {sorted(pairs)}")
        spec = pairs[FILE_NAME].get_object()
        associated = [a.get_object() for a in root["/AF"]]
        report["in_af"] = any(a.get("/F") == spec.get("/F") for a in associated)
        report["af_relationship"] = str(spec.get("/AFRelationship"))
        stream = spec["/EF"]["/F"].get_object()
        report["mime_type"] = str(stream.get("/Subtype"))
        data = stream.data
        size = stream.get("/Params", {}).get("/Size")
        report["size_matches"] = size == len(data)
        if not (
            report["in_af"]
            and report["af_relationship"] == "/Supplement"
            and report["mime_type"] == "/application/json"
            and report["size_matches"]
        ):
            raise Refused("the attachment is not a document-level associated JSON file")
        return data


def b64(text):
    return base64.b64decode(text, validate=True)


def digits_to_bytes(digits):
    """The QR claim's digits: groups of 17 digits per 7 bytes, a shorter last group."""
    if not digits.isdigit():
        raise Refused("the QR claim holds a non-digit")
    q, r = divmod(len(digits), 17)
    lengths = [17] * q
    if r:
        k = next((k for k, d in DIGITS_FOR.items() if d == r), None)
        if k is None:
            raise Refused("the QR claim has an impossible length")
        lengths.append(r)
    out, at = bytearray(), 0
    for n in lengths:
        k = 7 if n == 17 else next(k for k, d in DIGITS_FOR.items() if d == n)
        value = int(digits[at : at + n])
        if value >= 256**k:
            raise Refused("a group of the QR claim is too large")
        out += value.to_bytes(k, "big")
        at += n
    return bytes(out)


def base32_id_bytes(certificate_id):
    if len(certificate_id) != 16:
        raise Refused("the certificate id is not 16 characters")
    return base64.b32decode(certificate_id)


def key_id(public):
    return hashlib.sha256(public).hexdigest()[:16]


def ed25519_ok(public, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except InvalidSignature:
        return False


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162, 2.1.3.2: the root an inclusion proof leads to, or None if it cannot."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def open_checkpoint(note, trusted):
    """(origin, size, root) of a C2SP signed note with a valid signature by a trusted key."""
    if "\n\n" not in note:
        raise Refused("the checkpoint is not a signed note")
    text, signatures = note.split("\n\n", 1)
    text += "\n"
    lines = text.split("\n")
    if len(lines) < 4:
        raise Refused("the checkpoint body is not origin, size and root")
    origin, size, root = lines[0], int(lines[1]), b64(lines[2])
    for line in signatures.split("\n"):
        if not line.startswith("\u2014 "):
            continue
        name, sig = line[2:].rsplit(" ", 1)
        sig = b64(sig)
        if name != origin or len(sig) != 68:
            continue
        for public in trusted:
            hint = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
            if sig[:4] == hint and ed25519_ok(public, sig[4:], text.encode()):
                return origin, size, root, key_id(public)
    raise Refused("no signature on the checkpoint by a trusted key")


def check(bundle, trusted, report):
    if bundle.get("format") != FORMAT:
        raise Refused(f"unknown format {bundle.get('format')!r}")
    certificate_id = bundle["certificate_id"]
    id_bytes = base32_id_bytes(certificate_id)
    claim, signature = b64(bundle["claim"]), b64(bundle["signature"])
    report["qr_claim_matches"] = digits_to_bytes(bundle["qr_claim"]) == claim + signature
    if not report["qr_claim_matches"]:
        raise Refused("the QR claim is not the claim and signature")
    if len(signature) != 64 or len(claim) < 28 or claim[0] != 2:
        raise Refused("not a version-2 claim with a 64-byte signature")
    hint = claim[1:3].hex()
    message = CLAIM_PREFIX + id_bytes + claim
    signers = [
        p
        for p in trusted
        if key_id(p).startswith(hint) and ed25519_ok(p, signature, message)
    ]
    report["claim_signature"] = bool(signers)
    if not signers:
        raise Refused("no trusted key signed the claim")
    report["claim_key_id"] = key_id(signers[0])
    if key_id(signers[0]) != bundle["key_id"]:
        raise Refused("the bundle names another key")

    log = bundle["log"]
    entry = b64(log["entry"])
    signed_at = struct.unpack(">I", claim[3:7])[0]
    expected = (
        b"\x01\x01"
        + id_bytes
        + struct.pack(">q", signed_at)
        + hashlib.sha256(claim + signature).digest()
    )
    report["entry_matches_claim"] = entry == expected
    if entry != expected:
        raise Refused("the log entry is not this claim's issuance entry")

    index, size = log["index"], log["tree_size"]
    proof = [b64(h) for h in log["inclusion_proof"]]
    if any(len(h) != 32 for h in proof):
        raise Refused("a proof hash is not 32 bytes")
    root = root_from_inclusion(index, size, leaf_hash(entry), proof)
    origin, cp_size, cp_root, cp_key = open_checkpoint(log["checkpoint"], trusted)
    report.update(origin=origin, tree_size=cp_size, checkpoint_key_id=cp_key)
    report["checkpoint_signature"] = True
    report["inclusion"] = root is not None and cp_size == size and root == cp_root
    if not report["inclusion"]:
        raise Refused("the inclusion proof does not lead to the checkpoint's root")
    report["valid"] = True


def main():
    args = sys.argv[1:]
    report = {"valid": False}
    try:
        if args and args[0] == "--json":
            with open(args[1], "rb") as f:
                data = f.read()
            keys = args[2:]
        else:
            data = attached_bundle(args[0], report)
            keys = args[1:]
        trusted = [bytes.fromhex(k) for k in keys]
        if not trusted or any(len(k) != 32 for k in trusted):
            raise Refused("give the trusted Ed25519 public keys as 64 hex digits each")
        bundle = json.loads(data)
        report["certificate_id"] = bundle.get("certificate_id")
        check(bundle, trusted, report)
    except Refused as e:
        report["error"] = str(e)
    except Exception as e:  # a broken bundle is a failed check, not a crash
        report["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(report))
    sys.exit(0 if report["valid"] else 1)


if __name__ == "__main__":
    main()
