//! The in-process plugin interface and the registry of built-in plugins.
//!
//! A [`Plugin`] has the life cycle of an LCMAPS `.mod`: `initialize` once
//! with `argv` (argv\[0\] is the module path), `introspect` to say which run
//! variables it reads, `run` (or `verify` in verification mode) each time the
//! policy reaches it, `terminate` at the end.

mod dummy;

use crate::cred::{CredData, Store};

pub use dummy::{DummyBad, DummyGood};

/// What a plugin returns from `run` and `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// `LCMAPS_MOD_SUCCESS`
    Success,
    /// `LCMAPS_MOD_FAIL` (or any other non-zero code)
    Failure,
}

impl Status {
    /// From a C return code: 0 is success, anything else failure.
    pub fn from_code(code: i32) -> Status {
        if code == 0 {
            Status::Success
        } else {
            Status::Failure
        }
    }

    /// True for success.
    pub fn is_success(self) -> bool {
        self == Status::Success
    }
}

/// A plugin refused to initialize (or terminate).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PluginError(pub String);

/// A run variable a plugin asks for: LCMAPS's `(argName, argType)` pair,
/// e.g. `("user_dn", "char *")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// Variable name.
    pub name: &'static str,
    /// C type string, spaces included.
    pub ty: &'static str,
}

/// Every run variable LCMAPS 1.6 (GSI build) provides.
pub const RUN_VARIABLES: &[ArgSpec] = &[
    ArgSpec {
        name: "user_dn",
        ty: "char *",
    },
    ArgSpec {
        name: "job_request",
        ty: "lcmaps_request_t",
    },
    ArgSpec {
        name: "job_request",
        ty: "char *",
    },
    ArgSpec {
        name: "fqan_list",
        ty: "char **",
    },
    ArgSpec {
        name: "nfqan",
        ty: "int",
    },
    ArgSpec {
        name: "mapcounter",
        ty: "int",
    },
    ArgSpec {
        name: "requested_uid",
        ty: "uid_t",
    },
    ArgSpec {
        name: "requested_pgid_list",
        ty: "gid_t *",
    },
    ArgSpec {
        name: "requested_npgid",
        ty: "int",
    },
    ArgSpec {
        name: "requested_sgid_list",
        ty: "gid_t *",
    },
    ArgSpec {
        name: "requested_nsgid",
        ty: "int",
    },
    ArgSpec {
        name: "requested_poolindex",
        ty: "char *",
    },
    ArgSpec {
        name: "requested_username",
        ty: "char *",
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
    ArgSpec {
        name: "px509_cred",
        ty: "X509 *",
    },
    ArgSpec {
        name: "px509_chain",
        ty: "STACK_OF(X509) *",
    },
    ArgSpec {
        name: "user_cred",
        ty: "gss_cred_id_t",
    },
    ArgSpec {
        name: "gss_context",
        ty: "gss_ctx_id_t",
    },
    // lcmaps-rs's own: the bearer token of a token run (NULL otherwise).
    ArgSpec {
        name: "bearer_token",
        ty: "char *",
    },
];

/// True when LCMAPS knows the run variable `(name, ty)`.
pub fn is_run_variable(name: &str, ty: &str) -> bool {
    RUN_VARIABLES.iter().any(|a| a.name == name && a.ty == ty)
}

/// The request a mapping runs on: LCMAPS's run variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `user_dn`.
    pub user_dn: Option<String>,
    /// `fqan_list` / `nfqan`.
    pub fqans: Vec<String>,
    /// `mapcounter` (0 when unused).
    pub mapcounter: i32,
    /// `job_request` (RSL/JDL).
    pub job_request: Option<String>,
    /// `requested_username`.
    pub requested_username: Option<String>,
    /// `requested_uid` (verification mode; `None` is LCMAPS's -1).
    pub requested_uid: Option<u32>,
    /// `requested_pgid_list`.
    pub requested_pgids: Vec<u32>,
    /// `requested_sgid_list`.
    pub requested_sgids: Vec<u32>,
    /// `requested_poolindex`.
    pub requested_poolindex: Option<String>,
    /// `pem_string`.
    pub pem: Option<String>,
    /// A bearer token (JWT, WLCG / SciTokens profile) as presented; ours,
    /// not an LCMAPS run variable. Read by `lcmaps_scitokens.mod`.
    pub token: Option<String>,
}

impl Request {
    /// A request for a DN and its FQANs.
    pub fn with_dn(dn: impl Into<String>) -> Self {
        Request {
            user_dn: Some(dn.into()),
            ..Request::default()
        }
    }
}

/// What a running plugin sees: the request and the credential store.
#[derive(Debug)]
pub struct RunContext<'a> {
    /// The run variables.
    pub request: &'a Request,
    /// The store of the current policy.
    pub store: &'a mut Store,
}

impl RunContext<'_> {
    /// `addCredentialData`.
    pub fn add(&mut self, data: CredData) {
        self.store.add(data);
    }

    /// The DN: the store's if a plugin put one there, else the request's.
    pub fn dn(&self) -> Option<&str> {
        self.store.dn.as_deref().or(self.request.user_dn.as_deref())
    }
}

/// Inside `impl Plugin for T`: `run`, `verify` and `has_verify` (true) all
/// through one method `fn $method(&mut self, ctx, verify: bool) -> Status`,
/// as the standard plugins share their run and verification code.
#[macro_export]
macro_rules! run_and_verify_with {
    ($method:ident) => {
        fn run(&mut self, ctx: &mut $crate::plugin::RunContext<'_>) -> $crate::plugin::Status {
            self.$method(ctx, false)
        }

        fn has_verify(&self) -> bool {
            true
        }

        fn verify(&mut self, ctx: &mut $crate::plugin::RunContext<'_>) -> $crate::plugin::Status {
            self.$method(ctx, true)
        }
    };
}

/// An LCMAPS plugin running inside the engine.
pub trait Plugin: Send {
    /// `plugin_initialize(argc, argv)`; `argv[0]` is the module's path.
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError>;

    /// `plugin_introspect`: the run variables this plugin reads.
    fn introspect(&self) -> Vec<ArgSpec> {
        Vec::new()
    }

    /// `plugin_run`.
    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status;

    /// Whether the plugin has `plugin_verify` (plugins without one are
    /// "old style" and cannot take part in verification mode).
    fn has_verify(&self) -> bool {
        false
    }

    /// `plugin_verify`; only called when [`Plugin::has_verify`] is true.
    fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let _ = ctx;
        Status::Failure
    }

    /// `plugin_terminate`.
    fn terminate(&mut self) -> Result<(), PluginError> {
        Ok(())
    }

    /// Whether running it changes the identity of the process (posix_enf).
    /// Dry runs skip such plugins and report what they would have done.
    fn enforces_identity(&self) -> bool {
        false
    }
}

/// Module file names of the built-in plugins.
pub fn builtin_names() -> &'static [&'static str] {
    &["lcmaps_dummy_good.mod", "lcmaps_dummy_bad.mod"]
}

/// A fresh instance of the built-in plugin for module file name `module`
/// (the file name only; a path never selects a built-in).
pub fn builtin(module: &str) -> Option<Box<dyn Plugin>> {
    match module {
        "lcmaps_dummy_good.mod" => Some(Box::new(DummyGood::default())),
        "lcmaps_dummy_bad.mod" => Some(Box::new(DummyBad)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry() {
        for n in builtin_names() {
            assert!(builtin(n).is_some(), "{n}");
        }
        assert!(builtin("/usr/lib/lcmaps/lcmaps_dummy_good.mod").is_none());
        assert!(is_run_variable("px509_chain", "STACK_OF(X509) *"));
        assert!(!is_run_variable("user_dn", "char*"));
        assert_eq!(Status::from_code(0), Status::Success);
        assert_eq!(Status::from_code(-1), Status::Failure);
    }
}
