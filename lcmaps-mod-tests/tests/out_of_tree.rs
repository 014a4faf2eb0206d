//! Issue #17: a plugin author builds a `.mod` with plain cargo, outside this
//! workspace, exactly as docs/plugin-guide.md says: a crate of
//! `crate-type = ["cdylib"]` with a path dependency on the SDK,
//! `cargo build --release --offline`, and `lib<crate>.so` renamed `.mod`.
//! The LCMAPS plugin is the guide's example (examples/lcmaps-example-plugin/src/lib.rs,
//! copied as is); the LCAS plugin is written here. Each module exports
//! exactly its entry points, imports the host's callbacks, has no DT_NEEDED
//! on liblcmaps or liblcas, carries no engine, and loads and decides the
//! same in Debian's C library and in ours.

use std::path::{Path, PathBuf};
use std::process::Command;

use lcmaps_mod_tests::{
    debian_gatekeeper, debian_lcas_client, debian_lcmaps_ready, result_line, run, Setup,
    DEBIAN_MODS,
};

const LCAS_PLUGIN: &str = r#"//! lcas_dn_prefix.mod: permits DNs that start with the -prefix option.
#![forbid(unsafe_code)]

use lcmaps_plugin_sdk::{AuthzPlugin, AuthzRequest, Decision, PluginError};

#[derive(Default)]
struct DnPrefix {
    prefix: String,
}

impl AuthzPlugin for DnPrefix {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        match argv {
            [_, flag, prefix] if flag == "-prefix" => {
                self.prefix = prefix.clone();
                Ok(())
            }
            _ => Err(PluginError("usage: -prefix PREFIX".into())),
        }
    }

    fn confirm(&mut self, req: &AuthzRequest) -> Decision {
        match &req.dn {
            Some(dn) if dn.starts_with(&self.prefix) => Decision::Permit,
            Some(dn) => Decision::Deny(format!("{dn} does not start with {}", self.prefix)),
            None => Decision::Deny("no DN".into()),
        }
    }
}

lcmaps_plugin_sdk::export_lcas_plugin!(|| Box::new(DnPrefix::default()));
"#;

/// Create the crate `name` in a temporary directory outside the workspace
/// (the guide's Cargo.toml), build it with `cargo build --release
/// --offline`, and return the module (`lib<name>.so` copied to
/// `<out>/<module>`).
fn build_out_of_tree(name: &str, source: &str, out: &Path, module: &str) -> PathBuf {
    let ws = ffi_tests::workspace();
    let krate = tempfile::Builder::new().prefix("plugin").tempdir().unwrap();
    let k = krate.path();
    assert!(
        !k.starts_with(&ws),
        "the crate must be outside the workspace"
    );
    std::fs::create_dir(k.join("src")).unwrap();
    std::fs::write(
        k.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nlcmaps-plugin-sdk = {{ path = \"{}\" }}\n",
            ws.join("lcmaps-plugin-sdk").display()
        ),
    )
    .unwrap();
    std::fs::write(k.join("src/lib.rs"), source).unwrap();
    // Offline: resolve with the versions this workspace already fetched.
    std::fs::copy(ws.join("Cargo.lock"), k.join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| ws.join("target"))
        .join("out-of-tree");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let r = run(Command::new(cargo)
        .current_dir(k)
        .args(["build", "--release", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS"));
    assert_eq!(r.code, 0, "cargo build of {name}: {}", r.stderr);
    let so = target
        .join("release")
        .join(format!("lib{}.so", name.replace('-', "_")));
    let m = out.join(module);
    std::fs::copy(&so, &m).unwrap();
    m
}

fn tool(prog: &str, args: &[&str], file: &Path) -> String {
    let r = run(Command::new(prog).args(args).arg(file));
    assert_eq!(r.code, 0, "{prog} {}: {}", file.display(), r.stderr);
    r.stdout
}

/// The module exports exactly `entries`, needs neither library, imports
/// `imports` from its host and carries none of the engine's code.
fn check_module(m: &Path, entries: &[&str], imports: &[&str]) {
    let defined = tool("nm", &["-D", "--defined-only"], m);
    let mut names: Vec<&str> = defined
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    names.sort_unstable();
    let mut want = entries.to_vec();
    want.sort_unstable();
    assert_eq!(names, want, "{}", m.display());
    let dynamic = tool("readelf", &["-d"], m);
    assert!(
        !dynamic.contains("liblcmaps") && !dynamic.contains("liblcas"),
        "{dynamic}"
    );
    let undefined = tool("nm", &["-D", "--undefined-only"], m);
    for i in imports {
        assert!(
            undefined
                .lines()
                .any(|l| l.trim_end().ends_with(&format!(" {i}"))),
            "{} does not import {i}:\n{undefined}",
            m.display()
        );
    }
    let all = tool("nm", &["-C"], m);
    for engine in ["lcmaps_core::policy", "lcmaps_core::db", "pest::"] {
        assert!(
            !all.contains(engine),
            "{} carries engine code ({engine})",
            m.display()
        );
    }
}

#[test]
fn an_out_of_tree_lcmaps_plugin_builds_with_cargo_and_maps_in_debians_lcmaps_and_ours() {
    let t = "an_out_of_tree_lcmaps_plugin_builds_with_cargo_and_maps_in_debians_lcmaps_and_ours";
    if !debian_lcmaps_ready(t) {
        return;
    }
    let debian_localaccount = Path::new(DEBIAN_MODS).join("lcmaps_localaccount.mod");
    let scratch = tempfile::tempdir().unwrap();
    // Debian's lcmaps.db lexer takes no '-' in an unquoted `path`.
    let mods = tempfile::Builder::new().prefix("mods").tempdir().unwrap();
    let example = std::fs::read_to_string(
        ffi_tests::workspace().join("examples/lcmaps-example-plugin/src/lib.rs"),
    )
    .unwrap();
    let m = build_out_of_tree(
        "my-dn-prefix",
        &example,
        mods.path(),
        "lcmaps_dn_prefix.mod",
    );
    check_module(
        &m,
        &[
            "plugin_initialize",
            "plugin_introspect",
            "plugin_run",
            "plugin_verify",
            "plugin_terminate",
        ],
        &["lcmaps_log", "getCredentialData", "addCredentialData"],
    );
    std::fs::copy(
        &debian_localaccount,
        mods.path().join("lcmaps_localaccount.mod"),
    )
    .unwrap();
    let grid_mapfile = scratch.path().join("grid-mapfile");
    std::fs::write(
        &grid_mapfile,
        "\"/DC=org/DC=example/CN=Jane Doe\" alice\n\"/O=elsewhere/CN=Bob\" alice\n",
    )
    .unwrap();
    let body = format!(
        "prefix = \"lcmaps_dn_prefix.mod\" \"-prefix /DC=org/DC=example/\"\n\
         local = \"lcmaps_localaccount.mod\" \"-gridmapfile {}\"\n\
         p:\nprefix -> local\n",
        grid_mapfile.display()
    );
    let gk = debian_gatekeeper(scratch.path());
    let clib = ffi_tests::clib_dir(scratch.path());
    let setup = Setup::new(&scratch.path().join("site"), mods.path(), &body);
    let ours = [("LD_LIBRARY_PATH", clib.to_str().unwrap())];
    for (host, env) in [("Debian's LCMAPS", &[][..]), ("lcmaps-rs", &ours[..])] {
        let r = setup.map(&gk, "account", "/DC=org/DC=example/CN=Jane Doe", env);
        assert!(
            result_line(&r).starts_with("rc=0 uid=5001 pgid=5001"),
            "{host}: {}{}",
            r.stdout,
            r.stderr
        );
        let r = setup.map(&gk, "account", "/O=elsewhere/CN=Bob", env);
        assert_eq!(result_line(&r), "rc=1", "{host}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("matches no allowed prefix"),
            "{host}: the plugin's reason is logged through the host: {}",
            r.stderr
        );
    }
}

#[test]
fn an_out_of_tree_lcas_plugin_builds_with_cargo_and_decides_in_debians_liblcas_and_ours() {
    let t = "an_out_of_tree_lcas_plugin_builds_with_cargo_and_decides_in_debians_liblcas_and_ours";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(client) = debian_lcas_client(t, d) else {
        return;
    };
    let m = build_out_of_tree("my-lcas-prefix", LCAS_PLUGIN, d, "lcas_dn_prefix.mod");
    check_module(
        &m,
        &[
            "plugin_initialize",
            "plugin_confirm_authorization",
            "plugin_terminate",
        ],
        &["lcas_log"],
    );
    let ca = lcmaps_x509::fixtures::ca("Test CA");
    let pem = |cn: &str, serial| {
        let (user, key) = lcmaps_x509::fixtures::user(&ca, cn, serial);
        let p = d.join(format!("{serial}.pem"));
        std::fs::write(&p, lcmaps_x509::fixtures::pem(&[&user], Some(&key))).unwrap();
        p
    };
    let (jane, bob) = (pem("Jane Doe", 5), pem("Bob", 6));
    let db = d.join("lcas.db");
    std::fs::write(
        &db,
        format!(
            "pluginname=\"{}\",pluginargs=\"-prefix /DC=org/DC=example/CN=J\"\n",
            m.display()
        ),
    )
    .unwrap();
    let clib = ffi_tests::clib_dir(d);
    for ours in [false, true] {
        let host = if ours {
            "lcmaps-rs"
        } else {
            "Debian's liblcas"
        };
        for (who, want) in [(&jane, 0), (&bob, 1)] {
            let mut cmd = Command::new(&client);
            cmd.args(["pem", who.to_str().unwrap()])
                .env("LCAS_DB_FILE", &db)
                .env("LCAS_DEBUG_LEVEL", "5");
            if ours {
                cmd.env("LD_LIBRARY_PATH", &clib);
            }
            let r = run(&mut cmd);
            assert_eq!(r.code, want, "{host}: {}{}", r.stdout, r.stderr);
            if want == 1 {
                assert!(
                    r.stderr
                        .contains("does not start with /DC=org/DC=example/CN=J"),
                    "{host}: the plugin's reason is logged through the host: {}",
                    r.stderr
                );
            }
        }
    }
}
