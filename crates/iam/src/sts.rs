//! STS `2015-04-01`: `GetCallerIdentity` and `AssumeRole`.
//!
//! Role chaining (a role session calling `AssumeRole`) is allowed with two limits, as in
//! other clouds: a chained session lasts at most 3,600 s whatever the role allows, and a
//! chain is at most [`MAX_CHAIN_DEPTH`] sessions long. A `SourceIdentity` set once is
//! carried through the chain and cannot be changed.

use base64::Engine;
use cloudward_policy::{Policy, PolicyKind};
use cloudward_protocol::{ApiError, new_sts_access_key_id, new_sts_access_key_secret};
use cloudward_service::{
    Access, ActionSpec, Call, HandlerFuture, Params, Principal, PrincipalKind, ReadWrite,
    random_bytes,
};
use cloudward_store::StsSessionRecord;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::authz::parse_role_arn;
use crate::util::{entity_not_exist, invalid, iso8601, now_ms, optional, required, store_error};

/// STS API version.
pub const VERSION: &str = "2015-04-01";

/// Longest chain of role sessions (a session created by a user or root has depth 1).
pub const MAX_CHAIN_DEPTH: i64 = 5;
/// Longest lifetime of a session created by another role session.
pub const MAX_CHAINED_DURATION: i64 = 3600;
/// Longest session policy accepted (characters).
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;

/// The STS actions.
pub const ACTIONS: &[ActionSpec] = &[
    ActionSpec {
        product: "Sts",
        event_source: "sts.aliyuncs.com",
        version: VERSION,
        name: "GetCallerIdentity",
        ram_action: "sts:GetCallerIdentity",
        rw: ReadWrite::Read,
        // Alibaba Cloud answers GetCallerIdentity for every valid credential, with no policy.
        access: Access::AnyAuthenticatedCaller,
        secret_fields: &[],
        handler: get_caller_identity,
    },
    ActionSpec {
        product: "Sts",
        event_source: "sts.aliyuncs.com",
        version: VERSION,
        name: "AssumeRole",
        ram_action: "sts:AssumeRole",
        rw: ReadWrite::Write,
        access: Access::Policy {
            resource: role_resource,
        },
        secret_fields: &["AccessKeySecret", "SecurityToken"],
        handler: assume_role,
    },
];

fn role_resource(params: &Params, _caller: &Principal) -> Result<String, ApiError> {
    let arn = required(params, "RoleArn")?;
    if parse_role_arn(arn).is_none() {
        return Err(invalid(
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ));
    }
    Ok(arn.to_owned())
}

fn get_caller_identity(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let principal = call.auth.principal();
        let mut body = serde_json::Map::new();
        body.insert("AccountId".into(), json!(principal.account_id));
        body.insert("Arn".into(), json!(principal.arn()));
        body.insert("PrincipalId".into(), json!(principal.principal_id()));
        let identity_type = match &principal.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User { user_id, .. } => {
                body.insert("UserId".into(), json!(user_id));
                "RAMUser"
            }
            PrincipalKind::AssumedRole { role_id, .. } => {
                body.insert("RoleId".into(), json!(role_id));
                "AssumedRoleUser"
            }
        };
        body.insert("IdentityType".into(), json!(identity_type));
        Ok(serde_json::Value::Object(body))
    })
}

/// SHA-256 of a SecurityToken: what the session row stores and the server compares.
pub fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
}

fn valid_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@:/-".contains(&b))
}

fn assume_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let params = call.params;
        let state = call.state;
        let caller = call.auth.principal();
        let role_arn = required(params, "RoleArn")?;
        let (account, role_name) = parse_role_arn(role_arn).ok_or_else(|| {
            invalid(
                "InvalidParameter.RoleArn",
                "The parameter RoleArn is wrongly formed.",
            )
        })?;
        let session_name = required(params, "RoleSessionName")?;
        if !valid_session_name(session_name) {
            return Err(invalid(
                "InvalidParameter.RoleSessionName",
                "The parameter RoleSessionName is wrongly formed: 2 to 64 characters from letters, digits and . @ - _.",
            ));
        }
        if let Some(external) = optional(params, "ExternalId")
            && !valid_external_id(external)
        {
            return Err(invalid(
                "InvalidParameter.ExternalId",
                "The parameter ExternalId is wrongly formed: 2 to 1224 characters from letters, digits and _+=,.@:/-.",
            ));
        }
        let session_policy = match optional(params, "Policy") {
            None => None,
            Some(doc) => {
                if doc.chars().count() > MAX_SESSION_POLICY_CHARS {
                    return Err(invalid(
                        "InvalidParameter.PolicySize",
                        format!(
                            "The size of Policy must be at most {MAX_SESSION_POLICY_CHARS} characters."
                        ),
                    ));
                }
                Policy::parse(doc, PolicyKind::Session).map_err(|err| {
                    invalid(
                        "InvalidParameter.PolicyGrammar",
                        format!("The parameter Policy has not passed grammar check: {err}"),
                    )
                })?;
                Some(doc.to_owned())
            }
        };
        let role = state
            .store
            .get_role(account, role_name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| entity_not_exist("Role", "The specified Role not exists."))?;

        // Role chaining: depth, duration cap, and the source identity carried along.
        let mut chain_depth = 1;
        let mut max_duration = role.max_session_duration;
        let mut source_identity = optional(params, "SourceIdentity").map(str::to_owned);
        let mut mfa_present = call.auth.context().mfa_present;
        if matches!(caller.kind, PrincipalKind::AssumedRole { .. }) {
            let parent = state
                .store
                .find_sts_session(&caller.access_key_id)
                .await
                .map_err(store_error)?
                .ok_or_else(|| {
                    entity_not_exist("Session", "The calling session does not exist.")
                })?;
            chain_depth = parent.chain_depth + 1;
            if chain_depth > MAX_CHAIN_DEPTH {
                return Err(ApiError::new(
                    "InvalidParameter.RoleChainTooLong",
                    400,
                    format!("A role session chain may be at most {MAX_CHAIN_DEPTH} sessions long."),
                ));
            }
            max_duration = max_duration.min(MAX_CHAINED_DURATION);
            mfa_present = parent.mfa_present;
            if let Some(inherited) = parent.source_identity {
                if source_identity.as_deref().is_some_and(|s| s != inherited) {
                    return Err(invalid(
                        "InvalidParameter.SourceIdentity",
                        "SourceIdentity cannot be changed within a role chain.",
                    ));
                }
                source_identity = Some(inherited);
            }
        }
        let duration = match optional(params, "DurationSeconds") {
            None => 3600.min(max_duration),
            Some(text) => match text.parse::<i64>() {
                Ok(n) if (900..=max_duration).contains(&n) => n,
                _ => {
                    return Err(invalid(
                        "InvalidParameter.DurationSeconds",
                        format!(
                            "The Min/Max value of DurationSeconds is 900/{max_duration} seconds."
                        ),
                    ));
                }
            },
        };

        let internal =
            |_| ApiError::new("InternalError", 500, "STS Server Internal Error happened.");
        let access_key_id = new_sts_access_key_id(&random_bytes::<24>().map_err(internal)?);
        let secret = zeroize::Zeroizing::new(new_sts_access_key_secret(
            &random_bytes::<40>().map_err(internal)?,
        ));
        let token = format!(
            "CAIS{}",
            base64::engine::general_purpose::STANDARD
                .encode(random_bytes::<48>().map_err(internal)?)
        );
        let now = now_ms(state);
        let expires_at_ms = now + duration * 1000;
        let record = StsSessionRecord {
            access_key_id: access_key_id.clone(),
            account_id: account.to_owned(),
            role_id: role.role_id.clone(),
            role_name: role.role_name.clone(),
            session_name: session_name.to_owned(),
            secret_ciphertext: state
                .secrets
                .seal(secret.as_bytes(), access_key_id.as_bytes())
                .map_err(internal)?,
            token_digest: token_digest(&token),
            session_policy,
            source_identity: source_identity.clone(),
            caller_arn: caller.arn(),
            chain_depth,
            mfa_present,
            created_at_ms: now,
            expires_at_ms,
        };
        state
            .store
            .insert_sts_session(&record)
            .await
            .map_err(store_error)?;
        let mut body = json!({
            "AssumedRoleUser": {
                "Arn": format!("acs:ram::{account}:role/{}/{session_name}", role.role_name.to_ascii_lowercase()),
                "AssumedRoleId": format!("{}:{session_name}", role.role_id),
            },
            "Credentials": {
                "AccessKeyId": access_key_id,
                "AccessKeySecret": secret.as_str(),
                "SecurityToken": token,
                "Expiration": iso8601(expires_at_ms),
            },
        });
        if let (Some(source), Some(map)) = (source_identity, body.as_object_mut()) {
            map.insert("SourceIdentity".into(), json!(source));
        }
        Ok(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names() {
        assert!(valid_session_name("alice"));
        assert!(valid_session_name("a.b@c-d_e"));
        assert!(!valid_session_name("a"));
        assert!(!valid_session_name(&"x".repeat(65)));
        assert!(!valid_session_name("bad name"));
        assert!(!valid_session_name("ünï"));
    }

    #[test]
    fn external_ids() {
        assert!(valid_external_id("abc-123:/x"));
        assert!(!valid_external_id("a"));
        assert!(!valid_external_id("has space"));
    }
}
