//! Fuzz the glexec.conf parser (`glexec_cli::config::parse`): any text
//! gives a configuration or an error, never a panic; an error or warning
//! naming a line names one that exists; an accepted configuration keeps
//! glexec's invariants (uid and gid minimums at least 1, levels 0-5,
//! absolute paths, an epilogue only with linger and glexec switching, a
//! mapping account that is an account name and not root) and,
//! written back out, parses to the same configuration without warnings.
#![no_main]

use glexec_cli::config::{self, Config, LockMechanism, LogDestination, SwitchBy};
use libfuzzer_sys::fuzz_target;

const NAME: &str = "glexec.conf";

/// The line a message `glexec.conf:N: ...` names, `None` for a
/// message about the whole file (`glexec.conf: ...`).
fn line_of(message: &str) -> Option<usize> {
    let rest = message
        .strip_prefix(NAME)
        .and_then(|r| r.strip_prefix(':'))
        .unwrap_or_else(|| panic!("{message:?} does not start with the file name"));
    if rest.starts_with(' ') {
        return None;
    }
    let (n, _) = rest
        .split_once(": ")
        .unwrap_or_else(|| panic!("{message:?}: no line number"));
    Some(
        n.parse()
            .unwrap_or_else(|_| panic!("{message:?}: bad line number")),
    )
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn lock(l: LockMechanism) -> &'static str {
    match l {
        LockMechanism::Flock => "flock",
        LockMechanism::Fcntl => "fcntl",
        LockMechanism::Disabled => "disabled",
    }
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("parsed from text")
}

/// `c` as a glexec.conf.
fn render(c: &Config) -> String {
    let mut out = String::from("[glexec]\n");
    let mut kv = |k: &str, v: &str| out.push_str(&format!("{k} = {v}\n"));
    kv("linger", yes(c.linger));
    kv("user_white_list", &c.user_white_list.join(","));
    kv(
        "omission_private_key_white_list",
        &c.omission_private_key_white_list.join(","),
    );
    // A list of the one name `no` is written `no,` (`no` alone means none).
    let mut env = c.preserve_env_variables.join(",");
    if env == "no" {
        env.push(',');
    }
    kv("preserve_env_variables", &env);
    kv("create_target_proxy", yes(c.create_target_proxy));
    kv(
        "user_identity_switch_by",
        match c.user_identity_switch_by {
            SwitchBy::Glexec => "glexec",
            SwitchBy::Lcmaps => "lcmaps",
        },
    );
    kv("use_lcas", yes(c.use_lcas));
    kv("log_level", &c.log_level.to_string());
    kv(
        "log_destination",
        match c.log_destination {
            LogDestination::Syslog => "syslog",
            LogDestination::File => "file",
        },
    );
    kv("log_file", path(&c.log_file));
    kv("syslog_facility", &c.syslog_facility);
    kv("silent_logging", yes(c.silent_logging));
    kv("lcmaps_db_file", path(&c.lcmaps_db_file));
    if let Some(f) = &c.lcmaps_log_file {
        kv("lcmaps_log_file", path(f));
    }
    kv("lcmaps_debug_level", &c.lcmaps_debug_level.to_string());
    // Policy names are not trimmed one by one: separators around them keep
    // any blank they start or end with.
    let policies = |p: &[String]| {
        if p.is_empty() {
            String::new()
        } else {
            format!(":{}:", p.join(":"))
        }
    };
    kv(
        "lcmaps_get_account_policy",
        &policies(&c.lcmaps_get_account_policy),
    );
    kv(
        "lcmaps_verify_account_policy",
        &policies(&c.lcmaps_verify_account_policy),
    );
    kv("lcas_db_file", path(&c.lcas_db_file));
    if let Some(f) = &c.lcas_log_file {
        kv("lcas_log_file", path(f));
    }
    kv("lcas_debug_level", &c.lcas_debug_level.to_string());
    kv("target_lock_mechanism", lock(c.target_lock_mechanism));
    kv("input_lock_mechanism", lock(c.input_lock_mechanism));
    kv("min_target_uid", &c.min_target_uid.to_string());
    kv("min_target_gid", &c.min_target_gid.to_string());
    kv("json_log", yes(c.json_log));
    if let Some(e) = &c.epilogue {
        kv("epilogue", path(e));
    }
    kv("epilogue_user", &c.epilogue_user);
    if let Some(g) = &c.epilogue_group {
        kv("epilogue_group", g);
    }
    kv("epilogue_timeout", &c.epilogue_timeout.to_string());
    kv("privilege_separation", yes(c.privilege_separation));
    kv("mapping_account", &c.mapping_account);
    kv("mapping_helper", path(&c.mapping_helper));
    kv("mapping_timeout", &c.mapping_timeout.to_string());
    kv(
        "mapping_service",
        c.mapping_service.as_deref().map_or("none", path),
    );
    out
}

fuzz_target!(|data: &[u8]| {
    // glexec reads the file with read_to_string: only text gets here.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count();
    let inside = |m: &str| {
        if let Some(n) = line_of(m) {
            assert!(n >= 1 && n <= lines, "line {n} of {lines}: {m}");
        }
    };
    let (c, warnings) = match config::parse(NAME, text) {
        Err(e) => {
            inside(&e.message);
            return;
        }
        Ok(ok) => ok,
    };
    for w in &warnings {
        inside(w);
    }
    assert!(c.min_target_uid >= 1 && c.min_target_gid >= 1);
    assert!(c.log_level <= 5 && c.lcmaps_debug_level <= 5 && c.lcas_debug_level <= 5);
    for p in [&c.log_file, &c.lcmaps_db_file, &c.lcas_db_file]
        .into_iter()
        .chain(&c.lcmaps_log_file)
        .chain(&c.lcas_log_file)
        .chain(&c.epilogue)
        .chain(&c.mapping_service)
    {
        assert!(p.is_absolute(), "{p:?}");
    }
    if c.epilogue.is_some() {
        assert!(c.linger && c.user_identity_switch_by == SwitchBy::Glexec);
    }
    // Privilege separation: an account name, never root; a timeout; no
    // identity switch by LCMAPS in an unprivileged helper.
    assert!(c.mapping_helper.is_absolute() && c.mapping_timeout >= 1);
    assert!(
        c.mapping_account != "root"
            && glexec_privsep::wire::is_account_name(c.mapping_account.as_bytes())
    );
    assert!(!(c.privilege_separation && c.user_identity_switch_by == SwitchBy::Lcmaps));
    let again = render(&c);
    match config::parse(NAME, &again) {
        Ok((c2, w2)) => {
            assert_eq!(c, c2, "{again}");
            assert!(w2.is_empty(), "{w2:?}");
        }
        Err(e) => panic!("{again}\n(written from an accepted file) is refused: {e:?}"),
    }
});
