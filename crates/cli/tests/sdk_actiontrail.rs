//! Official-SDK compatibility: the real `cloudward` binary answers ActionTrail (`LookupEvents`, trails,
//! `GetAccessKeyLastUsed*`)
//! from `alibabacloud-actiontrail20200706` (tea V3 and V2 signing), including
//! their error handling. The Python side is `tests/sdk/test_actiontrail.py`.
//!
//! Needs `CLOUDWARD_TEST_PYTHON` (set by `scripts/test.sh`) pointing at a Python with the
//! SDKs from `tests/sdk/requirements.txt`. Without it the test is skipped loudly, unless
//! `CI` is set, where a skip would hide a gap and the test fails instead.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::{ROOT_ID, ROOT_SECRET, ServeOpts, client, outcome, run, start, tempdir};

#[test]
fn official_actiontrail_sdk_manages_trails_and_looks_up_events() {
    let Some(python) = common::sdk_python("sdk_actiontrail") else {
        return;
    };
    let data = tempdir();
    let server = start(data.path(), ServeOpts::default());

    // The account id as our own client sees it, for the SDKs to agree with.
    let identity = common::caller_identity(&mut client(&server.endpoint()), &[]);
    let account_id = identity["AccountId"].as_str().unwrap().to_owned();

    let mut cmd = Command::new(&python);
    cmd.arg(common::sdk_script("test_actiontrail.py"))
        .env("CLOUDWARD_TEST_ENDPOINT", server.addr.to_string())
        .env("CLOUDWARD_TEST_ACCESS_KEY_ID", ROOT_ID)
        .env("CLOUDWARD_TEST_ACCESS_KEY_SECRET", ROOT_SECRET)
        .env("CLOUDWARD_TEST_ACCOUNT_ID", &account_id)
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for proxy in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        cmd.env_remove(proxy);
    }
    for var in [
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "ALIBABA_CLOUD_PROFILE",
        "ALIBABA_CLOUD_CREDENTIALS_FILE",
    ] {
        cmd.env_remove(var);
    }
    let output = run(&mut cmd);
    let (code, stdout, stderr) = outcome(&output);
    println!("{stdout}");
    assert_eq!(
        code,
        Some(0),
        "the official-SDK script failed (exit {code:?})\n--- script output\n{stdout}\n--- script stderr\n{stderr}\n--- server stderr\n{}",
        server.stderr()
    );
    assert!(
        stdout.contains(" passed, 0 failed"),
        "unexpected script output:\n{stdout}"
    );
}
