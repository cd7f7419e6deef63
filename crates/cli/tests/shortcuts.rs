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

/// Saves the root key as the profile file's default profile.
fn configure_root(config: &std::path::Path, endpoint: &str) {
    let configured = run_with_stdin(
        with_profiles(config).args([
            "configure",
            "--endpoint",
            endpoint,
            "--access-key-id",
            common::ROOT_ID,
            "--access-key-secret-stdin",
        ]),
        &format!("{ROOT_SECRET}\n"),
    );
    assert_eq!(outcome(&configured).0, Some(0));
}

#[test]
fn identity_shortcuts_work_end_to_end() {
    let data = tempdir();
    let server = start(data.path(), ServeOpts::default());
    let config = data.path().join("client.json");
    configure_root(&config, &server.endpoint());

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

fn profile_key(config: &std::path::Path, name: &str) -> String {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
    file["profiles"][name]["access_key_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn key_rotation_and_quarantine_commands() {
    let data = tempdir();
    let server = start(data.path(), ServeOpts::default());
    let config = data.path().join("client.json");
    configure_root(&config, &server.endpoint());
    ok(with_profiles(&config).args(["ram", "create-user", "dev"]));
    ok(with_profiles(&config).args([
        "ram",
        "attach-policy",
        "AdministratorAccess",
        "--user",
        "dev",
    ]));
    ok(with_profiles(&config).args([
        "ram",
        "create-access-key",
        "--user",
        "dev",
        "--save-profile",
        "dev",
    ]));
    let old = profile_key(&config, "dev");

    // The user's own rotation: the profile switches, the old key is gone.
    let (code, _, stderr) = outcome(&run(with_profiles(&config).args([
        "ram",
        "rotate-key",
        "--profile",
        "dev",
    ])));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("4/4 deleted"), "{stderr}");
    let new = profile_key(&config, "dev");
    assert_ne!(new, old);
    ok(with_profiles(&config).args(["call", "Sts", "GetCallerIdentity", "--profile", "dev"]));
    let keys = ok(with_profiles(&config).args(["call", "Ram", "ListAccessKeys", "UserName=dev"]));
    assert!(keys.contains(&new) && !keys.contains(&old), "{keys}");

    // Quarantine through the CLI: reads work, writes fail with the documented error.
    ok(with_profiles(&config).args(["ram", "quarantine-key", &new, "--reason", "pasted in chat"]));
    let listed = ok(with_profiles(&config).args(["ram", "quarantined", "-o", "json"]));
    assert!(
        listed.contains(&new) && listed.contains("pasted in chat"),
        "{listed}"
    );
    ok(with_profiles(&config).args(["call", "Ram", "ListUsers", "--profile", "dev"]));
    let (code, stdout, stderr) = outcome(&run(with_profiles(&config).args([
        "ram",
        "create-user",
        "mallory",
        "--profile",
        "dev",
    ])));
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("Forbidden.AccessKeyQuarantined"),
        "{stdout}{stderr}"
    );
    // A quarantined key cannot mint its own replacement: an administrator rotates it.
    let (code, _, stderr) = outcome(&run(with_profiles(&config).args([
        "ram",
        "rotate-key",
        "--profile",
        "dev",
    ])));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no new key was created"), "{stderr}");
    let (code, _, stderr) = outcome(&run(with_profiles(&config).args([
        "ram",
        "rotate-key",
        "--user",
        "dev",
        "--old-key",
        &new,
        "--save-profile",
        "dev",
    ])));
    assert_eq!(code, Some(0), "{stderr}");
    let newest = profile_key(&config, "dev");
    assert_ne!(newest, new);
    ok(with_profiles(&config).args(["ram", "create-user", "erin", "--profile", "dev"]));
    // Deleting the quarantined key closed its quarantine.
    let listed = ok(with_profiles(&config).args(["ram", "quarantined", "-o", "json"]));
    assert!(!listed.contains(&new), "{listed}");

    // The key audit view, from the trail: what the newest key touched.
    let mut audit = serde_json::Value::Null;
    for _ in 0..50 {
        let text =
            ok(with_profiles(&config).args(["ram", "key-audit", "--user", "dev", "-o", "json"]));
        audit = serde_json::from_str(&text).unwrap();
        let services = &audit[0]["Services"];
        if services.as_array().is_some_and(|s| !s.is_empty()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["AccessKeyId"], newest.as_str());
    let ram = audit[0]["Services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["ServiceName"] == "Ram")
        .unwrap_or_else(|| panic!("no Ram usage: {audit}"))
        .clone();
    assert!(
        ram["Actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Name"] == "CreateUser"),
        "{ram}"
    );
    assert_eq!(ram["SourceIps"][0]["Name"], "127.0.0.1", "{ram}");
    let table = ok(with_profiles(&config).args(["ram", "key-audit", "--user", "dev"]));
    assert!(
        table.contains(&newest) && table.contains("CreateUser"),
        "{table}"
    );

    let report = ok(with_profiles(&config).args(["ram", "idle-report", "-o", "json"]));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["DryRun"], true);
    assert_eq!(report["MaxIdleDaysForAccessKeys"], 90);
}
