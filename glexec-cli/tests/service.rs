//! glexec's mapping service (`glexec-mapper --serve`, `mapping_service` in
//! glexec.conf), tried for real: a set-uid copy run by an unprivileged
//! caller while the service runs as the mapping account, started as systemd
//! starts it, in private mount and PID namespaces (`World::run_with`).
//!
//! * a worker maps as the mapping account, confined as a one-run helper
//!   (no new privileges, not dumpable), and glexec logs that the service
//!   answered;
//! * a worker has no listening socket left when it reads the caller's
//!   credential (a subverted parser cannot take other callers' requests);
//! * no service running: glexec starts its own helper;
//! * a socket where someone other than root could have put it is refused;
//! * a service that answers garbage, or nothing before `mapping_timeout`,
//!   is a 202 with nothing written.

mod world;

use std::time::{Duration, Instant};

use world::*;

/// A world whose glexec.conf names the service's socket (more lines in
/// `conf`), with the C test plugin `plugin` as its policy
/// ([`World::c_plugin_policy`]), when given.
fn world(conf: &str, plugin: Option<&str>) -> World {
    let w = World::new(&format!("mapping_service = {SERVICE_SOCKET}\n{conf}"), None);
    if let Some(name) = plugin {
        w.c_plugin_policy(name);
    }
    w
}

fn assert_mapped(w: &World, o: &std::process::Output) {
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stderr(o), w.log());
    assert_eq!(stdout(o).trim(), TARGET.to_string(), "{}", w.log());
}

/// Refused with `code`, one error line containing `want`, nothing run,
/// nothing written.
fn assert_refused(w: &World, o: &std::process::Output, code: i32, want: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{err}\n{}", w.log());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "wanted {want:?} in {err}");
    assert!(!stdout(o).contains("ran"), "{}", stdout(o));
    assert!(!w.target_proxy().exists(), "nothing written when refused");
}

#[test]
fn a_worker_maps_as_the_mapping_account_confined() {
    need_root!();
    let w = world("", Some("plugin_status"));
    let o = w.run_with_service("", &["/usr/bin/id", "-u"]);
    assert_mapped(&w, &o);
    assert!(
        w.log()
            .contains(&format!("mapped by the mapping service {SERVICE_SOCKET}")),
        "{}",
        w.log()
    );
    assert_confined_as_mapper(&w.plugin_report());
}

/// The attack: a credential that subverts a parser or plugin in a worker
/// looks for the service's listening socket, to accept the next callers'
/// requests (their proxies) and answer them itself: in its own descriptor
/// table, and in the service's memory (same account).
#[test]
fn a_worker_holds_no_listening_socket_when_it_maps() {
    need_root!();
    let w = world("", Some("plugin_sockets"));
    let o = w.run_with_service("", &["/usr/bin/id", "-u"]);
    assert_mapped(&w, &o);
    let r = w.plugin_report();
    assert!(r.contains("listening socket: none"), "{r}");
    assert!(r.contains("dumpable: 0"), "{r}");
    // Nor through the service, its parent, which holds the socket.
    assert!(r.contains("parent memory: Permission denied"), "{r}");
}

#[test]
fn several_runs_one_service() {
    need_root!();
    let w = world("", None);
    // Three runs in one namespace: each one by a fresh worker.
    let o = w.run_with(
        &format!(
            "setpriv --reuid {MAPPER} --regid {MAPPER} --clear-groups /etc/glexec-mapper --serve --workers 2"
        ),
        &["/bin/sh", "-c", "id -u"],
    );
    assert_mapped(&w, &o);
    let o = w.run_with_service("--workers 1", &["/usr/bin/id", "-u"]);
    assert_mapped(&w, &o);
}

#[test]
fn without_the_service_glexec_starts_its_own_helper() {
    need_root!();
    let w = world("", None);
    let o = w.run(&[], &["/usr/bin/id", "-u"]);
    assert_mapped(&w, &o);
    assert!(!w.log().contains("mapped by the mapping service"));
}

/// The attack: the pilot serves its own "mapping service" that maps it to
/// any account it likes, on a socket in a directory it can write to.
#[test]
fn a_socket_someone_else_could_have_made_is_refused() {
    need_root!();
    let probe = World::new("", None);
    let sock = probe.path("pilot.sock");
    let w = World::new(
        &format!("mapping_service = {}\n", sock.display()),
        Some(&format!("--dummy-uid {TARGET} --dummy-gid {TARGET}")),
    );
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    listener.set_nonblocking(true).unwrap();
    let o = w.run(&[], &["/bin/sh", "-c", "echo ran"]);
    assert_refused(
        &w,
        &o,
        202,
        &format!(
            "mapping_service: directory /tmp above {} is not root-owned or is writable",
            sock.display()
        ),
    );
    assert!(
        listener.accept().is_err(),
        "glexec connected to the pilot's socket"
    );
}

#[test]
fn a_service_that_answers_garbage_or_nothing_is_a_202() {
    need_root!();
    // A "service" that gets each connection on its stdin and stdout.
    let w = world("mapping_timeout = 2\n", None);
    let o = w.run_with(
        "-a --inetd sh -c 'cat > /dev/null; echo garbage'",
        &["/bin/sh", "-c", "echo ran"],
    );
    assert_refused(&w, &o, 202, "malformed");
    let start = Instant::now();
    let o = w.run_with("-a --inetd sleep 30", &["/bin/sh", "-c", "echo ran"]);
    assert_refused(&w, &o, 202, "no answer within 2 s");
    assert!(start.elapsed() < Duration::from_secs(20));
}

/// A service that cannot start its workers (here: the mapping account may
/// not have a second process) gives up after five tries; the caller
/// waiting meanwhile gets a 202, and once nothing listens glexec starts its
/// own helper again.
#[test]
fn a_service_that_cannot_start_workers_gives_way_to_the_helper() {
    need_root!();
    let w = world("mapping_timeout = 30\n", None);
    let service = format!(
        "prlimit --nproc=1 setpriv --reuid {MAPPER} --regid {MAPPER} --clear-groups /etc/glexec-mapper --serve --workers 1"
    );
    let start = Instant::now();
    let o = w.script_with(
        &service,
        "glexec /bin/true; echo first $?\n\
         glexec /usr/bin/id -u; echo second $?",
        &[],
    );
    let out = stdout(&o);
    assert!(
        out.contains("first 202"),
        "{out}\n{}\n{}",
        stderr(&o),
        w.log()
    );
    assert!(
        out.contains(&format!("{TARGET}\nsecond 0")),
        "{out}\n{}",
        w.log()
    );
    assert!(start.elapsed() < Duration::from_secs(25));
    let log = w.log();
    assert!(!log.contains("mapped by the mapping service"), "{log}");
    assert!(log.contains("the mapping service is not running"), "{log}");
}
