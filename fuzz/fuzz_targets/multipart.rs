//! A multipart form body, read the way `/v` and the roster upload read theirs
//! (`web::upload::check_boundary`, then `web::upload::receive`): no panic, never more than the
//! limit kept, and the body delivered in fuzzer-chosen chunks so that field boundaries fall
//! anywhere.
#![no_main]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 4096;

fuzz_target!(|input: (u8, u8, &[u8])| {
    let (chunk, boundary, body) = input;
    let chunk = usize::from(chunk.max(1));
    // Boundaries from one character to a browser's, quoted or not: the handlers' extractor
    // (`upload::Form`) refuses the ones the form reader cannot read safely before it sees them.
    let content_type = match boundary % 5 {
        0 => "multipart/form-data; boundary=X",
        1 => "multipart/form-data; boundary=XY",
        2 => "multipart/form-data; boundary=\"a b c\"",
        3 => "multipart/form-data; boundary=XXXX",
        _ => "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk",
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if ikrar::web::upload::check_boundary(&headers).is_err() {
        return;
    }
    let pieces: Vec<Result<Bytes, actix_web::error::PayloadError>> = body
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let payload = Multipart::new(&headers, futures_util::stream::iter(pieces));
    let mut sink = Vec::new();
    let limit = ikrar::web::upload::UploadLimit {
        bytes: LIMIT,
        shown: "4 KB",
    };
    // The form reader borrows the sink: it is dropped at the end of this block, before the sink
    // is measured.
    let outcome = {
        let mut receiving = pin!(ikrar::web::upload::receive(
            payload,
            "berkas",
            limit,
            &mut sink,
            "pilih berkas",
        ));
        // Every chunk is ready at once, so the future never waits on anything a waker would signal.
        let mut context = Context::from_waker(Waker::noop());
        let mut polls = 0u32;
        loop {
            if let Poll::Ready(outcome) = receiving.as_mut().poll(&mut context) {
                break outcome;
            }
            polls += 1;
            assert!(polls < 1_000_000, "the form reader made no progress");
        }
    };
    if let Ok(csrf) = outcome {
        assert!(csrf.len() <= 128 + 4);
    }
    assert!(sink.len() <= LIMIT);
});
