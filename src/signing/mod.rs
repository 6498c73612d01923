//! Where a signature is made and checked: the Ed25519 claim and log keys and their life in the
//! public log, the canonical claim, the workflows that turn an employee's consent into a
//! certificate and that revoke one, and the PDF seal.

mod claim;
pub mod issue;
mod key;
pub mod keyring;
mod revoke;
pub mod seal;
mod verify;

pub use claim::{
    encode_signed_bytes, key_hint, Claim, ClaimError, SignedRecord, CLAIM_CONTEXT, KEY_HINT_LEN,
};
pub use issue::{issue_certificate, IssueError, Issued, SigningRequest};
pub use key::{verify_with, IssuerKey, KeyError, KeyId};
pub use keyring::{KeyStandingError, Role};
pub use revoke::revoke_certificate;
pub use seal::{Seal, SealError, SealSignature, SealSignatureError};
pub use verify::{check_record, AcceptedSignatures, SignatureCheck};
