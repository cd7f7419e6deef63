//! The friendly identity commands end to end against a running server:
//! `ram create-user`, `ram attach-policy`, `ram create-access-key --save-profile`,
//! `sts assume-role --save-profile` and `rd tree`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::{ROOT_SECRET, ServeOpts, cloudward, outcome, run, run_with_stdin, start, tempdir};

/// A client command that reads only the profile file (no credentials from the environment).
fn with_profiles(config: &std::path::Path) -> Command {
    let mut cmd = cloudward();
    cmd.env_remove("CLOUDWARD_ACCESS_KEY_ID")
        .env_remove("CLOUDWARD_ACCESS_KEY_SECRET")
        .env_remove("CLOUDWARD_ENDPOINT")
        .env("CLOUDWARD_CONFIG_FILE", config);
    cmd
}

fn ok(cmd: &mut Command) -> String {
    let (code, stdout, stderr) = outcome(&run(cmd));
    assert_eq!(code, Some(0), "stdout: {stdout}\nstderr: {stderr}");
    stdout
}

#[test]
fn identity_shortcuts_work_end_to_end() {
    let data = tempdir();
    let server = start(data.path(), ServeOpts::default());
    let config = data.path().join("client.json");
    let configured = run_with_stdin(
        with_profiles(&config).args([
            "configure",
            "--endpoint",
            &server.endpoint(),
            "--access-key-id",
            common::ROOT_ID,
            "--access-key-secret-stdin",
        ]),
        &format!("{ROOT_SECRET}\n"),
    );
    assert_eq!(outcome(&configured).0, Some(0));

    ok(with_profiles(&config).args(["ram", "create-user", "alice", "--display-name", "Alice"]));
    ok(with_profiles(&config).args([
        "ram",
        "attach-policy",
        "AdministratorAccess",
        "--user",
        "alice",
    ]));
    ok(with_profiles(&config).args([
        "ram",
        "create-access-key",
        "--user",
        "alice",
        "--save-profile",
        "alice",
    ]));
    let me =
        ok(with_profiles(&config).args(["call", "Sts", "GetCallerIdentity", "--profile", "alice"]));
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["IdentityType"], "RAMUser");
    let account = me["AccountId"].as_str().unwrap().to_owned();

    let trust = format!(
        r#"AssumeRolePolicyDocument={{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{account}:root"]}}}}]}}"#
    );
    ok(with_profiles(&config).args(["call", "Ram", "CreateRole", "RoleName=ops", &trust]));
    ok(with_profiles(&config).args([
        "sts",
        "assume-role",
        &format!("acs:ram::{account}:role/ops"),
        "--session-name",
        "s1",
        "--profile",
        "alice",
        "--save-profile",
        "ops",
    ]));
    let session =
        ok(with_profiles(&config).args(["call", "Sts", "GetCallerIdentity", "--profile", "ops"]));
    let session: serde_json::Value = serde_json::from_str(&session).unwrap();
    assert_eq!(session["IdentityType"], "AssumedRoleUser");
    assert_eq!(
        session["Arn"],
        format!("acs:ram::{account}:assumed-role/ops/s1")
    );

    ok(with_profiles(&config).args([
        "call",
        "ResourceDirectoryMaster",
        "EnableResourceDirectory",
        "EnableMode=CurrentAccount",
    ]));
    ok(with_profiles(&config).args([
        "call",
        "ResourceDirectoryMaster",
        "CreateFolder",
        "FolderName=prod",
    ]));
    ok(with_profiles(&config).args([
        "call",
        "ResourceDirectoryMaster",
        "CreateResourceAccount",
        "DisplayName=shop",
        "AccountNamePrefix=shop",
    ]));
    let tree = ok(with_profiles(&config).args(["rd", "tree"]));
    assert!(tree.contains("Root"), "{tree}");
    assert!(tree.contains("prod"), "{tree}");
    assert!(tree.contains("shop"), "{tree}");
    let json = ok(with_profiles(&config).args(["rd", "tree", "-o", "json"]));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["Folders"][0]["FolderName"], "prod");
    assert_eq!(json["Accounts"][0]["DisplayName"], "shop");
}
