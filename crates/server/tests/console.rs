//! Console sign-in end to end over HTTP against a real server: the page and its CSP, sign-in
//! without and with MFA (binding a device inside the flow, then verifying codes), the
//! effect on a policy with an `acs:MFAPresent` condition through `POST /console/api/call`,
//! CSRF and cookie checks, revocation by an administrator, sign-out, expiry, and the
//! `ConsoleSignin` audit events with every secret kept out of the audit log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use cloudward_iam::ram::totp;
use cloudward_service::Clock as _;
use serde_json::{Value, json};

use common::{Reply, TestServer, audit_bytes, audit_events, contains, root};

const RAM: &str = "2015-05-01";
const PASSWORD: &str = "Alice-Passw0rd!";

/// Real time plus an offset the test moves forward.
#[derive(Debug, Default)]
struct OffsetClock(AtomicI64);

impl cloudward_service::Clock for OffsetClock {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
            + time::Duration::milliseconds(self.0.load(Ordering::SeqCst))
    }
}

impl OffsetClock {
    fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// The TOTP step of the server's now, plus `offset`.
    fn code(&self, seed_b32: &str, offset: i64) -> String {
        let seed = totp::base32_decode(seed_b32).unwrap();
        let now = self.now().unix_timestamp();
        totp::code(&seed, totp::step_at(now) + offset)
    }
}

async fn rpc(server: &TestServer, action: &str, params: &[(&str, &str)]) -> Value {
    let mut all = vec![("Action", action), ("Version", RAM)];
    all.extend_from_slice(params);
    server.v2_get(&all, &root()).await.expect_ok()
}

/// POSTs JSON to a console path with an optional cookie and CSRF token.
async fn post(
    server: &TestServer,
    path: &str,
    body: &Value,
    cookie: Option<&str>,
    csrf: Option<&str>,
) -> Reply {
    let mut request = server
        .http
        .post(format!("{}{path}", server.base()))
        .header("content-type", "application/json")
        .header("user-agent", "console-e2e")
        .body(body.to_string());
    if let Some(token) = cookie {
        request = request.header("cookie", format!("other=1; cloudward_console={token}"));
    }
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    server.send(request).await
}

async fn get_session(server: &TestServer, cookie: &str) -> Reply {
    server
        .send(
            server
                .http
                .get(format!("{}/console/api/session", server.base()))
                .header("cookie", format!("cloudward_console={cookie}")),
        )
        .await
}

/// A signed-in browser: the cookie token and the CSRF token.
struct Browser {
    token: String,
    csrf: String,
    session: Value,
}

fn signed_in(reply: &Reply) -> Browser {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["NextStep"], "Done", "{body}");
    let cookie = reply
        .headers
        .get("set-cookie")
        .expect("session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["Path=/console", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("cloudward_console=")
        .unwrap()
        .to_owned();
    assert!(token.len() >= 43, "32 random bytes");
    Browser {
        token,
        csrf: body["CsrfToken"].as_str().unwrap().to_owned(),
        session: body["Session"].clone(),
    }
}

async fn console_call(
    server: &TestServer,
    browser: &Browser,
    action: &str,
    params: Value,
) -> Reply {
    post(
        server,
        "/console/api/call",
        &json!({ "Version": RAM, "Action": action, "Parameters": params }),
        Some(&browser.token),
        Some(&browser.csrf),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_signin_end_to_end() {
    let clock = Arc::new(OffsetClock::default());
    let mut server = common::start_clocked(clock.clone()).await;
    let account = server.account_id.clone();
    let login = format!("alice@{account}");

    // Alice: a password, GetUser always, ListUsers only with MFA.
    rpc(&server, "CreateUser", &[("UserName", "alice")]).await;
    rpc(
        &server,
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", PASSWORD)],
    )
    .await;
    let doc = json!({
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": "ram:GetUser", "Resource": "*"},
            {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*",
             "Condition": {"Bool": {"acs:MFAPresent": "true"}}}
        ]
    })
    .to_string();
    rpc(
        &server,
        "CreatePolicy",
        &[("PolicyName", "console-mfa"), ("PolicyDocument", &doc)],
    )
    .await;
    rpc(
        &server,
        "AttachPolicyToUser",
        &[
            ("PolicyType", "Custom"),
            ("PolicyName", "console-mfa"),
            ("UserName", "alice"),
        ],
    )
    .await;
    rpc(
        &server,
        "SetSecurityPreference",
        &[("EnforceMFAForLogin", "false")],
    )
    .await;

    // The page: self-contained, strict CSP.
    let page = server.get_path("/signin").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type().starts_with("text/html"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'sha256-",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing: {csp}");
    }
    assert!(!page.body.contains("http://") && !page.body.contains("https://"));
    assert!(page.body.contains("/console/api/signin"));

    // Wrong password, then the right one without MFA.
    let wrong = post(
        &server,
        "/console/api/signin",
        &json!({"LoginAccount": login, "Password": "Wrong-Passw0rd!"}),
        None,
        None,
    )
    .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["Code"], "Signin.Failed");
    let plain = signed_in(
        &post(
            &server,
            "/console/api/signin",
            &json!({"LoginAccount": login, "Password": PASSWORD}),
            None,
            None,
        )
        .await,
    );
    assert_eq!(plain.session["MFAPresent"], false);
    let who = get_session(&server, &plain.token).await;
    assert_eq!(who.status, 200, "{}", who.body);
    assert_eq!(who.json()["Session"]["LoginAccount"], login);
    assert_eq!(who.json()["Session"]["MFAPresent"], false);
    assert_eq!(who.json()["CsrfToken"], plain.csrf);

    // CSRF and cookie checks on state-changing calls.
    let call_body =
        json!({"Version": RAM, "Action": "GetUser", "Parameters": {"UserName": "alice"}});
    let no_csrf = post(
        &server,
        "/console/api/call",
        &call_body,
        Some(&plain.token),
        None,
    )
    .await;
    assert_eq!(
        (no_csrf.status, no_csrf.json()["Code"].clone()),
        (403, json!("Console.InvalidCsrfToken"))
    );
    let bad_csrf = post(
        &server,
        "/console/api/call",
        &call_body,
        Some(&plain.token),
        Some(&"0".repeat(64)),
    )
    .await;
    assert_eq!(bad_csrf.status, 403);
    let no_cookie = post(
        &server,
        "/console/api/call",
        &call_body,
        None,
        Some(&plain.csrf),
    )
    .await;
    assert_eq!(
        (no_cookie.status, no_cookie.json()["Code"].clone()),
        (401, json!("Console.NotSignedIn"))
    );
    let form = server
        .send(
            server
                .http
                .post(format!("{}/console/api/call", server.base()))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", format!("cloudward_console={}", plain.token))
                .header("x-csrf-token", &plain.csrf)
                .body("Action=GetUser"),
        )
        .await;
    assert_eq!(form.status, 415, "{}", form.body);

    // Without MFA: GetUser allowed, ListUsers denied by the acs:MFAPresent condition.
    let got = console_call(&server, &plain, "GetUser", json!({"UserName": "alice"})).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.json()["User"]["UserName"], "alice");
    let denied = console_call(&server, &plain, "ListUsers", json!({})).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.json()["Code"], "NoPermission");

    // MFA enforced: the password step leads to binding a virtual MFA device.
    rpc(
        &server,
        "SetSecurityPreference",
        &[("EnforceMFAForLogin", "true")],
    )
    .await;
    let step = post(
        &server,
        "/console/api/signin",
        &json!({"LoginAccount": login, "Password": PASSWORD}),
        None,
        None,
    )
    .await;
    let body = step.expect_ok();
    assert_eq!(body["NextStep"], "BindMFA", "{body}");
    assert!(step.headers.get("set-cookie").is_none());
    let bind_ticket = body["Ticket"].as_str().unwrap().to_owned();
    let seed = body["VirtualMFADevice"]["Base32StringSeed"]
        .as_str()
        .unwrap()
        .to_owned();
    let (b1, b2) = (clock.code(&seed, -1), clock.code(&seed, 0));
    let mfa = signed_in(
        &post(
            &server,
            "/console/api/signin/bind-mfa",
            &json!({"Ticket": bind_ticket, "AuthenticationCode1": b1, "AuthenticationCode2": b2}),
            None,
            None,
        )
        .await,
    );
    assert_eq!(mfa.session["MFAPresent"], true);
    let reused = post(
        &server,
        "/console/api/signin/bind-mfa",
        &json!({"Ticket": bind_ticket, "AuthenticationCode1": b1, "AuthenticationCode2": b2}),
        None,
        None,
    )
    .await;
    assert_eq!(reused.json()["Code"], "Signin.InvalidTicket");
    let listed = console_call(&server, &mfa, "ListUsers", json!({})).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(
        listed.json()["Users"]["User"][0]["UserName"],
        "alice",
        "{}",
        listed.body
    );
    // The same policy still refuses the session signed in without MFA.
    assert_eq!(
        console_call(&server, &plain, "ListUsers", json!({}))
            .await
            .status,
        403
    );

    // An administrator revokes every session of alice.
    let sessions = rpc(&server, "ListConsoleSessions", &[("UserName", "alice")]).await;
    assert_eq!(
        sessions["ConsoleSessions"]["ConsoleSession"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{sessions}"
    );
    let revoked = rpc(&server, "RevokeConsoleSessions", &[("UserName", "alice")]).await;
    assert_eq!(revoked["RevokedCount"], 2);
    let after = console_call(&server, &mfa, "GetUser", json!({"UserName": "alice"})).await;
    assert_eq!(
        (after.status, after.json()["Code"].clone()),
        (401, json!("Console.NotSignedIn"))
    );
    assert_eq!(get_session(&server, &plain.token).await.status, 401);

    // The bound device is now asked for: the MFA step.
    let step = post(
        &server,
        "/console/api/signin",
        &json!({"LoginAccount": login, "Password": PASSWORD}),
        None,
        None,
    )
    .await
    .expect_ok();
    assert_eq!(step["NextStep"], "MFA");
    assert!(step.get("VirtualMFADevice").is_none());
    let wrong_code = post(
        &server,
        "/console/api/signin/mfa",
        &json!({"Ticket": step["Ticket"], "AuthenticationCode": b2}),
        None,
        None,
    )
    .await;
    assert_eq!(wrong_code.status, 400);
    let wrong_json = wrong_code.json();
    assert_eq!(
        wrong_json["Code"], "CheckAuthenticationCodeFail",
        "replayed code"
    );
    let mfa_code = clock.code(&seed, 1);
    let kept = signed_in(
        &post(
            &server,
            "/console/api/signin/mfa",
            &json!({"Ticket": wrong_json["Ticket"], "AuthenticationCode": mfa_code}),
            None,
            None,
        )
        .await,
    );
    assert_eq!(kept.session["MFAPresent"], true);

    // Sign-out needs the CSRF token, ends exactly that session and clears the cookie.
    clock.advance_ms(90_000);
    let step = post(
        &server,
        "/console/api/signin",
        &json!({"LoginAccount": login, "Password": PASSWORD}),
        None,
        None,
    )
    .await
    .expect_ok();
    let leaving = signed_in(
        &post(
            &server,
            "/console/api/signin/mfa",
            &json!({"Ticket": step["Ticket"], "AuthenticationCode": clock.code(&seed, 0)}),
            None,
            None,
        )
        .await,
    );
    let refused = post(
        &server,
        "/console/api/signout",
        &json!({}),
        Some(&leaving.token),
        None,
    )
    .await;
    assert_eq!(refused.status, 403);
    let out = post(
        &server,
        "/console/api/signout",
        &json!({}),
        Some(&leaving.token),
        Some(&leaving.csrf),
    )
    .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(get_session(&server, &leaving.token).await.status, 401);
    assert_eq!(get_session(&server, &kept.token).await.status, 200);

    // Expiry: LoginSessionDuration defaults to 6 hours.
    clock.advance_ms(6 * 3_600_000);
    let expired = get_session(&server, &kept.token).await;
    assert_eq!(
        (expired.status, expired.json()["Code"].clone()),
        (401, json!("Console.NotSignedIn"))
    );

    // Audit: one ConsoleSignin event per step, successes and failures, no secrets.
    let events = audit_events(&server.data_dir);
    let signins: Vec<&Value> = events
        .iter()
        .filter(|(name, _, _)| name == "ConsoleSignin")
        .map(|(_, event, _)| event)
        .collect();
    // wrong, plain, bind step, bind, reused bind, password, wrong code, code, password, code
    assert_eq!(signins.len(), 10, "{signins:#?}");
    // Sign-out is audited too: the refused one (no CSRF token) and the real one.
    let signouts: Vec<&Value> = events
        .iter()
        .filter(|(name, _, _)| name == "ConsoleSignout")
        .map(|(_, event, _)| event)
        .collect();
    assert_eq!(signouts.len(), 2, "{signouts:#?}");
    assert_eq!(
        signouts[0]["errorCode"], "Console.InvalidCsrfToken",
        "{:#?}",
        signouts[0]
    );
    assert!(signouts[1]["errorCode"].is_null(), "{:#?}", signouts[1]);
    assert_eq!(signouts[1]["userIdentity"]["type"], "ram-user");
    assert_eq!(signouts[1]["eventType"], "ConsoleSignin");
    for event in &signins {
        assert_eq!(event["eventType"], "ConsoleSignin");
        // A used ticket names nobody: the account is not known from it any more.
        let expected = if event["errorCode"] == "Signin.InvalidTicket" {
            ""
        } else {
            login.as_str()
        };
        assert_eq!(
            event["additionalEventData"]["loginAccount"], expected,
            "{event}"
        );
        assert_eq!(event["sourceIpAddress"], "127.0.0.1");
        assert_eq!(event["userAgent"], "console-e2e");
        assert!(
            event
                .get("requestParameters")
                .is_none_or(|p| p.as_object().is_none_or(|m| m.is_empty())),
            "{event}"
        );
    }
    let failure = signins[0];
    assert_eq!(failure["errorCode"], "Signin.Failed");
    assert!(failure["errorMessage"].is_string());
    assert_eq!(failure["additionalEventData"]["isMFAChecked"], "false");
    let success_plain = signins[1];
    assert!(success_plain.get("errorCode").is_none());
    assert_eq!(
        success_plain["additionalEventData"]["isMFAChecked"],
        "false"
    );
    assert_eq!(success_plain["userIdentity"]["userName"], "alice");
    let bound = signins[3];
    assert_eq!(
        bound["additionalEventData"]["isMFAChecked"], "true",
        "{bound}"
    );
    assert_eq!(
        bound["responseElements"]["SessionId"],
        mfa.session["SessionId"]
    );
    assert_eq!(signins[6]["errorCode"], "CheckAuthenticationCodeFail");
    // Console calls are audited as API calls of alice, with MFA as signed in.
    let calls: Vec<&Value> = events
        .iter()
        .filter(|(name, event, _)| {
            name == "ListUsers" && event["userIdentity"]["userName"] == "alice"
        })
        .map(|(_, event, _)| event)
        .collect();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(calls[0]["errorCode"], "NoPermission");
    assert_eq!(
        calls[1]["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
        json!("true"),
        "{}",
        calls[1]
    );
    let bytes = audit_bytes(&server.data_dir);
    for secret in [
        PASSWORD,
        "Wrong-Passw0rd!",
        plain.token.as_str(),
        plain.csrf.as_str(),
        mfa.token.as_str(),
        kept.token.as_str(),
        leaving.token.as_str(),
        bind_ticket.as_str(),
        seed.as_str(),
        mfa_code.as_str(),
    ] {
        assert!(
            !contains(&bytes, secret),
            "secret in the audit log: {secret}"
        );
    }
    let _tmp = server.take_tmp();
    server.stop().await.unwrap();
}

/// The redaction lists name every sign-in secret: the iam list passed to
/// `AuditLog::record` and the trail registry entry both redact them, wherever they appear.
#[test]
fn signin_secret_fields_are_redacted() {
    use cloudward_trail::redact::{REDACTED, secret_fields};
    let registry = secret_fields(
        cloudward_server::console::SIGNIN_SERVICE_NAME,
        "ConsoleSignin",
    );
    for field in cloudward_iam::ram::SIGNIN_SECRETS {
        assert!(
            registry.contains(field),
            "{field} not in the trail registry"
        );
    }
    let params: cloudward_service::Params = cloudward_iam::ram::SIGNIN_SECRETS
        .iter()
        .map(|f| ((*f).to_owned(), format!("secret-{f}")))
        .chain([("LoginAccount".to_owned(), "alice@1".to_owned())])
        .collect();
    let context = cloudward_service::RequestContext {
        request_id: "R".to_owned(),
        source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
        secure_transport: false,
        received_at: time::OffsetDateTime::now_utc(),
        user_agent: "t".to_owned(),
        mfa_present: false,
    };
    let ok = json!({"Ticket": "secret-ticket", "SessionId": "cs-1"});
    let facts = cloudward_audit::CallFacts {
        spec: None,
        version: None,
        action: Some("ConsoleSignin"),
        product: Some(cloudward_server::console::SIGNIN_SERVICE_NAME),
        caller: None,
        claimed_account: None,
        claimed_access_key_id: None,
        params: Some(&params),
        result: Ok(&ok),
        context: &context,
        region: "cn-hangzhou",
    };
    let mut event = cloudward_audit::build_event(&facts).unwrap();
    event.response_elements = Some(ok.clone());
    // With the registry alone (no extra list) and with the list alone (another service name).
    let by_registry = event.clone().redact_with(&[]).unwrap().into_inner();
    let mut renamed = event;
    renamed.service_name = "Other".to_owned();
    let by_list = renamed
        .redact_with(cloudward_iam::ram::SIGNIN_SECRETS)
        .unwrap()
        .into_inner();
    for redacted in [by_registry, by_list] {
        for field in cloudward_iam::ram::SIGNIN_SECRETS {
            assert_eq!(redacted.request_parameters[*field], REDACTED, "{field}");
        }
        assert_eq!(redacted.request_parameters["LoginAccount"], "alice@1");
        let response = redacted.response_elements.unwrap();
        assert_eq!(response["Ticket"], REDACTED);
        assert_eq!(response["SessionId"], "cs-1");
    }
}

/// One source address gets a bounded number of sign-in attempts per minute (each costs a
/// password hash); the refusal is cheap, documented and audited like any attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signin_attempts_are_rate_limited_per_address() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = common::config(tmp.path());
    config.signin_attempts_per_minute = 3;
    let server = common::start_with(config, true).await.unwrap();
    let login = format!("nobody@{}", server.account_id);
    let mut codes = Vec::new();
    for _ in 0..4 {
        let reply = post(
            &server,
            "/console/api/signin",
            &json!({"LoginAccount": login, "Password": "Wrong-Passw0rd!"}),
            None,
            None,
        )
        .await;
        codes.push((
            reply.status,
            reply.json()["Code"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(
        codes,
        vec![
            (401, "Signin.Failed".to_owned()),
            (401, "Signin.Failed".to_owned()),
            (401, "Signin.Failed".to_owned()),
            (429, "Throttling.Signin".to_owned()),
        ]
    );
    let events = audit_events(&server.data_dir);
    let throttled = events
        .iter()
        .filter(|(name, event, _)| {
            name == "ConsoleSignin" && event["errorCode"] == "Throttling.Signin"
        })
        .count();
    assert_eq!(throttled, 1);
    server.stop().await.unwrap();
}
