//! Authorization and tenant isolation through the real policy source:
//! - no action runs without a policy decision (every registered action, tried by a RAM user
//!   with no permissions, is refused — except the documented open ones);
//! - a narrow policy allows exactly what it says, and a denial is explained;
//! - a cross-tenant matrix: another account's root, aiming every RAM action at this
//!   account's entities, can neither read nor change them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use cloudward_iam::authz::IamPolicySource;
use cloudward_protocol::ApiError;
use cloudward_service::{
    Access, Authenticated, Authorizer, Call, Params, Principal, PrincipalKind, ServiceState,
};
use cloudward_store::{AccountKind, AccountRecord};
use serde_json::Value;

/// Actions every authenticated caller may run without a policy (Alibaba's behaviour).
const OPEN_ACTIONS: &[&str] = &["GetCallerIdentity"];

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn call_as(
    state: &ServiceState,
    authorizer: &Authorizer,
    principal: &Principal,
    version: &str,
    action: &str,
    p: &Params,
) -> Result<Value, ApiError> {
    let spec = common::spec(version, action);
    let caller = Authenticated::after_signature_verified(principal.clone(), common::context());
    let auth = authorizer.authorize(caller, &spec, p).await?;
    (spec.handler)(Call {
        state,
        auth: &auth,
        params: p,
    })
    .await
}

const TRUST_SELF: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::ACCOUNT:root"]}}]}"#;
const DOC: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:Get*","Resource":"*"}]}"#;

/// The parameters every action might need, naming entities that exist in the target account.
fn universal_params(account: &str, access_key: &str) -> Params {
    let trust = TRUST_SELF.replace("ACCOUNT", account);
    params(&[
        ("UserName", "alice"),
        ("NewUserName", "alice2"),
        ("GroupName", "devs"),
        ("NewGroupName", "devs2"),
        ("RoleName", "ops"),
        ("NewRoleName", "ops2"),
        ("RoleArn", &format!("acs:ram::{account}:role/ops")),
        ("RoleSessionName", "probe"),
        ("PolicyName", "readers"),
        ("PolicyType", "Custom"),
        ("PolicyDocument", DOC),
        ("AssumeRolePolicyDocument", &trust),
        ("NewAssumeRolePolicyDocument", &trust),
        ("VersionId", "v1"),
        ("UserAccessKeyId", access_key),
        ("Status", "Inactive"),
        ("AccountAlias", "probe-alias"),
        ("Password", "Probe-Passw0rd!"),
        ("NewPassword", "Probe-Passw0rd!2"),
        ("OldPassword", "Probe-Passw0rd!"),
        ("VirtualMFADeviceName", "probe"),
        ("SerialNumber", &format!("acs:ram::{account}:mfa/probe")),
        ("AuthenticationCode1", "123456"),
        ("AuthenticationCode2", "654321"),
        ("ResourceType", "user"),
        ("ResourceNames", r#"["alice"]"#),
        ("TagKeys", r#"["team"]"#),
        ("Tag", r#"[{"Key":"team","Value":"probe"}]"#),
        ("MinimumPasswordLength", "12"),
        ("EnableSaveMFATicket", "false"),
    ])
}

/// Creates alice (with a key and a group), group devs, role ops and policy readers in
/// `account` as its root; returns alice's user id and AccessKeyId.
async fn populate(state: &ServiceState, account: &str) -> (String, String) {
    let root = common::root(account);
    let auth = Authorizer::new(None);
    let v = "2015-05-01";
    let user = call_as(
        state,
        &auth,
        &root,
        v,
        "CreateUser",
        &params(&[("UserName", "alice")]),
    )
    .await
    .unwrap();
    let user_id = user["User"]["UserId"].as_str().unwrap().to_owned();
    call_as(
        state,
        &auth,
        &root,
        v,
        "CreateGroup",
        &params(&[("GroupName", "devs")]),
    )
    .await
    .unwrap();
    call_as(
        state,
        &auth,
        &root,
        v,
        "AddUserToGroup",
        &params(&[("GroupName", "devs"), ("UserName", "alice")]),
    )
    .await
    .unwrap();
    let trust = TRUST_SELF.replace("ACCOUNT", account);
    call_as(
        state,
        &auth,
        &root,
        v,
        "CreateRole",
        &params(&[("RoleName", "ops"), ("AssumeRolePolicyDocument", &trust)]),
    )
    .await
    .unwrap();
    call_as(
        state,
        &auth,
        &root,
        v,
        "CreatePolicy",
        &params(&[("PolicyName", "readers"), ("PolicyDocument", DOC)]),
    )
    .await
    .unwrap();
    let key = call_as(
        state,
        &auth,
        &root,
        v,
        "CreateAccessKey",
        &params(&[("UserName", "alice")]),
    )
    .await
    .unwrap();
    let key_id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    (user_id, key_id)
}

/// Everything an account can see about its RAM entities, for before/after comparison.
async fn snapshot(state: &ServiceState, account: &str) -> Vec<Value> {
    let root = common::root(account);
    let auth = Authorizer::new(None);
    let v = "2015-05-01";
    let mut out = Vec::new();
    for (action, p) in [
        ("ListUsers", params(&[])),
        ("ListGroups", params(&[])),
        ("ListRoles", params(&[])),
        ("ListPolicies", params(&[("PolicyType", "Custom")])),
        ("ListPoliciesForUser", params(&[("UserName", "alice")])),
        ("ListGroupsForUser", params(&[("UserName", "alice")])),
        ("ListAccessKeys", params(&[("UserName", "alice")])),
        ("GetAccountAlias", params(&[])),
        ("GetPasswordPolicy", params(&[])),
        ("GetSecurityPreference", params(&[])),
        ("ListVirtualMFADevices", params(&[])),
    ] {
        let mut value = call_as(state, &auth, &root, v, action, &p)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
        strip_volatile(&mut value);
        out.push(value);
    }
    out
}

fn strip_volatile(v: &mut Value) {
    if let Value::Object(map) = v {
        map.remove("LastLoginDate");
        for child in map.values_mut() {
            strip_volatile(child);
        }
    } else if let Value::Array(items) = v {
        for child in items {
            strip_volatile(child);
        }
    }
}

async fn state_with_policies() -> (ServiceState, String, Authorizer, Arc<IamPolicySource>) {
    let env = common::env().await;
    let source =
        Arc::new(IamPolicySource::new(env.state.store.clone(), Duration::from_secs(60)).unwrap());
    let authorizer = Authorizer::new(Some(source.clone()));
    (env.state, env.management, authorizer, source)
}

#[tokio::test]
async fn no_action_runs_without_a_policy_decision() {
    let (state, account, authorizer, _source) = state_with_policies().await;
    let (user_id, key_id) = populate(&state, &account).await;
    let alice = Principal {
        account_id: account.clone(),
        kind: PrincipalKind::User {
            user_id,
            user_name: "alice".to_owned(),
        },
        access_key_id: key_id.clone(),
    };
    let p = universal_params(&account, &key_id);
    let actions = cloudward_iam::actions();
    assert!(
        actions.len() > 50,
        "expected the RAM, STS and RD actions, got {}",
        actions.len()
    );
    let mut refused = 0;
    for spec in &actions {
        let caller = Authenticated::after_signature_verified(alice.clone(), common::context());
        let result = authorizer.authorize(caller, spec, &p).await;
        match spec.access {
            Access::AnyAuthenticatedCaller => {
                assert!(
                    OPEN_ACTIONS.contains(&spec.name),
                    "{} is open to every caller but not in the documented list",
                    spec.name
                );
                assert!(result.is_ok(), "{} must be open", spec.name);
            }
            Access::Policy { .. } => {
                let err = result.expect_err(spec.name);
                assert_eq!(err.code, "NoPermission", "{}: {err:?}", spec.name);
                assert_eq!(err.http_status, 403, "{}", spec.name);
                let detail = err
                    .access_denied_detail
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: no AccessDeniedDetail", spec.name));
                assert_eq!(detail["AuthAction"], spec.ram_action, "{}", spec.name);
                refused += 1;
            }
        }
    }
    assert!(refused > 50);
}

#[tokio::test]
async fn narrow_policy_allows_exactly_what_it_grants() {
    let (state, account, authorizer, source) = state_with_policies().await;
    let (user_id, key_id) = populate(&state, &account).await;
    let root = common::root(&account);
    let alice = Principal {
        account_id: account.clone(),
        kind: PrincipalKind::User {
            user_id,
            user_name: "alice".to_owned(),
        },
        access_key_id: key_id,
    };
    let v = "2015-05-01";
    let get_self = params(&[("UserName", "alice")]);
    // Before any grant: denied, explained.
    let err = call_as(&state, &authorizer, &alice, v, "GetUser", &get_self)
        .await
        .unwrap_err();
    assert_eq!(err.code, "NoPermission");
    assert_eq!(
        err.access_denied_detail.as_ref().unwrap()["NoPermissionType"],
        "ImplicitDeny"
    );
    // Grant: GetUser on herself only, through the group.
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"ram:GetUser","Resource":"acs:ram::{account}:user/alice"}}]}}"#
    );
    call_as(
        &state,
        &authorizer,
        &root,
        v,
        "CreatePolicy",
        &params(&[("PolicyName", "self-read"), ("PolicyDocument", &doc)]),
    )
    .await
    .unwrap();
    call_as(
        &state,
        &authorizer,
        &root,
        v,
        "AttachPolicyToGroup",
        &params(&[
            ("PolicyName", "self-read"),
            ("PolicyType", "Custom"),
            ("GroupName", "devs"),
        ]),
    )
    .await
    .unwrap();
    source.invalidate();
    let me = call_as(&state, &authorizer, &alice, v, "GetUser", &get_self)
        .await
        .unwrap();
    assert_eq!(me["User"]["UserName"], "alice");
    // Another user is not covered.
    call_as(
        &state,
        &authorizer,
        &root,
        v,
        "CreateUser",
        &params(&[("UserName", "bob")]),
    )
    .await
    .unwrap();
    let err = call_as(
        &state,
        &authorizer,
        &alice,
        v,
        "GetUser",
        &params(&[("UserName", "bob")]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "NoPermission");
    // Nor another action on herself.
    let err = call_as(&state, &authorizer, &alice, v, "DeleteUser", &get_self)
        .await
        .unwrap_err();
    assert_eq!(err.code, "NoPermission");
    // An explicit Deny wins over the Allow.
    let deny = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:*","Resource":"*"}]}"#;
    call_as(
        &state,
        &authorizer,
        &root,
        v,
        "CreatePolicy",
        &params(&[("PolicyName", "deny-all"), ("PolicyDocument", deny)]),
    )
    .await
    .unwrap();
    call_as(
        &state,
        &authorizer,
        &root,
        v,
        "AttachPolicyToUser",
        &params(&[
            ("PolicyName", "deny-all"),
            ("PolicyType", "Custom"),
            ("UserName", "alice"),
        ]),
    )
    .await
    .unwrap();
    source.invalidate();
    let err = call_as(&state, &authorizer, &alice, v, "GetUser", &get_self)
        .await
        .unwrap_err();
    assert_eq!(
        err.access_denied_detail.as_ref().unwrap()["NoPermissionType"],
        "ExplicitDeny"
    );
}

#[tokio::test]
async fn cross_tenant_matrix() {
    let (state, account_a, authorizer, _source) = state_with_policies().await;
    let (alice_id, key_id) = populate(&state, &account_a).await;
    let account_b = "2000000000000002".to_owned();
    state
        .store
        .insert_account(&AccountRecord {
            account_id: account_b.clone(),
            display_name: "tenant-b".into(),
            kind: AccountKind::Member,
            created_at_ms: 1,
        })
        .await
        .unwrap();
    let before = snapshot(&state, &account_a).await;
    let intruder = common::root(&account_b);
    let p = universal_params(&account_a, &key_id);
    let ram: Vec<_> = cloudward_iam::actions()
        .into_iter()
        .filter(|s| s.version == "2015-05-01")
        .collect();
    assert!(ram.len() > 50, "RAM actions registered: {}", ram.len());
    // Reads first (they must not see A's entities), then writes.
    let mut order = ram.clone();
    order.sort_by_key(|s| (s.rw == cloudward_service::ReadWrite::Write, s.name));
    for spec in &order {
        let result = call_as(&state, &authorizer, &intruder, spec.version, spec.name, &p).await;
        if let Ok(body) = &result {
            let text = body.to_string();
            assert!(
                !text.contains(&key_id),
                "{} revealed A's AccessKey: {text}",
                spec.name
            );
            assert!(
                !text.contains(&alice_id),
                "{} revealed A's user id: {text}",
                spec.name
            );
        }
    }
    // STS: B's root cannot assume A's role (A's trust policy trusts only A).
    let err = call_as(
        &state,
        &authorizer,
        &intruder,
        "2015-04-01",
        "AssumeRole",
        &p,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "NoPermission");
    let after = snapshot(&state, &account_a).await;
    assert_eq!(before, after, "tenant B changed tenant A's RAM state");
}
