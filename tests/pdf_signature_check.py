#!/usr/bin/env python3
"""Validate the PDF signature of an ikrar certificate with pyHanko, an independent validator.

usage: pdf_signature_check.py CERTIFICATE_PDF TRUST_ANCHOR(PEM or DER)...

The trust anchors given are the only ones: the service's self-made seal certificate (from
/.well-known/ikrar-seal.pem) or the root of the CA that issued an imported e-seal. No revocation
check (a self-made seal has no CRL; the issuer publishes key status in
/.well-known/ikrar-keys.json instead).
Prints one JSON object with pyHanko's findings and exits 0 only when the signature is valid,
intact, trusted and covers the entire file.
"""
import json
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def main():
    pdf_path, anchor_paths = sys.argv[1], sys.argv[2:]
    anchors = [load_cert_from_pemder(path) for path in anchor_paths]
    context = ValidationContext(trust_roots=anchors, allow_fetching=False)
    report = {"valid": False}
    try:
        with open(pdf_path, "rb") as f:
            reader = PdfFileReader(f, strict=True)
            signatures = reader.embedded_signatures
            report["signatures"] = len(signatures)
            if len(signatures) != 1:
                raise ValueError("expected exactly one signature")
            signature = signatures[0]
            report["sub_filter"] = str(signature.sig_object.get("/SubFilter"))
            report["embedded_certificates"] = len(signature.signed_data["certificates"])
            status = validate_pdf_signature(signature, context)
            report.update(
                intact=status.intact,
                signature_ok=status.valid,
                trusted=status.trusted,
                coverage=status.coverage.name,
                modification_level=status.modification_level.name
                if status.modification_level is not None
                else None,
                digest_algorithm=status.md_algorithm,
                signature_algorithm=status.pkcs7_signature_mechanism,
                signer=status.signing_cert.subject.human_friendly,
                signer_reported_time=status.signer_reported_dt.isoformat()
                if status.signer_reported_dt
                else None,
                summary=status.summary(),
            )
            report["valid"] = bool(
                status.bottom_line
                and status.intact
                and status.valid
                and status.trusted
                and status.coverage.name == "ENTIRE_FILE"
            )
    except Exception as e:  # a broken file is a failed validation, not a crash
        report["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(report))
    sys.exit(0 if report["valid"] else 1)


if __name__ == "__main__":
    main()
