//! The policy decision point for RAM principals: compiles what applies to a caller
//! (identity policies of the user and its groups or of the role, the session policy,
//! control policies from the account up to the Root folder, a role's trust policy for
//! `sts:AssumeRole`) and asks the policy engine.
//!
//! Compiled sets are cached per principal. Any successful write to RAM, STS or Resource
//! Directory through this node invalidates every cached entry ([`IamPolicySource::invalidate`],
//! called by the server); entries also expire after a short TTL so changes made through
//! other nodes of a PostgreSQL deployment are seen within that time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cloudward_policy::{
    Context, ContextValue, EffectScope, Outcome, Policies, Policy, PolicyKind, PolicySet, Request,
    evaluate,
};
use cloudward_protocol::ApiError;
use cloudward_service::{
    Authenticated, DecisionBasis, DecisionFuture, GuardFuture, Params, PolicySource, Principal,
    PrincipalKind,
};
use cloudward_store::Store;

use crate::protect::quarantine::QuarantineGuard;

use crate::util::{entity_not_exist, store_error};

/// Everything that applies to one principal, compiled.
#[derive(Debug)]
struct Compiled {
    identity: Arc<PolicySet>,
    session: Option<Arc<PolicySet>>,
    control: Vec<Arc<PolicySet>>,
    management_account: bool,
    generation: u64,
    built_at: Instant,
}

/// A role's compiled trust policy with its cache generation and build time.
type CachedTrust = (u64, Instant, Arc<PolicySet>);

/// RAM/STS/RD-backed [`PolicySource`].
#[derive(Debug)]
pub struct IamPolicySource {
    store: Store,
    generation: AtomicU64,
    ttl: Duration,
    principals: RwLock<HashMap<String, Arc<Compiled>>>,
    trusts: RwLock<HashMap<String, CachedTrust>>,
    /// The account owner's identity: everything (its own resources are decided by the
    /// engine's owner rule; this set only matters for `sts:AssumeRole` into other
    /// accounts, where the role's trust policy decides).
    root_identity: Arc<PolicySet>,
    /// Leak quarantine of AccessKeys, checked before any policy.
    quarantine: QuarantineGuard,
}

const ROOT_IDENTITY: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Most cached principals; beyond it the cache is cleared (cheap to rebuild).
const MAX_CACHED: usize = 100_000;

impl IamPolicySource {
    /// A policy source over `store`; cached entries live at most `ttl`.
    pub fn new(store: Store, ttl: Duration) -> Result<Self, ApiError> {
        let root = Policy::parse(ROOT_IDENTITY, PolicyKind::Identity)
            .map_err(|_| internal("built-in root identity policy does not parse"))?;
        Ok(Self {
            quarantine: QuarantineGuard::new(store.clone(), ttl),
            store,
            generation: AtomicU64::new(0),
            ttl,
            principals: RwLock::new(HashMap::new()),
            trusts: RwLock::new(HashMap::new()),
            root_identity: Arc::new(PolicySet::new(PolicyKind::Identity, [("root", root)])),
        })
    }

    /// Forgets every compiled set (after any change to identities, policies, attachments,
    /// roles or the directory).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.quarantine.invalidate();
    }

    fn fresh(&self, generation: u64, built_at: Instant) -> bool {
        generation == self.generation.load(Ordering::SeqCst) && built_at.elapsed() < self.ttl
    }

    async fn compiled_for(&self, principal: &Principal) -> Result<Arc<Compiled>, ApiError> {
        let key = match &principal.kind {
            PrincipalKind::Root => format!("root:{}", principal.account_id),
            PrincipalKind::User { user_id, .. } => {
                format!("user:{}:{user_id}", principal.account_id)
            }
            PrincipalKind::AssumedRole { .. } => format!("sts:{}", principal.access_key_id),
        };
        if let Ok(map) = self.principals.read()
            && let Some(entry) = map.get(&key)
            && self.fresh(entry.generation, entry.built_at)
        {
            return Ok(entry.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let account = &principal.account_id;
        let mut session = None;
        let identity = match &principal.kind {
            PrincipalKind::Root => self.root_identity.clone(),
            PrincipalKind::User { user_id, .. } => {
                let attached = self
                    .store
                    .policies_for_user(account, user_id)
                    .await
                    .map_err(store_error)?;
                identity_set(&attached)?
            }
            PrincipalKind::AssumedRole { role_name, .. } => {
                let record = self
                    .store
                    .find_sts_session(&principal.access_key_id)
                    .await
                    .map_err(store_error)?
                    .ok_or_else(|| internal("session vanished after authentication"))?;
                if let Some(doc) = &record.session_policy {
                    let policy = Policy::parse(doc, PolicyKind::Session)
                        .map_err(|_| internal("stored session policy does not parse"))?;
                    session = Some(Arc::new(PolicySet::new(
                        PolicyKind::Session,
                        [("session-policy", policy)],
                    )));
                }
                let attached = self
                    .store
                    .policies_for_role(account, role_name)
                    .await
                    .map_err(store_error)?;
                identity_set(&attached)?
            }
        };
        let (control, management_account) = match self
            .store
            .control_policy_path(account)
            .await
            .map_err(store_error)?
        {
            None => (Vec::new(), false),
            Some(path) => {
                let mut levels = Vec::with_capacity(path.levels.len());
                for level in &path.levels {
                    let mut builder = PolicySet::builder(PolicyKind::Control);
                    for (id, scope, doc) in level {
                        let policy = Policy::parse(doc, PolicyKind::Control).map_err(|_| {
                            tracing::error!(policy = %id, "stored control policy does not parse");
                            internal("stored control policy does not parse")
                        })?;
                        let scope = if scope.eq_ignore_ascii_case("All") {
                            EffectScope::All
                        } else {
                            EffectScope::Ram
                        };
                        builder = builder.add_with_scope(id.as_str(), policy, scope);
                    }
                    levels.push(Arc::new(builder.build()));
                }
                (levels, path.is_management_account)
            }
        };
        let compiled = Arc::new(Compiled {
            identity,
            session,
            control,
            management_account,
            generation,
            built_at: Instant::now(),
        });
        if let Ok(mut map) = self.principals.write() {
            if map.len() >= MAX_CACHED {
                map.clear();
            }
            map.insert(key, compiled.clone());
        }
        Ok(compiled)
    }

    async fn trust_for(&self, role_arn: &str) -> Result<Arc<PolicySet>, ApiError> {
        let (account, role_name) = parse_role_arn(role_arn).ok_or_else(|| {
            ApiError::new(
                "InvalidParameter.RoleArn",
                400,
                "The parameter RoleArn is wrongly formed.",
            )
        })?;
        let key = format!("{account}:{}", role_name.to_ascii_lowercase());
        if let Ok(map) = self.trusts.read()
            && let Some((generation, built_at, set)) = map.get(&key)
            && self.fresh(*generation, *built_at)
        {
            return Ok(set.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let role = self
            .store
            .get_role(account, role_name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| entity_not_exist("Role", "The specified Role not exists."))?;
        let policy = Policy::parse(&role.assume_role_policy_document, PolicyKind::Trust)
            .map_err(|_| internal("stored trust policy does not parse"))?;
        let set = Arc::new(PolicySet::new(
            PolicyKind::Trust,
            [("trust-policy", policy)],
        ));
        if let Ok(mut map) = self.trusts.write() {
            if map.len() >= MAX_CACHED {
                map.clear();
            }
            map.insert(key, (generation, Instant::now(), set.clone()));
        }
        Ok(set)
    }
}

impl PolicySource for IamPolicySource {
    fn guard<'a>(&'a self, caller: &'a Authenticated, ram_action: &'a str) -> GuardFuture<'a> {
        Box::pin(self.quarantine.check(caller.principal(), ram_action))
    }

    fn decide<'a>(
        &'a self,
        caller: &'a Authenticated,
        action: &'a str,
        resource: &'a str,
        params: &'a Params,
    ) -> DecisionFuture<'a> {
        Box::pin(async move {
            let principal = caller.principal();
            let compiled = self.compiled_for(principal).await?;
            let trust = if action.eq_ignore_ascii_case("sts:AssumeRole") {
                Some(self.trust_for(resource).await?)
            } else {
                None
            };
            let request = Request::new(
                &principal.arn(),
                action,
                resource,
                request_context(caller, action, params),
            );
            let policies = Policies {
                control: &compiled.control,
                management_account: compiled.management_account,
                session: compiled.session.as_deref(),
                identity: Some(&compiled.identity),
                trust: trust.as_deref(),
                ..Policies::default()
            };
            let decision = evaluate(&policies, &request);
            if decision.outcome == Outcome::Allow {
                let deciding = decision
                    .statement
                    .map(|s| vec![s.policy_id.to_owned()])
                    .unwrap_or_default();
                return Ok(DecisionBasis::Policy {
                    deciding_policies: deciding,
                });
            }
            let mut err = ApiError::new(
                "NoPermission",
                403,
                if trust.is_some() {
                    "You are not authorized to do this action. You should be authorized by RAM. No permission perform sts:AssumeRole on this Role. Maybe you are not authorized to perform sts:AssumeRole or the specified role does not trust you."
                } else {
                    "You are not authorized to do this action. You should be authorized by RAM."
                },
            );
            err.access_denied_detail = decision
                .access_denied_detail(&request)
                .and_then(|detail| serde_json::to_value(detail).ok());
            Err(err)
        })
    }
}

/// The condition context of a call: the global keys, plus the STS keys of AssumeRole.
fn request_context(caller: &Authenticated, action: &str, params: &Params) -> Context {
    let ctx = caller.context();
    let mut context = Context::new();
    context.set_str("acs:SourceIp", &ctx.source_ip.to_string());
    context.set_bool("acs:SecureTransport", ctx.secure_transport);
    context.set_bool("acs:MFAPresent", ctx.mfa_present);
    context.set_current_time(ctx.received_at);
    if action.eq_ignore_ascii_case("sts:AssumeRole") {
        for (param, key) in [
            ("ExternalId", "sts:ExternalId"),
            ("RoleSessionName", "sts:RoleSessionName"),
            ("SourceIdentity", "sts:SourceIdentity"),
        ] {
            if let Some(value) = params.get(param).filter(|v| !v.is_empty()) {
                context.set(key, vec![ContextValue::string(value)]);
            }
        }
    }
    context
}

fn identity_set(attached: &[cloudward_store::AttachedPolicy]) -> Result<Arc<PolicySet>, ApiError> {
    let mut builder = PolicySet::builder(PolicyKind::Identity);
    for p in attached {
        // A stored policy that no longer parses must not be skipped silently: skipping a
        // Deny would widen access. Fail the decision instead.
        let policy = Policy::parse(&p.document, PolicyKind::Identity).map_err(|_| {
            tracing::error!(policy = %p.policy_name, "stored policy does not parse");
            internal("stored policy does not parse")
        })?;
        builder = builder.add(format!("{}:{}", p.policy_type, p.policy_name), policy);
    }
    Ok(Arc::new(builder.build()))
}

/// `acs:ram::<account>:role/<name>` → (account, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(5, ':');
    let (Some(acs), Some(ram), Some(_), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if !acs.eq_ignore_ascii_case("acs") || !ram.eq_ignore_ascii_case("ram") {
        return None;
    }
    let name = rest.strip_prefix("role/")?;
    if account.is_empty()
        || !account.bytes().all(|b| b.is_ascii_digit())
        || name.is_empty()
        || name.contains('/')
    {
        return None;
    }
    Some((account, name))
}

fn internal(what: &str) -> ApiError {
    tracing::error!("{what}");
    ApiError::internal()
}
