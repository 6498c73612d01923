//! The offline evidence bundle a certificate PDF carries as an attached file
//! (`ikrar-bukti.json`, docs/certificate-format.md): the signed claim of the QR, the
//! certificate's issuance entry in the public log with its index, an RFC 6962 inclusion proof to
//! the tree of the signed checkpoint current when the PDF was made, and that checkpoint's signed
//! note. With the issuer's published keys, anyone can check all of it without our server, as a
//! Sigstore bundle or a certificate's embedded CT timestamps are checked.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;

use crate::crypto::{encode_signed_bytes, IssuerKey};
use crate::db::certificates::CertificateRow;
use crate::db::log;
use crate::db::DbConnection;
use crate::transparency::{self, EntryKind};

/// The attached file's name inside the PDF.
pub const FILE_NAME: &str = "ikrar-bukti.json";

/// The value of the bundle's `format` field; a verifier refuses any other.
pub const FORMAT: &str = "ikrar-bukti/1";

/// Everything a verifier needs besides the issuer's public keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineBundle {
    pub certificate_id: String,
    pub claim: Vec<u8>,
    pub signature: Vec<u8>,
    pub key_id: String,
    pub log_index: u64,
    pub entry: Vec<u8>,
    pub tree_size: u64,
    pub inclusion_proof: Vec<[u8; 32]>,
    /// The checkpoint's signed note, exactly as `/log/checkpoint/{tree_size}` serves it.
    pub checkpoint: String,
    /// When the checkpoint was signed (Unix seconds): the attached file's modification date, so
    /// the same checkpoint always gives the same PDF bytes.
    pub checkpoint_at: i64,
}

/// What the log can give for a certificate's bundle right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gathered {
    Ready(OfflineBundle),
    /// The issuance entry is logged but no signed checkpoint covers it yet: a node signs one
    /// within about a second of every append.
    AwaitingCheckpoint,
    /// No bundle can be made: the certificate predates the log, its logged entry is not the one
    /// its record gives (it is not genuine and gets no PDF anyway), or a proof node is missing.
    Unavailable,
}

/// The JSON document, field for field as docs/certificate-format.md describes it.
#[derive(Serialize)]
struct Document<'a> {
    format: &'a str,
    certificate_id: &'a str,
    qr_claim: String,
    claim: String,
    signature: String,
    key_id: &'a str,
    log: LogPart<'a>,
}

#[derive(Serialize)]
struct LogPart<'a> {
    index: u64,
    entry: String,
    tree_size: u64,
    inclusion_proof: Vec<String>,
    checkpoint: &'a str,
}

impl OfflineBundle {
    /// Gathers the bundle of `row` from the log, in the caller's read snapshot, to the latest
    /// signed checkpoint.
    pub fn gather(conn: &mut DbConnection, row: &CertificateRow) -> diesel::QueryResult<Gathered> {
        let Some(logged) = log::entry_of(conn, &row.id, EntryKind::Issued)? else {
            return Ok(Gathered::Unavailable);
        };
        let index = logged.idx as u64;
        if transparency::entry::issued(row).as_deref() != Some(logged.entry.as_slice()) {
            return Ok(Gathered::Unavailable);
        }
        let Some(checkpoint) = log::latest_checkpoint(conn)?.filter(|c| c.tree_size as u64 > index)
        else {
            return Ok(Gathered::AwaitingCheckpoint);
        };
        let size = checkpoint.tree_size as u64;
        let Some(proof) = transparency::inclusion_proof(conn, index, size)? else {
            return Ok(Gathered::Unavailable);
        };
        Ok(Gathered::Ready(Self {
            certificate_id: row.id.to_string(),
            claim: row.claim.clone(),
            signature: row.signature.clone(),
            key_id: row.key_id.clone(),
            log_index: index,
            entry: logged.entry,
            tree_size: size,
            inclusion_proof: proof,
            checkpoint: checkpoint.note,
            checkpoint_at: checkpoint.created_at,
        }))
    }

    /// The bundle of `row` as the only entry of a log whose checkpoint `key` signed at `at`: a
    /// genuine, checkable bundle for the benchmark, which renders without a database.
    pub fn alone_in_log(
        row: &CertificateRow,
        key: &IssuerKey,
        origin: &str,
        at: i64,
    ) -> Option<Self> {
        let entry = transparency::entry::issued(row)?;
        let root = transparency::merkle::leaf_hash(&entry);
        Some(Self {
            certificate_id: row.id.to_string(),
            claim: row.claim.clone(),
            signature: row.signature.clone(),
            key_id: row.key_id.clone(),
            log_index: 0,
            entry,
            tree_size: 1,
            inclusion_proof: Vec::new(),
            checkpoint: transparency::checkpoint::sign(origin, 1, &root, key),
            checkpoint_at: at,
        })
    }

    /// The attached file's bytes: compact JSON, fields in a fixed order, so the same bundle
    /// always gives the same bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let signature: Option<[u8; 64]> = self.signature.clone().try_into().ok();
        let document = Document {
            format: FORMAT,
            certificate_id: &self.certificate_id,
            qr_claim: signature
                .map(|s| encode_signed_bytes(&self.claim, &s))
                .unwrap_or_default(),
            claim: STANDARD.encode(&self.claim),
            signature: STANDARD.encode(&self.signature),
            key_id: &self.key_id,
            log: LogPart {
                index: self.log_index,
                entry: STANDARD.encode(&self.entry),
                tree_size: self.tree_size,
                inclusion_proof: self
                    .inclusion_proof
                    .iter()
                    .map(|h| STANDARD.encode(h))
                    .collect(),
                checkpoint: &self.checkpoint,
            },
        };
        serde_json::to_vec(&document).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transparency::merkle;

    #[test]
    fn the_bundle_serialises_in_the_documented_shape() {
        let bundle = OfflineBundle {
            certificate_id: "ABCDEFGHIJKLMNOP".into(),
            claim: vec![2, 1, 2],
            signature: vec![9; 64],
            key_id: "0011223344556677".into(),
            log_index: 3,
            entry: vec![1; 52],
            tree_size: 5,
            inclusion_proof: vec![merkle::leaf_hash(b"a"), merkle::leaf_hash(b"b")],
            checkpoint: "ikrar.example/log\n5\nAAAA\n\n\u{2014} ikrar.example/log xyz\n".into(),
            checkpoint_at: 1_700_000_000,
        };
        let json: serde_json::Value = serde_json::from_slice(&bundle.to_json()).unwrap();
        assert_eq!(json["format"], FORMAT);
        assert_eq!(json["claim"], "AgEC");
        assert_eq!(json["log"]["index"], 3);
        assert_eq!(json["log"]["tree_size"], 5);
        assert_eq!(json["log"]["inclusion_proof"].as_array().unwrap().len(), 2);
        assert!(json["qr_claim"]
            .as_str()
            .unwrap()
            .bytes()
            .all(|b| b.is_ascii_digit()));
        assert_eq!(bundle.to_json(), bundle.to_json());
    }
}
