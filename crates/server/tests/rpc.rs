//! The RPC endpoint, in process: signatures (V2 GET, V2 form POST, V3), formats, the error
//! envelope for every way a request can be wrong, replay and clock checks, and that no
//! answer is ever a 500.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_protocol::Credentials;
use common::{ROOT_ID, ROOT_SECRET, STS, WRONG_SECRET, gci, nonce, root, start, with_headers};
use time::OffsetDateTime;

fn assert_root(body: &serde_json::Value, account: &str) {
    assert_eq!(body["AccountId"], account, "{body}");
    assert_eq!(body["Arn"], format!("acs:ram::{account}:root"), "{body}");
    assert_eq!(body["IdentityType"], "Account", "{body}");
    assert_eq!(body["PrincipalId"], account, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_get_v2_form_post_and_v3_post_succeed() {
    let server = start().await;
    let account = server.account_id.clone();
    assert_eq!(account.len(), 16);

    let reply = server.v2_get(&gci(), &root()).await;
    assert!(reply.content_type().starts_with("application/json"));
    assert_root(&reply.expect_ok(), &account);

    let reply = server.v2_post_form(&gci(), &root()).await;
    assert_root(&reply.expect_ok(), &account);

    let reply = server.v3("GetCallerIdentity", STS, &[], &root()).await;
    assert_root(&reply.expect_ok(), &account);

    // V3 with business parameters in the query and in a signed form body.
    let reply = server
        .v3(
            "GetCallerIdentity",
            STS,
            &[("RegionId", "cn-hangzhou")],
            &root(),
        )
        .await;
    assert_root(&reply.expect_ok(), &account);
    let body = b"RegionId=cn-hangzhou&Extra=a%20b";
    let (url, headers, body) = server.v3_signed(
        "GetCallerIdentity",
        STS,
        &[],
        body,
        Some("application/x-www-form-urlencoded"),
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let reply = server
        .send(with_headers(server.http.post(url), &headers).body(body))
        .await;
    assert_root(&reply.expect_ok(), &account);

    // V2 with part of the parameters in the query and part in the body (both are signed).
    let params = server.v2_params("POST", &gci());
    let (query, form): (Vec<_>, Vec<_>) =
        params.iter().partition(|(k, _)| k.as_str() < "Signature");
    let enc = |pairs: Vec<(&String, &String)>| {
        pairs
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    cloudward_protocol::percent_encode_rfc3986(k),
                    cloudward_protocol::percent_encode_rfc3986(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    };
    let reply = server
        .send(
            server
                .http
                .post(format!("{}/?{}", server.base(), enc(query)))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(enc(form)),
        )
        .await;
    assert_root(&reply.expect_ok(), &account);

    // Every answer had its own request id.
    let a = server.v2_get(&gci(), &root()).await.expect_ok();
    let b = server.v2_get(&gci(), &root()).await.expect_ok();
    assert_ne!(a["RequestId"], b["RequestId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_xml_answers_in_xml() {
    let server = start().await;
    let mut params = gci();
    params.push(("Format", "XML"));
    let reply = server.v2_get(&params, &root()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.content_type().contains("xml"),
        "content-type {:?}",
        reply.content_type()
    );
    let body = reply.body.trim_start();
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(body.contains("<GetCallerIdentityResponse>"), "{body}");
    assert!(
        body.contains(&format!("<AccountId>{}</AccountId>", server.account_id)),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "<RequestId>{}</RequestId>",
            reply.request_id_header()
        )),
        "{body}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(body).is_err());

    // Lower-case `xml` is accepted too, and errors come as XML <Error> documents.
    let mut params = gci();
    params.push(("Format", "xml"));
    let reply = server
        .v2_get(&params, &Credentials::new(ROOT_ID, WRONG_SECRET))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let parsed = cloudward_protocol::parse_error_body(reply.body.as_bytes())
        .unwrap_or_else(|| panic!("not an error body: {}", reply.body));
    assert!(reply.body.contains("<Error>"), "{}", reply.body);
    assert_eq!(parsed.code, "SignatureDoesNotMatch");
    assert_eq!(
        parsed.request_id.as_deref(),
        Some(reply.request_id_header().as_str())
    );

    // An unsupported format is a clean error.
    let mut params = gci();
    params.push(("Format", "YAML"));
    server
        .v2_get(&params, &root())
        .await
        .expect_error(400, "InvalidParameter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_nonce_is_refused() {
    let server = start().await;
    let now = OffsetDateTime::now_utc();
    let n = nonce();
    server.v2_get_at(&gci(), &root(), &n, now).await.expect_ok();
    server
        .v2_get_at(&gci(), &root(), &n, now)
        .await
        .expect_error(400, "SignatureNonceUsed");
    // A different (validly signed) request with the same nonce is a replay too.
    let mut other = gci();
    other.push(("RegionId", "cn-shanghai"));
    server
        .v2_get_at(&other, &root(), &n, now)
        .await
        .expect_error(400, "SignatureNonceUsed");

    let n3 = nonce();
    server
        .v3_at("GetCallerIdentity", STS, &[], &root(), &n3, now)
        .await
        .expect_ok();
    server
        .v3_at("GetCallerIdentity", STS, &[], &root(), &n3, now)
        .await
        .expect_error(400, "SignatureNonceUsed");

    // A wrong signature must not burn the nonce of a later valid request.
    let n4 = nonce();
    server
        .v2_get_at(&gci(), &Credentials::new(ROOT_ID, WRONG_SECRET), &n4, now)
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    server
        .v2_get_at(&gci(), &root(), &n4, now)
        .await
        .expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_outside_the_window_are_refused() {
    let server = start().await;
    let now = OffsetDateTime::now_utc();
    for skew in [time::Duration::minutes(-20), time::Duration::minutes(20)] {
        server
            .v2_get_at(&gci(), &root(), &nonce(), now + skew)
            .await
            .expect_error(400, "InvalidTimeStamp.Expired");
        server
            .v3_at("GetCallerIdentity", STS, &[], &root(), &nonce(), now + skew)
            .await
            .expect_error(400, "InvalidTimeStamp.Expired");
    }
    // Inside the window (10 minutes either way) is fine.
    for skew in [time::Duration::minutes(-10), time::Duration::minutes(10)] {
        server
            .v2_get_at(&gci(), &root(), &nonce(), now + skew)
            .await
            .expect_ok();
    }
    // A malformed timestamp is a format error, not "expired".
    let mut params = server.v2_params("GET", &gci());
    params.insert("Timestamp".into(), "yesterday".into());
    let query = cloudward_protocol::encode_params(&params);
    let reply = server
        .send(server.http.get(format!("{}/?{query}", server.base())))
        .await;
    let body = reply.json();
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        body["Code"] == "InvalidTimeStamp.Format" || body["Code"] == "SignatureDoesNotMatch",
        "{}",
        reply.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_and_unknown_key() {
    let server = start().await;
    let wrong = Credentials::new(ROOT_ID, WRONG_SECRET);
    for reply in [
        server.v2_get(&gci(), &wrong).await,
        server.v2_post_form(&gci(), &wrong).await,
        server.v3("GetCallerIdentity", STS, &[], &wrong).await,
    ] {
        let body = reply.expect_error(400, "SignatureDoesNotMatch");
        for secret in [ROOT_SECRET, WRONG_SECRET] {
            assert!(
                !reply.body.contains(secret),
                "a secret is in the body: {}",
                reply.body
            );
            assert!(!format!("{:?}", reply.headers).contains(secret));
        }
        assert!(
            body["Message"]
                .as_str()
                .unwrap()
                .starts_with("Specified signature is not matched with our calculation."),
            "{body}"
        );
    }

    let unknown = Credentials::new("LTAI5tNoSuchKey000000000", ROOT_SECRET);
    server
        .v2_get(&gci(), &unknown)
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");
    server
        .v3("GetCallerIdentity", STS, &[], &unknown)
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");

    // A tampered request (parameter changed after signing) does not verify.
    let params = server.v2_params("GET", &gci());
    let query = cloudward_protocol::encode_params(&params) + "&RegionId=cn-shanghai";
    server
        .send(server.http.get(format!("{}/?{query}", server.base())))
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    // V2 signed for GET, sent as POST.
    let params = server.v2_params("GET", &gci());
    let query = cloudward_protocol::encode_params(&params);
    server
        .send(server.http.post(format!("{}/?{query}", server.base())))
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    // V3 with a body that is not the one hashed.
    let (url, headers, _) = server.v3_signed(
        "GetCallerIdentity",
        STS,
        &[],
        b"",
        None,
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    server
        .send(with_headers(server.http.post(url), &headers).body("X=1"))
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    // V3 with the action header swapped after signing.
    let (url, headers, body) = server.v3_signed(
        "GetCallerIdentity",
        STS,
        &[],
        b"",
        None,
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let swapped: Vec<_> = headers
        .into_iter()
        .map(|(k, v)| {
            if k == "x-acs-action" {
                (k, "AssumeRole".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    server
        .send(with_headers(server.http.post(url), &swapped).body(body))
        .await
        .expect_error(400, "SignatureDoesNotMatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_host_is_signed() {
    let server = start().await;
    let query = common::map(&[]);
    let extra = Vec::new();
    let signed = cloudward_protocol::sign_v3(
        &cloudward_protocol::V3Request {
            method: "POST",
            host: "sts.aliyuncs.com",
            action: "GetCallerIdentity",
            version: STS,
            query: &query,
            body: b"",
            content_type: None,
            extra_headers: &extra,
        },
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let headers: Vec<_> = signed
        .headers
        .into_iter()
        .filter(|(k, _)| k != "host")
        .collect();
    // Sent to 127.0.0.1:port: the Host the server sees is not the one that was signed.
    server
        .send(with_headers(
            server.http.post(format!("{}/", server.base())),
            &headers,
        ))
        .await
        .expect_error(400, "SignatureDoesNotMatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_action_version_and_method() {
    let server = start().await;
    server
        .v2_get(&[("Action", "NoSuchAction"), ("Version", STS)], &root())
        .await
        .expect_error(404, "InvalidAction.NotFound");
    server
        .v3("NoSuchAction", STS, &[], &root())
        .await
        .expect_error(404, "InvalidAction.NotFound");
    server
        .v2_get(
            &[("Action", "GetCallerIdentity"), ("Version", "2099-01-01")],
            &root(),
        )
        .await
        .expect_error(400, "InvalidVersion");
    server
        .v3("GetCallerIdentity", "2099-01-01", &[], &root())
        .await
        .expect_error(400, "InvalidVersion");

    for method in [
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let params = server.v2_params(method.as_str(), &gci());
        let query = cloudward_protocol::encode_params(&params);
        let reply = server
            .send(
                server
                    .http
                    .request(method.clone(), format!("{}/?{query}", server.base())),
            )
            .await;
        assert!(
            (400..500).contains(&reply.status),
            "{method}: {}",
            reply.body
        );
        let body = reply.json();
        assert!(body["Code"].is_string(), "{method}: {}", reply.body);
        assert_eq!(body["RequestId"], reply.request_id_header());
    }
    let reply = server
        .send(server.http.put(format!("{}/", server.base())).body("x"))
        .await;
    reply.expect_error(405, "UnsupportedHTTPMethod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clean_errors() {
    let server = start().await;
    let base = server.base();

    // Garbage Authorization headers.
    for auth in [
        "garbage",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=",
        "ACS3-HMAC-SHA256 Credential=LTAI5tTestRootKey0000001,SignedHeaders=host,Signature=zz",
        "ACS3-HMAC-SHA256 Credential=LTAI5tTestRootKey0000001,SignedHeaders=,Signature=00",
    ] {
        let reply = server
            .send(
                server
                    .http
                    .post(format!("{base}/"))
                    .header("x-acs-action", "GetCallerIdentity")
                    .header("x-acs-version", STS)
                    .header(
                        "x-acs-date",
                        cloudward_protocol::format_timestamp(OffsetDateTime::now_utc()),
                    )
                    .header("x-acs-signature-nonce", nonce())
                    .header("x-acs-content-sha256", cloudward_protocol::EMPTY_SHA256_HEX)
                    .header("authorization", auth),
            )
            .await;
        let body = reply.json();
        assert_eq!(reply.status, 400, "{auth:?}: {}", reply.body);
        assert!(
            body["Code"] == "IncompleteSignature" || body["Code"] == "UnsupportedSignatureMethod",
            "{auth:?}: {}",
            reply.body
        );
    }
    let reply = server
        .send(
            server
                .http
                .post(format!("{base}/"))
                .header("x-acs-action", "GetCallerIdentity")
                .header("x-acs-version", STS)
                .header("authorization", "garbage"),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);

    // Malformed percent-encoding, in the query and in a form body.
    for query in [
        "Action=GetCallerIdentity&Version=2015-04-01&AccessKeyId=%ZZ",
        "Action=Get%2",
        "Action=%FF%FE&Version=2015-04-01",
    ] {
        let reply = server
            .send(server.http.get(format!("{base}/?{query}")))
            .await;
        reply.expect_error(400, "InvalidParameter");
    }
    let reply = server
        .send(
            server
                .http
                .post(format!("{base}/"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("Action=GetCallerIdentity&Version=%G0"),
        )
        .await;
    reply.expect_error(400, "InvalidParameter");

    // Duplicate parameters: in the query, and across query and body — even when signed.
    let params = server.v2_params("GET", &gci());
    let query = cloudward_protocol::encode_params(&params) + "&Action=GetCallerIdentity";
    let body = server
        .send(server.http.get(format!("{base}/?{query}")))
        .await
        .expect_error(400, "InvalidParameter");
    assert!(
        body["Message"].as_str().unwrap().contains("Action"),
        "{body}"
    );
    let params = server.v2_params("POST", &gci());
    let query = cloudward_protocol::encode_params(&params);
    server
        .send(
            server
                .http
                .post(format!("{base}/?{query}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("Version=2015-04-01"),
        )
        .await
        .expect_error(400, "InvalidParameter");

    // No parameters at all, and a signature without an AccessKeyId.
    let reply = server.send(server.http.get(format!("{base}/"))).await;
    reply.expect_error(400, "MissingParameter");
    let mut params = server.v2_params("GET", &gci());
    params.remove("AccessKeyId");
    let query = cloudward_protocol::encode_params(&params);
    server
        .send(server.http.get(format!("{base}/?{query}")))
        .await
        .expect_error(400, "MissingParameter");

    // Unknown signature method / version.
    let mut params = server.v2_params("GET", &gci());
    params.insert("SignatureMethod".into(), "HMAC-MD5".into());
    let query = cloudward_protocol::encode_params(&params);
    let reply = server
        .send(server.http.get(format!("{base}/?{query}")))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);

    // A secret-looking parameter in a failed request is not echoed back.
    let query = format!(
        "Action=GetCallerIdentity&Version=2015-04-01&AccessKeySecret={ROOT_SECRET}&Bad=%ZZ"
    );
    let reply = server
        .send(server.http.get(format!("{base}/?{query}")))
        .await;
    assert!(!reply.body.contains(ROOT_SECRET), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_is_refused_with_an_envelope() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.max_body_bytes = 4096;
    let server = common::start_with(config, true).await.unwrap();

    // Just over the limit, and far over it.
    for size in [4097, 256 * 1024, 3 * 1024 * 1024] {
        let mut params = server.v2_params("POST", &gci());
        params.insert("Pad".into(), "x".repeat(size));
        let body = cloudward_protocol::encode_params(&params);
        let request = server
            .http
            .post(format!("{}/", server.base()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let text = response.text().await.unwrap_or_default();
                let reply = common::Reply {
                    status,
                    headers,
                    body: text,
                };
                assert_ne!(status, 500, "{}", reply.body);
                let body = reply.expect_error(reply.status, "InvalidParameter");
                assert!(
                    (400..500).contains(&reply.status),
                    "size {size}: {}",
                    reply.body
                );
                assert!(
                    body["Message"].as_str().unwrap().contains("too large"),
                    "{body}"
                );
            }
            // The server may close the connection before reading a huge body; what matters
            // is that it neither hangs nor answers 500. The answer is checked below.
            Err(err) => assert!(size > 1024 * 1024, "size {size}: {err}"),
        }
    }
    // A body just under the limit is accepted.
    let mut params = common::map(&gci());
    params.insert("Pad".into(), "x".repeat(3700));
    let params = cloudward_protocol::sign_v2_params(
        "POST",
        &params,
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let body = cloudward_protocol::encode_params(&params);
    assert!(body.len() <= 4096, "{}", body.len());
    let reply = server
        .send(
            server
                .http
                .post(format!("{}/", server.base()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await;
    reply.expect_ok();
    // The server still works.
    server.v2_get(&gci(), &root()).await.expect_ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_unknown_paths() {
    let server = start().await;
    let health = server.get_path("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body.trim(), "ok");

    server.v2_get(&gci(), &root()).await.expect_ok();
    server
        .v3("GetCallerIdentity", STS, &[], &root())
        .await
        .expect_ok();
    server
        .v2_get(&gci(), &Credentials::new(ROOT_ID, WRONG_SECRET))
        .await
        .expect_error(400, "SignatureDoesNotMatch");

    let metrics = server.get_path("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.content_type().starts_with("text/plain"));
    let text = metrics.body;
    assert!(
        text.contains("# TYPE cloudward_rpc_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"cloudward_rpc_requests_total{action="GetCallerIdentity",code="OK"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"code="SignatureDoesNotMatch"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("cloudward_rpc_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains(ROOT_SECRET));

    // Paths other than the RPC endpoint and the two probes are not served, and not as 500.
    let reply = server.get_path("/nope").await;
    assert_eq!(reply.status, 404, "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_all_succeed() {
    let server = std::sync::Arc::new(start().await);
    let mut tasks = Vec::new();
    for i in 0..64 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                server.v2_get(&gci(), &root()).await
            } else {
                server.v3("GetCallerIdentity", STS, &[], &root()).await
            }
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let reply = task.await.unwrap();
        let body = reply.expect_ok();
        assert!(ids.insert(body["RequestId"].as_str().unwrap().to_owned()));
    }
    assert_eq!(ids.len(), 64);
}

/// HTTP/2 clients send the host as `:authority`, not as a `host` header; V3 signs `host`, so
/// the server must take it from the URI authority. Reproduced here with h2c (prior knowledge).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_over_http2() {
    let server = start().await;
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    // V2 works over HTTP/2 (nothing of the transport is signed).
    let query = cloudward_protocol::sign_v2(
        "GET",
        &common::map(&gci()),
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let reply = server
        .send(h2.get(format!("{}/?{query}", server.base())))
        .await;
    reply.expect_ok();
    let (url, headers, body) = server.v3_signed(
        "GetCallerIdentity",
        STS,
        &[],
        b"",
        None,
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let reply = server
        .send(with_headers(h2.post(url), &headers).body(body))
        .await;
    reply.expect_ok();
}

/// `max_body_bytes` (`--max-body-bytes`) above 1 MiB is silently capped at 1 MiB: the server
/// builds `App::limits` from `Limits::default()`, whose `max_body_len` is 1 MiB, instead of
/// from the configured value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_body_bytes_above_one_mib_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.max_body_bytes = 2 * 1024 * 1024;
    let server = common::start_with(config, true).await.unwrap();
    let mut params = common::map(&gci());
    for i in 0..24 {
        params.insert(format!("Pad{i}"), "x".repeat(60_000));
    }
    let params = cloudward_protocol::sign_v2_params(
        "POST",
        &params,
        &root(),
        &nonce(),
        OffsetDateTime::now_utc(),
    );
    let body = cloudward_protocol::encode_params(&params);
    assert!(body.len() > 1024 * 1024 && body.len() < 2 * 1024 * 1024);
    server
        .send(
            server
                .http
                .post(format!("{}/", server.base()))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
        .expect_ok();
}
