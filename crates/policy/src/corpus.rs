//! Decision corpus files: policies, requests and expected decisions, and a runner that checks
//! them. The format is documented in `docs/policy.md`; this module is pure (the caller reads
//! the files).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::ast::{Policy, PolicyKind};
use crate::compile::{EffectScope, PolicySet};
use crate::error::ParseError;
use crate::eval::{Decision, Outcome, Policies, Request, evaluate};
use crate::parse::Limits;
use crate::value::Context;

/// Why a corpus file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorpusError {
    /// The file is not JSON or does not have the corpus shape.
    #[error("not a corpus file: {0}")]
    Format(String),
    /// A policy in the file is invalid.
    #[error("policy `{id}` ({kind}) is invalid: {error}")]
    Policy {
        /// The policy id.
        id: String,
        /// identity, resource, session, control or trust.
        kind: &'static str,
        /// The validation error.
        error: ParseError,
    },
}

/// A corpus file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpusFile {
    /// What the file covers.
    #[serde(default)]
    pub description: Option<String>,
    /// The policies every request in the file is evaluated against.
    #[serde(default)]
    pub policies: Option<CorpusPolicies>,
    /// The requests and their expected decisions.
    pub requests: Vec<CorpusRequest>,
}

/// The `policies` object.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpusPolicies {
    /// Account-level identity policies of the caller.
    #[serde(default)]
    pub identity: Option<Vec<PolicyDoc>>,
    /// Resource-group-level identity policies (extension).
    #[serde(default)]
    pub resource_group_identity: Option<Vec<PolicyDoc>>,
    /// Resource-based policies of the target.
    #[serde(default)]
    pub resource: Option<Vec<PolicyDoc>>,
    /// Session policies; empty or absent means the caller has no session policy.
    #[serde(default)]
    pub session: Option<Vec<PolicyDoc>>,
    /// Control policy levels, from the account's level up to the Root folder.
    #[serde(default)]
    pub control: Option<Vec<Vec<PolicyDoc>>>,
    /// The resource's account is the management account (control policies skipped).
    #[serde(default)]
    pub management_account: Option<bool>,
    /// A trust policy document (or `{"id", "document"}`): the request is an `sts:AssumeRole`.
    #[serde(default)]
    pub assume_role_trust: Option<Value>,
}

/// One policy: an id and its document (a JSON object, or a JSON string holding the text).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDoc {
    /// The id reported in decisions; defaults to `<kind>[<n>]`.
    #[serde(default)]
    pub id: Option<String>,
    /// The policy document.
    pub document: Value,
    /// For control policies: `RAM` (default) or `All` (extension).
    #[serde(default)]
    pub effect_scope: Option<String>,
}

/// One request and what it should decide.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpusRequest {
    /// A label for reports (extension; defaults to the request's position).
    #[serde(default, alias = "description")]
    pub name: Option<String>,
    /// Caller ARN (or service name).
    pub principal: String,
    /// `<ram-code>:<action>`.
    pub action: String,
    /// Target ARN.
    pub resource: String,
    /// Condition context: key to string, bool, number or list.
    #[serde(default)]
    pub context: Option<Value>,
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny` (required by the runner; optional for
    /// `policy eval` input).
    #[serde(default)]
    pub expect: String,
    /// Expected `PolicyType` of the decision (extension).
    #[serde(default)]
    pub expect_policy_type: Option<String>,
    /// Expected id of the deciding policy (extension).
    #[serde(default)]
    pub expect_policy_id: Option<String>,
    /// The caller is a service-linked role (extension).
    #[serde(default)]
    pub service_linked_role: Option<bool>,
}

/// Compiled policies of a corpus file (or of a `policy eval` input).
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// Control levels.
    pub control: Vec<Arc<PolicySet>>,
    /// Management account flag.
    pub management_account: bool,
    /// Session policies.
    pub session: Option<PolicySet>,
    /// Identity policies.
    pub identity: Option<PolicySet>,
    /// Resource-group identity policies.
    pub resource_group_identity: Option<PolicySet>,
    /// Resource policies.
    pub resource: Option<PolicySet>,
    /// Trust policy.
    pub trust: Option<PolicySet>,
}

impl Scenario {
    /// Parses and compiles the `policies` object.
    ///
    /// # Errors
    ///
    /// [`CorpusError::Policy`] for the first invalid policy.
    pub fn compile(policies: &CorpusPolicies) -> Result<Self, CorpusError> {
        let set = |docs: &Option<Vec<PolicyDoc>>, kind: PolicyKind, prefix: &str| {
            compile_set(docs.as_deref().unwrap_or_default(), kind, prefix)
        };
        let mut control = Vec::new();
        for (level, docs) in policies
            .control
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let s = compile_set(docs, PolicyKind::Control, &format!("control[{level}]"))?
                .unwrap_or_else(|| PolicySet::builder(PolicyKind::Control).build());
            control.push(Arc::new(s));
        }
        let trust = match &policies.assume_role_trust {
            None | Some(Value::Null) => None,
            Some(v) => {
                let (id, doc) = match v {
                    Value::Object(m) if m.contains_key("document") => (
                        m.get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("trust-policy")
                            .to_owned(),
                        m.get("document").cloned().unwrap_or(Value::Null),
                    ),
                    other => ("trust-policy".to_owned(), other.clone()),
                };
                let p = parse_doc(&doc, PolicyKind::Trust, &id)?;
                Some(PolicySet::new(PolicyKind::Trust, [(id, p)]))
            }
        };
        Ok(Self {
            control,
            management_account: policies.management_account.unwrap_or(false),
            session: set(&policies.session, PolicyKind::Session, "session")?,
            identity: set(&policies.identity, PolicyKind::Identity, "identity")?,
            resource_group_identity: set(
                &policies.resource_group_identity,
                PolicyKind::Identity,
                "resourceGroupIdentity",
            )?,
            resource: set(&policies.resource, PolicyKind::Resource, "resource")?,
            trust,
        })
    }

    /// Borrows the compiled sets as evaluation input.
    pub fn policies(&self) -> Policies<'_> {
        Policies {
            control: &self.control,
            management_account: self.management_account,
            session: self.session.as_ref(),
            identity: self.identity.as_ref(),
            resource_group_identity: self.resource_group_identity.as_ref(),
            resource: self.resource.as_ref(),
            trust: self.trust.as_ref(),
        }
    }
}

fn parse_doc(doc: &Value, kind: PolicyKind, id: &str) -> Result<Policy, CorpusError> {
    let limits = Limits::default();
    let parsed = match doc {
        Value::String(text) => Policy::parse_with_limits(text, kind, &limits),
        other => Policy::from_json_value(other, kind, &limits),
    };
    parsed.map_err(|error| CorpusError::Policy {
        id: id.to_owned(),
        kind: kind.name(),
        error,
    })
}

fn compile_set(
    docs: &[PolicyDoc],
    kind: PolicyKind,
    prefix: &str,
) -> Result<Option<PolicySet>, CorpusError> {
    if docs.is_empty() {
        return Ok(None);
    }
    let mut b = PolicySet::builder(kind);
    for (i, d) in docs.iter().enumerate() {
        let id = d.id.clone().unwrap_or_else(|| format!("{prefix}[{i}]"));
        let p = parse_doc(&d.document, kind, &id)?;
        let scope = match d.effect_scope.as_deref() {
            Some(s) if s.eq_ignore_ascii_case("all") => EffectScope::All,
            _ => EffectScope::Ram,
        };
        b = b.add_with_scope(id, p, scope);
    }
    Ok(Some(b.build()))
}

impl CorpusRequest {
    /// Builds the evaluation request.
    ///
    /// # Errors
    ///
    /// When the context is not an object of scalars or lists.
    pub fn to_request(&self) -> Result<Request, String> {
        let ctx = match &self.context {
            None | Some(Value::Null) => Context::new(),
            Some(v) => Context::from_json(v).map_err(|e| e.to_string())?,
        };
        Ok(
            Request::new(&self.principal, &self.action, &self.resource, ctx)
                .with_service_linked_role(self.service_linked_role.unwrap_or(false)),
        )
    }
}

/// The result of one corpus request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// Position in the file (0-based).
    pub index: usize,
    /// Label: the request's name, or `action on resource`.
    pub name: String,
    /// What the file expects.
    pub expected: String,
    /// What the engine decided (`Error` when the request could not be built).
    pub actual: String,
    /// Whether they agree (decision and any extension expectations).
    pub passed: bool,
    /// One-line reason for the decision, or what went wrong.
    pub reason: String,
}

/// The results of one corpus file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The file's description.
    pub description: String,
    /// One entry per request.
    pub cases: Vec<CaseResult>,
}

impl FileReport {
    /// Number of passing cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }

    /// Number of failing cases.
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
}

/// Parses a corpus file's text.
///
/// # Errors
///
/// [`CorpusError::Format`] when the text is not a corpus file.
pub fn parse_corpus(text: &str) -> Result<CorpusFile, CorpusError> {
    serde_json::from_str(text).map_err(|e| CorpusError::Format(e.to_string()))
}

/// Runs every request of a corpus file and compares with the expectations.
///
/// # Errors
///
/// When the file is not a corpus file or one of its policies is invalid.
pub fn run_corpus(text: &str) -> Result<FileReport, CorpusError> {
    let file = parse_corpus(text)?;
    let scenario = Scenario::compile(&file.policies.clone().unwrap_or_default())?;
    let policies = scenario.policies();
    let cases = file
        .requests
        .iter()
        .enumerate()
        .map(|(index, r)| run_case(index, r, &policies))
        .collect();
    Ok(FileReport {
        description: file.description.unwrap_or_default(),
        cases,
    })
}

fn run_case(index: usize, r: &CorpusRequest, policies: &Policies<'_>) -> CaseResult {
    let name = r
        .name
        .clone()
        .unwrap_or_else(|| format!("#{index} {} {} on {}", r.principal, r.action, r.resource));
    let request = match r.to_request() {
        Ok(req) => req,
        Err(e) => {
            return CaseResult {
                index,
                name,
                expected: r.expect.clone(),
                actual: "Error".into(),
                passed: false,
                reason: e,
            };
        }
    };
    let decision = evaluate(policies, &request);
    let (passed, mismatch) = check(r, &decision);
    let mut reason = crate::explain::why(&decision);
    if let Some(m) = mismatch {
        reason = format!("{m}; {reason}");
    }
    CaseResult {
        index,
        name,
        expected: r.expect.clone(),
        actual: decision.outcome.as_str().to_owned(),
        passed,
        reason,
    }
}

fn check(r: &CorpusRequest, d: &Decision<'_>) -> (bool, Option<String>) {
    let Some(expected) = Outcome::from_name(&r.expect) else {
        return (
            false,
            Some(format!(
                "`expect` must be Allow, ExplicitDeny or ImplicitDeny, not `{}`",
                r.expect
            )),
        );
    };
    if expected != d.outcome {
        return (false, None);
    }
    if let Some(t) = &r.expect_policy_type {
        let actual = d.policy_type().map(|p| p.as_str()).unwrap_or("");
        if actual != t {
            return (
                false,
                Some(format!("expected policy type {t}, got {actual}")),
            );
        }
    }
    if let Some(id) = &r.expect_policy_id {
        let actual = d.statement.map(|s| s.policy_id).unwrap_or("");
        if actual != id {
            return (
                false,
                Some(format!("expected deciding policy `{id}`, got `{actual}`")),
            );
        }
    }
    (true, None)
}
