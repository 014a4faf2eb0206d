//! Pool leases for the voms pool plugins: `lcmaps-plugin-common`'s
//! gridmapdir protocol, plus the verification-mode lookup of an existing
//! lease without a requested account (voms_poolgroup never has one), which
//! upstream's `get_pool_mapping()` does with ONLY_USE_EXISTING_LEASE.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;

use lcmaps_plugin_common::gridmapdir::{self, pool_match, Lease, Request};
use lcmaps_plugin_common::mapfile::{self, Select};
use lcmaps_plugin_common::urlencode::{lease_name, urlencode};

/// `lcmaps_gridmapdir()`: `req.dn` is the mapfile key (an FQAN here),
/// `req.leasename` the name of the lease before encoding.
pub(crate) fn lookup(req: &Request<'_>) -> Result<Option<Lease>, String> {
    if req.options.only_existing && req.requested.is_none() {
        existing(req)
    } else {
        gridmapdir::lookup(req)
    }
}

/// Whether a gridmapdir entry can be a pool entry of `pool`.
fn candidate(name: &str, pool: &str, strict: bool) -> bool {
    !name.starts_with('%')
        && !name.starts_with('.')
        && name != "root"
        && !name.contains('~')
        && pool_match(name, pool, strict)
}

/// Verification: the pool entry the existing lease is linked to, if it
/// belongs to the pool the mapfile gives; never creates or touches anything.
fn existing(req: &Request<'_>) -> Result<Option<Lease>, String> {
    let hit = mapfile::gridmapfile(
        req.mapfile,
        req.dn,
        req.options.wildcards,
        Select::Include("."),
        true,
    )
    .map_err(|e| e.to_string())?;
    let Some(mapping) = hit.and_then(|h| h.mapping) else {
        log::info!("no pool mapping for \"{}\" in the mapfile", req.dn);
        return Ok(None);
    };
    let pool = &mapping[1..];
    if pool.is_empty() {
        return Err(format!("empty pool name in mapfile for \"{}\"", req.dn));
    }
    let encoded = String::from_utf8(urlencode(&lease_name(req.leasename, req.mapcounter)))
        .map_err(|_| "lease name is not valid UTF-8".to_string())?;
    if !encoded.starts_with('%') || encoded.contains('/') {
        return Err(format!(
            "refusing lease name \"{encoded}\": a lease must start with '%' and contain no '/'"
        ));
    }
    gridmapdir::Gridmapdir::open(req.dir)?;
    let lpath = req.dir.join(&encoded);
    let m = match std::fs::symlink_metadata(&lpath) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            log::info!("no existing lease \"{encoded}\" in {}", req.dir.display());
            return Ok(None);
        }
        Err(e) => return Err(format!("cannot stat lease \"{}\": {e}", lpath.display())),
        Ok(m) => m,
    };
    if !m.file_type().is_file() {
        return Err(format!("lease is not a regular file: \"{encoded}\""));
    }
    match m.nlink() {
        1 => return Ok(None),
        2 => {}
        n => return Err(format!("too many links (={n}) to \"{encoded}\"")),
    }
    let entries = std::fs::read_dir(req.dir)
        .map_err(|e| format!("cannot read {}: {e}", req.dir.display()))?;
    for e in entries.flatten() {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if name == encoded || name.starts_with('%') {
            continue;
        }
        let Ok(o) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        if o.dev() == m.dev() && o.ino() == m.ino() {
            if candidate(&name, pool, req.options.strict_prefix) {
                return Ok(Some(Lease {
                    account: name,
                    encoded,
                }));
            }
            log::info!("wrong pool-entry {name} for pool {pool} and hard link named \"{encoded}\"");
            return Ok(None);
        }
    }
    Ok(None)
}
