//! The policy decision point in front of every handler.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cloudward_protocol::ApiError;

use crate::principal::{Authenticated, Principal, PrincipalKind, RequestContext};
use crate::registry::{Access, ActionSpec, Params};

/// Why a call was allowed; recorded in [`Authorized`] and in the audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecisionBasis {
    /// The action is open to every authenticated caller (e.g. `GetCallerIdentity`).
    AnyAuthenticatedCaller,
    /// The account's root identity acting inside its own account.
    AccountRoot,
    /// The policy engine allowed it; the ids of the deciding policies.
    Policy {
        /// Policy identifiers that produced the Allow.
        deciding_policies: Vec<String>,
    },
}

/// Boxed future returned by [`PolicySource::decide`].
pub type DecisionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<DecisionBasis, ApiError>> + Send + 'a>>;

/// Evaluates RAM policies for a principal. Implemented by the identity service, which owns
/// the attachments, groups, sessions and control policies a decision depends on.
pub trait PolicySource: Send + Sync + std::fmt::Debug {
    /// Decides `action` on `resource` for the caller; `Ok` only for an Allow, otherwise the
    /// `NoPermission` error (with `AccessDeniedDetail`) to return.
    fn decide<'a>(
        &'a self,
        caller: &'a Authenticated,
        action: &'a str,
        resource: &'a str,
        params: &'a Params,
    ) -> DecisionFuture<'a>;

    /// Restrictions on the caller's credential that apply before any policy (e.g. a
    /// quarantined AccessKey may not run high-risk actions), checked for every action,
    /// including those open to any authenticated caller. `Ok` when nothing restricts it.
    fn guard<'a>(&'a self, caller: &'a Authenticated, ram_action: &'a str) -> GuardFuture<'a> {
        let _ = (caller, ram_action);
        Box::pin(async { Ok(()) })
    }
}

/// Boxed future returned by [`PolicySource::guard`].
pub type GuardFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ApiError>> + Send + 'a>>;

/// Proof that a policy decision allowed this call. Only [`Authorizer::authorize`] creates one.
#[derive(Debug)]
pub struct Authorized {
    caller: Authenticated,
    action: &'static str,
    resource: String,
    basis: DecisionBasis,
}

impl Authorized {
    /// The caller.
    pub fn principal(&self) -> &Principal {
        self.caller.principal()
    }

    /// The call's facts.
    pub fn context(&self) -> &RequestContext {
        self.caller.context()
    }

    /// The RAM action that was authorized (e.g. `ram:CreateUser`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The resource ARN the decision was made for.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Why the call was allowed.
    pub fn basis(&self) -> &DecisionBasis {
        &self.basis
    }
}

/// Makes the policy decision for each call.
#[derive(Clone, Debug, Default)]
pub struct Authorizer {
    policies: Option<Arc<dyn PolicySource>>,
}

impl Authorizer {
    /// An authorizer that consults `policies` for every non-root caller.
    pub fn new(policies: Option<Arc<dyn PolicySource>>) -> Self {
        Self { policies }
    }

    /// Decides whether `caller` may run `spec` with `params`. Deny by default: resources in
    /// other accounts are refused (except `sts:AssumeRole`, decided by the trust policy), and
    /// without a policy source only root identities in their own account pass.
    pub async fn authorize(
        &self,
        caller: Authenticated,
        spec: &ActionSpec,
        params: &Params,
    ) -> Result<Authorized, ApiError> {
        if let Some(policies) = &self.policies {
            policies.guard(&caller, spec.ram_action).await?;
        }
        let resource = match spec.access {
            Access::AnyAuthenticatedCaller => "*".to_owned(),
            Access::Policy { resource } => resource(params, caller.principal())?,
        };
        let basis = match spec.access {
            Access::AnyAuthenticatedCaller => DecisionBasis::AnyAuthenticatedCaller,
            Access::Policy { .. } => {
                let principal = caller.principal();
                // The system-policy catalogue (`acs:ram::system:policy/*`) belongs to no
                // account: every account may read it (and attach it to its own principals).
                let in_own_account = resource_in_account(&resource, &principal.account_id)
                    || resource.starts_with("acs:ram::system:policy/");
                // Invariant: nothing crosses accounts except through a role's trust policy,
                // which the policy source evaluates for `sts:AssumeRole`.
                if !in_own_account && spec.ram_action != ASSUME_ROLE {
                    return Err(no_permission(spec.ram_action, &caller));
                }
                match &self.policies {
                    Some(policies) => {
                        policies
                            .decide(&caller, spec.ram_action, &resource, params)
                            .await?
                    }
                    // Without a policy source (tests, tools) only an account's root acting
                    // inside its own account is allowed.
                    None if principal.kind == PrincipalKind::Root && in_own_account => {
                        DecisionBasis::AccountRoot
                    }
                    None => return Err(no_permission(spec.ram_action, &caller)),
                }
            }
        };
        Ok(Authorized {
            caller,
            action: spec.ram_action,
            resource,
            basis,
        })
    }
}

/// The one action whose resource may live in another account (its trust policy decides).
const ASSUME_ROLE: &str = "sts:AssumeRole";

/// Whether a resource ARN names something inside `account_id` (`acs:svc:region:acct:...`).
/// Root's full rights stop at its own account's boundary.
fn resource_in_account(resource: &str, account_id: &str) -> bool {
    let mut parts = resource.splitn(5, ':');
    let (Some("acs"), Some(_service), Some(_region), Some(account)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    account == account_id
}

/// The standard `NoPermission` error without policy detail.
pub fn no_permission(action: &str, caller: &Authenticated) -> ApiError {
    let principal = caller.principal();
    let mut err = ApiError::new(
        "NoPermission",
        403,
        "You are not authorized to do this action. You should be authorized by RAM.",
    );
    err.access_denied_detail = Some(serde_json::json!({
        "AuthAction": action,
        "AuthPrincipalOwnerId": principal.account_id,
        "AuthPrincipalType": match principal.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User { .. } => "SubUser",
            PrincipalKind::AssumedRole { .. } => "AssumedRoleUser",
        },
        "AuthPrincipalDisplayName": principal.principal_id(),
        "NoPermissionType": "ImplicitDeny",
    }));
    err
}

#[cfg(test)]
mod tests {
    use super::resource_in_account;

    #[test]
    fn resource_account_boundary() {
        assert!(resource_in_account("acs:ram::123:user/a", "123"));
        assert!(!resource_in_account("acs:ram::1234:user/a", "123"));
        assert!(!resource_in_account("acs:ram::*:user/a", "123"));
        assert!(!resource_in_account("*", "123"));
        assert!(!resource_in_account("acs:ram", "123"));
    }
}
