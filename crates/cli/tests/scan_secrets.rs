//! `cloudward scan-secrets` end to end: files and git history, deduplication, exit codes,
//! JSON output, no secret in any output, and `--quarantine` against a recording fake
//! server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{cloudward, outcome, run, tempdir};

const ID_A: &str = "LTAI5tQw8ZkPr2sXbN4mHc7D";
const SECRET_A: &str = "Zr8QmW2pXk5NcV7bT1yH4jL9sDfG3a";
const ID_B: &str = "LTAI5tXy7Qm2Wp9Kd3Zr8Nb4";
const SECRET_B: &str = "Kq2WzP9xLm4NbV6cT8yR3jH5sGfD1a";

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.email=t@example.invalid", "-c", "user.name=t"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A repository with `app.ini` (pair A, committed and still present) and `old.env` (pair
/// B, committed then deleted). Returns `None` when git is not installed.
fn repo() -> Option<tempfile::TempDir> {
    let dir = tempdir();
    if !git(dir.path(), &["init", "-q"]) {
        assert!(
            std::env::var_os("CI").is_none(),
            "git is required in CI for the history tests"
        );
        eprintln!("SKIPPED: git is not available");
        return None;
    }
    let d = dir.path();
    std::fs::write(
        d.join("app.ini"),
        format!("[aliyun]\naccess_key_id = {ID_A}\naccess_key_secret = {SECRET_A}\n"),
    )
    .unwrap();
    assert!(git(d, &["add", "."]));
    assert!(git(d, &["commit", "-qm", "one"]));
    std::fs::write(
        d.join("old.env"),
        format!("ALIBABA_CLOUD_ACCESS_KEY_ID={ID_B}\nALIBABA_CLOUD_ACCESS_KEY_SECRET={SECRET_B}\n"),
    )
    .unwrap();
    assert!(git(d, &["add", "."]));
    assert!(git(d, &["commit", "-qm", "two"]));
    assert!(git(d, &["rm", "-q", "old.env"]));
    assert!(git(d, &["commit", "-qm", "three"]));
    Some(dir)
}

fn assert_no_secret(text: &str) {
    for s in [SECRET_A, SECRET_B] {
        assert!(!text.contains(s), "output shows a secret:\n{text}");
    }
}

#[test]
fn files_and_history_are_scanned_and_deduplicated() {
    let Some(dir) = repo() else { return };
    let output = run(cloudward()
        .args(["scan-secrets", "-o", "json"])
        .arg(dir.path()));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(1), "{stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{stdout}");
    let a = findings
        .iter()
        .find(|f| f["access_key_id"] == ID_A)
        .unwrap();
    assert_eq!(a["source"], "worktree+history");
    assert_eq!(a["line"], 2);
    assert_eq!(a["secret_preview"], "Zr8Q…");
    assert!(a["file"].as_str().unwrap().ends_with("app.ini"));
    let b = findings
        .iter()
        .find(|f| f["access_key_id"] == ID_B)
        .unwrap();
    assert_eq!(b["source"], "history");
    assert_eq!(b["commit"].as_str().unwrap().len(), 40);
    assert!(b["file"].as_str().unwrap().ends_with("old.env"));

    // Without history only the working tree counts; the table shows the same.
    let output = run(cloudward()
        .args(["scan-secrets", "--no-git"])
        .arg(dir.path()));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.contains(ID_A) && !stdout.contains(ID_B), "{stdout}");
    assert_no_secret(&stdout);
}

#[test]
fn exit_codes_for_clean_trees_and_bad_paths() {
    let dir = tempdir();
    std::fs::write(dir.path().join("notes.txt"), "nothing to see\n").unwrap();
    let output = run(cloudward().arg("scan-secrets").arg(dir.path()));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let output = run(cloudward()
        .arg("scan-secrets")
        .arg(dir.path().join("missing")));
    assert_eq!(outcome(&output).0, Some(2));

    // --git outside a repository is a usage error.
    let output = run(cloudward().args(["scan-secrets", "--git"]).arg(dir.path()));
    assert_eq!(outcome(&output).0, Some(2));

    // Files over --max-file-size are skipped.
    std::fs::write(
        dir.path().join("big.ini"),
        format!("access_key_id = {ID_A}\naccess_key_secret = {SECRET_A}\n"),
    )
    .unwrap();
    let output = run(cloudward()
        .args(["scan-secrets", "--max-file-size", "16"])
        .arg(dir.path()));
    assert_eq!(outcome(&output).0, Some(0));
    let output = run(cloudward().arg("scan-secrets").arg(dir.path()));
    assert_eq!(outcome(&output).0, Some(1));
}

/// A one-thread HTTP server: answers success for `ID_A`, `EntityNotExist.User.AccessKey`
/// for anything else, and records every request line and body.
fn fake_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                request.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            request.push_str(&String::from_utf8_lossy(&body));
            let (status, answer) = if request.contains(ID_A) {
                ("200 OK", r#"{"RequestId":"r1"}"#.to_owned())
            } else {
                (
                    "404 Not Found",
                    r#"{"Code":"EntityNotExist.User.AccessKey","Message":"The specified AccessKey does not exist.","RequestId":"r2"}"#
                        .to_owned(),
                )
            };
            record.lock().unwrap().push(request);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (format!("http://{addr}"), seen)
}

#[test]
fn quarantine_reports_each_key_and_never_sends_a_secret() {
    let Some(dir) = repo() else { return };
    let (endpoint, seen) = fake_server();
    let config = dir.path().join("no-profiles.json");
    let output = run(cloudward()
        .args(["scan-secrets", "--quarantine", "-o", "json"])
        .arg(dir.path())
        .env("CLOUDWARD_CONFIG_FILE", &config)
        .env("CLOUDWARD_ENDPOINT", &endpoint)
        .env("CLOUDWARD_ACCESS_KEY_ID", "LTAI5tCallerKey9xQ2wE7rT")
        .env("CLOUDWARD_ACCESS_KEY_SECRET", "caller-secret-not-scanned"));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_no_secret(&stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let results: Vec<(String, String)> = doc["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["access_key_id"].as_str().unwrap().to_owned(),
                q["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            (ID_A.to_owned(), "quarantined".to_owned()),
            (ID_B.to_owned(), "not live here".to_owned()),
        ]
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for (request, id) in requests.iter().zip([ID_A, ID_B]) {
        assert!(request.contains("QuarantineAccessKey"), "{request}");
        assert!(request.contains("2015-05-01"), "{request}");
        assert!(
            request.contains(&format!("UserAccessKeyId={id}")),
            "{request}"
        );
        assert!(
            request.contains("Reason=found%20by%20cloudward%20scan-secrets%20in%20"),
            "{request}"
        );
        assert!(request.contains("Source=scanner"), "{request}");
        assert_no_secret(request);
    }
}

#[test]
fn quarantine_without_credentials_still_shows_the_findings() {
    let Some(dir) = repo() else { return };
    let output = run(cloudward()
        .args(["scan-secrets", "--quarantine", "--no-git"])
        .arg(dir.path())
        .env("CLOUDWARD_CONFIG_FILE", dir.path().join("none.json")));
    let (code, stdout, stderr) = outcome(&output);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stdout.contains(ID_A), "{stdout}");
    assert!(stderr.contains("cannot quarantine"), "{stderr}");
    assert_no_secret(&stdout);
}

/// `--quarantine` against a real server: the live key found in a file is quarantined (and
/// then refused a high-risk action), a look-alike that is not this server's key is reported
/// as not live here.
#[test]
fn quarantine_against_a_real_server() {
    let data = tempdir();
    let server = common::start(data.path(), common::ServeOpts::default());
    let created =
        run(common::client(&server.endpoint()).args(["call", "Ram", "CreateUser", "UserName=ci"]));
    assert_eq!(outcome(&created).0, Some(0));
    let attach = run(common::client(&server.endpoint()).args([
        "call",
        "Ram",
        "AttachPolicyToUser",
        "UserName=ci",
        "PolicyType=System",
        "PolicyName=AdministratorAccess",
    ]));
    assert_eq!(outcome(&attach).0, Some(0));
    let key = run(common::client(&server.endpoint()).args([
        "call",
        "Ram",
        "CreateAccessKey",
        "UserName=ci",
    ]));
    let (_, key, _) = outcome(&key);
    let key: serde_json::Value = serde_json::from_str(&key).unwrap();
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["AccessKeySecret"]
        .as_str()
        .unwrap()
        .to_owned();

    let dir = tempdir();
    std::fs::write(
        dir.path().join("deploy.sh"),
        format!(
            "#!/bin/sh\nexport ALIBABA_CLOUD_ACCESS_KEY_ID={id}\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("old.ini"),
        format!("[aliyun]\naccess_key_id = {ID_B}\naccess_key_secret = {SECRET_B}\n"),
    )
    .unwrap();
    let scanned = run(common::client(&server.endpoint())
        .args(["scan-secrets", "--no-git", "--quarantine", "-o", "json"])
        .arg(dir.path()));
    let (code, stdout, stderr) = outcome(&scanned);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut results: Vec<(String, String)> = doc["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["access_key_id"].as_str().unwrap().to_owned(),
                q["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    results.sort();
    let mut expected = vec![
        (id.clone(), "quarantined".to_owned()),
        (ID_B.to_owned(), "not live here".to_owned()),
    ];
    expected.sort();
    assert_eq!(results, expected);

    let listed =
        run(common::client(&server.endpoint()).args(["call", "Ram", "ListQuarantinedAccessKeys"]));
    let (_, listed, _) = outcome(&listed);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let item = &listed["Quarantines"]["Quarantine"][0];
    assert_eq!(item["AccessKeyId"], id.as_str());
    assert_eq!(item["Source"], "scanner");
    assert!(
        item["Reason"].as_str().unwrap().contains("deploy.sh:"),
        "{item}"
    );

    // The quarantined key may still read but not write.
    let as_leaked = |args: &[&str]| {
        let mut cmd = cloudward();
        cmd.env("CLOUDWARD_ENDPOINT", server.endpoint())
            .env("CLOUDWARD_ACCESS_KEY_ID", &id)
            .env("CLOUDWARD_ACCESS_KEY_SECRET", &secret)
            .env(
                "CLOUDWARD_CONFIG_FILE",
                "/nonexistent/cloudward-test/config.json",
            )
            .args(args);
        outcome(&run(&mut cmd))
    };
    assert_eq!(as_leaked(&["call", "Ram", "ListUsers"]).0, Some(0));
    let (code, stdout, stderr) = as_leaked(&["call", "Ram", "CreateUser", "UserName=x"]);
    assert_eq!(code, Some(1));
    assert!(
        format!("{stdout}{stderr}").contains("Forbidden.AccessKeyQuarantined"),
        "{stdout}{stderr}"
    );
}
