//! A test world for glexec: accounts, a CA and proxy, glexec.conf, a
//! policy, and a setuid-root copy of glexec, used in a private mount
//! namespace. Shared by the tests and the bench.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lcmaps_x509::fixtures::{self, Kind, Tweak};

pub const CALLER: u32 = 5001;
pub const TARGET: u32 = 5002;
/// Where the mapping service listens in [`World::run_with`].
pub const SERVICE_SOCKET: &str = "/run/lcmaps-rs/glexec-mapper.sock";
pub const TRACK: u32 = 5003;
pub const OTHER: u32 = 5004;
/// The mapping helper's account (`mapping_account`).
pub const MAPPER: u32 = 5005;

#[derive(Debug)]
pub struct World {
    pub dir: tempfile::TempDir,
}

pub fn root() -> bool {
    nix::unistd::geteuid().is_root()
        && Command::new("unshare")
            .args(["-m", "true"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
}

/// Whether the test can run: root and `unshare -m` (a failure under
/// `CI=true`, a recorded skip elsewhere: `lcmaps_core::testing`).
pub fn require_root(test: &str) -> bool {
    lcmaps_core::testing::requirement(test, root(), "needs root and unshare -m")
}

/// Writes an executable file by a child process, never through a
/// descriptor of this process: a test thread forking meanwhile would
/// inherit a writable descriptor of the file, and its exec would then fail
/// with `Text file busy` (ETXTBSY).
pub fn write_executable(path: &Path, contents: &[u8], mode: u32) {
    use std::io::Write;
    let mut c = Command::new("sh")
        .args(["-c", "cat > \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(contents).unwrap();
    assert!(c.wait().unwrap().success());
    chmod(path, mode);
}

pub fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(p, Some(uid), Some(gid)).unwrap();
}

pub fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

impl World {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A world with accounts, a CA, a proxy for the caller, glexec.conf
    /// (with privilege separation: the mapping helper runs as `glexmap`) and
    /// a policy that verifies the proxy and maps its DN through a
    /// grid-mapfile to dteam001 (or, with `dummy_args`, a policy of
    /// lcmaps_dummy_good.mod with those options).
    pub fn new(conf_extra: &str, dummy_args: Option<&str>) -> World {
        let dir = tempfile::Builder::new()
            .prefix("glexec-test")
            .tempdir()
            .unwrap();
        chmod(dir.path(), 0o755);
        let w = World { dir };
        // /etc copy with our accounts.
        let etc = w.path("etc");
        assert!(Command::new("cp")
            .arg("-a")
            .arg("/etc")
            .arg(&etc)
            .status()
            .unwrap()
            .success());
        let mut passwd = std::fs::read_to_string(etc.join("passwd")).unwrap();
        let home = w.path("home/dteam001");
        passwd.push_str(&format!(
            "pilot001:x:{CALLER}:{CALLER}::{}:/bin/sh\ndteam001:x:{TARGET}:{TARGET}::{}:/bin/sh\nother001:x:{OTHER}:{OTHER}::/:/bin/sh\nglexmap:x:{MAPPER}:{MAPPER}::/:/bin/false\n",
            w.path("caller").display(),
            home.display()
        ));
        std::fs::write(etc.join("passwd"), passwd).unwrap();
        let mut group = std::fs::read_to_string(etc.join("group")).unwrap();
        group.push_str(&format!(
            "pilot001:x:{CALLER}:\ndteam001:x:{TARGET}:\ntrack:x:{TRACK}:dteam001\nother001:x:{OTHER}:\nglexmap:x:{MAPPER}:\n"
        ));
        std::fs::write(etc.join("group"), group).unwrap();
        // Homes.
        std::fs::create_dir_all(&home).unwrap();
        chown(&home, TARGET, TARGET);
        chmod(&home, 0o700);
        chmod(&w.path("home"), 0o755);
        let caller = w.path("caller");
        std::fs::create_dir(&caller).unwrap();
        chown(&caller, CALLER, CALLER);
        chmod(&caller, 0o700);
        // The proxy.
        let ca = fixtures::ca("Test CA");
        let certs = w.path("certs");
        std::fs::create_dir(&certs).unwrap();
        fixtures::install_ca(&certs, &ca, &[]);
        std::fs::write(
            w.path("grid-mapfile"),
            "\"/DC=org/DC=example/CN=Jane Doe\" dteam001\n",
        )
        .unwrap();
        let (user, ukey) = fixtures::user(&ca, "Jane Doe", 7);
        let (p, pkey) = fixtures::proxy(&user, &ukey, Kind::Rfc, Tweak::default());
        let proxy = caller.join("proxy");
        std::fs::write(&proxy, fixtures::pem(&[&p, &user], Some(&pkey))).unwrap();
        chown(&proxy, CALLER, CALLER);
        chmod(&proxy, 0o600);
        // glexec.conf and the policy.
        std::fs::write(
            etc.join("glexec.conf"),
            format!(
                "[glexec]\nuser_white_list = pilot001\nuse_lcas = no\nlog_destination = file\n\
                 log_file = {}\nlcmaps_db_file = /etc/lcmaps-glexec.db\nlcmaps_get_account_policy = glexec\n\
                 json_log = yes\nprivilege_separation = yes\nmapping_account = glexmap\n\
                 mapping_helper = /etc/glexec-mapper\n{conf_extra}",
                w.path("glexec.log").display()
            ),
        )
        .unwrap();
        chmod(&etc.join("glexec.conf"), 0o640);
        match dummy_args {
            Some(a) => w.policy(a),
            None => std::fs::write(
                etc.join("lcmaps-glexec.db"),
                format!(
                    "verifyproxy = \"lcmaps_verify_proxy.mod\" \"-certdir {}\"\n\
                     gridmap = \"lcmaps_localaccount.mod\" \"-gridmapfile {}\"\n\
                     glexec:\nverifyproxy -> gridmap\n",
                    certs.display(),
                    w.path("grid-mapfile").display()
                ),
            )
            .unwrap(),
        }
        // The setuid copy.
        let bin = w.path("bin");
        std::fs::create_dir(&bin).unwrap();
        chmod(&bin, 0o755);
        // By cp, not std::fs::copy (see write_executable).
        assert!(Command::new("cp")
            .arg(env!("CARGO_BIN_EXE_glexec"))
            .arg(bin.join("glexec"))
            .status()
            .unwrap()
            .success());
        chmod(&bin.join("glexec"), 0o4755);
        // The mapping helper, where the root part trusts it (/etc is the
        // copy, bind-mounted; the temporary directory sits in /tmp, which
        // anyone can write to).
        assert!(Command::new("cp")
            .arg(env!("CARGO_BIN_EXE_glexec-mapper"))
            .arg(etc.join("glexec-mapper"))
            .status()
            .unwrap()
            .success());
        chmod(&etc.join("glexec-mapper"), 0o755);
        w
    }

    pub fn policy(&self, dummy_args: &str) {
        std::fs::write(
            self.path("etc/lcmaps-glexec.db"),
            format!("map = \"lcmaps_dummy_good.mod {dummy_args}\"\nglexec:\n~lcmaps_dummy_bad.mod -> map\n"),
        )
        .unwrap();
    }

    /// A policy of one plugin, the module file `module`.
    pub fn one_module_policy(&self, module: &Path) {
        std::fs::write(
            self.path("etc/lcmaps-glexec.db"),
            format!(
                "only = \"{}\"\nglexec:\n~lcmaps_dummy_bad.mod -> only\n",
                module.display()
            ),
        )
        .unwrap();
    }

    /// Makes the C test plugin `name` (`tests/c/<name>.c`, mapping to the
    /// target) the whole policy; it writes its report to
    /// [`World::plugin_report`]'s file, in a directory the mapping account
    /// owns.
    pub fn c_plugin_policy(&self, name: &str) {
        let out = self.path("helper-out");
        std::fs::create_dir(&out).unwrap();
        chown(&out, MAPPER, MAPPER);
        let module = c_plugin(
            &self.path("bin"),
            name,
            TARGET,
            &[format!("-DOUT=\"{}\"", out.join("report").display())],
        );
        self.one_module_policy(&module);
    }

    /// What the plugin of [`World::c_plugin_policy`] wrote.
    pub fn plugin_report(&self) -> String {
        std::fs::read_to_string(self.path("helper-out/report")).unwrap()
    }

    pub fn target_proxy(&self) -> PathBuf {
        self.path("home/dteam001/proxy")
    }

    /// Run `glexec ARGS` as `uid` with `env` (plus GLEXEC_CLIENT_CERT and
    /// GLEXEC_TARGET_PROXY unless overridden), from `cwd`.
    pub fn run_as(
        &self,
        uid: u32,
        env: &[(&str, &str)],
        cwd: &Path,
        args: &[&str],
        redirect: &str,
    ) -> Output {
        self.run_wrapped(uid, env, cwd, args, redirect, "")
    }

    /// As [`World::run_as`], with `wrapper` (e.g. `prlimit --fsize=0`)
    /// before the switch to the caller.
    pub fn run_wrapped(
        &self,
        uid: u32,
        env: &[(&str, &str)],
        cwd: &Path,
        args: &[&str],
        redirect: &str,
        wrapper: &str,
    ) -> Output {
        let mut envs: Vec<String> = vec![
            format!("GLEXEC_CLIENT_CERT={}", self.path("caller/proxy").display()),
            format!("GLEXEC_TARGET_PROXY={}", self.target_proxy().display()),
            "PATH=/usr/bin:/bin".into(),
        ];
        for (k, v) in env {
            envs.retain(|e| !e.starts_with(&format!("{k}=")));
            envs.push(format!("{k}={v}"));
        }
        let script = format!(
            "etc=\"$1\"; dir=\"$2\"; shift 2; mount --bind \"$etc\" /etc && cd \"$dir\" && exec {wrapper} setpriv --reuid {uid} --regid {uid} --clear-groups env -i \"$@\" {redirect}"
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["-m", "sh", "-c", &script, "sh"]);
        cmd.arg(self.path("etc")).arg(cwd);
        cmd.args(&envs).arg(self.path("bin/glexec")).args(args);
        cmd.output().unwrap()
    }

    /// Runs `glexec ARGS` as the caller (GLEXEC_CLIENT_CERT and
    /// GLEXEC_TARGET_PROXY set) while a mapping service runs: `service` is
    /// started as systemd starts `glexec-mapper.socket`
    /// (`systemd-socket-activate`: root makes the socket [`SERVICE_SOCKET`],
    /// then starts the command with it) in the same private mount and PID
    /// namespaces, on a private /run. Everything left in them dies when the
    /// run ends.
    pub fn run_with(&self, service: &str, args: &[&str]) -> Output {
        self.script_with(service, "glexec \"$@\"", args)
    }

    /// As [`World::run_with`], but runs the root shell script `body` with
    /// `args` as its positional parameters; in it `glexec ARGS` runs glexec
    /// as the caller, and its exit status is the script's if it ends with
    /// it.
    pub fn script_with(&self, service: &str, body: &str, args: &[&str]) -> Output {
        let script = format!(
            "etc=\"$1\"; cert=\"$2\"; target=\"$3\"; bin=\"$4\"; shift 4\n\
             mount --bind \"$etc\" /etc && mount -t tmpfs -o mode=755 none /run && mkdir -m 755 {dir} || exit 90\n\
             (umask 077; exec systemd-socket-activate -l {SERVICE_SOCKET} {service}) 2>/dev/null &\n\
             i=0; while [ ! -S {SERVICE_SOCKET} ]; do i=$((i+1)); [ $i -gt 1000 ] && exit 91; sleep 0.01; done\n\
             glexec() {{ (cd / && setpriv --reuid {CALLER} --regid {CALLER} --clear-groups env -i \
             GLEXEC_CLIENT_CERT=\"$cert\" GLEXEC_TARGET_PROXY=\"$target\" PATH=/usr/bin:/bin \"$bin\" \"$@\"); }}\n\
             {body}\n",
            dir = Path::new(SERVICE_SOCKET).parent().unwrap().display(),
        );
        let out = Command::new("unshare")
            .args(["-m", "-p", "-f", "--mount-proc", "sh", "-c", &script, "sh"])
            .arg(self.path("etc"))
            .arg(self.path("caller/proxy"))
            .arg(self.target_proxy())
            .arg(self.path("bin/glexec"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            !matches!(out.status.code(), Some(90 | 91)),
            "the service did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// [`World::run_with`] the mapping service itself, running as the
    /// mapping account with `args`.
    pub fn run_with_service(&self, service_args: &str, args: &[&str]) -> Output {
        self.run_with(
            &format!(
                "setpriv --reuid {MAPPER} --regid {MAPPER} --clear-groups /etc/glexec-mapper --serve {service_args}"
            ),
            args,
        )
    }

    pub fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.run_as(CALLER, env, Path::new("/"), args, "")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("glexec.log")).unwrap_or_default()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts that the `/proc/self/status` text `st` (a C test plugin's
/// report) is of a process running as the mapping account with no groups,
/// no capabilities, `no_new_privs` and a seccomp filter.
pub fn assert_confined_as_mapper(st: &str) {
    let field = |k: &str| {
        st.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}:")))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let m = MAPPER.to_string();
    assert_eq!(field("Uid"), [&*m, &m, &m, &m].join(" "), "{st}");
    assert_eq!(field("Gid"), [&*m, &m, &m, &m].join(" "), "{st}");
    assert_eq!(field("Groups"), "", "{st}");
    assert_eq!(field("CapEff"), "0000000000000000", "{st}");
    assert_eq!(field("CapPrm"), "0000000000000000", "{st}");
    assert_eq!(field("NoNewPrivs"), "1", "{st}");
    assert_eq!(field("Seccomp"), "2", "{st}");
}

/// Returns from the test unless it can run ([`require_root`]).
#[macro_export]
macro_rules! need_root {
    () => {
        if !require_root(module_path!()) {
            return;
        }
    };
}

/// A policy with the tracking plugin (range `min`-`max`, more options in
/// `extra`) after the grid-mapfile.
pub fn tracking_policy(w: &World, min: u32, max: u32, extra: &str) {
    let state = w.path("tracking-state");
    let _ = std::fs::create_dir(&state);
    std::fs::write(
        w.path("etc/lcmaps-glexec.db"),
        format!(
            "verifyproxy = \"lcmaps_verify_proxy.mod\" \"-certdir {}\"\n\
             gridmap = \"lcmaps_localaccount.mod\" \"-gridmapfile {}\"\n\
             track = \"lcmaps_glexec_tracking.mod\" \"-min-gid {min} -max-gid {max} -statedir {} {extra}\"\n\
             glexec:\nverifyproxy -> gridmap\ngridmap -> track\n",
            w.path("certs").display(),
            w.path("grid-mapfile").display(),
            state.display()
        ),
    )
    .unwrap();
}

/// Builds `tests/c/<name>.c` into `dir` as `<name>.mod`, mapping to `id`,
/// with more `-D` definitions.
pub fn c_plugin(dir: &Path, name: &str, id: u32, defines: &[String]) -> PathBuf {
    let out = dir.join(format!("{name}.mod"));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let inc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../include");
    let st = Command::new("gcc")
        .args(["-shared", "-fPIC", "-Wall", "-o"])
        .arg(&out)
        .arg(format!("-DMAP_ID={id}"))
        .args(defines)
        .arg(format!("-I{}", inc.display()))
        .arg(&src)
        .status()
        .expect("gcc (CI installs build-essential)");
    assert!(st.success(), "gcc failed on {}", src.display());
    out
}
