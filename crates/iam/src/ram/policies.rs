//! Custom and system policies, versions, attachments.

use cloudward_policy::{ParseError, Policy, PolicyKind};
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{
    AttachmentRecord, CreateVersionOutcome, PolicyRecord, PolicyVersionRecord, PrincipalKindRef,
    SystemPolicy, system_policies, system_policy,
};
use serde_json::{Value, json};

use super::groups::group_by_name;
use super::roles::role_by_name;
use super::tags::{parse_tags, store_tags};
use super::{
    MAX_CUSTOM_POLICIES, MAX_GROUP_POLICIES, MAX_POLICY_VERSIONS, MAX_ROLE_POLICIES,
    MAX_USER_POLICIES, account, check_len, conflict, list_body, policy_type, set, tags_json,
    user_by_name,
};
use crate::util::{
    self, Page, check_name, delete_conflict, entity_not_exist, invalid, limit_exceeded, optional,
    optional_bool, required,
};

/// `System`.
pub(super) const SYSTEM: &str = cloudward_store::POLICY_TYPE_SYSTEM;
/// `Custom`.
pub(super) const CUSTOM: &str = cloudward_store::POLICY_TYPE_CUSTOM;

/// Validates a policy document: `InvalidParameter.PolicyDocument.Length` when too long,
/// `MalformedPolicyDocument` (naming every problem by JSON path) otherwise.
pub(super) fn validate_document(text: &str, kind: PolicyKind) -> Result<(), ApiError> {
    match Policy::parse(text, kind) {
        Ok(_) => Ok(()),
        Err(ParseError::TooLarge { actual, limit }) => Err(invalid(
            "InvalidParameter.PolicyDocument.Length",
            format!("The policy document has {actual} characters, more than the limit of {limit}."),
        )),
        Err(err) => Err(ApiError::new(
            "MalformedPolicyDocument",
            400,
            format!("The policy document is malformed: {err}"),
        )),
    }
}

/// `PolicyName`: 1-128 letters, digits, `-`.
fn check_policy_name(name: &str) -> Result<(), ApiError> {
    check_name(name, 128, "-", "InvalidParameter.PolicyName")
}

/// `v<digits>`.
fn check_version_id(version: &str) -> Result<(), ApiError> {
    let ok = version
        .strip_prefix('v')
        .is_some_and(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.VersionId.Format",
            "The parameter VersionId must look like v1, v2, ...",
        ))
    }
}

fn policy_not_exist() -> ApiError {
    entity_not_exist("Policy", "The policy does not exist.")
}

fn version_not_exist() -> ApiError {
    entity_not_exist("Policy.Version", "The policy version does not exist.")
}

/// A custom policy of the caller's account, or `EntityNotExist.Policy`.
async fn custom_policy(call: &Call<'_>, name: &str) -> Result<PolicyRecord, ApiError> {
    call.state
        .store
        .get_policy(account(call), name)
        .await
        .map_err(util::store_error)?
        .ok_or_else(policy_not_exist)
}

fn system(name: &str) -> Result<&'static SystemPolicy, ApiError> {
    system_policy(name).ok_or_else(policy_not_exist)
}

async fn attachment_count(call: &Call<'_>, kind: &str, name: &str) -> Result<i64, ApiError> {
    call.state
        .store
        .policy_attachment_count(account(call), kind, name)
        .await
        .map_err(util::store_error)
}

fn system_json(policy: &SystemPolicy, attachments: i64) -> Value {
    json!({
        "PolicyName": policy.name,
        "PolicyType": SYSTEM,
        "Description": policy.description,
        "DefaultVersion": policy.version,
        "AttachmentCount": attachments,
        "CreateDate": util::iso8601(policy.published_at_ms),
        "UpdateDate": util::iso8601(policy.published_at_ms),
    })
}

fn custom_json(policy: &PolicyRecord, attachments: i64) -> Value {
    json!({
        "PolicyName": policy.policy_name,
        "PolicyType": CUSTOM,
        "Description": policy.description,
        "DefaultVersion": policy.default_version,
        "AttachmentCount": attachments,
        "CreateDate": util::iso8601(policy.created_at_ms),
        "UpdateDate": util::iso8601(policy.updated_at_ms),
    })
}

fn version_json(version: &PolicyVersionRecord, default_version: &str) -> Value {
    json!({
        "VersionId": version.version_id,
        "IsDefaultVersion": version.version_id == default_version,
        "PolicyDocument": version.document,
        "CreateDate": util::iso8601(version.created_at_ms),
    })
}

fn system_version_json(policy: &SystemPolicy) -> Value {
    json!({
        "VersionId": policy.version,
        "IsDefaultVersion": true,
        "PolicyDocument": policy.document,
        "CreateDate": util::iso8601(policy.published_at_ms),
    })
}

pub(super) fn create_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let name = required(p, "PolicyName")?;
        check_policy_name(name)?;
        let document = required(p, "PolicyDocument")?;
        validate_document(document, PolicyKind::Identity)?;
        let description = optional(p, "Description").unwrap_or("");
        check_len(description, 1024, "Description")?;
        let tags = parse_tags(p)?;
        if system_policy(name).is_some() {
            return Err(util::entity_already_exists(
                "Policy",
                "A system policy already has this name.",
            ));
        }
        let now = util::now_ms(call.state);
        let policy = PolicyRecord {
            account_id: account(&call).to_owned(),
            policy_name: name.to_owned(),
            description: description.to_owned(),
            default_version: "v1".to_owned(),
            created_at_ms: now,
            updated_at_ms: now,
        };
        let inserted = call
            .state
            .store
            .insert_policy(&policy, document, MAX_CUSTOM_POLICIES)
            .await
            .map_err(|e| conflict(e, "Policy", "The policy does already EXIST."))?;
        if !inserted {
            return Err(limit_exceeded(
                "Policy",
                format!(
                    "The count of custom policies beyond the current limits ({MAX_CUSTOM_POLICIES})."
                ),
            ));
        }
        store_tags(&call, "policy", name, &tags).await?;
        let mut body = custom_json(&policy, 0);
        if let Some(obj) = body.as_object_mut() {
            obj.remove("AttachmentCount");
        }
        Ok(json!({ "Policy": body }))
    })
}

pub(super) fn get_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let kind = policy_type(call.params, true)?.unwrap_or(CUSTOM);
        let count = attachment_count(&call, kind, name).await;
        if kind == SYSTEM {
            let policy = system(name)?;
            let mut body = system_json(policy, count?);
            set(&mut body, "PolicyDocument", json!(policy.document));
            return Ok(
                json!({ "Policy": body, "DefaultPolicyVersion": system_version_json(policy) }),
            );
        }
        let policy = custom_policy(&call, name).await?;
        let version = call
            .state
            .store
            .get_policy_version(account(&call), name, &policy.default_version)
            .await
            .map_err(util::store_error)?
            .ok_or_else(version_not_exist)?;
        let mut body = custom_json(&policy, count?);
        set(&mut body, "PolicyDocument", json!(version.document));
        Ok(json!({
            "Policy": body,
            "DefaultPolicyVersion": version_json(&version, &policy.default_version),
        }))
    })
}

pub(super) fn delete_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let cascade = optional_bool(call.params, "CascadingDelete")?.unwrap_or(false);
        let policy = custom_policy(&call, name).await?;
        let store = &call.state.store;
        let acct = account(&call);
        let attachments = store
            .list_policy_attachments(acct, CUSTOM, name)
            .await
            .map_err(util::store_error)?;
        for (kind, code, what) in [
            (PrincipalKindRef::User, "Policy.User", "user"),
            (PrincipalKindRef::Group, "Policy.Group", "group"),
            (PrincipalKindRef::Role, "Policy.Role", "role"),
        ] {
            if attachments.iter().any(|a| a.principal_kind == kind) {
                return Err(delete_conflict(
                    code,
                    format!(
                        "The policy CAN NOT be attached to any {what} while deleting the policy."
                    ),
                ));
            }
        }
        let versions = store
            .list_policy_versions(acct, name)
            .await
            .map_err(util::store_error)?;
        if !cascade
            && versions
                .iter()
                .any(|v| v.version_id != policy.default_version)
        {
            return Err(delete_conflict(
                "Policy.Version",
                "The policy CAN NOT have any non-default version while deleting the policy (or set CascadingDelete=true).",
            ));
        }
        store
            .delete_policy(acct, name)
            .await
            .map_err(util::store_error)?;
        Ok(json!({}))
    })
}

/// Sort key of a policy in a combined listing: system policies first, then custom.
fn listing_key(kind: &str, name: &str) -> String {
    format!("{}:{name}", if kind == SYSTEM { "S" } else { "C" })
}

pub(super) fn list_policies(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let page = Page::from_params(call.params)?;
        let kind = policy_type(call.params, false)?;
        let filter = parse_tags(call.params)?;
        let store = &call.state.store;
        let acct = account(&call);
        let (after_kind, after_name) = match page.after.as_deref() {
            None => (None, ""),
            Some(marker) => match marker.split_once(':') {
                Some(("S", name)) => (Some(SYSTEM), name),
                Some(("C", name)) => (Some(CUSTOM), name),
                _ => {
                    return Err(invalid(
                        "InvalidParameter.Marker",
                        "The parameter Marker is invalid.",
                    ));
                }
            },
        };
        // (kind, name, json) rows in listing order, at most max_items + 1.
        let mut rows: Vec<(String, Value)> = Vec::new();
        let want = page.max_items + 1;
        if kind != Some(CUSTOM) && after_kind != Some(CUSTOM) && filter.is_empty() {
            for policy in system_policies() {
                if rows.len() >= want {
                    break;
                }
                if policy.name > after_name || after_kind.is_none() {
                    let count = attachment_count(&call, SYSTEM, policy.name).await?;
                    rows.push((listing_key(SYSTEM, policy.name), system_json(policy, count)));
                }
            }
        }
        if kind != Some(SYSTEM) {
            let mut after = if after_kind == Some(CUSTOM) {
                Some(after_name.to_owned())
            } else {
                None
            };
            while rows.len() < want {
                let batch_size = i64::try_from(want).unwrap_or(1001);
                let batch = store
                    .list_policies(acct, after.as_deref(), batch_size)
                    .await
                    .map_err(util::store_error)?;
                let exhausted = i64::try_from(batch.len()).unwrap_or(0) < batch_size;
                after = batch.last().map(|p| p.policy_name.clone());
                for policy in batch {
                    if rows.len() >= want {
                        break;
                    }
                    let tags = store
                        .tags_of(acct, "policy", &policy.policy_name)
                        .await
                        .map_err(util::store_error)?;
                    if !filter
                        .iter()
                        .all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && tv == v))
                    {
                        continue;
                    }
                    let count = attachment_count(&call, CUSTOM, &policy.policy_name).await?;
                    let mut item = custom_json(&policy, count);
                    set(&mut item, "Tags", tags_json(&tags));
                    rows.push((listing_key(CUSTOM, &policy.policy_name), item));
                }
                if exhausted {
                    break;
                }
            }
        }
        let (rows, truncated, marker) = page.finish(rows, |(key, _)| key.clone());
        let items = rows.into_iter().map(|(_, item)| item).collect();
        Ok(list_body("Policies", "Policy", items, truncated, marker))
    })
}

pub(super) fn update_policy_description(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let description = optional(call.params, "NewDescription").unwrap_or("");
        check_len(description, 1024, "Description")?;
        let now = util::now_ms(call.state);
        let found = call
            .state
            .store
            .update_policy_description(account(&call), name, description, now)
            .await
            .map_err(util::store_error)?;
        if !found {
            return Err(policy_not_exist());
        }
        let policy = custom_policy(&call, name).await?;
        let count = attachment_count(&call, CUSTOM, name).await?;
        Ok(json!({ "Policy": custom_json(&policy, count) }))
    })
}

pub(super) fn create_policy_version(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let p = call.params;
        let name = required(p, "PolicyName")?;
        let document = required(p, "PolicyDocument")?;
        validate_document(document, PolicyKind::Identity)?;
        let set_as_default = optional_bool(p, "SetAsDefault")?.unwrap_or(false);
        let rotate = match optional(p, "RotateStrategy") {
            None | Some("None") => false,
            Some("DeleteOldestNonDefaultVersionWhenLimitExceeded") => true,
            Some(_) => {
                return Err(invalid(
                    "InvalidParameter.RotateStrategy",
                    "The parameter RotateStrategy must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded.",
                ));
            }
        };
        let now = util::now_ms(call.state);
        let outcome = call
            .state
            .store
            .create_policy_version(
                account(&call),
                name,
                document,
                set_as_default,
                rotate,
                MAX_POLICY_VERSIONS,
                now,
            )
            .await
            .map_err(util::store_error)?;
        match outcome {
            CreateVersionOutcome::PolicyNotFound => Err(policy_not_exist()),
            CreateVersionOutcome::LimitExceeded => Err(limit_exceeded(
                "Policy.Version",
                format!(
                    "A policy can have at most {MAX_POLICY_VERSIONS} versions; delete one or use RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded."
                ),
            )),
            CreateVersionOutcome::Created(version_id) => Ok(json!({
                "PolicyVersion": {
                    "VersionId": version_id,
                    "IsDefaultVersion": set_as_default,
                    "PolicyDocument": document,
                    "CreateDate": util::iso8601(now),
                }
            })),
        }
    })
}

pub(super) fn get_policy_version(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let kind = policy_type(call.params, true)?.unwrap_or(CUSTOM);
        let version_id = required(call.params, "VersionId")?;
        check_version_id(version_id)?;
        if kind == SYSTEM {
            let policy = system(name)?;
            if policy.version != version_id {
                return Err(version_not_exist());
            }
            return Ok(json!({ "PolicyVersion": system_version_json(policy) }));
        }
        let policy = custom_policy(&call, name).await?;
        let version = call
            .state
            .store
            .get_policy_version(account(&call), name, version_id)
            .await
            .map_err(util::store_error)?
            .ok_or_else(version_not_exist)?;
        Ok(json!({ "PolicyVersion": version_json(&version, &policy.default_version) }))
    })
}

pub(super) fn delete_policy_version(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let version_id = required(call.params, "VersionId")?;
        check_version_id(version_id)?;
        let policy = custom_policy(&call, name).await?;
        if policy.default_version == version_id {
            return Err(delete_conflict(
                "Policy.Version.Default",
                "The default version of the policy CAN NOT be deleted.",
            ));
        }
        let deleted = call
            .state
            .store
            .delete_policy_version(account(&call), name, version_id)
            .await
            .map_err(util::store_error)?;
        if !deleted {
            return Err(version_not_exist());
        }
        Ok(json!({}))
    })
}

pub(super) fn list_policy_versions(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let kind = policy_type(call.params, true)?.unwrap_or(CUSTOM);
        let items: Vec<Value> = if kind == SYSTEM {
            vec![system_version_json(system(name)?)]
        } else {
            let policy = custom_policy(&call, name).await?;
            call.state
                .store
                .list_policy_versions(account(&call), name)
                .await
                .map_err(util::store_error)?
                .iter()
                .map(|v| version_json(v, &policy.default_version))
                .collect()
        };
        Ok(json!({ "PolicyVersions": { "PolicyVersion": items } }))
    })
}

pub(super) fn set_default_policy_version(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let name = required(call.params, "PolicyName")?;
        let version_id = required(call.params, "VersionId")?;
        check_version_id(version_id)?;
        custom_policy(&call, name).await?;
        let now = util::now_ms(call.state);
        let found = call
            .state
            .store
            .set_default_policy_version(account(&call), name, version_id, now)
            .await
            .map_err(util::store_error)?;
        if !found {
            return Err(version_not_exist());
        }
        Ok(json!({}))
    })
}

/// The policy named by `PolicyType` + `PolicyName` must exist (system or custom).
async fn existing_policy(call: &Call<'_>) -> Result<(&'static str, String), ApiError> {
    let kind = policy_type(call.params, true)?.unwrap_or(CUSTOM);
    let name = required(call.params, "PolicyName")?;
    if kind == SYSTEM {
        system(name)?;
    } else {
        custom_policy(call, name).await?;
    }
    Ok((kind, name.to_owned()))
}

/// Resolves the principal of an attach/detach/list action to `(kind, id)`.
async fn principal(call: &Call<'_>, kind: PrincipalKindRef) -> Result<String, ApiError> {
    Ok(match kind {
        PrincipalKindRef::User => {
            user_by_name(call, required(call.params, "UserName")?)
                .await?
                .user_id
        }
        PrincipalKindRef::Group => {
            group_by_name(call, required(call.params, "GroupName")?)
                .await?
                .group_id
        }
        PrincipalKindRef::Role => {
            role_by_name(call, required(call.params, "RoleName")?)
                .await?
                .role_id
        }
    })
}

fn entity_word(kind: PrincipalKindRef) -> &'static str {
    match kind {
        PrincipalKindRef::User => "User",
        PrincipalKindRef::Group => "Group",
        PrincipalKindRef::Role => "Role",
    }
}

async fn attach(call: Call<'_>, kind: PrincipalKindRef) -> Result<Value, ApiError> {
    let (policy_kind, policy_name) = existing_policy(&call).await?;
    let principal_id = principal(&call, kind).await?;
    let (system_limit, custom_limit) = match kind {
        PrincipalKindRef::User => MAX_USER_POLICIES,
        PrincipalKindRef::Group => MAX_GROUP_POLICIES,
        PrincipalKindRef::Role => MAX_ROLE_POLICIES,
    };
    let limit = if policy_kind == SYSTEM {
        system_limit
    } else {
        custom_limit
    };
    let word = entity_word(kind);
    let attached = call
        .state
        .store
        .attach_policy(
            account(&call),
            &AttachmentRecord {
                principal_kind: kind,
                principal_id,
                policy_type: policy_kind.to_owned(),
                policy_name,
                attached_at_ms: util::now_ms(call.state),
            },
            limit,
        )
        .await
        .map_err(|e| {
            conflict(
                e,
                &format!("{word}.Policy"),
                &format!(
                    "The policy is already attached to the {}.",
                    word.to_lowercase()
                ),
            )
        })?;
    if !attached {
        return Err(limit_exceeded(
            &format!("{word}.Policy"),
            format!(
                "A {} can have at most {limit} {} policies attached.",
                word.to_lowercase(),
                policy_kind.to_lowercase()
            ),
        ));
    }
    Ok(json!({}))
}

async fn detach(call: Call<'_>, kind: PrincipalKindRef) -> Result<Value, ApiError> {
    let policy_kind = policy_type(call.params, true)?.unwrap_or(CUSTOM);
    let policy_name = required(call.params, "PolicyName")?;
    let principal_id = principal(&call, kind).await?;
    let word = entity_word(kind);
    let detached = call
        .state
        .store
        .detach_policy(
            account(&call),
            kind,
            &principal_id,
            policy_kind,
            policy_name,
        )
        .await
        .map_err(util::store_error)?;
    if !detached {
        return Err(entity_not_exist(
            &format!("{word}.Policy"),
            format!("The policy is not attached to the {}.", word.to_lowercase()),
        ));
    }
    Ok(json!({}))
}

pub(super) fn attach_policy_to_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(attach(call, PrincipalKindRef::User))
}

pub(super) fn attach_policy_to_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(attach(call, PrincipalKindRef::Group))
}

pub(super) fn attach_policy_to_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(attach(call, PrincipalKindRef::Role))
}

pub(super) fn detach_policy_from_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(detach(call, PrincipalKindRef::User))
}

pub(super) fn detach_policy_from_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(detach(call, PrincipalKindRef::Group))
}

pub(super) fn detach_policy_from_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(detach(call, PrincipalKindRef::Role))
}

/// `Policies.Policy[]` with `AttachDate` for one principal.
async fn policies_for(call: Call<'_>, kind: PrincipalKindRef) -> Result<Value, ApiError> {
    let principal_id = principal(&call, kind).await?;
    let acct = account(&call);
    let attachments: Vec<AttachmentRecord> = call
        .state
        .store
        .list_attachments(acct, kind, &principal_id)
        .await
        .map_err(util::store_error)?;
    let mut items = Vec::with_capacity(attachments.len());
    for a in attachments {
        let (description, default_version) = if a.policy_type == SYSTEM {
            match system_policy(&a.policy_name) {
                Some(p) => (p.description.to_owned(), p.version.to_owned()),
                None => continue,
            }
        } else {
            match call
                .state
                .store
                .get_policy(acct, &a.policy_name)
                .await
                .map_err(util::store_error)?
            {
                Some(p) => (p.description, p.default_version),
                None => continue,
            }
        };
        items.push(json!({
            "PolicyName": a.policy_name,
            "PolicyType": a.policy_type,
            "Description": description,
            "DefaultVersion": default_version,
            "AttachDate": util::iso8601(a.attached_at_ms),
        }));
    }
    Ok(json!({ "Policies": { "Policy": items } }))
}

pub(super) fn list_policies_for_user(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(policies_for(call, PrincipalKindRef::User))
}

pub(super) fn list_policies_for_group(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(policies_for(call, PrincipalKindRef::Group))
}

pub(super) fn list_policies_for_role(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(policies_for(call, PrincipalKindRef::Role))
}

pub(super) fn list_entities_for_policy(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let (kind, name) = existing_policy(&call).await?;
        let store = &call.state.store;
        let acct = account(&call);
        let attachments = store
            .list_policy_attachments(acct, kind, &name)
            .await
            .map_err(util::store_error)?;
        let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
        for a in attachments {
            let attach_date = util::iso8601(a.attached_at_ms);
            match a.principal_kind {
                PrincipalKindRef::User => {
                    if let Some(u) = store
                        .get_user_by_id(acct, &a.principal_id)
                        .await
                        .map_err(util::store_error)?
                    {
                        users.push(json!({
                            "UserId": u.user_id,
                            "UserName": u.user_name,
                            "DisplayName": u.display_name,
                            "AttachDate": attach_date,
                        }));
                    }
                }
                PrincipalKindRef::Group => {
                    let all = store
                        .list_groups(acct, None, 1000)
                        .await
                        .map_err(util::store_error)?;
                    if let Some(g) = all.iter().find(|g| g.group_id == a.principal_id) {
                        groups.push(json!({
                            "GroupName": g.group_name,
                            "Comments": g.comments,
                            "AttachDate": attach_date,
                        }));
                    }
                }
                PrincipalKindRef::Role => {
                    let mut after: Option<String> = None;
                    'scan: loop {
                        let batch = store
                            .list_roles(acct, after.as_deref(), 500)
                            .await
                            .map_err(util::store_error)?;
                        if batch.is_empty() {
                            break;
                        }
                        after = batch.last().map(|r| r.role_name.clone());
                        for r in batch {
                            if r.role_id == a.principal_id {
                                roles.push(json!({
                                    "RoleId": r.role_id,
                                    "RoleName": r.role_name,
                                    "Arn": r.arn,
                                    "Description": r.description,
                                    "AttachDate": attach_date,
                                }));
                                break 'scan;
                            }
                        }
                    }
                }
            }
        }
        Ok(json!({
            "Users": { "User": users },
            "Groups": { "Group": groups },
            "Roles": { "Role": roles },
        }))
    })
}
