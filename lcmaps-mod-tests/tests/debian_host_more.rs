//! The plugins without a Debian counterpart, as `.mod`s inside Debian's C
//! liblcmaps 1.6.6 (issue #16 item 2): `lcmaps_glexec_tracking.mod`,
//! `lcmaps_gums_client.mod` / `lcmaps_scas_client.mod` (against the test
//! PDP) and `lcmaps_scitokens.mod`; and, for every module
//! `cargo xtask mods` makes, its dynamic symbols.
//!
//! The token plugin gets no token here, and cannot: Debian's liblcmaps
//! binds a plugin's run variables from a fixed table of 21 (`user_dn`,
//! `user_cred`, `gss_context`, `px509_cred`, `px509_chain`, `pem_string`,
//! `job_request` twice, `mapcounter`, `fqan_list`, `nfqan`,
//! `voms_data_list`, `nvoms_data`, `requested_*`: the strings of
//! `lcmaps_extractRunVars` in liblcmaps.so.0), filled only from the
//! arguments of its `lcmaps_run*` calls (DN, FQANs, PEM, GSS credential,
//! X509 chain, request, mapcounter, requested account; see lcmaps.h and the
//! `lcmaps_credential_store_*` it exports), none of which is a token; a
//! plugin that introspects a name outside the table (lcmaps-rs's
//! `bearer_token`) makes every run fail ("could not GET requested
//! variable"). So the test checks what holds instead: the module loads,
//! reads its configuration, is run, and refuses with its reason logged,
//! without reading a token from the gatekeeper's environment, and the
//! policy goes on to its next plugin.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use ffi_tests::{have_gcc, DEBIAN_LIB, NSS_WRAPPER};
use lcmaps_mod_tests::{
    debian_gatekeeper, debian_lcmaps_ready, our_mods, plain_mods_dir, result_line, run, skip, Ran,
    Setup, DEBIAN_MODS,
};

/// The modules this file is about.
const NEW_MODS: [&str; 4] = [
    "lcmaps_scitokens.mod",
    "lcmaps_gums_client.mod",
    "lcmaps_scas_client.mod",
    "lcmaps_glexec_tracking.mod",
];

/// Debian's liblcmaps, its C plugins, libnss-wrapper and gcc are there (a
/// missing one fails the test under CI=true, see `lcmaps_core::testing`).
fn ready(test: &str) -> bool {
    if !debian_lcmaps_ready(test) {
        return false;
    }
    if !Path::new(NSS_WRAPPER).exists() {
        skip(
            test,
            "libnss_wrapper.so is not installed (package libnss-wrapper)",
        );
        return false;
    }
    if !have_gcc() {
        skip(test, "gcc is not installed");
        return false;
    }
    true
}

/// Our modules in a plain-named directory (Debian's lcmaps.db lexer takes
/// no '-' or leading '.' in an unquoted `path`), plus Debian's C
/// localaccount plugin as `debian_localaccount.mod`.
fn mods_dir() -> tempfile::TempDir {
    let mods = plain_mods_dir();
    std::fs::copy(
        Path::new(DEBIAN_MODS).join("lcmaps_localaccount.mod"),
        mods.path().join("debian_localaccount.mod"),
    )
    .expect("copy Debian's localaccount");
    mods
}

fn gridmapfile(dir: &Path) -> String {
    let f = dir.join("grid-mapfile");
    std::fs::write(&f, "\"/CN=alice\" alice\n").expect("write grid-mapfile");
    f.display().to_string()
}

/// One gatekeeper run of policy `policy`.
fn map(s: &Setup, gk: &Path, policy: &str, dn_and_fqans: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut c = Command::new(gk);
    c.arg("account")
        .args(dn_and_fqans)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("GK_POLICY", policy);
    for (k, v) in &s.env {
        c.env(k, v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

fn dynamic_symbols(file: &Path, which: &str) -> BTreeSet<String> {
    let r = run(Command::new("nm").args(["-D", which]).arg(file));
    assert_eq!(r.code, 0, "nm {}: {}", file.display(), r.stderr);
    r.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().last().map(str::to_string))
        .collect()
}

/// Every module cargo xtask mods makes (the four new ones included)
/// exports exactly its entry points, has no DT_NEEDED on an LCMAPS or LCAS
/// library, and imports from LCMAPS only what Debian's liblcmaps exports.
#[test]
fn every_mod_exports_exactly_its_entry_points() {
    let test = "every_mod_exports_exactly_its_entry_points";
    if !ready(test) {
        return;
    }
    let dir = our_mods();
    let debian: BTreeSet<String> = dynamic_symbols(Path::new(DEBIAN_LIB), "--defined-only");
    let mut seen = BTreeSet::new();
    for e in std::fs::read_dir(dir).expect("read mods") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with(".mod") {
            continue;
        }
        let want: BTreeSet<String> = if name.starts_with("lcas_") {
            [
                "plugin_initialize",
                "plugin_confirm_authorization",
                "plugin_terminate",
            ]
            .map(String::from)
            .into()
        } else {
            [
                "plugin_initialize",
                "plugin_introspect",
                "plugin_run",
                "plugin_verify",
                "plugin_terminate",
            ]
            .map(String::from)
            .into()
        };
        assert_eq!(
            dynamic_symbols(&p, "--defined-only"),
            want,
            "{name}: exported symbols"
        );
        let r = run(Command::new("readelf").arg("-d").arg(&p));
        assert_eq!(r.code, 0, "readelf {name}: {}", r.stderr);
        assert!(
            !r.stdout.contains("[liblcmaps") && !r.stdout.contains("[liblcas"),
            "{name} needs an LCMAPS/LCAS library:\n{}",
            r.stdout
        );
        if !name.starts_with("lcas_") {
            for s in dynamic_symbols(&p, "--undefined-only") {
                if s.starts_with("lcmaps_") || s.ends_with("CredentialData") {
                    assert!(
                        debian.contains(&s),
                        "{name} imports {s}, which Debian's liblcmaps lacks"
                    );
                }
            }
        }
        seen.insert(name);
    }
    for m in NEW_MODS {
        assert!(seen.contains(m), "{m} was not built: {seen:?}");
    }
}

/// Debian's C localaccount maps alice, then our tracking module adds the
/// first tracking gid of its range that no process holds and whose lock
/// it gets; the gid is in the secondary gids the C host returns.
#[test]
fn glexec_tracking_mod_adds_its_gid_in_debian_lcmaps() {
    let test = "glexec_tracking_mod_adds_its_gid_in_debian_lcmaps";
    if !ready(test) {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let gk = debian_gatekeeper(scratch.path());
    let mods = mods_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let procdir = dir.path().join("proc");
    let fake_proc = |pid: u32, groups: &str| {
        let d = procdir.join(pid.to_string());
        std::fs::create_dir_all(&d).expect("mkdir fake proc");
        std::fs::write(d.join("status"), format!("Name:\tx\nGroups:\t{groups}\n"))
            .expect("write status");
    };
    // A live payload already carries 65010.
    fake_proc(1, "100 65010");
    let body = format!(
        "local = \"debian_localaccount.mod -gridmapfile {gm}\"\n\
         noop = \"lcmaps_dummy_good.mod\"\n\
         tracking = \"lcmaps_glexec_tracking.mod -statedir {st} -procdir {pd} -min-gid 65010 -max-gid 65012\"\n\
         standard:\n\
         local -> tracking\n\
         nouid:\n\
         tracking -> noop\n",
        gm = gridmapfile(dir.path()),
        st = state.display(),
        pd = procdir.display(),
    );
    let s = Setup::new(dir.path(), mods.path(), &body);

    let r = map(&s, &gk, "standard", &["/CN=alice"], &[]);
    assert_eq!(
        result_line(&r),
        "rc=0 uid=5001 pgid=5001 sgid=5001,5100,65011 poolindex=(none)",
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("lcmaps_glexec_tracking-plugin_run(): tracking gid 65011"),
        "{}",
        r.stderr
    );
    // The lock file names the gatekeeper's pid; the lock went with it.
    let pid = std::fs::read_to_string(state.join("gid.65011")).expect("lock file of 65011");
    assert!(
        !pid.trim().is_empty() && pid.trim().bytes().all(|b| b.is_ascii_digit()),
        "{pid:?}"
    );
    // 65010 was locked and looked at, but is in use: not taken, no pid.
    assert_eq!(
        std::fs::read_to_string(state.join("gid.65010"))
            .ok()
            .as_deref(),
        Some(""),
        "65010 is in use"
    );

    // The first payload runs with 65011: the next one gets 65012.
    fake_proc(2, "65011");
    let r = map(&s, &gk, "standard", &["/CN=alice"], &[]);
    assert_eq!(
        result_line(&r),
        "rc=0 uid=5001 pgid=5001 sgid=5001,5100,65012 poolindex=(none)",
        "{}",
        r.stderr
    );

    // All three taken: fail closed, with the reason.
    fake_proc(3, "65012 7");
    let r = map(&s, &gk, "standard", &["/CN=alice"], &[]);
    assert_eq!(result_line(&r), "rc=1", "{}", r.stderr);
    assert!(
        r.stderr.contains("no free tracking gid in 65010-65012"),
        "{}",
        r.stderr
    );

    // Without a uid from an earlier plugin it refuses.
    std::fs::remove_dir_all(procdir.join("3")).expect("rm fake proc");
    let r = map(&s, &gk, "nouid", &["/CN=alice"], &[]);
    assert_eq!(result_line(&r), "rc=1", "{}", r.stderr);
    assert!(r.stderr.contains("must map to a UID"), "{}", r.stderr);
}

/// The test PDP with a server certificate for `localhost`, and the client
/// side (CA directory, host certificate and key) in `dir`.
struct Callout {
    pdp: lcmaps_xacml_pdp::Server,
    capath: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

const ALICE: &str = "/DC=org/DC=example/CN=Alice";
const BOB: &str = "/DC=org/DC=example/CN=Bob";
const CAROL: &str = "/DC=org/DC=example/CN=Carol";
const DTEAM: &str = "/dteam/Role=NULL/Capability=NULL";

fn callout(dir: &Path) -> Callout {
    use lcmaps_x509::fixtures;
    use openssl::x509::extension::SubjectAlternativeName;
    use openssl::x509::X509Builder;

    let ca = fixtures::ca("Test CA");
    let capath = dir.join("certificates");
    std::fs::create_dir(&capath).expect("mkdir capath");
    fixtures::install_ca(&capath, &ca, &[]);
    let (c, k) = fixtures::user(&ca, "host/wn.example.org", 5);
    let cert = dir.join("hostcert.pem");
    let key = dir.join("hostkey.pem");
    std::fs::write(&cert, c.to_pem().expect("pem")).expect("write cert");
    std::fs::write(&key, k.private_key_to_pem_pkcs8().expect("pem")).expect("write key");

    let sk = fixtures::key();
    let b = X509Builder::new().expect("builder");
    let san = SubjectAlternativeName::new()
        .dns("localhost")
        .build(&b.x509v3_context(None, None))
        .expect("SAN");
    let sc = fixtures::build(fixtures::Spec {
        subject: fixtures::name(&[("DC", "org"), ("DC", "example"), ("CN", "localhost")]),
        issuer: Some(&ca.cert),
        issuer_key: &ca.key,
        key: &sk,
        serial: 77,
        not_before: fixtures::now() - 3600,
        not_after: fixtures::now() + 86400,
        exts: vec![san],
    });
    let map = format!(
        "\"{ALICE}\" 5001 5100 7000,7100\n\
         \"{BOB}\" - - gk501\n\
         \"{DTEAM}\" 7001 7000\n"
    );
    let pdp = lcmaps_xacml_pdp::Server::start(lcmaps_xacml_pdp::Config {
        cert: sc,
        key: sk,
        chain: Vec::new(),
        client_cas: vec![ca.cert.clone()],
        map: lcmaps_xacml_pdp::parse_map(&map).expect("PDP map"),
        behaviour: lcmaps_xacml_pdp::Behaviour::default(),
        port: 0,
    })
    .expect("start the PDP");
    Callout {
        pdp,
        capath,
        cert,
        key,
    }
}

/// Both callout modules in Debian's liblcmaps map through the test PDP: a
/// uidgid + secondary-gids Permit, a username-only Permit resolved through
/// the host's NSS, a Permit for an FQAN Debian passed in `fqan_list`, and
/// a refusal for a DN the PDP does not know.
#[test]
fn xacml_callout_mods_map_through_the_test_pdp_in_debian_lcmaps() {
    let test = "xacml_callout_mods_map_through_the_test_pdp_in_debian_lcmaps";
    if !ready(test) {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let gk = debian_gatekeeper(scratch.path());
    let mods = mods_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let co = callout(dir.path());
    let url = co.pdp.url(Some("localhost"));
    let opts = |dash: &str| {
        format!(
            "{dash}endpoint {url} {dash}capath {} {dash}cert {} {dash}key {} {dash}connect-timeout 5 {dash}timeout 10",
            co.capath.display(),
            co.cert.display(),
            co.key.display()
        )
    };
    let body = format!(
        "gums = \"lcmaps_gums_client.mod {}\"\n\
         scas = \"lcmaps_scas_client.mod {}\"\n\
         noop = \"lcmaps_dummy_good.mod\"\n\
         viagums:\n\
         gums -> noop\n\
         viascas:\n\
         scas -> noop\n",
        opts("--"),
        opts("-"),
    );
    let s = Setup::new(dir.path(), mods.path(), &body);

    for (policy, prefix) in [
        ("viagums", "lcmaps_gums_client"),
        ("viascas", "lcmaps_scas_client"),
    ] {
        let before = co.pdp.requests();
        let r = map(&s, &gk, policy, &[ALICE], &[]);
        assert_eq!(
            result_line(&r),
            "rc=0 uid=5001 pgid=5100 sgid=7000,7100 poolindex=(none)",
            "{policy}: {}",
            r.stderr
        );
        assert_eq!(co.pdp.requests(), before + 1, "{policy}: one request");
        let q = co.pdp.last_query().expect("a query");
        assert_eq!(
            q.attributes
                .get("http://authz-interop.org/xacml/subject/subject-x509-id")
                .map(Vec::as_slice),
            Some(&[ALICE.to_string()][..]),
            "{policy}: the DN sent: {q:?}"
        );
        assert!(
            r.stderr
                .contains(&format!("{prefix}-plugin_run(): endpoint {url}: Permit")),
            "{policy}: {}",
            r.stderr
        );

        // username only: resolved with the host's getpwnam / getgrouplist.
        let r = map(&s, &gk, policy, &[BOB], &[]);
        assert_eq!(
            result_line(&r),
            "rc=0 uid=501 pgid=500 sgid=500 poolindex=(none)",
            "{policy}: {}",
            r.stderr
        );

        // The FQAN comes through Debian's fqan_list.
        let r = map(&s, &gk, policy, &[CAROL, DTEAM], &[]);
        assert_eq!(
            result_line(&r),
            "rc=0 uid=7001 pgid=7000 sgid= poolindex=(none)",
            "{policy}: {}",
            r.stderr
        );
        let q = co.pdp.last_query().expect("a query");
        assert_eq!(
            q.attributes
                .get("http://authz-interop.org/xacml/subject/voms-fqan")
                .map(Vec::as_slice),
            Some(&[DTEAM.to_string()][..]),
            "{policy}: the FQAN sent: {q:?}"
        );

        // Unknown to the PDP: refused, the endpoint named in the log.
        let before = co.pdp.requests();
        let r = map(&s, &gk, policy, &["/DC=org/DC=example/CN=Mallory"], &[]);
        assert_eq!(result_line(&r), "rc=1", "{policy}: {}", r.stderr);
        assert_eq!(co.pdp.requests(), before + 1, "{policy}: asked the PDP");
        assert!(
            r.stderr
                .contains(&format!("{prefix}-plugin_run(): endpoint {url}:")),
            "{policy}: {}",
            r.stderr
        );
    }
}

/// base64url without padding (JWK members).
fn b64url(b: &[u8]) -> String {
    openssl::base64::encode_block(b)
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_string()
}

/// `lcmaps_scitokens.mod` in Debian's liblcmaps: it loads, reads its
/// issuer configuration and mapfile (a missing file fails `lcmaps_init`,
/// naming it), is run (Debian binds the run variables it introspects:
/// `requested_username`, `requested_uid`), and refuses because no token
/// can reach it (see the header of this file), also when the gatekeeper's
/// environment holds one in `BEARER_TOKEN` / `BEARER_TOKEN_FILE` (that is
/// the gatekeeper's, not the user's: the plugin never reads it); the
/// policy then goes on to the next plugin.
#[test]
fn scitokens_mod_loads_in_debian_lcmaps_and_refuses_without_a_token() {
    let test = "scitokens_mod_loads_in_debian_lcmaps_and_refuses_without_a_token";
    if !ready(test) {
        return;
    }
    let scratch = tempfile::tempdir().expect("tempdir");
    let gk = debian_gatekeeper(scratch.path());
    let mods = mods_dir();
    let dir = tempfile::tempdir().expect("tempdir");

    let rsa = openssl::rsa::Rsa::generate(2048).expect("RSA key");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        format!(
            "{{\"keys\": [{{\"kty\": \"RSA\", \"kid\": \"rsa1\", \"use\": \"sig\", \"alg\": \"RS256\", \"n\": \"{}\", \"e\": \"{}\"}}]}}",
            b64url(&rsa.n().to_vec()),
            b64url(&rsa.e().to_vec())
        ),
    )
    .expect("write JWKS");
    let issuers = dir.path().join("scitokens.cfg");
    std::fs::write(
        &issuers,
        format!(
            "[Issuer Test]\nissuer = https://auth.example.org/\njwks = {}\n\
             audience = https://ce.example.org\nmode = map\n",
            jwks.display()
        ),
    )
    .expect("write issuers");
    let mapfile = dir.path().join("token-mapfile");
    std::fs::write(
        &mapfile,
        "\"https://auth.example.org/\" sub \"alice-sub\" alice\n",
    )
    .expect("write mapfile");
    // Token-shaped; were it read, the log would name a verification
    // failure instead of the missing token.
    let token = format!(
        "{}.{}.{}",
        b64url(b"{\"alg\":\"RS256\",\"kid\":\"rsa1\",\"typ\":\"JWT\"}"),
        b64url(b"{\"iss\":\"https://auth.example.org/\",\"sub\":\"alice-sub\"}"),
        b64url(&[7; 256])
    );
    let token_file = dir.path().join("bt");
    std::fs::write(&token_file, &token).expect("write token file");
    let token_file = token_file.display().to_string();
    let env = [
        ("BEARER_TOKEN", token.as_str()),
        ("BEARER_TOKEN_FILE", token_file.as_str()),
    ];

    let body = |issuers: &Path| {
        format!(
            "tokens = \"lcmaps_scitokens.mod -issuers {} -mapfile {}\"\n\
             local = \"lcmaps_localaccount.mod -gridmapfile {}\"\n\
             noop = \"lcmaps_dummy_good.mod\"\n\
             tokenonly:\n\
             tokens -> noop\n\
             fallback:\n\
             tokens -> noop | local\n",
            issuers.display(),
            mapfile.display(),
            gridmapfile(dir.path())
        )
    };
    let s = Setup::new(dir.path(), mods.path(), &body(&issuers));
    let refused = "lcmaps_scitokens-plugin_run(): no bearer token in the request";

    let r = map(&s, &gk, "tokenonly", &["/CN=alice"], &env);
    assert_eq!(result_line(&r), "rc=1", "{}", r.stderr);
    assert!(r.stderr.contains(refused), "{}", r.stderr);
    assert!(
        !r.stderr.contains("could not GET requested variable"),
        "Debian refused the introspected run variables: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("mapped to") && !r.stderr.contains("signature"),
        "{}",
        r.stderr
    );

    let r = map(&s, &gk, "fallback", &["/CN=alice"], &env);
    assert_eq!(
        result_line(&r),
        "rc=0 uid=5001 pgid=5001 sgid=5001,5100 poolindex=(none)",
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(refused), "{}", r.stderr);

    // Its configuration is read at plugin_initialize, inside lcmaps_init.
    let sub = dir.path().join("missing");
    std::fs::create_dir(&sub).expect("mkdir");
    let s = Setup::new(&sub, mods.path(), &body(&sub.join("no-such.cfg")));
    let r = map(&s, &gk, "tokenonly", &["/CN=alice"], &env);
    assert_eq!(result_line(&r), "init=1", "{}", r.stderr);
    assert!(r.stderr.contains("no-such.cfg"), "{}", r.stderr);
}
