//! The request model and the evaluation pipeline.
//!
//! Pipeline (see `docs/policy.md` for the full rules):
//!
//! 1. control policies, level by level from the account up to the root: every level must
//!    Allow (skipped for the management account and service-linked roles; the account owner
//!    is bound only by the Deny statements of [`EffectScope::All`](crate::EffectScope::All)
//!    policies);
//! 2. the session policy, when present, must Allow;
//! 3. identity policies (account level, then resource-group level when the account level is
//!    an implicit deny) ∪ resource policies;
//! 4. assume-role variant: (3) and the role's trust policy must both Allow.
//!
//! An explicit Deny in any evaluated stage makes the decision `ExplicitDeny`, whatever the
//! stages before it decided; otherwise the first stage that failed to Allow makes it
//! `ImplicitDeny`.

use std::sync::Arc;

use crate::ast::Effect;
use crate::compile::{PolicySet, SetMatch, canonical_ram_arn};
use crate::value::{Context, ContextValue};

/// What kind of identity made the request, read from its ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// The account owner: `acs:ram::<acct>:root`.
    Root,
    /// A RAM user: `acs:ram::<acct>:user/<name>`.
    User,
    /// A RAM role without a session name: `acs:ram::<acct>:role/<name>`.
    Role,
    /// A role session: `acs:ram::<acct>:role/<name>/<session>` or
    /// `acs:ram::<acct>:assumed-role/<name>/<session>`.
    AssumedRole,
    /// A cloud service such as `ecs.aliyuncs.com`.
    Service,
    /// An identity provider: `acs:ram::<acct>:saml-provider/<name>` or `...:oidc-provider/<name>`.
    Federated,
    /// Anything else.
    Other,
}

/// The caller, parsed once when the request is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalInfo {
    /// The kind of identity.
    pub kind: PrincipalKind,
    /// Owning account id (empty for services).
    pub account: Box<str>,
    /// User, role or provider name (empty for roots and services).
    pub name: Box<str>,
    /// Role session name, for role sessions.
    pub session: Option<Box<str>>,
    pub(crate) arn_lower: Box<str>,
    pub(crate) role_arn_lower: Option<Box<str>>,
}

impl PrincipalInfo {
    /// Parses a principal ARN or service name.
    pub fn parse(principal: &str) -> Self {
        let lower = principal.to_lowercase();
        let mut info = Self {
            kind: PrincipalKind::Other,
            account: "".into(),
            name: "".into(),
            session: None,
            arn_lower: canonical_ram_arn(&lower).into(),
            role_arn_lower: None,
        };
        let parts: Vec<&str> = principal.splitn(5, ':').collect();
        let [acs, ram, _region, account, rest] = parts.as_slice() else {
            if !principal.contains(':') && principal.contains('.') {
                info.kind = PrincipalKind::Service;
            }
            return info;
        };
        if !acs.eq_ignore_ascii_case("acs") || !ram.eq_ignore_ascii_case("ram") {
            return info;
        }
        info.account = (*account).into();
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            [root] if root.eq_ignore_ascii_case("root") => info.kind = PrincipalKind::Root,
            ["user", name] => {
                info.kind = PrincipalKind::User;
                info.name = (*name).into();
            }
            ["role", name] => {
                info.kind = PrincipalKind::Role;
                info.name = (*name).into();
            }
            ["role" | "assumed-role", name, session] => {
                info.kind = PrincipalKind::AssumedRole;
                info.name = (*name).into();
                info.session = Some((*session).into());
                info.role_arn_lower = Some(
                    format!("acs:ram::{}:role/{}", account, name)
                        .to_lowercase()
                        .into(),
                );
            }
            ["saml-provider" | "oidc-provider", name] => {
                info.kind = PrincipalKind::Federated;
                info.name = (*name).into();
            }
            _ => {}
        }
        info
    }

    /// The role ARN (`acs:ram::<acct>:role/<name>`) of a role session, as written.
    fn role_arn(&self) -> Option<String> {
        (self.kind == PrincipalKind::AssumedRole)
            .then(|| format!("acs:ram::{}:role/{}", self.account, self.name))
    }
}

/// A request to decide: who (`principal` ARN), what (`action`), on what (`resource` ARN), and
/// the condition context. Build it once per API call; evaluation does not allocate for it.
#[derive(Debug, Clone)]
pub struct Request {
    principal: Box<str>,
    info: PrincipalInfo,
    action: Box<str>,
    action_lower: Box<str>,
    colon: Option<usize>,
    resource: Box<str>,
    resource_lower_ram: Option<Box<str>>,
    context: Context,
    service_linked_role: bool,
}

impl Request {
    /// Builds a request.
    ///
    /// When the context has no `acs:PrincipalARN`, it is filled in from `principal` (and, for
    /// a role session, the role's ARN as a second value), because control policies commonly
    /// exempt principals by ARN.
    pub fn new(principal: &str, action: &str, resource: &str, mut context: Context) -> Self {
        let info = PrincipalInfo::parse(principal);
        if context.get_lower("acs:principalarn").is_empty() && !principal.is_empty() {
            let mut values = vec![ContextValue::string(principal)];
            if let Some(role) = info.role_arn() {
                values.push(ContextValue::string(&role));
            }
            context.set("acs:PrincipalARN", values);
        }
        let action_lower: Box<str> = action.to_lowercase().into();
        let colon = action_lower.find(':');
        let is_ram = resource
            .get(..8)
            .is_some_and(|p| p.eq_ignore_ascii_case("acs:ram:"));
        Self {
            principal: principal.into(),
            info,
            action: action.into(),
            action_lower,
            colon,
            resource: resource.into(),
            resource_lower_ram: is_ram.then(|| resource.to_lowercase().into()),
            context,
            service_linked_role: false,
        }
    }

    /// Marks the caller as a service-linked role, which control policies do not bind.
    #[must_use]
    pub fn with_service_linked_role(mut self, yes: bool) -> Self {
        self.service_linked_role = yes;
        self
    }

    /// The principal ARN as given.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The parsed principal.
    pub fn principal_info(&self) -> &PrincipalInfo {
        &self.info
    }

    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource ARN as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The condition context.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Whether the caller was marked as a service-linked role.
    pub fn is_service_linked_role(&self) -> bool {
        self.service_linked_role
    }

    pub(crate) fn action_lower(&self) -> &str {
        &self.action_lower
    }

    pub(crate) fn service_lower(&self) -> Option<&str> {
        self.colon.and_then(|c| self.action_lower.get(..c))
    }

    pub(crate) fn resource_lower_ram(&self) -> Option<&str> {
        self.resource_lower_ram.as_deref()
    }

    /// The account segment of the resource ARN (`acs:<svc>:<region>:<account>:...`).
    pub fn resource_account(&self) -> &str {
        self.resource.split(':').nth(3).unwrap_or("")
    }
}

/// The policies that apply to one request. All fields borrow compiled sets, which a server
/// builds once and caches (per principal, per account path, per resource).
#[derive(Debug, Clone, Copy, Default)]
pub struct Policies<'a> {
    /// Control policy levels from the resource's account up to the Root folder. Empty when
    /// the Resource Directory or its control policies are not enabled.
    pub control: &'a [Arc<PolicySet>],
    /// The account is the Resource Directory's management account (control policies skipped).
    pub management_account: bool,
    /// Session policy of a role session created with `Policy`.
    pub session: Option<&'a PolicySet>,
    /// Account-level identity policies: the user's and its groups', or the role's.
    pub identity: Option<&'a PolicySet>,
    /// Identity policies attached at the resource group that holds the resource.
    pub resource_group_identity: Option<&'a PolicySet>,
    /// Resource-based policies of the target resource (e.g. a bucket policy).
    pub resource: Option<&'a PolicySet>,
    /// Present for `sts:AssumeRole`: the role's trust policy, which must also Allow.
    pub trust: Option<&'a PolicySet>,
}

/// The final answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The request may proceed.
    Allow,
    /// A Deny statement matched.
    ExplicitDeny,
    /// Some required stage had no matching Allow.
    ImplicitDeny,
}

impl Outcome {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny` (the corpus and `NoPermissionType` spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::ExplicitDeny => "ExplicitDeny",
            Self::ImplicitDeny => "ImplicitDeny",
        }
    }

    /// Parses [`Outcome::as_str`] output.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "Allow" => Self::Allow,
            "ExplicitDeny" => Self::ExplicitDeny,
            "ImplicitDeny" => Self::ImplicitDeny,
            _ => return None,
        })
    }
}

/// Policy types as Alibaba Cloud names them in `AccessDeniedDetail.PolicyType` and
/// `DecodedDiagnosticMessage.NoPermissionPolicyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// `ControlPolicy`.
    ControlPolicy,
    /// `SessionPolicy`.
    SessionPolicy,
    /// `AccountLevelIdentityBasedPolicy`.
    AccountLevelIdentityBasedPolicy,
    /// `ResourceGroupLevelIdentityBasedPolicy`.
    ResourceGroupLevelIdentityBasedPolicy,
    /// `ResourceBasedPolicy`.
    ResourceBasedPolicy,
    /// `AssumeRolePolicy` (a role's trust policy).
    AssumeRolePolicy,
}

impl PolicyType {
    /// The Alibaba spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ControlPolicy => "ControlPolicy",
            Self::SessionPolicy => "SessionPolicy",
            Self::AccountLevelIdentityBasedPolicy => "AccountLevelIdentityBasedPolicy",
            Self::ResourceGroupLevelIdentityBasedPolicy => "ResourceGroupLevelIdentityBasedPolicy",
            Self::ResourceBasedPolicy => "ResourceBasedPolicy",
            Self::AssumeRolePolicy => "AssumeRolePolicy",
        }
    }
}

/// A stage of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Control policies at one level (0 = the account's own level).
    Control {
        /// Level index, counted from the account up.
        level: usize,
    },
    /// The session policy.
    Session,
    /// Account-level identity policies.
    Identity,
    /// Resource-group-level identity policies.
    ResourceGroupIdentity,
    /// Resource-based policies.
    Resource,
    /// The role's trust policy (assume-role requests).
    Trust,
}

impl Stage {
    /// The policy type reported for this stage.
    pub fn policy_type(self) -> PolicyType {
        match self {
            Self::Control { .. } => PolicyType::ControlPolicy,
            Self::Session => PolicyType::SessionPolicy,
            Self::Identity => PolicyType::AccountLevelIdentityBasedPolicy,
            Self::ResourceGroupIdentity => PolicyType::ResourceGroupLevelIdentityBasedPolicy,
            Self::Resource => PolicyType::ResourceBasedPolicy,
            Self::Trust => PolicyType::AssumeRolePolicy,
        }
    }

    /// A short human name.
    pub fn name(self) -> String {
        match self {
            Self::Control { level } => format!("control policies (level {level})"),
            Self::Session => "session policy".into(),
            Self::Identity => "identity policies".into(),
            Self::ResourceGroupIdentity => "resource-group identity policies".into(),
            Self::Resource => "resource policies".into(),
            Self::Trust => "trust policy".into(),
        }
    }
}

/// What one stage decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageResult {
    /// An Allow matched and no Deny did.
    Allow,
    /// A Deny matched.
    ExplicitDeny,
    /// Nothing matched.
    ImplicitDeny,
    /// The stage does not apply to this request (see the note).
    Skipped,
}

impl StageResult {
    /// The spelling used in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::ExplicitDeny => "ExplicitDeny",
            Self::ImplicitDeny => "ImplicitDeny",
            Self::Skipped => "Skipped",
        }
    }
}

/// A statement that matched.
#[derive(Debug, Clone, Copy)]
pub struct MatchedStatement<'a> {
    /// The id the policy was added under.
    pub policy_id: &'a str,
    /// Index of the statement in its policy (0-based).
    pub statement_index: usize,
    /// The statement's `Sid`, if any.
    pub sid: Option<&'a str>,
    /// The statement's effect.
    pub effect: Effect,
    pub(crate) set: &'a PolicySet,
}

impl PartialEq for MatchedStatement<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.policy_id == other.policy_id
            && self.statement_index == other.statement_index
            && self.effect == other.effect
    }
}

impl<'a> MatchedStatement<'a> {
    fn new(set: &'a PolicySet, id: u32) -> Option<Self> {
        let st = set.statement(id)?;
        let entry = set.policy_entry(st.policy)?;
        let statement = entry.policy.statements.get(st.index as usize)?;
        Some(Self {
            policy_id: &entry.id,
            statement_index: st.index as usize,
            sid: statement.sid.as_deref(),
            effect: st.effect,
            set,
        })
    }

    /// The statement's JSON text (for explanations).
    pub fn statement_json(&self) -> serde_json::Value {
        self.set
            .policies()
            .find(|(id, _)| *id == self.policy_id)
            .and_then(|(_, p)| p.statements.get(self.statement_index))
            .map_or(serde_json::Value::Null, crate::ast::Statement::to_json)
    }
}

/// One line of the trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StageTrace<'a> {
    /// Which stage.
    pub stage: Stage,
    /// What it decided.
    pub result: StageResult,
    /// The first matching Deny (for `ExplicitDeny`) or Allow (for `Allow`), in document order.
    pub statement: Option<MatchedStatement<'a>>,
    /// Why a stage was skipped or decided without a statement.
    pub note: Option<&'static str>,
}

/// A decision with its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    /// The answer.
    pub outcome: Outcome,
    /// The stage that decided: the first explicit Deny, the first stage that failed to Allow,
    /// or for an Allow the stage whose statement granted it.
    pub stage: Option<Stage>,
    /// The deciding statement (none for an implicit deny).
    pub statement: Option<MatchedStatement<'a>>,
    /// Every stage evaluated, in pipeline order.
    pub trace: Vec<StageTrace<'a>>,
}

impl Decision<'_> {
    /// True when the request may proceed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The policy type to report (`AccessDeniedDetail.PolicyType`).
    pub fn policy_type(&self) -> Option<PolicyType> {
        self.stage.map(Stage::policy_type)
    }
}

fn stage_from_match<'a>(stage: Stage, set: &'a PolicySet, m: SetMatch) -> StageTrace<'a> {
    let (result, id) = match (m.deny, m.allow) {
        (Some(d), _) => (StageResult::ExplicitDeny, Some(d)),
        (None, Some(a)) => (StageResult::Allow, Some(a)),
        (None, None) => (StageResult::ImplicitDeny, None),
    };
    StageTrace {
        stage,
        result,
        statement: id.and_then(|id| MatchedStatement::new(set, id)),
        note: None,
    }
}

fn skipped<'a>(stage: Stage, note: &'static str) -> StageTrace<'a> {
    StageTrace {
        stage,
        result: StageResult::Skipped,
        statement: None,
        note: Some(note),
    }
}

/// Decides `request` against `policies`.
///
/// This is the only entry point; it never fails. Inputs that cannot match (a context value
/// that is not a number for a `Numeric*` operator, say) simply do not match; see the
/// documentation of each operator.
pub fn evaluate<'a>(policies: &Policies<'a>, request: &Request) -> Decision<'a> {
    let mut trace: Vec<StageTrace<'a>> = Vec::with_capacity(3 + policies.control.len());
    let caller = request.principal_info();
    let owner = caller.kind == PrincipalKind::Root;

    // 1. Control policies.
    let mut control_failed: Option<Stage> = None;
    if !policies.control.is_empty() {
        if policies.management_account {
            trace.push(skipped(
                Stage::Control { level: 0 },
                "control policies do not apply to the management account",
            ));
        } else if request.is_service_linked_role() {
            trace.push(skipped(
                Stage::Control { level: 0 },
                "control policies do not apply to service-linked roles",
            ));
        } else {
            for (level, set) in policies.control.iter().enumerate() {
                let stage = Stage::Control { level };
                if owner && !set.binds_owner() {
                    trace.push(skipped(
                        stage,
                        "control policies with EffectScope RAM do not bind the account owner",
                    ));
                    continue;
                }
                let t = stage_from_match(stage, set, set.find(request, owner));
                if owner && t.result != StageResult::ExplicitDeny {
                    trace.push(skipped(
                        stage,
                        "only Deny statements of EffectScope All control policies bind the account owner",
                    ));
                    continue;
                }
                if t.result == StageResult::ImplicitDeny && control_failed.is_none() {
                    control_failed = Some(stage);
                }
                trace.push(t);
            }
        }
    }

    // 2. Session policy.
    let mut session_failed = None;
    if let Some(set) = policies.session {
        let t = stage_from_match(Stage::Session, set, set.find(request, false));
        if t.result == StageResult::ImplicitDeny {
            session_failed = Some(Stage::Session);
        }
        trace.push(t);
    }

    // 3. Identity ∪ resource.
    let assume = policies.trust.is_some();
    let identity = if owner && owns(caller, request) {
        StageTrace {
            stage: Stage::Identity,
            result: StageResult::Allow,
            statement: None,
            note: Some("the account owner has full permissions on its own resources"),
        }
    } else if assume
        && matches!(
            caller.kind,
            PrincipalKind::Service | PrincipalKind::Federated
        )
    {
        skipped(
            Stage::Identity,
            "identity policies are not evaluated for service and federated callers",
        )
    } else if let Some(set) = policies.identity {
        stage_from_match(Stage::Identity, set, set.find(request, false))
    } else {
        StageTrace {
            stage: Stage::Identity,
            result: StageResult::ImplicitDeny,
            statement: None,
            note: Some("no identity policies"),
        }
    };
    let identity_result = identity.result;
    let mut identity_allow = identity;
    trace.push(identity);
    if let Some(set) = policies.resource_group_identity {
        if identity_result == StageResult::ImplicitDeny {
            let t = stage_from_match(Stage::ResourceGroupIdentity, set, set.find(request, false));
            if t.result == StageResult::Allow {
                identity_allow = t;
            }
            trace.push(t);
        } else {
            trace.push(skipped(
                Stage::ResourceGroupIdentity,
                "account-level identity policies already decided",
            ));
        }
    }
    let mut resource_allow = None;
    if let Some(set) = policies.resource {
        let t = stage_from_match(Stage::Resource, set, set.find(request, false));
        if t.result == StageResult::Allow {
            resource_allow = Some(t);
        }
        trace.push(t);
    }
    let mut trust_result = None;
    if let Some(set) = policies.trust {
        let t = stage_from_match(Stage::Trust, set, set.find(request, false));
        trust_result = Some(t);
        trace.push(t);
    }

    // Combine: an explicit deny anywhere wins.
    if let Some(t) = trace.iter().find(|t| t.result == StageResult::ExplicitDeny) {
        return Decision {
            outcome: Outcome::ExplicitDeny,
            stage: Some(t.stage),
            statement: t.statement,
            trace,
        };
    }
    let implicit = |stage: Stage, trace: Vec<StageTrace<'a>>| Decision {
        outcome: Outcome::ImplicitDeny,
        stage: Some(stage),
        statement: None,
        trace,
    };
    if let Some(stage) = control_failed.or(session_failed) {
        return implicit(stage, trace);
    }
    let a_allows = matches!(
        identity_allow.result,
        StageResult::Allow | StageResult::Skipped
    );
    let granted = if a_allows {
        Some(identity_allow)
    } else {
        resource_allow
    };
    let Some(granted) = granted else {
        return implicit(Stage::Identity, trace);
    };
    let granted = match trust_result {
        None => granted,
        Some(t) if t.result == StageResult::Allow => {
            if granted.result == StageResult::Skipped {
                t
            } else {
                granted
            }
        }
        Some(_) => return implicit(Stage::Trust, trace),
    };
    Decision {
        outcome: Outcome::Allow,
        stage: Some(granted.stage),
        statement: granted.statement,
        trace,
    }
}

/// Whether the account owner `caller` owns the resource: same account, or a resource ARN
/// without a concrete account (`*`, empty).
fn owns(caller: &PrincipalInfo, request: &Request) -> bool {
    let acct = request.resource_account();
    acct.is_empty() || acct == "*" || request.resource() == "*" || acct == &*caller.account
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_parsing() {
        let p = PrincipalInfo::parse("acs:ram::123:assumed-role/Admin/alice");
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(&*p.account, "123");
        assert_eq!(p.role_arn_lower.as_deref(), Some("acs:ram::123:role/admin"));
        assert_eq!(
            PrincipalInfo::parse("acs:ram::123:role/Admin/alice").kind,
            PrincipalKind::AssumedRole
        );
        assert_eq!(
            PrincipalInfo::parse("acs:ram::123:root").kind,
            PrincipalKind::Root
        );
        assert_eq!(
            PrincipalInfo::parse("ecs.aliyuncs.com").kind,
            PrincipalKind::Service
        );
        assert_eq!(
            PrincipalInfo::parse("acs:ram::1:saml-provider/idp").kind,
            PrincipalKind::Federated
        );
        assert_eq!(PrincipalInfo::parse("bob").kind, PrincipalKind::Other);
    }

    #[test]
    fn request_fills_principal_arn() {
        let r = Request::new("acs:ram::1:role/r/s", "oss:GetObject", "*", Context::new());
        assert_eq!(r.context().get("acs:PrincipalArn").len(), 2);
    }
}
