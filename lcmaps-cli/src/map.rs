//! `lcmaps map`: a dry-run mapping with a trace.
//!
//! The parent checks the configuration, then runs the engine in a child
//! process (this same binary, hidden subcommand `__map-child`) that writes a
//! JSON [`Report`] on its standard output. Whatever a plugin does to the
//! identity of the child (a C posix_enf run as root, say), the `lcmaps`
//! process the user started never changes identity.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use clap::Args;
use lcmaps_core::db;
use lcmaps_core::diag;
use lcmaps_core::log::{Logger, Priority, Sink};
use lcmaps_core::plugin::Request;
use lcmaps_core::policy::{Engine, Mode, Outcome, RunOptions};
use lcmaps_scitokens::decisions::{self as token_explain, TokenReport};
use serde::{Deserialize, Serialize};

use crate::{settings, validate_options, EXIT_CONFIG};

/// Arguments of `lcmaps map`.
#[derive(Debug, Clone, Args)]
pub struct MapArgs {
    /// The user's DN, e.g. '/DC=org/DC=example/CN=Jane Doe' (not needed with --token or --proxy).
    #[arg(long, required_unless_present_any = ["token", "proxy"], conflicts_with = "proxy")]
    dn: Option<String>,
    /// A proxy or certificate chain file (PEM) to map, as a gatekeeper passes it
    /// (lcmaps_run_with_pem_and_return_account): the DN is its user's, the FQANs
    /// those of its VOMS attributes that verify (X509_VOMS_DIR, X509_CERT_DIR),
    /// and plugins such as lcmaps_verify_proxy.mod see the chain.
    #[arg(long, value_name = "FILE", conflicts_with = "fqans")]
    proxy: Option<PathBuf>,
    /// A bearer token (JWT) file to map, for lcmaps_scitokens.mod.
    #[arg(long, value_name = "FILE")]
    token: Option<PathBuf>,
    /// A VOMS FQAN, e.g. /dteam/Role=NULL/Capability=NULL (repeatable, in order).
    #[arg(long = "fqan", value_name = "FQAN")]
    fqans: Vec<String>,
    /// Only run this policy (repeatable; policies still run in file order).
    /// Default: LCMAPS_POLICY_NAME split at ':', else all policies.
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// The lcmaps.db to use (default: LCMAPS_DB_FILE etc., else /etc/lcmaps/lcmaps.db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Mapcounter passed to plugins (poolaccount uses it for multiple leases).
    #[arg(long, default_value_t = 0)]
    mapcounter: i32,
    /// Account name the caller asks for (`requested_username`).
    #[arg(long, value_name = "NAME")]
    requested_username: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
    /// Show plugin log lines on standard error (at LCMAPS_DEBUG_LEVEL, default 4).
    #[arg(short, long)]
    verbose: bool,
}

/// What the child reports to the parent (and what `--json` prints).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The lcmaps.db used.
    pub db: String,
    /// Input DN.
    pub dn: String,
    /// Input FQANs.
    pub fqans: Vec<String>,
    /// Policies asked for (empty: all).
    pub policies: Vec<String>,
    /// A uid and a primary gid came out and the last plugin succeeded.
    pub mapped: bool,
    /// LCMAPS's own result: the status of the last plugin executed.
    pub status: String,
    /// The policy that produced the result.
    pub policy: Option<String>,
    /// Every plugin execution.
    pub steps: Vec<StepReport>,
    /// The final credentials.
    pub credentials: Credentials,
    /// LCMAPS's `LCMAPS CRED FINAL:` line.
    pub final_line: Option<String>,
    /// A failure outside the plugins.
    pub error: Option<String>,
    /// With `--token`: each lcmaps_scitokens.mod's decision, check by check
    /// and rule by rule.
    #[serde(default)]
    pub token: Vec<TokenReport>,
}

/// One plugin execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    /// Policy.
    pub policy: String,
    /// Rule name.
    pub plugin: String,
    /// Module file.
    pub module: String,
    /// `success` or `failure`.
    pub result: String,
    /// Microseconds.
    pub duration_us: f64,
    /// Set when the plugin did not really run (dry run of an enforcement plugin).
    pub note: Option<String>,
}

/// The final credential store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Credentials {
    /// DN in the store.
    pub dn: Option<String>,
    /// Uids.
    pub uids: Vec<u32>,
    /// Primary gids.
    pub primary_gids: Vec<u32>,
    /// Secondary gids.
    pub secondary_gids: Vec<u32>,
    /// Pool index.
    pub pool_index: Option<String>,
    /// VO strings.
    pub vo_strings: Vec<String>,
    /// FQAN to group mappings: (fqan, gid, group name).
    pub vo_mappings: Vec<(String, u32, Option<String>)>,
}

fn policies(args: &MapArgs, from_env: &[String]) -> Vec<String> {
    if args.policies.is_empty() {
        from_env.to_vec()
    } else {
        args.policies.clone()
    }
}

/// The DN, verified FQANs and PEM text of a proxy file (`--proxy`).
fn proxy_credential(p: &std::path::Path) -> Result<(String, Vec<String>, String), String> {
    let pem = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let cred = lcmaps_x509::Credential::from_pem(&pem).map_err(|e| {
        format!(
            "{}: not a usable proxy or certificate chain: {e}",
            p.display()
        )
    })?;
    let fqans = lcmaps_x509::voms::verified_fqans(&cred, &lcmaps_x509::VomsOptions::default());
    Ok((cred.user_dn().to_string(), fqans, pem))
}

fn report(request: &Request, db: String, policies: Vec<String>, o: &Outcome) -> Report {
    let s = &o.store;
    Report {
        db,
        dn: request.user_dn.clone().unwrap_or_default(),
        fqans: request.fqans.clone(),
        policies,
        mapped: o.is_mapped(),
        status: if o.status.is_success() {
            "success"
        } else {
            "failure"
        }
        .into(),
        policy: o.policy.clone(),
        steps: o
            .trace
            .iter()
            .map(|t| StepReport {
                policy: t.policy.clone(),
                plugin: t.plugin.clone(),
                module: t.module.clone(),
                result: if t.status.is_success() {
                    "success"
                } else {
                    "failure"
                }
                .into(),
                duration_us: t.duration.as_secs_f64() * 1e6,
                note: t.skipped.clone(),
            })
            .collect(),
        credentials: Credentials {
            dn: s.dn.clone(),
            uids: s.uids.clone(),
            primary_gids: s.pri_gids.clone(),
            secondary_gids: s.sec_gids.clone(),
            pool_index: s.pool_index.clone(),
            vo_strings: s.vo_strings.clone(),
            vo_mappings: s
                .vo_mappings
                .iter()
                .map(|m| (m.vostring.clone(), m.gid, m.groupname.clone()))
                .collect(),
        },
        final_line: s.final_line(),
        error: o.error.clone(),
        token: Vec::new(),
    }
}

/// The child: load, run, print the report as JSON. Exit 0 mapped, 1 not, 2
/// configuration error.
pub fn child(args: MapArgs) -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let level = if args.verbose {
        Priority::from_debug_level(settings.debug_level)
    } else {
        Priority::Warning
    };
    let sink = match &settings.log_file {
        Some(f) => match std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(f)
        {
            Ok(file) => Sink::File(file),
            Err(e) => {
                eprintln!(
                    "lcmaps: cannot open LCMAPS_LOG_FILE {}: {e}; logging to stderr",
                    f.display()
                );
                Sink::Stderr
            }
        },
        None => Sink::Stderr,
    };
    let _ = Logger::new(
        sink,
        level,
        settings.log_string.clone(),
        settings.log_ident.clone(),
    )
    .install();
    let file = args.db.clone().unwrap_or_else(|| settings.db_file.clone());
    let checked = db::check_file(&file, &validate_options(&settings));
    let Some(config) = checked.config else {
        eprint!("{}", diag::render_all(&checked.diagnostics));
        return ExitCode::from(EXIT_CONFIG);
    };
    let loader = lcmaps_builtins::Loader::new(Box::new(lcmaps_host::CModLoader));
    let db_config = config.clone();
    let mut engine = match Engine::new(config, &loader) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("lcmaps: {}: {e}", file.display());
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let token = match &args.token {
        None => None,
        Some(p) => match lcmaps_scitokens::discovery::read_token_file(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("lcmaps: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
    };
    let (user_dn, fqans, pem) = match &args.proxy {
        None => (args.dn.clone(), args.fqans.clone(), None),
        Some(p) => match proxy_credential(p) {
            Ok((dn, fqans, pem)) => (Some(dn), fqans, Some(pem)),
            Err(e) => {
                eprintln!("lcmaps: {e}");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
    };
    let request = Request {
        user_dn,
        token,
        fqans,
        pem,
        mapcounter: args.mapcounter,
        requested_username: args.requested_username.clone(),
        ..Request::default()
    };
    let pols = policies(&args, &settings.policy_names);
    let opts = RunOptions {
        policies: pols.clone(),
        dry_run: true,
        // The report gives each plugin's time.
        time_steps: true,
    };
    let outcome = engine.run(&request, Mode::Run, &opts);
    engine.terminate();
    let mut r = report(&request, file.display().to_string(), pols, &outcome);
    if let Some(t) = &request.token {
        // As a verification decides: a pool rule finds the lease the run
        // made; explaining never makes one (when the run refused before the
        // token plugin ran, or mapped by another plugin).
        r.token = token_explain::explain(&db_config, t, args.requested_username.as_deref(), true);
    }
    let json = serde_json::to_string(&r).expect("report serializes");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{json}");
    if r.mapped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The parent: check, run the child, print.
pub fn map(args: MapArgs) -> ExitCode {
    let settings = match settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let file = args.db.clone().unwrap_or_else(|| settings.db_file.clone());
    let checked = db::check_file(&file, &validate_options(&settings));
    if checked.has_errors() {
        eprint!("{}", diag::render_all(&checked.diagnostics));
        eprintln!(
            "{}: {}; not mapping",
            file.display(),
            diag::summary(&checked.diagnostics)
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("lcmaps: cannot find my own executable to run the mapping in a child: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("__map-child").arg("--db").arg(&file);
    if let Some(dn) = &args.dn {
        cmd.arg("--dn").arg(dn);
    }
    if let Some(t) = &args.token {
        cmd.arg("--token").arg(t);
    }
    if let Some(p) = &args.proxy {
        cmd.arg("--proxy").arg(p);
    }
    for f in &args.fqans {
        cmd.arg("--fqan").arg(f);
    }
    for p in &args.policies {
        cmd.arg("--policy").arg(p);
    }
    cmd.arg("--mapcounter").arg(args.mapcounter.to_string());
    if let Some(u) = &args.requested_username {
        cmd.arg("--requested-username").arg(u);
    }
    if args.verbose {
        cmd.arg("--verbose");
    }
    let output = match cmd.stdin(Stdio::null()).stderr(Stdio::inherit()).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("lcmaps: cannot start the mapping process: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if output.status.code() == Some(i32::from(EXIT_CONFIG)) {
        return ExitCode::from(EXIT_CONFIG);
    }
    let report: Report = match serde_json::from_slice(&output.stdout) {
        Ok(r) => r,
        Err(_) => {
            eprintln!(
                "lcmaps: the mapping process ended without a result ({})",
                output.status
            );
            return ExitCode::from(1);
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        );
    } else {
        print!("{}", render(&report));
    }
    if report.mapped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| format!("{uid} ({})", u.name))
        .unwrap_or_else(|| uid.to_string())
}

fn group_name(gid: u32) -> String {
    nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
        .ok()
        .flatten()
        .map(|g| format!("{gid} ({})", g.name))
        .unwrap_or_else(|| gid.to_string())
}

/// The human-readable trace.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let pols = if r.policies.is_empty() {
        "all".to_string()
    } else {
        r.policies.join(", ")
    };
    let who = if r.dn.is_empty() {
        "a bearer token".to_string()
    } else {
        format!("\"{}\"", r.dn)
    };
    s.push_str(&format!("Mapping {who} with {} (policies: {pols})\n", r.db));
    for f in &r.fqans {
        s.push_str(&format!("  FQAN {f}\n"));
    }
    if r.steps.is_empty() {
        s.push_str("  no plugin ran\n");
    }
    let w_pol = r.steps.iter().map(|t| t.policy.len()).max().unwrap_or(0);
    let w_plug = r.steps.iter().map(|t| t.plugin.len()).max().unwrap_or(0);
    let w_mod = r.steps.iter().map(|t| t.module.len()).max().unwrap_or(0);
    for t in &r.steps {
        s.push_str(&format!(
            "  {:<w_pol$}  {:<w_plug$}  {:<w_mod$}  {:<7}  {:>9.1} µs{}\n",
            t.policy,
            t.plugin,
            t.module,
            t.result,
            t.duration_us,
            t.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default(),
        ));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!("  error: {e}\n"));
    }
    s.push_str(&token_explain::render(&r.token));
    let c = &r.credentials;
    if r.mapped {
        s.push_str(&format!(
            "Mapped by policy {}:\n",
            r.policy.as_deref().unwrap_or("?")
        ));
    } else {
        s.push_str(&format!(
            "Not mapped (LCMAPS result: {}{}).\n",
            r.status,
            if r.status == "success" {
                ", but no uid and primary gid"
            } else {
                ""
            }
        ));
    }
    let list =
        |v: &[u32], f: fn(u32) -> String| v.iter().map(|x| f(*x)).collect::<Vec<_>>().join(", ");
    if let Some(dn) = &c.dn {
        s.push_str(&format!("  dn             {dn}\n"));
    }
    if !c.uids.is_empty() {
        s.push_str(&format!("  uid            {}\n", list(&c.uids, user_name)));
    }
    if !c.primary_gids.is_empty() {
        s.push_str(&format!(
            "  primary gid    {}\n",
            list(&c.primary_gids, group_name)
        ));
    }
    if !c.secondary_gids.is_empty() {
        s.push_str(&format!(
            "  secondary gids {}\n",
            list(&c.secondary_gids, group_name)
        ));
    }
    if let Some(p) = &c.pool_index {
        s.push_str(&format!("  pool index     {p}\n"));
    }
    for v in &c.vo_strings {
        s.push_str(&format!("  VO string      {v}\n"));
    }
    for (f, g, n) in &c.vo_mappings {
        s.push_str(&format!(
            "  FQAN mapping   {f} -> {}\n",
            n.as_ref()
                .map(|n| format!("{g} ({n})"))
                .unwrap_or(g.to_string())
        ));
    }
    if let Some(l) = &r.final_line {
        s.push_str(&format!("{l}\n"));
    }
    s
}
