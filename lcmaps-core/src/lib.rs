//! lcmaps-core: the lcmaps-rs policy engine.
//!
//! * [`db`] reads, parses and validates `lcmaps.db`;
//! * [`policy::Engine`] loads the plugins and evaluates policies over a
//!   [`cred::Store`];
//! * [`plugin`] is the in-process plugin interface with the built-ins;
//! * [`env`] resolves LCMAPS's environment variables and defaults;
//! * [`log`] writes LCMAPS-format log lines through the `log` facade;
//! * [`trust`] decides whether a privileged process may use a file.
//!
//! ```
//! use lcmaps_core::{db, policy::{BuiltinLoader, Engine, Mode, RunOptions}, plugin::Request};
//! let text = "good = \"lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500\"\n\
//!             standard:\n\
//!             lcmaps_dummy_bad.mod -> good | good\n";
//! let config = db::check_str("lcmaps.db", text, &db::ValidateOptions::default()).config.unwrap();
//! let mut engine = Engine::new(config, &BuiltinLoader).unwrap();
//! let outcome = engine.run(&Request::with_dn("/CN=Jane"), Mode::Run, &RunOptions::default());
//! assert!(outcome.is_mapped());
//! assert_eq!(outcome.store.uids, [501]);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cred;
pub mod db;
pub mod diag;
pub mod env;
pub mod lcas;
pub mod log;
pub mod plugin;
pub mod policy;
pub mod site_file;
#[doc(hidden)]
pub mod testing;
pub mod time;
pub mod trust;
