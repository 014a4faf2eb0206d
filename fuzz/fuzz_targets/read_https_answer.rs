//! Fuzz the SciTokens HTTPS client's answer reader
//! (`lcmaps_scitokens::https::read_answer`), fed the input in reads of
//! sizes taken from its first byte: any bytes give a body or an error,
//! never a panic; the result does not depend on how the bytes arrive; a
//! body comes only from a `200` HTTP/1.x answer, is at most `MAX_BODY`
//! bytes and is what follows the headers (cut at Content-Length); the body
//! written back out (with and without Content-Length) reads back the same.
#![no_main]

use lcmaps_scitokens::https::{read_answer, MAX_BODY};
use libfuzzer_sys::fuzz_target;

/// Read `stream` in pieces of `step` bytes (at most the buffer's size).
fn read_in(stream: &[u8], step: usize) -> Result<Vec<u8>, String> {
    let mut at = 0;
    read_answer(|buf| {
        let n = step.min(buf.len()).min(stream.len() - at);
        buf[..n].copy_from_slice(&stream[at..at + n]);
        at += n;
        Ok(n)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let step = usize::from(first % 16) + 1;
    let r = read_in(stream, step);
    assert_eq!(
        read_in(stream, usize::MAX),
        r,
        "result depends on the read sizes"
    );
    assert_eq!(read_in(stream, 1), r, "result depends on the read sizes");
    let Ok(body) = r else {
        return;
    };
    assert!(body.len() <= MAX_BODY);
    let end = stream
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an answer has headers");
    assert!(stream.starts_with(b"HTTP/1."));
    assert!(stream[end + 4..].starts_with(&body));

    for with_length in [true, false] {
        let mut again = b"HTTP/1.0 200 OK\r\n".to_vec();
        if with_length {
            again.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        again.extend_from_slice(b"\r\n");
        again.extend_from_slice(&body);
        assert_eq!(read_in(&again, step), Ok(body.clone()));
    }
});
