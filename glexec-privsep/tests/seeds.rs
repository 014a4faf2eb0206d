//! The fuzz corpus' seeds of `parse_privsep_answer` are what they claim:
//! two valid answers and one valid request, so the fuzzer starts inside the
//! format.

use glexec_privsep::{Answer, Request};

fn seed(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/parse_privsep_answer");
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn the_fuzz_seeds_decode() {
    for name in ["mapped", "refused"] {
        let a = Answer::decode(&seed(name)).unwrap();
        assert_eq!(a.encode(), seed(name));
    }
    assert_eq!(
        Request::decode(&seed("request")).unwrap().settings,
        [("a".into(), "b=c".into())]
    );
}
