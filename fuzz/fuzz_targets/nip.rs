//! A NIP as typed on the sign-in page or read from a roster cell: parsing never panics, and a
//! parsed NIP reads back as 18 digits and formats without panicking.
#![no_main]

use ikrar::domain::Nip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(nip) = Nip::parse(raw) {
        assert_eq!(nip.as_str().len(), 18);
        assert!(nip.as_str().bytes().all(|b| b.is_ascii_digit()));
        let _ = (nip.masked(), nip.grouped(), nip.to_string());
        // Parsing is idempotent: what we store parses to itself.
        assert_eq!(
            Nip::parse(nip.as_str()).map(|n| n.into_string()).ok(),
            Some(nip.into_string())
        );
    }
});
