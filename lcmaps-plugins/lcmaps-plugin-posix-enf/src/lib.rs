//! `lcmaps_posix_enf.mod`: switches the process to the mapped identity
//! (upstream lcmaps-plugins-basic 1.7.1), with every check before any change.
//!
//! Options: `-maxuid|-MAXUID <n>`, `-maxpgid|-MAXPGID <n>`,
//! `-maxsgid|-MAXSGID <n>` (digits only, each at most once; maxsgid at most
//! NGROUPS_MAX), `-set_only_euid yes|no`, `-set_only_egid yes|no`.
//!
//! Run: the uid/primary gid/secondary gid counts against the maxima; a uid
//! and a primary gid must be present; uid 0, primary gid 0 and secondary
//! gid 0 are refused; the effective uid must be 0. Only then
//! `setgroups(sgids)`, `setresgid(pgid, pgid, pgid)` (`-1, pgid, -1` with
//! set_only_egid), `setresuid(uid, uid, uid)` (`-1, uid, -1` with
//! set_only_euid), and the result is read back with `getresuid`,
//! `getresgid` and `getgroups`: any mismatch fails.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use lcmaps_core::plugin::{Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::options::{self, Opt};
use nix::unistd::{
    geteuid, getgroups, getresgid, getresuid, getuid, setgroups, setresgid, setresuid, Gid, Uid,
};

const PREFIX: &str = "lcmaps_plugin_posix_enf";
/// Linux `NGROUPS_MAX`.
pub const NGROUPS_MAX: usize = 65536;

/// The plugin.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PosixEnf {
    maxuid: Option<usize>,
    maxpgid: Option<usize>,
    maxsgid: Option<usize>,
    set_only_euid: bool,
    set_only_egid: bool,
}

/// What the process will become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// uid.
    pub uid: u32,
    /// Primary gid.
    pub pgid: u32,
    /// Supplementary groups.
    pub sgids: Vec<u32>,
}

impl PosixEnf {
    /// Every check that needs no privilege: counts, presence, no root ids.
    pub fn plan(&self, uids: &[u32], pgids: &[u32], sgids: &[u32]) -> Result<Identity, String> {
        for (what, max, n) in [
            ("uid('s)", self.maxuid, uids.len()),
            ("primary gid('s)", self.maxpgid, pgids.len()),
            (
                "secondary gid's",
                self.maxsgid.or(Some(NGROUPS_MAX)),
                sgids.len(),
            ),
        ] {
            if let Some(max) = max.filter(|m| n > *m) {
                return Err(format!(
                    "Error: The set amount of {what} gathered exceeds the maximum of {max} by {}",
                    n - max
                ));
            }
        }
        let uid = *uids.first().ok_or("No user IDs found, need at least 1 !")?;
        let pgid = *pgids
            .first()
            .ok_or("No primary group IDs found, need at least 1 !")?;
        if uid == 0 {
            return Err("refusing to switch to uid 0".into());
        }
        if pgid == 0 {
            return Err("refusing to switch to primary gid 0".into());
        }
        if sgids.contains(&0) {
            return Err("refusing secondary gid 0".into());
        }
        Ok(Identity {
            uid,
            pgid,
            sgids: sgids.to_vec(),
        })
    }

    fn switch(&self, id: &Identity) -> Result<(), String> {
        let keep = Gid::from_raw(u32::MAX);
        let keepu = Uid::from_raw(u32::MAX);
        let g = Gid::from_raw(id.pgid);
        let u = Uid::from_raw(id.uid);
        let sg: Vec<Gid> = id.sgids.iter().map(|&g| Gid::from_raw(g)).collect();
        setgroups(&sg).map_err(|e| format!("setgroups(): {e}"))?;
        if self.set_only_egid {
            setresgid(keep, g, keep)
        } else {
            setresgid(g, g, g)
        }
        .map_err(|e| format!("setresgid(): {e}"))?;
        if self.set_only_euid {
            setresuid(keepu, u, keepu)
        } else {
            setresuid(u, u, u)
        }
        .map_err(|e| format!("setresuid(): {e}"))?;
        // Read back.
        let r = getresuid().map_err(|e| format!("getresuid(): {e}"))?;
        let rg = getresgid().map_err(|e| format!("getresgid(): {e}"))?;
        let ok_u = if self.set_only_euid {
            r.effective == u
        } else {
            r.real == u && r.effective == u && r.saved == u
        };
        let ok_g = if self.set_only_egid {
            rg.effective == g
        } else {
            rg.real == g && rg.effective == g && rg.saved == g
        };
        if !ok_u || !ok_g {
            return Err(format!(
                "identity after switch is uid {}/{}/{} gid {}/{}/{}, wanted uid {} gid {}",
                r.real, r.effective, r.saved, rg.real, rg.effective, rg.saved, id.uid, id.pgid
            ));
        }
        if r.effective.is_root() || rg.effective.as_raw() == 0 {
            return Err("effective uid or gid is still 0".into());
        }
        let mut have: Vec<u32> = getgroups()
            .map_err(|e| format!("getgroups(): {e}"))?
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        let mut want = id.sgids.clone();
        have.sort_unstable();
        have.dedup();
        want.sort_unstable();
        want.dedup();
        if have != want {
            return Err(format!(
                "supplementary groups are {have:?}, wanted {want:?}"
            ));
        }
        Ok(())
    }

    fn enforce(&mut self, ctx: &mut RunContext<'_>, who: &str) -> Status {
        let s = &ctx.store;
        let id = match self.plan(&s.uids, &s.pri_gids, &s.sec_gids) {
            Ok(id) => id,
            Err(e) => {
                log::error!("{who}: {e}");
                return Status::Failure;
            }
        };
        if !geteuid().is_root() {
            log::error!(
                "{who}: The tool or service doesn't have root privileges (any more). -> current real UID {}, effective UID {}",
                getuid(),
                geteuid()
            );
            return Status::Failure;
        }
        log::info!("{who}:  pre-id-switch: uid {} euid {}", getuid(), geteuid());
        if let Err(e) = self.switch(&id) {
            log::error!("{who}: {e}");
            return Status::Failure;
        }
        log::info!(
            "{who}: post-id-switch: uid={} gid={} sgids={:?}",
            id.uid,
            id.pgid,
            id.sgids
        );
        Status::Success
    }
}

/// The count after option `o`: digits only.
fn number(o: &str, v: &str) -> Result<usize, String> {
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "Error: maybe found some digits, but there is at least one char corrupting this parameter: {v}"
        ));
    }
    v.parse()
        .map_err(|_| format!("Error: cannot convert {v} for {o}"))
}

/// The options; each maximum may be given once.
const OPTIONS: &[Opt<PosixEnf>] = &[
    Opt::text(
        &["-maxuid", "-MAXUID"],
        "a number",
        |p: &mut PosixEnf, o, v| {
            p.maxuid = Some(number(o, v)?);
            Ok(())
        },
    )
    .once(),
    Opt::text(
        &["-maxpgid", "-MAXPGID"],
        "a number",
        |p: &mut PosixEnf, o, v| {
            p.maxpgid = Some(number(o, v)?);
            Ok(())
        },
    )
    .once(),
    Opt::text(
        &["-maxsgid", "-MAXSGID"],
        "a number",
        |p: &mut PosixEnf, o, v| {
            p.maxsgid = Some(number(o, v)?);
            Ok(())
        },
    )
    .once(),
    Opt::yes_no(&["-set_only_euid"], |p, b| p.set_only_euid = b),
    Opt::yes_no(&["-set_only_egid"], |p, b| p.set_only_egid = b),
];

impl Plugin for PosixEnf {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{PREFIX}-plugin_initialize()");
        let err = |m: String| PluginError(format!("{who}: {m}"));
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| err(e.message()))?;
        if let Some(m) = self.maxsgid.filter(|m| *m > NGROUPS_MAX) {
            return Err(err(format!(
                "Error: The preferred set maximum of {m} Secondary Gid's exceeds the system maximum of NGROUPS which is set to {NGROUPS_MAX} on this system"
            )));
        }
        Ok(())
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let s = self.enforce(ctx, &format!("{PREFIX}-plugin_run()"));
        log::info!(
            "{PREFIX}-plugin_run(): posix_enf plugin {}",
            if s.is_success() {
                "succeeded"
            } else {
                "failed"
            }
        );
        s
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
        self.enforce(ctx, &format!("{PREFIX}-plugin_verify()"))
    }

    fn enforces_identity(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lcmaps_core::cred::Store;
    use lcmaps_core::plugin::Request;

    fn init(a: &[&str]) -> Result<PosixEnf, PluginError> {
        let mut p = PosixEnf::default();
        let mut argv = vec!["/x/lcmaps_posix_enf.mod".to_string()];
        argv.extend(a.iter().map(|s| s.to_string()));
        p.initialize(&argv).map(|_| p)
    }

    #[test]
    fn options() {
        let p = init(&[
            "-maxuid",
            "1",
            "-MAXPGID",
            "1",
            "-maxsgid",
            "32",
            "-set_only_euid",
            "no",
        ])
        .unwrap();
        assert_eq!(
            (p.maxuid, p.maxpgid, p.maxsgid),
            (Some(1), Some(1), Some(32))
        );
        assert!(init(&["-maxuid", "1", "-MAXUID", "2"])
            .unwrap_err()
            .0
            .contains("more than once"));
        assert!(init(&["-maxuid", "-1"]).is_err());
        assert!(init(&["-maxuid", "1x"]).is_err());
        assert!(init(&["-maxuid"]).is_err());
        assert!(init(&["-maxsgid", "65537"]).is_err());
        assert!(init(&["-set_only_egid", "maybe"]).is_err());
        assert!(init(&["-bogus"]).unwrap_err().0.contains("-bogus"));
        assert!(PosixEnf::default().enforces_identity());
        assert!(PosixEnf::default().introspect().is_empty());
    }

    #[test]
    fn plan_checks_everything_first() {
        let p = init(&["-maxuid", "1", "-maxsgid", "2"]).unwrap();
        assert!(p
            .plan(&[500, 501], &[500], &[])
            .unwrap_err()
            .contains("exceeds"));
        assert!(p
            .plan(&[500], &[500], &[1, 2, 3])
            .unwrap_err()
            .contains("exceeds"));
        assert!(p
            .plan(&[], &[500], &[])
            .unwrap_err()
            .contains("No user IDs"));
        assert!(p.plan(&[500], &[], &[]).unwrap_err().contains("No primary"));
        assert!(p.plan(&[0], &[500], &[]).unwrap_err().contains("uid 0"));
        assert!(p.plan(&[500], &[0], &[]).unwrap_err().contains("gid 0"));
        assert!(p.plan(&[500], &[500], &[0]).unwrap_err().contains("gid 0"));
        assert_eq!(
            p.plan(&[500], &[501], &[501, 7]).unwrap(),
            Identity {
                uid: 500,
                pgid: 501,
                sgids: vec![501, 7]
            }
        );
    }

    fn run_with(p: &mut PosixEnf, uids: &[u32], pgids: &[u32], sgids: &[u32]) -> Status {
        let req = Request::default();
        let mut store = Store::new();
        store.uids = uids.to_vec();
        store.pri_gids = pgids.to_vec();
        store.sec_gids = sgids.to_vec();
        p.run(&mut RunContext {
            request: &req,
            store: &mut store,
        })
    }

    /// In a child process (the test binary re-run for one test) so the
    /// switch does not affect the other tests.
    fn in_child(test: &str, case: &str) -> std::process::Output {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env("LCMAPS_RS_POSIX_CHILD", case)
            .output()
            .unwrap()
    }

    #[test]
    fn switches_identity_as_root() {
        if let Ok(case) = std::env::var("LCMAPS_RS_POSIX_CHILD") {
            let mut p = PosixEnf::default();
            p.initialize(&["x".into()]).unwrap();
            match case.as_str() {
                "switch" => {
                    assert_eq!(
                        run_with(&mut p, &[4242], &[4343], &[4343, 4444]),
                        Status::Success
                    );
                    let r = getresuid().unwrap();
                    assert_eq!(
                        (r.real.as_raw(), r.effective.as_raw(), r.saved.as_raw()),
                        (4242, 4242, 4242)
                    );
                    let g = getresgid().unwrap();
                    assert_eq!(
                        (g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw()),
                        (4343, 4343, 4343)
                    );
                    let mut groups: Vec<u32> =
                        getgroups().unwrap().into_iter().map(Gid::as_raw).collect();
                    groups.sort();
                    assert_eq!(groups, [4343, 4444]);
                    // No way back to root.
                    assert!(
                        setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0)).is_err()
                    );
                }
                "refuse" => {
                    let before = (getresuid().unwrap().effective, getgroups().unwrap());
                    assert_eq!(run_with(&mut p, &[0], &[4343], &[4444]), Status::Failure);
                    assert_eq!(run_with(&mut p, &[4242], &[0], &[4444]), Status::Failure);
                    assert_eq!(run_with(&mut p, &[4242], &[4343], &[0]), Status::Failure);
                    // Nothing changed: checks come before setgroups.
                    assert_eq!(
                        (getresuid().unwrap().effective, getgroups().unwrap()),
                        before
                    );
                }
                _ => unreachable!(),
            }
            return;
        }
        if !geteuid().is_root() {
            println!(
                "skipped: posix_enf identity switch needs root (euid {})",
                geteuid()
            );
            return;
        }
        for case in ["switch", "refuse"] {
            let out = in_child("tests::switches_identity_as_root", case);
            assert!(
                out.status.success(),
                "{case}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
        }
    }

    #[test]
    fn not_root_fails_without_switching() {
        if geteuid().is_root() {
            // Covered by the child cases above; as root the switch would
            // change this test process.
            return;
        }
        let mut p = PosixEnf::default();
        assert_eq!(run_with(&mut p, &[4242], &[4343], &[]), Status::Failure);
    }
}
