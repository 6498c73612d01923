//! The claim in a QR link's fragment, as `/v/{id}#…` and `/api/v1/verify/{id}?claim=…` decode it:
//! decoding never panics, and a decoded claim encodes back to bytes that decode to it again.
#![no_main]

use ikrar::domain::CertificateId;
use ikrar::signing::Claim;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &[u8])| {
    let (text, raw) = input;
    let id = CertificateId::from_bytes(&[7; CertificateId::BYTES]);
    if let Ok((claim, signature)) = Claim::decode_signed(text, &id) {
        let again = claim.encode_signed(&signature);
        let (back, sig) = Claim::decode_signed(&again, &id).expect("our own encoding decodes");
        assert_eq!(sig, signature);
        assert_eq!(back.to_bytes(), claim.to_bytes());
        let _ = claim.signing_message();
    }
    if let Ok(claim) = Claim::from_bytes(raw, &id) {
        let bytes = claim.to_bytes();
        let back = Claim::from_bytes(&bytes, &id).expect("our own bytes decode");
        assert_eq!(back.to_bytes(), bytes);
    }
});
