//! The parsed, validated form of a policy document, and its canonical JSON printer.
//!
//! The AST keeps values as the strings the author wrote (booleans and numbers written as bare
//! JSON values are kept as their text) so printing is lossless; [`crate::PolicySet`] turns it
//! into the typed, indexed form used for decisions.

use serde_json::{Map, Value};

/// Which kind of document a policy is. The grammar differs slightly per kind: `Principal` is
/// required in resource and trust policies and refused elsewhere; `Resource` is optional in
/// trust policies (the resource is the role itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// A policy attached to a user, group or role (system or custom).
    Identity,
    /// A resource-based policy such as an OSS bucket policy.
    Resource,
    /// A role's trust policy (`AssumeRolePolicyDocument`).
    Trust,
    /// The `Policy` parameter of an STS `AssumeRole` call.
    Session,
    /// A Resource Directory control policy.
    Control,
}

impl PolicyKind {
    /// Lower-case name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Resource => "resource",
            Self::Trust => "trust",
            Self::Session => "session",
            Self::Control => "control",
        }
    }

    /// Parses a name produced by [`PolicyKind::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "identity" => Self::Identity,
            "resource" => Self::Resource,
            "trust" => Self::Trust,
            "session" => Self::Session,
            "control" => Self::Control,
            _ => return None,
        })
    }
}

/// A policy document: `Version` `"1"` and its statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The statements in document order.
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants (or, in control and session policies, passes) the request.
    Allow,
    /// Refuses the request whatever else allows it.
    Deny,
}

impl Effect {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// `Action` (the listed actions) or `NotAction` (every action except the listed ones).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionBlock {
    /// `Action`.
    Action(Vec<String>),
    /// `NotAction`.
    NotAction(Vec<String>),
}

/// The `Principal` element of resource and trust policies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// `"Principal": "*"`: anyone.
    Any,
    /// `{"RAM": [...], "Service": [...], "Federated": [...]}`. A bare list of strings is read as
    /// `RAM` entries (the OSS bucket-policy shape, e.g. `["1234567890123456"]` or `["*"]`).
    Map {
        /// Account roots, users and roles (`acs:ram::<acct>:root`, `...:user/<name>`, ...), a
        /// bare account id, or `*`.
        ram: Vec<String>,
        /// Service principals such as `ecs.aliyuncs.com`.
        service: Vec<String>,
        /// Identity providers, e.g. `acs:ram::<acct>:saml-provider/<name>`.
        federated: Vec<String>,
    },
}

/// One `Statement`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Statement {
    /// `Sid`, tolerated and kept for explanations.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Action` or `NotAction`.
    pub action: ActionBlock,
    /// `Resource`; `None` only in trust policies, where it means "this role".
    pub resource: Option<Vec<String>>,
    /// `Principal`, present in resource and trust policies only.
    pub principal: Option<Principal>,
    /// Conditions, in document order; all must hold.
    pub conditions: Vec<Condition>,
}

/// One `<operator>: { <key>: <values> }` entry of a `Condition` block.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The condition key as written (compared case-insensitively).
    pub key: String,
    /// The values as written; the condition holds when the request matches any of them.
    pub values: Vec<String>,
}

/// The type of value an operator compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorType {
    /// Strings.
    String,
    /// Numbers.
    Numeric,
    /// ISO 8601 date-times.
    Date,
    /// `true` / `false`.
    Bool,
    /// IP addresses and CIDR blocks.
    Ip,
}

/// The 20 condition operators Alibaba Cloud documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    missing_docs,
    reason = "the variant names are the documented operator names"
)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
}

impl Operator {
    /// Every operator, in documentation order.
    pub const ALL: [Self; 21] = [
        Self::StringEquals,
        Self::StringNotEquals,
        Self::StringEqualsIgnoreCase,
        Self::StringNotEqualsIgnoreCase,
        Self::StringLike,
        Self::StringNotLike,
        Self::NumericEquals,
        Self::NumericNotEquals,
        Self::NumericLessThan,
        Self::NumericLessThanEquals,
        Self::NumericGreaterThan,
        Self::NumericGreaterThanEquals,
        Self::DateEquals,
        Self::DateNotEquals,
        Self::DateLessThan,
        Self::DateLessThanEquals,
        Self::DateGreaterThan,
        Self::DateGreaterThanEquals,
        Self::Bool,
        Self::IpAddress,
        Self::NotIpAddress,
    ];

    /// The documented name.
    pub fn name(self) -> &'static str {
        match self {
            Self::StringEquals => "StringEquals",
            Self::StringNotEquals => "StringNotEquals",
            Self::StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            Self::StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            Self::StringLike => "StringLike",
            Self::StringNotLike => "StringNotLike",
            Self::NumericEquals => "NumericEquals",
            Self::NumericNotEquals => "NumericNotEquals",
            Self::NumericLessThan => "NumericLessThan",
            Self::NumericLessThanEquals => "NumericLessThanEquals",
            Self::NumericGreaterThan => "NumericGreaterThan",
            Self::NumericGreaterThanEquals => "NumericGreaterThanEquals",
            Self::DateEquals => "DateEquals",
            Self::DateNotEquals => "DateNotEquals",
            Self::DateLessThan => "DateLessThan",
            Self::DateLessThanEquals => "DateLessThanEquals",
            Self::DateGreaterThan => "DateGreaterThan",
            Self::DateGreaterThanEquals => "DateGreaterThanEquals",
            Self::Bool => "Bool",
            Self::IpAddress => "IpAddress",
            Self::NotIpAddress => "NotIpAddress",
        }
    }

    /// Looks an operator up by its exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The type of value compared.
    pub fn value_type(self) -> OperatorType {
        match self {
            Self::StringEquals
            | Self::StringNotEquals
            | Self::StringEqualsIgnoreCase
            | Self::StringNotEqualsIgnoreCase
            | Self::StringLike
            | Self::StringNotLike => OperatorType::String,
            Self::NumericEquals
            | Self::NumericNotEquals
            | Self::NumericLessThan
            | Self::NumericLessThanEquals
            | Self::NumericGreaterThan
            | Self::NumericGreaterThanEquals => OperatorType::Numeric,
            Self::DateEquals
            | Self::DateNotEquals
            | Self::DateLessThan
            | Self::DateLessThanEquals
            | Self::DateGreaterThan
            | Self::DateGreaterThanEquals => OperatorType::Date,
            Self::Bool => OperatorType::Bool,
            Self::IpAddress | Self::NotIpAddress => OperatorType::Ip,
        }
    }

    /// True for the negated operators, which hold when the request matches none of the values
    /// (and so hold when the key is missing from the request).
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Self::StringNotEquals
                | Self::StringNotEqualsIgnoreCase
                | Self::StringNotLike
                | Self::NumericNotEquals
                | Self::DateNotEquals
                | Self::NotIpAddress
        )
    }
}

impl Policy {
    /// Prints the canonical JSON form: `Version` `"1"`, `Statement` as a list, elements in the
    /// documented order. Parsing the output gives back an equal [`Policy`].
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("Version".into(), Value::String("1".into()));
        doc.insert(
            "Statement".into(),
            Value::Array(self.statements.iter().map(Statement::to_json).collect()),
        );
        Value::Object(doc)
    }

    /// The canonical JSON form as compact text.
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }
}

fn strings(values: &[String]) -> Value {
    Value::Array(values.iter().cloned().map(Value::String).collect())
}

impl Statement {
    /// Prints the statement as JSON.
    pub fn to_json(&self) -> Value {
        let mut st = Map::new();
        if let Some(sid) = &self.sid {
            st.insert("Sid".into(), Value::String(sid.clone()));
        }
        st.insert("Effect".into(), Value::String(self.effect.as_str().into()));
        match &self.action {
            ActionBlock::Action(a) => st.insert("Action".into(), strings(a)),
            ActionBlock::NotAction(a) => st.insert("NotAction".into(), strings(a)),
        };
        if let Some(principal) = &self.principal {
            let value = match principal {
                Principal::Any => Value::String("*".into()),
                Principal::Map {
                    ram,
                    service,
                    federated,
                } => {
                    let mut m = Map::new();
                    if !ram.is_empty() {
                        m.insert("RAM".into(), strings(ram));
                    }
                    if !service.is_empty() {
                        m.insert("Service".into(), strings(service));
                    }
                    if !federated.is_empty() {
                        m.insert("Federated".into(), strings(federated));
                    }
                    Value::Object(m)
                }
            };
            st.insert("Principal".into(), value);
        }
        if let Some(resource) = &self.resource {
            st.insert("Resource".into(), strings(resource));
        }
        if !self.conditions.is_empty() {
            let mut block = Map::new();
            for c in &self.conditions {
                let entry = block
                    .entry(c.operator.name().to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(keys) = entry {
                    keys.insert(c.key.clone(), strings(&c.values));
                }
            }
            st.insert("Condition".into(), Value::Object(block));
        }
        Value::Object(st)
    }
}
