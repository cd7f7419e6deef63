//! Errors returned by parsing, validation and the corpus runner.

use std::fmt;

/// One problem found in a policy document, located by its JSON path.
///
/// Displayed as `<path>: <message>`, e.g.
/// `Statement[1].Condition.NumericLessThan.acs:foo: "abc" is not a number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending element (`Statement[0].Action[2]`); empty for the document.
    pub path: String,
    /// What is wrong and, where it helps, what to write instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is not JSON (or has duplicate keys, or nests too deeply).
    #[error("policy document is not valid JSON: {0}")]
    Json(String),
    /// The document is longer than the configured limit.
    #[error(
        "policy document has {actual} characters, more than the limit of {limit}; split it into several policies"
    )]
    TooLarge {
        /// Characters counted (JSON whitespace outside strings is not counted).
        actual: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The JSON is well formed but breaks the policy grammar; every problem found is listed.
    #[error("{}", join_problems(.0))]
    Invalid(Vec<Problem>),
}

impl ParseError {
    /// The located problems (one synthesized problem for JSON and size errors).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Self::Invalid(problems) => problems.clone(),
            other => vec![Problem {
                path: String::new(),
                message: other.to_string(),
            }],
        }
    }
}

fn join_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&p.to_string());
    }
    out
}

/// A bounded preview of user input for messages: attacker-controlled text must not amplify
/// into logs, so long values are cut and their length reported.
pub(crate) fn preview(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_owned()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}… ({} characters)", s.chars().count())
    }
}
