//! The module graph of a crate, from its sources: which module names which
//! (`crate::a::b`, `super::x`, `self::y`, in `use` trees or inline paths),
//! and the cycles in it. Edges are counted between siblings: a path from
//! `a::x` to `b::y` is an edge `a -> b` among the children of their common
//! parent, so a cycle at any level shows. Test modules (`#[cfg(test)]` and
//! what follows it in a file) are left out: tests may look anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::Result;

/// A module path inside a crate (`["api", "run"]`; the root is empty).
pub type ModPath = Vec<String>;

/// The modules of the crate whose `src/` is `src` and the edges between
/// siblings (`parent -> (from child, to child)`).
#[derive(Debug, Default)]
pub struct Graph {
    /// Every module found (a file `a.rs` or `a/mod.rs`).
    pub modules: BTreeSet<ModPath>,
    /// `(from, to)` sibling pairs, with the parent module.
    pub edges: BTreeSet<(ModPath, String, String)>,
}

/// Read every `.rs` file under `src` and build the graph.
pub fn graph(src: &Path) -> Result<Graph> {
    let files = rust_files(src)?;
    let mut g = Graph::default();
    let mut sources = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src).expect("under src");
        let Some(module) = module_of(rel) else {
            continue;
        };
        g.modules.insert(module.clone());
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        sources.push((module, text));
    }
    for (module, text) in sources {
        // Without tests and comments (doc links name modules too).
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for target in references(&code, &module) {
            // The longest existing module the path names.
            let mut t = target;
            while !t.is_empty() && !g.modules.contains(&t) {
                t.pop();
            }
            let common = module.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common < module.len() && common < t.len() {
                g.edges.insert((
                    module[..common].to_vec(),
                    module[common].clone(),
                    t[common].clone(),
                ));
            }
        }
    }
    Ok(g)
}

/// The cycles among siblings: each set of modules that reach each other,
/// as `parent: a -> b -> a (among a, b)`.
pub fn cycles(g: &Graph) -> Vec<String> {
    let mut by_parent: BTreeMap<&ModPath, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for (parent, from, to) in &g.edges {
        by_parent
            .entry(parent)
            .or_default()
            .entry(from)
            .or_default()
            .insert(to);
    }
    let mut found = Vec::new();
    for (parent, adj) in by_parent {
        let reach: BTreeMap<&str, BTreeSet<&str>> =
            adj.keys().map(|&n| (n, reachable(&adj, n))).collect();
        let mut seen = BTreeSet::new();
        for (&n, from_n) in &reach {
            if seen.contains(n) || !from_n.contains(n) {
                continue;
            }
            let members: Vec<&str> = from_n
                .iter()
                .copied()
                .filter(|m| reach.get(m).is_some_and(|r| r.contains(n)))
                .collect();
            seen.extend(members.iter().copied());
            let name = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            found.push(format!("{name}: among {}", members.join(", ")));
        }
    }
    found
}

/// Every module `start` reaches in one or more steps.
fn reachable<'a>(adj: &BTreeMap<&'a str, BTreeSet<&'a str>>, start: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![start];
    while let Some(n) = todo.pop() {
        for &m in adj.get(n).into_iter().flatten() {
            if seen.insert(m) {
                todo.push(m);
            }
        }
    }
    seen
}

/// Every `.rs` file under `dir`.
pub fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for e in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let p = e.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                collect(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    collect(dir, &mut out)?;
    Ok(out)
}

/// `lib.rs` -> root, `a.rs` / `a/mod.rs` -> `a`, `a/b.rs` -> `a::b`;
/// `bin/`, `main.rs` and friends -> None (their own crates).
fn module_of(rel: &Path) -> Option<ModPath> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin" || p == "main.rs") {
        return None;
    }
    let last = parts.pop()?;
    match last.as_str() {
        "lib.rs" if parts.is_empty() => {}
        "mod.rs" => {}
        f => parts.push(f.trim_end_matches(".rs").to_string()),
    }
    Some(parts)
}

/// The module paths `code` (of module `module`) names with `crate::`,
/// `super::` or `self::`, `use` trees expanded.
fn references(code: &str, module: &ModPath) -> Vec<ModPath> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let ident_start = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if ident_start {
            for (kw, base) in [
                ("crate::", Some(Vec::new())),
                ("super::", None),
                ("self::", None),
            ] {
                if bytes[i..].starts_with(kw.as_bytes()) {
                    // `self` is this module, `super` its parent (`a.rs` and
                    // `a/mod.rs` are both module `a`).
                    let mut base = base.unwrap_or_else(|| module.clone());
                    let mut j = i + kw.len();
                    if kw == "super::" {
                        base.pop();
                        while bytes[j..].starts_with(b"super::") {
                            base.pop();
                            j += "super::".len();
                        }
                    }
                    let (paths, end) = use_tree(code, j);
                    for p in paths {
                        let mut full = base.clone();
                        full.extend(p);
                        out.push(full);
                    }
                    i = end.max(i + 1);
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

/// Parse a use tree at `code[i..]` (`a::b`, `a::{b, c::d}`, `*`): every
/// leaf path, and where the tree ends.
fn use_tree(code: &str, mut i: usize) -> (Vec<Vec<String>>, usize) {
    let b = code.as_bytes();
    let mut prefix = Vec::new();
    loop {
        if b[i..].starts_with(b"{") {
            i += 1;
            let mut all = Vec::new();
            loop {
                while i < b.len() && (b[i] as char).is_whitespace() {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    return (all, i + 1);
                }
                let (sub, end) = use_tree(code, i);
                for s in sub {
                    let mut p = prefix.clone();
                    p.extend(s);
                    all.push(p);
                }
                i = end;
                // Skip `as x`, up to the next `,` or `}`.
                while i < b.len() && b[i] != b',' && b[i] != b'}' {
                    i += 1;
                }
                if i < b.len() && b[i] == b',' {
                    i += 1;
                }
            }
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i == start {
            return (vec![prefix], i);
        }
        prefix.push(code[start..i].to_string());
        if !b[i..].starts_with(b"::") {
            return (vec![prefix], i);
        }
        i += 2;
    }
}
