//! Warnings about valid but risky or useless policies.

use std::fmt;

use crate::ast::{ActionBlock, Effect, Operator, OperatorType, Policy, PolicyKind, Principal};
use crate::value::{parse_date, parse_number};

/// Global (`acs:`) condition keys this engine knows. Keys are compared case-insensitively;
/// `acs:ResourceTag/` and `acs:RequestTag/` take any tag key.
pub const KNOWN_GLOBAL_KEYS: &[&str] = &[
    "acs:SourceIp",
    "acs:SecureTransport",
    "acs:CurrentTime",
    "acs:MFAPresent",
    "acs:SourceVpc",
    "acs:SourceVpcIp",
    "acs:PrincipalARN",
    "acs:AccessId",
    "acs:PrincipalRdId",
    "acs:PrincipalRdPath",
    "acs:TagKeys",
];

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LintKind {
    /// `Allow` of every action on every resource without conditions.
    AdminEquivalent,
    /// `Allow` with `NotAction`, which grants every action not listed, including future ones.
    AllowWithNotAction,
    /// A trust or resource policy that trusts any principal.
    WildcardPrincipal,
    /// Conditions that no request can satisfy.
    UnsatisfiableCondition,
    /// An `acs:` key that is not a known global key (probably a typo).
    UnknownGlobalKey,
    /// A statement identical to an earlier one.
    DuplicateStatement,
}

impl LintKind {
    /// A stable kebab-case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AdminEquivalent => "admin-equivalent",
            Self::AllowWithNotAction => "allow-not-action",
            Self::WildcardPrincipal => "wildcard-principal",
            Self::UnsatisfiableCondition => "unsatisfiable-condition",
            Self::UnknownGlobalKey => "unknown-global-key",
            Self::DuplicateStatement => "duplicate-statement",
        }
    }
}

/// One warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// What kind.
    pub kind: LintKind,
    /// JSON path of the statement or condition.
    pub path: String,
    /// Explanation and suggestion.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.path, self.message, self.kind.code())
    }
}

/// Returns the warnings for `policy`, a document of kind `kind`.
pub fn lint(policy: &Policy, kind: PolicyKind) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut warn = |kind: LintKind, path: String, message: String| {
        out.push(Warning {
            kind,
            path,
            message,
        });
    };
    for (i, st) in policy.statements.iter().enumerate() {
        let path = format!("Statement[{i}]");
        let all_actions = matches!(&st.action, ActionBlock::Action(a) if a.iter().any(|a| is_all(a) || a == "*:*"));
        let all_resources = st
            .resource
            .as_ref()
            .is_none_or(|r| r.iter().any(|r| is_all(r)));
        if st.effect == Effect::Allow
            && all_actions
            && all_resources
            && st.conditions.is_empty()
            && matches!(kind, PolicyKind::Identity | PolicyKind::Session)
        {
            warn(
                LintKind::AdminEquivalent,
                path.clone(),
                "allows every action on every resource (administrator access); grant only the actions and resources needed".into(),
            );
        }
        if st.effect == Effect::Allow && matches!(st.action, ActionBlock::NotAction(_)) {
            warn(
                LintKind::AllowWithNotAction,
                format!("{path}.NotAction"),
                "Allow with NotAction grants every action not listed, including actions added later; list the allowed actions instead".into(),
            );
        }
        if st.effect == Effect::Allow
            && let Some(p) = &st.principal
        {
            let wildcard = match p {
                Principal::Any => true,
                Principal::Map {
                    ram,
                    service,
                    federated,
                } => ram
                    .iter()
                    .chain(service)
                    .chain(federated)
                    .any(|v| is_all(v)),
            };
            if wildcard {
                warn(
                    LintKind::WildcardPrincipal,
                    format!("{path}.Principal"),
                    format!(
                        "trusts any principal{}; name the accounts, roles or services that need access",
                        if kind == PolicyKind::Trust {
                            ", so anyone with sts:AssumeRole permission anywhere can assume this role"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
        for (ci, c) in st.conditions.iter().enumerate() {
            let lower = c.key.to_ascii_lowercase();
            if lower.starts_with("acs:")
                && !lower.starts_with("acs:resourcetag/")
                && !lower.starts_with("acs:requesttag/")
                && !KNOWN_GLOBAL_KEYS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&c.key))
            {
                warn(
                    LintKind::UnknownGlobalKey,
                    format!("{path}.Condition.{}.{}", c.operator.name(), c.key),
                    format!(
                        "`{}` is not a known global condition key; a missing key never matches positive operators. Known keys: {}",
                        c.key,
                        KNOWN_GLOBAL_KEYS.join(", ")
                    ),
                );
            }
            // Same key bounded from above and below with an empty range.
            for other in st.conditions.iter().skip(ci + 1) {
                if !other.key.eq_ignore_ascii_case(&c.key) {
                    continue;
                }
                if let Some(reason) = contradiction(c, other) {
                    warn(
                        LintKind::UnsatisfiableCondition,
                        format!("{path}.Condition"),
                        format!("`{}`: {reason}; the statement can never apply", c.key),
                    );
                }
            }
        }
        for (j, earlier) in policy.statements.iter().enumerate().take(i) {
            if earlier == st {
                warn(
                    LintKind::DuplicateStatement,
                    path.clone(),
                    format!("identical to Statement[{j}]; remove one"),
                );
                break;
            }
        }
    }
    out
}

fn is_all(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'*')
}

/// Why two conditions on the same key cannot both hold, if they cannot.
fn contradiction(a: &crate::ast::Condition, b: &crate::ast::Condition) -> Option<String> {
    use Operator as O;
    let ty = a.operator.value_type();
    if ty != b.operator.value_type() {
        return None;
    }
    // Range checks assume a single-valued key (a multi-valued key could satisfy each bound
    // with a different value); the string check holds for any number of values.
    match ty {
        OperatorType::Numeric | OperatorType::Date => {
            let parse = |v: &str| {
                if ty == OperatorType::Numeric {
                    parse_number(v)
                } else {
                    parse_date(v).map(|d| d as f64)
                }
            };
            let bound = |c: &crate::ast::Condition| -> Option<(f64, bool)> {
                // For OR-ed values, the loosest bound counts.
                let vals: Vec<f64> = c.values.iter().filter_map(|v| parse(v)).collect();
                let max = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let min = vals.iter().copied().fold(f64::INFINITY, f64::min);
                match c.operator {
                    O::NumericLessThan | O::DateLessThan => Some((max, false)),
                    O::NumericLessThanEquals | O::DateLessThanEquals => Some((max, true)),
                    O::NumericGreaterThan | O::DateGreaterThan => Some((min, false)),
                    O::NumericGreaterThanEquals | O::DateGreaterThanEquals => Some((min, true)),
                    _ => None,
                }
            };
            let is_upper = |op: O| {
                matches!(
                    op,
                    O::NumericLessThan
                        | O::NumericLessThanEquals
                        | O::DateLessThan
                        | O::DateLessThanEquals
                )
            };
            let (ua, ub) = (is_upper(a.operator), is_upper(b.operator));
            let (Some(ba), Some(bb)) = (bound(a), bound(b)) else {
                return None;
            };
            let (upper, lower) = match (ua, ub) {
                (true, false) => (ba, bb),
                (false, true) => (bb, ba),
                _ => return None,
            };
            let empty = if upper.1 && lower.1 {
                upper.0 < lower.0
            } else {
                upper.0 <= lower.0
            };
            empty.then(|| {
                format!(
                    "{} and {} leave no value in between",
                    a.operator.name(),
                    b.operator.name()
                )
            })
        }
        OperatorType::String => {
            // StringEquals A with StringNotEquals B where every value of A is in B: a value
            // that equals some of A equals some of B, so the negated condition fails.
            let (eq, ne) = match (a.operator, b.operator) {
                (O::StringEquals, O::StringNotEquals) => (a, b),
                (O::StringNotEquals, O::StringEquals) => (b, a),
                _ => return None,
            };
            eq.values.iter().all(|v| ne.values.contains(v)).then(|| {
                "every value StringEquals accepts is excluded by StringNotEquals".to_owned()
            })
        }
        _ => None,
    }
}
