//! Parsing and validation of policy documents.
//!
//! Validation collects every problem it finds, each with the JSON path of the element and a
//! hint of what to write instead, rather than stopping at the first.

use crate::ast::{ActionBlock, Condition, Effect, Operator, OperatorType, Policy, PolicyKind};
use crate::ast::{Principal, Statement};
use crate::error::{ParseError, Problem, preview};
use crate::json::Json;
use crate::value::{parse_bool, parse_date, parse_net, parse_number};

/// Size and shape limits enforced when parsing. The defaults follow RAM's documented limits
/// where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Characters per document, not counting JSON whitespace outside strings (RAM's current
    /// documented limit for custom policies is 6,144; control policies 4,096; session policies
    /// 2,048).
    pub max_chars: usize,
    /// Statements per document.
    pub max_statements: usize,
    /// Values in one `Action`, `NotAction`, `Resource`, `Principal` entry or condition key.
    pub max_values: usize,
    /// Characters in one value (action, ARN, condition value).
    pub max_value_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chars: 6_144,
            max_statements: 100,
            max_values: 200,
            max_value_chars: 1_024,
        }
    }
}

impl Policy {
    /// Parses and validates a policy document of the given kind with the default [`Limits`].
    ///
    /// # Errors
    ///
    /// [`ParseError`] listing every problem found.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, ParseError> {
        Self::parse_with_limits(text, kind, &Limits::default())
    }

    /// Parses and validates with explicit limits.
    ///
    /// # Errors
    ///
    /// [`ParseError`] listing every problem found.
    pub fn parse_with_limits(
        text: &str,
        kind: PolicyKind,
        limits: &Limits,
    ) -> Result<Self, ParseError> {
        let actual = significant_chars(text);
        if actual > limits.max_chars {
            return Err(ParseError::TooLarge {
                actual,
                limit: limits.max_chars,
            });
        }
        let json = Json::parse(text).map_err(|e| ParseError::Json(e.to_string()))?;
        Validator::new(kind, limits).document(&json)
    }

    /// Validates an already-parsed JSON value (used for corpus files, where documents are
    /// embedded objects). The size limit is applied to the value's compact text.
    ///
    /// # Errors
    ///
    /// [`ParseError`] listing every problem found.
    pub fn from_json_value(
        value: &serde_json::Value,
        kind: PolicyKind,
        limits: &Limits,
    ) -> Result<Self, ParseError> {
        let actual = significant_chars(&value.to_string());
        if actual > limits.max_chars {
            return Err(ParseError::TooLarge {
                actual,
                limit: limits.max_chars,
            });
        }
        Validator::new(kind, limits).document(&Json::from_value(value))
    }
}

/// Counts characters, skipping JSON whitespace outside string literals, so pretty-printing a
/// policy does not change its size.
pub fn significant_chars(text: &str) -> usize {
    // Bytes, not chars: a character is a byte that is not a UTF-8 continuation byte, and the
    // JSON structural bytes are all ASCII.
    let mut count = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text.as_bytes() {
        let starts_char = (b & 0xC0) != 0x80;
        if in_string {
            count += usize::from(starts_char);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            count += usize::from(starts_char);
            if b == b'"' {
                in_string = true;
            }
        }
    }
    count
}

/// A JSON path, built on the stack and rendered only when a problem is reported, so a valid
/// policy costs no path strings.
#[derive(Clone, Copy)]
enum JPath<'a> {
    Root,
    Key(&'a JPath<'a>, &'a str),
    Index(&'a JPath<'a>, usize),
}

impl<'a> JPath<'a> {
    fn key(&'a self, k: &'a str) -> Self {
        Self::Key(self, k)
    }

    fn index(&'a self, i: usize) -> Self {
        Self::Index(self, i)
    }
}

impl std::fmt::Display for JPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Key(JPath::Root, k) => f.write_str(k),
            Self::Key(parent, k) => write!(f, "{parent}.{k}"),
            Self::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

struct Validator<'l> {
    kind: PolicyKind,
    limits: &'l Limits,
    problems: Vec<Problem>,
}

impl<'l> Validator<'l> {
    fn new(kind: PolicyKind, limits: &'l Limits) -> Self {
        Self {
            kind,
            limits,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, path: &JPath<'_>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.to_string(),
            message: message.into(),
        });
    }

    fn document(mut self, json: &Json<'_>) -> Result<Policy, ParseError> {
        let Json::Object(members) = json else {
            self.problem(
                &JPath::Root,
                format!(
                    "a policy document must be a JSON object, not {}",
                    json.type_name()
                ),
            );
            return Err(ParseError::Invalid(self.problems));
        };
        let mut version_seen = false;
        let mut statements = Vec::new();
        let mut statement_seen = false;
        for (key, value) in members {
            match key.as_ref() {
                "Version" => {
                    version_seen = true;
                    match value {
                        Json::String(v) if v == "1" => {}
                        Json::Number(n) if n.as_u64() == Some(1) => self.problem(
                            &JPath::Key(&JPath::Root, "Version"),
                            "the version must be the string \"1\", not the number 1",
                        ),
                        other => self.problem(
                            &JPath::Key(&JPath::Root, "Version"),
                            format!(
                                "unsupported version {}; the only valid value is \"1\"",
                                show(other)
                            ),
                        ),
                    }
                }
                "Statement" => {
                    statement_seen = true;
                    match value {
                        Json::Array(items) => {
                            if items.len() > self.limits.max_statements {
                                self.problem(
                                    &JPath::Key(&JPath::Root, "Statement"),
                                    format!(
                                        "{} statements, more than the limit of {}; split the policy",
                                        items.len(),
                                        self.limits.max_statements
                                    ),
                                );
                            }
                            let base = JPath::Key(&JPath::Root, "Statement");
                            for (i, item) in items.iter().enumerate() {
                                if let Some(s) = self.statement(&base.index(i), item) {
                                    statements.push(s);
                                }
                            }
                        }
                        Json::Object(_) => {
                            if let Some(s) =
                                self.statement(&JPath::Key(&JPath::Root, "Statement"), value)
                            {
                                statements.push(s);
                            }
                        }
                        other => self.problem(
                            &JPath::Key(&JPath::Root, "Statement"),
                            format!(
                                "must be a list of statements or one statement object, not {}",
                                other.type_name()
                            ),
                        ),
                    }
                }
                other => self.problem(
                    &JPath::Key(&JPath::Root, other),
                    format!(
                        "unknown element `{}`; a policy has only `Version` and `Statement`",
                        preview(other)
                    ),
                ),
            }
        }
        if !version_seen {
            self.problem(
                &JPath::Key(&JPath::Root, "Version"),
                "missing; add \"Version\": \"1\"",
            );
        }
        if !statement_seen {
            self.problem(
                &JPath::Key(&JPath::Root, "Statement"),
                "missing; add a \"Statement\" list",
            );
        }
        if self.problems.is_empty() {
            Ok(Policy { statements })
        } else {
            Err(ParseError::Invalid(self.problems))
        }
    }

    fn statement(&mut self, path: &JPath<'_>, json: &Json<'_>) -> Option<Statement> {
        let Json::Object(members) = json else {
            self.problem(
                path,
                format!("a statement must be an object, not {}", json.type_name()),
            );
            return None;
        };
        let before = self.problems.len();
        let mut sid = None;
        let mut effect = None;
        let mut action: Option<ActionBlock> = None;
        let mut resource = None;
        let mut principal = None;
        let mut conditions = Vec::new();
        for (key, value) in members {
            let p = path.key(key.as_ref());
            match key.as_ref() {
                "Sid" => match value {
                    Json::String(s) if s.chars().count() <= 128 => sid = Some(s.to_string()),
                    Json::String(_) => self.problem(&p, "a Sid has at most 128 characters"),
                    other => self.problem(&p, format!("must be a string, not {}", other.type_name())),
                },
                "Effect" => match value {
                    Json::String(s) if s == "Allow" => effect = Some(Effect::Allow),
                    Json::String(s) if s == "Deny" => effect = Some(Effect::Deny),
                    Json::String(s)
                        if s.eq_ignore_ascii_case("allow") || s.eq_ignore_ascii_case("deny") =>
                    {
                        self.problem(
                            &p,
                            format!(
                                "\"{s}\" must be written \"Allow\" or \"Deny\" (capitalised)"
                            ),
                        );
                    }
                    other => self.problem(
                        &p,
                        format!("{} is not an effect; use \"Allow\" or \"Deny\"", show(other)),
                    ),
                },
                "Action" | "NotAction" => {
                    if action.is_some() {
                        self.problem(
                            &p,
                            "a statement has either Action or NotAction, not both",
                        );
                        continue;
                    }
                    let values = self.string_list(&p, value);
                    for (i, v) in values.iter().enumerate() {
                        self.check_action(&item_path(&p, value, i), v);
                    }
                    action = Some(if key == "Action" {
                        ActionBlock::Action(values)
                    } else {
                        ActionBlock::NotAction(values)
                    });
                }
                "Resource" => {
                    let values = self.string_list(&p, value);
                    for (i, v) in values.iter().enumerate() {
                        self.check_resource(&item_path(&p, value, i), v);
                    }
                    resource = Some(values);
                }
                "Principal" => {
                    if matches!(
                        self.kind,
                        PolicyKind::Identity | PolicyKind::Session | PolicyKind::Control
                    ) {
                        self.problem(
                            &p,
                            format!(
                                "Principal is only allowed in resource and trust policies, not in {} policies; remove it",
                                self.kind.name()
                            ),
                        );
                    } else {
                        principal = self.principal(&p, value);
                    }
                }
                "Condition" => conditions = self.conditions(&p, value),
                "NotResource" | "NotPrincipal" => self.problem(
                    &p,
                    format!(
                        "`{key}` is not part of Alibaba Cloud's RAM policy language; list the {} you mean in `{}` instead (or use a Deny statement)",
                        if key == "NotResource" { "resources" } else { "principals" },
                        key.strip_prefix("Not").unwrap_or(key)
                    ),
                ),
                other => self.problem(
                    &p,
                    format!(
                        "unknown element `{}`; a statement has Sid, Effect, Action or NotAction, Resource, Principal and Condition",
                        preview(other)
                    ),
                ),
            }
        }
        if effect.is_none() && !members.iter().any(|(k, _)| k == "Effect") {
            self.problem(
                &path.key("Effect"),
                "missing; add \"Effect\": \"Allow\" or \"Deny\"",
            );
        }
        if action.is_none()
            && !members
                .iter()
                .any(|(k, _)| k == "Action" || k == "NotAction")
        {
            self.problem(
                &path.key("Action"),
                "missing; a statement needs Action or NotAction",
            );
        }
        if resource.is_none()
            && self.kind != PolicyKind::Trust
            && !members.iter().any(|(k, _)| k == "Resource")
        {
            self.problem(
                &path.key("Resource"),
                "missing; add \"Resource\": \"*\" or the ARNs the statement covers",
            );
        }
        if principal.is_none()
            && matches!(self.kind, PolicyKind::Resource | PolicyKind::Trust)
            && !members.iter().any(|(k, _)| k == "Principal")
        {
            self.problem(
                &path.key("Principal"),
                format!(
                    "missing; {} policies name who they apply to, e.g. \"Principal\": {{\"RAM\": [\"acs:ram::<account-id>:root\"]}}",
                    self.kind.name()
                ),
            );
        }
        if self.problems.len() != before {
            return None;
        }
        Some(Statement {
            sid,
            effect: effect?,
            action: action?,
            resource,
            principal,
            conditions,
        })
    }

    /// A string or a non-empty list of strings.
    fn string_list(&mut self, path: &JPath<'_>, json: &Json<'_>) -> Vec<String> {
        let mut out = Vec::new();
        match json {
            Json::String(s) => out.push(s.to_string()),
            Json::Array(items) => {
                if items.is_empty() {
                    self.problem(path, "the list is empty; give at least one value");
                }
                if items.len() > self.limits.max_values {
                    self.problem(
                        path,
                        format!(
                            "{} values, more than the limit of {}",
                            items.len(),
                            self.limits.max_values
                        ),
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Json::String(s) => out.push(s.to_string()),
                        other => self.problem(
                            &path.index(i),
                            format!("must be a string, not {}", other.type_name()),
                        ),
                    }
                }
            }
            other => self.problem(
                path,
                format!(
                    "must be a string or a list of strings, not {}",
                    other.type_name()
                ),
            ),
        }
        for (i, v) in out.iter().enumerate() {
            if v.chars().count() > self.limits.max_value_chars {
                self.problem(
                    &item_path(path, json, i),
                    format!(
                        "value has more than {} characters",
                        self.limits.max_value_chars
                    ),
                );
            }
        }
        out
    }

    fn check_action(&mut self, path: &JPath<'_>, action: &str) {
        if action.is_empty() {
            self.problem(
                path,
                "an action cannot be empty; write <ram-code>:<action-name>",
            );
            return;
        }
        if action.bytes().all(|b| b == b'*') {
            return;
        }
        match action.split_once(':') {
            Some((service, name)) if !service.is_empty() && !name.is_empty() => {
                if let Some(bad) = service
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '*' | '?')))
                {
                    self.problem(
                        path,
                        format!(
                            "\"{}\": the RAM code may hold letters, digits, `-`, `_` and wildcards, not `{bad}`",
                            preview(action)
                        ),
                    );
                }
            }
            _ => self.problem(
                path,
                format!(
                    "\"{}\" is not an action; write <ram-code>:<action-name>, e.g. \"oss:GetObject\" or \"ecs:Describe*\"",
                    preview(action)
                ),
            ),
        }
    }

    fn check_resource(&mut self, path: &JPath<'_>, resource: &str) {
        if resource.is_empty() {
            self.problem(path, "a resource cannot be empty; write \"*\" or an ARN");
            return;
        }
        if resource.bytes().all(|b| b == b'*') {
            return;
        }
        let starts_acs = resource
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("acs:"));
        let segments = resource.split(':').count();
        if !starts_acs || (segments < 5 && !resource.contains('*')) {
            self.problem(
                path,
                format!(
                    "\"{}\" is not a resource ARN; write acs:<ram-code>:<region>:<account-id>:<relative-id> (wildcards allowed) or \"*\"",
                    preview(resource)
                ),
            );
        }
    }

    fn principal(&mut self, path: &JPath<'_>, json: &Json<'_>) -> Option<Principal> {
        match json {
            Json::String(s) if s == "*" => Some(Principal::Any),
            Json::String(_) | Json::Array(_) => {
                let ram = self.string_list(path, json);
                self.check_ram_principals(path, json, &ram);
                Some(Principal::Map {
                    ram,
                    service: Vec::new(),
                    federated: Vec::new(),
                })
            }
            Json::Object(members) => {
                let (mut ram, mut service, mut federated) = (Vec::new(), Vec::new(), Vec::new());
                if members.is_empty() {
                    self.problem(
                        path,
                        "empty; name at least one RAM, Service or Federated principal",
                    );
                }
                for (key, value) in members {
                    let p = path.key(key.as_ref());
                    match key.as_ref() {
                        "RAM" => {
                            ram = self.string_list(&p, value);
                            self.check_ram_principals(&p, value, &ram);
                        }
                        "Service" => service = self.string_list(&p, value),
                        "Federated" => federated = self.string_list(&p, value),
                        other => self.problem(
                            &p,
                            format!(
                                "unknown principal type `{}`; use RAM, Service or Federated",
                                preview(other)
                            ),
                        ),
                    }
                }
                Some(Principal::Map {
                    ram,
                    service,
                    federated,
                })
            }
            other => {
                self.problem(
                    path,
                    format!(
                        "must be \"*\", a list of principals or an object with RAM, Service or Federated, not {}",
                        other.type_name()
                    ),
                );
                None
            }
        }
    }

    /// RAM principals: `*`, an account id, or an `acs:ram:` ARN. Checked for the bare-list
    /// form too, which prints as `{"RAM": [...]}` (found by the fuzzer).
    fn check_ram_principals(&mut self, path: &JPath<'_>, json: &Json<'_>, ram: &[String]) {
        for (i, v) in ram.iter().enumerate() {
            let ok = v == "*"
                || (v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty())
                || v.get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case("acs:ram:"));
            if !ok {
                self.problem(
                    &item_path(path, json, i),
                    format!(
                        "\"{}\" is not a RAM principal; write acs:ram::<account-id>:root, acs:ram::<account-id>:user/<name>, acs:ram::<account-id>:role/<name> or an account id",
                        preview(v)
                    ),
                );
            }
        }
    }

    fn conditions(&mut self, path: &JPath<'_>, json: &Json<'_>) -> Vec<Condition> {
        let mut out = Vec::new();
        let Json::Object(ops) = json else {
            self.problem(
                path,
                format!(
                    "must be an object of operators, e.g. {{\"StringEquals\": {{\"acs:SourceVpc\": \"vpc-1\"}}}}, not {}",
                    json.type_name()
                ),
            );
            return out;
        };
        for (op_name, keys) in ops {
            let op_path = path.key(op_name.as_ref());
            let Some(operator) = self.operator(&op_path, op_name) else {
                continue;
            };
            let Json::Object(keys) = keys else {
                self.problem(
                    &op_path,
                    format!(
                        "must be an object of condition keys to values, not {}",
                        keys.type_name()
                    ),
                );
                continue;
            };
            if keys.is_empty() {
                self.problem(
                    &op_path,
                    "no condition keys; remove the operator or add a key",
                );
            }
            for (key, values) in keys {
                let key_path = op_path.key(key.as_ref());
                match key.split_once(':') {
                    Some((prefix, name)) if !prefix.is_empty() && !name.is_empty() => {}
                    _ => {
                        self.problem(
                            &key_path,
                            format!(
                                "\"{}\" is not a condition key; write <prefix>:<name>, e.g. acs:SourceIp",
                                preview(key)
                            ),
                        );
                        continue;
                    }
                }
                let values = self.condition_values(&key_path, values);
                for (i, v) in values.iter().enumerate() {
                    let indexed = key_path.index(i);
                    let vp = if values.len() == 1 {
                        &key_path
                    } else {
                        &indexed
                    };
                    self.check_condition_value(vp, operator, v);
                }
                out.push(Condition {
                    operator,
                    key: key.to_string(),
                    values,
                });
            }
        }
        out
    }

    fn operator(&mut self, path: &JPath<'_>, name: &str) -> Option<Operator> {
        if let Some(op) = Operator::from_name(name) {
            return Some(op);
        }
        let lower = name.to_ascii_lowercase();
        let message = if lower.starts_with("foranyvalue:") || lower.starts_with("forallvalues:") {
            format!(
                "set qualifiers such as `{}` are not part of Alibaba Cloud's policy language; write the operator alone (a multi-valued key matches when any of its values matches)",
                preview(name.split(':').next().unwrap_or_default())
            )
        } else if lower.ends_with("ifexists") {
            format!(
                "`...IfExists` operators are not part of Alibaba Cloud's policy language; use `{}` (a missing key makes positive operators false and negated ones true)",
                preview(name.get(..name.len().saturating_sub(8)).unwrap_or_default())
            )
        } else if let Some(op) = Operator::ALL
            .into_iter()
            .find(|op| op.name().eq_ignore_ascii_case(name))
        {
            format!("operator names are case-sensitive; write `{}`", op.name())
        } else {
            format!(
                "unknown operator `{}`; use one of the String*, Numeric*, Date*, Bool, IpAddress or NotIpAddress operators",
                preview(name)
            )
        };
        self.problem(path, message);
        None
    }

    fn condition_values(&mut self, path: &JPath<'_>, json: &Json<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut one = |v: &Json<'_>, p: &JPath<'_>, this: &mut Self| match v {
            Json::String(s) => out.push(s.to_string()),
            // RAM asks for strings; bare booleans and numbers are read as their text.
            Json::Bool(b) => out.push(b.to_string()),
            Json::Number(n) => out.push(n.to_string()),
            other => this.problem(
                p,
                format!(
                    "condition values must be strings (or a list of them), not {}",
                    other.type_name()
                ),
            ),
        };
        match json {
            Json::Array(items) => {
                if items.is_empty() {
                    self.problem(path, "the list is empty; give at least one value");
                }
                if items.len() > self.limits.max_values {
                    self.problem(
                        path,
                        format!(
                            "{} values, more than the limit of {}",
                            items.len(),
                            self.limits.max_values
                        ),
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    one(item, &path.index(i), self);
                }
            }
            other => one(other, path, self),
        }
        out
    }

    fn check_condition_value(&mut self, path: &JPath<'_>, operator: Operator, value: &str) {
        if value.chars().count() > self.limits.max_value_chars {
            self.problem(
                path,
                format!(
                    "value has more than {} characters",
                    self.limits.max_value_chars
                ),
            );
            return;
        }
        let v = preview(value);
        let problem = match operator.value_type() {
            OperatorType::String => None,
            OperatorType::Numeric => {
                parse_number(value).is_none().then(|| format!("\"{v}\" is not a number"))
            }
            OperatorType::Date => parse_date(value).is_none().then(|| {
                format!(
                    "\"{v}\" is not a date; use ISO 8601 such as \"2024-01-31T23:59:59Z\""
                )
            }),
            OperatorType::Bool => parse_bool(value)
                .is_none()
                .then(|| format!("\"{v}\" is not a boolean; use \"true\" or \"false\"")),
            OperatorType::Ip => parse_net(value).is_none().then(|| {
                format!(
                    "\"{v}\" is not an IP address or CIDR block, e.g. \"192.0.2.0/24\" or \"2001:db8::1\""
                )
            }),
        };
        if let Some(message) = problem {
            self.problem(path, message);
        }
    }
}

fn item_path<'a>(path: &'a JPath<'a>, json: &Json<'_>, i: usize) -> JPath<'a> {
    if matches!(json, Json::Array(_)) {
        path.index(i)
    } else {
        *path
    }
}

fn show(json: &Json<'_>) -> String {
    match json {
        Json::String(s) => format!("\"{}\"", preview(s)),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        other => other.type_name().to_owned(),
    }
}
