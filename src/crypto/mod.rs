//! The signatures themselves: the Ed25519 claim and log keys, the canonical claim a certificate's
//! QR carries and its check, and the PDF seal. No workflow and no log: `transparency` and
//! `certificate` build on these, and `signing` runs the workflows over all three.

mod claim;
mod key;
pub mod seal;
mod verify;

pub use claim::{
    encode_signed_bytes, key_hint, Claim, ClaimError, SignedRecord, CLAIM_CONTEXT, KEY_HINT_LEN,
};
pub use key::{verify_with, IssuerKey, KeyError, KeyId};
pub use seal::{Seal, SealError, SealSignature, SealSignatureError};
pub use verify::{check_record, AcceptedSignatures, SignatureCheck};
