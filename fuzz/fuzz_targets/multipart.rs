//! A multipart form body, read the way `/v` and the roster upload read theirs
//! (`web::upload::receive`): no panic, never more than the limit kept, and the body delivered in
//! fuzzer-chosen chunks so that field boundaries fall anywhere.
#![no_main]

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 4096;

fuzz_target!(|input: (u8, bool, &[u8])| {
    let (chunk, odd_boundary, body) = input;
    let chunk = usize::from(chunk.max(1));
    let mut headers = HeaderMap::new();
    let content_type = if odd_boundary {
        "multipart/form-data; boundary=\"a b\""
    } else {
        "multipart/form-data; boundary=X"
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
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
    let outcome = loop {
        if let Poll::Ready(outcome) = receiving.as_mut().poll(&mut context) {
            break outcome;
        }
        polls += 1;
        assert!(polls < 1_000_000, "the form reader made no progress");
    };
    if let Ok(csrf) = outcome {
        assert!(csrf.len() <= 128 + 4);
    }
    drop(receiving);
    assert!(sink.len() <= LIMIT);
});
