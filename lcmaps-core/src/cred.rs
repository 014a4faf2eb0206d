//! The credential store: what plugins learn about the user during one policy,
//! with LCMAPS's data types and their add semantics.

use std::fmt::Write as _;

/// The data type numbers of `lcmaps_cred_data.h` (`DN`, `UID`, ...), defined
/// once in lcmaps-sys with the rest of the C ABI.
pub use lcmaps_sys::{
    DN, LCMAPS_VO_CRED, LCMAPS_VO_CRED_MAPPING, LCMAPS_VO_CRED_STRING, POOL_INDEX, PRI_GID,
    SEC_GID, UID,
};

/// `lcmaps_vo_data_t`: one VOMS attribute split into its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VoData {
    /// VO name.
    pub vo: Option<String>,
    /// Group.
    pub group: Option<String>,
    /// Subgroup.
    pub subgroup: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// Capability.
    pub capability: Option<String>,
}

/// `lcmaps_vo_mapping_t`: an FQAN mapped to a group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VoMapping {
    /// The FQAN.
    pub vostring: String,
    /// Group name, if known.
    pub groupname: Option<String>,
    /// Group id.
    pub gid: u32,
}

/// One piece of credential data, as plugins add it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredData {
    /// The user's DN (replaces any earlier one).
    Dn(String),
    /// A uid (appended).
    Uid(u32),
    /// A primary gid (appended).
    PriGid(u32),
    /// A secondary gid (added once, kept sorted).
    SecGid(u32),
    /// VO data (appended).
    VoCred(VoData),
    /// An FQAN string (appended).
    VoCredString(String),
    /// An FQAN-to-group mapping (appended).
    VoCredMapping(VoMapping),
    /// The pool index (replaces any earlier one).
    PoolIndex(String),
}

/// The credential store of one policy evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Store {
    /// DN.
    pub dn: Option<String>,
    /// Uids in the order added (duplicates kept, as LCMAPS does).
    pub uids: Vec<u32>,
    /// Primary gids in the order added.
    pub pri_gids: Vec<u32>,
    /// Secondary gids, unique and ascending.
    pub sec_gids: Vec<u32>,
    /// VO data.
    pub vo_data: Vec<VoData>,
    /// VO (FQAN) strings.
    pub vo_strings: Vec<String>,
    /// VO mappings.
    pub vo_mappings: Vec<VoMapping>,
    /// Pool index.
    pub pool_index: Option<String>,
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add data with LCMAPS's `addCredentialData` semantics.
    pub fn add(&mut self, data: CredData) {
        match data {
            CredData::Dn(d) => self.dn = Some(d),
            CredData::Uid(u) => self.uids.push(u),
            CredData::PriGid(g) => self.pri_gids.push(g),
            CredData::SecGid(g) => {
                if let Err(pos) = self.sec_gids.binary_search(&g) {
                    self.sec_gids.insert(pos, g);
                }
            }
            CredData::VoCred(v) => self.vo_data.push(v),
            CredData::VoCredString(s) => self.vo_strings.push(s),
            CredData::VoCredMapping(m) => self.vo_mappings.push(m),
            CredData::PoolIndex(p) => self.pool_index = Some(p),
        }
    }

    /// Forget everything (`lcmaps_cleanCredentialData`).
    pub fn clear(&mut self) {
        *self = Store::default();
    }

    /// True when the store holds what a mapping needs: a uid and a primary gid.
    pub fn is_mapped(&self) -> bool {
        !self.uids.is_empty() && !self.pri_gids.is_empty()
    }

    /// The `LCMAPS CRED FINAL:` summary line, exactly as LCMAPS words it,
    /// or `None` when it would be empty (LCMAPS then logs nothing).
    pub fn final_line(&self) -> Option<String> {
        let mut s = String::new();
        if let Some(dn) = &self.dn {
            let _ = write!(s, "DN:\"{dn}\"");
            if !self.uids.is_empty() || !self.pri_gids.is_empty() || !self.sec_gids.is_empty() {
                s.push_str("->");
            }
        }
        for u in &self.uids {
            let _ = write!(s, "mapped uid:'{u}'");
        }
        for g in &self.pri_gids {
            let _ = write!(s, ",pgid:'{g}'");
        }
        for g in &self.sec_gids {
            let _ = write!(s, ",sgid:'{g}'");
        }
        (!s.is_empty()).then(|| format!("LCMAPS CRED FINAL: {s}"))
    }

    /// Log the final credentials as `lcmaps_printCredData` does.
    pub fn log_final(&self) {
        if !log::log_enabled!(log::Level::Error) {
            return;
        }
        // The summary line is NOTICE: not formatted when the logger would
        // drop it (LCMAPS_DEBUG_LEVEL below 3), which is most mappings.
        if log::log_enabled!(target: crate::log::NOTICE_TARGET, log::Level::Info) {
            if let Some(line) = self.final_line() {
                crate::log::notice(&line);
            }
        }
        let n = self.vo_strings.len();
        for (i, v) in self.vo_strings.iter().enumerate() {
            log::info!(
                "LCMAPS CRED FINAL: VO credential string  : {v}  [{}/{n}]",
                i + 1
            );
        }
        for m in &self.vo_mappings {
            match &m.groupname {
                Some(g) => crate::log::notice(&format!(
                    "LCMAPS CRED FINAL: FQAN:\"{}\"->mapped group:{}({g})",
                    m.vostring, m.gid
                )),
                None => crate::log::notice(&format!(
                    "LCMAPS CRED FINAL: FQAN:\"{}\"->mapped group:{}",
                    m.vostring, m.gid
                )),
            }
        }
        if let Some(p) = &self.pool_index {
            log::debug!("LCMAPS CRED FINAL: POOL_INDEX:\"{p}\"");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_semantics() {
        let mut s = Store::new();
        s.add(CredData::Dn("/CN=a".into()));
        s.add(CredData::Dn("/CN=b".into()));
        s.add(CredData::Uid(5));
        s.add(CredData::Uid(5));
        s.add(CredData::PriGid(7));
        s.add(CredData::PriGid(7));
        for g in [30, 10, 20, 10, 30] {
            s.add(CredData::SecGid(g));
        }
        s.add(CredData::PoolIndex("x".into()));
        s.add(CredData::PoolIndex("y".into()));
        assert_eq!(s.dn.as_deref(), Some("/CN=b"));
        assert_eq!(s.uids, [5, 5]);
        assert_eq!(s.pri_gids, [7, 7]);
        assert_eq!(s.sec_gids, [10, 20, 30]);
        assert_eq!(s.pool_index.as_deref(), Some("y"));
        assert!(s.is_mapped());
        s.clear();
        assert_eq!(s, Store::new());
        assert!(!s.is_mapped());
    }

    #[test]
    fn final_line_wording() {
        let mut s = Store::new();
        assert_eq!(s.final_line(), None);
        s.add(CredData::Dn("/DC=org/CN=Jane".into()));
        assert_eq!(
            s.final_line().unwrap(),
            "LCMAPS CRED FINAL: DN:\"/DC=org/CN=Jane\""
        );
        s.add(CredData::Uid(501));
        s.add(CredData::PriGid(500));
        s.add(CredData::SecGid(1001));
        s.add(CredData::SecGid(500));
        assert_eq!(
            s.final_line().unwrap(),
            "LCMAPS CRED FINAL: DN:\"/DC=org/CN=Jane\"->mapped uid:'501',pgid:'500',sgid:'500',sgid:'1001'"
        );
    }
}
