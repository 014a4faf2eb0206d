//! Issue #16 item 0: the real clients sites run, on our library and on
//! Debian's. Debian's `globus-gridftp-server` (as root, as inetd starts it)
//! loads Debian's `lcas-lcmaps-gt4-interface` as its GSI authorization
//! callout, which dlopens `liblcas.so` and `liblcmaps.so` from the
//! directories `$LLGT_LCAS_LIBDIR` / `$LLGT_LCMAPS_LIBDIR` name: Debian's
//! (liblcas0, liblcmaps0) or ours (liblcmaps_rs.so under both names). The
//! users log in with `globus-url-copy` and proxies `grid-proxy-init` made
//! from certificates this test issues, and upload a file.
//!
//! With the same lcmaps.db (Debian's C plugins `lcmaps_verify_proxy.mod`,
//! `lcmaps_localaccount.mod`, `lcmaps_poolaccount.mod`,
//! `lcmaps_posix_enf.mod`) and the same lcas.db (our `lcas_userban.mod`, as
//! Debian ships no LCAS plugins), both libraries must: map a grid-mapfile
//! user and a pool-account user after verifying the delegated proxy chain
//! (the credential the server hands over has no private key: the chain must
//! come out of the GSS credential, #16), write the file as the mapped
//! account, refuse a limited proxy (`--disallow-limited-proxy`) and refuse
//! a DN LCAS bans, writing nothing.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lcmaps_mod_tests::{have_debian_lcmaps, our_mods, skip};
use lcmaps_x509::fixtures;

const SERVER: &str = "/usr/sbin/globus-gridftp-server";
const GT4_INTERFACE: &str =
    "/usr/lib/x86_64-linux-gnu/lcas-lcmaps-gt4-interface/liblcas_lcmaps_gt4_mapping.so";
const DEBIAN_LCMAPS_DIR: &str = "/usr/lib/x86_64-linux-gnu";
const DEBIAN_LCAS_DIR: &str = "/usr/lib";
const DEBIAN_MODS: &str = "/usr/lib/lcmaps";
const JANE: &str = "/DC=org/DC=example/CN=Jane Doe";
const CAROL: &str = "/DC=org/DC=example/CN=Carol";
const BOB: &str = "/DC=org/DC=example/CN=Bob";
/// How long one login may take before the test kills it and fails.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(90);

/// Everything the test needs is there (root, Debian's packages); under
/// CI=true a missing one is a failure.
fn ready(t: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        skip(t, "needs root (the server switches to the mapped account)");
        return false;
    }
    for (what, pkg) in [
        (SERVER, "globus-gridftp-server-progs"),
        ("/usr/bin/globus-url-copy", "globus-gass-copy-progs"),
        ("/usr/bin/grid-proxy-init", "globus-proxy-utils"),
        (GT4_INTERFACE, "lcas-lcmaps-gt4-interface"),
        ("/usr/lib/liblcas.so", "liblcas-dev"),
        (
            "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
            "libnss-wrapper",
        ),
    ] {
        if !Path::new(what).exists() {
            skip(t, &format!("{what} is missing (package {pkg})"));
            return false;
        }
    }
    if !have_debian_lcmaps() {
        skip(
            t,
            "Debian's LCMAPS (liblcmaps0, liblcmaps-dev) is not installed",
        );
        return false;
    }
    true
}

/// A site: CA directory with signing policy and CRL, host credential,
/// accounts, grid-mapfile, gridmapdir, lcmaps.db, lcas.db, the upload dir.
struct Site {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    ca: fixtures::Ca,
}

impl Site {
    fn new() -> Site {
        let tmp = tempfile::Builder::new()
            .prefix("gridftp")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        // The mapped accounts must reach the upload directory.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ca = fixtures::ca_with_key("Test CA", fixtures::rsa_key());
        let cadir = dir.join("certificates");
        std::fs::create_dir(&cadir).unwrap();
        fixtures::install_ca(&cadir, &ca, &[]);
        // Globus checks the CA's signing policy.
        std::fs::write(
            cadir.join(format!(
                "{:08x}.signing_policy",
                ca.cert.subject_name_hash()
            )),
            "access_id_CA X509 '/DC=org/DC=example/CN=Test CA'\n\
             pos_rights globus CA:sign\n\
             cond_subjects globus '\"/DC=org/DC=example/*\"'\n",
        )
        .unwrap();
        let s = Site { _tmp: tmp, dir, ca };
        s.credential("host", "localhost", 2);
        let up = s.dir.join("up");
        std::fs::create_dir(&up).unwrap();
        std::fs::set_permissions(&up, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let home = up.display();
        s.write(
            "passwd",
            &format!(
                "root:x:0:0:root:/root:/bin/sh\n\
                 alice:x:5001:5001:Alice:{home}:/bin/sh\n\
                 pool001:x:6001:6000:pool:{home}:/bin/sh\n\
                 pool002:x:6002:6000:pool:{home}:/bin/sh\n\
                 bob:x:5002:5002:Bob:{home}:/bin/sh\n"
            ),
        );
        s.write(
            "group",
            "root:x:0:\nalice:x:5001:\nbob:x:5002:\npools:x:6000:\n",
        );
        s.write(
            "grid-mapfile",
            &format!("\"{JANE}\" alice\n\"{BOB}\" bob\n\"{CAROL}\" .pool\n"),
        );
        let gridmapdir = s.dir.join("gridmapdir");
        std::fs::create_dir(&gridmapdir).unwrap();
        for p in ["pool001", "pool002"] {
            std::fs::write(gridmapdir.join(p), "").unwrap();
        }
        let d = s.dir.display();
        s.write(
            "lcmaps.db",
            &format!(
                "path = {DEBIAN_MODS}\n\
                 verifyproxy = \"lcmaps_verify_proxy.mod\"\n\
                 \x20   \"-certdir {d}/certificates\"\n\
                 \x20   \"--discard_private_key_absence\"\n\
                 \x20   \"--disallow-limited-proxy\"\n\
                 localaccount = \"lcmaps_localaccount.mod\" \"-gridmapfile {d}/grid-mapfile\"\n\
                 poolaccount = \"lcmaps_poolaccount.mod\"\n\
                 \x20   \"-gridmapfile {d}/grid-mapfile -gridmapdir {d}/gridmapdir\"\n\
                 posix = \"lcmaps_posix_enf.mod\" \"-maxuid 1 -maxpgid 1 -maxsgid 32\"\n\
                 gridftp:\n\
                 verifyproxy -> localaccount\n\
                 localaccount -> posix | poolaccount\n\
                 poolaccount -> posix\n"
            ),
        );
        s.write("ban_users.db", &format!("\"{BOB}\"\n"));
        s.write(
            "lcas.db",
            &format!(
                "pluginname=\"{}\",pluginargs=\"{d}/ban_users.db\"\n",
                our_mods().join("lcas_userban.mod").display()
            ),
        );
        s.write(
            "gsi-authz.conf",
            &format!("globus_mapping {GT4_INTERFACE} lcmaps_callout\n"),
        );
        s
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }

    /// `<name>.pem` and `<name>.key` (0600) for `/DC=org/DC=example/CN=<cn>`.
    fn credential(&self, name: &str, cn: &str, serial: u32) -> (PathBuf, PathBuf) {
        let (cert, key) = fixtures::user_with_key(&self.ca, cn, serial, fixtures::rsa_key());
        let (c, k) = (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
        );
        std::fs::write(&c, cert.to_pem().unwrap()).unwrap();
        std::fs::write(&k, key.private_key_to_pem_pkcs8().unwrap()).unwrap();
        std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
        (c, k)
    }

    /// A proxy made by `grid-proxy-init` (limited with `-limited`).
    fn proxy(&self, name: &str, cn: &str, serial: u32, limited: bool) -> PathBuf {
        let (cert, key) = self.credential(name, cn, serial);
        let out = self.dir.join(format!("{name}.proxy"));
        let mut c = Command::new("grid-proxy-init");
        c.arg("-cert").arg(&cert).arg("-key").arg(&key);
        c.arg("-out").arg(&out).arg("-q");
        if limited {
            c.arg("-limited");
        }
        let r = c
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("X509_CERT_DIR", self.dir.join("certificates"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            r.status.success() && out.exists(),
            "grid-proxy-init for {cn}: {}{}",
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        out
    }
}

/// Which library the callout loads: the directory holding `liblcmaps.so`
/// and the one holding `liblcas.so`.
struct Library {
    name: &'static str,
    lcmaps_dir: PathBuf,
    lcas_dir: PathBuf,
}

/// What one login did.
struct Login {
    client_ok: bool,
    client_out: String,
    /// The callout's log (LLGT, LCAS and LCMAPS lines).
    log: String,
    /// Owner (uid, gid) of the uploaded file, if it was written.
    owner: Option<(u32, u32)>,
}

/// Wait for `child` until `deadline`; kill it when that passes.
fn wait(child: &mut Child, deadline: Instant, what: &str) -> bool {
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {LOGIN_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Upload a file as the owner of `proxy` to a server that runs the callout
/// on `lib`, with a fresh log; the server serves this one connection (inetd
/// mode, on the socket this test accepted) and exits.
fn login(site: &Site, lib: &Library, proxy: &Path, file: &str) -> Login {
    let d = &site.dir;
    let log = d.join(format!("llgt-{}-{file}.log", lib.name));
    let target = d.join("up").join(file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = Command::new("globus-url-copy")
        .args(["-s", "/DC=org/DC=example/CN=localhost"])
        .arg(format!("file://{}", d.join("grid-mapfile").display()))
        .arg(format!("gsiftp://127.0.0.1:{port}{}", target.display()))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", d)
        .env("X509_CERT_DIR", d.join("certificates"))
        .env("X509_USER_PROXY", proxy)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LOGIN_TIMEOUT;
    let conn = loop {
        match listener.accept() {
            Ok((c, _)) => break c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if client.try_wait().unwrap().is_some() || Instant::now() > deadline {
                    let _ = client.kill();
                    let out = client.wait_with_output().unwrap();
                    panic!(
                        "globus-url-copy never connected: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    conn.set_nonblocking(false).unwrap();
    let conn_out = conn.try_clone().unwrap();
    let nss = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so";
    let mut server = Command::new(SERVER)
        .args(["-i", "-d", "ERROR,WARN,INFO", "-l"])
        .arg(d.join(format!("server-{}-{file}.log", lib.name)))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("X509_CERT_DIR", d.join("certificates"))
        .env("X509_USER_CERT", d.join("host.pem"))
        .env("X509_USER_KEY", d.join("host.key"))
        .env("GSI_AUTHZ_CONF", d.join("gsi-authz.conf"))
        .env("LLGT_LCMAPS_LIBDIR", &lib.lcmaps_dir)
        .env("LLGT_LCAS_LIBDIR", &lib.lcas_dir)
        .env("LLGT_LOG_FILE", &log)
        .env("LCMAPS_DB_FILE", d.join("lcmaps.db"))
        .env("LCMAPS_POLICY_NAME", "gridftp")
        .env("LCMAPS_DEBUG_LEVEL", "5")
        .env("LCAS_DB_FILE", d.join("lcas.db"))
        .env("LCAS_DEBUG_LEVEL", "5")
        .env("LD_PRELOAD", nss)
        .env("NSS_WRAPPER_PASSWD", d.join("passwd"))
        .env("NSS_WRAPPER_GROUP", d.join("group"))
        .stdin(Stdio::from(std::os::fd::OwnedFd::from(conn)))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(conn_out)))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client_ok = wait(&mut client, deadline, "globus-url-copy");
    let mut client_out = String::new();
    for pipe in [
        client.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        client.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut p = pipe;
        let _ = p.read_to_string(&mut client_out);
    }
    wait(&mut server, deadline, "globus-gridftp-server");
    let owner = std::fs::metadata(&target).ok().map(|m| (m.uid(), m.gid()));
    Login {
        client_ok,
        client_out,
        log: std::fs::read_to_string(&log).unwrap_or_default(),
        owner,
    }
}

#[test]
fn gridftp_through_the_gt4_interface_maps_verifies_and_runs_lcas_on_ours_as_on_debians() {
    let t = "gridftp_through_the_gt4_interface_maps_verifies_and_runs_lcas_on_ours_as_on_debians";
    if !ready(t) {
        return;
    }
    let site = Site::new();
    let jane = site.proxy("jane", "Jane Doe", 10, false);
    let jane_limited = site.proxy("jane-limited", "Jane Doe", 11, true);
    let carol = site.proxy("carol", "Carol", 12, false);
    let bob = site.proxy("bob", "Bob", 13, false);
    let clib = ffi_tests::clib_dir(&site.dir);
    let libs = [
        Library {
            name: "debian",
            lcmaps_dir: DEBIAN_LCMAPS_DIR.into(),
            lcas_dir: DEBIAN_LCAS_DIR.into(),
        },
        Library {
            name: "ours",
            lcmaps_dir: clib.clone(),
            lcas_dir: clib,
        },
    ];
    for lib in &libs {
        let n = lib.name;
        let ctx = |l: &Login| format!("{n}: client: {}\nlog:\n{}", l.client_out, l.log);

        // A grid-mapfile user, verified chain: written as alice.
        let l = login(&site, lib, &jane, &format!("jane-{n}"));
        assert!(l.client_ok, "{}", ctx(&l));
        assert_eq!(l.owner, Some((5001, 5001)), "{}", ctx(&l));
        assert!(
            l.log.contains("verify proxy plugin succeeded"),
            "{}",
            ctx(&l)
        );
        assert!(!l.log.contains("mapping on its DN only"), "{}", ctx(&l));

        // A pool-account user: the first free pool account.
        let l = login(&site, lib, &carol, &format!("carol-{n}"));
        assert!(l.client_ok, "{}", ctx(&l));
        let (uid, gid) = l.owner.unwrap_or_else(|| panic!("{}", ctx(&l)));
        assert!((6001..=6002).contains(&uid) && gid == 6000, "{}", ctx(&l));

        // A limited proxy: refused by verify_proxy, nothing written.
        let l = login(&site, lib, &jane_limited, &format!("limited-{n}"));
        assert!(!l.client_ok, "{}", ctx(&l));
        assert_eq!(l.owner, None, "{}", ctx(&l));
        assert!(l.client_out.contains("530"), "{}", ctx(&l));
        assert!(l.log.to_lowercase().contains("limited"), "{}", ctx(&l));

        // A DN LCAS bans: refused before LCMAPS, nothing written.
        let l = login(&site, lib, &bob, &format!("bob-{n}"));
        assert!(!l.client_ok, "{}", ctx(&l));
        assert_eq!(l.owner, None, "{}", ctx(&l));
        assert!(l.log.contains("lcas_userban.mod"), "{}", ctx(&l));
        assert!(!l.log.contains("mapped uid:'5002'"), "{}", ctx(&l));
    }
    // Both libraries leased Carol the same way: one lease, held since the
    // first login (the second reuses it).
    let leases = ffi_tests::gridmapdir_state(&site.dir.join("gridmapdir"));
    assert_eq!(
        leases.iter().filter(|l| l.starts_with("linked:")).count(),
        1,
        "{leases:?}"
    );
}
