//! Console sign-in at the service level (no HTTP), on SQLite and PostgreSQL: password-policy
//! errors and reuse prevention, the lock after `MaxLoginAttemps` (lifted after an hour or
//! by a reset), the leak lock after failures from many addresses (lifted only by a reset),
//! inactive profiles, expiry with and without `HardExpiry`, `LoginNetworkMasks`, the MFA and
//! bind-MFA steps with TOTP codes at a controlled time, single-use tickets, and sessions
//! (expiry, listing, revocation).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::IpAddr;

use cloudward_iam::ram::signin::{
    self, Attempt, Client, FAILURE_WINDOW_MS, LEAK_DISTINCT_ADDRESSES, LOCK_DURATION_MS, Next,
    Stage,
};
use cloudward_iam::ram::totp;
use cloudward_protocol::ApiError;
use cloudward_store::LoginProfileStatus;
use serde_json::Value;

use common::{Env, TestClock, env_with_clock, ram, stores};

/// 2026-01-01T00:00:00Z.
const START_MS: i64 = 1_767_225_600_000;
const PASSWORD: &str = "Initial-Passw0rd";

fn client(ip: &str) -> Client {
    Client {
        source_ip: ip.parse::<IpAddr>().unwrap(),
        user_agent: "signin-tests".to_owned(),
    }
}

fn local() -> Client {
    client("127.0.0.1")
}

async fn ok(env: &Env, action: &str, params: &[(&str, &str)]) -> Value {
    ram(env, action, params)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e:?}"))
}

async fn err(env: &Env, action: &str, params: &[(&str, &str)]) -> ApiError {
    ram(env, action, params).await.expect_err(action)
}

/// A user `name` with the initial password; MFA enforcement as given.
async fn user(env: &Env, name: &str, enforce_mfa: bool) {
    ok(env, "CreateUser", &[("UserName", name)]).await;
    ok(
        env,
        "CreateLoginProfile",
        &[("UserName", name), ("Password", PASSWORD)],
    )
    .await;
    ok(
        env,
        "SetSecurityPreference",
        &[(
            "EnforceMFAForLogin",
            if enforce_mfa { "true" } else { "false" },
        )],
    )
    .await;
}

fn login(env: &Env, name: &str) -> String {
    format!("{name}@{}", env.management)
}

async fn password(env: &Env, name: &str, password: &str, from: &Client) -> Attempt {
    signin::sign_in_password(&env.state, &login(env, name), password, from).await
}

fn code_of(attempt: &Attempt) -> String {
    match &attempt.result {
        Err(e) => e.code.clone(),
        Ok(Next::Session(_)) => "Session".to_owned(),
        Ok(Next::Step { stage, .. }) => stage.as_str().to_owned(),
    }
}

fn ticket(attempt: &Attempt) -> String {
    match &attempt.result {
        Ok(Next::Step { ticket, .. }) => ticket.as_str().to_owned(),
        other => panic!("expected a step, got {other:?}"),
    }
}

fn session(attempt: Attempt) -> signin::IssuedSession {
    match attempt.result {
        Ok(Next::Session(s)) => *s,
        other => panic!("expected a session, got {other:?}"),
    }
}

#[tokio::test]
async fn password_policy_errors_and_reuse_prevention() {
    for (backend, store) in stores("signin_policy").await {
        let (env, _clock) = env_with_clock(store, START_MS).await;
        ok(&env, "CreateUser", &[("UserName", "pam")]).await;
        let weak = err(
            &env,
            "CreateLoginProfile",
            &[("UserName", "pam"), ("Password", "short1A")],
        )
        .await;
        assert_eq!(
            (weak.code.as_str(), weak.http_status),
            ("InvalidParameter.Password.TooWeak", 400),
            "{backend}"
        );
        assert!(!weak.message.contains("short1A"), "password echoed");
        let status = err(
            &env,
            "CreateLoginProfile",
            &[
                ("UserName", "pam"),
                ("Password", PASSWORD),
                ("Status", "Paused"),
            ],
        )
        .await;
        assert_eq!(status.code, "InvalidParameter.Status", "{backend}");
        ok(
            &env,
            "SetPasswordPolicy",
            &[("PasswordReusePrevention", "2")],
        )
        .await;
        ok(
            &env,
            "CreateLoginProfile",
            &[("UserName", "pam"), ("Password", PASSWORD)],
        )
        .await;
        // The current password and the one before it are refused; older ones are not.
        let reuse = err(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "pam"), ("Password", PASSWORD)],
        )
        .await;
        assert_eq!(
            (reuse.code.as_str(), reuse.http_status),
            ("InvalidParameter.Password.Reused", 400),
            "{backend}"
        );
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "pam"), ("Password", "Second-Passw0rd")],
        )
        .await;
        assert_eq!(
            err(
                &env,
                "UpdateLoginProfile",
                &[("UserName", "pam"), ("Password", PASSWORD)],
            )
            .await
            .code,
            "InvalidParameter.Password.Reused"
        );
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "pam"), ("Password", "Third-Passw0rd")],
        )
        .await;
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "pam"), ("Password", PASSWORD)],
        )
        .await;
        // Status round trip; GetLoginProfile reports it.
        let got = ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "pam"), ("Status", "Inactive")],
        )
        .await;
        assert_eq!(got["LoginProfile"]["Status"], "Inactive");
        let got = ok(&env, "GetLoginProfile", &[("UserName", "pam")]).await;
        assert_eq!(got["LoginProfile"]["Status"], "Inactive");
        assert!(got["LoginProfile"].get("LastLoginTime").is_none());
    }
}

#[tokio::test]
async fn forced_password_change_during_signin_obeys_the_policy_and_history() {
    let (env, _clock) = env_with_clock(
        cloudward_store::Store::open_sqlite_memory().await.unwrap(),
        START_MS,
    )
    .await;
    user(&env, "cid", false).await;
    ok(
        &env,
        "SetPasswordPolicy",
        &[("PasswordReusePrevention", "3")],
    )
    .await;
    ok(
        &env,
        "UpdateLoginProfile",
        &[("UserName", "cid"), ("PasswordResetRequired", "true")],
    )
    .await;
    let first = password(&env, "cid", PASSWORD, &local()).await;
    assert_eq!(code_of(&first), "ChangePassword");
    let again =
        signin::sign_in_change_password(&env.state, &ticket(&first), PASSWORD, &local()).await;
    assert_eq!(code_of(&again), "InvalidParameter.Password.Reused");
    // A correctable error hands out a fresh ticket for the same step.
    let retry = again
        .retry_ticket
        .as_ref()
        .expect("retry ticket")
        .to_string();
    let weak = signin::sign_in_change_password(&env.state, &retry, "weak", &local()).await;
    assert_eq!(code_of(&weak), "InvalidParameter.Password.TooWeak");
    let retry = weak
        .retry_ticket
        .as_ref()
        .expect("retry ticket")
        .to_string();
    let done =
        signin::sign_in_change_password(&env.state, &retry, "Changed-Passw0rd", &local()).await;
    let s = session(done);
    assert!(!s.record.mfa_present);
    // The reset flag is cleared and the new password works directly.
    let next = password(&env, "cid", "Changed-Passw0rd", &local()).await;
    assert_eq!(code_of(&next), "Session");
}

#[tokio::test]
async fn lockout_after_max_attempts_lifts_after_an_hour_or_on_reset() {
    for (backend, store) in stores("signin_lockout").await {
        let (env, clock) = env_with_clock(store, START_MS).await;
        user(&env, "lou", false).await;
        ok(&env, "SetPasswordPolicy", &[("MaxLoginAttemps", "3")]).await;
        for i in 1..=2 {
            let a = password(&env, "lou", "Wrong-Passw0rd", &local()).await;
            assert_eq!(code_of(&a), "Signin.Failed", "{backend} attempt {i}");
            assert_eq!(a.result.as_ref().unwrap_err().http_status, 401);
        }
        let third = password(&env, "lou", "Wrong-Passw0rd", &local()).await;
        assert_eq!(code_of(&third), "Signin.UserLocked", "{backend}");
        // The right password is refused while locked.
        let right = password(&env, "lou", PASSWORD, &local()).await;
        assert_eq!(code_of(&right), "Signin.UserLocked", "{backend}");
        let got = ok(&env, "GetLoginProfile", &[("UserName", "lou")]).await;
        assert!(got["LoginProfile"]["LockedUntil"].is_string(), "{got}");
        // An hour later the lock is over.
        clock.set_ms(START_MS + LOCK_DURATION_MS + 1);
        let after = password(&env, "lou", PASSWORD, &local()).await;
        assert_eq!(code_of(&after), "Session", "{backend}");
        let got = ok(&env, "GetLoginProfile", &[("UserName", "lou")]).await;
        assert!(got["LoginProfile"]["LastLoginTime"].is_string(), "{got}");

        // Locked again; an administrator's password reset unlocks at once.
        for _ in 0..3 {
            password(&env, "lou", "Wrong-Passw0rd", &local()).await;
        }
        assert_eq!(
            code_of(&password(&env, "lou", PASSWORD, &local()).await),
            "Signin.UserLocked"
        );
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "lou"), ("Password", "Reset-Passw0rd")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "lou", "Reset-Passw0rd", &local()).await),
            "Session",
            "{backend}"
        );
    }
}

#[tokio::test]
async fn failures_from_many_addresses_lock_until_reset() {
    for (backend, store) in stores("signin_leak").await {
        let (env, clock) = env_with_clock(store, START_MS).await;
        user(&env, "lea", false).await;
        // Attempts alone would never lock (0 = unlimited): only the address signal does.
        ok(&env, "SetPasswordPolicy", &[("MaxLoginAttemps", "0")]).await;
        for i in 0..LEAK_DISTINCT_ADDRESSES - 1 {
            let from = client(&format!("203.0.113.{}", i + 1));
            let a = password(&env, "lea", "Wrong-Passw0rd", &from).await;
            assert_eq!(code_of(&a), "Signin.Failed", "{backend}");
            // Repeats from one address do not add addresses.
            password(&env, "lea", "Wrong-Passw0rd", &from).await;
        }
        let last = client("198.51.100.7");
        let a = password(&env, "lea", "Wrong-Passw0rd", &last).await;
        assert_eq!(code_of(&a), "Signin.UserLockedUntilReset", "{backend}");
        assert_eq!(a.result.as_ref().unwrap_err().http_status, 403);
        // The right password, from the usual address, hours later: still locked.
        clock.set_ms(START_MS + 5 * FAILURE_WINDOW_MS);
        let right = password(&env, "lea", PASSWORD, &local()).await;
        assert_eq!(code_of(&right), "Signin.UserLockedUntilReset", "{backend}");
        let got = ok(&env, "GetLoginProfile", &[("UserName", "lea")]).await;
        assert_eq!(got["LoginProfile"]["LockReason"], "PasswordLeakSuspected");
        // Changing only flags does not unlock; a new password does.
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "lea"), ("PasswordResetRequired", "false")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "lea", PASSWORD, &local()).await),
            "Signin.UserLockedUntilReset"
        );
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "lea"), ("Password", "Fresh-Passw0rd")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "lea", "Fresh-Passw0rd", &local()).await),
            "Session",
            "{backend}"
        );
    }
}

#[tokio::test]
async fn unknown_users_inactive_profiles_expiry_and_networks() {
    for (backend, store) in stores("signin_refusals").await {
        let (env, clock) = env_with_clock(store, START_MS).await;
        user(&env, "ivy", false).await;
        ok(&env, "CreateUser", &[("UserName", "noprofile")]).await;
        // Unknown account, unknown user, no profile and wrong password look the same.
        for (login_name, pw) in [
            ("ivy@999999999".to_owned(), PASSWORD),
            (login(&env, "nobody"), PASSWORD),
            (login(&env, "noprofile"), PASSWORD),
            (login(&env, "ivy"), "Wrong-Passw0rd"),
            ("no-at-sign".to_owned(), PASSWORD),
        ] {
            let a = signin::sign_in_password(&env.state, &login_name, pw, &local()).await;
            let e = a.result.as_ref().unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                (
                    "Signin.Failed",
                    "The account name or the password is incorrect."
                ),
                "{backend} {login_name}"
            );
        }
        // Account alias, with and without the logon domain suffix.
        ok(&env, "SetAccountAlias", &[("AccountAlias", "example-corp")]).await;
        for name in [
            "ivy@example-corp",
            "ivy@example-corp.onaliyun.com",
            "ivy@Example-Corp",
        ] {
            let a = signin::sign_in_password(&env.state, name, PASSWORD, &local()).await;
            assert_eq!(code_of(&a), "Session", "{backend} {name}");
        }
        // Inactive: refused (only after the right password).
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "ivy"), ("Status", "Inactive")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "ivy", PASSWORD, &local()).await),
            "Signin.LoginProfileInactive"
        );
        assert_eq!(
            code_of(&password(&env, "ivy", "Wrong-Passw0rd", &local()).await),
            "Signin.Failed"
        );
        // The store functions the idle-disabling job uses.
        let profiles = env
            .state
            .store
            .list_login_profiles(&env.management)
            .await
            .unwrap();
        assert_eq!(profiles.len(), 1);
        assert_eq!(profiles[0].status, LoginProfileStatus::Inactive);
        assert!(
            env.state
                .store
                .set_login_profile_status(
                    &env.management,
                    &profiles[0].user_id,
                    LoginProfileStatus::Active
                )
                .await
                .unwrap()
        );
        assert_eq!(
            code_of(&password(&env, "ivy", PASSWORD, &local()).await),
            "Session"
        );

        // Expiry without HardExpiry: the password must be changed during sign-in.
        ok(&env, "SetPasswordPolicy", &[("MaxPasswordAge", "30")]).await;
        clock.set_ms(START_MS + 31 * 86_400_000);
        let expired = password(&env, "ivy", PASSWORD, &local()).await;
        assert_eq!(
            code_of(&expired),
            Stage::ChangePassword.as_str(),
            "{backend}"
        );
        // With HardExpiry: refused until an administrator resets it.
        ok(&env, "SetPasswordPolicy", &[("HardExpiry", "true")]).await;
        let hard = password(&env, "ivy", PASSWORD, &local()).await;
        assert_eq!(code_of(&hard), "Signin.PasswordExpired", "{backend}");
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "ivy"), ("Password", "Renewed-Passw0rd")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "ivy", "Renewed-Passw0rd", &local()).await),
            "Session"
        );

        // LoginNetworkMasks.
        ok(
            &env,
            "SetSecurityPreference",
            &[("LoginNetworkMasks", "10.0.0.0/8;192.0.2.1")],
        )
        .await;
        let outside = password(&env, "ivy", "Renewed-Passw0rd", &local()).await;
        assert_eq!(code_of(&outside), "Signin.SourceIpNotAllowed", "{backend}");
        for inside in ["10.20.30.40", "192.0.2.1", "::ffff:10.1.1.1"] {
            let a = password(&env, "ivy", "Renewed-Passw0rd", &client(inside)).await;
            assert_eq!(code_of(&a), "Session", "{backend} {inside}");
        }
    }
}

/// The 6-digit code of the device seed at the clock's step `+ offset`.
fn code_at(seed_b32: &str, clock: &TestClock, offset: i64) -> String {
    let seed = totp::base32_decode(seed_b32).unwrap();
    let now = clock.0.load(std::sync::atomic::Ordering::SeqCst);
    totp::code(&seed, totp::step_at(now.div_euclid(1000)) + offset)
}

#[tokio::test]
async fn mfa_bind_then_verify_with_single_use_tickets_and_codes() {
    for (backend, store) in stores("signin_mfa").await {
        let (env, clock) = env_with_clock(store, START_MS).await;
        // Default security preference: MFA enforced.
        ok(&env, "CreateUser", &[("UserName", "max")]).await;
        ok(
            &env,
            "CreateLoginProfile",
            &[("UserName", "max"), ("Password", PASSWORD)],
        )
        .await;
        let pref = ok(&env, "GetSecurityPreference", &[]).await;
        assert_eq!(
            pref["SecurityPreference"]["LoginProfilePreference"]["EnforceMFAForLogin"],
            true
        );
        let first = password(&env, "max", PASSWORD, &local()).await;
        assert!(!first.facts.mfa_checked);
        let (bind_ticket, seed) = match &first.result {
            Ok(Next::Step {
                stage: Stage::BindMfa,
                ticket,
                bind: Some(bind),
                ..
            }) => {
                assert_eq!(
                    bind.serial_number,
                    format!("acs:ram::{}:mfa/max", env.management)
                );
                (ticket.to_string(), bind.base32_seed.to_string())
            }
            other => panic!("{backend}: expected BindMFA, got {other:?}"),
        };
        // Codes not consecutive: refused, with a retry ticket for the same device.
        let c0 = code_at(&seed, &clock, 0);
        let wrong = signin::sign_in_bind_mfa(&env.state, &bind_ticket, &c0, &c0, &local()).await;
        assert_eq!(code_of(&wrong), "CheckAuthenticationCodeFail", "{backend}");
        // The used ticket is gone.
        let reused = signin::sign_in_bind_mfa(
            &env.state,
            &bind_ticket,
            &code_at(&seed, &clock, -1),
            &c0,
            &local(),
        )
        .await;
        assert_eq!(code_of(&reused), "Signin.InvalidTicket", "{backend}");
        let retry = wrong.retry_ticket.as_ref().unwrap().to_string();
        let bound = signin::sign_in_bind_mfa(
            &env.state,
            &retry,
            &code_at(&seed, &clock, -1),
            &c0,
            &local(),
        )
        .await;
        assert!(bound.facts.mfa_checked);
        let s = session(bound);
        assert!(s.record.mfa_present, "{backend}");
        let info = ok(&env, "GetUserMFAInfo", &[("UserName", "max")]).await;
        assert_eq!(info["MFADevice"]["Type"], "VMFA");

        // Next sign-in: the MFA step. The code already used cannot be replayed.
        let second = password(&env, "max", PASSWORD, &local()).await;
        assert_eq!(code_of(&second), "MFA", "{backend}");
        let replay = signin::sign_in_mfa(&env.state, &ticket(&second), &c0, &local()).await;
        assert_eq!(code_of(&replay), "CheckAuthenticationCodeFail", "{backend}");
        let format = signin::sign_in_mfa(
            &env.state,
            replay.retry_ticket.as_ref().unwrap(),
            "12ab56",
            &local(),
        )
        .await;
        assert_eq!(
            code_of(&format),
            "InvalidParameter.AuthenticationCode.Format"
        );
        clock.set_ms(START_MS + 30_000);
        let next_code = code_at(&seed, &clock, 0);
        let ok_step = signin::sign_in_mfa(
            &env.state,
            format.retry_ticket.as_ref().unwrap(),
            &next_code,
            &local(),
        )
        .await;
        let s = session(ok_step);
        assert!(s.record.mfa_present);
        // Wrong tickets of every kind.
        let stale = signin::sign_in_mfa(&env.state, "not-a-ticket", &next_code, &local()).await;
        assert_eq!(code_of(&stale), "Signin.InvalidTicket");
        let third = password(&env, "max", PASSWORD, &local()).await;
        let wrong_stage = signin::sign_in_change_password(
            &env.state,
            &ticket(&third),
            "Other-Passw0rd1",
            &local(),
        )
        .await;
        assert_eq!(code_of(&wrong_stage), "Signin.InvalidTicket");
        let fourth = password(&env, "max", PASSWORD, &local()).await;
        clock.set_ms(START_MS + 30_000 + signin::TICKET_TTL_MS);
        let expired = signin::sign_in_mfa(
            &env.state,
            &ticket(&fourth),
            &code_at(&seed, &clock, 0),
            &local(),
        )
        .await;
        assert_eq!(code_of(&expired), "Signin.InvalidTicket", "{backend}");

        // Without enforcement a user with a device is still asked for a code; a user
        // without one signs in without MFA.
        ok(
            &env,
            "SetSecurityPreference",
            &[("EnforceMFAForLogin", "false")],
        )
        .await;
        assert_eq!(
            code_of(&password(&env, "max", PASSWORD, &local()).await),
            "MFA"
        );
        user(&env, "nomfa", false).await;
        let plain = session(password(&env, "nomfa", PASSWORD, &local()).await);
        assert!(!plain.record.mfa_present);
    }
}

#[tokio::test]
async fn sessions_expire_and_are_listed_and_revoked() {
    for (backend, store) in stores("signin_sessions").await {
        let (env, clock) = env_with_clock(store, START_MS).await;
        user(&env, "sam", false).await;
        ok(
            &env,
            "SetSecurityPreference",
            &[("LoginSessionDuration", "2")],
        )
        .await;
        let a = session(password(&env, "sam", PASSWORD, &local()).await);
        let b = session(password(&env, "sam", PASSWORD, &client("192.0.2.9")).await);
        assert_eq!(
            a.record.expires_at_ms - a.record.created_at_ms,
            2 * 3_600_000
        );
        let live = signin::session_for_token(&env.state, &a.token)
            .await
            .unwrap()
            .expect("live session");
        assert_eq!(
            live.principal.access_key_id,
            format!("CONSOLE.{}", a.record.session_id)
        );
        assert!(signin::csrf_matches(&a.token, &a.csrf_token));
        assert!(!signin::csrf_matches(&a.token, &b.csrf_token));
        assert!(
            signin::session_for_token(&env.state, "unknown-token")
                .await
                .unwrap()
                .is_none()
        );

        let listed = ok(&env, "ListConsoleSessions", &[("UserName", "sam")]).await;
        let items = listed["ConsoleSessions"]["ConsoleSession"]
            .as_array()
            .unwrap();
        assert_eq!(items.len(), 2, "{backend}: {listed}");
        assert_eq!(items[0]["UserName"], "sam");
        assert!(!listed.to_string().contains(a.token.as_str()));

        // Revoke one by id, then the rest by user.
        let revoked = ok(
            &env,
            "RevokeConsoleSessions",
            &[("SessionId", &a.record.session_id)],
        )
        .await;
        assert_eq!(revoked["RevokedCount"], 1);
        assert!(
            signin::session_for_token(&env.state, &a.token)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            err(
                &env,
                "RevokeConsoleSessions",
                &[("SessionId", &a.record.session_id)]
            )
            .await
            .code,
            "EntityNotExist.ConsoleSession"
        );
        assert_eq!(
            err(&env, "RevokeConsoleSessions", &[]).await.code,
            "MissingParameter"
        );
        ok(&env, "RevokeConsoleSessions", &[("UserName", "sam")]).await;
        assert!(
            signin::session_for_token(&env.state, &b.token)
                .await
                .unwrap()
                .is_none()
        );

        // Expiry.
        let c = session(password(&env, "sam", PASSWORD, &local()).await);
        clock.set_ms(START_MS + 2 * 3_600_000 - 1);
        assert!(
            signin::session_for_token(&env.state, &c.token)
                .await
                .unwrap()
                .is_some()
        );
        clock.set_ms(START_MS + 2 * 3_600_000);
        assert!(
            signin::session_for_token(&env.state, &c.token)
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );
        // A password reset ends the sessions of the user.
        let d = session(password(&env, "sam", PASSWORD, &local()).await);
        ok(
            &env,
            "UpdateLoginProfile",
            &[("UserName", "sam"), ("Password", "Another-Passw0rd")],
        )
        .await;
        assert!(
            signin::session_for_token(&env.state, &d.token)
                .await
                .unwrap()
                .is_none()
        );
        // Sign-out ends exactly that session.
        let e = session(password(&env, "sam", "Another-Passw0rd", &local()).await);
        assert!(signin::sign_out(&env.state, &e.token).await.unwrap());
        assert!(
            signin::session_for_token(&env.state, &e.token)
                .await
                .unwrap()
                .is_none()
        );
    }
}
