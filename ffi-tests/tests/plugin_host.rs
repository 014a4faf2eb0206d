//! The engine hosting C `.mod` plugins in-process (this test binary is
//! linked with -rdynamic, like the `lcmaps` CLI, so plugins find the
//! callbacks).

use std::path::{Path, PathBuf};

use ffi_tests::*;
use lcmaps_capi::{default_loader, host};
use lcmaps_core::db::{self, ValidateOptions};
use lcmaps_core::plugin::{Request, Status};
use lcmaps_core::policy::{Engine, EngineError, Mode, RunOptions};

fn engine(text: &str) -> Result<Engine, EngineError> {
    let c = db::check_str("test.db", text, &ValidateOptions::default());
    assert!(!c.has_errors(), "{:#?}", c.diagnostics);
    Engine::new(c.config.unwrap(), &default_loader())
}

fn request(dn: &str) -> Request {
    Request {
        fqans: vec!["/dteam/Role=NULL/Capability=NULL".into()],
        ..Request::with_dn(dn)
    }
}

fn plugin_all(dir: &Path) -> PathBuf {
    build_plugin(dir, "plugin_all.c", "plugin_all.mod", &[])
}

#[test]
fn c_plugin_using_every_callback_runs_in_the_rust_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let m = plugin_all(tmp.path());
    let mut e = engine(&format!(
        "all = \"{} --uid 501 --gid 500 --sgid 600\"\np:\n~all -> lcmaps_dummy_bad.mod\n",
        m.display()
    ))
    .unwrap();
    for mode in [Mode::Run, Mode::Verify] {
        let o = e.run(&request("/CN=Jane Doe"), mode, &RunOptions::default());
        assert_eq!(o.status, Status::Success, "{mode:?}: {o:#?}");
        let s = &o.store;
        assert_eq!(s.dn.as_deref(), Some("/CN=Jane Doe"));
        assert_eq!(s.uids, [501]);
        assert_eq!(s.pri_gids, [500]);
        assert_eq!(s.sec_gids, [600, 602]);
        assert_eq!(s.pool_index.as_deref(), Some("pool-index-1"));
        assert_eq!(s.vo_strings, ["/dteam/Role=NULL/Capability=NULL"]);
        assert_eq!(s.vo_data.len(), 1);
        assert_eq!(s.vo_data[0].vo.as_deref(), Some("dteam"));
        assert_eq!(s.vo_data[0].role.as_deref(), Some("NULL"));
        assert_eq!(s.vo_data[0].capability, None);
        assert_eq!(s.vo_mappings.len(), 1);
        assert_eq!(s.vo_mappings[0].gid, 4242);
        assert_eq!(s.vo_mappings[0].groupname.as_deref(), Some("dteamgrp"));
    }
    // Repeated runs re-bind the run variables and start from a fresh store.
    let o = e.run(&request("/CN=Other"), Mode::Run, &RunOptions::default());
    assert_eq!(o.store.dn.as_deref(), Some("/CN=Other"));
    assert_eq!(o.store.uids, [501]);
}

#[test]
fn module_missing_a_mandatory_symbol_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = build_plugin(
        tmp.path(),
        "plugin_bad.c",
        "nointro.mod",
        &["-DNO_INTROSPECT"],
    );
    let err = engine(&format!(
        "x = \"{}\"\np:\n~x -> lcmaps_dummy_bad.mod\n",
        m.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("not compliant. Missing function \"plugin_introspect()\""),
        "{err}"
    );
}

#[test]
fn unknown_introspected_pair_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m = build_plugin(
        tmp.path(),
        "plugin_bad.c",
        "unknown.mod",
        &["-DUNKNOWN_ARG"],
    );
    let err = engine(&format!(
        "x = \"{}\"\np:\n~x -> lcmaps_dummy_bad.mod\n",
        m.display()
    ))
    .unwrap_err();
    assert!(
        matches!(&err, EngineError::UnknownArgument { arg, ty, .. } if arg == "user_dn" && ty == "char*"),
        "{err}"
    );
}

#[test]
fn return_codes_other_than_zero_are_failures() {
    let tmp = tempfile::tempdir().unwrap();
    for (rc, ok) in [
        ("0", true),
        ("1", false),
        ("42", false),
        ("-1", false),
        ("4", false),
    ] {
        let name = format!("rc{}.mod", rc.replace('-', "m"));
        let m = build_plugin(
            tmp.path(),
            "plugin_bad.c",
            &name,
            &[&format!("-DRETURN_CODE={rc}")],
        );
        let mut e = engine(&format!(
            "x = \"{}\"\np:\nx -> lcmaps_dummy_good.mod\n",
            m.display()
        ))
        .unwrap();
        let o = e.run(&request("/CN=x"), Mode::Run, &RunOptions::default());
        assert_eq!(o.trace[0].status.is_success(), ok, "rc {rc}: {o:#?}");
        // The store keeps what the plugin added either way.
        assert_eq!(o.trace.len(), if ok { 2 } else { 1 });
    }
}

#[test]
fn old_style_plugin_cannot_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let m = build_plugin(tmp.path(), "plugin_bad.c", "noverify.mod", &["-DNO_VERIFY"]);
    let mut e = engine(&format!(
        "x = \"{}\"\np:\n~x -> lcmaps_dummy_bad.mod\n",
        m.display()
    ))
    .unwrap();
    let o = e.run(&request("/CN=x"), Mode::Verify, &RunOptions::default());
    assert_eq!(o.status, Status::Failure);
    assert!(o.error.unwrap().contains("plugin_verify"));
    let o = e.run(&request("/CN=x"), Mode::Run, &RunOptions::default());
    assert_eq!(o.status, Status::Success);
}

#[test]
fn debian_plugins_load_in_the_rust_engine() {
    let t = "debian_plugins_load_in_the_rust_engine";
    for m in [
        "lcmaps_dummy_good.mod",
        "lcmaps_dummy_bad.mod",
        "lcmaps_ban_dn.mod",
        "lcmaps_verify_proxy.mod",
    ] {
        if !Path::new(DEBIAN_PLUGINS).join(m).exists() {
            return skip(t, &format!("{DEBIAN_PLUGINS}/{m} is not installed"));
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let ban = tmp.path().join("ban");
    std::fs::write(&ban, "\"/CN=evil\"\n").unwrap();
    let text = format!(
        "path = {DEBIAN_PLUGINS}\n\
         good = \"{DEBIAN_PLUGINS}/lcmaps_dummy_good.mod\"\n\
         bad = \"{DEBIAN_PLUGINS}/lcmaps_dummy_bad.mod\"\n\
         ban = \"lcmaps_ban_dn.mod -banmapfile {}\"\n\
         proxy = \"lcmaps_verify_proxy.mod\"\n\
         a:\nban -> good\nbad -> good\n\
         b:\nproxy -> good\n",
        ban.display()
    );
    let mut e = engine(&text).unwrap();
    let opts = |p: &str| RunOptions {
        policies: vec![p.into()],
        dry_run: false,
        ..RunOptions::default()
    };
    let o = e.run(&Request::with_dn("/CN=fine"), Mode::Run, &opts("a"));
    assert_eq!(o.status, Status::Success, "{o:#?}");
    assert_eq!(
        o.store.dn.as_deref(),
        Some("/CN=fine"),
        "ban_dn adds the DN"
    );
    let o = e.run(&Request::with_dn("/CN=evil"), Mode::Run, &opts("a"));
    assert_eq!(o.status, Status::Failure);
    // verify_proxy without a certificate chain fails cleanly.
    let o = e.run(&Request::with_dn("/CN=fine"), Mode::Run, &opts("b"));
    assert_eq!(o.status, Status::Failure);
    assert_eq!(o.trace.len(), 1);
}

#[test]
fn eight_threads_map_distinct_credentials_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let m = build_plugin(tmp.path(), "plugin_all.c", "perdn.mod", &[]);
    let text = format!(
        "all = \"{} --uid-from-dn --gid 500\"\np:\n~all -> lcmaps_dummy_bad.mod\n",
        m.display()
    );
    let rust_text = |t: u32| {
        format!(
            "good = \"lcmaps_dummy_good.mod --dummy-uid {} --dummy-gid {}\"\np:\n~good -> lcmaps_dummy_bad.mod\n",
            30000 + t,
            31000 + t
        )
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u32)
            .map(|t| {
                let text = text.clone();
                let rust = rust_text(t);
                s.spawn(move || {
                    let mut c = engine(&text).unwrap();
                    let mut r = engine(&rust).unwrap();
                    for i in 0..100u32 {
                        let n = t * 1000 + i;
                        let dn = format!("/CN=user{n}");
                        let o = c.run(&request(&dn), Mode::Run, &RunOptions::default());
                        assert_eq!(o.status, Status::Success, "{dn}");
                        assert_eq!(o.store.uids, [20000 + n], "{dn}");
                        assert_eq!(o.store.dn.as_deref(), Some(dn.as_str()));
                        let o = r.run(&request(&dn), Mode::Run, &RunOptions::default());
                        assert_eq!(o.store.uids, [30000 + t]);
                        assert_eq!(o.store.pri_gids, [31000 + t]);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("mapping thread");
        }
    });
}

#[test]
fn privileged_process_refuses_unsafe_module_files() {
    let t = "privileged_process_refuses_unsafe_module_files";
    if !host::privileged() {
        return skip(
            t,
            "needs euid 0 (the check applies to privileged processes only)",
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let m = plugin_all(tmp.path());
    assert!(host::check_module_file(&m).is_ok());
    // group/world writable file
    std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = host::CModule::open(&m).unwrap_err();
    assert!(e.contains("writable by group and others"), "{e}");
    std::fs::set_permissions(&m, std::fs::Permissions::from_mode(0o755)).unwrap();
    // not root-owned
    std::os::unix::fs::chown(&m, Some(4321), None).unwrap();
    let e = host::CModule::open(&m).unwrap_err();
    assert!(e.contains("not root"), "{e}");
    std::os::unix::fs::chown(&m, Some(0), None).unwrap();
    // writable directory
    let dir = tmp.path().join("open");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&m, dir.join("x.mod")).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let e = host::CModule::open(&dir.join("x.mod")).unwrap_err();
    assert!(
        e.contains(&format!("directory {} is writable", dir.display())),
        "{e}"
    );
    // and through the engine, with a clear message
    let err = engine(&format!(
        "x = \"{}\"\np:\n~x -> lcmaps_dummy_bad.mod\n",
        dir.join("x.mod").display()
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("writable by group and others"), "{err}");
}

/// True when the test can run (euid 0); see `lcmaps_core::testing`.
fn root(test: &str) -> bool {
    lcmaps_core::testing::root(test)
}

#[test]
fn a_module_in_a_user_writable_directory_is_refused() {
    let t = "a_module_in_a_user_writable_directory_is_refused";
    if !root(t) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    // tmp/user (uid 5001) / lib (root, 0755) / x.mod (root, 0755): the
    // user can rename lib away and put a library of their own there.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let user = tmp.path().join("user");
    let lib = user.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let m = plugin_all(&lib);
    std::os::unix::fs::chown(&user, Some(5001), None).unwrap();
    let e = host::CModule::open(&m).unwrap_err();
    assert!(e.contains(&user.display().to_string()), "{e}");
    assert!(e.contains("owned by uid 5001"), "{e}");
    let e = lcmaps_capi::lcas::LcasCModule::open(&m).unwrap_err();
    assert!(e.contains("owned by uid 5001"), "{e}");
    let err = engine(&format!(
        "x = \"{}\"\np:\n~x -> lcmaps_dummy_bad.mod\n",
        m.display()
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("owned by uid 5001"), "{err}");
}

#[test]
fn every_exported_symbol_is_visible_to_plugins_in_this_binary() {
    // The callbacks must be in the dynamic symbol table of a Rust host.
    lcmaps_capi::exports::keep_exports();
    for (name, _) in lcmaps_capi::exports::exported_symbols() {
        let c = std::ffi::CString::new(name).unwrap();
        // SAFETY: dlsym on the global scope with a valid C string.
        let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) };
        assert!(!p.is_null(), "{name} is not exported dynamically");
    }
}

#[test]
fn engines_sharing_a_c_module_share_one_initialization() {
    let tmp = tempfile::tempdir().unwrap();
    let m = build_plugin(tmp.path(), "plugin_all.c", "shared.mod", &[]);
    let text = |uid: u32| {
        format!(
            "all = \"{} --uid {uid} --gid 500\"\np:\n~all -> lcmaps_dummy_bad.mod\n",
            m.display()
        )
    };
    let a = engine(&text(501)).unwrap();
    // One dlopen handle, one static state: other arguments are refused...
    let err = engine(&text(502)).unwrap_err().to_string();
    assert!(
        err.contains("already in use in this process with other arguments"),
        "{err}"
    );
    // ...the same arguments share the initialization...
    let mut b = engine(&text(501)).unwrap();
    // ...and the first engine going away does not terminate it under the second.
    drop(a);
    let o = b.run(&request("/CN=x"), Mode::Run, &RunOptions::default());
    assert_eq!(o.status, Status::Success, "{o:#?}");
    assert_eq!(o.store.uids, [501]);
    drop(b);
    // Once nobody uses it, other arguments are fine.
    let mut c = engine(&text(502)).unwrap();
    let o = c.run(&request("/CN=x"), Mode::Run, &RunOptions::default());
    assert_eq!(o.store.uids, [502]);
}
