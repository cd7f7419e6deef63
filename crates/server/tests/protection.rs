//! Credential protection end to end over HTTP: leak quarantine (high-risk actions refused,
//! reads allowed, lifting audited, contacts notified through a signed webhook), idle
//! disabling with a controllable clock (dry run, API, schedule) and last-use details.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudward_protocol::Credentials;
use cloudward_service::Clock;
use common::{STS, TestServer, root};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use time::OffsetDateTime;

const RAM: &str = "2015-05-01";
const TRAIL: &str = "2020-07-06";

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// A signed V3 call made at the server's (possibly manual) time.
async fn call_at(
    server: &TestServer,
    at: OffsetDateTime,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
) -> common::Reply {
    server
        .v3_at(action, version, params, creds, &common::nonce(), at)
        .await
}

async fn ram(
    server: &TestServer,
    action: &str,
    params: &[(&str, &str)],
    creds: &Credentials,
) -> common::Reply {
    server.v3(action, RAM, params, creds).await
}

/// Creates a user with a policy and an AccessKey; returns the key.
async fn user_with_key(
    server: &TestServer,
    at: OffsetDateTime,
    name: &str,
    policy: Option<&str>,
) -> Credentials {
    call_at(
        server,
        at,
        RAM,
        "CreateUser",
        &[("UserName", name)],
        &root(),
    )
    .await
    .expect_ok();
    if let Some(policy) = policy {
        call_at(
            server,
            at,
            RAM,
            "AttachPolicyToUser",
            &[
                ("PolicyType", "System"),
                ("PolicyName", policy),
                ("UserName", name),
            ],
            &root(),
        )
        .await
        .expect_ok();
    }
    let key = call_at(
        server,
        at,
        RAM,
        "CreateAccessKey",
        &[("UserName", name)],
        &root(),
    )
    .await
    .expect_ok();
    Credentials::new(
        key["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        key["AccessKey"]["AccessKeySecret"].as_str().unwrap(),
    )
}

/// Polls `check` every 100 ms for up to 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// One webhook delivery as received.
#[derive(Clone, Debug)]
struct Delivery {
    event: String,
    signature: String,
    body: String,
}

/// A local webhook receiver that records every POST.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Delivery>>>) {
    let received: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                sink.lock().unwrap().push(Delivery {
                    event: header("x-cloudward-event"),
                    signature: header("x-cloudward-signature"),
                    body,
                });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), received)
}

/// Checks `t=<secs>,v1=<hex>` against an independent HMAC-SHA256.
fn signature_valid(secret: &str, header: &str, body: &str) -> bool {
    let Some((t, v1)) = header
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

async fn lookup_events(server: &TestServer, event_name: &str) -> Vec<Value> {
    lookup_at(server, OffsetDateTime::now_utc(), event_name).await
}

async fn lookup_at(server: &TestServer, at: OffsetDateTime, event_name: &str) -> Vec<Value> {
    let reply = call_at(
        server,
        at,
        TRAIL,
        "LookupEvents",
        &[
            ("LookupAttribute.1.Key", "EventName"),
            ("LookupAttribute.1.Value", event_name),
        ],
        &root(),
    )
    .await
    .expect_ok();
    reply["Events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_blocks_high_risk_actions_keeps_reads_and_notifies() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.notification_poll_interval = Duration::from_millis(200);
    // The receiver is on loopback, which tenant webhooks may not reach by default.
    config.webhook_allow_private_addresses = true;
    let server = common::start_with(config, true).await.unwrap();
    let now = OffsetDateTime::now_utc();

    let (hook_url, deliveries) = webhook_receiver().await;
    let webhook_secret = "hook-secret-0123456789";
    ram(
        &server,
        "SetSecurityContacts",
        &[("WebhookUrl", &hook_url), ("WebhookSecret", webhook_secret)],
        &root(),
    )
    .await
    .expect_ok();

    let alice = user_with_key(&server, now, "alice", Some("AdministratorAccess")).await;
    ram(&server, "CreateUser", &[("UserName", "bob")], &alice)
        .await
        .expect_ok();

    let quarantined = ram(
        &server,
        "QuarantineAccessKey",
        &[
            ("UserAccessKeyId", &alice.access_key_id),
            ("Reason", "found in git: deploy.sh:12"),
            ("Source", "scanner"),
        ],
        &root(),
    )
    .await
    .expect_ok();
    assert_eq!(quarantined["Quarantine"]["UserName"], "alice");
    assert_eq!(quarantined["Quarantine"]["Source"], "scanner");

    // Ordinary reads keep working for the workload that owns the key.
    server
        .v3("GetCallerIdentity", STS, &[], &alice)
        .await
        .expect_ok();
    ram(&server, "ListUsers", &[], &alice).await.expect_ok();
    ram(&server, "GetUser", &[("UserName", "bob")], &alice)
        .await
        .expect_ok();

    // High-risk actions are refused with the documented error, which does not echo the
    // reason (the caller may be whoever found the key).
    for (action, params) in [
        ("CreateUser", vec![("UserName", "carol")]),
        ("DeleteUser", vec![("UserName", "bob")]),
        (
            "AttachPolicyToUser",
            vec![
                ("PolicyType", "System"),
                ("PolicyName", "AdministratorAccess"),
                ("UserName", "bob"),
            ],
        ),
        ("CreateAccessKey", vec![("UserName", "bob")]),
    ] {
        let body = ram(&server, action, &params, &alice)
            .await
            .expect_error(403, "Forbidden.AccessKeyQuarantined");
        let message = body["Message"].as_str().unwrap();
        assert!(message.contains(&format!("ram:{action}")), "{message}");
        assert!(!message.contains("deploy.sh"), "{message}");
    }
    let role_arn = format!("acs:ram::{}:role/anything", server.account_id);
    server
        .v3(
            "AssumeRole",
            STS,
            &[("RoleArn", &role_arn), ("RoleSessionName", "s")],
            &alice,
        )
        .await
        .expect_error(403, "Forbidden.AccessKeyQuarantined");
    // The key cannot lift its own quarantine, nor empty the list, nor silence contacts.
    for (action, params) in [
        (
            "LiftAccessKeyQuarantine",
            vec![("UserAccessKeyId", alice.access_key_id.as_str())],
        ),
        (
            "SetAccessKeyQuarantinePolicy",
            vec![("HighRiskActions", "[]")],
        ),
        ("SetSecurityContacts", vec![("WebhookUrl", "")]),
    ] {
        ram(&server, action, &params, &alice)
            .await
            .expect_error(403, "Forbidden.AccessKeyQuarantined");
    }

    let listed = ram(&server, "ListQuarantinedAccessKeys", &[], &root())
        .await
        .expect_ok();
    let items = listed["Quarantines"]["Quarantine"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["AccessKeyId"], alice.access_key_id.as_str());
    assert_eq!(items[0]["Reason"], "found in git: deploy.sh:12");

    // The list is configurable: with only DeleteUser on it, CreateUser goes through.
    ram(
        &server,
        "SetAccessKeyQuarantinePolicy",
        &[("HighRiskActions", r#"["ram:DeleteUser"]"#)],
        &root(),
    )
    .await
    .expect_ok();
    ram(&server, "CreateUser", &[("UserName", "carol")], &alice)
        .await
        .expect_ok();
    ram(&server, "DeleteUser", &[("UserName", "carol")], &alice)
        .await
        .expect_error(403, "Forbidden.AccessKeyQuarantined");
    ram(
        &server,
        "SetAccessKeyQuarantinePolicy",
        &[("HighRiskActions", "ram:DeleteUser")],
        &root(),
    )
    .await
    .expect_error(400, "InvalidParameter.HighRiskActions");

    // Keys that are not this account's are indistinguishable from unknown ones.
    ram(
        &server,
        "QuarantineAccessKey",
        &[("UserAccessKeyId", "LTAI5tNoSuchKeyAnywhere00")],
        &root(),
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");

    ram(
        &server,
        "LiftAccessKeyQuarantine",
        &[("UserAccessKeyId", &alice.access_key_id)],
        &root(),
    )
    .await
    .expect_ok();
    ram(&server, "DeleteUser", &[("UserName", "carol")], &alice)
        .await
        .expect_ok();
    ram(
        &server,
        "LiftAccessKeyQuarantine",
        &[("UserAccessKeyId", &alice.access_key_id)],
        &root(),
    )
    .await
    .expect_error(404, "EntityNotExist.AccessKey.Quarantine");

    // Lifting is audited.
    eventually("the LiftAccessKeyQuarantine audit event", || async {
        lookup_events(&server, "LiftAccessKeyQuarantine")
            .await
            .iter()
            .any(|e| e["errorCode"].is_null() && e["userIdentity"]["type"] == "root-account")
    })
    .await;

    // Contacts were told, with a signature the receiver can check.
    eventually("two webhook deliveries", || async {
        deliveries.lock().unwrap().len() >= 2
    })
    .await;
    let got = deliveries.lock().unwrap().clone();
    assert_eq!(got[0].event, "AccessKeyQuarantined");
    assert_eq!(got[1].event, "AccessKeyQuarantineLifted");
    for delivery in &got {
        assert!(
            signature_valid(webhook_secret, &delivery.signature, &delivery.body),
            "bad signature on {delivery:?}"
        );
        assert!(
            !delivery.body.contains(alice.access_key_secret.as_str()),
            "secret leaked"
        );
        assert!(!signature_valid(
            "another-secret-000000",
            &delivery.signature,
            &delivery.body
        ));
    }
    let payload: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(payload["AccountId"], server.account_id.as_str());
    assert_eq!(
        payload["Detail"]["Quarantine"]["AccessKeyId"],
        alice.access_key_id.as_str()
    );
    let notes = ram(&server, "ListSecurityNotifications", &[], &root())
        .await
        .expect_ok();
    let notes = notes["Notifications"]["Notification"].as_array().unwrap();
    assert!(
        notes.iter().take(2).all(|n| n["Status"] == "Delivered"),
        "{notes:?}"
    );

    // The webhook secret is never returned and never reaches the audit trail.
    let contacts = ram(&server, "GetSecurityContacts", &[], &root())
        .await
        .expect_ok();
    assert_eq!(contacts["SecurityContacts"]["WebhookSecretSet"], true);
    assert!(!contacts.to_string().contains(webhook_secret));
    let events = lookup_events(&server, "SetSecurityContacts").await;
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| !e.to_string().contains(webhook_secret)),
        "webhook secret in the trail"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keys_are_reported_then_disabled_by_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.idle_sweep_interval = Duration::ZERO;
    let clock = Arc::new(ManualClock(Mutex::new(OffsetDateTime::now_utc())));
    let server = common::start_with_clock(config, true, clock.clone())
        .await
        .unwrap();
    let t0 = clock.now();
    let bob = user_with_key(&server, t0, "bob", None).await;
    let carol = user_with_key(&server, t0, "carol", None).await;
    // A console user who never signs in.
    call_at(
        &server,
        t0,
        RAM,
        "CreateUser",
        &[("UserName", "lena")],
        &root(),
    )
    .await
    .expect_ok();
    call_at(
        &server,
        t0,
        RAM,
        "CreateLoginProfile",
        &[("UserName", "lena"), ("Password", "Str0ng-Passw0rd!")],
        &root(),
    )
    .await
    .expect_ok();

    clock.advance(time::Duration::days(60));
    let at = clock.now();
    call_at(&server, at, STS, "GetCallerIdentity", &[], &bob)
        .await
        .expect_ok();
    // Last use carries service, action and source address.
    let last_used = || async {
        call_at(
            &server,
            clock.now(),
            RAM,
            "GetAccessKeyLastUsed",
            &[("UserName", "bob"), ("UserAccessKeyId", &bob.access_key_id)],
            &root(),
        )
        .await
        .expect_ok()
    };
    eventually("bob's last use", || async {
        let last = last_used().await;
        last["AccessKeyLastUsed"]["ActionName"] == "GetCallerIdentity"
            && last["AccessKeyLastUsed"]["ServiceName"] == "Sts"
            && last["AccessKeyLastUsed"]["SourceIp"] == "127.0.0.1"
    })
    .await;

    clock.advance(time::Duration::days(35));
    let at = clock.now();
    let report = call_at(&server, at, RAM, "GetIdleCredentialReport", &[], &root())
        .await
        .expect_ok();
    let keys = report["IdleCredentialReport"]["AccessKeys"]["AccessKey"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(keys.len(), 1, "{report}");
    assert_eq!(keys[0]["AccessKeyId"], carol.access_key_id.as_str());
    assert_eq!(keys[0]["Action"], "WouldDisable");
    assert_eq!(keys[0]["IdleDays"], 95);
    assert_eq!(report["IdleCredentialReport"]["DryRun"], true);
    let logins = report["IdleCredentialReport"]["LoginProfiles"]["LoginProfile"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(logins.len(), 1, "{report}");
    assert_eq!(logins[0]["UserName"], "lena");
    assert_eq!(logins[0]["Action"], "WouldDisable");

    // A dry run through the write action changes nothing either.
    call_at(
        &server,
        at,
        RAM,
        "DisableIdleCredentials",
        &[("DryRun", "true")],
        &root(),
    )
    .await
    .expect_ok();
    call_at(&server, at, STS, "GetCallerIdentity", &[], &carol)
        .await
        .expect_ok();

    // Carol's call just now made her key fresh again: move on past the period once more.
    clock.advance(time::Duration::days(91));
    let at = clock.now();
    call_at(&server, at, STS, "GetCallerIdentity", &[], &bob)
        .await
        .expect_ok();
    eventually("bob's new last use", || async {
        let last = last_used().await;
        last["AccessKeyLastUsed"]["LastUsedDate"]
            == cloudward_iam::util::iso8601(
                i64::try_from((at - OffsetDateTime::UNIX_EPOCH).whole_milliseconds()).unwrap(),
            )
    })
    .await;
    let applied = call_at(&server, at, RAM, "DisableIdleCredentials", &[], &root())
        .await
        .expect_ok();
    let keys = applied["IdleCredentialReport"]["AccessKeys"]["AccessKey"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(keys.len(), 1, "{applied}");
    assert_eq!(keys[0]["AccessKeyId"], carol.access_key_id.as_str());
    assert_eq!(keys[0]["Action"], "Disabled");
    call_at(&server, at, STS, "GetCallerIdentity", &[], &carol)
        .await
        .expect_error(403, "InvalidAccessKeyId.Inactive");
    let profile = call_at(
        &server,
        at,
        RAM,
        "GetLoginProfile",
        &[("UserName", "lena")],
        &root(),
    )
    .await
    .expect_ok();
    assert_eq!(profile["LoginProfile"]["Status"], "Inactive", "{profile}");
    call_at(&server, at, STS, "GetCallerIdentity", &[], &bob)
        .await
        .expect_ok();

    // The preference bounds the period; 0 turns the sweep off.
    call_at(
        &server,
        at,
        RAM,
        "SetSecurityPreference",
        &[("MaxIdleDaysForAccessKeys", "1096")],
        &root(),
    )
    .await
    .expect_error(400, "InvalidParameter.MaxIdleDaysForAccessKeys");
    let pref = call_at(
        &server,
        at,
        RAM,
        "SetSecurityPreference",
        &[("MaxIdleDaysForAccessKeys", "0")],
        &root(),
    )
    .await
    .expect_ok();
    assert_eq!(
        pref["SecurityPreference"]["AccessKeyPreference"]["MaxIdleDaysForAccessKeys"],
        0
    );
    clock.advance(time::Duration::days(400));
    let report = call_at(
        &server,
        clock.now(),
        RAM,
        "GetIdleCredentialReport",
        &[],
        &root(),
    )
    .await
    .expect_ok();
    assert!(
        report["IdleCredentialReport"]["AccessKeys"]["AccessKey"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{report}"
    );
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_disables_idle_keys_and_audits_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.idle_sweep_interval = Duration::from_millis(200);
    let clock = Arc::new(ManualClock(Mutex::new(OffsetDateTime::now_utc())));
    let server = common::start_with_clock(config, true, clock.clone())
        .await
        .unwrap();
    let dave = user_with_key(&server, clock.now(), "dave", None).await;
    clock.advance(time::Duration::days(91));
    eventually("dave's key to be disabled", || async {
        let keys = call_at(
            &server,
            clock.now(),
            RAM,
            "ListAccessKeys",
            &[("UserName", "dave")],
            &root(),
        )
        .await
        .expect_ok();
        keys["AccessKeys"]["AccessKey"][0]["Status"] == "Inactive"
    })
    .await;
    call_at(&server, clock.now(), STS, "GetCallerIdentity", &[], &dave)
        .await
        .expect_error(403, "InvalidAccessKeyId.Inactive");
    eventually("the sweep's audit event", || async {
        !lookup_at(&server, clock.now(), "DisableIdleCredentials")
            .await
            .is_empty()
    })
    .await;
    let event = lookup_at(&server, clock.now(), "DisableIdleCredentials")
        .await
        .remove(0);
    assert_eq!(event["userIdentity"]["type"], "system", "{event}");
    assert_eq!(event["eventType"], "AliyunServiceEvent", "{event}");
    assert!(event.to_string().contains(&dave.access_key_id), "{event}");
    server.stop().await.unwrap();
}

#[test]
fn default_high_risk_list_covers_every_write_and_no_read() {
    use cloudward_iam::protect::quarantine::{DEFAULT_HIGH_RISK_ACTIONS, is_high_risk};
    let list: Vec<String> = DEFAULT_HIGH_RISK_ACTIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let mut all = cloudward_iam::actions();
    all.extend(cloudward_audit::actions());
    for spec in &all {
        let high = is_high_risk(&list, spec.ram_action);
        match spec.rw {
            cloudward_service::ReadWrite::Write => {
                assert!(
                    high,
                    "{} changes state but is not high-risk",
                    spec.ram_action
                );
            }
            cloudward_service::ReadWrite::Read => {
                assert!(!high, "{} only reads but is high-risk", spec.ram_action);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_may_not_reach_private_addresses_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.notification_poll_interval = Duration::from_millis(200);
    assert!(
        !config.webhook_allow_private_addresses,
        "the default must be off"
    );
    let server = common::start_with(config, true).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let (hook_url, deliveries) = webhook_receiver().await;
    let victim = user_with_key(&server, now, "victim", None).await;

    // An address literal, then a name that resolves to loopback.
    let by_name = hook_url.replace("127.0.0.1", "localhost");
    for (url, action, expected_error) in [
        (hook_url.as_str(), "QuarantineAccessKey", "not public"),
        (
            by_name.as_str(),
            "LiftAccessKeyQuarantine",
            "no public address",
        ),
    ] {
        ram(
            &server,
            "SetSecurityContacts",
            &[("WebhookUrl", url)],
            &root(),
        )
        .await
        .expect_ok();
        ram(
            &server,
            action,
            &[("UserAccessKeyId", &victim.access_key_id)],
            &root(),
        )
        .await
        .expect_ok();
        eventually("a refused delivery attempt", || async {
            let notes = ram(&server, "ListSecurityNotifications", &[], &root())
                .await
                .expect_ok();
            let newest = &notes["Notifications"]["Notification"][0];
            newest["Attempts"].as_i64().unwrap_or(0) >= 1
                && newest["Status"] == "Pending"
                && newest["LastError"]
                    .as_str()
                    .is_some_and(|e| e.contains(expected_error))
        })
        .await;
    }
    assert!(
        deliveries.lock().unwrap().is_empty(),
        "a private address was reached"
    );
    server.stop().await.unwrap();
}

#[test]
fn public_address_rule() {
    use cloudward_server::protection::is_public_address;
    for private in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ] {
        assert!(!is_public_address(private.parse().unwrap()), "{private}");
    }
    for public in ["8.8.8.8", "47.96.1.1", "2001:4860:4860::8888"] {
        assert!(is_public_address(public.parse().unwrap()), "{public}");
    }
}
