//! The syntax tree of an lcmaps.db file, with byte spans into the source.

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl From<pest::Span<'_>> for Span {
    fn from(s: pest::Span<'_>) -> Self {
        Span {
            start: s.start(),
            end: s.end(),
        }
    }
}

/// A bare word: a variable name, a state, a module file name or a policy label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// A string literal, `"..."`, as written between its quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The body, with `\"` sequences still in place.
    pub body: String,
    /// Where (including the quotes).
    pub span: Span,
}

/// The right-hand side of a variable declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// `name = "a" "b" ...`
    Strings(Vec<StrLit>),
    /// `name = other`
    Alias(Word),
}

/// A rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleAst {
    /// The state: the plugin that runs.
    pub state: Word,
    /// Where to go when it succeeds.
    pub on_success: Option<Word>,
    /// Where to go when it fails.
    pub on_failure: Option<Word>,
    /// Written as `~state -> on_failure`.
    pub tilde: bool,
    /// The whole rule.
    pub span: Span,
}

impl RuleAst {
    /// The rule as LCMAPS writes it in messages: `a -> b | c`, `~a -> c`.
    pub fn display(&self) -> String {
        match (&self.on_success, &self.on_failure) {
            (Some(s), Some(f)) => format!("{} -> {} | {}", self.state.text, s.text, f.text),
            (Some(s), None) => format!("{} -> {}", self.state.text, s.text),
            (None, Some(f)) => format!("~{} -> {}", self.state.text, f.text),
            (None, None) => self.state.text.clone(),
        }
    }
}

/// One top-level item of the file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `path = /dir` (value absent for an empty `path =`).
    Path {
        /// The directory, if any.
        value: Option<Word>,
        /// Written in quotes, which LCMAPS ignores.
        quoted: bool,
        /// The whole declaration.
        span: Span,
    },
    /// `name = ...`
    Var {
        /// Variable name.
        name: Word,
        /// Its value.
        value: VarValue,
        /// The whole declaration.
        span: Span,
    },
    /// `name:` starting a policy.
    Label {
        /// Policy name.
        name: Word,
    },
    /// A rule.
    Rule(RuleAst),
    /// A line that is none of the above.
    Bad {
        /// The rest of the line from where parsing failed.
        span: Span,
    },
}

/// A parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ast {
    /// Items in file order.
    pub items: Vec<Item>,
}
