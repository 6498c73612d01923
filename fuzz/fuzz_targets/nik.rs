//! A NIK as typed or read from a roster cell: parsing never panics, and a parsed NIK is 16 digits
//! that parse to themselves.
#![no_main]

use ikrar::domain::Nik;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(nik) = Nik::parse(raw) {
        assert_eq!(nik.as_str().len(), 16);
        assert!(nik.as_str().bytes().all(|b| b.is_ascii_digit()));
        let _ = (nik.masked(), nik.to_string());
        assert_eq!(
            Nik::parse(nik.as_str()).map(|n| n.into_string()).ok(),
            Some(nik.into_string())
        );
    }
});
