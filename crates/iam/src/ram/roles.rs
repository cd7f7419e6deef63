//! Roles with trust policies.

use cloudward_policy::PolicyKind;
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{PrincipalKindRef, RoleRecord};
use serde_json::{Value, json};

use super::policies::validate_document;
use super::tags::{parse_tags, store_tags};
use super::{MAX_ROLES, account, check_len, conflict, fetch_limit, list_body, set, tags_json};
use crate::util::{
    self, Page, check_name, delete_conflict, entity_not_exist, limit_exceeded, optional,
    optional_int, required,
};

/// Shortest `MaxSessionDuration`, seconds.
pub const MIN_SESSION_DURATION: i64 = 3_600;
/// Longest `MaxSessionDuration`, seconds.
pub const MAX_SESSION_DURATION: i64 = 43_200;

/// `RoleName`: 1-64 letters, digits, `.`, `-`.
fn check_role_name(name: &str) -> Result<(), ApiError> {
    check_name(name, 64, ".-", "InvalidParameter.RoleName")
}

fn role_json(role: &RoleRecord) -> Value {
    json!({
        "RoleId": role.role_id,
        "RoleName": role.role_name,
        "Arn": role.arn,
        "Description": role.description,
        "AssumeRolePolicyDocument": role.assume_role_policy_document,
        "MaxSessionDuration": role.max_session_duration,
        "CreateDate": util::iso8601(role.created_at_ms),
        "UpdateDate": util::iso8601(role.updated_at_ms),
    })
}

/// A role of the caller's account by name, or `EntityNotExist.Role`.
pub(super) async fn role_by_name(call: &Call<'_>, name: &str) -> Result<RoleRecord, ApiError> {
    call.state
        .store
        .get_role(account(call), name)
        .await
        .map_err(util::store_error)?
        .ok_or_else(|| entity_not_exist("Role", "The role does not exist."))
}

fn session_duration(call: &Call<'_>, name: &str) -> Result<Option<i64>, ApiError> {
    optional_int(
        call.params,
        name,
        MIN_SESSION_DURATION,
        MAX_SESSION_DURATION,
        "InvalidParameter.MaxSessionDuration",
    )
}

pub(super) fn create_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let name = required(p, "RoleName")?;
        check_role_name(name)?;
        let trust = required(p, "AssumeRolePolicyDocument")?;
        validate_document(trust, PolicyKind::Trust)?;
        let description = optional(p, "Description").unwrap_or("");
        check_len(description, 1024, "Description")?;
        let max_session =
            session_duration(&call, "MaxSessionDuration")?.unwrap_or(MIN_SESSION_DURATION);
        let tags = parse_tags(p)?;
        let now = util::now_ms(call.state);
        let acct = account(&call);
        let role = RoleRecord {
            account_id: acct.to_owned(),
            role_id: util::new_numeric_id()?,
            role_name: name.to_owned(),
            arn: format!("acs:ram::{acct}:role/{name}"),
            description: description.to_owned(),
            assume_role_policy_document: trust.to_owned(),
            max_session_duration: max_session,
            created_at_ms: now,
            updated_at_ms: now,
        };
        let inserted = call
            .state
            .store
            .insert_role_limited(&role, MAX_ROLES)
            .await
            .map_err(|e| conflict(e, "Role", "The role does already EXIST."))?;
        if !inserted {
            return Err(limit_exceeded(
                "Role",
                format!("The count of roles beyond the current limits ({MAX_ROLES})."),
            ));
        }
        store_tags(&call, "role", name, &tags).await?;
        Ok(json!({ "Role": role_json(&role) }))
    })
}

pub(super) fn get_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let role = role_by_name(&call, required(call.params, "RoleName")?).await?;
        Ok(json!({ "Role": role_json(&role) }))
    })
}

pub(super) fn update_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let mut role = role_by_name(&call, required(p, "RoleName")?).await?;
        if let Some(trust) = optional(p, "NewAssumeRolePolicyDocument") {
            validate_document(trust, PolicyKind::Trust)?;
            trust.clone_into(&mut role.assume_role_policy_document);
        }
        if let Some(duration) = session_duration(&call, "NewMaxSessionDuration")? {
            role.max_session_duration = duration;
        }
        if let Some(description) = optional(p, "NewDescription") {
            check_len(description, 1024, "Description")?;
            description.clone_into(&mut role.description);
        }
        role.updated_at_ms = util::now_ms(call.state);
        let found = call
            .state
            .store
            .update_role(&role)
            .await
            .map_err(util::store_error)?;
        if !found {
            return Err(entity_not_exist("Role", "The role does not exist."));
        }
        Ok(json!({ "Role": role_json(&role) }))
    })
}

pub(super) fn delete_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let role = role_by_name(&call, required(call.params, "RoleName")?).await?;
        let store = &call.state.store;
        let acct = account(&call);
        if !store
            .list_attachments(acct, PrincipalKindRef::Role, &role.role_id)
            .await
            .map_err(util::store_error)?
            .is_empty()
        {
            return Err(delete_conflict(
                "Role.Policy",
                "The role CAN NOT be attached with any policy while deleting the role.",
            ));
        }
        store
            .delete_role(acct, &role.role_name)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

pub(super) fn list_roles(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let page = Page::from_params(call.params)?;
        let filter = parse_tags(call.params)?;
        let store = &call.state.store;
        let acct = account(&call);
        let mut after = page.after.clone();
        let mut selected = Vec::new();
        // Tag filters are applied here, fetching further batches until the page is full.
        loop {
            let batch = store
                .list_roles(acct, after.as_deref(), fetch_limit(&page))
                .await
                .map_err(util::store_error)?;
            let exhausted = i64::try_from(batch.len()).unwrap_or(0) < fetch_limit(&page);
            after = batch.last().map(|r| r.role_name.clone());
            for role in batch {
                let tags = store
                    .tags_of(acct, "role", &role.role_name)
                    .await
                    .map_err(util::store_error)?;
                if filter
                    .iter()
                    .all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v))
                {
                    selected.push((role, tags));
                }
            }
            if exhausted || selected.len() > page.max_items {
                break;
            }
        }
        let (rows, truncated, marker) = page.finish(selected, |(r, _)| r.role_name.clone());
        let items = rows
            .iter()
            .map(|(role, tags)| {
                let mut item = role_json(role);
                set(&mut item, "Tags", tags_json(tags));
                item
            })
            .collect();
        Ok(list_body("Roles", "Role", items, truncated, marker))
    })
}
