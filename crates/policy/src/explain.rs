//! Explanations of decisions: for API clients (`AccessDeniedDetail`, the diagnostic message)
//! and for people (a plain-text "why" view and a JSON trace).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::compile::PolicySet;
use crate::eval::{Decision, Outcome, Policies, PrincipalKind, Request, Stage, StageResult};

/// The `AccessDeniedDetail` object Alibaba Cloud adds to a `NoPermission` error body.
///
/// Field names follow the public API reference (PascalCase in RPC responses; some newer APIs
/// print the same names in camelCase). Policy names are deliberately absent: Alibaba puts
/// them only in the encoded diagnostic message, which the account owner decodes with
/// `DecodeDiagnosticMessage`. See [`DiagnosticMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessDeniedDetail {
    /// The action that was checked, e.g. `oss:GetObject`.
    pub auth_action: String,
    /// `SubUser`, `AssumedRoleUser`, `Federated`; `Account` and `Service` are our spellings
    /// for callers Alibaba never reports.
    pub auth_principal_type: String,
    /// Account id owning the caller.
    pub auth_principal_owner_id: String,
    /// User name, `<role>:<session>` for a role session, or the ARN otherwise.
    pub auth_principal_display_name: String,
    /// `ExplicitDeny` or `ImplicitDeny`.
    pub no_permission_type: String,
    /// `ControlPolicy`, `SessionPolicy`, `AccountLevelIdentityBasedPolicy`,
    /// `ResourceGroupLevelIdentityBasedPolicy`, `ResourceBasedPolicy` or `AssumeRolePolicy`.
    pub policy_type: String,
    /// Opaque diagnostic blob; the server fills it by encoding a [`DiagnosticMessage`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoded_diagnostic_message: Option<String>,
}

/// The decoded diagnostic message (the shape of `DecodeDiagnosticMessage`'s
/// `DecodedDiagnosticMessage`), plus the deciding policy, for the account owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiagnosticMessage {
    /// Whether the denial is explicit.
    pub explicit_deny: bool,
    /// The policy type that denied.
    pub no_permission_policy_type: String,
    /// The action checked.
    pub auth_action: String,
    /// The resource checked.
    pub auth_resource: String,
    /// The caller.
    pub auth_principal: DiagnosticPrincipal,
    /// The deciding policy id, when a Deny statement decided (our extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_identifier: Option<String>,
    /// The deciding statement index within that policy (our extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_index: Option<usize>,
}

/// The caller in a [`DiagnosticMessage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiagnosticPrincipal {
    /// As in [`AccessDeniedDetail::auth_principal_type`].
    pub auth_principal_type: String,
    /// As in [`AccessDeniedDetail::auth_principal_owner_id`].
    pub auth_principal_owner_id: String,
    /// As in [`AccessDeniedDetail::auth_principal_display_name`].
    pub auth_principal_display_name: String,
}

fn principal_fields(request: &Request) -> DiagnosticPrincipal {
    let info = request.principal_info();
    let kind = match info.kind {
        PrincipalKind::User => "SubUser",
        PrincipalKind::Role | PrincipalKind::AssumedRole => "AssumedRoleUser",
        PrincipalKind::Federated => "Federated",
        PrincipalKind::Root => "Account",
        PrincipalKind::Service => "Service",
        PrincipalKind::Other => "Unknown",
    };
    let display = match (info.kind, &info.session) {
        (PrincipalKind::AssumedRole, Some(session)) => format!("{}:{}", info.name, session),
        (PrincipalKind::User | PrincipalKind::Role | PrincipalKind::Federated, _) => {
            info.name.to_string()
        }
        _ => request.principal().to_owned(),
    };
    DiagnosticPrincipal {
        auth_principal_type: kind.into(),
        auth_principal_owner_id: info.account.to_string(),
        auth_principal_display_name: display,
    }
}

impl Decision<'_> {
    /// The `AccessDeniedDetail` for a denied request; `None` when allowed.
    pub fn access_denied_detail(&self, request: &Request) -> Option<AccessDeniedDetail> {
        if self.outcome == Outcome::Allow {
            return None;
        }
        let p = principal_fields(request);
        Some(AccessDeniedDetail {
            auth_action: request.action().to_owned(),
            auth_principal_type: p.auth_principal_type,
            auth_principal_owner_id: p.auth_principal_owner_id,
            auth_principal_display_name: p.auth_principal_display_name,
            no_permission_type: self.outcome.as_str().to_owned(),
            policy_type: self
                .policy_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            encoded_diagnostic_message: None,
        })
    }

    /// The diagnostic message for a denied request; `None` when allowed.
    pub fn diagnostic_message(&self, request: &Request) -> Option<DiagnosticMessage> {
        if self.outcome == Outcome::Allow {
            return None;
        }
        Some(DiagnosticMessage {
            explicit_deny: self.outcome == Outcome::ExplicitDeny,
            no_permission_policy_type: self
                .policy_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            auth_action: request.action().to_owned(),
            auth_resource: request.resource().to_owned(),
            auth_principal: principal_fields(request),
            policy_identifier: self.statement.map(|s| s.policy_id.to_owned()),
            statement_index: self.statement.map(|s| s.statement_index),
        })
    }

    /// The decision and its trace as JSON (the `--output json` form of the CLI).
    pub fn to_json(&self, request: &Request) -> Value {
        let trace: Vec<Value> = self
            .trace
            .iter()
            .map(|t| {
                let mut v = json!({
                    "stage": stage_key(t.stage),
                    "policyType": t.stage.policy_type().as_str(),
                    "result": t.result.as_str(),
                });
                if let (Stage::Control { level }, Value::Object(m)) = (t.stage, &mut v) {
                    m.insert("level".into(), json!(level));
                }
                if let (Some(s), Value::Object(m)) = (t.statement, &mut v) {
                    m.insert("policyId".into(), json!(s.policy_id));
                    m.insert("statement".into(), json!(s.statement_index));
                    if let Some(sid) = s.sid {
                        m.insert("sid".into(), json!(sid));
                    }
                }
                if let (Some(note), Value::Object(m)) = (t.note, &mut v) {
                    m.insert("note".into(), json!(note));
                }
                v
            })
            .collect();
        json!({
            "decision": self.outcome.as_str(),
            "policyType": self.policy_type().map(|t| t.as_str()),
            "policyId": self.statement.map(|s| s.policy_id),
            "statement": self.statement.map(|s| s.statement_index),
            "sid": self.statement.and_then(|s| s.sid),
            "request": {
                "principal": request.principal(),
                "action": request.action(),
                "resource": request.resource(),
            },
            "trace": trace,
            "accessDeniedDetail": self.access_denied_detail(request),
        })
    }
}

fn stage_key(stage: Stage) -> &'static str {
    match stage {
        Stage::Control { .. } => "control",
        Stage::Session => "session",
        Stage::Identity => "identity",
        Stage::ResourceGroupIdentity => "resourceGroupIdentity",
        Stage::Resource => "resource",
        Stage::Trust => "trust",
    }
}

/// One sentence saying why the decision came out as it did.
pub fn why(decision: &Decision<'_>) -> String {
    let stage = decision
        .stage
        .map_or_else(|| "the pipeline".to_owned(), Stage::name);
    match (decision.outcome, decision.statement) {
        (Outcome::Allow, Some(s)) => format!(
            "allowed by {} statement {}{} of policy `{}`",
            stage,
            s.statement_index,
            sid_suffix(s.sid),
            s.policy_id
        ),
        (Outcome::Allow, None) => {
            let note = decision
                .trace
                .iter()
                .find(|t| Some(t.stage) == decision.stage)
                .and_then(|t| t.note)
                .unwrap_or("every required stage allowed");
            format!("allowed: {note}")
        }
        (Outcome::ExplicitDeny, Some(s)) => format!(
            "explicitly denied by {} statement {}{} of policy `{}`; a Deny wins over any Allow",
            stage,
            s.statement_index,
            sid_suffix(s.sid),
            s.policy_id
        ),
        (Outcome::ExplicitDeny, None) => format!("explicitly denied by {stage}"),
        (Outcome::ImplicitDeny, _) => match decision.stage {
            Some(Stage::Control { level }) => format!(
                "implicitly denied: no control policy at level {level} allows the request, and every level from the account up to the Root folder must allow it"
            ),
            Some(Stage::Session) => {
                "implicitly denied: the session policy does not allow the request (a session policy can only narrow the role's permissions)".into()
            }
            Some(Stage::Trust) => {
                "implicitly denied: the role's trust policy does not trust this caller for this request".into()
            }
            _ => "implicitly denied: no identity or resource policy statement allows the request".into(),
        },
    }
}

fn sid_suffix(sid: Option<&str>) -> String {
    sid.map(|s| format!(" (Sid `{s}`)")).unwrap_or_default()
}

/// Renders the human "why" view: the decision, the reason, the trace and, for stages that did
/// not allow, the statements that nearly matched and what stopped them.
pub fn render_text(decision: &Decision<'_>, policies: &Policies<'_>, request: &Request) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Decision: {}", decision.outcome.as_str());
    let _ = writeln!(out, "Why:      {}", why(decision));
    let _ = writeln!(
        out,
        "Request:  {} {} on {}",
        request.principal(),
        request.action(),
        request.resource()
    );
    let _ = writeln!(out, "Trace:");
    for t in &decision.trace {
        let detail = match (t.statement, t.note) {
            (Some(s), _) => format!(
                "policy `{}` statement {}{}",
                s.policy_id,
                s.statement_index,
                sid_suffix(s.sid)
            ),
            (None, Some(note)) => note.to_owned(),
            (None, None) => "no statement matched".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {:<36} {:<13} {}",
            t.stage.name(),
            t.result.as_str(),
            detail
        );
        if t.result == StageResult::ImplicitDeny
            && let Some(set) = set_for(policies, t.stage)
        {
            for line in near_misses(set, request, 5) {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if let Some(detail) = decision.access_denied_detail(request) {
        let _ = writeln!(
            out,
            "AccessDeniedDetail: {}",
            serde_json::to_string(&detail).unwrap_or_default()
        );
    }
    out
}

fn set_for<'a>(policies: &Policies<'a>, stage: Stage) -> Option<&'a PolicySet> {
    match stage {
        Stage::Control { level } => policies.control.get(level).map(|a| &**a),
        Stage::Session => policies.session,
        Stage::Identity => policies.identity,
        Stage::ResourceGroupIdentity => policies.resource_group_identity,
        Stage::Resource => policies.resource,
        Stage::Trust => policies.trust,
    }
}

/// Statements whose action matches but which did not apply, with the first reason each.
pub fn near_misses(set: &PolicySet, request: &Request, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    for st in set.statements() {
        if out.len() >= limit {
            break;
        }
        if !st.action_matches(request) {
            continue;
        }
        let Some(entry) = set.policy_entry(st.policy) else {
            continue;
        };
        let reason = if !st.resource_matches(request) {
            "its Resource does not match".to_owned()
        } else if !st.principal_matches(request) {
            "its Principal does not match the caller".to_owned()
        } else if let Some(ci) = st.failing_condition(request.context()) {
            let cond = entry
                .policy
                .statements
                .get(st.index as usize)
                .and_then(|s| s.conditions.get(ci));
            match cond {
                Some(c) => {
                    let have = request.context().get(&c.key);
                    let have = if have.is_empty() {
                        "the key is missing from the request".to_owned()
                    } else {
                        format!(
                            "the request has {}",
                            have.iter()
                                .map(|v| format!("\"{}\"", v.as_str()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    format!(
                        "condition {} {} {:?} is not met ({have})",
                        c.operator.name(),
                        c.key,
                        c.values
                    )
                }
                None => "a condition is not met".to_owned(),
            }
        } else {
            continue;
        };
        out.push(format!(
            "near miss: policy `{}` statement {} ({}) matches the action but {}",
            entry.id,
            st.index,
            st.effect.as_str(),
            reason
        ));
    }
    out
}
