//! Where a signature is made: the workflows that turn an employee's consent into a certificate and
//! that revoke one, and the claim and log keys' life in the public log. The signatures themselves
//! (keys, claim, seal) are `crypto`'s, re-exported here for the callers of the workflows.

pub mod issue;
pub mod keyring;
mod revoke;

pub use crate::crypto::seal;
pub use crate::crypto::{
    check_record, encode_signed_bytes, key_hint, verify_with, AcceptedSignatures, Claim,
    ClaimError, IssuerKey, KeyError, KeyId, Seal, SealError, SealSignature, SealSignatureError,
    SignatureCheck, SignedRecord, CLAIM_CONTEXT, KEY_HINT_LEN,
};
pub use issue::{issue_certificate, IssueError, Issued, SigningRequest};
pub use keyring::{KeyStandingError, Role};
pub use revoke::revoke_certificate;
