//! RAM 2015-05-01 lifecycles, driven through the real authorizer and handlers (no HTTP):
//! users, groups, roles, policies and versions, attachments, AccessKeys, login profiles,
//! password policy, MFA, alias, security preference, tags, pagination, response shapes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_protocol::ApiError;
use serde_json::Value;

use common::{Env, env, ram};

const DOC: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
const DOC2: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:Get*","Resource":"*"}]}"#;

fn trust(account: &str) -> String {
    format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{account}:root"]}}}}]}}"#
    )
}

async fn ok(env: &Env, action: &str, params: &[(&str, &str)]) -> Value {
    match ram(env, action, params).await {
        Ok(v) => v,
        Err(e) => panic!("{action} {params:?} failed: {} {}", e.code, e.message),
    }
}

async fn err(env: &Env, action: &str, params: &[(&str, &str)]) -> ApiError {
    match ram(env, action, params).await {
        Ok(v) => panic!("{action} {params:?} should fail, got {v}"),
        Err(e) => e,
    }
}

fn is_date(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 20 && s.ends_with('Z') && s.as_bytes()[10] == b'T'
}

#[tokio::test]
async fn user_lifecycle_and_shapes() {
    let env = env().await;
    let created = ok(
        &env,
        "CreateUser",
        &[
            ("UserName", "alice"),
            ("DisplayName", "Alice A"),
            ("MobilePhone", "86-18600008888"),
            ("Email", "alice@example.com"),
            ("Comments", "first"),
        ],
    )
    .await;
    let user = &created["User"];
    assert_eq!(user["UserName"], "alice");
    assert_eq!(user["DisplayName"], "Alice A");
    assert!(user["UserId"].as_str().unwrap().len() >= 16);
    assert!(is_date(&user["CreateDate"]), "{user}");

    let got = ok(&env, "GetUser", &[("UserName", "alice")]).await;
    assert_eq!(got["User"]["UserId"], user["UserId"]);
    assert_eq!(got["User"]["Email"], "alice@example.com");

    let updated = ok(
        &env,
        "UpdateUser",
        &[
            ("UserName", "alice"),
            ("NewUserName", "alice2"),
            ("NewComments", "renamed"),
        ],
    )
    .await;
    assert_eq!(updated["User"]["UserName"], "alice2");
    assert_eq!(updated["User"]["UserId"], user["UserId"]);
    assert_eq!(
        err(&env, "GetUser", &[("UserName", "alice")]).await.code,
        "EntityNotExist.User"
    );
    assert_eq!(
        ok(&env, "GetUser", &[("UserName", "alice2")]).await["User"]["Comments"],
        "renamed"
    );

    let list = ok(&env, "ListUsers", &[]).await;
    assert_eq!(list["IsTruncated"], false);
    assert!(list.get("Marker").is_none());
    assert_eq!(list["Users"]["User"].as_array().unwrap().len(), 1);

    ok(&env, "DeleteUser", &[("UserName", "alice2")]).await;
    assert_eq!(
        ok(&env, "ListUsers", &[]).await["Users"]["User"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn list_users_paginates_250_users_by_100() {
    let env = env().await;
    for i in 0..250 {
        ok(&env, "CreateUser", &[("UserName", &format!("user-{i:03}"))]).await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("MaxItems", "100".to_owned())];
        if let Some(m) = &marker {
            params.push(("Marker", m.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page = ok(&env, "ListUsers", &p).await;
        pages += 1;
        let users = page["Users"]["User"].as_array().unwrap();
        seen.extend(
            users
                .iter()
                .map(|u| u["UserName"].as_str().unwrap().to_owned()),
        );
        if page["IsTruncated"] == true {
            assert_eq!(users.len(), 100);
            marker = Some(page["Marker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("Marker").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 250);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "pages are ordered and disjoint");
    assert_eq!(
        err(&env, "ListUsers", &[("MaxItems", "1001")]).await.code,
        "InvalidParameter.MaxItems"
    );
}

#[tokio::test]
async fn groups_and_memberships() {
    let env = env().await;
    ok(&env, "CreateUser", &[("UserName", "bob")]).await;
    let g = ok(
        &env,
        "CreateGroup",
        &[("GroupName", "devs"), ("Comments", "developers")],
    )
    .await;
    assert_eq!(g["Group"]["GroupName"], "devs");
    ok(
        &env,
        "AddUserToGroup",
        &[("GroupName", "devs"), ("UserName", "bob")],
    )
    .await;
    let groups = ok(&env, "ListGroupsForUser", &[("UserName", "bob")]).await;
    assert_eq!(groups["Groups"]["Group"][0]["GroupName"], "devs");
    assert!(is_date(&groups["Groups"]["Group"][0]["JoinDate"]));
    let users = ok(&env, "ListUsersForGroup", &[("GroupName", "devs")]).await;
    assert_eq!(users["Users"]["User"][0]["UserName"], "bob");
    assert_eq!(users["IsTruncated"], false);

    assert_eq!(
        err(&env, "DeleteGroup", &[("GroupName", "devs")])
            .await
            .code,
        "DeleteConflict.Group.User"
    );
    assert_eq!(
        err(&env, "DeleteUser", &[("UserName", "bob")]).await.code,
        "DeleteConflict.User.Group"
    );
    // Renaming a group keeps its members.
    ok(
        &env,
        "UpdateGroup",
        &[("GroupName", "devs"), ("NewGroupName", "engineers")],
    )
    .await;
    assert_eq!(
        ok(&env, "ListGroupsForUser", &[("UserName", "bob")]).await["Groups"]["Group"][0]["GroupName"],
        "engineers"
    );
    ok(
        &env,
        "RemoveUserFromGroup",
        &[("GroupName", "engineers"), ("UserName", "bob")],
    )
    .await;
    ok(&env, "DeleteGroup", &[("GroupName", "engineers")]).await;
    ok(&env, "DeleteUser", &[("UserName", "bob")]).await;
    assert_eq!(
        ok(&env, "ListGroups", &[]).await["Groups"]["Group"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn roles_with_trust_policies() {
    let env = env().await;
    let t = trust(&env.management);
    let role = ok(
        &env,
        "CreateRole",
        &[
            ("RoleName", "ops"),
            ("AssumeRolePolicyDocument", &t),
            ("Description", "operators"),
        ],
    )
    .await;
    assert_eq!(role["Role"]["MaxSessionDuration"], 3600);
    assert_eq!(
        role["Role"]["Arn"],
        format!("acs:ram::{}:role/ops", env.management)
    );
    let updated = ok(
        &env,
        "UpdateRole",
        &[
            ("RoleName", "ops"),
            ("NewMaxSessionDuration", "43200"),
            ("NewDescription", "x"),
        ],
    )
    .await;
    assert_eq!(updated["Role"]["MaxSessionDuration"], 43200);
    let got = ok(&env, "GetRole", &[("RoleName", "ops")]).await;
    assert_eq!(got["Role"]["Description"], "x");
    assert_eq!(got["Role"]["AssumeRolePolicyDocument"], t.as_str());

    // An identity policy is not a trust policy.
    assert_eq!(
        err(
            &env,
            "UpdateRole",
            &[("RoleName", "ops"), ("NewAssumeRolePolicyDocument", DOC)]
        )
        .await
        .code,
        "MalformedPolicyDocument"
    );

    ok(
        &env,
        "AttachPolicyToRole",
        &[
            ("RoleName", "ops"),
            ("PolicyType", "System"),
            ("PolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    let pol = ok(&env, "ListPoliciesForRole", &[("RoleName", "ops")]).await;
    assert_eq!(pol["Policies"]["Policy"][0]["PolicyName"], "ReadOnlyAccess");
    assert_eq!(pol["Policies"]["Policy"][0]["PolicyType"], "System");
    assert_eq!(
        err(&env, "DeleteRole", &[("RoleName", "ops")]).await.code,
        "DeleteConflict.Role.Policy"
    );
    ok(
        &env,
        "DetachPolicyFromRole",
        &[
            ("RoleName", "ops"),
            ("PolicyType", "System"),
            ("PolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    assert_eq!(
        ok(&env, "ListRoles", &[]).await["Roles"]["Role"][0]["RoleName"],
        "ops"
    );
    ok(&env, "DeleteRole", &[("RoleName", "ops")]).await;
    assert_eq!(
        err(&env, "GetRole", &[("RoleName", "ops")]).await.code,
        "EntityNotExist.Role"
    );
}

#[tokio::test]
async fn policy_versions_limit_default_and_rotation() {
    let env = env().await;
    let created = ok(
        &env,
        "CreatePolicy",
        &[
            ("PolicyName", "ecs-read"),
            ("PolicyDocument", DOC),
            ("Description", "d"),
        ],
    )
    .await;
    assert_eq!(created["Policy"]["DefaultVersion"], "v1");
    assert_eq!(created["Policy"]["PolicyType"], "Custom");
    for _ in 2..=5 {
        ok(
            &env,
            "CreatePolicyVersion",
            &[("PolicyName", "ecs-read"), ("PolicyDocument", DOC2)],
        )
        .await;
    }
    let e = err(
        &env,
        "CreatePolicyVersion",
        &[("PolicyName", "ecs-read"), ("PolicyDocument", DOC2)],
    )
    .await;
    assert_eq!(
        (e.code.as_str(), e.http_status),
        ("LimitExceeded.Policy.Version", 409)
    );

    // The default version cannot be deleted; others can.
    assert_eq!(
        err(
            &env,
            "DeletePolicyVersion",
            &[("PolicyName", "ecs-read"), ("VersionId", "v1")]
        )
        .await
        .code,
        "DeleteConflict.Policy.Version.Default"
    );
    // Make v3 the default; rotation then deletes the oldest non-default (v1).
    ok(
        &env,
        "SetDefaultPolicyVersion",
        &[("PolicyName", "ecs-read"), ("VersionId", "v3")],
    )
    .await;
    let v6 = ok(
        &env,
        "CreatePolicyVersion",
        &[
            ("PolicyName", "ecs-read"),
            ("PolicyDocument", DOC),
            (
                "RotateStrategy",
                "DeleteOldestNonDefaultVersionWhenLimitExceeded",
            ),
            ("SetAsDefault", "true"),
        ],
    )
    .await;
    assert_eq!(v6["PolicyVersion"]["VersionId"], "v6");
    assert_eq!(v6["PolicyVersion"]["IsDefaultVersion"], true);
    let versions = ok(
        &env,
        "ListPolicyVersions",
        &[("PolicyName", "ecs-read"), ("PolicyType", "Custom")],
    )
    .await;
    let ids: Vec<&str> = versions["PolicyVersions"]["PolicyVersion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["VersionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
    let defaults: Vec<bool> = versions["PolicyVersions"]["PolicyVersion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["IsDefaultVersion"].as_bool().unwrap())
        .collect();
    assert_eq!(defaults, [false, false, false, false, true]);

    let got = ok(
        &env,
        "GetPolicy",
        &[("PolicyName", "ecs-read"), ("PolicyType", "Custom")],
    )
    .await;
    assert_eq!(got["Policy"]["DefaultVersion"], "v6");
    assert_eq!(got["DefaultPolicyVersion"]["PolicyDocument"], DOC);
    let v2 = ok(
        &env,
        "GetPolicyVersion",
        &[
            ("PolicyName", "ecs-read"),
            ("PolicyType", "Custom"),
            ("VersionId", "v2"),
        ],
    )
    .await;
    assert_eq!(v2["PolicyVersion"]["PolicyDocument"], DOC2);
    assert_eq!(v2["PolicyVersion"]["IsDefaultVersion"], false);

    // The store contract: the default version is what applies.
    ok(&env, "CreateUser", &[("UserName", "carol")]).await;
    ok(
        &env,
        "AttachPolicyToUser",
        &[
            ("UserName", "carol"),
            ("PolicyType", "Custom"),
            ("PolicyName", "ecs-read"),
        ],
    )
    .await;
    let user = env
        .state
        .store
        .get_user(&env.management, "carol")
        .await
        .unwrap()
        .unwrap();
    let applied = env
        .state
        .store
        .policies_for_user(&env.management, &user.user_id)
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].default_version, "v6");
    assert_eq!(applied[0].document, DOC);

    // Deleting: attached → conflict; non-default versions → conflict unless cascading.
    assert_eq!(
        err(&env, "DeletePolicy", &[("PolicyName", "ecs-read")])
            .await
            .code,
        "DeleteConflict.Policy.User"
    );
    let entities = ok(
        &env,
        "ListEntitiesForPolicy",
        &[("PolicyName", "ecs-read"), ("PolicyType", "Custom")],
    )
    .await;
    assert_eq!(entities["Users"]["User"][0]["UserName"], "carol");
    assert_eq!(entities["Groups"]["Group"].as_array().unwrap().len(), 0);
    ok(
        &env,
        "DetachPolicyFromUser",
        &[
            ("UserName", "carol"),
            ("PolicyType", "Custom"),
            ("PolicyName", "ecs-read"),
        ],
    )
    .await;
    assert_eq!(
        err(&env, "DeletePolicy", &[("PolicyName", "ecs-read")])
            .await
            .code,
        "DeleteConflict.Policy.Version"
    );
    ok(
        &env,
        "DeletePolicy",
        &[("PolicyName", "ecs-read"), ("CascadingDelete", "true")],
    )
    .await;
    assert_eq!(
        err(
            &env,
            "GetPolicy",
            &[("PolicyName", "ecs-read"), ("PolicyType", "Custom")]
        )
        .await
        .code,
        "EntityNotExist.Policy"
    );
}

#[tokio::test]
async fn system_policies_are_listed_attachable_and_read_only() {
    let env = env().await;
    let list = ok(&env, "ListPolicies", &[("PolicyType", "System")]).await;
    let names: Vec<&str> = list["Policies"]["Policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    for expected in [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AliyunRAMFullAccess",
        "AliyunKMSReadOnlyAccess",
        "AliyunSTSAssumeRoleAccess",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.len(), 13);
    // Combined listing: system first, then custom; paginated with one marker format.
    ok(
        &env,
        "CreatePolicy",
        &[("PolicyName", "mine"), ("PolicyDocument", DOC)],
    )
    .await;
    let first = ok(&env, "ListPolicies", &[("MaxItems", "10")]).await;
    assert_eq!(first["IsTruncated"], true);
    let marker = first["Marker"].as_str().unwrap().to_owned();
    let second = ok(
        &env,
        "ListPolicies",
        &[("MaxItems", "10"), ("Marker", &marker)],
    )
    .await;
    assert_eq!(second["IsTruncated"], false);
    let rest = second["Policies"]["Policy"].as_array().unwrap();
    assert_eq!(rest.len(), 4);
    assert_eq!(rest[3]["PolicyName"], "mine");
    assert_eq!(rest[3]["PolicyType"], "Custom");
    // A system policy name cannot be taken by a custom policy, and cannot be versioned.
    assert_eq!(
        err(
            &env,
            "CreatePolicy",
            &[
                ("PolicyName", "AdministratorAccess"),
                ("PolicyDocument", DOC)
            ]
        )
        .await
        .code,
        "EntityAlreadyExists.Policy"
    );
    assert_eq!(
        err(
            &env,
            "CreatePolicyVersion",
            &[("PolicyName", "ReadOnlyAccess"), ("PolicyDocument", DOC)]
        )
        .await
        .code,
        "EntityNotExist.Policy"
    );
    // Attachable to users and groups; counted per account.
    ok(&env, "CreateGroup", &[("GroupName", "admins")]).await;
    ok(
        &env,
        "AttachPolicyToGroup",
        &[
            ("GroupName", "admins"),
            ("PolicyType", "System"),
            ("PolicyName", "AdministratorAccess"),
        ],
    )
    .await;
    let listed = ok(&env, "ListPoliciesForGroup", &[("GroupName", "admins")]).await;
    assert_eq!(listed["Policies"]["Policy"][0]["DefaultVersion"], "v1");
}

#[tokio::test]
async fn policies_reach_users_through_groups() {
    let env = env().await;
    ok(&env, "CreateUser", &[("UserName", "dave")]).await;
    ok(&env, "CreateGroup", &[("GroupName", "readers")]).await;
    ok(
        &env,
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "dave")],
    )
    .await;
    ok(
        &env,
        "AttachPolicyToGroup",
        &[
            ("GroupName", "readers"),
            ("PolicyType", "System"),
            ("PolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    ok(
        &env,
        "AttachPolicyToUser",
        &[
            ("UserName", "dave"),
            ("PolicyType", "System"),
            ("PolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    ok(
        &env,
        "CreatePolicy",
        &[("PolicyName", "p1"), ("PolicyDocument", DOC)],
    )
    .await;
    ok(
        &env,
        "AttachPolicyToUser",
        &[
            ("UserName", "dave"),
            ("PolicyType", "Custom"),
            ("PolicyName", "p1"),
        ],
    )
    .await;
    let user = env
        .state
        .store
        .get_user(&env.management, "dave")
        .await
        .unwrap()
        .unwrap();
    let mut applied: Vec<(String, String)> = env
        .state
        .store
        .policies_for_user(&env.management, &user.user_id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.policy_type, p.policy_name))
        .collect();
    applied.sort();
    // ReadOnlyAccess appears once although it applies both directly and through the group.
    assert_eq!(
        applied,
        [
            ("Custom".to_owned(), "p1".to_owned()),
            ("System".to_owned(), "ReadOnlyAccess".to_owned())
        ]
    );
    ok(
        &env,
        "RemoveUserFromGroup",
        &[("GroupName", "readers"), ("UserName", "dave")],
    )
    .await;
    ok(
        &env,
        "DetachPolicyFromUser",
        &[
            ("UserName", "dave"),
            ("PolicyType", "System"),
            ("PolicyName", "ReadOnlyAccess"),
        ],
    )
    .await;
    let applied = env
        .state
        .store
        .policies_for_user(&env.management, &user.user_id)
        .await
        .unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].policy_name, "p1");
}

#[tokio::test]
async fn access_keys_secret_shown_once() {
    let env = env().await;
    ok(&env, "CreateUser", &[("UserName", "erin")]).await;
    let created = ok(&env, "CreateAccessKey", &[("UserName", "erin")]).await;
    let key = &created["AccessKey"];
    let id = key["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKeySecret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("LTAI") && id.len() == 24, "{id}");
    assert_eq!(secret.len(), 30);
    assert_eq!(key["Status"], "Active");

    let listed = ok(&env, "ListAccessKeys", &[("UserName", "erin")]).await;
    let text = listed.to_string();
    assert!(text.contains(&id));
    assert!(
        !text.contains(&secret),
        "ListAccessKeys must not return the secret"
    );
    assert!(
        listed["AccessKeys"]["AccessKey"][0]
            .get("AccessKeySecret")
            .is_none()
    );

    // The stored secret is ciphertext that opens to the secret only with the right context.
    let record = env.state.store.find_access_key(&id).await.unwrap().unwrap();
    assert!(
        !record
            .secret_ciphertext
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    );
    let opened = env
        .state
        .secrets
        .open(&record.secret_ciphertext, id.as_bytes())
        .unwrap();
    assert_eq!(opened.as_slice(), secret.as_bytes());

    ok(
        &env,
        "UpdateAccessKey",
        &[
            ("UserName", "erin"),
            ("UserAccessKeyId", &id),
            ("Status", "Inactive"),
        ],
    )
    .await;
    assert_eq!(
        ok(&env, "ListAccessKeys", &[("UserName", "erin")]).await["AccessKeys"]["AccessKey"][0]["Status"],
        "Inactive"
    );
    let last = ok(
        &env,
        "GetAccessKeyLastUsed",
        &[("UserName", "erin"), ("UserAccessKeyId", &id)],
    )
    .await;
    assert!(last["AccessKeyLastUsed"].get("LastUsedDate").is_none());
    env.state
        .store
        .record_access_key_use(&id, 1_700_000_000_000)
        .await
        .unwrap();
    let last = ok(
        &env,
        "GetAccessKeyLastUsed",
        &[("UserName", "erin"), ("UserAccessKeyId", &id)],
    )
    .await;
    assert_eq!(
        last["AccessKeyLastUsed"]["LastUsedDate"],
        "2023-11-14T22:13:20Z"
    );

    ok(&env, "CreateAccessKey", &[("UserName", "erin")]).await;
    let e = err(&env, "CreateAccessKey", &[("UserName", "erin")]).await;
    assert_eq!(
        (e.code.as_str(), e.http_status),
        ("LimitExceeded.User.AccessKey", 409)
    );
    assert_eq!(
        err(&env, "DeleteUser", &[("UserName", "erin")]).await.code,
        "DeleteConflict.User.AccessKey"
    );
    // Renaming the user keeps its keys.
    ok(
        &env,
        "UpdateUser",
        &[("UserName", "erin"), ("NewUserName", "erin2")],
    )
    .await;
    for k in ok(&env, "ListAccessKeys", &[("UserName", "erin2")]).await["AccessKeys"]["AccessKey"]
        .as_array()
        .unwrap()
        .clone()
    {
        ok(
            &env,
            "DeleteAccessKey",
            &[
                ("UserName", "erin2"),
                ("UserAccessKeyId", k["AccessKeyId"].as_str().unwrap()),
            ],
        )
        .await;
    }
    assert_eq!(
        err(
            &env,
            "DeleteAccessKey",
            &[("UserName", "erin2"), ("UserAccessKeyId", &id)]
        )
        .await
        .code,
        "EntityNotExist.User.AccessKey"
    );
    ok(&env, "DeleteUser", &[("UserName", "erin2")]).await;

    // Without UserName, root manages the root identity's keys (bootstrap made one).
    let root_keys = ok(&env, "ListAccessKeys", &[]).await;
    assert_eq!(
        root_keys["AccessKeys"]["AccessKey"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn login_profiles_and_password_policy() {
    let env = env().await;
    ok(&env, "CreateUser", &[("UserName", "fay")]).await;
    let policy = ok(&env, "GetPasswordPolicy", &[]).await;
    assert_eq!(policy["PasswordPolicy"]["MinimumPasswordLength"], 8);
    assert_eq!(policy["PasswordPolicy"]["RequireNumbers"], true);
    let e = err(
        &env,
        "CreateLoginProfile",
        &[("UserName", "fay"), ("Password", "short")],
    )
    .await;
    assert_eq!(e.code, "InvalidParameter.Password.TooWeak");
    assert!(
        !e.message.contains("short"),
        "messages never echo passwords"
    );
    let profile = ok(
        &env,
        "CreateLoginProfile",
        &[
            ("UserName", "fay"),
            ("Password", "Correct-Horse-9"),
            ("PasswordResetRequired", "true"),
        ],
    )
    .await;
    assert_eq!(profile["LoginProfile"]["PasswordResetRequired"], true);
    assert_eq!(profile["LoginProfile"]["MFABindRequired"], false);
    assert!(profile.to_string().find("Correct-Horse-9").is_none());
    assert_eq!(
        err(
            &env,
            "CreateLoginProfile",
            &[("UserName", "fay"), ("Password", "Correct-Horse-9")]
        )
        .await
        .code,
        "EntityAlreadyExists.User.LoginProfile"
    );
    // Stored as an Argon2id PHC string that verifies, never the password.
    let user = env
        .state
        .store
        .get_user(&env.management, "fay")
        .await
        .unwrap()
        .unwrap();
    let stored = env
        .state
        .store
        .get_login_profile(&env.management, &user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "{}",
        stored.password_hash
    );
    assert!(!stored.password_hash.contains("Correct-Horse-9"));

    ok(
        &env,
        "UpdateLoginProfile",
        &[("UserName", "fay"), ("MFABindRequired", "true")],
    )
    .await;
    let got = ok(&env, "GetLoginProfile", &[("UserName", "fay")]).await;
    assert_eq!(got["LoginProfile"]["MFABindRequired"], true);
    assert_eq!(got["LoginProfile"]["UserName"], "fay");
    assert_eq!(
        err(&env, "DeleteUser", &[("UserName", "fay")]).await.code,
        "DeleteConflict.User.LoginProfile"
    );

    // The user changes its own password.
    let fay = cloudward_service::Principal {
        account_id: env.management.clone(),
        kind: cloudward_service::PrincipalKind::User {
            user_id: user.user_id.clone(),
            user_name: "fay".to_owned(),
        },
        access_key_id: "LTAI5tTestUserKey0000000".to_owned(),
    };
    let wrong = common::call(
        &env.state,
        &fay,
        "2015-05-01",
        "ChangePassword",
        &[("OldPassword", "nope"), ("NewPassword", "New-Password-1")],
    )
    .await;
    // Without a policy source a RAM user is denied before the handler (deny by default).
    assert_eq!(wrong.unwrap_err().code, "NoPermission");

    // Policy: stricter settings apply to the next password; ranges are checked.
    ok(
        &env,
        "SetPasswordPolicy",
        &[("MinimumPasswordLength", "20"), ("RequireSymbols", "true")],
    )
    .await;
    assert_eq!(
        err(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "fay"), ("Password", "Correct-Horse-9")]
        )
        .await
        .code,
        "InvalidParameter.Password.TooWeak"
    );
    ok(
        &env,
        "UpdateLoginProfile",
        &[
            ("UserName", "fay"),
            ("Password", "Correct-Horse-Battery-9!"),
        ],
    )
    .await;
    assert_eq!(
        err(&env, "SetPasswordPolicy", &[("MinimumPasswordLength", "7")])
            .await
            .code,
        "InvalidParameter.MinimumPasswordLength.Range"
    );
    let policy = ok(&env, "GetPasswordPolicy", &[]).await;
    assert_eq!(policy["PasswordPolicy"]["MinimumPasswordLength"], 20);
    assert_eq!(policy["PasswordPolicy"]["RequireSymbols"], true);

    ok(&env, "DeleteLoginProfile", &[("UserName", "fay")]).await;
    assert_eq!(
        err(&env, "GetLoginProfile", &[("UserName", "fay")])
            .await
            .code,
        "EntityNotExist.User.LoginProfile"
    );
    ok(&env, "DeleteUser", &[("UserName", "fay")]).await;
}

#[tokio::test]
async fn alias_security_preference_and_tags() {
    let env = env().await;
    assert_eq!(ok(&env, "GetAccountAlias", &[]).await["AccountAlias"], "");
    ok(&env, "SetAccountAlias", &[("AccountAlias", "my-corp")]).await;
    assert_eq!(
        ok(&env, "GetAccountAlias", &[]).await["AccountAlias"],
        "my-corp"
    );
    assert_eq!(
        err(&env, "SetAccountAlias", &[("AccountAlias", "-bad")])
            .await
            .code,
        "InvalidParameter.AccountAlias.Format"
    );
    ok(&env, "ClearAccountAlias", &[]).await;
    assert_eq!(ok(&env, "GetAccountAlias", &[]).await["AccountAlias"], "");

    let pref = ok(&env, "GetSecurityPreference", &[]).await;
    assert_eq!(
        pref["SecurityPreference"]["LoginProfilePreference"]["AllowUserToChangePassword"],
        true
    );
    assert_eq!(
        pref["SecurityPreference"]["AccessKeyPreference"]["AllowUserToManageAccessKeys"],
        false
    );
    ok(
        &env,
        "SetSecurityPreference",
        &[
            ("LoginSessionDuration", "12"),
            ("LoginNetworkMasks", "10.0.0.0/8;192.168.0.0/16"),
            ("AllowUserToManageAccessKeys", "true"),
        ],
    )
    .await;
    let pref = ok(&env, "GetSecurityPreference", &[]).await;
    assert_eq!(
        pref["SecurityPreference"]["LoginProfilePreference"]["LoginSessionDuration"],
        12
    );
    assert_eq!(
        pref["SecurityPreference"]["LoginProfilePreference"]["LoginNetworkMasks"],
        "10.0.0.0/8;192.168.0.0/16"
    );
    assert_eq!(
        pref["SecurityPreference"]["AccessKeyPreference"]["AllowUserToManageAccessKeys"],
        true
    );
    assert_eq!(
        err(
            &env,
            "SetSecurityPreference",
            &[("LoginNetworkMasks", "10.0.0.0/99")]
        )
        .await
        .code,
        "InvalidParameter.LoginNetworkMasks"
    );

    // Tags: JSON-encoded (V2.0 SDK) and flat forms.
    let t = trust(&env.management);
    ok(
        &env,
        "CreateRole",
        &[
            ("RoleName", "tagged"),
            ("AssumeRolePolicyDocument", &t),
            ("Tag", r#"[{"Key":"env","Value":"prod"}]"#),
        ],
    )
    .await;
    ok(
        &env,
        "CreateRole",
        &[("RoleName", "plain"), ("AssumeRolePolicyDocument", &t)],
    )
    .await;
    ok(
        &env,
        "TagResources",
        &[
            ("ResourceType", "role"),
            ("ResourceNames.1", "plain"),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "sre"),
        ],
    )
    .await;
    let listed = ok(&env, "ListTagResources", &[("ResourceType", "role")]).await;
    let rows = listed["TagResources"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["ResourceName"], "plain");
    assert_eq!(rows[0]["TagKey"], "team");
    assert_eq!(rows[1]["TagValue"], "prod");
    let filtered = ok(
        &env,
        "ListRoles",
        &[("Tag", r#"[{"Key":"env","Value":"prod"}]"#)],
    )
    .await;
    let roles = filtered["Roles"]["Role"].as_array().unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["RoleName"], "tagged");
    assert_eq!(roles[0]["Tags"]["Tag"][0]["TagKey"], "env");
    ok(
        &env,
        "UntagResources",
        &[
            ("ResourceType", "role"),
            ("ResourceNames", r#"["tagged"]"#),
            ("TagKeys", r#"["env"]"#),
        ],
    )
    .await;
    let listed = ok(
        &env,
        "ListTagResources",
        &[("ResourceType", "role"), ("ResourceNames", r#"["tagged"]"#)],
    )
    .await;
    assert_eq!(listed["TagResources"].as_array().unwrap().len(), 0);
    assert_eq!(
        err(
            &env,
            "TagResources",
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["nope"]"#),
                ("Tag", r#"[{"Key":"a","Value":"b"}]"#)
            ]
        )
        .await
        .code,
        "EntityNotExist.Role"
    );
    assert_eq!(
        err(
            &env,
            "TagResources",
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["plain"]"#),
                ("Tag", r#"[{"Key":"acs:x","Value":"b"}]"#)
            ]
        )
        .await
        .code,
        "InvalidParameter.Tag.Key"
    );
    // Paging with NextToken.
    let many: Vec<String> = (0..20)
        .map(|i| format!(r#"{{"Key":"k{i:02}","Value":"v"}}"#))
        .collect();
    let tags = format!("[{}]", many.join(","));
    // 1 existing + 20 would exceed the limit of 20 per resource.
    assert_eq!(
        err(
            &env,
            "TagResources",
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["plain"]"#),
                ("Tag", &tags)
            ]
        )
        .await
        .code,
        "LimitExceeded.Tag"
    );
    let page = ok(
        &env,
        "ListTagResources",
        &[("ResourceType", "role"), ("PageSize", "1")],
    )
    .await;
    assert_eq!(page["TagResources"].as_array().unwrap().len(), 1);
    assert!(
        page.get("NextToken").is_none(),
        "one tag in all: no next page"
    );
}

/// A policy source that allows everything: isolates handler behaviour from authorization
/// for callers the default authorizer refuses (RAM users; root on `acs:ram::system:*`).
#[derive(Debug)]
struct AllowAll;

impl cloudward_service::PolicySource for AllowAll {
    fn decide<'a>(
        &'a self,
        _caller: &'a cloudward_service::Authenticated,
        _action: &'a str,
        _resource: &'a str,
        _params: &'a cloudward_service::Params,
    ) -> cloudward_service::DecisionFuture<'a> {
        Box::pin(async {
            Ok(cloudward_service::DecisionBasis::Policy {
                deciding_policies: vec!["test-allow-all".to_owned()],
            })
        })
    }
}

async fn call_allowed(
    env: &Env,
    principal: &cloudward_service::Principal,
    action: &str,
    params: &[(&str, &str)],
) -> Result<Value, ApiError> {
    let spec = common::spec("2015-05-01", action);
    let params: cloudward_service::Params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let caller = cloudward_service::Authenticated::after_signature_verified(
        principal.clone(),
        common::context(),
    );
    let auth = cloudward_service::Authorizer::new(Some(std::sync::Arc::new(AllowAll)))
        .authorize(caller, &spec, &params)
        .await?;
    (spec.handler)(cloudward_service::Call {
        state: &env.state,
        auth: &auth,
        params: &params,
    })
    .await
}

#[tokio::test]
async fn change_password_by_the_user_itself() {
    let env = env().await;
    ok(&env, "CreateUser", &[("UserName", "gil")]).await;
    ok(
        &env,
        "CreateLoginProfile",
        &[
            ("UserName", "gil"),
            ("Password", "Start-Pass-1"),
            ("PasswordResetRequired", "true"),
        ],
    )
    .await;
    let user = env
        .state
        .store
        .get_user(&env.management, "gil")
        .await
        .unwrap()
        .unwrap();
    let gil = cloudward_service::Principal {
        account_id: env.management.clone(),
        kind: cloudward_service::PrincipalKind::User {
            user_id: user.user_id.clone(),
            user_name: "gil".to_owned(),
        },
        access_key_id: "LTAI5tTestUserKey0000000".to_owned(),
    };
    let wrong = call_allowed(
        &env,
        &gil,
        "ChangePassword",
        &[("OldPassword", "Not-It-1"), ("NewPassword", "Next-Pass-2")],
    )
    .await;
    assert_eq!(wrong.unwrap_err().code, "InvalidParameter.OldPassword");
    let weak = call_allowed(
        &env,
        &gil,
        "ChangePassword",
        &[("OldPassword", "Start-Pass-1"), ("NewPassword", "weak")],
    )
    .await;
    assert_eq!(weak.unwrap_err().code, "InvalidParameter.Password.TooWeak");
    call_allowed(
        &env,
        &gil,
        "ChangePassword",
        &[
            ("OldPassword", "Start-Pass-1"),
            ("NewPassword", "Next-Pass-2"),
        ],
    )
    .await
    .unwrap();
    let profile = env
        .state
        .store
        .get_login_profile(&env.management, &user.user_id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        !profile.password_reset_required,
        "changing the password clears the reset flag"
    );
    // The old password no longer works.
    let again = call_allowed(
        &env,
        &gil,
        "ChangePassword",
        &[
            ("OldPassword", "Start-Pass-1"),
            ("NewPassword", "Third-Pass-3"),
        ],
    )
    .await;
    assert_eq!(again.unwrap_err().code, "InvalidParameter.OldPassword");
    // The account can forbid it.
    ok(
        &env,
        "SetSecurityPreference",
        &[("AllowUserToChangePassword", "false")],
    )
    .await;
    let refused = call_allowed(
        &env,
        &gil,
        "ChangePassword",
        &[
            ("OldPassword", "Next-Pass-2"),
            ("NewPassword", "Third-Pass-3"),
        ],
    )
    .await;
    assert_eq!(refused.unwrap_err().code, "NoPermission");
    // Root has no login profile to change.
    let root = common::root(&env.management);
    let e = call_allowed(
        &env,
        &root,
        "ChangePassword",
        &[("OldPassword", "a"), ("NewPassword", "b")],
    )
    .await;
    assert_eq!(e.unwrap_err().code, "InvalidParameter");
}

#[tokio::test]
async fn system_policy_documents_are_readable() {
    let env = env().await;
    let root = common::root(&env.management);
    // The system catalogue (acs:ram::system:policy/...) is readable by every account's root
    // with the default authorizer, and by RAM identities through their policies.
    let got = ram(
        &env,
        "GetPolicy",
        &[
            ("PolicyName", "AdministratorAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(got["Policy"]["PolicyType"], "System");
    assert_eq!(got["Policy"]["DefaultVersion"], "v1");
    assert_eq!(got["DefaultPolicyVersion"]["IsDefaultVersion"], true);
    let doc: Value = serde_json::from_str(
        got["DefaultPolicyVersion"]["PolicyDocument"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["Statement"][0]["Action"], "*");
    let versions = call_allowed(
        &env,
        &root,
        "ListPolicyVersions",
        &[("PolicyName", "ReadOnlyAccess"), ("PolicyType", "System")],
    )
    .await
    .unwrap();
    assert_eq!(
        versions["PolicyVersions"]["PolicyVersion"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let missing = call_allowed(
        &env,
        &root,
        "GetPolicy",
        &[("PolicyName", "NoSuchPolicy"), ("PolicyType", "System")],
    )
    .await;
    assert_eq!(missing.unwrap_err().code, "EntityNotExist.Policy");
}
