//! glexec's privilege separation (issue #18), the parts both sides share.
//!
//! The set-uid root part of glexec parses nothing an attacker wrote except
//! the site's own files and the fixed-format answer of its mapping helper.
//! The helper runs as an unprivileged account and does the parsing work
//! (proxy chain, VOMS attributes, tokens, the XACML callout, LCAS and LCMAPS
//! with every plugin). This crate is what passes between them:
//!
//! * [`wire`]: the [`Request`] the root part sends (credential bytes as read
//!   by the caller, the caller's identity, the mode) and the [`Answer`] the
//!   helper gives (a [`Mapping`] or a [`Refusal`]), in a length-prefixed
//!   record format with fixed keys, strict value syntax and size limits;
//! * [`job`]: the typed question ([`Job`]: credential, caller, mode, the
//!   glexec.conf settings the mapping needs) and its encoding as a request;
//! * [`helper`]: starting the helper, feeding it, reading one bounded answer
//!   before a deadline, and killing and reaping it whatever happens;
//! * [`service`]: asking a running mapping service (`glexec-mapper
//!   --serve`) on its Unix socket instead, with the same bounds.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod helper;
pub mod job;
pub mod service;
pub mod wire;

pub use helper::{ask, Helper, HelperFailure};
pub use job::{Job, Mode, Settings};
pub use service::{ask_service, ServiceFailure};
pub use wire::{Answer, Caller, CredentialKind, Mapping, Refusal, RefusalKind, Request};
