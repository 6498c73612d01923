//! A file uploaded at `/v`: what the upload handler reads from it before the database is asked
//! (the certificate id in the document information, the seal signature and the claim in it).
//! Nothing in a PDF may make either panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The handler refuses anything that does not start like a PDF; the fuzzer gets that for free.
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend_from_slice(data);
    for pdf in [data, bytes.as_slice()] {
        let _ = ikrar::certificate::id_in_pdf(pdf);
        let _ = ikrar::certificate::pdf_signature::read_signature(pdf);
    }
});
