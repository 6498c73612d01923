//! Where a signature is made and checked: the issuer's Ed25519 key, the canonical claim it signs,
//! and the workflow that turns an employee's consent into a certificate.

mod claim;
pub mod cms;
mod der;
pub mod issue;
mod key;
mod verify;
mod x509;

pub use claim::{
    encode_signed_bytes, key_hint, Claim, ClaimError, SignedRecord, CLAIM_CONTEXT, KEY_HINT_LEN,
};
pub use issue::{issue_certificate, IssueError, Issued, SigningRequest};
pub use key::{verify_with, IssuerKey, KeyError, KeyId};
pub use verify::{check_record, SignatureCheck};
pub use x509::IssuerCertificate;
