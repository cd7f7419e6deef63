//! Table-driven limits and error codes of RAM: every row sets up a fresh account, runs the
//! setup calls (which must succeed), then one call that must fail with the expected code
//! and HTTP status.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Env, env, ram};

const DOC: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::{acct}:root"]}}]}"#;

/// One setup step: an action and its parameters, repeated `times` with `{i}` replaced by
/// the iteration number and `{acct}` by the account id.
struct Step {
    action: &'static str,
    params: &'static [(&'static str, &'static str)],
    times: usize,
}

const fn once(action: &'static str, params: &'static [(&'static str, &'static str)]) -> Step {
    Step {
        action,
        params,
        times: 1,
    }
}

const fn repeat(
    action: &'static str,
    params: &'static [(&'static str, &'static str)],
    times: usize,
) -> Step {
    Step {
        action,
        params,
        times,
    }
}

struct Row {
    setup: Vec<Step>,
    action: &'static str,
    params: Vec<(&'static str, &'static str)>,
    code: &'static str,
    status: u16,
}

macro_rules! row {
    ([$($setup:expr),* $(,)?], $action:literal, [$(($k:literal, $v:expr)),* $(,)?], $code:literal, $status:literal) => {
        Row { setup: vec![$($setup),*], action: $action, params: vec![$(($k, $v)),*], code: $code, status: $status }
    };
}

const USER: Step = once("CreateUser", &[("UserName", "u")]);
const GROUP: Step = once("CreateGroup", &[("GroupName", "g")]);
const ROLE: Step = once(
    "CreateRole",
    &[("RoleName", "r"), ("AssumeRolePolicyDocument", TRUST)],
);
const POLICY: Step = once(
    "CreatePolicy",
    &[("PolicyName", "p"), ("PolicyDocument", DOC)],
);
const LONG_65: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const LONG_129: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn rows() -> Vec<Row> {
    vec![
        // ---- LimitExceeded.* ------------------------------------------------------------
        row!(
            [repeat("CreateUser", &[("UserName", "u{i}")], 1000)],
            "CreateUser",
            [("UserName", "one-more")],
            "LimitExceeded.User",
            409
        ),
        row!(
            [repeat("CreateGroup", &[("GroupName", "g{i}")], 50)],
            "CreateGroup",
            [("GroupName", "one-more")],
            "LimitExceeded.Group",
            409
        ),
        row!(
            [repeat(
                "CreateRole",
                &[("RoleName", "r{i}"), ("AssumeRolePolicyDocument", TRUST)],
                1000
            )],
            "CreateRole",
            [
                ("RoleName", "one-more"),
                ("AssumeRolePolicyDocument", TRUST)
            ],
            "LimitExceeded.Role",
            409
        ),
        row!(
            [repeat(
                "CreatePolicy",
                &[("PolicyName", "p{i}"), ("PolicyDocument", DOC)],
                1500
            )],
            "CreatePolicy",
            [("PolicyName", "one-more"), ("PolicyDocument", DOC)],
            "LimitExceeded.Policy",
            409
        ),
        row!(
            [
                POLICY,
                repeat(
                    "CreatePolicyVersion",
                    &[("PolicyName", "p"), ("PolicyDocument", DOC)],
                    4
                )
            ],
            "CreatePolicyVersion",
            [
                ("PolicyName", "p"),
                ("PolicyDocument", DOC),
                ("RotateStrategy", "None")
            ],
            "LimitExceeded.Policy.Version",
            409
        ),
        row!(
            [
                USER,
                repeat("CreateGroup", &[("GroupName", "g{i}")], 6),
                repeat(
                    "AddUserToGroup",
                    &[("UserName", "u"), ("GroupName", "g{i}")],
                    5
                )
            ],
            "AddUserToGroup",
            [("UserName", "u"), ("GroupName", "g5")],
            "LimitExceeded.User.Group",
            409
        ),
        row!(
            [USER, repeat("CreateAccessKey", &[("UserName", "u")], 2)],
            "CreateAccessKey",
            [("UserName", "u")],
            "LimitExceeded.User.AccessKey",
            409
        ),
        row!(
            [
                USER,
                repeat(
                    "CreatePolicy",
                    &[("PolicyName", "p{i}"), ("PolicyDocument", DOC)],
                    11
                ),
                repeat(
                    "AttachPolicyToUser",
                    &[
                        ("UserName", "u"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p{i}")
                    ],
                    10
                )
            ],
            "AttachPolicyToUser",
            [
                ("UserName", "u"),
                ("PolicyType", "Custom"),
                ("PolicyName", "p10")
            ],
            "LimitExceeded.User.Policy",
            409
        ),
        row!(
            [
                GROUP,
                repeat(
                    "CreatePolicy",
                    &[("PolicyName", "p{i}"), ("PolicyDocument", DOC)],
                    6
                ),
                repeat(
                    "AttachPolicyToGroup",
                    &[
                        ("GroupName", "g"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p{i}")
                    ],
                    5
                )
            ],
            "AttachPolicyToGroup",
            [
                ("GroupName", "g"),
                ("PolicyType", "Custom"),
                ("PolicyName", "p5")
            ],
            "LimitExceeded.Group.Policy",
            409
        ),
        row!(
            [
                ROLE,
                repeat(
                    "CreatePolicy",
                    &[("PolicyName", "p{i}"), ("PolicyDocument", DOC)],
                    6
                ),
                repeat(
                    "AttachPolicyToRole",
                    &[
                        ("RoleName", "r"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p{i}")
                    ],
                    5
                )
            ],
            "AttachPolicyToRole",
            [
                ("RoleName", "r"),
                ("PolicyType", "Custom"),
                ("PolicyName", "p5")
            ],
            "LimitExceeded.Role.Policy",
            409
        ),
        row!(
            [repeat(
                "CreateVirtualMFADevice",
                &[("VirtualMFADeviceName", "d{i}")],
                1000
            )],
            "CreateVirtualMFADevice",
            [("VirtualMFADeviceName", "one-more")],
            "LimitExceeded.VirtualMFADevice",
            409
        ),
        row!(
            [
                ROLE,
                repeat(
                    "TagResources",
                    &[
                        ("ResourceType", "role"),
                        ("ResourceNames", r#"["r"]"#),
                        ("Tag.1.Key", "k{i}"),
                        ("Tag.1.Value", "v")
                    ],
                    20
                )
            ],
            "TagResources",
            [
                ("ResourceType", "role"),
                ("ResourceNames", r#"["r"]"#),
                ("Tag.1.Key", "k-last")
            ],
            "LimitExceeded.Tag",
            409
        ),
        // ---- DeleteConflict.* -----------------------------------------------------------
        row!(
            [USER, once("CreateAccessKey", &[("UserName", "u")])],
            "DeleteUser",
            [("UserName", "u")],
            "DeleteConflict.User.AccessKey",
            409
        ),
        row!(
            [
                USER,
                GROUP,
                once("AddUserToGroup", &[("UserName", "u"), ("GroupName", "g")])
            ],
            "DeleteUser",
            [("UserName", "u")],
            "DeleteConflict.User.Group",
            409
        ),
        row!(
            [
                USER,
                once(
                    "AttachPolicyToUser",
                    &[
                        ("UserName", "u"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "DeleteUser",
            [("UserName", "u")],
            "DeleteConflict.User.Policy",
            409
        ),
        row!(
            [
                USER,
                once(
                    "CreateLoginProfile",
                    &[("UserName", "u"), ("Password", "Good-Pass-123")]
                )
            ],
            "DeleteUser",
            [("UserName", "u")],
            "DeleteConflict.User.LoginProfile",
            409
        ),
        row!(
            [
                USER,
                GROUP,
                once("AddUserToGroup", &[("UserName", "u"), ("GroupName", "g")])
            ],
            "DeleteGroup",
            [("GroupName", "g")],
            "DeleteConflict.Group.User",
            409
        ),
        row!(
            [
                GROUP,
                once(
                    "AttachPolicyToGroup",
                    &[
                        ("GroupName", "g"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "DeleteGroup",
            [("GroupName", "g")],
            "DeleteConflict.Group.Policy",
            409
        ),
        row!(
            [
                ROLE,
                once(
                    "AttachPolicyToRole",
                    &[
                        ("RoleName", "r"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "DeleteRole",
            [("RoleName", "r")],
            "DeleteConflict.Role.Policy",
            409
        ),
        row!(
            [
                USER,
                POLICY,
                once(
                    "AttachPolicyToUser",
                    &[
                        ("UserName", "u"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p")
                    ]
                )
            ],
            "DeletePolicy",
            [("PolicyName", "p")],
            "DeleteConflict.Policy.User",
            409
        ),
        row!(
            [
                GROUP,
                POLICY,
                once(
                    "AttachPolicyToGroup",
                    &[
                        ("GroupName", "g"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p")
                    ]
                )
            ],
            "DeletePolicy",
            [("PolicyName", "p")],
            "DeleteConflict.Policy.Group",
            409
        ),
        row!(
            [
                ROLE,
                POLICY,
                once(
                    "AttachPolicyToRole",
                    &[
                        ("RoleName", "r"),
                        ("PolicyType", "Custom"),
                        ("PolicyName", "p")
                    ]
                )
            ],
            "DeletePolicy",
            [("PolicyName", "p")],
            "DeleteConflict.Policy.Role",
            409
        ),
        row!(
            [
                POLICY,
                once(
                    "CreatePolicyVersion",
                    &[("PolicyName", "p"), ("PolicyDocument", DOC)]
                )
            ],
            "DeletePolicy",
            [("PolicyName", "p")],
            "DeleteConflict.Policy.Version",
            409
        ),
        row!(
            [POLICY],
            "DeletePolicyVersion",
            [("PolicyName", "p"), ("VersionId", "v1")],
            "DeleteConflict.Policy.Version.Default",
            409
        ),
        // ---- EntityNotExist.* -----------------------------------------------------------
        row!(
            [],
            "GetUser",
            [("UserName", "nobody")],
            "EntityNotExist.User",
            404
        ),
        row!(
            [],
            "GetGroup",
            [("GroupName", "nogroup")],
            "EntityNotExist.Group",
            404
        ),
        row!(
            [],
            "GetRole",
            [("RoleName", "norole")],
            "EntityNotExist.Role",
            404
        ),
        row!(
            [],
            "GetPolicy",
            [("PolicyName", "nopolicy"), ("PolicyType", "Custom")],
            "EntityNotExist.Policy",
            404
        ),
        row!(
            [],
            "GetPolicy",
            [
                ("PolicyName", "NoSuchSystemPolicy"),
                ("PolicyType", "System")
            ],
            "EntityNotExist.Policy",
            404
        ),
        row!(
            [POLICY],
            "GetPolicyVersion",
            [
                ("PolicyName", "p"),
                ("PolicyType", "Custom"),
                ("VersionId", "v9")
            ],
            "EntityNotExist.Policy.Version",
            404
        ),
        row!(
            [POLICY],
            "SetDefaultPolicyVersion",
            [("PolicyName", "p"), ("VersionId", "v2")],
            "EntityNotExist.Policy.Version",
            404
        ),
        row!(
            [USER],
            "DeleteAccessKey",
            [
                ("UserName", "u"),
                ("UserAccessKeyId", "LTAI5tNoSuchKey000000000")
            ],
            "EntityNotExist.User.AccessKey",
            404
        ),
        row!(
            [USER],
            "GetLoginProfile",
            [("UserName", "u")],
            "EntityNotExist.User.LoginProfile",
            404
        ),
        row!(
            [USER],
            "GetUserMFAInfo",
            [("UserName", "u")],
            "EntityNotExist.User.MFADevice",
            404
        ),
        row!(
            [USER],
            "UnbindMFADevice",
            [("UserName", "u")],
            "EntityNotExist.User.MFADevice",
            404
        ),
        row!(
            [],
            "DeleteVirtualMFADevice",
            [("SerialNumber", "acs:ram::{acct}:mfa/nodevice")],
            "EntityNotExist.VirtualMFADevice",
            404
        ),
        row!(
            [USER, GROUP],
            "RemoveUserFromGroup",
            [("UserName", "u"), ("GroupName", "g")],
            "EntityNotExist.User.Group",
            404
        ),
        row!(
            [USER],
            "DetachPolicyFromUser",
            [
                ("UserName", "u"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityNotExist.User.Policy",
            404
        ),
        row!(
            [GROUP],
            "DetachPolicyFromGroup",
            [
                ("GroupName", "g"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityNotExist.Group.Policy",
            404
        ),
        row!(
            [ROLE],
            "DetachPolicyFromRole",
            [
                ("RoleName", "r"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityNotExist.Role.Policy",
            404
        ),
        row!(
            [USER],
            "AttachPolicyToUser",
            [
                ("UserName", "u"),
                ("PolicyType", "Custom"),
                ("PolicyName", "nopolicy")
            ],
            "EntityNotExist.Policy",
            404
        ),
        row!(
            [],
            "AttachPolicyToUser",
            [
                ("UserName", "nobody"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityNotExist.User",
            404
        ),
        // ---- EntityAlreadyExists.* ------------------------------------------------------
        row!(
            [USER],
            "CreateUser",
            [("UserName", "u")],
            "EntityAlreadyExists.User",
            409
        ),
        row!(
            [USER, once("CreateUser", &[("UserName", "v")])],
            "UpdateUser",
            [("UserName", "v"), ("NewUserName", "u")],
            "EntityAlreadyExists.User",
            409
        ),
        row!(
            [GROUP],
            "CreateGroup",
            [("GroupName", "g")],
            "EntityAlreadyExists.Group",
            409
        ),
        row!(
            [ROLE],
            "CreateRole",
            [("RoleName", "r"), ("AssumeRolePolicyDocument", TRUST)],
            "EntityAlreadyExists.Role",
            409
        ),
        row!(
            [POLICY],
            "CreatePolicy",
            [("PolicyName", "p"), ("PolicyDocument", DOC)],
            "EntityAlreadyExists.Policy",
            409
        ),
        row!(
            [
                USER,
                GROUP,
                once("AddUserToGroup", &[("UserName", "u"), ("GroupName", "g")])
            ],
            "AddUserToGroup",
            [("UserName", "u"), ("GroupName", "g")],
            "EntityAlreadyExists.User.Group",
            409
        ),
        row!(
            [
                USER,
                once(
                    "AttachPolicyToUser",
                    &[
                        ("UserName", "u"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "AttachPolicyToUser",
            [
                ("UserName", "u"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityAlreadyExists.User.Policy",
            409
        ),
        row!(
            [
                GROUP,
                once(
                    "AttachPolicyToGroup",
                    &[
                        ("GroupName", "g"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "AttachPolicyToGroup",
            [
                ("GroupName", "g"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityAlreadyExists.Group.Policy",
            409
        ),
        row!(
            [
                ROLE,
                once(
                    "AttachPolicyToRole",
                    &[
                        ("RoleName", "r"),
                        ("PolicyType", "System"),
                        ("PolicyName", "ReadOnlyAccess")
                    ]
                )
            ],
            "AttachPolicyToRole",
            [
                ("RoleName", "r"),
                ("PolicyType", "System"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "EntityAlreadyExists.Role.Policy",
            409
        ),
        row!(
            [
                USER,
                once(
                    "CreateLoginProfile",
                    &[("UserName", "u"), ("Password", "Good-Pass-123")]
                )
            ],
            "CreateLoginProfile",
            [("UserName", "u"), ("Password", "Good-Pass-123")],
            "EntityAlreadyExists.User.LoginProfile",
            409
        ),
        row!(
            [once(
                "CreateVirtualMFADevice",
                &[("VirtualMFADeviceName", "d")]
            )],
            "CreateVirtualMFADevice",
            [("VirtualMFADeviceName", "d")],
            "EntityAlreadyExists.VirtualMFADevice",
            409
        ),
        // ---- names, lengths, formats ----------------------------------------------------
        row!(
            [],
            "CreateUser",
            [("UserName", LONG_65)],
            "InvalidParameter.UserName.Length",
            400
        ),
        row!(
            [],
            "CreateUser",
            [("UserName", "a b")],
            "InvalidParameter.UserName.InvalidChars",
            400
        ),
        row!(
            [],
            "CreateUser",
            [("UserName", "ok"), ("DisplayName", LONG_129)],
            "InvalidParameter.DisplayName.Length",
            400
        ),
        row!(
            [],
            "CreateUser",
            [("UserName", "ok"), ("Comments", LONG_129)],
            "InvalidParameter.Comments.Length",
            400
        ),
        row!(
            [],
            "CreateUser",
            [("UserName", "ok"), ("MobilePhone", "12345")],
            "InvalidParameter.MobilePhone.Format",
            400
        ),
        row!(
            [],
            "CreateUser",
            [("UserName", "ok"), ("Email", "not-an-email")],
            "InvalidParameter.Email.Format",
            400
        ),
        row!(
            [USER],
            "UpdateUser",
            [("UserName", "u"), ("NewUserName", "bad/name")],
            "InvalidParameter.NewUserName.InvalidChars",
            400
        ),
        row!([], "CreateUser", [], "MissingParameter", 400),
        row!(
            [],
            "CreateGroup",
            [("GroupName", "a_b")],
            "InvalidParameter.GroupName.InvalidChars",
            400
        ),
        row!(
            [],
            "CreateGroup",
            [("GroupName", LONG_65)],
            "InvalidParameter.GroupName.Length",
            400
        ),
        row!(
            [],
            "CreateRole",
            [("RoleName", LONG_65), ("AssumeRolePolicyDocument", TRUST)],
            "InvalidParameter.RoleName.Length",
            400
        ),
        row!(
            [],
            "CreateRole",
            [("RoleName", "a_b"), ("AssumeRolePolicyDocument", TRUST)],
            "InvalidParameter.RoleName.InvalidChars",
            400
        ),
        row!(
            [],
            "CreatePolicy",
            [("PolicyName", "a.b"), ("PolicyDocument", DOC)],
            "InvalidParameter.PolicyName.InvalidChars",
            400
        ),
        row!(
            [],
            "CreateVirtualMFADevice",
            [("VirtualMFADeviceName", "a b")],
            "InvalidParameter.VirtualMFADeviceName.InvalidChars",
            400
        ),
        // ---- MaxSessionDuration range ---------------------------------------------------
        row!(
            [],
            "CreateRole",
            [
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
                ("MaxSessionDuration", "3599")
            ],
            "InvalidParameter.MaxSessionDuration",
            400
        ),
        row!(
            [],
            "CreateRole",
            [
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
                ("MaxSessionDuration", "43201")
            ],
            "InvalidParameter.MaxSessionDuration",
            400
        ),
        row!(
            [],
            "CreateRole",
            [
                ("RoleName", "r"),
                ("AssumeRolePolicyDocument", TRUST),
                ("MaxSessionDuration", "1h")
            ],
            "InvalidParameter.MaxSessionDuration",
            400
        ),
        row!(
            [ROLE],
            "UpdateRole",
            [("RoleName", "r"), ("NewMaxSessionDuration", "50000")],
            "InvalidParameter.MaxSessionDuration",
            400
        ),
        // ---- policy documents -----------------------------------------------------------
        row!(
            [],
            "CreatePolicy",
            [("PolicyName", "p"), ("PolicyDocument", "{not json")],
            "MalformedPolicyDocument",
            400
        ),
        row!(
            [],
            "CreatePolicy",
            [
                ("PolicyName", "p"),
                (
                    "PolicyDocument",
                    r#"{"Version":"1","Statement":[{"Effect":"Permit","Action":"*","Resource":"*"}]}"#
                )
            ],
            "MalformedPolicyDocument",
            400
        ),
        row!(
            [],
            "CreatePolicy",
            [
                ("PolicyName", "p"),
                (
                    "PolicyDocument",
                    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}"#
                )
            ],
            "MalformedPolicyDocument",
            400
        ),
        row!(
            [POLICY],
            "CreatePolicyVersion",
            [("PolicyName", "p"), ("PolicyDocument", "[]")],
            "MalformedPolicyDocument",
            400
        ),
        row!(
            [],
            "CreateRole",
            [("RoleName", "r"), ("AssumeRolePolicyDocument", DOC)],
            "MalformedPolicyDocument",
            400
        ),
        row!(
            [],
            "CreatePolicy",
            [("PolicyName", "p"), ("PolicyDocument", big_document())],
            "InvalidParameter.PolicyDocument.Length",
            400
        ),
        // ---- enumerations and other formats ---------------------------------------------
        row!(
            [USER],
            "AttachPolicyToUser",
            [
                ("UserName", "u"),
                ("PolicyType", "Managed"),
                ("PolicyName", "ReadOnlyAccess")
            ],
            "InvalidParameter.PolicyType",
            400
        ),
        row!(
            [POLICY],
            "GetPolicyVersion",
            [
                ("PolicyName", "p"),
                ("PolicyType", "Custom"),
                ("VersionId", "1")
            ],
            "InvalidParameter.VersionId.Format",
            400
        ),
        row!(
            [POLICY],
            "CreatePolicyVersion",
            [
                ("PolicyName", "p"),
                ("PolicyDocument", DOC),
                ("RotateStrategy", "Sometimes")
            ],
            "InvalidParameter.RotateStrategy",
            400
        ),
        row!(
            [],
            "SetAccountAlias",
            [("AccountAlias", "ab")],
            "InvalidParameter.AccountAlias.Format",
            400
        ),
        row!(
            [],
            "SetAccountAlias",
            [("AccountAlias", "Upper-Case")],
            "InvalidParameter.AccountAlias.Format",
            400
        ),
        row!(
            [],
            "SetPasswordPolicy",
            [("MinimumPasswordLength", "33")],
            "InvalidParameter.MinimumPasswordLength.Range",
            400
        ),
        row!(
            [],
            "SetSecurityPreference",
            [("LoginSessionDuration", "25")],
            "InvalidParameter.LoginSessionDuration",
            400
        ),
        row!(
            [USER, once("CreateAccessKey", &[("UserName", "u")])],
            "UpdateAccessKey",
            [
                ("UserName", "u"),
                ("UserAccessKeyId", "x"),
                ("Status", "Paused")
            ],
            "InvalidParameter.Status",
            400
        ),
        row!(
            [
                USER,
                once("CreateVirtualMFADevice", &[("VirtualMFADeviceName", "d")])
            ],
            "BindMFADevice",
            [
                ("UserName", "u"),
                ("SerialNumber", "acs:ram::{acct}:mfa/d"),
                ("AuthenticationCode1", "12345"),
                ("AuthenticationCode2", "123456")
            ],
            "InvalidParameter.AuthenticationCode.Format",
            400
        ),
        row!(
            [
                USER,
                once("CreateVirtualMFADevice", &[("VirtualMFADeviceName", "d")])
            ],
            "BindMFADevice",
            [
                ("UserName", "u"),
                ("SerialNumber", "acs:ram::{acct}:mfa/d"),
                ("AuthenticationCode1", "000000"),
                ("AuthenticationCode2", "000000")
            ],
            "CheckAuthenticationCodeFail",
            400
        ),
        row!(
            [USER],
            "CreateLoginProfile",
            [("UserName", "u"), ("Password", "alllowercase")],
            "InvalidParameter.Password.TooWeak",
            400
        ),
        row!(
            [],
            "ListTagResources",
            [("ResourceType", "bucket")],
            "InvalidParameter.ResourceType",
            400
        ),
        row!(
            [],
            "ListUsers",
            [("MaxItems", "0")],
            "InvalidParameter.MaxItems",
            400
        ),
    ]
}

/// A valid policy document longer than 6,144 significant characters.
fn big_document() -> &'static str {
    let actions: Vec<String> = (0..200)
        .map(|i| format!("\"ecs:DescribeSomethingLong{i:04}\""))
        .collect();
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    Box::leak(doc.into_boxed_str())
}

fn expand(value: &str, i: usize, acct: &str) -> String {
    value.replace("{i}", &i.to_string()).replace("{acct}", acct)
}

async fn run_step(
    env: &Env,
    action: &str,
    params: &[(&str, &str)],
    i: usize,
) -> Result<(), String> {
    let owned: Vec<(&str, String)> = params
        .iter()
        .map(|(k, v)| (*k, expand(v, i, &env.management)))
        .collect();
    let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ram(env, action, &refs)
        .await
        .map(|_| ())
        .map_err(|e| format!("{action} {refs:?}: {} {}", e.code, e.message))
}

#[tokio::test]
async fn limits_and_error_codes() {
    let mut failures = Vec::new();
    let rows = rows();
    for (n, row) in rows.iter().enumerate() {
        let env = env().await;
        let mut setup_ok = true;
        for step in &row.setup {
            for i in 0..step.times {
                if let Err(e) = run_step(&env, step.action, step.params, i).await {
                    failures.push(format!("row {n} ({}): setup failed: {e}", row.code));
                    setup_ok = false;
                    break;
                }
            }
            if !setup_ok {
                break;
            }
        }
        if !setup_ok {
            continue;
        }
        let owned: Vec<(&str, String)> = row
            .params
            .iter()
            .map(|(k, v)| (*k, expand(v, 0, &env.management)))
            .collect();
        let refs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match ram(&env, row.action, &refs).await {
            Ok(v) => failures.push(format!(
                "row {n}: {} should fail with {}, got {v}",
                row.action, row.code
            )),
            Err(e) if e.code != row.code || e.http_status != row.status => failures.push(format!(
                "row {n}: {} expected {} ({}), got {} ({}): {}",
                row.action, row.code, row.status, e.code, e.http_status, e.message
            )),
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn malformed_policy_messages_name_the_path() {
    let env = env().await;
    let e = ram(
        &env,
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, "MalformedPolicyDocument");
    assert!(e.message.contains("Statement[1].Effect"), "{}", e.message);
}

#[tokio::test]
async fn account_alias_is_unique_across_accounts() {
    let env = env().await;
    let other = common::other_account(&env, "1234567890123456").await;
    ram(&env, "SetAccountAlias", &[("AccountAlias", "taken-alias")])
        .await
        .unwrap();
    let e = common::call(
        &env.state,
        &common::root(&other),
        "2015-05-01",
        "SetAccountAlias",
        &[("AccountAlias", "taken-alias")],
    )
    .await
    .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.http_status),
        ("EntityAlreadyExists.AccountAlias", 409)
    );
    // The other account still has no alias, and the owner keeps its own.
    let other_alias = common::call(
        &env.state,
        &common::root(&other),
        "2015-05-01",
        "GetAccountAlias",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(other_alias["AccountAlias"], "");
    assert_eq!(
        ram(&env, "GetAccountAlias", &[]).await.unwrap()["AccountAlias"],
        "taken-alias"
    );
}
