//! Resource Directory (`ResourceDirectoryMaster` `2022-04-19`): folders, member accounts, control policies.
//!
//! One directory per management account. Every action is authorized by the server on the
//! RAM action `resourcemanager:<Action>` (the RAM code Alibaba Cloud documents for these
//! APIs) and a resource ARN in the **caller's** account; the handlers then require the
//! caller's account to be the directory's management account, so a member account's root,
//! which the authorizer lets act inside its own account, still cannot manage the directory.
//!
//! See `docs/resource-directory.md` for the actions, response shapes and error codes.

// Handlers must return `ApiError` (the frame's `HandlerFuture`), so its size is not ours
// to change; helpers returning it follow suit.
#![allow(clippy::result_large_err)]

pub mod access_role;
mod accounts;
mod policies;
mod tree;

use cloudward_protocol::ApiError;
use cloudward_service::{Access, ActionSpec, Call, Params, Principal, ReadWrite};
use cloudward_store::{DirectoryRecord, StoreError};

use crate::util;

/// API version of `ResourceDirectoryMaster`.
pub const VERSION: &str = "2022-04-19";
/// Product name (for `Recommend` links and audit events).
pub const PRODUCT: &str = "ResourceDirectoryMaster";
/// ActionTrail `eventSource` of these actions.
pub const EVENT_SOURCE: &str = "resourcedirectory.aliyuncs.com";

/// Name of the RAM role created in every new member account, trusted by the management
/// account and carrying `AdministratorAccess`.
pub const ACCESS_ROLE_NAME: &str = "ResourceDirectoryAccountAccessRole";

/// Folder levels allowed below the Root folder.
pub const MAX_FOLDER_DEPTH: i64 = 5;
/// Folders per directory, the Root folder excluded (Alibaba's default quota).
pub const MAX_FOLDERS: i64 = 100;
/// Members per directory (Alibaba's default quota is 20 and adjustable; a self-hosted
/// control plane raises it).
pub const MAX_MEMBERS: i64 = 1000;
/// Custom control policies per directory.
pub const MAX_CUSTOM_CONTROL_POLICIES: usize = 1500;
/// Control policies attached to one node (Root folder, folder or member).
pub const MAX_ATTACHMENTS_PER_TARGET: i64 = 10;
/// Characters per control-policy document.
pub const MAX_CONTROL_POLICY_CHARS: usize = 4096;

macro_rules! action {
    ($name:literal, $rw:ident, $resource:path, $handler:path) => {
        ActionSpec {
            product: PRODUCT,
            event_source: EVENT_SOURCE,
            version: VERSION,
            name: $name,
            ram_action: concat!("resourcemanager:", $name),
            rw: ReadWrite::$rw,
            access: Access::Policy {
                resource: $resource,
            },
            secret_fields: &[],
            handler: $handler,
        }
    };
}

/// The actions of this product.
pub const ACTIONS: &[ActionSpec] = &[
    action!(
        "EnableResourceDirectory",
        Write,
        arn_directory,
        tree::enable_resource_directory
    ),
    action!(
        "GetResourceDirectory",
        Read,
        arn_directory,
        tree::get_resource_directory
    ),
    action!(
        "CreateFolder",
        Write,
        arn_parent_folder,
        tree::create_folder
    ),
    action!("GetFolder", Read, arn_folder, tree::get_folder),
    action!(
        "ListFoldersForParent",
        Read,
        arn_parent_folder,
        tree::list_folders_for_parent
    ),
    action!("UpdateFolder", Write, arn_folder, tree::update_folder),
    action!("DeleteFolder", Write, arn_folder, tree::delete_folder),
    action!(
        "CreateResourceAccount",
        Write,
        arn_directory,
        accounts::create_resource_account
    ),
    action!("GetAccount", Read, arn_account, accounts::get_account),
    action!("ListAccounts", Read, arn_directory, accounts::list_accounts),
    action!(
        "ListAccountsForParent",
        Read,
        arn_parent_folder,
        accounts::list_accounts_for_parent
    ),
    action!("MoveAccount", Write, arn_account, accounts::move_account),
    action!(
        "DeleteAccount",
        Write,
        arn_account,
        accounts::delete_account
    ),
    action!(
        "RemoveCloudAccount",
        Write,
        arn_account,
        accounts::remove_cloud_account
    ),
    action!(
        "EnableControlPolicy",
        Write,
        arn_directory,
        policies::enable_control_policy
    ),
    action!(
        "DisableControlPolicy",
        Write,
        arn_directory,
        policies::disable_control_policy
    ),
    action!(
        "GetControlPolicyEnablementStatus",
        Read,
        arn_directory,
        policies::get_control_policy_enablement_status
    ),
    action!(
        "CreateControlPolicy",
        Write,
        arn_directory,
        policies::create_control_policy
    ),
    action!(
        "UpdateControlPolicy",
        Write,
        arn_policy,
        policies::update_control_policy
    ),
    action!(
        "DeleteControlPolicy",
        Write,
        arn_policy,
        policies::delete_control_policy
    ),
    action!(
        "GetControlPolicy",
        Read,
        arn_policy,
        policies::get_control_policy
    ),
    action!(
        "ListControlPolicies",
        Read,
        arn_directory,
        policies::list_control_policies
    ),
    action!(
        "AttachControlPolicy",
        Write,
        arn_policy,
        policies::attach_control_policy
    ),
    action!(
        "DetachControlPolicy",
        Write,
        arn_policy,
        policies::detach_control_policy
    ),
    action!(
        "ListControlPolicyAttachmentsForTarget",
        Read,
        arn_directory,
        policies::list_control_policy_attachments_for_target
    ),
    action!(
        "ListTargetAttachmentsForControlPolicy",
        Read,
        arn_policy,
        policies::list_target_attachments_for_control_policy
    ),
];

// ---- resource ARNs (always in the caller's account; the handler checks the directory) ----

fn arn(principal: &Principal, relative: &str) -> String {
    format!("acs:resourcemanager::{}:{relative}", principal.account_id)
}

fn arn_directory(_: &Params, principal: &Principal) -> Result<String, ApiError> {
    Ok(arn(principal, "*"))
}

fn arn_folder(params: &Params, principal: &Principal) -> Result<String, ApiError> {
    let id = util::optional(params, "FolderId").unwrap_or("*");
    Ok(arn(principal, &format!("folder/{id}")))
}

fn arn_parent_folder(params: &Params, principal: &Principal) -> Result<String, ApiError> {
    let id = util::optional(params, "ParentFolderId").unwrap_or("*");
    Ok(arn(principal, &format!("folder/{id}")))
}

fn arn_account(params: &Params, principal: &Principal) -> Result<String, ApiError> {
    let id = util::optional(params, "AccountId").unwrap_or("*");
    Ok(arn(principal, &format!("account/{id}")))
}

fn arn_policy(params: &Params, principal: &Principal) -> Result<String, ApiError> {
    let id = util::optional(params, "PolicyId").unwrap_or("*");
    Ok(arn(principal, &format!("policy/controlpolicy/{id}")))
}

// ---- errors (codes as the ResourceDirectoryMaster API documents them) ----

fn err(code: &str, status: u16, message: &str) -> ApiError {
    ApiError::new(code, status, message)
}

pub(crate) fn directory_not_enabled() -> ApiError {
    err(
        "EntityNotExists.ResourceDirectory",
        404,
        "The resource directory for the account is not enabled. We recommend that you first enable the resource directory for the account.",
    )
}

pub(crate) fn folder_not_found() -> ApiError {
    err(
        "EntityNotExists.Folder",
        404,
        "The resource directory folder does not exist.",
    )
}

pub(crate) fn account_not_found() -> ApiError {
    err(
        "EntityNotExists.Account",
        404,
        "This resource directory account does not exist.",
    )
}

pub(crate) fn policy_not_found() -> ApiError {
    err(
        "EntityNotExists.ControlPolicy",
        404,
        "The specified control policy does not exist.",
    )
}

/// A member account (or any account that is not the directory's management account)
/// tried to manage the directory.
pub(crate) fn not_management_account() -> ApiError {
    err(
        "NoPermission",
        403,
        "You are not authorized to do this action. Only the management account of the resource directory can perform this operation.",
    )
}

/// `MissingParameter.<name>` as RD reports it (RAM reports a bare `MissingParameter`).
pub(crate) fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    util::optional(params, name).ok_or_else(|| {
        err(
            &format!("MissingParameter.{name}"),
            400,
            &format!("You must specify {name}."),
        )
    })
}

pub(crate) fn store_err(e: StoreError) -> ApiError {
    util::store_error(e)
}

/// The directory the caller manages. Errors: `NoPermission` for a member account of some
/// directory, `EntityNotExists.ResourceDirectory` for an account without a directory.
pub(crate) async fn managed_directory(call: &Call<'_>) -> Result<DirectoryRecord, ApiError> {
    let account = util::account(call.auth.principal());
    let store = &call.state.store;
    if let Some(directory) = store.rd_get_directory(account).await.map_err(store_err)? {
        return Ok(directory);
    }
    if store
        .directory_management_account(account)
        .await
        .map_err(store_err)?
        .is_some()
    {
        return Err(not_management_account());
    }
    Err(directory_not_enabled())
}

// ---- ids ----

const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `<prefix><n random letters and digits>` (n ≤ 32), e.g. `fd-` + 10 for folders.
pub(crate) fn random_id(prefix: &str, n: usize) -> Result<String, ApiError> {
    let bytes = cloudward_service::random_bytes::<32>().map_err(|_| ApiError::internal())?;
    let mut id = String::with_capacity(prefix.len() + n);
    id.push_str(prefix);
    for b in bytes.iter().take(n) {
        // 256 % 62 = 8: the slight bias is irrelevant for identifiers.
        let c = ALNUM
            .get(usize::from(*b) % ALNUM.len())
            .copied()
            .unwrap_or(b'0');
        id.push(char::from(c));
    }
    Ok(id)
}

/// Whether `id` looks like a folder id: `r-` or `fd-` followed by letters and digits.
pub(crate) fn is_folder_id(id: &str) -> bool {
    let rest = id.strip_prefix("fd-").or_else(|| id.strip_prefix("r-"));
    matches!(rest, Some(r) if !r.is_empty() && r.len() <= 32 && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Whether `id` looks like an account id (digits only).
pub(crate) fn is_account_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_digit())
}

// ---- pagination (RD pages by number, unlike RAM's Marker) ----

/// `PageNumber` (from 1, default 1) and `PageSize` (1..=100, default 10).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageQuery {
    number: usize,
    size: usize,
}

impl PageQuery {
    pub(crate) fn from_params(params: &Params) -> Result<Self, ApiError> {
        let number = util::optional_int(
            params,
            "PageNumber",
            1,
            i64::from(i32::MAX),
            "InvalidParameter.PageNumber",
        )?
        .unwrap_or(1);
        let size = util::optional_int(params, "PageSize", 1, 100, "InvalidParameter.PageSize")?
            .unwrap_or(10);
        Ok(Self {
            number: usize::try_from(number).unwrap_or(1),
            size: usize::try_from(size).unwrap_or(10),
        })
    }

    /// Cuts one page out of the full, ordered list; returns the page and the total.
    pub(crate) fn slice<T>(&self, rows: Vec<T>) -> (Vec<T>, usize) {
        let total = rows.len();
        let skip = self.number.saturating_sub(1).saturating_mul(self.size);
        (rows.into_iter().skip(skip).take(self.size).collect(), total)
    }

    /// Adds `PageNumber`, `PageSize` and `TotalCount` to a list response.
    pub(crate) fn annotate(&self, body: &mut serde_json::Value, total: usize) {
        set(body, "PageNumber", serde_json::json!(self.number));
        set(body, "PageSize", serde_json::json!(self.size));
        set(body, "TotalCount", serde_json::json!(total));
    }
}

/// Case-insensitive substring filter for `QueryKeyword`.
pub(crate) fn keyword_matches(keyword: Option<&str>, fields: &[&str]) -> bool {
    match keyword {
        None => true,
        Some(k) => {
            let k = k.to_lowercase();
            fields.iter().any(|f| f.to_lowercase().contains(&k))
        }
    }
}

/// Sets `key` on a JSON object (no-op on anything else; never panics).
pub(crate) fn set(target: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(object) = target.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
}
