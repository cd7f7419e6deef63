//! AccessKeys of RAM users (and of the root identity when no `UserName` is given).
//!
//! The secret is generated here, sealed under the root key bound to the AccessKeyId, and
//! returned exactly once by `CreateAccessKey`; no other action returns it.

use cloudward_protocol::{ApiError, new_access_key_id, new_access_key_secret};
use cloudward_service::{Call, HandlerFuture, PrincipalKind, random_bytes};
use cloudward_store::{AccessKeyOwner, AccessKeyRecord, AccessKeyStatus};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{
    MAX_ACCESS_KEYS_PER_USER, MAX_ACCESS_KEYS_ROOT, account, not_for_role_sessions, set,
    user_by_name,
};
use crate::util::{self, entity_not_exist, invalid, limit_exceeded, optional, required};

/// Whose keys the call is about: `UserName`, or the caller itself.
async fn owner(call: &Call<'_>) -> Result<AccessKeyOwner, ApiError> {
    if let Some(name) = optional(call.params, "UserName") {
        let user = user_by_name(call, name).await?;
        return Ok(AccessKeyOwner::User {
            user_id: user.user_id,
            user_name: user.user_name,
        });
    }
    match &call.auth.principal().kind {
        PrincipalKind::Root => Ok(AccessKeyOwner::Root),
        PrincipalKind::User { user_id, user_name } => Ok(AccessKeyOwner::User {
            user_id: user_id.clone(),
            user_name: user_name.clone(),
        }),
        PrincipalKind::AssumedRole { .. } => Err(not_for_role_sessions()),
    }
}

fn key_not_exist() -> ApiError {
    entity_not_exist("User.AccessKey", "The user access key does not exist.")
}

fn parse_status(call: &Call<'_>) -> Result<AccessKeyStatus, ApiError> {
    match required(call.params, "Status")? {
        "Active" => Ok(AccessKeyStatus::Active),
        "Inactive" => Ok(AccessKeyStatus::Inactive),
        _ => Err(invalid(
            "InvalidParameter.Status",
            "The parameter Status must be Active or Inactive.",
        )),
    }
}

pub(super) fn create_access_key(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let owner = owner(&call).await?;
        let limit = match owner {
            AccessKeyOwner::Root => MAX_ACCESS_KEYS_ROOT,
            AccessKeyOwner::User { .. } => MAX_ACCESS_KEYS_PER_USER,
        };
        let id = new_access_key_id(&random_bytes::<16>().map_err(|_| ApiError::internal())?);
        let secret = Zeroizing::new(new_access_key_secret(
            &random_bytes::<24>().map_err(|_| ApiError::internal())?,
        ));
        let sealed = call
            .state
            .secrets
            .seal(secret.as_bytes(), id.as_bytes())
            .map_err(|_| ApiError::internal())?;
        let now = util::now_ms(call.state);
        let record = AccessKeyRecord {
            access_key_id: id.clone(),
            account_id: account(&call).to_owned(),
            owner,
            secret_ciphertext: sealed,
            status: AccessKeyStatus::Active,
            created_at_ms: now,
            last_used_at_ms: None,
        };
        let inserted = call
            .state
            .store
            .insert_access_key_limited(&record, limit)
            .await
            .map_err(util::store_error)?;
        if !inserted {
            return Err(limit_exceeded(
                "User.AccessKey",
                "The access key count of the user access keys beyond the current limits.",
            ));
        }
        Ok(json!({
            "AccessKey": {
                "AccessKeyId": id,
                "AccessKeySecret": secret.as_str(),
                "Status": "Active",
                "CreateDate": util::iso8601(now),
            }
        }))
    })
}

pub(super) fn update_access_key(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let key_id = required(call.params, "UserAccessKeyId")?;
        let status = parse_status(&call)?;
        let owner = owner(&call).await?;
        let found = call
            .state
            .store
            .set_owned_access_key_status(account(&call), &owner, key_id, status)
            .await
            .map_err(util::store_error)?;
        if !found {
            return Err(key_not_exist());
        }
        Ok(json!({}))
    })
}

pub(super) fn delete_access_key(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let key_id = required(call.params, "UserAccessKeyId")?;
        let owner = owner(&call).await?;
        let found = call
            .state
            .store
            .delete_owned_access_key(account(&call), &owner, key_id)
            .await
            .map_err(util::store_error)?;
        if !found {
            return Err(key_not_exist());
        }
        // A deleted key cannot authenticate: its quarantine has done its job (the trail
        // keeps the history).
        call.state
            .store
            .delete_quarantine(account(&call), key_id)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

async fn owned_keys(call: &Call<'_>) -> Result<Vec<AccessKeyRecord>, ApiError> {
    let owner = owner(call).await?;
    call.state
        .store
        .list_access_keys(account(call), &owner)
        .await
        .map_err(util::store_error)
}

pub(super) fn list_access_keys(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let items: Vec<Value> = owned_keys(&call)
            .await?
            .iter()
            .map(|k| {
                json!({
                    "AccessKeyId": k.access_key_id,
                    "Status": k.status.as_str(),
                    "CreateDate": util::iso8601(k.created_at_ms),
                })
            })
            .collect();
        Ok(json!({ "AccessKeys": { "AccessKey": items } }))
    })
}

pub(super) fn get_access_key_last_used(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let key_id = required(call.params, "UserAccessKeyId")?;
        let key = owned_keys(&call)
            .await?
            .into_iter()
            .find(|k| k.access_key_id == key_id)
            .ok_or_else(key_not_exist)?;
        let mut last_used = json!({});
        let detail = call
            .state
            .store
            .access_key_last_use(account(&call), &key.access_key_id)
            .await
            .map_err(util::store_error)?;
        if let Some(used) = detail {
            // `LastUsedDate` is Alibaba's field; the other three are Cloudward extensions
            // (ActionTrail's GetAccessKeyLastUsed* actions give the full history).
            set(
                &mut last_used,
                "LastUsedDate",
                json!(util::iso8601(used.at_ms)),
            );
            set(&mut last_used, "ServiceName", json!(used.service));
            set(&mut last_used, "ActionName", json!(used.action));
            set(&mut last_used, "SourceIp", json!(used.source_ip));
        } else if let Some(at) = key.last_used_at_ms {
            set(&mut last_used, "LastUsedDate", json!(util::iso8601(at)));
        }
        Ok(json!({ "AccessKeyLastUsed": last_used }))
    })
}
