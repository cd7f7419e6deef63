//! RAM `2015-05-01`: users, groups, roles, policies and their attachments, AccessKeys,
//! login profiles, MFA, password policy, account alias, security preference, tags; and
//! console sign-in ([`signin`]) with its session actions.
//!
//! Every handler reads and writes only the caller's account (`call.auth.principal()
//! .account_id`); the store has no function that reads another account's RAM entities.
//! Authorization happened before the handler ran, on `ram:<Action>` and the resource ARN
//! computed by the `res_*` functions below (see `docs/ram.md` for the mapping).

// `ApiError` is the wire error every handler returns; boxing it in helpers would only move
// the allocation (the same choice as `rd`).
#![allow(clippy::result_large_err)]

pub mod account;
mod groups;
mod keys;
pub mod login;
mod mfa;
mod policies;
mod roles;
pub mod signin;
mod tags;
pub mod totp;
mod users;

use cloudward_protocol::ApiError;
use cloudward_service::{Access, ActionSpec, Call, Params, Principal, PrincipalKind, ReadWrite};
use cloudward_store::{StoreError, UserRecord};
use serde_json::{Value, json};

use crate::util::{self, Page, entity_already_exists, entity_not_exist, invalid, required};

/// RAM API version.
pub const VERSION: &str = "2015-05-01";
/// Product name (for `Recommend` links and audit events).
pub const PRODUCT: &str = "Ram";
/// ActionTrail `eventSource` of these actions.
pub const EVENT_SOURCE: &str = "ram.aliyuncs.com";

/// RAM users per account.
pub const MAX_USERS: i64 = 1000;
/// Groups per account.
pub const MAX_GROUPS: i64 = 50;
/// Roles per account.
pub const MAX_ROLES: i64 = 1000;
/// Custom policies per account.
pub const MAX_CUSTOM_POLICIES: i64 = 1500;
/// Versions per custom policy.
pub const MAX_POLICY_VERSIONS: i64 = 5;
/// Groups a user can join.
pub const MAX_GROUPS_PER_USER: i64 = 5;
/// AccessKeys per RAM user.
pub const MAX_ACCESS_KEYS_PER_USER: i64 = 2;
/// AccessKeys of the account's root identity (managed through RAM without `UserName`).
pub const MAX_ACCESS_KEYS_ROOT: i64 = 5;
/// Virtual MFA devices per account (one per user at most, users are limited to 1,000).
pub const MAX_MFA_DEVICES: i64 = 1000;
/// System / custom policies attached to one user.
pub const MAX_USER_POLICIES: (i64, i64) = (20, 10);
/// System / custom policies attached to one group.
pub const MAX_GROUP_POLICIES: (i64, i64) = (20, 5);
/// System / custom policies attached to one role.
pub const MAX_ROLE_POLICIES: (i64, i64) = (20, 5);
/// Tags per resource.
pub const MAX_TAGS_PER_RESOURCE: i64 = 20;

/// Parameters and response fields of RAM actions that hold secrets (redacted in audit).
const SECRETS: &[&str] = &[
    "AccessKeySecret",
    "Password",
    "NewPassword",
    "OldPassword",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "Base32StringSeed",
    "QRCodePNG",
    "OTPAuthURI",
];

/// Fields of console sign-in steps that hold secrets: redacted from `ConsoleSignin` audit
/// events (which never include them in the first place) as a second line of defence.
pub const SIGNIN_SECRETS: &[&str] = &[
    "Password",
    "NewPassword",
    "AuthenticationCode",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "Ticket",
    "SessionToken",
    "CsrfToken",
    "Base32StringSeed",
    "OTPAuthURI",
];

macro_rules! action {
    ($name:literal, $rw:ident, $resource:path, $handler:path) => {
        ActionSpec {
            product: PRODUCT,
            event_source: EVENT_SOURCE,
            version: VERSION,
            name: $name,
            ram_action: concat!("ram:", $name),
            rw: ReadWrite::$rw,
            access: Access::Policy {
                resource: $resource,
            },
            secret_fields: SECRETS,
            handler: $handler,
        }
    };
}

/// The actions of this product (every action of RAM 2015-05-01 except
/// `DecodeDiagnosticMessage`).
pub const ACTIONS: &[ActionSpec] = &[
    // Users
    action!("CreateUser", Write, res_user, users::create_user),
    action!("GetUser", Read, res_user, users::get_user),
    action!("UpdateUser", Write, res_user, users::update_user),
    action!("DeleteUser", Write, res_user, users::delete_user),
    action!("ListUsers", Read, res_account, users::list_users),
    // Groups
    action!("CreateGroup", Write, res_group, groups::create_group),
    action!("GetGroup", Read, res_group, groups::get_group),
    action!("UpdateGroup", Write, res_group, groups::update_group),
    action!("DeleteGroup", Write, res_group, groups::delete_group),
    action!("ListGroups", Read, res_account, groups::list_groups),
    action!(
        "AddUserToGroup",
        Write,
        res_group,
        groups::add_user_to_group
    ),
    action!(
        "RemoveUserFromGroup",
        Write,
        res_group,
        groups::remove_user_from_group
    ),
    action!(
        "ListGroupsForUser",
        Read,
        res_user,
        groups::list_groups_for_user
    ),
    action!(
        "ListUsersForGroup",
        Read,
        res_group,
        groups::list_users_for_group
    ),
    // Roles
    action!("CreateRole", Write, res_role, roles::create_role),
    action!("GetRole", Read, res_role, roles::get_role),
    action!("UpdateRole", Write, res_role, roles::update_role),
    action!("DeleteRole", Write, res_role, roles::delete_role),
    action!("ListRoles", Read, res_account, roles::list_roles),
    // Policies
    action!(
        "CreatePolicy",
        Write,
        res_custom_policy,
        policies::create_policy
    ),
    action!("GetPolicy", Read, res_policy, policies::get_policy),
    action!(
        "DeletePolicy",
        Write,
        res_custom_policy,
        policies::delete_policy
    ),
    action!("ListPolicies", Read, res_account, policies::list_policies),
    action!(
        "UpdatePolicyDescription",
        Write,
        res_custom_policy,
        policies::update_policy_description
    ),
    action!(
        "CreatePolicyVersion",
        Write,
        res_custom_policy,
        policies::create_policy_version
    ),
    action!(
        "GetPolicyVersion",
        Read,
        res_policy,
        policies::get_policy_version
    ),
    action!(
        "DeletePolicyVersion",
        Write,
        res_custom_policy,
        policies::delete_policy_version
    ),
    action!(
        "ListPolicyVersions",
        Read,
        res_policy,
        policies::list_policy_versions
    ),
    action!(
        "SetDefaultPolicyVersion",
        Write,
        res_custom_policy,
        policies::set_default_policy_version
    ),
    action!(
        "AttachPolicyToUser",
        Write,
        res_user,
        policies::attach_policy_to_user
    ),
    action!(
        "AttachPolicyToGroup",
        Write,
        res_group,
        policies::attach_policy_to_group
    ),
    action!(
        "AttachPolicyToRole",
        Write,
        res_role,
        policies::attach_policy_to_role
    ),
    action!(
        "DetachPolicyFromUser",
        Write,
        res_user,
        policies::detach_policy_from_user
    ),
    action!(
        "DetachPolicyFromGroup",
        Write,
        res_group,
        policies::detach_policy_from_group
    ),
    action!(
        "DetachPolicyFromRole",
        Write,
        res_role,
        policies::detach_policy_from_role
    ),
    action!(
        "ListPoliciesForUser",
        Read,
        res_user,
        policies::list_policies_for_user
    ),
    action!(
        "ListPoliciesForGroup",
        Read,
        res_group,
        policies::list_policies_for_group
    ),
    action!(
        "ListPoliciesForRole",
        Read,
        res_role,
        policies::list_policies_for_role
    ),
    action!(
        "ListEntitiesForPolicy",
        Read,
        res_policy,
        policies::list_entities_for_policy
    ),
    // AccessKeys
    action!(
        "CreateAccessKey",
        Write,
        res_user_or_self,
        keys::create_access_key
    ),
    action!(
        "UpdateAccessKey",
        Write,
        res_user_or_self,
        keys::update_access_key
    ),
    action!(
        "DeleteAccessKey",
        Write,
        res_user_or_self,
        keys::delete_access_key
    ),
    action!(
        "ListAccessKeys",
        Read,
        res_user_or_self,
        keys::list_access_keys
    ),
    action!(
        "GetAccessKeyLastUsed",
        Read,
        res_user_or_self,
        keys::get_access_key_last_used
    ),
    // Login profiles and passwords
    action!(
        "CreateLoginProfile",
        Write,
        res_user,
        login::create_login_profile
    ),
    action!("GetLoginProfile", Read, res_user, login::get_login_profile),
    action!(
        "UpdateLoginProfile",
        Write,
        res_user,
        login::update_login_profile
    ),
    action!(
        "DeleteLoginProfile",
        Write,
        res_user,
        login::delete_login_profile
    ),
    action!("ChangePassword", Write, res_self, login::change_password),
    action!(
        "GetPasswordPolicy",
        Read,
        res_account,
        login::get_password_policy
    ),
    action!(
        "SetPasswordPolicy",
        Write,
        res_account,
        login::set_password_policy
    ),
    // MFA
    action!(
        "CreateVirtualMFADevice",
        Write,
        res_mfa_name,
        mfa::create_virtual_mfa_device
    ),
    action!(
        "DeleteVirtualMFADevice",
        Write,
        res_mfa_serial,
        mfa::delete_virtual_mfa_device
    ),
    action!(
        "ListVirtualMFADevices",
        Read,
        res_account,
        mfa::list_virtual_mfa_devices
    ),
    action!("BindMFADevice", Write, res_user, mfa::bind_mfa_device),
    action!("UnbindMFADevice", Write, res_user, mfa::unbind_mfa_device),
    action!("GetUserMFAInfo", Read, res_user, mfa::get_user_mfa_info),
    // Console sessions (Cloudward extensions)
    action!(
        "ListConsoleSessions",
        Read,
        res_user_or_account,
        signin::list_console_sessions
    ),
    action!(
        "RevokeConsoleSessions",
        Write,
        res_user_or_account,
        signin::revoke_console_sessions
    ),
    // Account
    action!(
        "SetAccountAlias",
        Write,
        res_account,
        account::set_account_alias
    ),
    action!(
        "GetAccountAlias",
        Read,
        res_account,
        account::get_account_alias
    ),
    action!(
        "ClearAccountAlias",
        Write,
        res_account,
        account::clear_account_alias
    ),
    action!(
        "GetSecurityPreference",
        Read,
        res_account,
        account::get_security_preference
    ),
    action!(
        "SetSecurityPreference",
        Write,
        res_account,
        account::set_security_preference
    ),
    // Tags
    action!("TagResources", Write, res_tagged, tags::tag_resources),
    action!("UntagResources", Write, res_tagged, tags::untag_resources),
    action!(
        "ListTagResources",
        Read,
        res_tagged,
        tags::list_tag_resources
    ),
];

// ---------------------------------------------------------------------------------------
// Resource ARNs for authorization.

/// Account-level actions: `acs:ram::<account>:*`.
fn res_account(_: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(p, "*"))
}

/// `acs:ram::<account>:user/<UserName>`.
fn res_user(params: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(
        p,
        &format!("user/{}", required(params, "UserName")?),
    ))
}

/// The caller itself: its user ARN, or `acs:ram::<account>:root` for the root identity.
fn res_self(_: &Params, p: &Principal) -> Result<String, ApiError> {
    match &p.kind {
        PrincipalKind::User { user_name, .. } => Ok(util::ram_arn(p, &format!("user/{user_name}"))),
        PrincipalKind::Root => Ok(util::ram_arn(p, "root")),
        PrincipalKind::AssumedRole { .. } => Err(not_for_role_sessions()),
    }
}

/// `UserName` if given, else the caller itself (AccessKey actions).
fn res_user_or_self(params: &Params, p: &Principal) -> Result<String, ApiError> {
    match util::optional(params, "UserName") {
        Some(name) => Ok(util::ram_arn(p, &format!("user/{name}"))),
        None => res_self(params, p),
    }
}

/// `UserName` if given, else the whole account (console session actions).
fn res_user_or_account(params: &Params, p: &Principal) -> Result<String, ApiError> {
    match util::optional(params, "UserName") {
        Some(name) => Ok(util::ram_arn(p, &format!("user/{name}"))),
        None => res_account(params, p),
    }
}

/// `acs:ram::<account>:group/<GroupName>`.
fn res_group(params: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(
        p,
        &format!("group/{}", required(params, "GroupName")?),
    ))
}

/// `acs:ram::<account>:role/<RoleName>`.
fn res_role(params: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(
        p,
        &format!("role/{}", required(params, "RoleName")?),
    ))
}

/// `acs:ram::<account>:policy/<PolicyName>` (custom policies only).
fn res_custom_policy(params: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(
        p,
        &format!("policy/{}", required(params, "PolicyName")?),
    ))
}

/// Custom: `acs:ram::<account>:policy/<PolicyName>`; System: `acs:ram::system:policy/<PolicyName>`.
fn res_policy(params: &Params, p: &Principal) -> Result<String, ApiError> {
    let name = required(params, "PolicyName")?;
    match util::optional(params, "PolicyType") {
        Some(policies::SYSTEM) => Ok(format!("acs:ram::system:policy/{name}")),
        _ => res_custom_policy(params, p),
    }
}

/// `acs:ram::<account>:mfa/<VirtualMFADeviceName>`.
fn res_mfa_name(params: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(
        p,
        &format!("mfa/{}", required(params, "VirtualMFADeviceName")?),
    ))
}

/// The `SerialNumber` parameter, which is the device's ARN `acs:ram::<account>:mfa/<name>`.
fn res_mfa_serial(params: &Params, _: &Principal) -> Result<String, ApiError> {
    let serial = required(params, "SerialNumber")?;
    if mfa::parse_serial(serial).is_none() {
        return Err(invalid(
            "InvalidParameter.SerialNumber",
            "The parameter SerialNumber must be acs:ram::<account>:mfa/<name>.",
        ));
    }
    Ok(serial.to_owned())
}

/// Tag actions: the one named resource, or the whole account when several are named.
fn res_tagged(params: &Params, p: &Principal) -> Result<String, ApiError> {
    let kind = tags::resource_type(params)?;
    let names = tags::resource_names(params, false)?;
    match names.as_slice() {
        [one] => Ok(util::ram_arn(p, &format!("{kind}/{one}"))),
        _ => res_account(params, p),
    }
}

// ---------------------------------------------------------------------------------------
// Helpers shared by the handlers.

fn not_for_role_sessions() -> ApiError {
    invalid(
        "InvalidParameter.UserName",
        "A role session has no RAM user: specify UserName.",
    )
}

/// The caller's account id.
fn account<'a>(call: &Call<'a>) -> &'a str {
    &call.auth.principal().account_id
}

/// Maps a store failure; `AlreadyExists` becomes `EntityAlreadyExists.<what>`.
fn conflict(err: StoreError, what: &str, message: &str) -> ApiError {
    match err {
        StoreError::AlreadyExists { .. } => entity_already_exists(what, message),
        other => util::store_error(other),
    }
}

/// The `max_items + 1` rows to fetch for a page.
fn fetch_limit(page: &Page) -> i64 {
    i64::try_from(page.max_items)
        .unwrap_or(1000)
        .saturating_add(1)
}

/// Sets `key` on a JSON object (a no-op on anything else, which no caller passes).
fn set(object: &mut Value, key: &str, value: Value) {
    if let Some(map) = object.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

/// `{ outer: { inner: [items] }, IsTruncated, Marker? }`.
fn list_body(
    outer: &str,
    inner: &str,
    items: Vec<Value>,
    truncated: bool,
    marker: Option<String>,
) -> Value {
    let mut body = json!({ outer: { inner: items }, "IsTruncated": truncated });
    if let Some(marker) = marker {
        set(&mut body, "Marker", json!(marker));
    }
    body
}

/// A user of the caller's account by name, or `EntityNotExist.User`.
async fn user_by_name(call: &Call<'_>, name: &str) -> Result<UserRecord, ApiError> {
    call.state
        .store
        .get_user(account(call), name)
        .await
        .map_err(util::store_error)?
        .ok_or_else(|| entity_not_exist("User", "The user does not exist."))
}

/// Length check on free text (`InvalidParameter.<field>.Length`).
fn check_len(value: &str, max: usize, field: &str) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(invalid(
            &format!("InvalidParameter.{field}.Length"),
            format!("The parameter {field} must be at most {max} characters."),
        ));
    }
    Ok(())
}

/// `PolicyType`: `System` or `Custom` (`InvalidParameter.PolicyType` otherwise).
fn policy_type(params: &Params, required_param: bool) -> Result<Option<&'static str>, ApiError> {
    match util::optional(params, "PolicyType") {
        None if required_param => Err(util::missing("PolicyType")),
        None => Ok(None),
        Some(policies::SYSTEM) => Ok(Some(policies::SYSTEM)),
        Some(policies::CUSTOM) => Ok(Some(policies::CUSTOM)),
        Some(_) => Err(invalid(
            "InvalidParameter.PolicyType",
            "The parameter PolicyType is invalid. The value can be System or Custom.",
        )),
    }
}

/// `{"Tags": {"Tag": [{"TagKey", "TagValue"}]}}` content for a resource.
fn tags_json(tags: &[(String, String)]) -> Value {
    json!({ "Tag": tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>() })
}
