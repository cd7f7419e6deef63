//! The directory itself and its folder tree.

use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture};
use cloudward_store::{DirectoryRecord, FolderRecord, Store, StoreError};
use serde_json::{Value, json};

use super::set;
use super::{
    MAX_FOLDER_DEPTH, MAX_FOLDERS, PageQuery, err, folder_not_found, is_folder_id, keyword_matches,
    managed_directory, not_management_account, policies, random_id, required, store_err,
};
use crate::util;

/// Name of the Root folder.
const ROOT_FOLDER_NAME: &str = "Root";

/// Folder ancestry walks stop here (Root + 5 levels, with margin).
const MAX_WALK: usize = 16;

/// The folders from the Root folder down to `folder_id` (inclusive).
pub(crate) async fn folder_chain(
    store: &Store,
    mgmt: &str,
    folder_id: &str,
) -> Result<Vec<FolderRecord>, ApiError> {
    let mut chain = Vec::new();
    let mut next = Some(folder_id.to_owned());
    while let Some(id) = next {
        if chain.len() > MAX_WALK {
            return Err(store_err(StoreError::Corrupt {
                what: "rd_folders.parent_folder_id (cycle)",
            }));
        }
        let folder = store
            .rd_get_folder(mgmt, &id)
            .await
            .map_err(store_err)?
            .ok_or_else(folder_not_found)?;
        next = folder.parent_folder_id.clone();
        chain.push(folder);
    }
    chain.reverse();
    Ok(chain)
}

/// `rd-…/r-…/fd-…/…` for a folder chain (Root first).
pub(crate) fn rd_path(directory: &DirectoryRecord, chain: &[FolderRecord]) -> String {
    let mut path = directory.directory_id.clone();
    for folder in chain {
        path.push('/');
        path.push_str(&folder.folder_id);
    }
    path
}

/// Resolves an optional parent folder parameter (default: the Root folder).
pub(crate) async fn parent_folder(
    call: &Call<'_>,
    directory: &DirectoryRecord,
    name: &str,
) -> Result<FolderRecord, ApiError> {
    let id = match util::optional(call.params, name) {
        None => directory.root_folder_id.clone(),
        Some(id) if is_folder_id(id) => id.to_owned(),
        Some(_) => {
            return Err(err(
                &format!("InvalidParameter.{name}"),
                400,
                &format!("The {name} is invalid."),
            ));
        }
    };
    call.state
        .store
        .rd_get_folder(&directory.management_account_id, &id)
        .await
        .map_err(store_err)?
        .ok_or_else(folder_not_found)
}

/// Reads and checks a required `FolderId`-style parameter.
fn folder_id_param<'a>(call: &'a Call<'_>, name: &str) -> Result<&'a str, ApiError> {
    let id = required(call.params, name)?;
    if !is_folder_id(id) {
        return Err(err(
            &format!("InvalidParameter.{name}"),
            400,
            &format!("The {name} is invalid."),
        ));
    }
    Ok(id)
}

/// Folder names: 1 to 24 characters, letters (any script), digits, `_`, `.` and `-`.
fn check_folder_name(name: Option<&str>) -> Result<&str, ApiError> {
    let Some(name) = name else {
        return Err(err(
            "MissingParameter.Folder.Name",
            400,
            "You must specify the resource folder name.",
        ));
    };
    let len = name.chars().count();
    if len == 0 || len > 24 {
        return Err(err(
            "InvalidParameter.Folder.Name.Length",
            400,
            "The Name of folder exceeds the length limit.",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(err(
            "InvalidParameter.Folder.Name",
            400,
            "The Name of folder is invalid.",
        ));
    }
    Ok(name)
}

async fn check_name_free(
    store: &Store,
    mgmt: &str,
    parent_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let siblings = store
        .rd_list_child_folders(mgmt, parent_id)
        .await
        .map_err(store_err)?;
    if siblings
        .iter()
        .any(|f| f.folder_name == name && Some(f.folder_id.as_str()) != except)
    {
        return Err(err(
            "InvalidParameter.Folder.Name.AlreadyUsed",
            400,
            "The name already exists under the same parent. Please change to another name.",
        ));
    }
    Ok(())
}

fn dry_run(call: &Call<'_>) -> Result<bool, ApiError> {
    Ok(util::optional_bool(call.params, "DryRun")?.unwrap_or(false))
}

pub(crate) fn enable_resource_directory(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let store = &call.state.store;
        let account = util::account(call.auth.principal()).to_owned();
        match util::optional(call.params, "EnableMode") {
            None | Some("CurrentAccount") => {}
            Some("NewManagementAccount") => {
                return Err(err(
                    "InvalidParameter.EnableMode",
                    400,
                    "Cloudward enables the resource directory with the current account only (EnableMode=CurrentAccount).",
                ));
            }
            Some(_) => {
                return Err(err(
                    "InvalidParameter.EnableMode",
                    400,
                    "The EnableMode is invalid. Valid values: CurrentAccount, NewManagementAccount.",
                ));
            }
        }
        // Only the organization's management account (created at first start) may own the
        // directory; member accounts and any other tenant are refused.
        let management = store
            .meta_get("management_account_id")
            .await
            .map_err(store_err)?;
        if management.as_deref() != Some(account.as_str()) {
            return Err(not_management_account());
        }
        if store
            .rd_get_directory(&account)
            .await
            .map_err(store_err)?
            .is_some()
        {
            return Err(err(
                "EntityAlreadyExists.ResourceDirectory",
                409,
                "The resource directory for the account is already enabled. We recommend that you do not enable the resource directory again.",
            ));
        }
        if dry_run(&call)? {
            return Err(err(
                "DryRunOperation",
                400,
                "Request validation has been passed with DryRun flag set.",
            ));
        }
        let now = util::now_ms(call.state);
        let directory = DirectoryRecord {
            management_account_id: account.clone(),
            directory_id: random_id("rd-", 6)?,
            root_folder_id: random_id("r-", 6)?,
            control_policy_enabled: false,
            created_at_ms: now,
        };
        let root = FolderRecord {
            folder_id: directory.root_folder_id.clone(),
            parent_folder_id: None,
            folder_name: ROOT_FOLDER_NAME.to_owned(),
            depth: 0,
            created_at_ms: now,
        };
        match store
            .rd_create_directory(&directory, &root, &policies::system_policies(now)?)
            .await
        {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                return Err(err(
                    "EntityAlreadyExists.ResourceDirectory",
                    409,
                    "The resource directory for the account is already enabled. We recommend that you do not enable the resource directory again.",
                ));
            }
            Err(e) => return Err(store_err(e)),
        }
        let name = master_account_name(store, &account).await?;
        Ok(json!({
            "ResourceDirectory": {
                "CreateTime": util::iso8601(directory.created_at_ms),
                "MasterAccountId": account,
                "MasterAccountName": name,
                "ResourceDirectoryId": directory.directory_id,
                "RootFolderId": directory.root_folder_id,
            }
        }))
    })
}

async fn master_account_name(store: &Store, account: &str) -> Result<String, ApiError> {
    Ok(store
        .get_account(account)
        .await
        .map_err(store_err)?
        .map(|a| a.display_name)
        .unwrap_or_default())
}

pub(crate) fn get_resource_directory(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let store = &call.state.store;
        let account = util::account(call.auth.principal());
        // Management account: its directory; member: the directory it belongs to.
        let not_in_use = || {
            err(
                "ResourceDirectoryNotInUse",
                404,
                "The specified account is not an Alibaba Cloud account or a member account of the resource directory.",
            )
        };
        let mgmt = store
            .directory_management_account(account)
            .await
            .map_err(store_err)?
            .ok_or_else(not_in_use)?;
        let directory = store
            .rd_get_directory(&mgmt)
            .await
            .map_err(store_err)?
            .ok_or_else(not_in_use)?;
        let name = master_account_name(store, &mgmt).await?;
        Ok(json!({
            "ResourceDirectory": {
                "ControlPolicyStatus": if directory.control_policy_enabled { "Enabled" } else { "Disabled" },
                "CreateTime": util::iso8601(directory.created_at_ms),
                "MasterAccountId": directory.management_account_id,
                "MasterAccountName": name,
                "MemberAccountDisplayNameSyncStatus": "Disabled",
                "MemberDeletionStatus": "Enabled",
                "ResourceDirectoryId": directory.directory_id,
                "RootFolderId": directory.root_folder_id,
            }
        }))
    })
}

pub(crate) fn create_folder(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let name = check_folder_name(util::optional(call.params, "FolderName"))?;
        let parent = parent_folder(&call, &directory, "ParentFolderId").await?;
        if parent.depth + 1 > MAX_FOLDER_DEPTH {
            return Err(err(
                "LimitExceeded.Folder.Depth",
                409,
                "The folder depth exceeds the limit of 5.",
            ));
        }
        if store.rd_count_folders(mgmt).await.map_err(store_err)? >= MAX_FOLDERS {
            return Err(err(
                "QuotaExceeded.Folder.Count",
                409,
                "The number of folders exceeds the quota.",
            ));
        }
        check_name_free(store, mgmt, &parent.folder_id, name, None).await?;
        let folder = FolderRecord {
            folder_id: random_id("fd-", 10)?,
            parent_folder_id: Some(parent.folder_id.clone()),
            folder_name: name.to_owned(),
            depth: parent.depth + 1,
            created_at_ms: util::now_ms(call.state),
        };
        let attach = directory
            .control_policy_enabled
            .then_some(policies::FULL_ALIYUN_ACCESS_ID);
        store
            .rd_insert_folder(mgmt, &folder, attach)
            .await
            .map_err(store_err)?;
        Ok(json!({
            "Folder": {
                "CreateTime": util::iso8601(folder.created_at_ms),
                "FolderId": folder.folder_id,
                "FolderName": folder.folder_name,
                "ParentFolderId": parent.folder_id,
            }
        }))
    })
}

pub(crate) fn get_folder(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let id = folder_id_param(&call, "FolderId")?;
        let chain = folder_chain(&call.state.store, &directory.management_account_id, id).await?;
        let folder = chain.last().ok_or_else(folder_not_found)?;
        let mut body = json!({
            "Folder": {
                "CreateTime": util::iso8601(folder.created_at_ms),
                "FolderId": folder.folder_id,
                "FolderName": folder.folder_name,
                "ResourceDirectoryPath": rd_path(&directory, &chain),
            }
        });
        if let (Some(parent), Some(folder)) = (&folder.parent_folder_id, body.get_mut("Folder")) {
            set(folder, "ParentFolderId", json!(parent));
        }
        Ok(body)
    })
}

fn folder_item(folder: &FolderRecord) -> Value {
    json!({
        "CreateTime": util::iso8601(folder.created_at_ms),
        "FolderId": folder.folder_id,
        "FolderName": folder.folder_name,
    })
}

pub(crate) fn list_folders_for_parent(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let page = PageQuery::from_params(call.params)?;
        let parent = parent_folder(&call, &directory, "ParentFolderId").await?;
        let keyword = util::optional(call.params, "QueryKeyword");
        let folders: Vec<FolderRecord> = call
            .state
            .store
            .rd_list_child_folders(&directory.management_account_id, &parent.folder_id)
            .await
            .map_err(store_err)?
            .into_iter()
            .filter(|f| keyword_matches(keyword, &[&f.folder_name, &f.folder_id]))
            .collect();
        let (rows, total) = page.slice(folders);
        let mut body = json!({
            "Folders": { "Folder": rows.iter().map(folder_item).collect::<Vec<_>>() },
        });
        page.annotate(&mut body, total);
        Ok(body)
    })
}

pub(crate) fn update_folder(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let id = folder_id_param(&call, "FolderId")?;
        let name = check_folder_name(util::optional(call.params, "NewFolderName"))?;
        let folder = store
            .rd_get_folder(mgmt, id)
            .await
            .map_err(store_err)?
            .ok_or_else(folder_not_found)?;
        if let Some(parent) = &folder.parent_folder_id {
            check_name_free(store, mgmt, parent, name, Some(id)).await?;
        }
        if !store
            .rd_rename_folder(mgmt, id, name)
            .await
            .map_err(store_err)?
        {
            return Err(folder_not_found());
        }
        let mut body = json!({
            "Folder": {
                "CreateTime": util::iso8601(folder.created_at_ms),
                "FolderId": folder.folder_id,
                "FolderName": name,
            }
        });
        if let (Some(parent), Some(folder)) = (&folder.parent_folder_id, body.get_mut("Folder")) {
            set(folder, "ParentFolderId", json!(parent));
        }
        Ok(body)
    })
}

pub(crate) fn delete_folder(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let directory = managed_directory(&call).await?;
        let mgmt = directory.management_account_id.as_str();
        let store = &call.state.store;
        let id = folder_id_param(&call, "FolderId")?;
        let folder = store
            .rd_get_folder(mgmt, id)
            .await
            .map_err(store_err)?
            .ok_or_else(folder_not_found)?;
        if folder.parent_folder_id.is_none() {
            return Err(err(
                "InvalidParameter.FolderId",
                400,
                "The Root folder cannot be deleted.",
            ));
        }
        if !store
            .rd_list_child_folders(mgmt, id)
            .await
            .map_err(store_err)?
            .is_empty()
        {
            return Err(err(
                "DeleteConflict.Folder.SubFolder",
                409,
                "This folder has sub folders.",
            ));
        }
        if !store
            .rd_list_members(mgmt, Some(id))
            .await
            .map_err(store_err)?
            .is_empty()
        {
            return Err(err(
                "DeleteConflict.Folder.Account",
                409,
                "This folder has accounts.",
            ));
        }
        if !store.rd_delete_folder(mgmt, id).await.map_err(store_err)? {
            return Err(folder_not_found());
        }
        Ok(json!({}))
    })
}
