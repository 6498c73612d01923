//! The issuer's X.509 certificate: what a standard PDF validator needs to check the CMS signature
//! embedded in every certificate PDF, and what it is told to trust.
//!
//! It is self-signed and derived from the issuer key alone (plus the instant the key became
//! valid), so every node makes the very same bytes without storing them: Ed25519 signatures are
//! deterministic. See `docs/certificate-format.md`, "The PDF signature".

use sha2::{Digest, Sha256};

use super::der::{self, context, BIT_STRING, BOOLEAN, OCTET_STRING, SEQUENCE, SET};
use super::{IssuerKey, KeyId};

/// id-Ed25519 (RFC 8410).
pub const ED25519: &[u64] = &[1, 3, 101, 112];

/// 9999-12-31T23:59:59Z: RFC 5280's "no well-defined expiration date". The key's retirement or
/// revocation is published in `/.well-known/ikrar-keys.json`, not in the certificate.
const NO_EXPIRY: i64 = 253_402_300_799;

/// A DER-encoded, self-signed X.509 v3 certificate for one issuer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerCertificate {
    der: Vec<u8>,
    key_id: KeyId,
}

impl IssuerCertificate {
    /// Makes the certificate of `key`, valid from `valid_from` (Unix seconds, the key's
    /// `valid_from` in `issuer_keys`). Same key and instant, same bytes.
    pub fn issue(key: &IssuerKey, valid_from: i64) -> Self {
        let key_id = key.id();
        let public = key.public();
        let name = subject_name(&key_id);
        let algorithm = ed25519_algorithm();
        let serial = der::unsigned_integer(key_id.as_bytes());
        let validity = der::seq(SEQUENCE, &[&der::time(valid_from), &der::time(NO_EXPIRY)]);
        let spki = der::seq(SEQUENCE, &[&algorithm, &der::bit_string(public.as_bytes())]);
        let key_identifier = &Sha256::digest(public.as_bytes())[..20];
        let extensions = der::seq(
            SEQUENCE,
            &[
                // basicConstraints: an end entity, not a CA.
                &extension(&[2, 5, 29, 19], false, &der::tlv(SEQUENCE, &[])),
                // keyUsage: digitalSignature and nonRepudiation (contentCommitment), the bits a
                // document signature asks for.
                &extension(&[2, 5, 29, 15], true, &[BIT_STRING, 0x02, 0x06, 0xc0]),
                // subjectKeyIdentifier: RFC 7093 method 1 (leftmost 160 bits of SHA-256).
                &extension(
                    &[2, 5, 29, 14],
                    false,
                    &der::tlv(OCTET_STRING, key_identifier),
                ),
            ],
        );
        let tbs = der::seq(
            SEQUENCE,
            &[
                &der::tlv(context(0), &der::unsigned_integer(&[2])),
                &serial,
                &algorithm,
                &name,
                &validity,
                &name,
                &spki,
                &der::tlv(context(3), &extensions),
            ],
        );
        let signature = key.sign(&tbs);
        let der = der::seq(SEQUENCE, &[&tbs, &algorithm, &der::bit_string(&signature)]);
        Self { der, key_id }
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The issuer (= subject) name, as CMS names the signer with it.
    pub fn name(&self) -> Vec<u8> {
        subject_name(&self.key_id)
    }

    /// The serial number INTEGER: the 8 bytes of the key id.
    pub fn serial(&self) -> Vec<u8> {
        der::unsigned_integer(self.key_id.as_bytes())
    }

    /// The certificate in PEM, for `--trust issuer.pem` style tools.
    pub fn pem(&self) -> String {
        let body = data_encoding::BASE64.encode(&self.der);
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }
}

/// `C=ID, O=ikrar, CN=ikrar issuer <key id>`.
pub(super) fn subject_name(key_id: &KeyId) -> Vec<u8> {
    let rdn = |arc: u64, tag: u8, value: &str| {
        der::seq(
            SET,
            &[&der::seq(
                SEQUENCE,
                &[&der::oid(&[2, 5, 4, arc]), &der::tlv(tag, value.as_bytes())],
            )],
        )
    };
    der::seq(
        SEQUENCE,
        &[
            &rdn(6, der::PRINTABLE_STRING, "ID"),
            &rdn(10, der::UTF8_STRING, "ikrar"),
            &rdn(
                3,
                der::UTF8_STRING,
                &format!("ikrar issuer {}", key_id.to_hex()),
            ),
        ],
    )
}

/// AlgorithmIdentifier for Ed25519: the OID and no parameters (RFC 8410 section 3).
pub fn ed25519_algorithm() -> Vec<u8> {
    der::seq(SEQUENCE, &[&der::oid(ED25519)])
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let critical = if critical {
        der::tlv(BOOLEAN, &[0xff])
    } else {
        Vec::new()
    };
    der::seq(
        SEQUENCE,
        &[&der::oid(id), &critical, &der::tlv(OCTET_STRING, value)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::verify_with;

    #[test]
    fn the_certificate_is_deterministic_and_self_signed() {
        let key = IssuerKey::from_seed([7; 32]);
        let a = IssuerCertificate::issue(&key, 1_700_000_000);
        assert_eq!(a, IssuerCertificate::issue(&key, 1_700_000_000));
        assert_ne!(a, IssuerCertificate::issue(&key, 1_700_000_001));

        let mut outer = der::Reader::new(a.der());
        let cert = outer.expect(SEQUENCE).unwrap();
        assert!(outer.is_empty());
        let mut parts = cert.children();
        let tbs = parts.expect(SEQUENCE).unwrap();
        assert_eq!(parts.expect(SEQUENCE).unwrap().encoded, ed25519_algorithm());
        let signature = parts.expect(BIT_STRING).unwrap().content;
        assert!(verify_with(
            key.public().as_bytes(),
            tbs.encoded,
            &signature[1..]
        ));
    }
}
