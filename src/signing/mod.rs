//! Where a signature is made and checked: the issuer's Ed25519 key, the canonical claim it signs,
//! the workflow that turns an employee's consent into a certificate, and the PDF seal.

mod claim;
pub mod issue;
mod key;
pub mod seal;
mod verify;

pub use claim::{
    encode_signed_bytes, key_hint, Claim, ClaimError, SignedRecord, CLAIM_CONTEXT, KEY_HINT_LEN,
};
pub use issue::{issue_certificate, IssueError, Issued, SigningRequest};
pub use key::{verify_with, IssuerKey, KeyError, KeyId};
pub use seal::{Seal, SealError, SealSignature, SealSignatureError};
pub use verify::{check_record, AcceptedSignatures, SignatureCheck};
