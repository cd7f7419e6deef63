//! Member accounts: creation (a real tenant with the access role), lookup, listing, moves
//! and removal.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{
    AccountKind, AccountRecord, DirectoryRecord, MemberRecord, Store, StoreError,
};
use serde_json::{Value, json};

use super::set;
use super::tree::{folder_chain, parent_folder, rd_path};
use super::{
    MAX_MEMBERS, PageQuery, account_not_found, err, is_account_id, keyword_matches,
    managed_directory, policies, random_id, required, store_err,
};
use crate::util;

const TYPE_RESOURCE: &str = "ResourceAccount";

/// Display names: 2 to 50 characters, letters (any script), digits, `_`, `.`, `-` and spaces.
fn check_display_name(name: Option<&str>) -> Result<&str, ApiError> {
    let Some(name) = name else {
        return Err(err(
            "MissingParameter.Account.DisplayName",
            400,
            "You must specify DisplayName.",
        ));
    };
    let len = name.chars().count();
    if !(2..=50).contains(&len) {
        return Err(err(
            "InvalidParameter.Account.DisplayName.Length",
            400,
            "The DisplayName of the account exceeds the length limit.",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ' '))
    {
        return Err(err(
            "InvalidParameter.Account.DisplayName",
            400,
            "The DisplayName of account is invalid.",
        ));
    }
    Ok(name)
}

/// Account name prefixes: 2 to 37 characters, letters, digits, `_`, `.`, `-`; starting and
/// ending with a letter or digit; no two special characters in a row.
fn check_prefix(prefix: &str) -> Result<(), ApiError> {
    let len = prefix.chars().count();
    if !(2..=37).contains(&len) {
        return Err(err(
            "InvalidParameter.Account.AccountNamePrefix.Length",
            400,
            "The account name prefix exceeds the length limit.",
        ));
    }
    let special = |b: u8| matches!(b, b'_' | b'.' | b'-');
    let bytes = prefix.as_bytes();
    let ok = bytes
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || special(b))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !bytes.windows(2).any(|w| w.iter().all(|&b| special(b)));
    if ok {
        Ok(())
    } else {
        Err(err(
            "InvalidParameter.Account.AccountNamePrefix",
            400,
            "The account name prefix is invalid.",
        ))
    }
}

fn account_id_param<'a>(call: &'a Call<'_>) -> Result<&'a str, ApiError> {
    let id = required(call.params, "AccountId")?;
    if !is_account_id(id) {
        return Err(err(
            "InvalidParameter.AccountId",
            400,
            "The AccountId is invalid.",
        ));
    }
    Ok(id)
}

async fn load_member(
    store: &Store,
    directory: &DirectoryRecord,
    account_id: &str,
) -> Result<MemberRecord, ApiError> {
    store
        .rd_get_member(&directory.management_account_id, account_id)
        .await
        .map_err(store_err)?
        .ok_or_else(account_not_found)
}

/// The fields every member listing shares.
fn member_json(directory: &DirectoryRecord, member: &MemberRecord) -> Value {
    json!({
        "AccountId": member.account_id,
        "AccountName": member.account_name,
        "DisplayName": member.display_name,
        "FolderId": member.folder_id,
        "JoinMethod": member.join_method,
        "JoinTime": util::iso8601(member.joined_at_ms),
        "ModifyTime": util::iso8601(member.modified_at_ms),
        "ResourceDirectoryId": directory.directory_id,
        "Status": member.status,
        "Type": member.account_type,
    })
}

pub(crate) fn create_resource_account(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let display_name = check_display_name(util::optional(call.params, "DisplayName"))?;
        let prefix = match util::optional(call.params, "AccountNamePrefix") {
            Some(p) => {
                check_prefix(p)?;
                p.to_owned()
            }
            None => random_id("", 12)?.to_lowercase(),
        };
        let folder = parent_folder(&call, &directory, "ParentFolderId").await?;
        if util::optional_bool(call.params, "DryRun")?.unwrap_or(false) {
            return Err(err(
                "DryRunOperation",
                400,
                "Request validation has been passed with DryRun flag set.",
            ));
        }
        let members = store.rd_list_members(mgmt, None).await.map_err(store_err)?;
        if i64::try_from(members.len()).unwrap_or(i64::MAX) >= MAX_MEMBERS {
            return Err(err(
                "LimitExceeded.Account",
                409,
                "The maximum number of member accounts in a resource directory exceeds the limit.",
            ));
        }
        if members.iter().any(|m| m.display_name == display_name) {
            return Err(display_name_used());
        }
        let account_name = format!(
            "{prefix}@{}.aliyunid.com",
            directory.directory_id.to_lowercase()
        );
        if members.iter().any(|m| m.account_name == account_name) {
            return Err(account_name_used());
        }

        let now = util::now_ms(call.state);
        let account_id = cloudward_bootstrap_id()?;
        store
            .insert_account(&AccountRecord {
                account_id: account_id.clone(),
                display_name: display_name.to_owned(),
                kind: AccountKind::Member,
                created_at_ms: now,
            })
            .await
            .map_err(store_err)?;
        super::access_role::provision(store, mgmt, &account_id, now).await?;
        let member = MemberRecord {
            account_id,
            folder_id: folder.folder_id.clone(),
            display_name: display_name.to_owned(),
            account_name,
            account_type: TYPE_RESOURCE.to_owned(),
            join_method: "created".to_owned(),
            status: "CreateSuccess".to_owned(),
            joined_at_ms: now,
            modified_at_ms: now,
        };
        let attach = directory
            .control_policy_enabled
            .then_some(policies::FULL_ALIYUN_ACCESS_ID);
        match store.rd_insert_member(mgmt, &member, attach).await {
            Ok(()) => {}
            // Lost a race with a concurrent create of the same name.
            Err(StoreError::AlreadyExists { .. }) => return Err(display_name_used()),
            Err(e) => return Err(store_err(e)),
        }
        Ok(json!({ "Account": member_json(&directory, &member) }))
    })
}

fn display_name_used() -> ApiError {
    err(
        "InvalidParameter.Account.DisplayName.AlreadyUsed",
        409,
        "The displayname of account has been used.",
    )
}

fn account_name_used() -> ApiError {
    err(
        "EntityAlreadyExists.ResourceDirectory.Account",
        409,
        "The account name generated for the new member already exists. Choose another AccountNamePrefix.",
    )
}

fn cloudward_bootstrap_id() -> Result<String, ApiError> {
    crate::bootstrap::new_account_id().map_err(|_| ApiError::internal())
}

pub(crate) fn get_account(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let store = &call.state.store;
        let id = account_id_param(&call)?;
        let member = load_member(store, &directory, id).await?;
        let chain =
            folder_chain(store, &directory.management_account_id, &member.folder_id).await?;
        let mut body = member_json(&directory, &member);
        set(
            &mut body,
            "ResourceDirectoryPath",
            json!(format!(
                "{}/{}",
                rd_path(&directory, &chain),
                member.account_id
            )),
        );
        let location: Vec<&str> = std::iter::once("root")
            .chain(chain.iter().skip(1).map(|f| f.folder_name.as_str()))
            .collect();
        set(&mut body, "Location", json!(location.join("/")));
        set(&mut body, "HasSecureMobilePhone", json!(false));
        set(&mut body, "Tags", json!([]));
        Ok(json!({ "Account": body }))
    })
}

async fn list(call: &Call<'_>, folder: Option<&str>) -> Result<Value, ApiError> {
    let directory = managed_directory(call).await?;
    let store = &call.state.store;
    let page = PageQuery::from_params(call.params)?;
    let folder_id = match folder {
        None => None,
        Some(name) => Some(parent_folder(call, &directory, name).await?.folder_id),
    };
    let keyword = util::optional(call.params, "QueryKeyword");
    let members: Vec<MemberRecord> = store
        .rd_list_members(&directory.management_account_id, folder_id.as_deref())
        .await
        .map_err(store_err)?
        .into_iter()
        .filter(|m| keyword_matches(keyword, &[&m.display_name, &m.account_id, &m.account_name]))
        .collect();
    let (rows, total) = page.slice(members);
    let mut items = Vec::with_capacity(rows.len());
    for member in &rows {
        let mut item = member_json(&directory, member);
        if folder.is_none() {
            let chain =
                folder_chain(store, &directory.management_account_id, &member.folder_id).await?;
            set(
                &mut item,
                "ResourceDirectoryPath",
                json!(format!(
                    "{}/{}",
                    rd_path(&directory, &chain),
                    member.account_id
                )),
            );
        }
        items.push(item);
    }
    let mut body = json!({ "Accounts": { "Account": items } });
    page.annotate(&mut body, total);
    Ok(body)
}

pub(crate) fn list_accounts(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { list(&call, None).await })
}

pub(crate) fn list_accounts_for_parent(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move { list(&call, Some("ParentFolderId")).await })
}

pub(crate) fn move_account(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let store = &call.state.store;
        let id = account_id_param(&call)?;
        required(call.params, "DestinationFolderId")?;
        let member = load_member(store, &directory, id).await?;
        let folder = parent_folder(&call, &directory, "DestinationFolderId").await?;
        if member.folder_id != folder.folder_id
            && !store
                .rd_move_member(
                    &directory.management_account_id,
                    id,
                    &folder.folder_id,
                    util::now_ms(call.state),
                )
                .await
                .map_err(store_err)?
        {
            return Err(account_not_found());
        }
        Ok(json!({}))
    })
}

/// Deletes a member of the resource-account type (Alibaba closes the account; Cloudward
/// removes it from the directory — see docs/resource-directory.md).
pub(crate) fn delete_account(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let store = &call.state.store;
        let id = account_id_param(&call)?;
        let member = load_member(store, &directory, id).await?;
        if member.account_type != TYPE_RESOURCE {
            return Err(type_mismatch());
        }
        if !store
            .rd_delete_member(&directory.management_account_id, id)
            .await
            .map_err(store_err)?
        {
            return Err(account_not_found());
        }
        Ok(json!({ "DeletionType": "0" }))
    })
}

/// Removes a member of the cloud-account type (an invited account, which leaves the
/// directory and lives on). Resource accounts are refused, as Alibaba Cloud does.
pub(crate) fn remove_cloud_account(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let store = &call.state.store;
        let id = account_id_param(&call)?;
        let member = load_member(store, &directory, id).await?;
        if member.account_type == TYPE_RESOURCE {
            return Err(type_mismatch());
        }
        if !store
            .rd_delete_member(&directory.management_account_id, id)
            .await
            .map_err(store_err)?
        {
            return Err(account_not_found());
        }
        Ok(json!({}))
    })
}

fn type_mismatch() -> ApiError {
    err(
        "AccountTypeOrStatusMismatch",
        409,
        "You cannot perform the action on the member account.",
    )
}
