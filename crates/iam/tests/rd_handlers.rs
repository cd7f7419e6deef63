//! Resource Directory handlers driven directly (no HTTP), through the real authorizer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_protocol::ApiError;
use cloudward_service::ServiceState;
use serde_json::Value;

use common::{Env, call, root};

const V: &str = "2022-04-19";
const ALLOW_ALL: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_ROLE_EDITS: &str = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":["ram:UpdateRole","ram:DeleteRole","ram:AttachPolicyToRole","ram:DetachPolicyFromRole"],"Resource":"acs:ram:*:*:role/ResourceDirectoryAccountAccessRole"}]}"#;

async fn rd(env: &Env, action: &str, params: &[(&str, &str)]) -> Result<Value, ApiError> {
    call(&env.state, &root(&env.management), V, action, params).await
}

async fn ok(env: &Env, action: &str, params: &[(&str, &str)]) -> Value {
    rd(env, action, params)
        .await
        .unwrap_or_else(|e| panic!("{action} {params:?}: {e}"))
}

async fn code(env: &Env, action: &str, params: &[(&str, &str)]) -> String {
    match rd(env, action, params).await {
        Ok(v) => panic!("{action} {params:?} succeeded: {v}"),
        Err(e) => e.code,
    }
}

/// Enables the directory; returns the Root folder id.
async fn enable(env: &Env) -> String {
    let body = ok(
        env,
        "EnableResourceDirectory",
        &[("EnableMode", "CurrentAccount")],
    )
    .await;
    let dir = &body["ResourceDirectory"];
    assert_eq!(dir["MasterAccountId"], env.management.as_str());
    assert!(
        dir["ResourceDirectoryId"]
            .as_str()
            .unwrap()
            .starts_with("rd-")
    );
    dir["RootFolderId"].as_str().unwrap().to_owned()
}

async fn folder(env: &Env, parent: &str, name: &str) -> String {
    let body = ok(
        env,
        "CreateFolder",
        &[("ParentFolderId", parent), ("FolderName", name)],
    )
    .await;
    assert_eq!(body["Folder"]["ParentFolderId"], parent);
    body["Folder"]["FolderId"].as_str().unwrap().to_owned()
}

async fn member(env: &Env, parent: &str, name: &str) -> String {
    let body = ok(
        env,
        "CreateResourceAccount",
        &[("DisplayName", name), ("ParentFolderId", parent)],
    )
    .await;
    let account = &body["Account"];
    assert_eq!(account["Type"], "ResourceAccount");
    assert_eq!(account["Status"], "CreateSuccess");
    assert_eq!(account["JoinMethod"], "created");
    assert_eq!(account["FolderId"], parent);
    account["AccountId"].as_str().unwrap().to_owned()
}

async fn custom_policy(env: &Env, name: &str, scope: &str, doc: &str) -> String {
    let body = ok(
        env,
        "CreateControlPolicy",
        &[
            ("PolicyName", name),
            ("EffectScope", scope),
            ("PolicyDocument", doc),
            ("Description", "test policy"),
        ],
    )
    .await;
    assert_eq!(body["ControlPolicy"]["PolicyType"], "Custom");
    assert_eq!(body["ControlPolicy"]["AttachmentCount"], "0");
    body["ControlPolicy"]["PolicyId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn policy_ids(body: &Value) -> Vec<String> {
    body["ControlPolicyAttachments"]["ControlPolicyAttachment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["PolicyId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn enable_and_get_resource_directory() {
    let env = common::env().await;
    assert_eq!(
        code(&env, "GetResourceDirectory", &[]).await,
        "ResourceDirectoryNotInUse"
    );
    assert_eq!(
        code(&env, "CreateFolder", &[("FolderName", "a")]).await,
        "EntityNotExists.ResourceDirectory"
    );
    let root_id = enable(&env).await;
    assert!(root_id.starts_with("r-"));
    assert_eq!(
        code(&env, "EnableResourceDirectory", &[]).await,
        "EntityAlreadyExists.ResourceDirectory"
    );
    let body = ok(&env, "GetResourceDirectory", &[]).await;
    let dir = &body["ResourceDirectory"];
    assert_eq!(dir["RootFolderId"], root_id.as_str());
    assert_eq!(dir["ControlPolicyStatus"], "Disabled");
    assert_eq!(dir["MasterAccountName"], "management");
    let root = ok(&env, "GetFolder", &[("FolderId", &root_id)]).await;
    assert_eq!(root["Folder"]["FolderName"], "Root");
    assert!(root["Folder"].get("ParentFolderId").is_none());
}

#[tokio::test]
async fn folder_tree_is_limited_to_five_levels_and_deletes_only_empty_folders() {
    let env = common::env().await;
    let root_id = enable(&env).await;
    let mut parent = root_id.clone();
    let mut chain = vec![root_id.clone()];
    for level in 1..=5 {
        parent = folder(&env, &parent, &format!("level{level}")).await;
        chain.push(parent.clone());
    }
    assert_eq!(
        code(
            &env,
            "CreateFolder",
            &[("ParentFolderId", &parent), ("FolderName", "level6")]
        )
        .await,
        "LimitExceeded.Folder.Depth"
    );
    let deepest = ok(&env, "GetFolder", &[("FolderId", &parent)]).await;
    let dir = ok(&env, "GetResourceDirectory", &[]).await;
    let expected_path = format!(
        "{}/{}",
        dir["ResourceDirectory"]["ResourceDirectoryId"]
            .as_str()
            .unwrap(),
        chain.join("/")
    );
    assert_eq!(
        deepest["Folder"]["ResourceDirectoryPath"],
        expected_path.as_str()
    );

    // Names are unique among siblings only.
    assert_eq!(
        code(
            &env,
            "CreateFolder",
            &[("ParentFolderId", &root_id), ("FolderName", "level1")]
        )
        .await,
        "InvalidParameter.Folder.Name.AlreadyUsed"
    );
    folder(&env, &chain[1], "level1").await;

    // Listing, paging and keyword.
    let b = folder(&env, &root_id, "beta").await;
    folder(&env, &root_id, "gamma").await;
    let mut seen = Vec::new();
    for number in ["1", "2"] {
        let page = ok(
            &env,
            "ListFoldersForParent",
            &[("PageNumber", number), ("PageSize", "2")],
        )
        .await;
        assert_eq!(page["TotalCount"], 3);
        assert_eq!(page["PageNumber"], number.parse::<i64>().unwrap());
        assert_eq!(page["PageSize"], 2);
        for f in page["Folders"]["Folder"].as_array().unwrap() {
            seen.push(f["FolderName"].as_str().unwrap().to_owned());
        }
    }
    seen.sort();
    assert_eq!(seen, ["beta", "gamma", "level1"]);
    let found = ok(&env, "ListFoldersForParent", &[("QueryKeyword", "BET")]).await;
    assert_eq!(found["TotalCount"], 1);
    assert_eq!(found["Folders"]["Folder"][0]["FolderId"], b.as_str());

    // Rename.
    let renamed = ok(
        &env,
        "UpdateFolder",
        &[("FolderId", &b), ("NewFolderName", "beta2")],
    )
    .await;
    assert_eq!(renamed["Folder"]["FolderName"], "beta2");

    // Delete: only empty folders, never the Root folder.
    assert_eq!(
        code(&env, "DeleteFolder", &[("FolderId", &chain[4])]).await,
        "DeleteConflict.Folder.SubFolder"
    );
    let acct = member(&env, &b, "in-beta").await;
    assert_eq!(
        code(&env, "DeleteFolder", &[("FolderId", &b)]).await,
        "DeleteConflict.Folder.Account"
    );
    ok(
        &env,
        "MoveAccount",
        &[("AccountId", &acct), ("DestinationFolderId", &root_id)],
    )
    .await;
    ok(&env, "DeleteFolder", &[("FolderId", &b)]).await;
    assert_eq!(
        code(&env, "GetFolder", &[("FolderId", &b)]).await,
        "EntityNotExists.Folder"
    );
    assert_eq!(
        code(&env, "DeleteFolder", &[("FolderId", &root_id)]).await,
        "InvalidParameter.FolderId"
    );
}

#[tokio::test]
async fn member_accounts_are_real_tenants_and_can_be_moved_and_removed() {
    let env = common::env().await;
    let root_id = enable(&env).await;
    let dev = folder(&env, &root_id, "dev").await;
    let a = member(&env, &dev, "Dev Account").await;
    assert_eq!(a.len(), 16, "16-digit account id");
    assert!(a.bytes().all(|b| b.is_ascii_digit()));
    let row = env.state.store.get_account(&a).await.unwrap().unwrap();
    assert_eq!(row.kind, cloudward_store::AccountKind::Member);
    assert_eq!(row.display_name, "Dev Account");
    assert_eq!(
        env.state
            .store
            .directory_management_account(&a)
            .await
            .unwrap(),
        Some(env.management.clone())
    );

    // The access role: trusts the management account, carries AdministratorAccess.
    let role = env
        .state
        .store
        .get_role(&a, "ResourceDirectoryAccountAccessRole")
        .await
        .unwrap()
        .expect("access role in the member account");
    assert_eq!(
        role.arn,
        format!("acs:ram::{a}:role/resourcedirectoryaccountaccessrole")
    );
    let trust: Value = serde_json::from_str(&role.assume_role_policy_document).unwrap();
    assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
    assert_eq!(
        trust["Statement"][0]["Principal"]["RAM"][0],
        format!("acs:ram::{}:root", env.management)
    );
    cloudward_policy::Policy::parse(
        &role.assume_role_policy_document,
        cloudward_policy::PolicyKind::Trust,
    )
    .expect("the trust policy is valid");
    assert_eq!(
        cloudward_iam::rd::access_role::trust_policy(&env.management),
        role.assume_role_policy_document
    );
    let attached = env
        .state
        .store
        .list_attachments(&a, cloudward_store::PrincipalKindRef::Role, &role.role_id)
        .await
        .unwrap();
    assert_eq!(attached.len(), 1);
    assert_eq!(attached[0].policy_type, "System");
    assert_eq!(attached[0].policy_name, "AdministratorAccess");
    // The role is in the member account only.
    assert!(
        env.state
            .store
            .get_role(&env.management, "ResourceDirectoryAccountAccessRole")
            .await
            .unwrap()
            .is_none()
    );

    let got = ok(&env, "GetAccount", &[("AccountId", &a)]).await;
    let account = &got["Account"];
    assert_eq!(account["DisplayName"], "Dev Account");
    assert!(
        account["AccountName"]
            .as_str()
            .unwrap()
            .ends_with(".aliyunid.com")
    );
    assert!(
        account["ResourceDirectoryPath"]
            .as_str()
            .unwrap()
            .ends_with(&format!("{root_id}/{dev}/{a}"))
    );
    assert_eq!(account["Location"], "root/dev");

    // Display names are unique in the directory; prefixes are checked.
    assert_eq!(
        code(
            &env,
            "CreateResourceAccount",
            &[("DisplayName", "Dev Account")]
        )
        .await,
        "InvalidParameter.Account.DisplayName.AlreadyUsed"
    );
    assert_eq!(
        code(
            &env,
            "CreateResourceAccount",
            &[("DisplayName", "x2"), ("AccountNamePrefix", "a..b")]
        )
        .await,
        "InvalidParameter.Account.AccountNamePrefix"
    );
    let b = ok(
        &env,
        "CreateResourceAccount",
        &[("DisplayName", "Prod"), ("AccountNamePrefix", "prod")],
    )
    .await["Account"]["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();

    let all = ok(&env, "ListAccounts", &[]).await;
    assert_eq!(all["TotalCount"], 2);
    let in_dev = ok(&env, "ListAccountsForParent", &[("ParentFolderId", &dev)]).await;
    assert_eq!(in_dev["TotalCount"], 1);
    assert_eq!(in_dev["Accounts"]["Account"][0]["AccountId"], a.as_str());
    let in_root = ok(
        &env,
        "ListAccountsForParent",
        &[("ParentFolderId", &root_id)],
    )
    .await;
    assert_eq!(in_root["Accounts"]["Account"][0]["AccountId"], b.as_str());

    ok(
        &env,
        "MoveAccount",
        &[("AccountId", &a), ("DestinationFolderId", &root_id)],
    )
    .await;
    let moved = ok(&env, "GetAccount", &[("AccountId", &a)]).await;
    assert_eq!(moved["Account"]["FolderId"], root_id.as_str());
    assert_eq!(
        code(
            &env,
            "MoveAccount",
            &[("AccountId", &a), ("DestinationFolderId", "fd-nope000000")]
        )
        .await,
        "EntityNotExists.Folder"
    );

    // Resource accounts are deleted with DeleteAccount; RemoveCloudAccount is for cloud accounts.
    assert_eq!(
        code(&env, "RemoveCloudAccount", &[("AccountId", &b)]).await,
        "AccountTypeOrStatusMismatch"
    );
    let deleted = ok(&env, "DeleteAccount", &[("AccountId", &b)]).await;
    assert_eq!(deleted["DeletionType"], "0");
    assert_eq!(
        code(&env, "GetAccount", &[("AccountId", &b)]).await,
        "EntityNotExists.Account"
    );
    assert_eq!(
        env.state
            .store
            .directory_management_account(&b)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn member_account_root_cannot_manage_the_directory() {
    let env = common::env().await;
    let root_id = enable(&env).await;
    let a = member(&env, &root_id, "member-a").await;
    let member_root = root(&a);
    let st: &ServiceState = &env.state;
    for (action, params) in [
        ("CreateFolder", vec![("FolderName", "x")]),
        ("ListAccounts", vec![]),
        ("EnableControlPolicy", vec![]),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "p"),
                ("EffectScope", "RAM"),
                ("PolicyDocument", ALLOW_ALL),
            ],
        ),
        (
            "DetachControlPolicy",
            vec![
                ("PolicyId", "cp-FullAliyunAccess"),
                ("TargetId", a.as_str()),
            ],
        ),
        ("DeleteAccount", vec![("AccountId", a.as_str())]),
        ("EnableResourceDirectory", vec![]),
    ] {
        let e = call(st, &member_root, V, action, &params)
            .await
            .unwrap_err();
        assert_eq!(e.code, "NoPermission", "{action}");
        assert_eq!(e.http_status, 403, "{action}");
    }
    // A member may read the directory it belongs to.
    let dir = call(st, &member_root, V, "GetResourceDirectory", &[])
        .await
        .unwrap();
    assert_eq!(
        dir["ResourceDirectory"]["MasterAccountId"],
        env.management.as_str()
    );
    // Even reading a member (its own account) goes through the management-account check.
    let e = call(st, &member_root, V, "GetAccount", &[("AccountId", &a)])
        .await
        .unwrap_err();
    assert_eq!(e.code, "NoPermission");
}

#[tokio::test]
async fn control_policy_lifecycle_and_limits() {
    let env = common::env().await;
    let root_id = enable(&env).await;
    let status = ok(&env, "GetControlPolicyEnablementStatus", &[]).await;
    assert_eq!(status["EnablementStatus"], "Disabled");

    // System policy exists from the start.
    let system = ok(&env, "ListControlPolicies", &[("PolicyType", "System")]).await;
    assert_eq!(system["TotalCount"], 1);
    assert_eq!(
        system["ControlPolicies"]["ControlPolicy"][0]["PolicyName"],
        "FullAliyunAccess"
    );
    let full = ok(
        &env,
        "GetControlPolicy",
        &[("PolicyId", "cp-FullAliyunAccess")],
    )
    .await;
    assert_eq!(full["ControlPolicy"]["PolicyType"], "System");
    let doc: Value =
        serde_json::from_str(full["ControlPolicy"]["PolicyDocument"].as_str().unwrap()).unwrap();
    assert_eq!(doc["Statement"][0]["Action"], "*");
    assert_eq!(
        code(
            &env,
            "DeleteControlPolicy",
            &[("PolicyId", "cp-FullAliyunAccess")]
        )
        .await,
        "NoPermission.SystemControlPolicy"
    );
    assert_eq!(
        code(
            &env,
            "UpdateControlPolicy",
            &[("PolicyId", "cp-FullAliyunAccess"), ("NewPolicyName", "x")]
        )
        .await,
        "NoPermission.SystemControlPolicy"
    );

    let guard = custom_policy(&env, "protect-access-role", "RAM", DENY_ROLE_EDITS).await;
    assert!(guard.starts_with("cp-"));
    assert_eq!(
        code(
            &env,
            "CreateControlPolicy",
            &[
                ("PolicyName", "protect-access-role"),
                ("EffectScope", "RAM"),
                ("PolicyDocument", ALLOW_ALL)
            ]
        )
        .await,
        "EntityAlreadyExists.ControlPolicy"
    );
    // Attaching requires the feature.
    assert_eq!(
        code(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &guard), ("TargetId", &root_id)]
        )
        .await,
        "ControlPolicyNotEnabled"
    );
    let enabled = ok(&env, "EnableControlPolicy", &[]).await;
    assert_eq!(enabled["EnablementStatus"], "Enabled");

    // FullAliyunAccess is attached to Root and to every new folder and member.
    let at_root = ok(
        &env,
        "ListControlPolicyAttachmentsForTarget",
        &[("TargetId", &root_id)],
    )
    .await;
    assert_eq!(policy_ids(&at_root), ["cp-FullAliyunAccess"]);
    let f = folder(&env, &root_id, "apps").await;
    let a = member(&env, &f, "app-1").await;
    for target in [&f, &a] {
        let body = ok(
            &env,
            "ListControlPolicyAttachmentsForTarget",
            &[("TargetId", target)],
        )
        .await;
        assert_eq!(policy_ids(&body), ["cp-FullAliyunAccess"], "{target}");
    }

    // Attach, duplicate, limit of 10 per node.
    ok(
        &env,
        "AttachControlPolicy",
        &[("PolicyId", &guard), ("TargetId", &f)],
    )
    .await;
    assert_eq!(
        code(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &guard), ("TargetId", &f)]
        )
        .await,
        "EntityAlreadyExists.ControlPolicyAttachment"
    );
    for i in 0..8 {
        let p = custom_policy(&env, &format!("p{i}"), "All", ALLOW_ALL).await;
        ok(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &p), ("TargetId", &f)],
        )
        .await;
    }
    let eleventh = custom_policy(&env, "p-eleventh", "RAM", ALLOW_ALL).await;
    assert_eq!(
        code(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &eleventh), ("TargetId", &f)]
        )
        .await,
        "LimitExceeded.ControlPolicyAttachment"
    );
    assert_eq!(
        code(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &eleventh), ("TargetId", "fd-missing0000")]
        )
        .await,
        "EntityNotExists.Target"
    );

    // Targets of a policy, with names and types.
    let targets = ok(
        &env,
        "ListTargetAttachmentsForControlPolicy",
        &[("PolicyId", "cp-FullAliyunAccess")],
    )
    .await;
    assert_eq!(targets["TotalCount"], 3);
    let kinds: Vec<(&str, &str)> = targets["TargetAttachments"]["TargetAttachment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["TargetType"].as_str().unwrap(),
                t["TargetName"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("Root", "Root")));
    assert!(kinds.contains(&("Folder", "apps")));
    assert!(kinds.contains(&("Account", "app-1")));

    // Update, refuse deletion while attached, detach, delete.
    let updated = ok(
        &env,
        "UpdateControlPolicy",
        &[
            ("PolicyId", &guard),
            ("NewPolicyName", "protect-role"),
            ("NewDescription", "d2"),
        ],
    )
    .await;
    assert_eq!(updated["ControlPolicy"]["PolicyName"], "protect-role");
    assert_eq!(updated["ControlPolicy"]["AttachmentCount"], "1");
    assert_eq!(
        code(
            &env,
            "UpdateControlPolicy",
            &[
                ("PolicyId", &guard),
                ("NewPolicyDocument", "{\"Version\":\"1\"")
            ]
        )
        .await,
        "MalformedPolicyDocument"
    );
    assert_eq!(
        code(&env, "DeleteControlPolicy", &[("PolicyId", &guard)]).await,
        "DeleteConflict.ControlPolicy.Attachment"
    );
    ok(
        &env,
        "DetachControlPolicy",
        &[("PolicyId", &guard), ("TargetId", &f)],
    )
    .await;
    assert_eq!(
        code(
            &env,
            "DetachControlPolicy",
            &[("PolicyId", &guard), ("TargetId", &f)]
        )
        .await,
        "EntityNotExists.ControlPolicyAttachment"
    );
    ok(&env, "DeleteControlPolicy", &[("PolicyId", &guard)]).await;
    assert_eq!(
        code(&env, "GetControlPolicy", &[("PolicyId", &guard)]).await,
        "EntityNotExists.ControlPolicy"
    );
    let customs = ok(
        &env,
        "ListControlPolicies",
        &[("PolicyType", "Custom"), ("PageSize", "100")],
    )
    .await;
    assert_eq!(customs["TotalCount"], 9);

    // FullAliyunAccess can be detached (turning the node's policies into an allow-list).
    ok(
        &env,
        "DetachControlPolicy",
        &[("PolicyId", "cp-FullAliyunAccess"), ("TargetId", &a)],
    )
    .await;
    let at_a = ok(
        &env,
        "ListControlPolicyAttachmentsForTarget",
        &[("TargetId", &a)],
    )
    .await;
    assert!(policy_ids(&at_a).is_empty());

    // Disabling detaches everything; enabling re-attaches FullAliyunAccess everywhere.
    let disabled = ok(&env, "DisableControlPolicy", &[]).await;
    assert_eq!(disabled["EnablementStatus"], "Disabled");
    let at_f = ok(
        &env,
        "ListControlPolicyAttachmentsForTarget",
        &[("TargetId", &f)],
    )
    .await;
    assert!(policy_ids(&at_f).is_empty());
    ok(&env, "EnableControlPolicy", &[]).await;
    for target in [&root_id, &f, &a] {
        let body = ok(
            &env,
            "ListControlPolicyAttachmentsForTarget",
            &[("TargetId", target)],
        )
        .await;
        assert_eq!(policy_ids(&body), ["cp-FullAliyunAccess"], "{target}");
    }
}

#[tokio::test]
async fn control_policy_path_levels_follow_the_tree() {
    for (backend, store) in common::stores("rd_path").await {
        let env = common::env_on(store).await;
        let store = env.state.store.clone();
        let root_id = enable(&env).await;
        let f1 = folder(&env, &root_id, "l1").await;
        let f2 = folder(&env, &f1, "l2").await;
        let a = member(&env, &f2, "leaf").await;

        // Disabled: no control policies apply to anybody.
        assert_eq!(
            store.control_policy_path(&a).await.unwrap(),
            None,
            "{backend}"
        );
        assert_eq!(
            store.control_policy_path(&env.management).await.unwrap(),
            None,
            "{backend}"
        );

        ok(&env, "EnableControlPolicy", &[]).await;
        let deny = custom_policy(&env, "deny-role-edits", "All", DENY_ROLE_EDITS).await;
        let allow = custom_policy(&env, "allow-all", "RAM", ALLOW_ALL).await;
        ok(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &deny), ("TargetId", &f1)],
        )
        .await;
        ok(
            &env,
            "AttachControlPolicy",
            &[("PolicyId", &allow), ("TargetId", &a)],
        )
        .await;
        ok(
            &env,
            "DetachControlPolicy",
            &[("PolicyId", "cp-FullAliyunAccess"), ("TargetId", &f2)],
        )
        .await;

        let path = store.control_policy_path(&a).await.unwrap().unwrap();
        assert!(!path.is_management_account, "{backend}");
        // Order within a level does not matter to evaluation (and attachments made in the
        // same millisecond tie), so each level is compared as a sorted set.
        let set = |items: &[&str]| {
            let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
            v.sort_unstable();
            v
        };
        let ids: Vec<Vec<String>> = path
            .levels
            .iter()
            .map(|l| {
                let level: Vec<&str> = l.iter().map(|(id, _, _)| id.as_str()).collect();
                set(&level)
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                set(&["cp-FullAliyunAccess", &allow]), // the account
                set(&[]),                              // l2: FullAliyunAccess detached
                set(&["cp-FullAliyunAccess", &deny]),  // l1
                set(&["cp-FullAliyunAccess"]),         // Root
            ],
            "{backend}"
        );
        let l1 = &path.levels[2];
        let (_, scope, doc) = l1.iter().find(|(id, _, _)| id == &deny).unwrap();
        assert_eq!(scope, "All", "{backend}");
        assert_eq!(doc, DENY_ROLE_EDITS, "{backend}");

        // The management account is exempt.
        let mgmt = store
            .control_policy_path(&env.management)
            .await
            .unwrap()
            .unwrap();
        assert!(mgmt.is_management_account, "{backend}");
        assert!(mgmt.levels.is_empty(), "{backend}");
        assert_eq!(
            store
                .directory_management_account(&env.management)
                .await
                .unwrap(),
            Some(env.management.clone()),
            "{backend}"
        );
        // An account outside every directory.
        assert_eq!(
            store.control_policy_path("1999999999999999").await.unwrap(),
            None
        );
        assert_eq!(
            store
                .directory_management_account("1999999999999999")
                .await
                .unwrap(),
            None
        );

        ok(&env, "DisableControlPolicy", &[]).await;
        assert_eq!(
            store.control_policy_path(&a).await.unwrap(),
            None,
            "{backend}"
        );
        env.state.store.close().await;
    }
}

#[tokio::test]
async fn error_codes() {
    let env = common::env().await;
    let root_id = enable(&env).await;
    let a = member(&env, &root_id, "acct").await;
    let long_name = "x".repeat(25);
    let big_doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"acs:oss:*:*:{}"}}]}}"#,
        "b".repeat(4100)
    );
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, u16);
    let cases: Vec<Case<'_>> = vec![
        ("CreateFolder", vec![], "MissingParameter.Folder.Name", 400),
        (
            "CreateFolder",
            vec![("FolderName", &long_name)],
            "InvalidParameter.Folder.Name.Length",
            400,
        ),
        (
            "CreateFolder",
            vec![("FolderName", "a/b")],
            "InvalidParameter.Folder.Name",
            400,
        ),
        (
            "CreateFolder",
            vec![("FolderName", "a"), ("ParentFolderId", "bogus")],
            "InvalidParameter.ParentFolderId",
            400,
        ),
        (
            "CreateFolder",
            vec![("FolderName", "a"), ("ParentFolderId", "fd-0000000000")],
            "EntityNotExists.Folder",
            404,
        ),
        ("GetFolder", vec![], "MissingParameter.FolderId", 400),
        (
            "GetFolder",
            vec![("FolderId", "x")],
            "InvalidParameter.FolderId",
            400,
        ),
        (
            "GetFolder",
            vec![("FolderId", "fd-0000000000")],
            "EntityNotExists.Folder",
            404,
        ),
        (
            "ListFoldersForParent",
            vec![("PageSize", "101")],
            "InvalidParameter.PageSize",
            400,
        ),
        (
            "ListFoldersForParent",
            vec![("PageNumber", "0")],
            "InvalidParameter.PageNumber",
            400,
        ),
        (
            "CreateResourceAccount",
            vec![],
            "MissingParameter.Account.DisplayName",
            400,
        ),
        (
            "CreateResourceAccount",
            vec![("DisplayName", "a")],
            "InvalidParameter.Account.DisplayName.Length",
            400,
        ),
        (
            "CreateResourceAccount",
            vec![("DisplayName", "a*b")],
            "InvalidParameter.Account.DisplayName",
            400,
        ),
        (
            "CreateResourceAccount",
            vec![("DisplayName", "ok"), ("AccountNamePrefix", "x")],
            "InvalidParameter.Account.AccountNamePrefix.Length",
            400,
        ),
        (
            "CreateResourceAccount",
            vec![("DisplayName", "acct")],
            "InvalidParameter.Account.DisplayName.AlreadyUsed",
            409,
        ),
        ("GetAccount", vec![], "MissingParameter.AccountId", 400),
        (
            "GetAccount",
            vec![("AccountId", "abc")],
            "InvalidParameter.AccountId",
            400,
        ),
        (
            "GetAccount",
            vec![("AccountId", "1234567890123456")],
            "EntityNotExists.Account",
            404,
        ),
        (
            "MoveAccount",
            vec![("AccountId", &a)],
            "MissingParameter.DestinationFolderId",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![("EffectScope", "RAM"), ("PolicyDocument", ALLOW_ALL)],
            "MissingParameter.PolicyName",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "1bad"),
                ("EffectScope", "RAM"),
                ("PolicyDocument", ALLOW_ALL),
            ],
            "InvalidParameter.PolicyName",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "p"),
                ("EffectScope", "Owner"),
                ("PolicyDocument", ALLOW_ALL),
            ],
            "InvalidParameter.EffectScope",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![("PolicyName", "p"), ("EffectScope", "RAM")],
            "MissingParameter.PolicyDocument",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "p"),
                ("EffectScope", "RAM"),
                ("PolicyDocument", "not json"),
            ],
            "MalformedPolicyDocument",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "p"),
                ("EffectScope", "RAM"),
                (
                    "PolicyDocument",
                    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}"#,
                ),
            ],
            "MalformedPolicyDocument",
            400,
        ),
        (
            "CreateControlPolicy",
            vec![
                ("PolicyName", "p"),
                ("EffectScope", "RAM"),
                ("PolicyDocument", &big_doc),
            ],
            "InvalidParameter.PolicyDocument.Length",
            400,
        ),
        (
            "GetControlPolicy",
            vec![("PolicyId", "cp-nope")],
            "EntityNotExists.ControlPolicy",
            404,
        ),
        (
            "ListControlPolicies",
            vec![("PolicyType", "Other")],
            "InvalidParameter.PolicyType",
            400,
        ),
        (
            "ListControlPolicyAttachmentsForTarget",
            vec![("TargetId", "nothing")],
            "EntityNotExists.Target",
            404,
        ),
        (
            "EnableResourceDirectory",
            vec![("EnableMode", "Bogus")],
            "InvalidParameter.EnableMode",
            400,
        ),
    ];
    for (action, params, expected, status) in cases {
        match rd(&env, action, &params).await {
            Ok(v) => panic!("{action} {params:?} succeeded: {v}"),
            Err(e) => {
                assert_eq!(e.code, expected, "{action} {params:?}: {}", e.message);
                assert_eq!(e.http_status, status, "{action} {params:?}");
            }
        }
    }
}
