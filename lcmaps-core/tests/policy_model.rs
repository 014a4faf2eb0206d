//! Property test (issue #15 item 5): the policy engine against a direct
//! interpretation of LCMAPS's rules (spec/lcmaps-spec.md §4.4 and §5.1).
//!
//! Random small lcmaps.db files are written out as text: the built-in
//! `lcmaps_dummy_good.mod` and `lcmaps_dummy_bad.mod`, plus up to four test
//! plugins `mN.mod` whose k-th call succeeds when bit k (mod 8) of their
//! argument is set, so a plugin can succeed in one policy and fail in the
//! next. Rules `a -> b`, `a -> b | c` and `~a -> c` over them, in one to
//! three policies, some empty; a random policy filter; run or verify mode.
//!
//! The model below reads the same structure (not the text) and follows the
//! spec literally: the validity checks LCMAPS makes (a state on the left
//! twice in a policy; a loop reachable from the first rule, found by walking
//! every path; a file whose labels have no rules is accepted and every run
//! fails), and the START / SUCCESS / FAILURE state
//! machine of `lcmaps_runEvaluationManager`, including the filter applied as
//! "status := FAILURE; continue". It shares no code with the engine. The
//! engine must reject exactly the files the model rejects, and otherwise
//! agree on the result, the plugins run (policy, plugin, status, in order),
//! the policy of the result and the uids in the final credential store.

use std::collections::HashMap;

use lcmaps_core::cred::CredData;
use lcmaps_core::db::{self, PluginDecl, ValidateOptions};
use lcmaps_core::plugin::{Plugin, PluginError, Request, RunContext, Status};
use lcmaps_core::policy::{BuiltinLoader, Engine, Mode, PluginLoader, RunOptions};
use proptest::prelude::*;

/// How a state's plugin behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// `lcmaps_dummy_good.mod --dummy-uid 501 --dummy-gid 500`.
    Good,
    /// `lcmaps_dummy_bad.mod`.
    Bad,
    /// `mN.mod <mask>`: call k succeeds iff bit k % 8 is set; adds uid 1000 + N.
    Mask(usize, u8),
}

const GOOD_UID: u32 = 501;

fn mask_uid(n: usize) -> u32 {
    1000 + n as u32
}

/// `state -> on_true | on_false`, `~state -> on_false`, indices into the
/// states.
#[derive(Debug, Clone, Copy)]
struct RuleSpec {
    state: usize,
    on_true: Option<usize>,
    on_false: Option<usize>,
}

#[derive(Debug, Clone)]
struct Case {
    states: Vec<(String, Behaviour)>,
    /// Policies `pol0`, `pol1`, ...; an empty one is a label without rules.
    policies: Vec<Vec<RuleSpec>>,
    /// Caller's policy names (empty: all); may name unknown policies.
    filter: Vec<String>,
    verify: bool,
}

impl Case {
    fn text(&self) -> String {
        let mut t = String::from("# generated\n");
        for (name, b) in &self.states {
            let value = match b {
                Behaviour::Good => {
                    format!("lcmaps_dummy_good.mod --dummy-uid {GOOD_UID} --dummy-gid 500")
                }
                Behaviour::Bad => "lcmaps_dummy_bad.mod".into(),
                Behaviour::Mask(n, m) => format!("m{n}.mod {m}"),
            };
            t.push_str(&format!("{name} = \"{value}\"\n"));
        }
        for (i, rules) in self.policies.iter().enumerate() {
            t.push_str(&format!("\npol{i}:\n"));
            for r in rules {
                let s = &self.states[r.state].0;
                let w = |i: usize| self.states[i].0.as_str();
                let line = match (r.on_true, r.on_false) {
                    (Some(a), None) => format!("{s} -> {}", w(a)),
                    (Some(a), Some(b)) => format!("{s} -> {} | {}", w(a), w(b)),
                    (None, Some(b)) => format!("~{s} -> {}", w(b)),
                    (None, None) => unreachable!("a rule has a branch"),
                };
                t.push_str(&line);
                t.push('\n');
            }
        }
        t
    }
}

// ---------------------------------------------------------------------------
// The model.

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    success: bool,
    /// (policy, state, succeeded) per plugin run.
    trace: Vec<(String, String, bool)>,
    /// The policy of the last plugin run.
    policy: Option<String>,
    uids: Vec<u32>,
}

/// Does some path from rule `at` come back to a rule already on it?
/// (LCMAPS walks every path; the files here are small.)
fn path_loops(rules: &[RuleSpec], at: usize, on_path: &mut Vec<usize>) -> bool {
    if on_path.contains(&at) {
        return true;
    }
    on_path.push(at);
    let r = rules[at];
    let looped = [r.on_true, r.on_false].into_iter().flatten().any(|next| {
        match rules.iter().position(|q| q.state == next) {
            Some(q) => path_loops(rules, q, on_path),
            None => false,
        }
    });
    on_path.pop();
    looped
}

/// `None`: LCMAPS refuses the file.
fn model(case: &Case) -> Option<Outcome> {
    // Labels without rules are dropped.
    let policies: Vec<(String, &Vec<RuleSpec>)> = case
        .policies
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
        .map(|(i, r)| (format!("pol{i}"), r))
        .collect();
    if policies.is_empty() {
        // Accepted (a warning per label); every run fails.
        return Some(Outcome {
            success: false,
            trace: Vec::new(),
            policy: None,
            uids: Vec::new(),
        });
    }
    for (_, rules) in &policies {
        for (i, r) in rules.iter().enumerate() {
            if rules[..i].iter().any(|q| q.state == r.state) {
                return None; // "State 'x' is already in use"
            }
        }
        if path_loops(rules, 0, &mut Vec::new()) {
            return None; // "causes infinite loop"
        }
    }

    // Plugins: result of the k-th call, and what a success adds.
    let mut calls: HashMap<usize, u32> = HashMap::new();
    let mut run_plugin = |state: usize, uids: &mut Vec<u32>| -> bool {
        let k = calls.entry(state).or_insert(0);
        let call = *k;
        *k += 1;
        match case.states[state].1 {
            Behaviour::Good => {
                // plugin_verify of the dummy adds nothing.
                if !case.verify {
                    uids.push(GOOD_UID);
                }
                true
            }
            Behaviour::Bad => false,
            Behaviour::Mask(n, m) => {
                let ok = m >> (call % 8) & 1 == 1;
                if ok {
                    uids.push(mask_uid(n));
                }
                ok
            }
        }
    };
    let find = |p: usize, state: Option<usize>| -> Option<RuleSpec> {
        let s = state?;
        policies[p].1.iter().copied().find(|r| r.state == s)
    };

    #[derive(Clone, Copy, PartialEq)]
    enum St {
        Start,
        Success,
        Failure,
    }
    let mut status = St::Start;
    let mut policy = 0usize;
    let mut rule: Option<RuleSpec> = None;
    let mut next: Option<usize>;
    let mut last_policy: Option<usize> = None;
    let mut out = Outcome {
        success: false,
        trace: Vec::new(),
        policy: None,
        uids: Vec::new(),
    };
    loop {
        match status {
            St::Start => {
                policy = 0;
                rule = Some(policies[0].1[0]);
                next = rule.map(|r| r.state);
            }
            St::Success => {
                next = rule.and_then(|r| r.on_true);
                rule = find(policy, next);
            }
            St::Failure => match rule.filter(|r| r.on_false.is_some()) {
                Some(r) => {
                    next = r.on_false;
                    rule = find(policy, next);
                }
                None => {
                    policy += 1;
                    if policy < policies.len() {
                        rule = Some(policies[policy].1[0]);
                        next = rule.map(|r| r.state);
                    } else {
                        rule = None;
                        next = None;
                    }
                }
            },
        }
        let Some(state) = next else { break };
        let name = &policies[policy].0;
        if !case.filter.is_empty() && !case.filter.contains(name) {
            status = St::Failure;
            continue;
        }
        if last_policy != Some(policy) {
            out.uids.clear();
            last_policy = Some(policy);
        }
        let ok = run_plugin(state, &mut out.uids);
        out.trace
            .push((name.clone(), case.states[state].0.clone(), ok));
        out.policy = Some(name.clone());
        status = if ok { St::Success } else { St::Failure };
    }
    out.success = status == St::Success;
    Some(out)
}

// ---------------------------------------------------------------------------
// The engine, with the `mN.mod` test plugins.

#[derive(Debug)]
struct MaskPlugin {
    uid: u32,
    mask: u8,
    calls: u32,
}

impl MaskPlugin {
    fn call(&mut self, ctx: &mut RunContext<'_>) -> Status {
        let ok = self.mask >> (self.calls % 8) & 1 == 1;
        self.calls += 1;
        if ok {
            ctx.add(CredData::Uid(self.uid));
            Status::Success
        } else {
            Status::Failure
        }
    }
}

impl Plugin for MaskPlugin {
    fn initialize(&mut self, argv: &[String]) -> Result<(), PluginError> {
        self.mask = argv
            .get(1)
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| PluginError(format!("bad mask in {argv:?}")))?;
        Ok(())
    }

    fn run(&mut self, ctx: &mut RunContext<'_>) -> Status {
        self.call(ctx)
    }

    fn has_verify(&self) -> bool {
        true
    }

    fn verify(&mut self, ctx: &mut RunContext<'_>) -> Status {
        self.call(ctx)
    }
}

struct Loader;

impl PluginLoader for Loader {
    fn load(&self, decl: &PluginDecl) -> Result<Box<dyn Plugin>, String> {
        let n = decl
            .module
            .strip_prefix('m')
            .and_then(|m| m.strip_suffix(".mod"))
            .and_then(|n| n.parse::<usize>().ok());
        match n {
            Some(n) => Ok(Box::new(MaskPlugin {
                uid: mask_uid(n),
                mask: 0,
                calls: 0,
            })),
            None => BuiltinLoader.load(decl),
        }
    }
}

/// `None`: the file is refused.
fn engine(case: &Case) -> Option<Outcome> {
    let mut opts = ValidateOptions::default();
    opts.builtins.extend((0..4).map(|n| format!("m{n}.mod")));
    let checked = db::check_str("lcmaps.db", &case.text(), &opts);
    if checked.has_errors() {
        return None;
    }
    let mut e = Engine::new(checked.config.expect("no errors"), &Loader).expect("plugins load");
    let mode = if case.verify { Mode::Verify } else { Mode::Run };
    let run = RunOptions {
        policies: case.filter.clone(),
        dry_run: false,
        ..RunOptions::default()
    };
    let o = e.run(&Request::with_dn("/CN=model"), mode, &run);
    Some(Outcome {
        success: o.status.is_success(),
        trace: o
            .trace
            .iter()
            .map(|s| (s.policy.clone(), s.plugin.clone(), s.status.is_success()))
            .collect(),
        policy: o.policy,
        uids: o.store.uids,
    })
}

// ---------------------------------------------------------------------------
// Generation.

/// One rule over `n` states for `state`, or for a random state when
/// `None`. With a state given, every branch goes to a higher state.
fn rule(n: usize, state: Option<usize>) -> impl Strategy<Value = RuleSpec> {
    (0..n, 0..n, 0..n, 0u8..3).prop_map(move |(s, t, f, kind)| {
        let (s, t, f) = match state {
            Some(s) => {
                let up = |x: usize| s + 1 + x % (n - 1 - s);
                (s, up(t), up(f))
            }
            None => (s, t, f),
        };
        let (on_true, on_false) = match kind {
            0 => (Some(t), None),
            1 => (Some(t), Some(f)),
            _ => (None, Some(f)),
        };
        RuleSpec {
            state: s,
            on_true,
            on_false,
        }
    })
}

/// A policy: a label without rules, rules whose branches all go "up" (so
/// the policy cannot loop; each state on the left once), or anything.
fn policy(n: usize) -> impl Strategy<Value = Vec<RuleSpec>> {
    let forward = (
        Just((0..n - 1).collect::<Vec<usize>>()).prop_shuffle(),
        1..=4usize,
    )
        .prop_flat_map(move |(states, len)| {
            states
                .into_iter()
                .take(len)
                .map(|s| rule(n, Some(s)))
                .collect::<Vec<_>>()
        });
    prop_oneof![
        1 => Just(Vec::new()),
        6 => forward,
        3 => proptest::collection::vec(rule(n, None), 1..=4),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=4).prop_flat_map(|masks| {
        let n = 2 + masks;
        (
            proptest::collection::vec(any::<u8>(), masks),
            // Where good and bad go among the states.
            Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
            proptest::collection::vec(policy(n), 1..=3),
            prop_oneof![
                2 => Just(Vec::new()),
                1 => proptest::collection::vec(
                    prop_oneof![Just("pol0"), Just("pol1"), Just("pol2"), Just("nope")],
                    1..=2
                ),
            ],
            any::<bool>(),
        )
            .prop_map(|(m, order, policies, filter, verify)| {
                let mut states = Vec::new();
                let mut k = 0;
                for slot in order {
                    states.push(match slot {
                        0 => ("good".to_string(), Behaviour::Good),
                        1 => ("bad".to_string(), Behaviour::Bad),
                        _ => {
                            k += 1;
                            (format!("s{}", k - 1), Behaviour::Mask(k - 1, m[k - 1]))
                        }
                    });
                }
                Case {
                    states,
                    policies,
                    filter: filter.into_iter().map(String::from).collect(),
                    verify,
                }
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        // Shrunk failures are printed; no regression file in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_follows_the_lcmaps_state_machine(case in case()) {
        let want = model(&case);
        let got = engine(&case);
        prop_assert_eq!(got, want, "lcmaps.db:\n{}\nfilter {:?}, verify {}", case.text(), case.filter, case.verify);
    }
}

/// The generator produces both kinds of file in useful numbers (a property
/// that only ever sees refused files would prove nothing).
#[test]
fn generated_files_are_mostly_usable() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut usable, mut ran_two_policies) = (0, 0);
    for _ in 0..200 {
        let c = case().new_tree(&mut runner).unwrap().current();
        if let Some(o) = model(&c) {
            usable += 1;
            let mut ps: Vec<&String> = o.trace.iter().map(|t| &t.0).collect();
            ps.dedup();
            if ps.len() > 1 {
                ran_two_policies += 1;
            }
        }
    }
    eprintln!("{usable} usable, {ran_two_policies} two policies");
    assert!(usable > 100, "{usable} of 200 usable");
    assert!(
        ran_two_policies > 20,
        "{ran_two_policies} of 200 ran two policies"
    );
}
