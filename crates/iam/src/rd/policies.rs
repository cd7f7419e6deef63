//! Control policies: the feature switch, the policies, and their attachments.

use cloudward_policy::{ParseError, Policy, PolicyKind};
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{
    AttachOutcome, ControlPolicyAttachmentRecord, ControlPolicyRecord, DirectoryRecord, Store,
    StoreError,
};
use serde_json::{Value, json};

use super::set;
use super::{
    MAX_ATTACHMENTS_PER_TARGET, MAX_CONTROL_POLICY_CHARS, MAX_CUSTOM_CONTROL_POLICIES, PageQuery,
    err, is_account_id, is_folder_id, managed_directory, policy_not_found, random_id, required,
    store_err,
};
use crate::util;

/// Id of the system control policy attached by default.
pub const FULL_ALIYUN_ACCESS_ID: &str = "cp-FullAliyunAccess";

/// The system control policy data (`crates/iam/policies/control/`).
const SYSTEM_POLICY_FILES: &[&str] =
    &[include_str!("../../policies/control/FullAliyunAccess.json")];

const TYPE_SYSTEM: &str = "System";
const TYPE_CUSTOM: &str = "Custom";

/// The system control policies, as stored in every new directory.
pub(crate) fn system_policies(now_ms: i64) -> Result<Vec<ControlPolicyRecord>, ApiError> {
    SYSTEM_POLICY_FILES
        .iter()
        .map(|text| {
            let value: Value = serde_json::from_str(text).map_err(|_| ApiError::internal())?;
            let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
            let document = value
                .get("PolicyDocument")
                .ok_or_else(ApiError::internal)?
                .to_string();
            Ok(ControlPolicyRecord {
                policy_id: field("PolicyId").ok_or_else(ApiError::internal)?,
                policy_name: field("PolicyName").ok_or_else(ApiError::internal)?,
                policy_type: TYPE_SYSTEM.to_owned(),
                description: field("Description").unwrap_or_default(),
                effect_scope: field("EffectScope").ok_or_else(ApiError::internal)?,
                document,
                created_at_ms: now_ms,
                updated_at_ms: now_ms,
            })
        })
        .collect()
}

fn enablement(directory_enabled: bool) -> Value {
    json!({ "EnablementStatus": if directory_enabled { "Enabled" } else { "Disabled" } })
}

pub(crate) fn enable_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { switch(call, true).await })
}

pub(crate) fn disable_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { switch(call, false).await })
}

async fn switch(call: Call<'_>, enabled: bool) -> Result<Value, ApiError> {
    let directory = managed_directory(&call).await?;
    if directory.control_policy_enabled != enabled {
        call.state
            .store
            .rd_set_control_policy_enabled(
                &directory.management_account_id,
                enabled,
                FULL_ALIYUN_ACCESS_ID,
                util::now_ms(call.state),
            )
            .await
            .map_err(store_err)?;
    }
    Ok(enablement(enabled))
}

pub(crate) fn get_control_policy_enablement_status(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        Ok(enablement(directory.control_policy_enabled))
    })
}

/// Policy names: 1 to 128 characters, letters, digits and `-`, starting with a letter.
fn check_policy_name(name: &str, param: &str) -> Result<(), ApiError> {
    let ok = (1..=128).contains(&name.chars().count())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(err(
            &format!("InvalidParameter.{param}"),
            400,
            "The policy name must be 1 to 128 characters long, start with a letter and contain only letters, digits and hyphens (-).",
        ))
    }
}

fn check_description(description: &str, param: &str) -> Result<(), ApiError> {
    if description.chars().count() > 1024 {
        return Err(err(
            &format!("InvalidParameter.{param}.Length"),
            400,
            "The description must be at most 1024 characters long.",
        ));
    }
    Ok(())
}

fn check_effect_scope(scope: &str) -> Result<(), ApiError> {
    match scope {
        "All" | "RAM" => Ok(()),
        _ => Err(err(
            "InvalidParameter.EffectScope",
            400,
            "The EffectScope is invalid. Valid values: All, RAM.",
        )),
    }
}

/// Validates a control-policy document with the policy engine's parser (control-policy
/// grammar: no `Principal`; at most 4,096 significant characters).
fn check_document(text: &str) -> Result<(), ApiError> {
    let limits = cloudward_policy::Limits {
        max_chars: MAX_CONTROL_POLICY_CHARS,
        ..cloudward_policy::Limits::default()
    };
    match Policy::parse_with_limits(text, PolicyKind::Control, &limits) {
        Ok(_) => Ok(()),
        Err(ParseError::TooLarge { .. }) => Err(err(
            "InvalidParameter.PolicyDocument.Length",
            400,
            "The policy document exceeds the limit of 4096 characters.",
        )),
        Err(e) => Err(util::invalid(
            "MalformedPolicyDocument",
            format!("The policy document is malformed: {e}"),
        )),
    }
}

fn policy_json(policy: &ControlPolicyRecord, attachments: i64, with_document: bool) -> Value {
    let mut v = json!({
        "AttachmentCount": attachments.to_string(),
        "CreateDate": util::iso8601(policy.created_at_ms),
        "Description": policy.description,
        "EffectScope": policy.effect_scope,
        "PolicyId": policy.policy_id,
        "PolicyName": policy.policy_name,
        "PolicyType": policy.policy_type,
        "UpdateDate": util::iso8601(policy.updated_at_ms),
    });
    if with_document {
        set(&mut v, "PolicyDocument", json!(policy.document));
    }
    v
}

fn system_policy_forbidden() -> ApiError {
    err(
        "NoPermission.SystemControlPolicy",
        403,
        "System control policies cannot be modified or deleted.",
    )
}

fn name_taken() -> ApiError {
    err(
        "EntityAlreadyExists.ControlPolicy",
        409,
        "A control policy with the same name already exists.",
    )
}

async fn load_policy(
    store: &Store,
    mgmt: &str,
    call: &Call<'_>,
) -> Result<ControlPolicyRecord, ApiError> {
    let id = required(call.params, "PolicyId")?;
    store
        .rd_get_control_policy(mgmt, id)
        .await
        .map_err(store_err)?
        .ok_or_else(policy_not_found)
}

pub(crate) fn create_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let name = required(call.params, "PolicyName")?;
        check_policy_name(name, "PolicyName")?;
        let description = util::optional(call.params, "Description").unwrap_or("");
        check_description(description, "Description")?;
        let scope = required(call.params, "EffectScope")?;
        check_effect_scope(scope)?;
        let document = required(call.params, "PolicyDocument")?;
        check_document(document)?;
        let custom = store
            .rd_list_control_policies(mgmt, Some(TYPE_CUSTOM))
            .await
            .map_err(store_err)?;
        if custom.len() >= MAX_CUSTOM_CONTROL_POLICIES {
            return Err(err(
                "LimitExceeded.ControlPolicy",
                409,
                "The number of custom control policies exceeds the limit of 1500.",
            ));
        }
        let now = util::now_ms(call.state);
        let policy = ControlPolicyRecord {
            policy_id: random_id("cp-", 16)?,
            policy_name: name.to_owned(),
            policy_type: TYPE_CUSTOM.to_owned(),
            description: description.to_owned(),
            effect_scope: scope.to_owned(),
            document: document.to_owned(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        match store.rd_insert_control_policy(mgmt, &policy).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => return Err(name_taken()),
            Err(e) => return Err(store_err(e)),
        }
        Ok(json!({ "ControlPolicy": policy_json(&policy, 0, false) }))
    })
}

pub(crate) fn update_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let mut policy = load_policy(store, mgmt, &call).await?;
        if policy.policy_type == TYPE_SYSTEM {
            return Err(system_policy_forbidden());
        }
        if let Some(name) = util::optional(call.params, "NewPolicyName") {
            check_policy_name(name, "NewPolicyName")?;
            policy.policy_name = name.to_owned();
        }
        if let Some(description) = util::optional(call.params, "NewDescription") {
            check_description(description, "NewDescription")?;
            policy.description = description.to_owned();
        }
        if let Some(document) = util::optional(call.params, "NewPolicyDocument") {
            check_document(document)?;
            policy.document = document.to_owned();
        }
        // Not in the published SDK model; accepted so a policy's scope can be changed.
        if let Some(scope) = util::optional(call.params, "NewEffectScope") {
            check_effect_scope(scope)?;
            policy.effect_scope = scope.to_owned();
        }
        policy.updated_at_ms = util::now_ms(call.state);
        match store.rd_update_control_policy(mgmt, &policy).await {
            Ok(true) => {}
            Ok(false) => return Err(policy_not_found()),
            Err(StoreError::AlreadyExists { .. }) => return Err(name_taken()),
            Err(e) => return Err(store_err(e)),
        }
        let count = store
            .rd_count_control_policy_attachments(mgmt, &policy.policy_id)
            .await
            .map_err(store_err)?;
        Ok(json!({ "ControlPolicy": policy_json(&policy, count, false) }))
    })
}

pub(crate) fn delete_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let policy = load_policy(store, mgmt, &call).await?;
        if policy.policy_type == TYPE_SYSTEM {
            return Err(system_policy_forbidden());
        }
        match store
            .rd_delete_control_policy(mgmt, &policy.policy_id)
            .await
            .map_err(store_err)?
        {
            Some(true) => Ok(json!({})),
            Some(false) => Err(err(
                "DeleteConflict.ControlPolicy.Attachment",
                409,
                "The control policy is attached to one or more targets. Detach it before you delete it.",
            )),
            None => Err(policy_not_found()),
        }
    })
}

pub(crate) fn get_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let policy = load_policy(store, mgmt, &call).await?;
        let count = store
            .rd_count_control_policy_attachments(mgmt, &policy.policy_id)
            .await
            .map_err(store_err)?;
        Ok(json!({ "ControlPolicy": policy_json(&policy, count, true) }))
    })
}

pub(crate) fn list_control_policies(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let page = PageQuery::from_params(call.params)?;
        let policy_type = match util::optional(call.params, "PolicyType") {
            None => None,
            Some(t @ (TYPE_SYSTEM | TYPE_CUSTOM)) => Some(t),
            Some(_) => {
                return Err(err(
                    "InvalidParameter.PolicyType",
                    400,
                    "The PolicyType is invalid. Valid values: System, Custom.",
                ));
            }
        };
        let all = store
            .rd_list_control_policies(mgmt, policy_type)
            .await
            .map_err(store_err)?;
        let (rows, total) = page.slice(all);
        let mut items = Vec::with_capacity(rows.len());
        for policy in &rows {
            let count = store
                .rd_count_control_policy_attachments(mgmt, &policy.policy_id)
                .await
                .map_err(store_err)?;
            items.push(policy_json(policy, count, false));
        }
        let mut body = json!({ "ControlPolicies": { "ControlPolicy": items } });
        page.annotate(&mut body, total);
        Ok(body)
    })
}

/// A resolved attachment target: (type, display name).
async fn resolve_target(
    store: &Store,
    directory: &DirectoryRecord,
    target_id: &str,
) -> Result<(&'static str, String), ApiError> {
    let mgmt = directory.management_account_id.as_str();
    let not_found = || {
        err(
            "EntityNotExists.Target",
            404,
            "The specified target does not exist in the resource directory.",
        )
    };
    if is_folder_id(target_id) {
        let folder = store
            .rd_get_folder(mgmt, target_id)
            .await
            .map_err(store_err)?
            .ok_or_else(not_found)?;
        let kind = if folder.parent_folder_id.is_none() {
            "Root"
        } else {
            "Folder"
        };
        return Ok((kind, folder.folder_name));
    }
    if is_account_id(target_id) {
        let member = store
            .rd_get_member(mgmt, target_id)
            .await
            .map_err(store_err)?
            .ok_or_else(not_found)?;
        return Ok(("Account", member.display_name));
    }
    Err(not_found())
}

fn require_enabled(directory: &DirectoryRecord) -> Result<(), ApiError> {
    if directory.control_policy_enabled {
        Ok(())
    } else {
        Err(err(
            "ControlPolicyNotEnabled",
            409,
            "The control policy feature is disabled for the resource directory. Call EnableControlPolicy first.",
        ))
    }
}

pub(crate) fn attach_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let policy = load_policy(store, mgmt, &call).await?;
        let target_id = required(call.params, "TargetId")?;
        let (target_type, _) = resolve_target(store, &directory, target_id).await?;
        require_enabled(&directory)?;
        let outcome = store
            .rd_attach_control_policy(
                mgmt,
                &ControlPolicyAttachmentRecord {
                    policy_id: policy.policy_id.clone(),
                    target_id: target_id.to_owned(),
                    target_type: target_type.to_owned(),
                    attached_at_ms: util::now_ms(call.state),
                },
                MAX_ATTACHMENTS_PER_TARGET,
            )
            .await
            .map_err(store_err)?;
        match outcome {
            AttachOutcome::Attached => Ok(json!({})),
            AttachOutcome::AlreadyAttached => Err(err(
                "EntityAlreadyExists.ControlPolicyAttachment",
                409,
                "The control policy is already attached to the target.",
            )),
            AttachOutcome::LimitExceeded => Err(err(
                "LimitExceeded.ControlPolicyAttachment",
                409,
                "A folder or member can have at most 10 control policies attached.",
            )),
        }
    })
}

pub(crate) fn detach_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let policy = load_policy(store, mgmt, &call).await?;
        let target_id = required(call.params, "TargetId")?;
        resolve_target(store, &directory, target_id).await?;
        require_enabled(&directory)?;
        if !store
            .rd_detach_control_policy(mgmt, &policy.policy_id, target_id)
            .await
            .map_err(store_err)?
        {
            return Err(err(
                "EntityNotExists.ControlPolicyAttachment",
                404,
                "The control policy is not attached to the target.",
            ));
        }
        Ok(json!({}))
    })
}

pub(crate) fn list_control_policy_attachments_for_target(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let target_id = required(call.params, "TargetId")?;
        resolve_target(store, &directory, target_id).await?;
        let items: Vec<Value> = store
            .rd_attachments_for_target(mgmt, target_id)
            .await
            .map_err(store_err)?
            .iter()
            .map(|(policy, at)| {
                json!({
                    "AttachDate": util::iso8601(*at),
                    "Description": policy.description,
                    "EffectScope": policy.effect_scope,
                    "PolicyId": policy.policy_id,
                    "PolicyName": policy.policy_name,
                    "PolicyType": policy.policy_type,
                })
            })
            .collect();
        Ok(json!({ "ControlPolicyAttachments": { "ControlPolicyAttachment": items } }))
    })
}

pub(crate) fn list_target_attachments_for_control_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let page = PageQuery::from_params(call.params)?;
        let policy = load_policy(store, mgmt, &call).await?;
        let all = store
            .rd_targets_for_control_policy(mgmt, &policy.policy_id)
            .await
            .map_err(store_err)?;
        let (rows, total) = page.slice(all);
        let mut items = Vec::with_capacity(rows.len());
        for a in &rows {
            let name = match resolve_target(store, &directory, &a.target_id).await {
                Ok((_, name)) => name,
                Err(_) => String::new(),
            };
            items.push(json!({
                "AttachDate": util::iso8601(a.attached_at_ms),
                "TargetId": a.target_id,
                "TargetName": name,
                "TargetType": a.target_type,
            }));
        }
        let mut body = json!({ "TargetAttachments": { "TargetAttachment": items } });
        page.annotate(&mut body, total);
        Ok(body)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn system_policies_parse_as_control_policies() {
        let policies = system_policies(0).unwrap();
        assert_eq!(policies.len(), 1);
        let full = &policies[0];
        assert_eq!(full.policy_id, FULL_ALIYUN_ACCESS_ID);
        assert_eq!(full.policy_name, "FullAliyunAccess");
        check_document(&full.document).unwrap();
        let doc: Value = serde_json::from_str(&full.document).unwrap();
        assert_eq!(doc["Statement"][0]["Action"], "*");
        assert_eq!(doc["Statement"][0]["Resource"], "*");
        assert_eq!(doc["Statement"][0]["Effect"], "Allow");
    }
}
