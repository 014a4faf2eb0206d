//! Same answers through every door (issue #16 item 4): the same
//! credentials — a DN, a DN with FQANs, a proxy, a VOMS proxy, a bearer
//! token, and credentials that must be refused — through the five ways in:
//!
//! * `cli`: `lcmaps map --json` (`--dn`/`--fqan`, `--proxy FILE`, `--token FILE`);
//! * `engine`: `lcmaps_core::Engine` with `lcmaps_builtins::Loader`, as
//!   `lcmaps map` builds it (in a child process of this test binary, so the
//!   fake accounts of libnss-wrapper are seen);
//! * `c-api`: our liblcmaps.so.0 from C: `ffi-tests/c/gatekeeper.c` built
//!   against our headers (`account DN FQAN...`, `pem FILE`), and
//!   `ffi-tests/c/cred_client.c token FILE` for lcmaps-rs's
//!   `lcmaps_rs_run_with_token_and_return_account`;
//! * `glexec`: the setuid binary run by an unprivileged caller in a private
//!   mount namespace (tests/world.rs), with a proxy (`GLEXEC_CLIENT_CERT`)
//!   or a token (`BEARER_TOKEN_FILE`); the payload prints `id -u; id -g; id -G`;
//! * `debian`: Debian's liblcmaps (gatekeeper.c against Debian's headers,
//!   `-llcmaps`) running our `.mod`s.
//!
//! One lcmaps.db serves every door (its `path` is the directory of our
//! `.mod`s, which only Debian's LCMAPS reads: our engine runs its
//! built-ins for those names); policies in file order, each for one kind of
//! credential, so each kind maps to its own account:
//!
//! ```text
//! tokens: tok -> noop            lcmaps_scitokens.mod     sub alice-sub -> tkuser
//! voms:   vla -> noop            lcmaps_voms_localaccount /dteam/*      -> vouser
//! proxy:  vp -> pool             lcmaps_verify_proxy, lcmaps_poolaccount  Jane -> .pxpool
//! dn:     local -> noop          lcmaps_localaccount      Dee Enn       -> dnuser
//! ```
//!
//! Every cell must be the row's expected account (uid, primary gid,
//! secondary gids; glexec shows the groups of the payload, which are the
//! primary gid and the secondary gids as a set) or its refusal. A door that
//! cannot take a kind of credential is `n/a` with the reason (see [`NA`]).
//! The table goes to standard error.

#[path = "../../lcmaps-plugins/lcmaps-scitokens/tests/common/mod.rs"]
mod tokens;
mod world;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use lcmaps_x509::fixtures::{self, Ca, Kind, Tweak};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde_json::{json, Value};
use world::{chmod, chown, World, CALLER};

const DEE: &str = "/DC=org/DC=example/CN=Dee Enn";
const JANE: &str = "/DC=org/DC=example/CN=Jane Doe";
const NOBODY: &str = "/DC=org/DC=example/CN=No Body";
const DTEAM: &str = "/dteam/Role=NULL/Capability=NULL";
const ATLAS: &str = "/atlas/Role=NULL/Capability=NULL";
const VOMS_HOST: &str = "voms.example.org";
const ROGUE_HOST: &str = "rogue.example.org";

/// The accounts: the same names, uids and groups in libnss-wrapper's files
/// (cli, engine, c-api, debian) and in the /etc of glexec's namespace.
const PASSWD: &str = "\
dnuser:x:5110:5110:doors:/nonexistent:/bin/sh
vouser:x:5120:5120:doors:/nonexistent:/bin/sh
pxpool001:x:5131:5130:doors:/nonexistent:/bin/sh
tkuser:x:5140:5140:doors:/nonexistent:/bin/sh
";
const GROUP: &str = "\
dnuser:x:5110:
vouser:x:5120:
pxpool:x:5130:
tkuser:x:5140:
doorsx:x:5190:dnuser,vouser,pxpool001,tkuser
";

/// (name, uid, primary gid) of [`PASSWD`].
const ACCOUNTS: [(&str, u32, u32); 4] = [
    ("dnuser", 5110, 5110),
    ("vouser", 5120, 5120),
    ("pxpool001", 5131, 5130),
    ("tkuser", 5140, 5140),
];

/// What a door answered, or what a row expects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cell {
    /// A uid, a primary gid and the secondary gids, as the door reports them.
    Account { uid: u32, gid: u32, sgids: Vec<u32> },
    /// glexec: the payload's `id -u`, `id -g` and `id -G` (a set, with the
    /// primary gid).
    Payload {
        uid: u32,
        gid: u32,
        groups: BTreeSet<u32>,
    },
    /// Not mapped.
    Refused,
    /// The door cannot take this kind of credential (the reason).
    Na(&'static str),
    /// A requirement of the door or the row is missing (the reason);
    /// a failure under CI=true (`lcmaps_core::testing`).
    Skipped(String),
    /// The door failed otherwise (its output).
    Error(String),
}

impl Cell {
    fn account(uid: u32, gid: u32, sgids: &[u32]) -> Cell {
        Cell::Account {
            uid,
            gid,
            sgids: sgids.to_vec(),
        }
    }

    /// Whether `self` (a door's answer) is `expected`.
    fn agrees(&self, expected: &Cell) -> bool {
        match (self, expected) {
            (
                Cell::Payload { uid, gid, groups },
                Cell::Account {
                    uid: u,
                    gid: g,
                    sgids,
                },
            ) => {
                let mut want: BTreeSet<u32> = sgids.iter().copied().collect();
                want.insert(*g);
                (uid, gid, groups) == (u, g, &want)
            }
            (Cell::Na(_) | Cell::Skipped(_), _) => true,
            _ => self == expected,
        }
    }

    fn short(&self) -> String {
        let list =
            |v: &mut dyn Iterator<Item = &u32>| v.map(u32::to_string).collect::<Vec<_>>().join(",");
        match self {
            Cell::Account { uid, gid, sgids } => {
                format!("{uid}:{gid} [{}]", list(&mut sgids.iter()))
            }
            Cell::Payload { uid, gid, groups } => {
                format!("{uid}:{gid} {{{}}}", list(&mut groups.iter()))
            }
            Cell::Refused => "refused".into(),
            Cell::Na(why) => format!("n/a {}", NA.iter().position(|x| x == why).unwrap() + 1),
            Cell::Skipped(_) => "skipped".into(),
            Cell::Error(_) => "ERROR".into(),
        }
    }
}

/// Why a door cannot take a kind of credential.
mod na {
    pub const GLEXEC_DN: &str =
        "glexec maps the payload's proxy or bearer token; it takes no bare DN";
    pub const GLEXEC_FQANS: &str =
        "glexec takes no FQAN list: FQANs come only from the verified VOMS ACs of the proxy";
    pub const DEBIAN_TOKEN: &str =
        "Debian's LCMAPS 1.6 has no way to pass a token to a plugin: its run variables \
         (user_dn, pem_string, fqan_list, ... 21 of them) have no bearer token, so \
         lcmaps_scitokens.mod refuses there (lcmaps-mod-tests/tests/debian_host_more.rs)";
}
/// The reasons, for the table's notes.
const NA: [&str; 3] = [na::GLEXEC_DN, na::GLEXEC_FQANS, na::DEBIAN_TOKEN];

/// One kind of credential.
#[derive(Debug, Clone)]
enum Cred {
    Dn(&'static str, Vec<&'static str>),
    Proxy(PathBuf),
    Token(PathBuf),
}

/// A row: credentials and the expected answer.
#[derive(Debug)]
struct Row {
    name: &'static str,
    cred: Option<Cred>,
    expected: Cell,
    /// Why the row's credential could not be made (voms-proxy-fake missing).
    missing: Option<String>,
}

const DOORS: [&str; 5] = ["cli", "engine", "c-api", "glexec", "debian"];

/// The environment variable that turns [`engine_door_child`] into the
/// Engine door.
const ENGINE_CHILD: &str = "LCMAPS_RS_DOORS_ENGINE_CHILD";

/// Everything the doors share.
struct Site {
    dir: PathBuf,
    db: PathBuf,
    certs: PathBuf,
    vomsdir: PathBuf,
    /// libnss-wrapper's environment with our accounts.
    nss: Vec<(String, String)>,
    /// The directory of our `.mod`s (Debian's lexer takes no '-' in `path`).
    _mods: tempfile::TempDir,
}

impl Site {
    /// The environment of every door but glexec.
    fn env(&self) -> Vec<(String, String)> {
        let mut e = self.nss.clone();
        e.push(("PATH".into(), "/usr/bin:/bin".into()));
        e.push(("LCMAPS_DB_FILE".into(), self.db.display().to_string()));
        e.push(("LCMAPS_DEBUG_LEVEL".into(), "5".into()));
        e.push(("X509_CERT_DIR".into(), self.certs.display().to_string()));
        e.push(("X509_VOMS_DIR".into(), self.vomsdir.display().to_string()));
        e
    }
}

fn write(p: &Path, text: &str) -> String {
    std::fs::write(p, text).unwrap();
    p.display().to_string()
}

/// The lcmaps.db of every door, its mapfiles, and the trust anchors under
/// `etc/grid-security` of `dir` (glexec's /etc in its namespace, so glexec
/// finds them where it looks by default).
fn site(dir: &Path, tok: &tokens::World) -> Site {
    let mods = tempfile::Builder::new()
        .prefix("lcmapsmods")
        .tempdir()
        .unwrap();
    for e in std::fs::read_dir(lcmaps_mod_tests::our_mods()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), mods.path().join(e.file_name())).unwrap();
    }
    let gs = dir.join("etc/grid-security");
    let _ = std::fs::remove_dir_all(&gs);
    let certs = gs.join("certificates");
    let vomsdir = gs.join("vomsdir");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::create_dir_all(&vomsdir).unwrap();
    let m = dir.join("mapfiles");
    std::fs::create_dir_all(&m).unwrap();
    write(
        &tok.mapfile,
        &format!("\"{}\" sub \"alice-sub\" tkuser\n", tokens::AUTH),
    );
    let vgrid = write(&m.join("voms-grid-mapfile"), "\"/dteam/*\" vouser\n");
    let pxgrid = write(
        &m.join("proxy-grid-mapfile"),
        &format!("\"{JANE}\" .pxpool\n"),
    );
    let dngrid = write(&m.join("grid-mapfile"), &format!("\"{DEE}\" dnuser\n"));
    let gmd = m.join("gridmapdir");
    std::fs::create_dir_all(&gmd).unwrap();
    std::fs::write(gmd.join("pxpool001"), "").unwrap();
    let db = dir.join("lcmaps.db");
    write(
        &db,
        &format!(
            "path = {mods}\n\
             tok = \"lcmaps_scitokens.mod -issuers {iss} -mapfile {tmap}\"\n\
             vla = \"lcmaps_voms_localaccount.mod -gridmapfile {vgrid}\"\n\
             vp = \"lcmaps_verify_proxy.mod -certdir {certs}\"\n\
             pool = \"lcmaps_poolaccount.mod -gridmapfile {pxgrid} -gridmapdir {gmd}\"\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {dngrid}\"\n\
             noop = \"lcmaps_dummy_good.mod\"\n\
             \n\
             tokens:\ntok -> noop\n\
             \n\
             voms:\nvla -> noop\n\
             \n\
             proxy:\nvp -> pool\n\
             \n\
             dn:\nlocal -> noop\n",
            mods = mods.path().display(),
            iss = tok.issuers.display(),
            tmap = tok.mapfile.display(),
            certs = certs.display(),
            gmd = gmd.display(),
        ),
    );
    let nssdir = dir.join("nss");
    std::fs::create_dir_all(&nssdir).unwrap();
    let passwd = write(
        &nssdir.join("passwd"),
        &format!("root:x:0:0:root:/root:/bin/sh\n{PASSWD}"),
    );
    let group = write(&nssdir.join("group"), &format!("root:x:0:\n{GROUP}"));
    let nss = vec![
        ("LD_PRELOAD".into(), ffi_tests::NSS_WRAPPER.into()),
        ("NSS_WRAPPER_PASSWD".into(), passwd),
        ("NSS_WRAPPER_GROUP".into(), group),
    ];
    Site {
        dir: dir.to_path_buf(),
        db,
        certs,
        vomsdir,
        nss,
        _mods: mods,
    }
}

/// A certificate `/DC=org/DC=example/CN=<cn>` from `ca` with an RSA key
/// (voms-proxy-fake only signs with RSA).
fn rsa_cert(ca: &Ca, cn: &str, serial: u32) -> (X509, PKey<Private>) {
    fixtures::user_with_key(ca, cn, serial, fixtures::rsa_key())
}

/// Writes a certificate and its key (mode 0600); returns the paths.
fn write_pair(dir: &Path, name: &str, c: &X509, k: &PKey<Private>) -> (PathBuf, PathBuf) {
    let cp = dir.join(format!("{name}.pem"));
    let kp = dir.join(format!("{name}.key"));
    std::fs::write(&cp, c.to_pem().unwrap()).unwrap();
    std::fs::write(&kp, k.private_key_to_pem_pkcs8().unwrap()).unwrap();
    chmod(&kp, 0o600);
    (cp, kp)
}

/// The proxies: (plain, untrusted CA, VOMS, VOMS from an untrusted
/// server); the VOMS ones are `Err(why)` without voms-proxy-fake.
struct Proxies {
    plain: PathBuf,
    rogue: PathBuf,
    voms: Result<PathBuf, String>,
    voms_rogue: Result<PathBuf, String>,
}

fn proxies(s: &Site) -> Proxies {
    let d = s.dir.join("creds");
    std::fs::create_dir_all(&d).unwrap();
    let ca = fixtures::ca("Test CA");
    fixtures::install_ca(&s.certs, &ca, &[]);
    let (user, ukey) = fixtures::user(&ca, "Jane Doe", 7);
    let (p, pkey) = fixtures::proxy(&user, &ukey, Kind::Rfc, Tweak::default());
    let plain = d.join("proxy.pem");
    std::fs::write(&plain, fixtures::pem(&[&p, &user], Some(&pkey))).unwrap();
    // Jane's DN, from a CA nobody here trusts.
    let rogue_ca = fixtures::ca("Rogue CA");
    let (ruser, rukey) = fixtures::user(&rogue_ca, "Jane Doe", 8);
    let (rp, rpkey) = fixtures::proxy(&ruser, &rukey, Kind::Rfc, Tweak::default());
    let rogue = d.join("rogue-proxy.pem");
    std::fs::write(&rogue, fixtures::pem(&[&rp, &ruser], Some(&rpkey))).unwrap();
    // VOMS proxies by voms-proxy-fake (as x509_differential.rs makes them).
    let have_fake = Command::new("voms-proxy-fake")
        .arg("-version")
        .output()
        .is_ok();
    if !have_fake {
        let why = "voms-proxy-fake is not installed (Debian package voms-clients, \
                   scripts/debian-packages.txt)"
            .to_string();
        return Proxies {
            plain,
            rogue,
            voms: Err(why.clone()),
            voms_rogue: Err(why),
        };
    }
    let (vuser, vukey) = rsa_cert(&ca, "Jane Doe", 9);
    let (ucert, ukeyf) = write_pair(&d, "user", &vuser, &vukey);
    let (server, skey) = rsa_cert(&ca, VOMS_HOST, 77);
    let (scert, skeyf) = write_pair(&d, "voms", &server, &skey);
    fixtures::install_lsc(&s.vomsdir, "dteam", VOMS_HOST, &server);
    // A VOMS server whose CA nobody trusts, with an .lsc that names it.
    let vrogue_ca = fixtures::ca("Rogue VOMS CA");
    let (rserver, rskey) = rsa_cert(&vrogue_ca, ROGUE_HOST, 78);
    let (rcert, rkeyf) = write_pair(&d, "rogue-voms", &rserver, &rskey);
    fixtures::install_lsc(&s.vomsdir, "dteam", ROGUE_HOST, &rserver);
    let fake = |name: &str, cert: &Path, key: &Path, host: &str| {
        let out = d.join(format!("{name}.pem"));
        let r = ffi_tests::run(
            Command::new("voms-proxy-fake")
                .env("HOME", &d)
                .arg("-q")
                .arg("-certdir")
                .arg(&s.certs)
                .arg("-cert")
                .arg(&ucert)
                .arg("-key")
                .arg(&ukeyf)
                .arg("-hostcert")
                .arg(cert)
                .arg("-hostkey")
                .arg(key)
                .args(["-voms", "dteam", "-uri", &format!("{host}:15000")])
                .args(["-fqan", DTEAM, "-rfc", "-out"])
                .arg(&out),
        );
        assert_eq!(
            r.code, 0,
            "voms-proxy-fake {name}: {}{}",
            r.stdout, r.stderr
        );
        out
    };
    Proxies {
        plain,
        rogue,
        voms: Ok(fake("voms-proxy", &scert, &skeyf, VOMS_HOST)),
        voms_rogue: Ok(fake("voms-rogue-proxy", &rcert, &rkeyf, ROGUE_HOST)),
    }
}

/// A token of the test issuer for `alice-sub`, valid or expired.
fn token(s: &Site, tok: &tokens::World, name: &str, expired: bool) -> PathBuf {
    let now = lcmaps_scitokens::time::now();
    let mut claims = tok.claims();
    let exp = if expired { now - 3600 } else { now + 3600 };
    claims["exp"] = json!(exp);
    claims["nbf"] = json!(now - 7200);
    claims["iat"] = json!(now - 7200);
    let f = s.dir.join("creds").join(name);
    std::fs::write(&f, tok.es256(&claims)).unwrap();
    f
}

fn parse_ids(v: &Value, key: &str) -> Vec<u32> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u32)
                .collect()
        })
        .unwrap_or_default()
}

/// An account from uid, primary gid and secondary gid lists; more than one
/// uid or primary gid is an error cell (no door should give that here).
fn account_cell(uids: &[u32], pgids: &[u32], sgids: &[u32], what: &str) -> Cell {
    match (uids, pgids) {
        ([u], [g]) => Cell::account(*u, *g, sgids),
        _ => Cell::Error(format!("uids {uids:?} primary gids {pgids:?}: {what}")),
    }
}

/// `lcmaps map --json`.
fn door_cli(s: &Site, lcmaps: &Path, c: &Cred) -> Cell {
    let mut cmd = Command::new(lcmaps);
    cmd.env_clear()
        .envs(s.env())
        .args(["map", "--json", "--db"]);
    cmd.arg(&s.db);
    match c {
        Cred::Dn(dn, fqans) => {
            cmd.args(["--dn", dn]);
            for f in fqans {
                cmd.args(["--fqan", f]);
            }
        }
        Cred::Proxy(p) => {
            cmd.arg("--proxy").arg(p);
        }
        Cred::Token(t) => {
            cmd.arg("--token").arg(t);
        }
    }
    let r = ffi_tests::run(&mut cmd);
    let Ok(v) = serde_json::from_str::<Value>(&r.stdout) else {
        return Cell::Error(format!("exit {}: {}{}", r.code, r.stdout, r.stderr));
    };
    let mapped = v["mapped"].as_bool() == Some(true);
    match (r.code, mapped) {
        (1, false) => Cell::Refused,
        (0, true) => {
            let c = &v["credentials"];
            account_cell(
                &parse_ids(c, "uids"),
                &parse_ids(c, "primary_gids"),
                &parse_ids(c, "secondary_gids"),
                &r.stdout,
            )
        }
        _ => Cell::Error(format!("exit {}: {}{}", r.code, r.stdout, r.stderr)),
    }
}

/// The Engine, in a child process of this test binary
/// ([`engine_door_child`]) that sees the accounts of libnss-wrapper.
fn door_engine(s: &Site, c: &Cred) -> Cell {
    let spec = match c {
        Cred::Dn(dn, fqans) => json!({"dn": dn, "fqans": fqans}),
        Cred::Proxy(p) => json!({"proxy": p}),
        Cred::Token(t) => json!({"token": t}),
    };
    let spec = json!({"db": s.db, "cred": spec});
    let r = ffi_tests::run(
        Command::new(std::env::current_exe().unwrap())
            .args(["engine_door_child", "--exact", "--nocapture"])
            .env_clear()
            .envs(s.env())
            .env(ENGINE_CHILD, spec.to_string()),
    );
    let Some(line) = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("ENGINE-RESULT "))
    else {
        return Cell::Error(format!("exit {}: {}{}", r.code, r.stdout, r.stderr));
    };
    let v: Value = serde_json::from_str(line).unwrap();
    if v["mapped"].as_bool() != Some(true) {
        return Cell::Refused;
    }
    account_cell(
        &parse_ids(&v, "uids"),
        &parse_ids(&v, "pgids"),
        &parse_ids(&v, "sgids"),
        line,
    )
}

/// Not a test on its own: the Engine door ([`door_engine`]) when
/// `LCMAPS_RS_DOORS_ENGINE_CHILD` holds a request; otherwise it returns at once.
/// Builds the Engine and its Request as `lcmaps map` does
/// (lcmaps-cli/src/map.rs), runs all policies and prints the outcome.
#[test]
fn engine_door_child() {
    use lcmaps_core::plugin::Request;
    use lcmaps_core::policy::{Engine, Mode, RunOptions};
    let Ok(spec) = std::env::var(ENGINE_CHILD) else {
        return;
    };
    let spec: Value = serde_json::from_str(&spec).unwrap();
    let db = PathBuf::from(spec["db"].as_str().unwrap());
    let c = &spec["cred"];
    let mut request = Request::default();
    if let Some(dn) = c["dn"].as_str() {
        request.user_dn = Some(dn.into());
        request.fqans = c["fqans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
    }
    if let Some(p) = c["proxy"].as_str() {
        let pem = std::fs::read_to_string(p).unwrap();
        let cred = lcmaps_x509::Credential::from_pem(&pem).unwrap();
        request.user_dn = Some(cred.user_dn().to_string());
        request.fqans =
            lcmaps_x509::voms::verified_fqans(&cred, &lcmaps_x509::VomsOptions::default());
        request.pem = Some(pem);
    }
    if let Some(t) = c["token"].as_str() {
        request.token = Some(lcmaps_scitokens::discovery::read_token_file(Path::new(t)).unwrap());
    }
    let checked = lcmaps_core::db::check_file(&db, &lcmaps_builtins::validate_options(None));
    let config = checked.config.expect("the doors' lcmaps.db is valid");
    let loader = lcmaps_builtins::Loader::new(Box::new(lcmaps_host::CModLoader));
    let mut engine = Engine::new(config, &loader).unwrap();
    let out = engine.run(
        &request,
        Mode::Run,
        &RunOptions {
            policies: vec![],
            dry_run: true,
            ..RunOptions::default()
        },
    );
    engine.terminate();
    let st = &out.store;
    println!(
        "ENGINE-RESULT {}",
        json!({"mapped": out.is_mapped(), "uids": st.uids, "pgids": st.pri_gids,
               "sgids": st.sec_gids})
    );
}

/// The result line of gatekeeper.c / cred_client.c (`rc=0 uid=U pgid=G
/// sgid=A,B poolindex=P` or `rc=1`).
fn c_cell(r: &ffi_tests::Ran) -> Cell {
    let line = lcmaps_mod_tests::result_line(r);
    let field = |k: &str| -> Vec<u32> {
        line.split(' ')
            .find_map(|w| w.strip_prefix(k))
            .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
            .unwrap_or_default()
    };
    match line.split(' ').next() {
        Some("rc=1") => Cell::Refused,
        Some("rc=0") => account_cell(&field("uid="), &field("pgid="), &field("sgid="), &line),
        _ => Cell::Error(format!("exit {}: {}{}", r.code, r.stdout, r.stderr)),
    }
}

/// The C programs of the c-api and debian doors.
struct CPrograms {
    /// gatekeeper.c and cred_client.c on our headers and library, and our
    /// library's directory; or why not.
    ours: Result<(PathBuf, PathBuf, PathBuf), String>,
    /// gatekeeper.c on Debian's headers and liblcmaps; or why not.
    debian: Result<PathBuf, String>,
}

fn c_programs(dir: &Path) -> CPrograms {
    if !ffi_tests::have_gcc() {
        let why = "gcc is not installed".to_string();
        return CPrograms {
            ours: Err(why.clone()),
            debian: Err(why),
        };
    }
    let clib = ffi_tests::clib_dir(dir);
    let inc = format!("-I{}", ffi_tests::include_dir().display());
    let gk = ffi_tests::build_program(
        dir,
        &ffi_tests::c_source("gatekeeper.c"),
        "gatekeeper-ours",
        std::slice::from_ref(&inc),
        Some(&clib),
        &["-llcmaps"],
    );
    let cc = ffi_tests::build_program(
        dir,
        &ffi_tests::c_source("cred_client.c"),
        "cred-client-ours",
        &[inc],
        Some(&clib),
        &["-llcmaps", "-lcrypto"],
    );
    let debian = if ffi_tests::have_debian_lcmaps() {
        Ok(lcmaps_mod_tests::debian_gatekeeper(dir))
    } else {
        Err("Debian's LCMAPS is not installed (liblcmaps0, liblcmaps-dev)".to_string())
    };
    CPrograms {
        ours: Ok((gk, cc, clib)),
        debian,
    }
}

/// gatekeeper.c (`account DN FQAN...` or `pem FILE`) or, for a token,
/// cred_client.c (`token FILE`), with `ld` as LD_LIBRARY_PATH.
fn door_c(s: &Site, gk: &Path, cc: Option<&Path>, ld: Option<&Path>, c: &Cred) -> Cell {
    let mut cmd = match c {
        Cred::Dn(dn, fqans) => {
            let mut cmd = Command::new(gk);
            cmd.arg("account").arg(dn).args(fqans);
            cmd
        }
        Cred::Proxy(p) => {
            let mut cmd = Command::new(gk);
            cmd.arg("pem").arg(p);
            cmd
        }
        Cred::Token(t) => {
            let mut cmd = Command::new(cc.expect("a token reaches only our C API"));
            cmd.arg("token").arg(t);
            cmd
        }
    };
    cmd.env_clear().envs(s.env());
    if let Some(l) = ld {
        cmd.env("LD_LIBRARY_PATH", l);
    }
    let r = ffi_tests::run(&mut cmd);
    // Our library names itself in its log; Debian's does not.
    if ld.is_some() != r.stderr.contains("lcmaps-rs") {
        return Cell::Error(format!("ran on the wrong liblcmaps: {}", r.stderr));
    }
    c_cell(&r)
}

/// glexec, setuid, run by pilot001: `id -u; id -g; id -G` as the target.
/// glexec copies the proxy or token into a directory of the target account
/// (GLEXEC_TARGET_PROXY, GLEXEC_TARGET_TOKEN): that of the `expected`
/// account (another mapping fails there with error 201, an ERROR cell).
fn door_glexec(w: &World, c: &Cred, n: usize, expected: &Cell) -> Cell {
    let home = ACCOUNTS
        .iter()
        .find(|a| matches!(expected, Cell::Account { uid, .. } if *uid == a.1))
        .map_or("dnuser", |a| a.0);
    let copy = |src: &Path, name: &str| {
        let dst = w.path(&format!("caller/{name}"));
        std::fs::copy(src, &dst).unwrap();
        chown(&dst, CALLER, CALLER);
        chmod(&dst, 0o600);
        dst.display().to_string()
    };
    let target_proxy = w.path(&format!("target/{home}/proxy-{n}"));
    let target_token = w.path(&format!("target/{home}/token-{n}"));
    let tp = target_proxy.display().to_string();
    let tt = target_token.display().to_string();
    let mut env: Vec<(&str, String)> =
        vec![("GLEXEC_TARGET_PROXY", tp), ("GLEXEC_TARGET_TOKEN", tt)];
    match c {
        Cred::Dn(..) => unreachable!("glexec takes no bare DN"),
        Cred::Proxy(p) => env.push(("GLEXEC_CLIENT_CERT", copy(p, &format!("proxy-{n}")))),
        Cred::Token(t) => {
            env.push(("GLEXEC_CLIENT_CERT", String::new()));
            env.push(("BEARER_TOKEN_FILE", copy(t, &format!("token-{n}"))));
        }
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = w.run(&env, &["/bin/sh", "-c", "id -u; id -g; id -G"]);
    let out = world::stdout(&o);
    let err = world::stderr(&o);
    match o.status.code() {
        Some(203) if err.contains("LCMAPS did not map the credential") => Cell::Refused,
        Some(0) => {
            let l: Vec<&str> = out.lines().collect();
            let num = |s: &str| s.trim().parse::<u32>().ok();
            match (
                l.first().and_then(|s| num(s)),
                l.get(1).and_then(|s| num(s)),
                l.get(2),
            ) {
                (Some(uid), Some(gid), Some(g)) => Cell::Payload {
                    uid,
                    gid,
                    groups: g.split_whitespace().filter_map(num).collect(),
                },
                _ => Cell::Error(format!("payload output {out:?}")),
            }
        }
        code => {
            let log = w.log();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Cell::Error(format!("exit {code:?}: {out}{err}\n{}", tail.join("\n")))
        }
    }
}

/// The glexec world with our accounts, the site's lcmaps.db as its policy,
/// and every policy in file order.
fn glexec_world() -> World {
    let w = World::new(
        // The doors share one gridmapdir, owned by root as the other doors
        // (root processes) require; with privilege separation it would be
        // the mapping account's (tests/separation.rs covers that).
        "lcmaps_get_account_policy = tokens:voms:proxy:dn\nlinger = no\nprivilege_separation = no\n",
        None,
    );
    let add = |f: &str, text: &str| {
        let p = w.path(f);
        let mut s = std::fs::read_to_string(&p).unwrap();
        s.push_str(text);
        std::fs::write(&p, s).unwrap();
    };
    add("etc/passwd", PASSWD);
    add("etc/group", GROUP);
    // Where glexec copies the proxy or token for the target: a directory
    // of each account (the default, /tmp/x509up_u<uid>, is outside the
    // test's directory).
    let t = w.path("target");
    std::fs::create_dir(&t).unwrap();
    chmod(&t, 0o755);
    for (name, uid, gid) in ACCOUNTS {
        let d = t.join(name);
        std::fs::create_dir(&d).unwrap();
        chown(&d, uid, gid);
        chmod(&d, 0o700);
    }
    w
}

#[test]
fn same_answers_through_every_door() {
    let test = "same_answers_through_every_door";
    if lcmaps_core::testing::nss_wrapper(test).is_none() {
        return;
    }
    let glexec = env!("CARGO_BIN_EXE_glexec");
    let lcmaps = Path::new(glexec).with_file_name("lcmaps");
    let have_lcmaps = lcmaps_core::testing::requirement(
        test,
        lcmaps.is_file(),
        &format!(
            "{} is missing (cargo build -p lcmaps-cli): the cli door is not checked",
            lcmaps.display()
        ),
    );
    // glexec's world (root), else a plain directory for the other doors.
    let w = world::require_root(test).then(glexec_world);
    let plain = tempfile::tempdir().unwrap();
    let dir = w.as_ref().map_or(plain.path(), |w| w.dir.path());
    let tok = tokens::World::new();
    let s = site(dir, &tok);
    if let Some(w) = &w {
        std::fs::copy(&s.db, w.path("etc/lcmaps-glexec.db")).unwrap();
    }
    let px = proxies(&s);
    let good_token = token(&s, &tok, "token", false);
    let expired_token = token(&s, &tok, "expired-token", true);
    let c = c_programs(&s.dir.join("bin-c"));
    for (door, r) in [
        ("c-api", c.ours.as_ref().err()),
        ("debian", c.debian.as_ref().err()),
    ] {
        if let Some(why) = r {
            lcmaps_core::testing::requirement(&format!("{test} ({door} door)"), false, why);
        }
    }

    let dnuser = Cell::account(5110, 5110, &[5110, 5190]);
    let vouser = Cell::account(5120, 5120, &[5120, 5190]);
    let pxpool = Cell::account(5131, 5130, &[5130, 5190]);
    let tkuser = Cell::account(5140, 5140, &[5140, 5190]);
    let voms_row = |name, p: &Result<PathBuf, String>, expected: &Cell| Row {
        name,
        cred: p.as_ref().ok().map(|p| Cred::Proxy(p.clone())),
        expected: expected.clone(),
        missing: p.as_ref().err().cloned(),
    };
    let row = |name, cred, expected: &Cell| Row {
        name,
        cred: Some(cred),
        expected: expected.clone(),
        missing: None,
    };
    let rows = vec![
        row("(a) DN only", Cred::Dn(DEE, vec![]), &dnuser),
        row("(b) DN + FQAN", Cred::Dn(DEE, vec![DTEAM]), &vouser),
        row("(c) proxy", Cred::Proxy(px.plain.clone()), &pxpool),
        voms_row("(d) VOMS proxy", &px.voms, &vouser),
        row("(e) bearer token", Cred::Token(good_token), &tkuser),
        row(
            "(f) DN in no mapfile",
            Cred::Dn(NOBODY, vec![]),
            &Cell::Refused,
        ),
        row(
            "(g) DN + FQAN of an unknown VO",
            Cred::Dn(NOBODY, vec![ATLAS]),
            &Cell::Refused,
        ),
        row(
            "(h) proxy from an untrusted CA",
            Cred::Proxy(px.rogue.clone()),
            &Cell::Refused,
        ),
        // The AC does not verify: no FQANs, the proxy's DN maps.
        voms_row(
            "(i) VOMS proxy, untrusted VOMS server",
            &px.voms_rogue,
            &pxpool,
        ),
        row(
            "(j) expired bearer token",
            Cred::Token(expired_token),
            &Cell::Refused,
        ),
    ];

    let mut table: Vec<Vec<Cell>> = Vec::new();
    for (n, r) in rows.iter().enumerate() {
        let Some(cred) = &r.cred else {
            let why = r.missing.clone().unwrap_or_default();
            lcmaps_core::testing::requirement(&format!("{test} {}", r.name), false, &why);
            table.push(vec![Cell::Skipped(why); DOORS.len()]);
            continue;
        };
        let cli = if have_lcmaps {
            door_cli(&s, &lcmaps, cred)
        } else {
            Cell::Skipped("no lcmaps binary".into())
        };
        let engine = door_engine(&s, cred);
        let capi = match &c.ours {
            Ok((gk, cc, clib)) => door_c(&s, gk, Some(cc), Some(clib), cred),
            Err(why) => Cell::Skipped(why.clone()),
        };
        let glexec = match (cred, &w) {
            (Cred::Dn(_, f), _) if f.is_empty() => Cell::Na(na::GLEXEC_DN),
            (Cred::Dn(..), _) => Cell::Na(na::GLEXEC_FQANS),
            (_, Some(w)) => door_glexec(w, cred, n, &r.expected),
            (_, None) => Cell::Skipped("needs root and unshare -m".into()),
        };
        let debian = match (cred, &c.debian) {
            (Cred::Token(_), _) => Cell::Na(na::DEBIAN_TOKEN),
            (_, Ok(gk)) => door_c(&s, gk, None, None, cred),
            (_, Err(why)) => Cell::Skipped(why.clone()),
        };
        table.push(vec![cli, engine, capi, glexec, debian]);
    }

    // The table.
    let w0 = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(12);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .zip(&table)
        .map(|(r, t)| {
            let mut v = vec![r.expected.short()];
            v.extend(t.iter().map(Cell::short));
            v
        })
        .collect();
    let heads: Vec<&str> = std::iter::once("expected").chain(DOORS).collect();
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].len())
                .chain([heads[i].len()])
                .max()
                .unwrap()
        })
        .collect();
    let mut out = String::new();
    let _ = write!(out, "{:<w0$}", "credentials");
    for (h, w) in heads.iter().zip(&widths) {
        let _ = write!(out, "  {h:<w$}");
    }
    out.push('\n');
    for (r, c) in rows.iter().zip(&cells) {
        let _ = write!(out, "{:<w0$}", r.name);
        for (x, w) in c.iter().zip(&widths) {
            let _ = write!(out, "  {x:<w$}");
        }
        out.push('\n');
    }
    out.push_str(
        "uid:gid [secondary gids as reported]; glexec: uid:gid {the payload's groups, id -G}\n",
    );
    for (i, why) in NA.iter().enumerate() {
        let _ = writeln!(out, "n/a {}: {why}", i + 1);
    }
    let mut notes = BTreeSet::new();
    for t in &table {
        for (d, c) in DOORS.iter().zip(t) {
            if let Cell::Skipped(why) = c {
                notes.insert(format!("skipped {d}: {why}"));
            }
        }
    }
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    eprintln!("\n{out}");

    // Row by row: every applicable cell is the expected answer.
    let mut bad = Vec::new();
    for (r, t) in rows.iter().zip(&table) {
        for (d, c) in DOORS.iter().zip(t) {
            if !c.agrees(&r.expected) {
                bad.push(format!(
                    "{} through {d}: {c:?}, expected {:?}",
                    r.name, r.expected
                ));
            }
        }
    }
    assert!(bad.is_empty(), "doors disagree:\n{}", bad.join("\n"));
}
