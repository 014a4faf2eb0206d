//! `lcmaps_verify_proxy.mod` for lcmaps-rs: verifies the proxy chain given
//! as a PEM string (`pem_string` run variable, `ctx.request.pem`) with
//! upstream's options (lcmaps-plugins-verify-proxy 1.5.10), plus
//! `--crl-mode require|if-valid|ignore` (default `if-valid`, upstream's
//! behaviour: a CA without a CRL is accepted with one warning per CA;
//! [`lcmaps_x509::CrlMode`]). Adds nothing to the credential store;
//! succeeds or fails, logging one line that says why.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::options::{self, Kind, Opt, OptionError};
use lcmaps_x509::{voms, Credential, CrlMode, VerifyOptions, VomsOptions};

/// Environment variable that, when set at initialization, lets a missing
/// private key pass (unless `--never_discard_private_key_absence`). It is
/// removed from the environment by upstream; we only read it (see
/// docs/compatibility.md).
pub const DISCARD_PRIVATE_KEY_ABSENCE: &str = "VERIFY_PROXY_DISCARD_PRIVATE_KEY_ABSENCE";

const LOGSTR: &str = "lcmaps_plugin_verify_proxy-plugin_run()";

/// Proxy level selector of `--max-proxy-level-ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Proxy level n (0 = first delegation after the end-entity certificate).
    N(u32),
    /// The leaf proxy (`L`/`l`).
    Leaf,
}

/// The plugin.
#[derive(Debug, Clone, Default)]
pub struct VerifyProxy {
    cert_dir: Option<PathBuf>,
    allow_limited: Option<bool>,
    require_limited: bool,
    discard_private_key_absence: bool,
    only_lifetime: bool,
    max_voms_ttl: Option<i64>,
    max_level_ttl: Vec<(Level, i64)>,
    crl_mode: CrlMode,
}

/// Parses upstream's period format `[[D]Dd-]HH:MM` (also `H:MM`) into
/// seconds; `None` if malformed or zero.
pub fn parse_period(s: &str) -> Option<i64> {
    let (days, hm) = match s.split_once('-') {
        Some((d, hm)) => {
            let d = d.strip_suffix(['d', 'D'])?;
            if d.is_empty() || d.len() > 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (d.parse::<i64>().ok()?, hm)
        }
        None => (0, s),
    };
    let (h, m) = hm.split_once(':')?;
    let digits = |x: &str, min: usize| {
        x.len() >= min && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, if days > 0 || s.contains('-') { 2 } else { 1 }) || !digits(m, 2) {
        return None;
    }
    let total = days * 86_400 + h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60;
    (total > 0).then_some(total)
}

fn starts_with_ci(arg: &str, prefix: &str) -> bool {
    arg.len() >= prefix.len()
        && arg.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

impl VerifyProxy {
    fn options(&self) -> VerifyOptions {
        VerifyOptions {
            ca_dir: self.cert_dir.clone().unwrap_or_else(default_cert_dir),
            allow_limited: self.allow_limited.unwrap_or(true),
            require_limited: self.require_limited,
            require_private_key: !self.discard_private_key_absence,
            at: None,
            crl_mode: self.crl_mode,
        }
    }

    /// The whole check on a PEM string: `Err` carries the one-line reason.
    pub fn check(&self, pem: Option<&str>) -> Result<(), String> {
        let pem = pem.ok_or("no PEM string (proxy chain) given")?;
        let cred = Credential::from_pem_shared(pem).map_err(|e| e.to_string())?;
        let opts = self.options();
        if self.only_lifetime {
            // Upstream skips chain verification here; we still refuse
            // expired or not yet valid proxies.
            let now = lcmaps_x509::time::now();
            for (level, l) in cred.proxies().iter().rev().enumerate() {
                if now > l.not_after {
                    return Err(format!(
                        "proxy expired at {} (proxy level {level}, \"{}\")",
                        lcmaps_x509::time::format(l.not_after),
                        l.subject
                    ));
                }
                if now < l.not_before {
                    return Err(format!(
                        "proxy not valid before {} (proxy level {level}, \"{}\")",
                        lcmaps_x509::time::format(l.not_before),
                        l.subject
                    ));
                }
            }
            if opts.require_limited && !cred.is_limited() {
                return Err("the leaf is not a limited proxy, which the policy requires".into());
            }
        } else {
            lcmaps_x509::verify(&cred, &opts).map_err(|e| e.to_string())?;
        }
        self.check_level_ttls(&cred)?;
        if let Some(max) = self.max_voms_ttl {
            let vopts = VomsOptions {
                ca_dir: opts.ca_dir.clone(),
                crl_mode: self.crl_mode,
                ..VomsOptions::default()
            };
            for a in voms::verify_acs(&cred, &vopts).into_iter().flatten() {
                let life = a.not_after - a.not_before;
                if life > max {
                    return Err(format!(
                        "the VOMS AC of VO \"{}\" has a lifetime of {} which exceeds the maximum of {}",
                        a.vo,
                        period(life),
                        period(max)
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_level_ttls(&self, cred: &Credential) -> Result<(), String> {
        if self.max_level_ttl.is_empty() {
            return Ok(());
        }
        let proxies = cred.proxies();
        for (level, l) in proxies.iter().rev().enumerate() {
            let is_leaf = level + 1 == proxies.len();
            let find = |want: Level| {
                self.max_level_ttl
                    .iter()
                    .find(|(lv, _)| *lv == want)
                    .map(|(_, t)| *t)
            };
            let max = if is_leaf { find(Level::Leaf) } else { None }
                .or_else(|| u32::try_from(level).ok().and_then(|n| find(Level::N(n))));
            if let Some(max) = max {
                if l.lifetime() > max {
                    return Err(format!(
                        "proxy at level {level} has a lifetime of {} which exceeds the maximum of {}",
                        period(l.lifetime()),
                        period(max)
                    ));
                }
            }
        }
        Ok(())
    }
}

fn period(s: i64) -> String {
    format!(
        "{}d-{:02}:{:02}:{:02}",
        s / 86_400,
        (s % 86_400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

/// What `lcmaps check` says about a declaration of this plugin with the
/// arguments `args` (`argv[1..]`): one warning per CA in its CA directory
/// (`-certdir` & co., else `$X509_CERT_DIR`, else
/// /etc/grid-security/certificates) without a CRL there, and one for
/// `--crl-mode ignore`. Option errors are left to initialization.
pub fn check_warnings(args: &[String]) -> Vec<String> {
    let mut dir = None;
    let mut mode = CrlMode::default();
    let mut words = args.iter().map(String::as_str).peekable();
    while let Some(a) = words.next() {
        let Some(next) = words.peek().copied().filter(|v| !v.is_empty()) else {
            continue;
        };
        if ["-cadir", "-certdir", "-capath", "--capath"]
            .iter()
            .any(|p| starts_with_ci(a, p))
        {
            dir = Some(PathBuf::from(next));
            words.next();
        } else if a == "--crl-mode" {
            match next.parse() {
                Ok(m) => mode = m,
                Err(_) => return Vec::new(),
            }
            words.next();
        }
    }
    if mode == CrlMode::Ignore {
        return vec![
            "--crl-mode ignore: CRLs are not read, revoked certificates are accepted".into(),
        ];
    }
    let dir = dir.unwrap_or_else(default_cert_dir);
    lcmaps_x509::crl::cas_without_crl(&dir)
        .into_iter()
        .map(|(ca, file)| {
            let effect = match mode {
                CrlMode::Require => "--crl-mode require refuses every certificate it issued",
                _ => "its certificates are accepted without a revocation check",
            };
            format!(
                "CA \"{ca}\" in {} has no CRL (looked for {}): {effect}",
                dir.display(),
                file.display()
            )
        })
        .collect()
}

fn default_cert_dir() -> PathBuf {
    std::env::var_os("X509_CERT_DIR")
        .filter(|v| !v.is_empty())
        .map(Into::into)
        .unwrap_or_else(|| lcmaps_x509::DEFAULT_CERT_DIR.into())
}

/// The state of `plugin_initialize`: the plugin and
/// `--never_discard_private_key_absence`, which wins over the other two.
struct Init<'a> {
    plugin: &'a mut VerifyProxy,
    never_discard: bool,
}

impl Init<'_> {
    /// Upstream's options, matched as upstream matches them: a word that
    /// starts with the name, in any case, first match in this order
    /// (`--crl-mode`, ours, exactly). Every value is the next word, even
    /// an empty one.
    fn options<'a>() -> [Opt<Init<'a>>; 10] {
        [
            prefix_ci(Opt::new(
                &["-cadir", "-certdir", "-capath", "--capath"],
                Kind::Raw(|i, _, v| {
                    if !v.is_empty() {
                        if std::fs::metadata(v).is_err() {
                            return Err(format!(
                                "Error: The directory for the CA certificate and CRLs \"{v}\" doesn't exist"
                            ));
                        }
                        i.plugin.cert_dir = Some(v.into());
                    }
                    Ok(())
                }),
            )),
            prefix_ci(Opt::flag(&["--discard_private_key_absence"], |i, _| {
                i.plugin.discard_private_key_absence = true;
                Ok(())
            })),
            prefix_ci(Opt::flag(
                &["--never_discard_private_key_absence"],
                |i, _| {
                    i.never_discard = true;
                    Ok(())
                },
            )),
            prefix_ci(Opt::flag(&["--allow-limited-proxy"], |i, _| {
                i.plugin.allow_limited = Some(true);
                Ok(())
            })),
            prefix_ci(Opt::flag(&["--disallow-limited-proxy"], |i, _| {
                i.plugin.allow_limited = Some(false);
                Ok(())
            })),
            prefix_ci(Opt::flag(&["--require-limited-proxy"], |i, _| {
                i.plugin.require_limited = true;
                Ok(())
            })),
            prefix_ci(Opt::flag(&["--only-enforce-lifetime-checks"], |i, _| {
                i.plugin.only_lifetime = true;
                Ok(())
            })),
            // Ours (not in upstream, whose C plugin refuses it).
            Opt::new(
                &["--crl-mode"],
                Kind::Raw(|i, _, v| {
                    i.plugin.crl_mode = v.parse().map_err(|e| format!("--crl-mode: {e}"))?;
                    Ok(())
                }),
            ),
            prefix_ci(Opt::new(
                &["--max-voms-ttl"],
                Kind::Raw(|i, a, v| {
                    i.plugin.max_voms_ttl = Some(period_option(a, v)?);
                    Ok(())
                }),
            )),
            prefix_ci(Opt::new(
                &["--max-proxy-level-ttl=", "--max-proxy-level-ttl@"],
                Kind::Raw(|i, a, v| {
                    let level = proxy_level(a)?;
                    let t = period_option(a, v)?;
                    i.plugin.max_level_ttl.retain(|(l, _)| *l != level);
                    i.plugin.max_level_ttl.push((level, t));
                    Ok(())
                }),
            )),
        ]
    }
}

/// `opt`, matched as upstream matches: [`Opt::prefix_ignoring_case`].
fn prefix_ci(opt: Opt<Init<'_>>) -> Opt<Init<'_>> {
    opt.prefix_ignoring_case()
}

/// The period after option `a`, in seconds ([`parse_period`]).
fn period_option(a: &str, v: &str) -> Result<i64, String> {
    parse_period(v).ok_or_else(|| {
        format!("Parse error in initialization parameter: {a}. Use format: 2d-13:37")
    })
}

/// The level selector of `--max-proxy-level-ttl=<n>` / `@<n>`: `L`/`l`, or up
/// to four digits.
fn proxy_level(a: &str) -> Result<Level, String> {
    let bad = || format!("Parse error in initialization parameter: {a}.");
    let sel = a.get("--max-proxy-level-ttl=".len()..).ok_or_else(bad)?;
    if sel.eq_ignore_ascii_case("l") {
        Ok(Level::Leaf)
    } else if !sel.is_empty() && sel.len() <= 4 && sel.bytes().all(|b| b.is_ascii_digit()) {
        sel.parse().map(Level::N).map_err(|_| bad())
    } else {
        Err(bad())
    }
}

impl Plugin for VerifyProxy {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        const LOG: &str = "lcmaps_plugin_verify_proxy-plugin_initialize()";
        let err = |m: String| {
            log::error!("{LOG}: {m}");
            PluginError(m)
        };
        self.discard_private_key_absence = std::env::var_os(DISCARD_PRIVATE_KEY_ABSENCE).is_some();
        let mut init = Init {
            plugin: self,
            never_discard: false,
        };
        options::parse(&Init::options(), options::options(argv), &mut init).map_err(|e| {
            err(match e {
                OptionError::Missing { option, .. } if option == "--crl-mode" => {
                    "--crl-mode needs a value: require, if-valid or ignore".into()
                }
                // Upstream matches an option only with its value there, so
                // a missing value makes it an unknown parameter.
                OptionError::Unknown(a) | OptionError::Missing { option: a, .. } => {
                    format!("Error in initialization parameter: {a} (failure)")
                }
                OptionError::Invalid(m) => m,
            })
        })?;
        let never_discard = init.never_discard;
        if self.allow_limited == Some(false) && self.require_limited {
            return Err(err(
                "Limited proxy certificates are simultaniously configured to be required and disallowed. Please fix this."
                    .into(),
            ));
        }
        if never_discard {
            self.discard_private_key_absence = false;
        }
        if self.crl_mode == CrlMode::Ignore {
            log::warn!(
                "{LOG}: --crl-mode ignore: CRLs are not read, revoked certificates are accepted"
            );
        }
        if self.cert_dir.is_none() {
            log::info!(
                "{LOG}: Using certificate CA Path: {}",
                default_cert_dir().display()
            );
        }
        // A privileged process trusts only a CA directory whose every file
        // only root can change (OpenSSL reads them by name later; the
        // directory itself is checked again at each verification).
        let dir = self.cert_dir.clone().unwrap_or_else(default_cert_dir);
        if dir.is_dir() {
            lcmaps_core::trust::check_dir_entries(&dir).map_err(|e| err(e.to_string()))?;
        }
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![
            ArgSpec {
                name: "px509_cred",
                ty: "X509 *",
            },
            ArgSpec {
                name: "px509_chain",
                ty: "STACK_OF(X509) *",
            },
            ArgSpec {
                name: "voms_data_list",
                ty: "lcmaps_vomsdata_t *",
            },
            ArgSpec {
                name: "nvoms_data",
                ty: "int",
            },
            ArgSpec {
                name: "pem_string",
                ty: "char *",
            },
        ]
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        match self.check(ctx.request.pem.as_deref()) {
            Ok(()) => {
                log::info!("{LOGSTR}: verify proxy plugin succeeded");
                Status::Success
            }
            Err(why) => {
                log::notice_or_warn(&format!("{LOGSTR}: verify proxy plugin failed: {why}"));
                Status::Failure
            }
        }
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
        self.run(ctx)
    }
}

mod log {
    pub use ::log::{error, info, warn};

    /// Rejections are logged at warning level, one line.
    pub fn notice_or_warn(msg: &str) {
        ::log::warn!("{msg}");
    }
}
