//! `lcmaps check`'s warnings for glexec's privilege separation (issue #18):
//! with `privilege_separation = yes`, glexec's mapping helper runs the
//! plugins as `mapping_account`, so every file a plugin names must be
//! readable by that account, and the directories where plugins lease
//! (`-gridmapdir`, `-groupmapdir`) writable by it.
//!
//! The account is `--mapping-account NAME`, or, when the file checked is
//! the `lcmaps_db_file` of an `/etc/glexec.conf` that says
//! `privilege_separation = yes`, its `mapping_account`. Access is computed
//! from owner, group and mode bits along the whole path (ACLs are not
//! looked at), as the kernel would grant it to the account.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use lcmaps_core::db::PluginDecl;
use nix::unistd::{Gid, User};

/// Options whose value is a directory the plugin writes leases into.
const WRITTEN: &[&str] = &["-gridmapdir", "-groupmapdir"];

/// The account the mapping runs as.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its name.
    pub name: String,
    uid: u32,
    gids: Vec<u32>,
}

impl Account {
    /// The account called `name`, with its primary and supplementary groups.
    pub fn lookup(name: &str) -> Result<Account, String> {
        let user = User::from_name(name)
            .map_err(|e| format!("cannot look up {name}: {e}"))?
            .ok_or_else(|| format!("no account {name}"))?;
        let cname = std::ffi::CString::new(name).map_err(|_| format!("bad name {name:?}"))?;
        let mut gids: Vec<u32> = nix::unistd::getgrouplist(&cname, user.gid)
            .unwrap_or_else(|_| vec![user.gid])
            .into_iter()
            .map(Gid::as_raw)
            .collect();
        gids.push(user.gid.as_raw());
        Ok(Account {
            name: name.to_string(),
            uid: user.uid.as_raw(),
            gids,
        })
    }

    /// Whether the account has every permission of `want` (4 read, 2
    /// write, 1 search/execute) on a file with this metadata.
    fn may(&self, m: &std::fs::Metadata, want: u32) -> bool {
        if self.uid == 0 {
            return true;
        }
        let bits = if m.uid() == self.uid {
            m.mode() >> 6
        } else if self.gids.contains(&m.gid()) {
            m.mode() >> 3
        } else {
            m.mode()
        };
        bits & want == want
    }

    /// Why the account cannot use `path` (read it, or with `write` also
    /// write into it), or `Ok` when it can; a path that does not exist is
    /// another check's business (`Ok`).
    fn can_use(&self, path: &Path, write: bool) -> Result<(), String> {
        let Ok(leaf) = std::fs::metadata(path) else {
            return Ok(());
        };
        let mut dir = PathBuf::from("/");
        let parents: Vec<_> = path
            .parent()
            .map(|p| p.components().collect())
            .unwrap_or_default();
        for c in parents {
            dir.push(c);
            let Ok(m) = std::fs::metadata(&dir) else {
                return Ok(());
            };
            if !self.may(&m, 1) {
                return Err(format!(
                    "{} cannot reach {}: directory {} is not searchable by it",
                    self.name,
                    path.display(),
                    dir.display()
                ));
            }
        }
        let want = match (leaf.is_dir(), write) {
            (true, true) => 4 | 2 | 1,
            (true, false) => 4 | 1,
            (false, true) => 4 | 2,
            (false, false) => 4,
        };
        if !self.may(&leaf, want) {
            return Err(format!(
                "{} cannot {} {} (owner uid {}, group {}, mode {:04o})",
                self.name,
                if write { "write to" } else { "read" },
                path.display(),
                leaf.uid(),
                leaf.gid(),
                leaf.mode() & 0o7777
            ));
        }
        Ok(())
    }
}

/// The warnings for `decls`: each absolute path a plugin names (a C
/// plugin's module file too) that `account` cannot read, and each lease directory it cannot
/// write to.
pub fn warnings<'a>(decls: &'a [PluginDecl], account: &Account) -> Vec<(&'a PluginDecl, String)> {
    let mut out = Vec::new();
    for d in decls {
        let mut paths: Vec<(PathBuf, bool)> = Vec::new();
        if let Some(f) = d.file.as_ref().filter(|_| !d.builtin) {
            paths.push((f.clone(), false));
        }
        let mut previous: Option<&str> = None;
        for word in &d.args {
            if word.starts_with('/') {
                let write = previous.is_some_and(|o| WRITTEN.contains(&o));
                paths.push((PathBuf::from(word), write));
            }
            previous = Some(word.as_str());
        }
        for (p, write) in paths {
            if let Err(e) = account.can_use(&p, write) {
                out.push((d, format!("plugin {}: {e}", d.name)));
            }
        }
    }
    out
}

/// The mapping account for checking `file`: `given`, else the
/// `mapping_account` of `/etc/glexec.conf` when it separates privileges
/// and names `file` as its `lcmaps_db_file`.
pub fn for_file(file: &Path, given: Option<&str>) -> Option<String> {
    if let Some(g) = given {
        return Some(g.to_string());
    }
    let conf = glexec_cli::config::CONF_PATH;
    let text = std::fs::read_to_string(conf).ok()?;
    let (cfg, _) = glexec_cli::config::parse(conf, &text).ok()?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    (cfg.privilege_separation && same(&cfg.lcmaps_db_file, file)).then_some(cfg.mapping_account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn decl(module: &str, args: &[&str]) -> PluginDecl {
        PluginDecl {
            name: "p".into(),
            module: module.into(),
            arg_string: None,
            args: args.iter().map(|s| s.to_string()).collect(),
            line: 1,
            file: None,
            builtin: true,
        }
    }

    #[test]
    fn unreadable_files_and_unwritable_lease_directories_are_named() {
        // As an account that owns nothing here: the files' owner is the
        // test's user, `nobody` is another.
        let nobody = Account {
            name: "nobody".into(),
            uid: 65534,
            gids: vec![65534],
        };
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o755);
        let open = dir.path().join("grid-mapfile");
        std::fs::write(&open, "x").unwrap();
        chmod(&open, 0o644);
        let secret = dir.path().join("hostkey.pem");
        std::fs::write(&secret, "x").unwrap();
        chmod(&secret, 0o600);
        let gmd = dir.path().join("gridmapdir");
        std::fs::create_dir(&gmd).unwrap();
        chmod(&gmd, 0o755);
        let hidden = dir.path().join("hidden");
        std::fs::create_dir(&hidden).unwrap();
        std::fs::write(hidden.join("f"), "x").unwrap();
        chmod(&hidden, 0o700);
        let s = |p: &Path| p.display().to_string();
        let decls = [
            decl("lcmaps_localaccount.mod", &["-gridmapfile", &s(&open)]),
            decl("lcmaps_xacml.mod", &["-key", &s(&secret)]),
            decl(
                "lcmaps_poolaccount.mod",
                &["-gridmapfile", &s(&open), "-gridmapdir", &s(&gmd)],
            ),
            decl(
                "lcmaps_x.mod",
                &["-f", &s(&hidden.join("f")), "-g", "/nonexistent/x"],
            ),
        ];
        let w: Vec<String> = warnings(&decls, &nobody)
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(w.len(), 3, "{w:#?}");
        assert!(
            w[0].contains("cannot read") && w[0].contains("hostkey.pem"),
            "{}",
            w[0]
        );
        assert!(
            w[1].contains("cannot write to") && w[1].contains("gridmapdir"),
            "{}",
            w[1]
        );
        assert!(w[2].contains("is not searchable"), "{}", w[2]);
        // The owner of everything: no warning.
        let me = Account {
            name: "me".into(),
            uid: nix::unistd::geteuid().as_raw(),
            gids: vec![],
        };
        assert!(warnings(&decls, &me).is_empty());
    }
}
