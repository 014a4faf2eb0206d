//! Shared logic of the lcmaps-rs basic plugins, with upstream
//! (lcmaps-plugins-basic 1.7.1) behaviour:
//!
//! * [`mapfile`]: the grid-mapfile / ban-file format (`lcmaps_gridmapfile()`),
//!   parsed once per process and re-read when the file changes;
//! * [`fnmatch`]: the wildcard matching upstream gets from `fnmatch(3)` with
//!   `FNM_NOESCAPE`;
//! * [`files`]: the "prefixed file" rule and the privileged-process test;
//! * [`accounts`]: account lookup (`getpwnam`, `getgrouplist`), injectable;
//! * [`gridmapdir`]: the pool-account lease protocol (`lcmaps_gridmapdir()`),
//!   byte-identical lease names, link/rename only;
//! * [`options`]: the declarative option parser of `plugin_initialize`;
//! * [`bearer_token`]: WLCG bearer token discovery, for front ends.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accounts;
pub mod bearer_token;
pub mod context;
pub mod files;
pub mod fnmatch;
pub mod gridmapdir;
pub mod https_url;
pub mod mapfile;
pub mod options;
pub mod urlencode;
