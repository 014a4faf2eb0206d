//! Fuzz the one thing glexec's root part parses from its unprivileged
//! mapping helper (`glexec_privsep::Answer::decode`), and the helper's
//! request reader (`Request::decode`, `Job::from_request`): any bytes give
//! an answer or an error, never a panic; an accepted answer keeps the format's limits and, encoded again, is the
//! same bytes (one encoding per answer: nothing is skipped or guessed).
#![no_main]

use glexec_privsep::wire::{MAX_ANSWER, MAX_FQANS, MAX_GROUPS, MAX_TEXT, MAX_TRACE, MAX_USERNAME};
use glexec_privsep::{Answer, Job, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = Answer::decode(data) {
        assert!(data.len() <= MAX_ANSWER);
        match &a {
            Answer::Mapped(m) => {
                assert!(m.groups.len() <= MAX_GROUPS && m.trace.len() <= MAX_TRACE);
                assert!(m
                    .username
                    .as_ref()
                    .is_none_or(|u| !u.is_empty() && u.len() <= MAX_USERNAME));
                assert!(m.trace.iter().all(|t| t.len() <= MAX_TEXT));
                assert!(m.fqans.len() <= MAX_FQANS && m.fqans.iter().all(|f| f.len() <= MAX_TEXT));
            }
            Answer::Refused(r) => assert!(r.reason.len() <= MAX_TEXT && r.todo.len() <= MAX_TEXT),
        }
        assert_eq!(a.encode(), data, "{a:?}");
    }
    if let Ok(r) = Request::decode(data) {
        assert_eq!(r.encode(), data, "{r:?}");
        // The helper's typed reading of a request: what it accepts, it
        // gives back the same way.
        if let Ok(job) = Job::from_request(r) {
            assert_eq!(Job::from_request(job.to_request()).as_ref(), Ok(&job));
        }
    }
});
