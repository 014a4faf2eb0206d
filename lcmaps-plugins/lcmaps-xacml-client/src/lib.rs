//! `lcmaps_gums_client.mod` and `lcmaps_scas_client.mod`: the SAML2-XACML2
//! authorization callout of the OSG GUMS client and the Nikhef SCAS client
//! (one implementation, two module names).
//!
//! Each run sends one `XACMLAuthzDecisionQuery` (Authorization
//! Interoperability profile 1.1 attributes: subject DN and issuer, VO,
//! FQANs, primary FQAN, resource type, host name, host certificate, action)
//! in a SOAP envelope over HTTPS with mutual TLS, and maps only on a Permit
//! whose obligations (`uidgid`, `secondary-gids`, `username`) are all
//! understood. Everything else fails closed with one log line naming the
//! endpoint and the reason.
//!
//! Options (a leading `-` or `--` is accepted for each):
//! `-resourcetype ce|wn|se` (default `wn`), `-actiontype
//! queue|execute-now|access` (default `execute-now`), `--endpoint <https URL>`
//! (repeatable, at least one), `--endpoint-strategy
//! round-robin|round-robin-random-start|random|ordered` (default
//! `round-robin`), `--capath <dir>` (default `$X509_CERT_DIR` or
//! `/etc/grid-security/certificates`), `--cert <file>` / `--key <file>`
//! (default `$X509_USER_PROXY` for both, else the host certificate and key),
//! `--cert-owner <user>`, `--override-expected-hostname <name>`,
//! `--timeout <seconds>` (total per endpoint, default 30),
//! `--connect-timeout <seconds>` (default 10), `-authorization-only`,
//! `--issuer <DN>` (the `saml:Issuer`; default the client certificate's
//! subject), `--crl-mode require|if-valid|ignore` (how the CRLs in
//! `--capath` are used for the server's chain; default `if-valid`, see
//! [`transport`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod proto;
pub mod transport;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lcmaps_core::cred::CredData;
use lcmaps_core::plugin::{ArgSpec, Plugin, PluginError, RunContext, Status};
use lcmaps_plugin_common::accounts::{self, Accounts};
use lcmaps_plugin_common::context::{self, USER_DN};
use lcmaps_plugin_common::options::{self, Kind, Opt, OptionError};

use proto::{Grant, Query, ACTION_TYPE_PREFIX, RESOURCE_TYPE_PREFIX};
use transport::{Failure, TlsSettings, Url};

/// Which module name the plugin was loaded as (only the log prefix differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `lcmaps_gums_client.mod`
    Gums,
    /// `lcmaps_scas_client.mod`
    Scas,
}

impl Flavour {
    fn prefix(self) -> &'static str {
        match self {
            Flavour::Gums => "lcmaps_gums_client",
            Flavour::Scas => "lcmaps_scas_client",
        }
    }
}

/// The order endpoints are tried in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Start after the endpoint the previous run started at (rotating over
    /// runs of one process), then in list order.
    RoundRobin,
    /// Start at a random endpoint, then in list order.
    RoundRobinRandomStart,
    /// A random order.
    Random,
    /// Always in list order from the first.
    Ordered,
}

/// The plugin.
#[derive(Debug)]
pub struct XacmlClient {
    flavour: Flavour,
    resource_type: String,
    action_type: String,
    endpoints: Vec<(String, Url)>,
    strategy: Strategy,
    capath: Option<PathBuf>,
    crl_mode: lcmaps_x509::CrlMode,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    cert_owner: Option<String>,
    expected_hostname: Option<String>,
    total_timeout: Duration,
    connect_timeout: Duration,
    authorization_only: bool,
    issuer: Option<String>,
    host_name: Option<String>,
    next_start: usize,
    accounts: Accounts,
}

impl XacmlClient {
    /// A fresh plugin of `flavour`.
    pub fn new(flavour: Flavour) -> Self {
        Self::with_accounts(flavour, accounts::system())
    }

    /// With another account database (tests; used for `username`).
    pub fn with_accounts(flavour: Flavour, accounts: Accounts) -> Self {
        XacmlClient {
            flavour,
            resource_type: "wn".into(),
            action_type: "execute-now".into(),
            endpoints: Vec::new(),
            strategy: Strategy::RoundRobin,
            capath: None,
            crl_mode: lcmaps_x509::CrlMode::default(),
            cert: None,
            key: None,
            cert_owner: None,
            expected_hostname: None,
            total_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            authorization_only: false,
            issuer: None,
            host_name: None,
            next_start: 0,
            accounts,
        }
    }

    /// Overrides the `dns-host-name` sent (tests; default: the kernel's
    /// host name).
    pub fn set_host_name(&mut self, name: &str) {
        self.host_name = Some(name.to_owned());
    }

    fn order(&mut self) -> Vec<usize> {
        let n = self.endpoints.len();
        let random = |bound: usize| -> usize {
            let mut b = [0u8; 8];
            if openssl::rand::rand_bytes(&mut b).is_err() {
                return 0;
            }
            (u64::from_le_bytes(b) % bound as u64) as usize
        };
        match self.strategy {
            Strategy::Ordered => (0..n).collect(),
            Strategy::RoundRobin => {
                let s = self.next_start % n;
                self.next_start = (s + 1) % n;
                (0..n).map(|i| (s + i) % n).collect()
            }
            Strategy::RoundRobinRandomStart => {
                let s = random(n);
                (0..n).map(|i| (s + i) % n).collect()
            }
            Strategy::Random => {
                let mut v: Vec<usize> = (0..n).collect();
                for i in (1..n).rev() {
                    v.swap(i, random(i + 1));
                }
                v
            }
        }
    }

    fn credentials(&self) -> (PathBuf, PathBuf) {
        let proxy = std::env::var_os("X509_USER_PROXY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let cert = self
            .cert
            .clone()
            .or_else(|| proxy.clone())
            .unwrap_or_else(|| PathBuf::from("/etc/grid-security/hostcert.pem"));
        let key = self
            .key
            .clone()
            .or_else(|| self.cert.is_none().then_some(proxy).flatten())
            .or_else(|| self.cert.clone())
            .unwrap_or_else(|| PathBuf::from("/etc/grid-security/hostkey.pem"));
        (cert, key)
    }

    fn check_owner(&self, files: &[&Path]) -> Result<(), String> {
        let Some(owner) = &self.cert_owner else {
            return Ok(());
        };
        let acc = self
            .accounts
            .by_name(owner)?
            .ok_or_else(|| format!("--cert-owner {owner}: no such account"))?;
        for f in files {
            let m = std::fs::metadata(f).map_err(|e| format!("{}: {e}", f.display()))?;
            if m.uid() != acc.uid {
                return Err(format!(
                    "{} is owned by uid {}, not by {owner} (uid {})",
                    f.display(),
                    m.uid(),
                    acc.uid
                ));
            }
        }
        Ok(())
    }

    fn query(&self, ctx: &mut RunContext<'_>, dn: String, who: &str) -> Query {
        // The issuer of the end-entity certificate, from the PEM if given.
        let subject_issuer =
            ctx.request.pem.as_deref().and_then(
                |p| match lcmaps_x509::Credential::from_pem_shared(p) {
                    Ok(c) => Some(c.eec().issuer.clone()),
                    Err(e) => {
                        log::debug!("{who}: no issuer from the PEM string: {e}");
                        None
                    }
                },
            );
        let fqans = if !ctx.request.fqans.is_empty() {
            ctx.request.fqans.clone()
        } else {
            ctx.store.vo_strings.clone()
        };
        let vo = fqans
            .first()
            .and_then(|f| f.split('/').find(|p| !p.is_empty()))
            .map(str::to_owned);
        let (cert, _) = self.credentials();
        let host_cert = lcmaps_core::site_file::read_regular(&cert)
            .ok()
            .and_then(|b| openssl::x509::X509::from_pem(&b).ok());
        let host_subject = host_cert
            .as_ref()
            .map(|c| lcmaps_x509::name::oneline(c.subject_name()));
        let host_issuer = host_cert
            .as_ref()
            .map(|c| lcmaps_x509::name::oneline(c.issuer_name()));
        let mut idb = [0u8; 16];
        let id = match openssl::rand::rand_bytes(&mut idb) {
            Ok(()) => idb.iter().fold(String::from("_"), |mut s, b| {
                s.push_str(&format!("{b:02x}"));
                s
            }),
            // No randomness: the InResponseTo check would be weak; refuse.
            Err(_) => String::new(),
        };
        Query {
            id,
            issue_instant: lcmaps_x509::time::format(lcmaps_x509::time::now())
                .replacen(' ', "T", 1),
            issuer: self.issuer.clone().or_else(|| host_subject.clone()),
            subject_dn: dn,
            subject_issuer,
            vo,
            fqans,
            resource_id: format!("{RESOURCE_TYPE_PREFIX}{}", self.resource_type),
            host_name: self.host_name.clone().or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
            }),
            resource_x509_id: host_subject,
            resource_x509_issuer: host_issuer,
            action_id: format!("{ACTION_TYPE_PREFIX}{}", self.action_type),
        }
    }

    fn exchange(&self, url: &Url, q: &Query, tls: &TlsSettings) -> Result<Grant, Failure> {
        let body = match transport::post(url, &q.to_xml(), tls) {
            Ok(b) => b,
            Err((f, Some(body))) => {
                // A SOAP fault comes with HTTP 500: report the fault.
                if let Ok(a) = std::str::from_utf8(&body)
                    .map_err(|_| String::new())
                    .and_then(proto::parse)
                {
                    if let Some(fs) = a.fault {
                        return Err(Failure::Answer(format!("SOAP fault: {fs}")));
                    }
                }
                return Err(f);
            }
            Err((f, None)) => return Err(f),
        };
        let text = std::str::from_utf8(&body)
            .map_err(|_| Failure::Answer("answer is not UTF-8".into()))?;
        let a = proto::parse(text).map_err(Failure::Answer)?;
        proto::judge(&a, &q.id).map_err(Failure::Answer)
    }

    fn apply(&self, ctx: &mut RunContext<'_>, g: &Grant, who: &str) -> Result<(), String> {
        if self.authorization_only {
            return Ok(());
        }
        match (&g.uidgid, &g.username) {
            (Some((uid, gid)), _) => {
                ctx.add(CredData::Uid(*uid));
                ctx.add(CredData::PriGid(*gid));
            }
            (None, Some(name)) => {
                if !context::add_account(ctx, &*self.accounts, name, who) {
                    return Err(format!(
                        "username obligation {name:?}: no such local account"
                    ));
                }
                if ctx.store.uids.last() == Some(&0) || ctx.store.pri_gids.last() == Some(&0) {
                    return Err(format!("username obligation {name:?} maps to root"));
                }
            }
            (None, None) => return Err("Permit without a uidgid or username obligation".into()),
        }
        for g in &g.sgids {
            ctx.add(CredData::SecGid(*g));
        }
        Ok(())
    }

    fn map(&mut self, ctx: &mut RunContext<'_>, who: &str) -> Status {
        let Some(dn) = context::take_dn(ctx, who) else {
            return Status::Failure;
        };
        let q = self.query(ctx, dn, who);
        if q.id.is_empty() {
            log::error!("{who}: no random request ID: failing");
            return Status::Failure;
        }
        let (cert, key) = self.credentials();
        if let Err(e) = self.check_owner(&[&cert, &key]) {
            log::error!("{who}: {e}");
            return Status::Failure;
        }
        let tls = TlsSettings {
            capath: self
                .capath
                .clone()
                .unwrap_or_else(lcmaps_x509::cert_dir_from_env),
            crl_mode: self.crl_mode,
            cert,
            key,
            expected_hostname: self.expected_hostname.clone(),
            connect_timeout: self.connect_timeout,
            total_timeout: self.total_timeout,
        };
        for i in self.order() {
            let (raw, url) = &self.endpoints[i];
            match self.exchange(url, &q, &tls) {
                Ok(g) => {
                    if let Err(e) = self.apply(ctx, &g, who) {
                        log::error!("{who}: endpoint {raw}: {e}");
                        return Status::Failure;
                    }
                    log::info!(
                        "{who}: endpoint {raw}: Permit{}",
                        if self.authorization_only {
                            " (authorization only)"
                        } else {
                            ""
                        }
                    );
                    return Status::Success;
                }
                Err(Failure::Transport(m)) => {
                    log::error!("{who}: endpoint {raw}: {m}");
                }
                Err(Failure::Answer(m)) => {
                    log::error!("{who}: endpoint {raw}: {m}");
                    return Status::Failure;
                }
            }
        }
        log::error!("{who}: no endpoint answered");
        Status::Failure
    }
}

fn seconds(opt: &str, v: &str) -> Result<Duration, String> {
    let s: f64 = v
        .parse()
        .map_err(|_| format!("option {opt}: {v:?} is not a number of seconds"))?;
    if !(s > 0.0 && s <= 3600.0) {
        return Err(format!(
            "option {opt}: {v} must be between 0 and 3600 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(s))
}

/// The options, each under `-name` and `--name`.
const OPTIONS: &[Opt<XacmlClient>] = &[
    Opt::new(
        &["-resourcetype", "--resourcetype"],
        Kind::Word {
            words: &["ce", "wn", "se"],
            bad: |o, v| format!("option {o}: use ce, wn or se, not {v:?}"),
            set: |p, w| p.resource_type = w.to_owned(),
        },
    ),
    Opt::new(
        &["-actiontype", "--actiontype"],
        Kind::Word {
            words: &["queue", "execute-now", "access"],
            bad: |o, v| format!("option {o}: use queue, execute-now or access, not {v:?}"),
            set: |p, w| p.action_type = w.to_owned(),
        },
    ),
    Opt::text(&["-endpoint", "--endpoint"], "a value", |p, _, v| {
        let u = Url::parse(v).map_err(|e| format!("endpoint {e}"))?;
        p.endpoints.push((v.to_owned(), u));
        Ok(())
    }),
    Opt::text(
        &["-endpoint-strategy", "--endpoint-strategy"],
        "a value",
        |p: &mut XacmlClient, o, v| {
            p.strategy = match v {
                "round-robin" => Strategy::RoundRobin,
                "round-robin-random-start" => Strategy::RoundRobinRandomStart,
                "random" => Strategy::Random,
                "ordered" => Strategy::Ordered,
                v => return Err(format!(
                    "option {o}: unknown strategy {v:?} (round-robin, round-robin-random-start, random, ordered)"
                )),
            };
            Ok(())
        },
    ),
    Opt::path(&["-capath", "--capath"], "a value", |p, f| {
        p.capath = Some(f)
    }),
    Opt::text(
        &["-crl-mode", "--crl-mode"],
        "a value",
        |p: &mut XacmlClient, o, v| {
            p.crl_mode = v.parse().map_err(|e| format!("option {o}: {e}"))?;
            Ok(())
        },
    ),
    Opt::path(&["-cert", "--cert"], "a value", |p, f| p.cert = Some(f)),
    Opt::path(&["-key", "--key"], "a value", |p, f| p.key = Some(f)),
    Opt::text(&["-cert-owner", "--cert-owner"], "a value", |p, _, v| {
        p.cert_owner = Some(v.to_owned());
        Ok(())
    }),
    Opt::text(
        &[
            "-override-expected-hostname",
            "--override-expected-hostname",
        ],
        "a value",
        |p, _, v| {
            p.expected_hostname = Some(v.to_owned());
            Ok(())
        },
    ),
    Opt::text(
        &["-timeout", "--timeout"],
        "a value",
        |p: &mut XacmlClient, o, v| {
            p.total_timeout = seconds(o, v)?;
            Ok(())
        },
    ),
    Opt::text(
        &["-connect-timeout", "--connect-timeout"],
        "a value",
        |p: &mut XacmlClient, o, v| {
            p.connect_timeout = seconds(o, v)?;
            Ok(())
        },
    ),
    Opt::text(&["-issuer", "--issuer"], "a value", |p, _, v| {
        p.issuer = Some(v.to_owned());
        Ok(())
    }),
    Opt::flag(&["-authorization-only", "--authorization-only"], |p, _| {
        p.authorization_only = true;
        Ok(())
    }),
];

impl Plugin for XacmlClient {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        let who = format!("{}-plugin_initialize()", self.flavour.prefix());
        let err = |m: String| PluginError(format!("{who}: {m}"));
        options::parse(OPTIONS, options::options(argv), self).map_err(|e| {
            err(match e {
                OptionError::Unknown(o) => format!("unknown option {o}"),
                e => e.message(),
            })
        })?;
        if self.endpoints.is_empty() {
            return Err(err("no --endpoint given".into()));
        }
        Ok(())
    }

    fn introspect(&self) -> Vec<ArgSpec> {
        vec![
            USER_DN,
            ArgSpec {
                name: "fqan_list",
                ty: "char **",
            },
            ArgSpec {
                name: "nfqan",
                ty: "int",
            },
            ArgSpec {
                name: "pem_string",
                ty: "char *",
            },
        ]
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let who = format!("{}-plugin_run()", self.flavour.prefix());
        self.map(ctx, &who)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(args: &[&str]) -> Result<XacmlClient, PluginError> {
        let mut p = XacmlClient::new(Flavour::Gums);
        let mut v = vec!["lcmaps_gums_client.mod".to_string()];
        v.extend(args.iter().map(|s| s.to_string()));
        p.initialize(&v).map(|()| p)
    }

    #[test]
    fn options() {
        let p = init(&[
            "-resourcetype",
            "ce",
            "-actiontype",
            "queue",
            "--endpoint",
            "https://a.example:8443/gums",
            "--endpoint",
            "https://b.example/gums",
            "--endpoint-strategy",
            "random",
            "--timeout",
            "2.5",
            "-authorization-only",
        ])
        .unwrap();
        assert_eq!(p.endpoints.len(), 2);
        assert_eq!(p.strategy, Strategy::Random);
        assert_eq!(p.total_timeout, Duration::from_millis(2500));
        assert!(p.authorization_only);
        assert_eq!(p.resource_type, "ce");
    }

    #[test]
    fn bad_options_name_the_problem() {
        let e = init(&["--endpoint", "https://a/", "--bogus"]).unwrap_err();
        assert!(e.0.contains("unknown option --bogus"), "{e}");
        let e = init(&[]).unwrap_err();
        assert!(e.0.contains("no --endpoint"), "{e}");
        let e = init(&["--endpoint", "http://a/"]).unwrap_err();
        assert!(e.0.contains("https"), "{e}");
        let e = init(&["--endpoint", "https://a/", "--timeout", "0"]).unwrap_err();
        assert!(e.0.contains("--timeout"), "{e}");
        let e = init(&["--endpoint", "https://a/", "-resourcetype", "xx"]).unwrap_err();
        assert!(e.0.contains("-resourcetype"), "{e}");
        let e = init(&["--endpoint"]).unwrap_err();
        assert!(e.0.contains("--endpoint"), "{e}");
    }

    #[test]
    fn strategies() {
        let mut p = init(&[
            "--endpoint",
            "https://a/",
            "--endpoint",
            "https://b/",
            "--endpoint",
            "https://c/",
        ])
        .unwrap();
        assert_eq!(p.order(), [0, 1, 2]);
        assert_eq!(p.order(), [1, 2, 0]);
        p.strategy = Strategy::Ordered;
        assert_eq!(p.order(), [0, 1, 2]);
        for s in [Strategy::Random, Strategy::RoundRobinRandomStart] {
            p.strategy = s;
            let mut o = p.order();
            o.sort_unstable();
            assert_eq!(o, [0, 1, 2]);
        }
    }
}

/// A client with its flavour fixed, for the `.mod` builds: the plugin SDK
/// makes a plugin with `Default`, so each module exports one of these
/// (`mods/lcmaps-gums-client-mod`, `mods/lcmaps-scas-client-mod`).
macro_rules! flavoured {
    ($(#[$doc:meta])* $name:ident, $flavour:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(XacmlClient);

        impl Default for $name {
            fn default() -> Self {
                $name(XacmlClient::new($flavour))
            }
        }

        impl Plugin for $name {
            fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
                self.0.initialize(argv)
            }
            fn introspect(&self) -> Vec<ArgSpec> {
                self.0.introspect()
            }
            fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
                self.0.run(ctx)
            }
            fn has_verify(&self) -> bool {
                self.0.has_verify()
            }
            fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
                self.0.verify(ctx)
            }
            fn terminate(&mut self) -> Result<(), PluginError> {
                self.0.terminate()
            }
            fn enforces_identity(&self) -> bool {
                self.0.enforces_identity()
            }
        }
    };
}

flavoured!(
    /// `lcmaps_gums_client.mod`: the client in its GUMS flavour.
    Gums,
    Flavour::Gums
);
flavoured!(
    /// `lcmaps_scas_client.mod`: the client in its SCAS flavour.
    Scas,
    Flavour::Scas
);
