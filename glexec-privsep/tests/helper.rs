//! The root part's side of the conversation with real helper processes
//! (shell scripts standing in for the mapping helper): each way a helper can
//! misbehave ends in one failure, with the helper and its children killed
//! and reaped, and nothing taken from a partial or extra answer.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use glexec_privsep::{
    ask, Answer, Caller, CredentialKind, Helper, HelperFailure, Mapping, Request,
};

fn request() -> Request {
    Request {
        mode: "run".into(),
        caller: Caller {
            uid: 1000,
            gid: 1000,
            name: "pilot".into(),
        },
        correlation_id: "t1".into(),
        credential_kind: CredentialKind::Proxy,
        // Bigger than a pipe buffer: a helper that never reads must not
        // block the root part.
        credential: vec![b'x'; 90 * 1024],
        settings: vec![],
    }
}

fn mapping() -> Answer {
    Answer::Mapped(Mapping {
        uid: 5001,
        gid: 5000,
        groups: vec![5002],
        tracking_gid: None,
        pool_index: None,
        username: Some("jane".into()),
        dn: None,
        fqans: vec![],
        trace: vec!["localaccount: jane".into()],
    })
}

/// A helper script in a fresh directory, with `answer` next to it.
struct Script {
    dir: tempfile::TempDir,
}

impl Script {
    fn new(body: &str) -> Script {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("answer"), mapping().encode()).unwrap();
        let path = dir.path().join("helper");
        std::fs::write(
            &path,
            format!("#!/bin/sh\ncd \"$(dirname \"$0\")\"\n{body}\n"),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Script { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn helper(&self, timeout: Duration) -> Helper {
        Helper {
            program: self.path("helper"),
            args: vec![],
            env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            account: None,
            timeout,
        }
    }

    fn ask(&self, timeout: Duration) -> Result<Answer, HelperFailure> {
        ask(&self.helper(timeout), &request())
    }
}

/// Whether process `pid` (from a file the helper wrote) is gone.
fn gone(pidfile: &Path) -> bool {
    let pid = std::fs::read_to_string(pidfile).unwrap();
    !Path::new(&format!("/proc/{}", pid.trim())).exists()
}

#[test]
fn a_helper_that_answers_once_and_exits_0_is_heard() {
    let s = Script::new("cat >/dev/null; cat answer");
    assert_eq!(s.ask(Duration::from_secs(10)).unwrap(), mapping());
}

#[test]
fn a_helper_that_never_reads_its_request_is_still_heard() {
    let s = Script::new("cat answer");
    assert_eq!(s.ask(Duration::from_secs(10)).unwrap(), mapping());
}

#[test]
fn a_crashing_helper_is_a_failure_even_after_an_answer() {
    let s = Script::new("cat answer; kill -SEGV $$");
    let e = s.ask(Duration::from_secs(10)).unwrap_err();
    assert!(matches!(e, HelperFailure::Died(_)), "{e:?}");
    assert_eq!(e.to_string(), "the mapping helper was killed by signal 11");
    let s = Script::new("cat answer; exit 3");
    let e = s.ask(Duration::from_secs(10)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the mapping helper failed with exit status 3"
    );
}

#[test]
fn a_hanging_helper_is_killed_and_reaped_at_the_deadline() {
    let s = Script::new("echo $$ > pid; exec sleep 60");
    let t = Instant::now();
    let e = s.ask(Duration::from_secs(1)).unwrap_err();
    assert!(matches!(e, HelperFailure::TimedOut(_)), "{e:?}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert!(gone(&s.path("pid")), "the helper still runs");
}

#[test]
fn a_helper_that_answers_but_does_not_exit_is_killed() {
    let s = Script::new("cat answer; exec 1>&-; echo $$ > pid; exec sleep 60");
    let e = s.ask(Duration::from_secs(1)).unwrap_err();
    assert!(matches!(e, HelperFailure::TimedOut(_)), "{e:?}");
    assert!(gone(&s.path("pid")));
}

#[test]
fn a_child_of_the_helper_holding_the_answer_open_is_killed_too() {
    let s = Script::new("sleep 60 & echo $! > pid; cat answer; exit 0");
    let e = s.ask(Duration::from_secs(1)).unwrap_err();
    assert!(matches!(e, HelperFailure::TimedOut(_)), "{e:?}");
    // killpg is asynchronous to the grandchild's exit; give it a moment.
    let t = Instant::now();
    while !gone(&s.path("pid")) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(gone(&s.path("pid")), "the helper's child still runs");
}

#[test]
fn garbage_a_second_answer_and_too_much_are_refused() {
    for (body, want) in [
        (
            "echo 'uid=0 gid=0'",
            "answer is malformed: expected version",
        ),
        ("cat answer answer", "answer is malformed: "),
        ("head -c 70000 /dev/zero", "wrote more than 65536 bytes"),
        ("cat /dev/zero", "wrote more than 65536 bytes"),
        ("", "answer is malformed: expected version, found no record"),
    ] {
        let s = Script::new(body);
        let e = s.ask(Duration::from_secs(10)).unwrap_err();
        assert!(e.to_string().contains(want), "{body}: {e}");
    }
}

#[test]
fn a_helper_that_cannot_start_is_a_failure() {
    let s = Script::new("");
    let mut h = s.helper(Duration::from_secs(1));
    h.program = s.path("missing");
    let e = ask(&h, &request()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("the mapping helper could not start: "),
        "{e}"
    );
}

#[test]
fn the_helper_gets_only_the_environment_it_is_given() {
    std::env::set_var("GLEXEC_PRIVSEP_TEST_LEAK", "1");
    let s = Script::new("cat >/dev/null; env > env; cat answer");
    let mut h = s.helper(Duration::from_secs(10));
    h.env.push(("LCMAPS_DEBUG_LEVEL".into(), "3".into()));
    ask(&h, &request()).unwrap();
    let env = std::fs::read_to_string(s.path("env")).unwrap();
    let mut names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
    names.sort();
    // sh adds PWD, OLDPWD (the script cds) and SHLVL on some shells itself.
    names.retain(|n| !["PWD", "OLDPWD", "SHLVL", "_"].contains(n));
    assert_eq!(names, ["LCMAPS_DEBUG_LEVEL", "PATH"], "{env}");
}

#[test]
fn the_helper_runs_as_the_mapping_account_without_groups() {
    if !lcmaps_core::testing::root("the_helper_runs_as_the_mapping_account_without_groups") {
        return;
    }
    let s = Script::new("cat >/dev/null; id -u > ids; id -g >> ids; id -G >> ids; cat answer");
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut h = s.helper(Duration::from_secs(10));
    h.account = Some((65534, 65534));
    assert_eq!(ask(&h, &request()).unwrap(), mapping());
    let ids = std::fs::read_to_string(s.path("ids")).unwrap();
    assert_eq!(ids, "65534\n65534\n65534\n");
}
