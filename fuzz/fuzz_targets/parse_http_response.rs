//! Fuzz the XACML callout's HTTP/1.1 answer reader
//! (`lcmaps_xacml_client::transport::{parse_response, complete}`):
//! Content-Length, chunked and read-to-EOF bodies. Any bytes give an answer
//! or an error, never a panic; once `complete` says nothing more need be
//! read, what follows cannot change the answer; a body is never longer than
//! what came; an answer written back out (with Content-Length, and
//! chunked) reads back the same.
#![no_main]

use lcmaps_xacml_client::transport::{complete, parse_response, MAX_RESPONSE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = parse_response(data);
    if complete(data) {
        for extra in [&b"x"[..], b"\r\n0\r\n\r\n", data] {
            let mut more = data.to_vec();
            more.extend_from_slice(extra);
            assert_eq!(parse_response(&more), r, "more after a complete answer");
        }
    }
    let Ok((status, body)) = r else {
        return;
    };
    assert!(body.len() <= data.len());
    assert!(body.len() <= MAX_RESPONSE);

    let mut with_length = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    with_length.extend_from_slice(&body);
    assert!(complete(&with_length));
    assert_eq!(parse_response(&with_length), Ok((status, body.clone())));

    // Chunks of sizes taken from the input.
    let mut chunked =
        format!("HTTP/1.1 {status} X\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    let mut rest = &body[..];
    let mut sizes = data.iter().cycle();
    while !rest.is_empty() {
        let n = (usize::from(*sizes.next().unwrap_or(&1)) % 7 + 1).min(rest.len());
        chunked.extend_from_slice(format!("{n:x};ext=1\r\n").as_bytes());
        chunked.extend_from_slice(&rest[..n]);
        chunked.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(parse_response(&chunked), Ok((status, body)));
});
