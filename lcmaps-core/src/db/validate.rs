//! From the syntax tree to a validated [`Config`], reporting everything
//! LCMAPS would reject and everything it would only find out at run time.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::ast::{Ast, Item, RuleAst, Span, VarValue, Word};
use super::values::{self, TokenizeError};
use crate::diag::{Diagnostic, Source};
use crate::env::{self, ModuleDirs};

/// A plugin as the engine loads it: one per distinct declaration value used
/// by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDecl {
    /// The name rules use: the variable name, or the module word itself.
    pub name: String,
    /// The module file name (first word of the value).
    pub module: String,
    /// The argument string after the module name, as LCMAPS keeps it.
    pub arg_string: Option<String>,
    /// The argument tokens (`argv[1..]` of `plugin_initialize`).
    pub args: Vec<String>,
    /// Line of the declaration (or of the first rule naming the module).
    pub line: usize,
    /// The module file, when one was found.
    pub file: Option<PathBuf>,
    /// The engine has this module built in.
    pub builtin: bool,
}

/// One rule, with plugins as indices into [`Config::plugins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The plugin that runs in this state.
    pub state: usize,
    /// Next state on success.
    pub on_success: Option<usize>,
    /// Next state on failure.
    pub on_failure: Option<usize>,
    /// Source line.
    pub line: usize,
}

/// A named policy: its rules in file order; the first rule is the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The label.
    pub name: String,
    /// Line of the label.
    pub line: usize,
    /// Rules in file order.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The first rule whose state is `plugin` (LCMAPS's `lcmaps_find_state`
    /// on substituted names).
    pub fn rule_for(&self, plugin: usize) -> Option<&Rule> {
        self.rules.iter().find(|r| r.state == plugin)
    }
}

/// A validated lcmaps.db.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (as named by the user).
    pub file: String,
    /// Module search directories (the db's `path` when set).
    pub modules: ModuleDirs,
    /// Plugins in order of first use.
    pub plugins: Vec<PluginDecl>,
    /// Policies in file order (empty ones dropped).
    pub policies: Vec<Policy>,
}

impl Config {
    /// Index of the plugin whose rule name is `name`.
    pub fn plugin_index(&self, name: &str) -> Option<usize> {
        self.plugins.iter().position(|p| p.name == name)
    }
}

/// What the validator needs to know about the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOptions {
    /// `LCMAPS_MODULES_DIR`.
    pub modules_dir: Option<PathBuf>,
    /// The compiled-in module directory.
    pub mod_home: PathBuf,
    /// Module file names the engine has built in.
    pub builtins: Vec<String>,
    /// Take every module as present, built in or not: for a reader of the
    /// declarations that loads nothing (glexec's root part, which reads only
    /// the tracking plugin's options).
    pub assume_modules: bool,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            modules_dir: None,
            mod_home: env::MOD_HOME.into(),
            builtins: crate::plugin::builtin_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            assume_modules: false,
        }
    }
}

struct Var {
    name: Word,
    /// The value, or the aliased name.
    value: String,
    alias: bool,
    decl_span: Span,
    /// Span of the value part, for argument diagnostics.
    value_span: Span,
    /// The value had an error already reported.
    broken: bool,
}

struct PolicyAst {
    name: Word,
    rules: Vec<RuleAst>,
}

/// Validate a parsed file. Returns the configuration, unless there was an
/// error, and every diagnostic found (errors and warnings).
pub fn validate(
    src: &Source<'_>,
    ast: &Ast,
    opts: &ValidateOptions,
) -> (Option<Config>, Vec<Diagnostic>) {
    let mut v = Validator {
        src,
        diags: Vec::new(),
        file_ids: HashMap::new(),
    };
    let config = v.run(ast, opts);
    let has_error = v.diags.iter().any(Diagnostic::is_error);
    (if has_error { None } else { config }, v.diags)
}

struct Validator<'s, 'a> {
    src: &'s Source<'a>,
    diags: Vec<Diagnostic>,
    /// Device and inode of each module file found (from the stat that
    /// found it), for [`Validator::check_same_module`].
    file_ids: HashMap<PathBuf, (u64, u64)>,
}

impl Validator<'_, '_> {
    fn at(&self, span: Span) -> crate::diag::Location {
        self.src.location(span.start, span.end)
    }

    fn line(&self, span: Span) -> usize {
        self.src.line_of(span.start)
    }

    fn error(&mut self, span: Span, msg: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic::error(msg).at(self.at(span)).hint(hint);
        self.diags.push(d);
    }

    fn warning(&mut self, span: Span, msg: impl Into<String>, hint: impl Into<String>) {
        let d = Diagnostic::warning(msg).at(self.at(span)).hint(hint);
        self.diags.push(d);
    }

    fn run(&mut self, ast: &Ast, opts: &ValidateOptions) -> Option<Config> {
        let (path, vars, policies, saw_bad) = self.collect(ast);
        let by_name: HashMap<&str, usize> = vars
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.text.as_str(), i))
            .collect();
        let finals = self.resolve_declarations(&vars, &by_name);

        // As LCMAPS, a rule is checked against the policies defined before
        // its own (a policy may share its name with a plugin declaration).
        let mut policy_names: HashMap<&str, &Word> = HashMap::new();
        // Rule words already reported as policy names (no second error).
        let mut reported_words: HashSet<String> = HashSet::new();
        let mut kept = Vec::new();
        for p in &policies {
            if p.rules.is_empty() {
                self.warning(
                    p.name.span,
                    format!("policy `{}` has no rules; LCMAPS ignores it", p.name.text),
                    "add rules under the label, or remove it",
                );
                continue;
            }
            self.check_policy(p, &policy_names, &mut reported_words);
            policy_names.insert(p.name.text.as_str(), &p.name);
            kept.push(p);
        }
        if ast.items.is_empty() {
            self.diags.push(
                Diagnostic::warning(format!(
                    "{} is empty: no policy, nothing can be mapped",
                    self.src.name()
                ))
                .hint("declare plugins and at least one policy; see lcmaps.db(5)"),
            );
            return None;
        }
        if policies.is_empty() && !saw_bad {
            self.diags.push(
                Diagnostic::error(format!(
                    "{} has no policy: every mapping would fail",
                    self.src.name()
                ))
                .hint("add a policy: a label line `name:` followed by rules such as `a -> b`"),
            );
        }

        // Module search path.
        let db_path = path.as_ref().map(|w| env::absolute_db_path(&w.text));
        let modules = ModuleDirs {
            db_path: db_path.clone(),
            modules_dir: opts.modules_dir.clone(),
            mod_home: opts.mod_home.clone(),
        };

        // Substitute variables and collect the plugins rules use.
        let mut plugins: Vec<PluginDecl> = Vec::new();
        let mut values: HashMap<String, usize> = HashMap::new();
        let mut used_vars: HashSet<usize> = HashSet::new();
        let mut out_policies = Vec::new();
        for p in &kept {
            let mut rules = Vec::new();
            for r in &p.rules {
                let mut idx = |w: &Word, this: &mut Self| {
                    this.plugin_for(
                        w,
                        &vars,
                        &by_name,
                        &finals,
                        &modules,
                        opts,
                        &mut plugins,
                        &mut values,
                        &mut used_vars,
                        &mut reported_words,
                    )
                };
                let state = idx(&r.state, self);
                let on_success = r.on_success.as_ref().map(|w| idx(w, self));
                let on_failure = r.on_failure.as_ref().map(|w| idx(w, self));
                if let (Some(state), Some(s), Some(f)) = (
                    state,
                    on_success.unwrap_or(Some(0)),
                    on_failure.unwrap_or(Some(0)),
                ) {
                    rules.push(Rule {
                        state,
                        on_success: on_success.map(|_| s),
                        on_failure: on_failure.map(|_| f),
                        line: self.line(r.span),
                    });
                }
            }
            // States that are different words but the same plugin.
            let mut seen: HashMap<usize, &RuleAst> = HashMap::new();
            for (r, ra) in rules.iter().zip(&p.rules) {
                if let Some(first) = seen.get(&r.state) {
                    if first.state.text != ra.state.text {
                        self.warning(
                            ra.state.span,
                            format!(
                                "`{}` and `{}` (line {}) are the same plugin, so LCMAPS only ever \
                                 follows the rule on line {}",
                                ra.state.text,
                                first.state.text,
                                self.line(first.span),
                                self.line(first.span)
                            ),
                            "give each state its own declaration, or merge the two rules",
                        );
                    }
                } else {
                    seen.insert(r.state, ra);
                }
            }
            out_policies.push(Policy {
                name: p.name.text.clone(),
                line: self.line(p.name.span),
                rules,
            });
        }

        // Declared but never used.
        for (i, var) in vars.iter().enumerate() {
            if !used_vars.contains(&i) && !var.broken {
                self.warning(
                    var.name.span,
                    format!(
                        "plugin `{}` is declared but no rule uses it; it is not loaded",
                        var.name.text
                    ),
                    "use it in a policy, or remove the declaration",
                );
            }
        }

        // The path itself.
        if let (Some(w), Some(dir)) = (&path, &db_path) {
            if !dir.is_dir() {
                let needed = plugins
                    .iter()
                    .any(|p| !p.builtin && !p.module.starts_with('/'));
                let msg = format!("module directory {} does not exist", dir.display());
                let hint = "fix `path`, or install the plugins (Debian: /usr/lib/lcmaps)";
                if needed {
                    self.error(w.span, msg, hint);
                } else {
                    self.warning(
                        w.span,
                        format!("{msg} (only built-in plugins are used)"),
                        hint,
                    );
                }
            }
        }

        self.check_same_module(&plugins, &vars, &by_name);

        Some(Config {
            file: self.src.name().to_string(),
            modules,
            plugins,
            policies: out_policies,
        })
    }

    /// Walk the items in order: declarations first, then labels and rules.
    fn collect(&mut self, ast: &Ast) -> (Option<Word>, Vec<Var>, Vec<PolicyAst>, bool) {
        let mut path: Option<(Word, usize)> = None;
        let mut vars: Vec<Var> = Vec::new();
        let mut seen_vars: HashMap<String, usize> = HashMap::new();
        let mut policies: Vec<PolicyAst> = Vec::new();
        let mut seen_policies: HashMap<String, usize> = HashMap::new();
        let mut first_label: Option<usize> = None;
        let mut saw_bad = false;
        for item in &ast.items {
            match item {
                Item::Bad { span } => {
                    saw_bad = true;
                    // `name = <broken value>`: remember the name so that rules
                    // using it do not add "not declared" errors to the real one.
                    let text = &self.src.text()[span.start..span.end];
                    let name_len = text
                        .find(|c: char| !(c.is_ascii_alphanumeric() || "_./".contains(c)))
                        .unwrap_or(text.len());
                    if name_len > 0
                        && first_label.is_none()
                        && text[name_len..]
                            .trim_start_matches([' ', '\t'])
                            .starts_with('=')
                        && !seen_vars.contains_key(&text[..name_len])
                    {
                        let name = Word {
                            text: text[..name_len].to_string(),
                            span: Span {
                                start: span.start,
                                end: span.start + name_len,
                            },
                        };
                        seen_vars.insert(name.text.clone(), vars.len());
                        vars.push(Var {
                            name,
                            value: String::new(),
                            alias: false,
                            decl_span: *span,
                            value_span: *span,
                            broken: true,
                        });
                    }
                }
                Item::Path {
                    value,
                    quoted,
                    span,
                } => {
                    if let Some(l) = first_label {
                        self.error(
                            *span,
                            "`path` after the first policy",
                            format!("move it above the first policy label (line {l})"),
                        );
                        continue;
                    }
                    match value {
                        None => self.warning(
                            *span,
                            "empty `path =`: LCMAPS ignores this line",
                            "give the module directory, or remove the line",
                        ),
                        Some(w) => {
                            if *quoted {
                                self.warning(
                                    w.span,
                                    "quotes around the path are ignored",
                                    "write the directory without quotes: `path = /usr/lib/lcmaps`",
                                );
                            }
                            if let Some((first, line)) = &path {
                                self.warning(
                                    *span,
                                    format!(
                                        "`path` is already set to {} on line {line}; this one is ignored",
                                        first.text
                                    ),
                                    "keep one `path` line",
                                );
                            } else {
                                path = Some((w.clone(), self.line(*span)));
                            }
                        }
                    }
                }
                Item::Var { name, value, span } => {
                    if let Some(l) = first_label {
                        self.error(
                            name.span,
                            format!("declaration of `{}` after the first policy", name.text),
                            format!(
                                "LCMAPS reads declarations only before the first policy label \
                                 (line {l}); move it up"
                            ),
                        );
                        continue;
                    }
                    if let Some(&prev) = seen_vars.get(&name.text) {
                        let prev_line = self.line(vars[prev].decl_span);
                        self.error(
                            name.span,
                            format!("`{}` is already declared on line {prev_line}", name.text),
                            "rename one of the two declarations, or remove one",
                        );
                        continue;
                    }
                    let mut broken = false;
                    let (text, alias, value_span) = match value {
                        VarValue::Alias(w) => (w.text.clone(), true, w.span),
                        VarValue::Strings(lits) => {
                            let mut tokens = Vec::new();
                            for lit in lits {
                                match values::literal_tokens(&lit.body) {
                                    Ok(t) => tokens.extend(t),
                                    Err(e) => {
                                        broken = true;
                                        self.error(
                                        lit.span,
                                        format!(
                                            "this string has {} `\\\"`; LCMAPS only accepts them in pairs",
                                            e.count
                                        ),
                                        "write `\\\"` twice around a quoted argument, e.g. \
                                         \"-dn \\\"cn=Manager,dc=x\\\"\"",
                                        )
                                    }
                                }
                            }
                            let span = Span {
                                start: lits.first().map(|l| l.span.start).unwrap_or(span.start),
                                end: lits.last().map(|l| l.span.end).unwrap_or(span.end),
                            };
                            (values::join_tokens(tokens), false, span)
                        }
                    };
                    seen_vars.insert(name.text.clone(), vars.len());
                    vars.push(Var {
                        name: name.clone(),
                        value: text,
                        alias,
                        decl_span: *span,
                        value_span,
                        broken,
                    });
                }
                Item::Label { name } => {
                    let line = self.line(name.span);
                    let line_start = self.src.text()[..name.span.start]
                        .rfind('\n')
                        .map_or(0, |i| i + 1);
                    if !self.src.text()[line_start..name.span.start]
                        .trim_matches([' ', '\t'])
                        .is_empty()
                    {
                        self.error(
                            name.span,
                            format!("policy label `{}:` must start its own line", name.text),
                            "put the label on a line of its own, before the policy's rules",
                        );
                    }
                    first_label.get_or_insert(line);
                    if let Some(&prev) = seen_policies.get(&name.text) {
                        let prev_line = self.line(policies[prev].name.span);
                        self.error(
                            name.span,
                            format!(
                                "policy `{}` is already defined on line {prev_line}",
                                name.text
                            ),
                            "give each policy its own name",
                        );
                        // Keep parsing its rules into a throwaway policy.
                        policies.push(PolicyAst {
                            name: name.clone(),
                            rules: Vec::new(),
                        });
                        continue;
                    }
                    seen_policies.insert(name.text.clone(), policies.len());
                    policies.push(PolicyAst {
                        name: name.clone(),
                        rules: Vec::new(),
                    });
                }
                Item::Rule(r) => match policies.last_mut() {
                    Some(p) => p.rules.push(r.clone()),
                    None => self.error(
                        r.span,
                        format!("rule `{}` is not in a policy", r.display()),
                        "put a policy label line (`name:`) before the first rule",
                    ),
                },
            }
        }
        // Drop the throwaway duplicates (they were reported).
        let mut seen = HashSet::new();
        policies.retain(|p| seen.insert(p.name.text.clone()));
        (path.map(|(w, _)| w), vars, policies, saw_bad)
    }

    /// For each declaration, the declaration its chain of names ends at:
    /// `a = b`, `b = "lcmaps_x.mod"` makes both end at `b`. A value names
    /// another declaration whether or not it is quoted, as the engine
    /// substitutes either. Chains that run into a loop end at `None`; each
    /// loop is reported once, at the member declared last.
    ///
    /// One pass over all declarations: every declaration is walked once.
    fn resolve_declarations(
        &mut self,
        vars: &[Var],
        by_name: &HashMap<&str, usize>,
    ) -> Vec<Option<usize>> {
        const NEW: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let next = |i: usize| by_name.get(vars[i].value.as_str()).copied();
        let mut finals: Vec<Option<usize>> = vec![None; vars.len()];
        let mut state = vec![NEW; vars.len()];
        let mut path: Vec<usize> = Vec::new();
        for start in 0..vars.len() {
            if state[start] == DONE {
                continue;
            }
            path.clear();
            let mut cur = start;
            let end = loop {
                match state[cur] {
                    DONE => break finals[cur],
                    ON_PATH => {
                        // `cur` is on this walk's path: the path from it on
                        // is a loop. List it from its first-declared member.
                        let from = path.iter().position(|&p| p == cur).expect("on path");
                        let mut cycle = path[from..].to_vec();
                        let first = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, &c)| c)
                            .map_or(0, |(k, _)| k);
                        cycle.rotate_left(first);
                        let last = *cycle.iter().max().expect("a loop has members");
                        let members: Vec<String> = cycle
                            .iter()
                            .map(|&c| {
                                let v = &vars[c];
                                if v.alias {
                                    format!("{} = {}", v.name.text, v.value)
                                } else {
                                    format!("{} = \"{}\"", v.name.text, v.value)
                                }
                            })
                            .collect();
                        self.error(
                            vars[last].name.span,
                            format!(
                                "declarations refer to each other in a loop: {}",
                                members.join(", ")
                            ),
                            "one of them must name a module (`name = \"lcmaps_x.mod ...\"`)",
                        );
                        break None;
                    }
                    _ => {}
                }
                state[cur] = ON_PATH;
                path.push(cur);
                match next(cur) {
                    Some(n) => cur = n,
                    None => break Some(cur),
                }
            };
            for &p in &path {
                state[p] = DONE;
                finals[p] = end;
            }
        }
        finals
    }

    fn check_policy(
        &mut self,
        p: &PolicyAst,
        policies: &HashMap<&str, &Word>,
        reported: &mut HashSet<String>,
    ) {
        // States appear on the left only once; policies are not states.
        let mut states: HashMap<&str, usize> = HashMap::new();
        let mut duplicate = vec![false; p.rules.len()];
        for (i, r) in p.rules.iter().enumerate() {
            if let Some(w) = policies.get(r.state.text.as_str()) {
                reported.insert(r.state.text.clone());
                self.error(
                    r.state.span,
                    format!("`{}` is a policy name and cannot be a state", r.state.text),
                    format!(
                        "policies cannot call each other; the policy is on line {}",
                        self.line(w.span)
                    ),
                );
            }
            for b in [&r.on_success, &r.on_failure].into_iter().flatten() {
                if policies.contains_key(b.text.as_str()) {
                    reported.insert(b.text.clone());
                    self.error(
                        b.span,
                        format!(
                            "`{}` is a policy name; a rule cannot jump to a policy",
                            b.text
                        ),
                        "LCMAPS tries the next policy by itself when one fails; \
                         name a plugin here",
                    );
                }
            }
            if let Some(&prev) = states.get(r.state.text.as_str()) {
                self.error(
                    r.state.span,
                    format!(
                        "state `{}` already has a rule in policy `{}` (line {})",
                        r.state.text,
                        p.name.text,
                        self.line(p.rules[prev].span)
                    ),
                    "a state has one rule; use `a -> b | c` for both outcomes",
                );
                duplicate[i] = true;
            } else {
                states.insert(&r.state.text, i);
            }
        }

        // Cycles reachable from the first rule, and rules never reached.
        // Iterative depth-first search over raw names, as LCMAPS checks
        // before substituting variables.
        let n = p.rules.len();
        let next_of = |w: &Option<Word>| {
            w.as_ref()
                .and_then(|w| states.get(w.text.as_str()).copied())
        };
        let mut color = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut reported: HashSet<(usize, bool)> = HashSet::new();
        let mut stack: Vec<(usize, u8)> = vec![(0, 0)];
        color[0] = 1;
        while let Some((node, step)) = stack.pop() {
            let r = &p.rules[node];
            let (branch, on_true) = match step {
                0 => (&r.on_success, true),
                1 => (&r.on_failure, false),
                _ => {
                    color[node] = 2;
                    continue;
                }
            };
            stack.push((node, step + 1));
            if let Some(t) = next_of(branch) {
                match color[t] {
                    0 => {
                        color[t] = 1;
                        stack.push((t, 0));
                    }
                    1 if reported.insert((node, on_true)) => {
                        let target = branch.as_ref().expect("branch exists");
                        let which = match (
                            r.tilde,
                            r.on_failure.is_some() && r.on_success.is_some(),
                            on_true,
                        ) {
                            (false, true, true) => "success branch",
                            (false, true, false) => "failure branch",
                            _ => "transition",
                        };
                        self.error(
                            target.span,
                            format!(
                                "rule `{}` loops: its {which} `{}` leads back to it",
                                r.display(),
                                target.text
                            ),
                            "LCMAPS refuses policies that can run forever; \
                                 end the chain in a state without a rule of its own",
                        );
                    }
                    _ => {}
                }
            }
        }
        for (i, r) in p.rules.iter().enumerate() {
            if color[i] == 0 && !duplicate[i] {
                self.warning(
                    r.span,
                    format!(
                        "rule `{}` can never run: no path from the first rule of `{}` reaches `{}`",
                        r.display(),
                        p.name.text,
                        r.state.text
                    ),
                    "the first rule of a policy is its start; link this rule from it, or remove it",
                );
            }
        }
    }

    /// The plugin index for a rule word, creating the plugin on first use.
    #[allow(clippy::too_many_arguments)]
    fn plugin_for(
        &mut self,
        w: &Word,
        vars: &[Var],
        by_name: &HashMap<&str, usize>,
        finals: &[Option<usize>],
        modules: &ModuleDirs,
        opts: &ValidateOptions,
        plugins: &mut Vec<PluginDecl>,
        values: &mut HashMap<String, usize>,
        used: &mut HashSet<usize>,
        reported: &mut HashSet<String>,
    ) -> Option<usize> {
        // Follow the chain of names to the final value. Every declaration on
        // the way is used; a declaration already marked has had its whole
        // chain marked, so each is walked once however many rules name it.
        let decl = match by_name.get(w.text.as_str()) {
            None => None,
            Some(&first) => {
                let mut cur = Some(first);
                while let Some(i) = cur.filter(|&i| used.insert(i)) {
                    cur = by_name.get(vars[i].value.as_str()).copied();
                }
                // A loop, reported by `resolve_declarations`.
                Some(finals[first]?)
            }
        };
        let value: &str = decl.map_or(w.text.as_str(), |i| vars[i].value.as_str());
        if let Some(&idx) = values.get(value) {
            return Some(idx);
        }
        if decl.is_some_and(|i| vars[i].broken) {
            return None;
        }
        let (module, arg_string) = values::split_module(value);
        let builtin = opts.assume_modules
            || (!module.starts_with('/') && opts.builtins.iter().any(|b| b == module));
        let file = modules.find_file(module).map(|(path, meta)| {
            use std::os::unix::fs::MetadataExt;
            self.file_ids.insert(path.clone(), (meta.dev(), meta.ino()));
            path
        });
        let (span, value_span) = match decl {
            Some(i) => (vars[i].name.span, vars[i].value_span),
            None => (w.span, w.span),
        };
        let mut ok = true;
        if module.is_empty() {
            self.error(
                value_span,
                format!("`{}` has an empty value: no module to load", w.text),
                "give the module file: `name = \"lcmaps_x.mod [options]\"`",
            );
            return None;
        }
        if file.is_none() && !builtin && reported.insert(value.to_string()) {
            let dirs: Vec<String> = modules
                .search_list()
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            if decl.is_none() {
                let mut hint = String::from(
                    "declare it above the first policy (`name = \"lcmaps_x.mod options\"`)",
                );
                if let Some(s) = closest(&w.text, vars.iter().map(|v| v.name.text.as_str())) {
                    hint = format!("did you mean `{s}`? Otherwise {hint}");
                }
                self.error(
                    w.span,
                    format!(
                        "`{}` is not a declared plugin, and there is no module file `{}` in {}",
                        w.text,
                        w.text,
                        dirs.join(" or ")
                    ),
                    hint,
                );
            } else {
                // Point at the module name itself when it opens the first string.
                let src = &self.src.text()[value_span.start..value_span.end];
                let at = match src.strip_prefix('"') {
                    Some(rest) if rest.starts_with(module) => Span {
                        start: value_span.start + 1,
                        end: value_span.start + 1 + module.len(),
                    },
                    _ => value_span,
                };
                self.error(
                    at,
                    format!("module file `{module}` not found in {}", dirs.join(" or ")),
                    "install the plugin, fix the name, or set `path` to the directory holding it",
                );
            }
            ok = false;
        }
        if module.len() >= values::MAX_MODULE_NAME {
            self.error(
                value_span,
                format!(
                    "module name is {} bytes long; LCMAPS allows {}",
                    module.len(),
                    values::MAX_MODULE_NAME - 1
                ),
                "use a shorter path",
            );
            ok = false;
        }
        let mut args = Vec::new();
        if let Some(a) = arg_string {
            if a.len() > values::MAX_ARG_STRING {
                self.error(
                    value_span,
                    format!(
                        "plugin arguments are {} bytes long; LCMAPS allows {}",
                        a.len(),
                        values::MAX_ARG_STRING
                    ),
                    "shorten the options (long lists belong in the plugin's own files)",
                );
                ok = false;
            }
            match values::tokenize(a, values::ARG_SEPARATORS, values::MAX_OPTION_TOKENS) {
                Ok(t) => args = t,
                Err(TokenizeError::UnmatchedQuote { .. }) => {
                    self.error(
                        value_span,
                        format!("the arguments of `{}` have a `\"` that is never closed", w.text),
                        "LCMAPS splits arguments at blanks; a `\"` must close the argument it opens",
                    );
                    ok = false;
                }
                Err(TokenizeError::TooMany { count, max }) => {
                    self.error(
                        value_span,
                        format!(
                            "`{}` has {count} argument tokens; LCMAPS passes at most {max}",
                            w.text
                        ),
                        "move options into the plugin's configuration file, or drop some",
                    );
                    ok = false;
                }
            }
        }
        if !ok {
            return None;
        }
        let idx = plugins.len();
        plugins.push(PluginDecl {
            name: decl
                .map(|i| vars[i].name.text.clone())
                .unwrap_or_else(|| w.text.clone()),
            module: module.to_string(),
            arg_string: arg_string.map(str::to_string),
            args,
            line: self.line(span),
            file,
            builtin,
        });
        values.insert(value.to_string(), idx);
        Some(idx)
    }

    /// LCMAPS loads each module file once; two argument sets for one file
    /// make `lcmaps_init` fail with "trying to use plugin twice".
    fn check_same_module(
        &mut self,
        plugins: &[PluginDecl],
        vars: &[Var],
        by_name: &HashMap<&str, usize>,
    ) {
        // One module file: the same device and inode (what the dynamic
        // loader compares to tell an object it already loaded), from the
        // stat that found the file.
        let mut first: HashMap<String, usize> = HashMap::new();
        for (i, p) in plugins.iter().enumerate() {
            let key = p
                .file
                .as_ref()
                .and_then(|f| self.file_ids.get(f))
                .map(|(dev, ino)| format!("file {dev}:{ino}"))
                .unwrap_or_else(|| p.module.clone());
            match first.get(&key) {
                None => {
                    first.insert(key, i);
                }
                Some(&j) => {
                    let span = by_name
                        .get(p.name.as_str())
                        .map(|&v| vars[v].name.span)
                        .unwrap_or(Span { start: 0, end: 0 });
                    self.error(
                        span,
                        format!(
                            "module `{}` is used with two different argument sets (`{}` on line {} and `{}` on line {})",
                            p.module, plugins[j].name, plugins[j].line, p.name, p.line
                        ),
                        "LCMAPS loads a module once: declare it once and use that name in every policy",
                    );
                }
            }
        }
    }
}

/// Longest word (in characters) for which a spelling suggestion is sought.
/// The edit distance table is quadratic in the lengths, and nobody mistypes
/// a hundred-character plugin name.
const MAX_SUGGEST_CHARS: usize = 100;

/// The candidate closest to `word` by edit distance, if reasonably close.
fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let word_chars = word.chars().count();
    if word_chars > MAX_SUGGEST_CHARS {
        return None;
    }
    candidates
        .filter_map(|c| {
            let c_chars = c.chars().count();
            let limit = (c_chars.max(word_chars) / 3).max(1);
            // The distance is at least the difference in length.
            if c_chars > MAX_SUGGEST_CHARS || c_chars.abs_diff(word_chars) > limit {
                return None;
            }
            let d = edit_distance(word, c);
            (d <= limit).then_some((d, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), so `bda` is one edit from `bad`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::parse::parse;

    fn check(text: &str) -> (Option<Config>, Vec<Diagnostic>) {
        let src = Source::new("t.db", text);
        let (ast, mut d) = parse(&src);
        let (c, d2) = validate(
            &src,
            &ast,
            &ValidateOptions {
                modules_dir: None,
                mod_home: "/nonexistent".into(),
                builtins: vec![
                    "lcmaps_dummy_good.mod".into(),
                    "lcmaps_dummy_bad.mod".into(),
                ],
                assume_modules: false,
            },
        );
        d.extend(d2);
        (c, d)
    }

    fn messages(text: &str) -> Vec<String> {
        check(text)
            .1
            .into_iter()
            .map(|d| format!("{}:{}", d.location.map(|l| l.line).unwrap_or(0), d.message))
            .collect()
    }

    const GOOD: &str = "good = \"lcmaps_dummy_good.mod\"\nbad = \"lcmaps_dummy_bad.mod\"\n";

    #[test]
    fn a_clean_file() {
        let (c, d) = check(&format!(
            "{GOOD}p:\ngood -> bad | good2\n~bad -> good\ngood2 = x\n"
        ));
        // `good2 = x` after the label is an error.
        assert!(c.is_none());
        assert_eq!(
            d[0].message,
            "declaration of `good2` after the first policy"
        );
        let (c, d) = check(&format!("{GOOD}p:\nbad -> good | lcmaps_dummy_good.mod\n"));
        assert!(d.is_empty(), "{d:#?}");
        let c = c.unwrap();
        assert_eq!(
            c.plugins.len(),
            2,
            "the literal module name and `good` are one plugin"
        );
        assert_eq!(
            c.policies[0].rules[0].on_success,
            c.policies[0].rules[0].on_failure
        );
    }

    #[test]
    fn duplicates() {
        let m = messages(&format!(
            "{GOOD}good = \"x\"\np:\ngood -> bad\ngood -> bad\np:\nbad -> good\n"
        ));
        assert_eq!(
            m,
            [
                "3:`good` is already declared on line 1",
                "7:policy `p` is already defined on line 4",
                "6:state `good` already has a rule in policy `p` (line 5)",
            ]
        );
    }

    #[test]
    fn loops() {
        let m = messages(&format!(
            "{GOOD}a = b\nb = a\np:\ngood -> bad\nbad -> good\n"
        ));
        assert_eq!(
            m,
            [
                "4:declarations refer to each other in a loop: a = b, b = a",
                "7:rule `bad -> good` loops: its transition `good` leads back to it",
                "3:plugin `a` is declared but no rule uses it; it is not loaded",
                "4:plugin `b` is declared but no rule uses it; it is not loaded",
            ]
        );
        let m = messages(&format!("{GOOD}p:\ngood -> bad | good\n"));
        assert_eq!(
            m,
            ["4:rule `good -> bad | good` loops: its failure branch `good` leads back to it"]
        );
        // A diamond is not a loop.
        let (c, d) = check(&format!(
            "{GOOD}c = \"lcmaps_dummy_good.mod\"\np:\ngood -> bad | c\nbad -> c\n"
        ));
        assert!(d.iter().all(|d| !d.is_error()), "{d:#?}");
        assert!(c.is_some());
    }

    #[test]
    fn policies_are_not_states() {
        // As LCMAPS: only policies defined before the rule's own count (line
        // 4 names `q` before `q:` exists; the word is reported once, on 8).
        let m = messages(&format!(
            "{GOOD}p:\ngood -> q\nq:\np -> bad\nr:\nbad -> q\n"
        ));
        assert_eq!(
            m,
            [
                "6:`p` is a policy name and cannot be a state",
                "8:`q` is a policy name; a rule cannot jump to a policy",
            ]
        );
        // A policy may share its name with a plugin declaration.
        let (c, d) = check(&format!("{GOOD}good:\ngood -> bad\n"));
        assert!(d.is_empty(), "{d:#?}");
        assert_eq!(c.unwrap().policies[0].name, "good");
    }

    #[test]
    fn unknown_words_unused_and_unreachable() {
        let m = messages(&format!("{GOOD}p:\ngood -> god\nbad -> good\n"));
        assert_eq!(m, [
            "5:rule `bad -> good` can never run: no path from the first rule of `p` reaches `bad`",
            "4:`god` is not a declared plugin, and there is no module file `god` in /nonexistent",
        ]);
        let d = check(&format!("{GOOD}p:\ngood -> god\n")).1;
        assert_eq!(d[0].hint.as_deref(), Some("did you mean `good`? Otherwise declare it above the first policy (`name = \"lcmaps_x.mod options\"`)"));
        let m = messages(&format!("{GOOD}p:\ngood -> lcmaps_dummy_good.mod\n"));
        assert_eq!(
            m,
            ["2:plugin `bad` is declared but no rule uses it; it is not loaded"]
        );
    }

    #[test]
    fn module_with_two_argument_sets() {
        let m = messages("a = \"lcmaps_dummy_good.mod --dummy-uid 1\"\nb = \"lcmaps_dummy_good.mod --dummy-uid 2\"\np:\na -> b\n");
        assert_eq!(m, ["2:module `lcmaps_dummy_good.mod` is used with two different argument sets (`a` on line 1 and `b` on line 2)"]);
        // Two names with the same value are one plugin, which is fine.
        let (c, d) = check(
            "a = \"lcmaps_dummy_good.mod -x\"\nb = \"lcmaps_dummy_good.mod -x\"\np:\na -> b\n",
        );
        assert_eq!(c.unwrap().plugins.len(), 1);
        assert!(d.is_empty(), "{d:#?}");
    }

    #[test]
    fn one_module_file_under_two_names_with_two_argument_sets() {
        // A symbolic link and a hard link to one file are that file.
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("lcmaps_a.mod");
        std::fs::write(&a, b"not really a module").unwrap();
        std::os::unix::fs::symlink(&a, dir.path().join("lcmaps_sym.mod")).unwrap();
        std::fs::hard_link(&a, dir.path().join("lcmaps_hard.mod")).unwrap();
        for other in ["lcmaps_sym.mod", "lcmaps_hard.mod"] {
            let d = dir.path().display();
            let m = messages(&format!(
                "x = \"{d}/lcmaps_a.mod -x\"\ny = \"{d}/{other} -y\"\np:\nx -> y\n"
            ));
            assert!(
                m.iter()
                    .any(|m| m.contains("is used with two different argument sets")),
                "{other}: {m:?}"
            );
        }
    }

    #[test]
    fn arguments() {
        let (c, d) = check("g = \"lcmaps_dummy_good.mod\" \"--dummy-uid 10\"\n    \"--dummy-gid 20\"\np:\ng -> g2\ng2 = x\n");
        assert!(c.is_none());
        assert_eq!(d[0].message, "declaration of `g2` after the first policy");
        let (c, _) = check("g = \"lcmaps_dummy_good.mod\" \"--dummy-uid 10\"\n    \"--dummy-gid \\\"2 0\\\"\"\np:\ng -> lcmaps_dummy_bad.mod\n");
        let c = c.unwrap();
        assert_eq!(
            c.plugins[0].args,
            ["--dummy-uid", "10", "--dummy-gid", "2 0"]
        );
        let many = vec!["-x"; 50].join(" ");
        let m = messages(&format!(
            "g = \"lcmaps_dummy_good.mod {many}\"\np:\ng -> lcmaps_dummy_bad.mod\n"
        ));
        assert_eq!(
            m,
            ["1:`g` has 50 argument tokens; LCMAPS passes at most 49"]
        );
        let m = messages(
            "g = \"lcmaps_dummy_good.mod -x \\\"a\\\" \\\"b\"\np:\ng -> lcmaps_dummy_bad.mod\n",
        );
        assert_eq!(
            m,
            ["1:this string has 3 `\\\"`; LCMAPS only accepts them in pairs"]
        );
    }

    #[test]
    fn label_mid_line() {
        let m = messages(&format!("{GOOD}p:\ngood -> bad q:\nbad -> good\n"));
        assert_eq!(m[0], "4:policy label `q:` must start its own line");
    }

    #[test]
    fn whole_file_problems() {
        assert_eq!(
            messages(GOOD),
            [
                "0:t.db has no policy: every mapping would fail",
                "1:plugin `good` is declared but no rule uses it; it is not loaded",
                "2:plugin `bad` is declared but no rule uses it; it is not loaded",
            ]
        );
        assert_eq!(
            messages(""),
            ["0:t.db is empty: no policy, nothing can be mapped"]
        );
        assert_eq!(
            messages(&format!("{GOOD}p:\nq:\ngood -> bad\n")),
            ["3:policy `p` has no rules; LCMAPS ignores it"]
        );
        assert_eq!(
            messages("x -> y\n"),
            [
                "1:rule `x -> y` is not in a policy",
                "0:t.db has no policy: every mapping would fail"
            ]
        );
    }

    #[test]
    fn path_checks() {
        let m = messages(&format!("path = /nonexistent/dir\n{GOOD}p:\ngood -> bad\n"));
        assert_eq!(m, ["1:module directory /nonexistent/dir does not exist (only built-in plugins are used)"]);
        let m = messages(&format!(
            "path = /nonexistent/dir\npath = /x\n{GOOD}p:\ngood -> bad\n~bad -> lcmaps_other.mod\n"
        ));
        assert_eq!(m, [
            "2:`path` is already set to /nonexistent/dir on line 1; this one is ignored",
            "7:`lcmaps_other.mod` is not a declared plugin, and there is no module file `lcmaps_other.mod` in /nonexistent/dir",
            "1:module directory /nonexistent/dir does not exist (only built-in plugins are used)",
        ]);
    }

    #[test]
    fn long_chain_does_not_overflow() {
        let mut s = String::from("p:\n");
        for i in 0..10_000 {
            s.push_str(&format!(
                "lcmaps_dummy_good.mod{i} -> lcmaps_dummy_good.mod{}\n",
                i + 1
            ));
        }
        let (_, d) = check(&s);
        // Every word is an unknown module, but nothing loops or overflows.
        assert!(d.iter().all(|d| !d.message.contains("loops")));
    }
}
