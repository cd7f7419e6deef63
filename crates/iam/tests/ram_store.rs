//! RAM storage on both backends (SQLite always, PostgreSQL when `CLOUDWARD_TEST_PG_URL` is
//! set): tenant isolation of every entity kind, the contract the authorizer and STS use,
//! the system-policy catalogue, and secrets at rest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_policy::{Policy, PolicyKind};
use cloudward_store::{
    AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, AccountKind, AccountRecord, AttachmentRecord,
    GroupRecord, PolicyRecord, PrincipalKindRef, RoleRecord, Store, StoreError, UserRecord,
    system_policies, system_policy,
};

const A: &str = "1111111111111111";
const B: &str = "2222222222222222";
const DOC_A: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}"#;
const DOC_B: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

async fn account(store: &Store, id: &str) {
    store
        .insert_account(&AccountRecord {
            account_id: id.to_owned(),
            display_name: id.to_owned(),
            kind: AccountKind::Member,
            created_at_ms: 1,
        })
        .await
        .unwrap();
}

fn user(account: &str, id: &str, name: &str) -> UserRecord {
    UserRecord {
        account_id: account.to_owned(),
        user_id: id.to_owned(),
        user_name: name.to_owned(),
        display_name: format!("{name} of {account}"),
        mobile_phone: String::new(),
        email: String::new(),
        comments: String::new(),
        created_at_ms: 10,
        updated_at_ms: 10,
        last_login_at_ms: None,
    }
}

fn role(account: &str, id: &str, name: &str) -> RoleRecord {
    RoleRecord {
        account_id: account.to_owned(),
        role_id: id.to_owned(),
        role_name: name.to_owned(),
        arn: format!("acs:ram::{account}:role/{name}"),
        description: String::new(),
        assume_role_policy_document: format!(
            r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{account}:root"]}}}}]}}"#
        ),
        max_session_duration: 3600,
        created_at_ms: 10,
        updated_at_ms: 10,
    }
}

fn attachment(kind: PrincipalKindRef, id: &str, policy_type: &str, name: &str) -> AttachmentRecord {
    AttachmentRecord {
        principal_kind: kind,
        principal_id: id.to_owned(),
        policy_type: policy_type.to_owned(),
        policy_name: name.to_owned(),
        attached_at_ms: 12,
    }
}

/// Two accounts with identically named users, groups, roles and policies, each with its own
/// attachments; nothing of one is visible through the other's id.
#[tokio::test]
async fn tenant_isolation_on_every_backend() {
    for (backend, store) in common::stores("ram_isolation").await {
        account(&store, A).await;
        account(&store, B).await;
        for (acct, n) in [(A, "1"), (B, "2")] {
            assert!(
                store
                    .insert_user(&user(acct, &format!("10{n}"), "alice"), 1000)
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .insert_group(
                        &GroupRecord {
                            account_id: acct.to_owned(),
                            group_id: format!("20{n}"),
                            group_name: "devs".to_owned(),
                            comments: String::new(),
                            created_at_ms: 10,
                            updated_at_ms: 10,
                        },
                        50
                    )
                    .await
                    .unwrap()
            );
            store
                .insert_role(&role(acct, &format!("30{n}"), "ops"))
                .await
                .unwrap();
            let doc = if acct == A { DOC_A } else { DOC_B };
            assert!(
                store
                    .insert_policy(
                        &PolicyRecord {
                            account_id: acct.to_owned(),
                            policy_name: "shared-name".to_owned(),
                            description: acct.to_owned(),
                            default_version: "v1".to_owned(),
                            created_at_ms: 10,
                            updated_at_ms: 10,
                        },
                        doc,
                        1500
                    )
                    .await
                    .unwrap()
            );
            assert!(
                store
                    .add_user_to_group(acct, &format!("20{n}"), &format!("10{n}"), 11, 5)
                    .await
                    .unwrap()
            );
        }
        // A: the custom policy on the group; B: AdministratorAccess on its user and role.
        assert!(
            store
                .attach_policy(
                    A,
                    &attachment(PrincipalKindRef::Group, "201", "Custom", "shared-name"),
                    5
                )
                .await
                .unwrap()
        );
        assert!(
            store
                .attach_policy(
                    B,
                    &attachment(
                        PrincipalKindRef::User,
                        "102",
                        "System",
                        "AdministratorAccess"
                    ),
                    20
                )
                .await
                .unwrap()
        );
        store
            .attach_policy_to_role(B, "ops", "System", "AdministratorAccess", 12)
            .await
            .unwrap();
        // Idempotent for Resource Directory's retries.
        store
            .attach_policy_to_role(B, "ops", "System", "AdministratorAccess", 13)
            .await
            .unwrap();

        // Same names, different rows.
        let ua = store.get_user(A, "alice").await.unwrap().unwrap();
        let ub = store.get_user(B, "alice").await.unwrap().unwrap();
        assert_eq!(
            (ua.user_id.as_str(), ub.user_id.as_str()),
            ("101", "102"),
            "{backend}"
        );
        // Ids of the other account are invisible.
        assert!(
            store.get_user_by_id(A, "102").await.unwrap().is_none(),
            "{backend}"
        );
        assert!(
            store.get_role(A, "nope").await.unwrap().is_none(),
            "{backend}"
        );
        assert_eq!(
            store.get_role(B, "ops").await.unwrap().unwrap().role_id,
            "302",
            "{backend}"
        );
        assert_eq!(
            store
                .get_policy(A, "shared-name")
                .await
                .unwrap()
                .unwrap()
                .description,
            A,
            "{backend}"
        );
        assert_eq!(
            store
                .get_policy_version(B, "shared-name", "v1")
                .await
                .unwrap()
                .unwrap()
                .document,
            DOC_B
        );
        for acct in [A, B] {
            assert_eq!(
                store.list_users(acct, None, 100).await.unwrap().len(),
                1,
                "{backend}"
            );
            assert_eq!(
                store.list_groups(acct, None, 100).await.unwrap().len(),
                1,
                "{backend}"
            );
            assert_eq!(
                store.list_roles(acct, None, 100).await.unwrap().len(),
                1,
                "{backend}"
            );
            assert_eq!(
                store.list_policies(acct, None, 100).await.unwrap().len(),
                1,
                "{backend}"
            );
        }

        // The authorizer's view: policies reach each user only within its account.
        let pa = store.policies_for_user(A, "101").await.unwrap();
        assert_eq!(pa.len(), 1, "{backend}");
        assert_eq!(
            (pa[0].policy_type.as_str(), pa[0].policy_name.as_str()),
            ("Custom", "shared-name")
        );
        assert_eq!(pa[0].document, DOC_A, "{backend}: A's document, never B's");
        let pb = store.policies_for_user(B, "102").await.unwrap();
        assert_eq!(pb.len(), 1, "{backend}");
        assert_eq!(pb[0].policy_name, "AdministratorAccess");
        assert_eq!(
            pb[0].document,
            system_policy("AdministratorAccess").unwrap().document
        );
        // Cross-account ids yield nothing.
        assert!(
            store.policies_for_user(A, "102").await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            store.policies_for_user(B, "101").await.unwrap().is_empty(),
            "{backend}"
        );
        assert!(
            store.policies_for_role(A, "ops").await.unwrap().is_empty(),
            "{backend}"
        );
        let rb = store.policies_for_role(B, "ops").await.unwrap();
        assert_eq!(rb.len(), 1, "{backend}");
        assert_eq!(rb[0].default_version, "v1");

        // Membership and attachments are per account.
        assert_eq!(store.list_groups_for_user(A, "101").await.unwrap().len(), 1);
        assert!(
            store
                .list_groups_for_user(A, "102")
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .policy_attachment_count(A, "System", "AdministratorAccess")
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .policy_attachment_count(B, "System", "AdministratorAccess")
                .await
                .unwrap(),
            2
        );
        assert!(
            !store
                .detach_policy(
                    A,
                    PrincipalKindRef::User,
                    "102",
                    "System",
                    "AdministratorAccess"
                )
                .await
                .unwrap()
        );

        // Writes scoped by account cannot touch the other tenant's rows.
        assert!(!store.delete_user(A, "102").await.unwrap(), "{backend}");
        assert!(!store.delete_role(A, "missing").await.unwrap());
        assert!(store.get_user(B, "alice").await.unwrap().is_some());

        // Duplicates in one account conflict; the same name in another account does not.
        assert!(matches!(
            store.insert_user(&user(A, "999", "alice"), 1000).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        assert!(matches!(
            store.insert_role(&role(B, "399", "ops")).await,
            Err(StoreError::AlreadyExists { .. })
        ));
        // attach_policy_to_role on a missing role or policy is an error, not a silent no-op.
        assert!(
            store
                .attach_policy_to_role(A, "no-role", "System", "AdministratorAccess", 1)
                .await
                .is_err()
        );
        assert!(
            store
                .attach_policy_to_role(A, "ops", "Custom", "no-policy", 1)
                .await
                .is_err()
        );

        // AccessKeys of users are managed per owner and account.
        let key = AccessKeyRecord {
            access_key_id: format!("LTAI5tIsolation{backend:0>9}")
                .chars()
                .take(24)
                .collect(),
            account_id: A.to_owned(),
            owner: AccessKeyOwner::User {
                user_id: "101".to_owned(),
                user_name: "alice".to_owned(),
            },
            secret_ciphertext: vec![1, 2, 3],
            status: AccessKeyStatus::Active,
            created_at_ms: 1,
            last_used_at_ms: None,
        };
        assert!(store.insert_access_key_limited(&key, 2).await.unwrap());
        let b_alice = AccessKeyOwner::User {
            user_id: "102".to_owned(),
            user_name: "alice".to_owned(),
        };
        assert!(
            !store
                .delete_owned_access_key(B, &b_alice, &key.access_key_id)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_owned_access_key_status(
                    B,
                    &b_alice,
                    &key.access_key_id,
                    AccessKeyStatus::Inactive
                )
                .await
                .unwrap()
        );
        assert_eq!(
            store.user_dependents(A, "101").await.unwrap().access_keys,
            1
        );
        assert_eq!(
            store.user_dependents(B, "102").await.unwrap().access_keys,
            0
        );

        // Renaming a user renames its keys' owner.
        let mut renamed = ua.clone();
        renamed.user_name = "alice2".to_owned();
        assert!(store.update_user(&renamed).await.unwrap());
        let keys = store
            .list_access_keys(
                A,
                &AccessKeyOwner::User {
                    user_id: "101".to_owned(),
                    user_name: String::new(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            keys[0].owner,
            AccessKeyOwner::User {
                user_id: "101".to_owned(),
                user_name: "alice2".to_owned()
            }
        );

        // Settings and tags.
        store
            .put_ram_setting(A, "password_policy", "{}", 1)
            .await
            .unwrap();
        assert!(
            store
                .get_ram_setting(B, "password_policy")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .put_tags(A, "role", "ops", &[("k".to_owned(), "a".to_owned())], 20)
                .await
                .unwrap()
        );
        assert!(store.tags_of(B, "role", "ops").await.unwrap().is_empty());
        assert_eq!(
            store
                .list_tags(A, "role", None, None, 10)
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .list_tags(B, "role", None, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn policy_versions_on_every_backend() {
    use cloudward_store::CreateVersionOutcome;
    for (backend, store) in common::stores("ram_versions").await {
        account(&store, A).await;
        let p = PolicyRecord {
            account_id: A.to_owned(),
            policy_name: "p".to_owned(),
            description: String::new(),
            default_version: "v1".to_owned(),
            created_at_ms: 1,
            updated_at_ms: 1,
        };
        assert!(store.insert_policy(&p, DOC_A, 1500).await.unwrap());
        for n in 2..=5 {
            assert_eq!(
                store
                    .create_policy_version(A, "p", DOC_B, false, false, 5, n)
                    .await
                    .unwrap(),
                CreateVersionOutcome::Created(format!("v{n}")),
                "{backend}"
            );
        }
        assert_eq!(
            store
                .create_policy_version(A, "p", DOC_B, false, false, 5, 9)
                .await
                .unwrap(),
            CreateVersionOutcome::LimitExceeded
        );
        assert_eq!(
            store
                .create_policy_version(A, "p", DOC_B, true, true, 5, 9)
                .await
                .unwrap(),
            CreateVersionOutcome::Created("v6".to_owned())
        );
        let ids: Vec<String> = store
            .list_policy_versions(A, "p")
            .await
            .unwrap()
            .into_iter()
            .map(|v| v.version_id)
            .collect();
        assert_eq!(
            ids,
            ["v1", "v3", "v4", "v5", "v6"],
            "{backend}: v1 was default when rotating, so v2 went"
        );
        assert_eq!(
            store
                .get_policy(A, "p")
                .await
                .unwrap()
                .unwrap()
                .default_version,
            "v6"
        );
        assert!(
            !store.delete_policy_version(A, "p", "v6").await.unwrap(),
            "{backend}: never the default"
        );
        assert!(store.delete_policy_version(A, "p", "v1").await.unwrap());
        assert_eq!(
            store
                .create_policy_version(B, "p", DOC_B, false, false, 5, 9)
                .await
                .unwrap(),
            CreateVersionOutcome::PolicyNotFound
        );
        assert!(store.delete_policy(A, "p").await.unwrap());
        assert!(store.list_policy_versions(A, "p").await.unwrap().is_empty());
    }
}

#[test]
fn system_policies_parse_and_are_least_privilege() {
    let all = system_policies();
    let names: Vec<&str> = all.iter().map(|p| p.name).collect();
    for expected in [
        "AdministratorAccess",
        "ReadOnlyAccess",
        "AliyunRAMFullAccess",
        "AliyunRAMReadOnlyAccess",
        "AliyunSTSAssumeRoleAccess",
        "AliyunResourceDirectoryFullAccess",
        "AliyunResourceDirectoryReadOnlyAccess",
        "AliyunActionTrailFullAccess",
        "AliyunActionTrailReadOnlyAccess",
        "AliyunConfigFullAccess",
        "AliyunConfigReadOnlyAccess",
        "AliyunKMSFullAccess",
        "AliyunKMSReadOnlyAccess",
    ] {
        assert!(names.contains(&expected), "{expected} missing");
    }
    for policy in &all {
        Policy::parse(policy.document, PolicyKind::Identity)
            .unwrap_or_else(|e| panic!("system policy {} does not parse: {e}", policy.name));
        assert!(!policy.description.is_empty() && policy.version.starts_with('v'));
        let doc: serde_json::Value = serde_json::from_str(policy.document).unwrap();
        let actions: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match &s["Action"] {
                serde_json::Value::String(a) => vec![a.clone()],
                serde_json::Value::Array(a) => {
                    a.iter().map(|x| x.as_str().unwrap().to_owned()).collect()
                }
                _ => vec![],
            })
            .collect();
        if policy.name.ends_with("ReadOnlyAccess") {
            for action in &actions {
                let verb = action.split(':').nth(1).unwrap();
                assert!(
                    ["Get*", "List*", "Describe*", "Lookup*"].contains(&verb),
                    "{}: {action} is not read-only",
                    policy.name
                );
            }
        }
        for statement in doc["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{}", policy.name);
        }
    }
}

/// On an SQLite file, nothing a user was given as a secret (AccessKey secret, password,
/// MFA seed) appears anywhere in the database files.
#[tokio::test]
async fn secrets_are_never_stored_in_clear() {
    let dir = std::env::temp_dir().join(format!(
        "cloudward-ram-secrets-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open_sqlite(&dir.join("cloudward.db")).await.unwrap();
    let env = common::env_on(store.clone()).await;
    let ram = |action: &'static str, params: Vec<(&'static str, String)>| {
        let env = &env;
        async move {
            let refs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            common::ram(env, action, &refs).await.unwrap()
        }
    };
    ram("CreateUser", vec![("UserName", "sam".into())]).await;
    let key = ram("CreateAccessKey", vec![("UserName", "sam".into())]).await;
    let secret = key["AccessKey"]["AccessKeySecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let password = "Very-Secret-Password-42".to_owned();
    ram(
        "CreateLoginProfile",
        vec![("UserName", "sam".into()), ("Password", password.clone())],
    )
    .await;
    let mfa = ram(
        "CreateVirtualMFADevice",
        vec![("VirtualMFADeviceName", "sam-phone".into())],
    )
    .await;
    let seed_b32 = mfa["VirtualMFADevice"]["Base32StringSeed"]
        .as_str()
        .unwrap()
        .to_owned();
    let seed = cloudward_iam::ram::totp::base32_decode(&seed_b32).unwrap();
    store.close().await;

    let mut scanned = 0;
    let mut saw_hash = false;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        for (what, needle) in [
            ("AccessKey secret", secret.as_bytes()),
            ("password", password.as_bytes()),
            ("MFA seed (Base32)", seed_b32.as_bytes()),
            ("MFA seed (raw)", seed.as_slice()),
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{what} found in the database files"
            );
        }
        saw_hash |= bytes.windows(10).any(|w| w == b"$argon2id$");
    }
    assert!(scanned > 0);
    assert!(
        saw_hash,
        "the password hash is in the files scanned (so the scan saw the data)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
