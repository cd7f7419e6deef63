//! Audit completeness, graceful shutdown with a request in flight, restart on the same data
//! directory, and start-up refusals (root key file permissions, half a TLS config).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use cloudward_protocol::Credentials;
use cloudward_server::ServeError;
use cloudward_server::config::RootKeySource;
use common::{
    ROOT_ID, ROOT_SECRET, STS, WRONG_SECRET, audit_bytes, audit_events, contains, gci, nonce, root,
    start, start_with,
};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_yields_exactly_one_redacted_audit_event() {
    let mut server = start().await;
    let tmp = server.take_tmp().unwrap();
    let base = server.base();
    let wrong = Credentials::new(ROOT_ID, WRONG_SECRET);
    let unknown = Credentials::new("LTAI5tNoSuchKey000000000", ROOT_SECRET);
    let now = OffsetDateTime::now_utc();
    let replayed = nonce();

    // (reply, expected eventName, expected errorCode)
    let mut calls = Vec::new();
    calls.push((
        server.v2_get(&gci(), &root()).await,
        "GetCallerIdentity",
        None,
    ));
    calls.push((
        server.v3("GetCallerIdentity", STS, &[], &root()).await,
        "GetCallerIdentity",
        None,
    ));
    calls.push((
        server.v2_post_form(&gci(), &root()).await,
        "GetCallerIdentity",
        None,
    ));
    // Secret-named business parameters are redacted in the event.
    let mut with_secrets = gci();
    with_secrets.push(("AccessKeySecret", ROOT_SECRET));
    with_secrets.push(("Password", "Hunter2Hunter2!"));
    calls.push((
        server.v2_get(&with_secrets, &root()).await,
        "GetCallerIdentity",
        None,
    ));
    calls.push((
        server.v2_get(&gci(), &wrong).await,
        "GetCallerIdentity",
        Some("SignatureDoesNotMatch"),
    ));
    calls.push((
        server.v3("GetCallerIdentity", STS, &[], &wrong).await,
        "GetCallerIdentity",
        Some("SignatureDoesNotMatch"),
    ));
    calls.push((
        server.v2_get(&gci(), &unknown).await,
        "GetCallerIdentity",
        Some("InvalidAccessKeyId.NotFound"),
    ));
    calls.push((
        server
            .v2_get(&[("Action", "NoSuchAction"), ("Version", STS)], &root())
            .await,
        "NoSuchAction",
        Some("InvalidAction.NotFound"),
    ));
    calls.push((
        server
            .v2_get(
                &[("Action", "GetCallerIdentity"), ("Version", "2099-01-01")],
                &root(),
            )
            .await,
        "GetCallerIdentity",
        Some("InvalidVersion"),
    ));
    calls.push((
        server.v2_get_at(&gci(), &root(), &replayed, now).await,
        "GetCallerIdentity",
        None,
    ));
    calls.push((
        server.v2_get_at(&gci(), &root(), &replayed, now).await,
        "GetCallerIdentity",
        Some("SignatureNonceUsed"),
    ));
    calls.push((
        server
            .v2_get_at(&gci(), &root(), &nonce(), now - time::Duration::minutes(20))
            .await,
        "GetCallerIdentity",
        Some("InvalidTimeStamp.Expired"),
    ));
    calls.push((
        server
            .send(server.http.get(format!(
                "{base}/?Action=GetCallerIdentity&Version=2015-04-01&X=%ZZ"
            )))
            .await,
        "GetCallerIdentity",
        Some("InvalidParameter"),
    ));
    calls.push((
        server
            .send(server.http.put(format!(
                "{base}/?Action=GetCallerIdentity&Version=2015-04-01"
            )))
            .await,
        "GetCallerIdentity",
        Some("UnsupportedHTTPMethod"),
    ));
    calls.push((
        server
            .send(
                server
                    .http
                    .post(format!("{base}/"))
                    .header("x-acs-action", "GetCallerIdentity")
                    .header("x-acs-version", STS)
                    .header("authorization", format!("garbage {ROOT_SECRET}")),
            )
            .await,
        "GetCallerIdentity",
        Some("IncompleteSignature"),
    ));
    // Probes are not API calls and leave no event.
    assert_eq!(server.get_path("/healthz").await.status, 200);
    assert_eq!(server.get_path("/metrics").await.status, 200);

    // Durable before the answer: every event is readable now, while the server runs.
    let events = audit_events(&server.data_dir);
    assert_eq!(
        events.len(),
        calls.len(),
        "events: {:#?}",
        events.iter().map(|e| &e.2).collect::<Vec<_>>()
    );
    for (i, ((reply, name, code), (column, event, raw))) in calls.iter().zip(&events).enumerate() {
        assert_eq!(event["eventName"], *name, "call {i}: {raw}");
        assert_eq!(column, name, "call {i}: index column");
        assert_eq!(
            event["errorCode"].as_str(),
            *code,
            "call {i}: reply {} / event {raw}",
            reply.body
        );
        assert_eq!(
            event["requestId"],
            reply.request_id_header(),
            "call {i}: the event is not the one for this reply: {raw}"
        );
        assert!(event["eventId"].as_str().is_some_and(|id| !id.is_empty()));
        assert_eq!(event["eventType"], "ApiCall");
        assert_eq!(event["sourceIpAddress"], "127.0.0.1");
        match code {
            None => {
                assert_eq!(event["userIdentity"]["type"], "root-account", "{raw}");
                assert_eq!(
                    event["userIdentity"]["accountId"],
                    server.account_id.as_str()
                );
                assert_eq!(event["userIdentity"]["accessKeyId"], ROOT_ID);
                assert_eq!(event["serviceName"], "Sts", "{raw}");
                assert_eq!(event["eventRW"], "Read", "{raw}");
                assert_eq!(event["apiVersion"], STS);
            }
            Some(_) => assert!(event["errorMessage"].is_string(), "{raw}"),
        }
    }
    let redacted = &events[3].1["requestParameters"];
    assert_eq!(redacted["AccessKeySecret"], "[REDACTED]", "{redacted}");
    assert_eq!(redacted["Password"], "[REDACTED]", "{redacted}");
    // Claimed identity of a rejected call is recorded, marked anonymous (unauthenticated).
    let rejected = &events[6].1["userIdentity"];
    assert_eq!(rejected["type"], "anonymous", "{rejected}");
    assert_eq!(rejected["accessKeyId"], "LTAI5tNoSuchKey000000000");
    let wrong_sig = &events[4].1["userIdentity"];
    assert_eq!(wrong_sig["type"], "anonymous", "{wrong_sig}");
    assert_eq!(
        wrong_sig["accountId"],
        server.account_id.as_str(),
        "{wrong_sig}"
    );

    let metrics = server.get_path("/metrics").await.body;
    assert!(
        metrics.contains(&format!("cloudward_audit_events_total {}", calls.len())),
        "{metrics}"
    );

    server
        .stop()
        .await
        .expect("run must return Ok after shutdown");
    let after = audit_events(tmp.path());
    assert_eq!(after.len(), calls.len(), "events lost at shutdown");
    let bytes = audit_bytes(tmp.path());
    for secret in [ROOT_SECRET, WRONG_SECRET, "Hunter2Hunter2!"] {
        assert!(!contains(&bytes, secret), "{secret:?} is in the audit log");
    }
}

/// Polls `/metrics` until `cloudward_rpc_in_flight` is `n`.
async fn wait_in_flight(server: &common::TestServer, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let want = format!("cloudward_rpc_in_flight {n}\n");
    loop {
        if server.get_path("/metrics").await.body.contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "in-flight never reached {n}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_the_request_in_flight() {
    let mut server = start().await;
    let tmp = server.take_tmp().unwrap();
    let addr = server.addr;
    server.v2_get(&gci(), &root()).await.expect_ok();

    // A V2 form POST whose body arrives in two parts: the request is in flight (reading its
    // body) when shutdown is requested.
    let params = server.v2_params("POST", &gci());
    let body = cloudward_protocol::encode_params(&params);
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    wait_in_flight(&server, 1).await;

    server.trigger_shutdown();
    // The listener closes: new connections are refused while the old one is served.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after shutdown");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .expect("the in-flight request got no answer")
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.contains(&server.account_id), "{raw}");

    server.join().await.expect("run must return Ok");
    let events = audit_events(tmp.path());
    assert_eq!(events.len(), 2, "the in-flight call was not audited");
    assert!(events.iter().all(|e| e.1["errorCode"].is_null()));
    // The store was closed and can be opened again: same account.
    let again = start_with(common::config(tmp.path()), true).await.unwrap();
    assert_eq!(again.account_id, server.account_id);
    again.v2_get(&gci(), &root()).await.expect_ok();
    again.stop().await.unwrap();
    assert_eq!(
        audit_events(tmp.path()).len(),
        3,
        "audit.db not appended on restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_account_and_the_generated_root_key() {
    let tmp = tempfile::tempdir().unwrap();
    let first = start_with(common::config(tmp.path()), false).await.unwrap();
    let (id, secret) = first
        .generated_root_key
        .clone()
        .expect("a first start without a supplied key must generate one");
    let generated = Credentials::new(id.clone(), secret.clone());
    assert!(id.starts_with("LTAI"), "{id}");
    first.v2_get(&gci(), &generated).await.expect_ok();
    let account = first.account_id.clone();
    first.stop().await.unwrap();
    let key_mode = std::fs::metadata(tmp.path().join("root.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        key_mode & 0o777,
        0o600,
        "root.key mode {:o}",
        key_mode & 0o777
    );

    let second = start_with(common::config(tmp.path()), false).await.unwrap();
    assert!(
        second.generated_root_key.is_none(),
        "a second root key was generated on restart"
    );
    assert_eq!(second.account_id, account);
    let body = second.v2_get(&gci(), &generated).await.expect_ok();
    assert_eq!(body["AccountId"], account.as_str());
    let body = second
        .v3("GetCallerIdentity", STS, &[], &generated)
        .await
        .expect_ok();
    assert_eq!(body["Arn"], format!("acs:ram::{account}:root"));
    second.stop().await.unwrap();

    // Supplying a key on a later start adds it to the same root identity.
    let third = start_with(common::config(tmp.path()), true).await.unwrap();
    assert!(third.generated_root_key.is_none());
    assert_eq!(third.account_id, account);
    let a = third.v2_get(&gci(), &root()).await.expect_ok();
    let b = third.v2_get(&gci(), &generated).await.expect_ok();
    assert_eq!(a["AccountId"], b["AccountId"]);
    third.stop().await.unwrap();

    // Secrets are encrypted at rest: neither secret is in the store files.
    let mut store = Vec::new();
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("cloudward.db")
        {
            store.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(!store.is_empty(), "no store files");
    assert!(
        !contains(&store, &secret),
        "generated secret stored in clear"
    );
    assert!(
        !contains(&store, ROOT_SECRET),
        "supplied secret stored in clear"
    );
}

fn config_error(result: Result<common::TestServer, ServeError>) -> String {
    match result {
        Ok(_) => panic!("start-up must fail"),
        Err(ServeError::Config(message)) => message,
        Err(other) => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_key_files_readable_by_others_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let key_file = tmp.path().join("operator.key");
    std::fs::write(&key_file, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n").unwrap();
    for mode in [0o644, 0o640, 0o604] {
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut config = common::config(&tmp.path().join("data"));
        config.root_key = RootKeySource::File(key_file.clone());
        let message = config_error(start_with(config, true).await);
        assert!(
            message.contains("chmod 600") && message.contains("operator.key"),
            "mode {mode:o}: {message}"
        );
    }
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut config = common::config(&tmp.path().join("data"));
    config.root_key = RootKeySource::File(key_file.clone());
    let server = start_with(config, true).await.unwrap();
    server.v2_get(&gci(), &root()).await.expect_ok();
    server.stop().await.unwrap();

    // The generated key in the data dir is checked the same way on restart.
    let dir = tmp.path().join("own");
    start_with(common::config(&dir), true)
        .await
        .unwrap()
        .stop()
        .await
        .unwrap();
    std::fs::set_permissions(dir.join("root.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let message = config_error(start_with(common::config(&dir), true).await);
    assert!(message.contains("chmod 600"), "{message}");

    // A key file that is not 32 bytes of base64 is refused too.
    std::fs::write(&key_file, "too-short\n").unwrap();
    let mut config = common::config(&tmp.path().join("data3"));
    config.root_key = RootKeySource::File(key_file);
    let message = config_error(start_with(config, true).await);
    assert!(
        message.contains("base64") || message.contains("32 bytes"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_a_tls_configuration_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.tls_cert = Some(tmp.path().join("cert.pem"));
    let message = config_error(start_with(config, true).await);
    assert!(message.contains("--tls-key"), "{message}");

    let mut config = common::config(&tmp.path().join("b"));
    config.tls_cert = Some(tmp.path().join("missing-cert.pem"));
    config.tls_key = Some(tmp.path().join("missing-key.pem"));
    let message = config_error(start_with(config, true).await);
    assert!(message.contains("missing-cert.pem"), "{message}");
}

/// A root key that cannot decrypt the stored secrets is a misconfiguration, and
/// misconfiguration must stop start-up (DESIGN.md "no silent fallbacks"). Today the server
/// starts and answers every call with a 500 InternalError.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_root_key_on_restart_is_a_start_up_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.root_key = RootKeySource::Inline(zeroize::Zeroizing::new(
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
    ));
    let server = start_with(config.clone(), true).await.unwrap();
    server.v2_get(&gci(), &root()).await.expect_ok();
    server.stop().await.unwrap();

    config.root_key = RootKeySource::Inline(zeroize::Zeroizing::new(
        "HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo=".to_owned(),
    ));
    match start_with(config, true).await {
        Err(_) => {}
        Ok(server) => {
            // If start-up let it through, at least no request may be answered with a 500.
            let response = server
                .http
                .get(format!(
                    "{}/?{}",
                    server.base(),
                    cloudward_protocol::sign_v2(
                        "GET",
                        &common::map(&gci()),
                        &root(),
                        &nonce(),
                        OffsetDateTime::now_utc()
                    )
                ))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            server.stop().await.unwrap();
            panic!(
                "the server started with a root key that cannot decrypt its store; the first call got HTTP {status}: {body}"
            );
        }
    }
}
