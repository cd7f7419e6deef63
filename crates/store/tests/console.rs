//! Conformance of the console sign-in storage (migration 6) on every backend: login-profile
//! status, last sign-in and locks, password history pruning, failure counting, single-use
//! tickets, sessions (lookup by digest, listing, revocation) and the MFA step guard.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cloudward_store::{
    AccountKind, AccountRecord, ConsoleSessionRecord, LoginProfileRecord, LoginProfileStatus,
    MfaDeviceRecord, PASSWORD_HISTORY_KEEP, SigninTicketRecord, Store,
};

const ACCT: &str = "1000000000000001";
const OTHER: &str = "1000000000000002";

async fn accounts(store: &Store) {
    for id in [ACCT, OTHER] {
        store
            .insert_account(&AccountRecord {
                account_id: id.to_owned(),
                display_name: id.to_owned(),
                kind: AccountKind::Member,
                created_at_ms: 1,
            })
            .await
            .unwrap();
    }
}

fn profile(account: &str, user: &str) -> LoginProfileRecord {
    LoginProfileRecord {
        account_id: account.to_owned(),
        user_id: user.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        password_reset_required: false,
        mfa_bind_required: false,
        created_at_ms: 10,
        updated_at_ms: 10,
        status: LoginProfileStatus::Active,
        last_login_at_ms: None,
        password_changed_at_ms: 10,
        locked_until_ms: None,
        leak_locked_at_ms: None,
    }
}

#[tokio::test]
async fn login_profiles_status_locks_and_last_login() {
    for (backend, store) in common::stores("console_profiles").await {
        accounts(&store).await;
        store
            .insert_login_profile(&profile(ACCT, "u2"))
            .await
            .unwrap();
        store
            .insert_login_profile(&profile(ACCT, "u1"))
            .await
            .unwrap();
        store
            .insert_login_profile(&profile(OTHER, "u9"))
            .await
            .unwrap();
        let listed = store.list_login_profiles(ACCT).await.unwrap();
        let ids: Vec<&str> = listed.iter().map(|p| p.user_id.as_str()).collect();
        assert_eq!(ids, ["u1", "u2"], "{backend}: scoped and ordered");
        assert_eq!(listed[0].status, LoginProfileStatus::Active);

        assert!(
            store
                .set_login_profile_status(ACCT, "u1", LoginProfileStatus::Inactive)
                .await
                .unwrap()
        );
        assert!(
            !store
                .set_login_profile_status(ACCT, "u9", LoginProfileStatus::Inactive)
                .await
                .unwrap(),
            "{backend}: another account's profile is not touched"
        );
        store
            .set_login_lock(ACCT, "u1", Some(500), Some(400))
            .await
            .unwrap();
        store.record_login_success(ACCT, "u1", 777).await.unwrap();
        let got = store.get_login_profile(ACCT, "u1").await.unwrap().unwrap();
        assert_eq!(got.status, LoginProfileStatus::Inactive);
        assert_eq!(got.last_login_at_ms, Some(777));
        assert_eq!(
            (got.locked_until_ms, got.leak_locked_at_ms),
            (Some(500), Some(400))
        );
        // A profile rewrite keeps the locks and the last sign-in.
        let mut changed = got.clone();
        changed.password_reset_required = true;
        changed.password_changed_at_ms = 900;
        changed.status = LoginProfileStatus::Active;
        assert!(store.update_login_profile(&changed).await.unwrap());
        let got = store.get_login_profile(ACCT, "u1").await.unwrap().unwrap();
        assert_eq!(got.password_changed_at_ms, 900);
        assert_eq!(got.status, LoginProfileStatus::Active);
        assert_eq!(got.last_login_at_ms, Some(777));
        assert_eq!(got.leak_locked_at_ms, Some(400));
        store.set_login_lock(ACCT, "u1", None, None).await.unwrap();
        let got = store.get_login_profile(ACCT, "u1").await.unwrap().unwrap();
        assert_eq!((got.locked_until_ms, got.leak_locked_at_ms), (None, None));
    }
}

#[tokio::test]
async fn password_history_keeps_the_newest() {
    for (backend, store) in common::stores("console_history").await {
        accounts(&store).await;
        for i in 0..PASSWORD_HISTORY_KEEP + 3 {
            store
                .add_password_history(ACCT, "u1", &format!("hash-{i}"), i)
                .await
                .unwrap();
        }
        store
            .add_password_history(OTHER, "u1", "other", 1)
            .await
            .unwrap();
        let newest = store.password_history(ACCT, "u1", 2).await.unwrap();
        let last = PASSWORD_HISTORY_KEEP + 2;
        assert_eq!(
            newest,
            [format!("hash-{last}"), format!("hash-{}", last - 1)],
            "{backend}"
        );
        let all = store.password_history(ACCT, "u1", 100).await.unwrap();
        assert_eq!(all.len() as i64, PASSWORD_HISTORY_KEEP, "{backend}: pruned");
        store.delete_password_history(ACCT, "u1").await.unwrap();
        assert!(
            store
                .password_history(ACCT, "u1", 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.password_history(OTHER, "u1", 5).await.unwrap(),
            ["other"]
        );
    }
}

#[tokio::test]
async fn failures_are_counted_per_window_and_address() {
    for (backend, store) in common::stores("console_failures").await {
        accounts(&store).await;
        for (at, ip) in [(100, "a"), (200, "a"), (300, "b"), (400, "c")] {
            store
                .record_signin_failure(ACCT, "u1", ip, at)
                .await
                .unwrap();
        }
        store
            .record_signin_failure(OTHER, "u1", "z", 400)
            .await
            .unwrap();
        assert_eq!(
            store.signin_failures_since(ACCT, "u1", 0).await.unwrap(),
            (4, 3),
            "{backend}"
        );
        assert_eq!(
            store.signin_failures_since(ACCT, "u1", 200).await.unwrap(),
            (3, 3)
        );
        assert_eq!(
            store.signin_failures_since(ACCT, "u1", 301).await.unwrap(),
            (1, 1)
        );
        store.clear_signin_failures(ACCT, "u1").await.unwrap();
        assert_eq!(
            store.signin_failures_since(ACCT, "u1", 0).await.unwrap(),
            (0, 0)
        );
        assert_eq!(
            store.signin_failures_since(OTHER, "u1", 0).await.unwrap(),
            (1, 1)
        );
    }
}

fn ticket(digest: &str, created: i64) -> SigninTicketRecord {
    SigninTicketRecord {
        ticket_digest: digest.to_owned(),
        account_id: ACCT.to_owned(),
        user_id: "u1".to_owned(),
        stage: "MFA".to_owned(),
        mfa_verified: false,
        device_name: Some("u1-phone".to_owned()),
        created_at_ms: created,
        expires_at_ms: created + 1000,
    }
}

#[tokio::test]
async fn tickets_are_taken_once_and_expire() {
    for (backend, store) in common::stores("console_tickets").await {
        accounts(&store).await;
        store.insert_signin_ticket(&ticket("d1", 0)).await.unwrap();
        store.insert_signin_ticket(&ticket("d2", 0)).await.unwrap();
        let taken = store.take_signin_ticket("d1", 500).await.unwrap().unwrap();
        assert_eq!(taken, ticket("d1", 0), "{backend}");
        assert!(
            store.take_signin_ticket("d1", 500).await.unwrap().is_none(),
            "single use"
        );
        assert!(
            store
                .take_signin_ticket("d2", 1000)
                .await
                .unwrap()
                .is_none(),
            "{backend}: expired"
        );
        // Inserting purges expired tickets.
        store.insert_signin_ticket(&ticket("d3", 0)).await.unwrap();
        store
            .insert_signin_ticket(&ticket("d4", 5000))
            .await
            .unwrap();
        assert!(
            store.take_signin_ticket("d3", 0).await.unwrap().is_none(),
            "{backend}"
        );
    }
}

fn console_session(id: &str, user: &str, created: i64) -> ConsoleSessionRecord {
    ConsoleSessionRecord {
        session_id: id.to_owned(),
        token_digest: format!("digest-{id}"),
        account_id: ACCT.to_owned(),
        user_id: user.to_owned(),
        mfa_present: true,
        source_ip: "192.0.2.1".to_owned(),
        user_agent: "tests".to_owned(),
        created_at_ms: created,
        expires_at_ms: created + 1000,
        revoked_at_ms: None,
    }
}

#[tokio::test]
async fn sessions_by_digest_listed_and_revoked() {
    for (backend, store) in common::stores("console_sessions").await {
        accounts(&store).await;
        for s in [
            console_session("s1", "u1", 0),
            console_session("s2", "u1", 10),
            console_session("s3", "u2", 20),
        ] {
            store.insert_console_session(&s).await.unwrap();
        }
        let found = store
            .find_console_session("digest-s2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, console_session("s2", "u1", 10), "{backend}");
        let ids = |list: Vec<ConsoleSessionRecord>| {
            list.into_iter().map(|s| s.session_id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(store.list_console_sessions(ACCT, None, 5).await.unwrap()),
            ["s3", "s2", "s1"]
        );
        assert_eq!(
            ids(store
                .list_console_sessions(ACCT, Some("u1"), 5)
                .await
                .unwrap()),
            ["s2", "s1"]
        );
        assert_eq!(
            ids(store.list_console_sessions(ACCT, None, 1000).await.unwrap()),
            ["s3", "s2"],
            "{backend}: expired s1 not listed"
        );
        assert!(
            store
                .list_console_sessions(OTHER, None, 5)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .revoke_console_sessions(OTHER, None, Some("s2"), 50)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .revoke_console_sessions(ACCT, None, Some("s2"), 50)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .revoke_console_sessions(ACCT, Some("u1"), None, 60)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            ids(store.list_console_sessions(ACCT, None, 5).await.unwrap()),
            ["s3"]
        );
        let revoked = store
            .find_console_session("digest-s2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(revoked.revoked_at_ms, Some(50), "{backend}");
        assert!(
            store
                .revoke_console_session_by_token("digest-s3", 70)
                .await
                .unwrap()
        );
        assert!(
            !store
                .revoke_console_session_by_token("digest-s3", 80)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn mfa_steps_only_move_forward_and_aliases_resolve() {
    for (backend, store) in common::stores("console_mfa").await {
        accounts(&store).await;
        store
            .insert_mfa_device(
                &MfaDeviceRecord {
                    account_id: ACCT.to_owned(),
                    device_name: "phone".to_owned(),
                    serial_number: format!("acs:ram::{ACCT}:mfa/phone"),
                    seed_ciphertext: vec![1, 2, 3],
                    created_at_ms: 1,
                    user_id: None,
                    activated_at_ms: None,
                    last_used_step: None,
                },
                10,
            )
            .await
            .unwrap();
        assert!(
            store.advance_mfa_step(ACCT, "phone", 100).await.unwrap(),
            "{backend}"
        );
        assert!(
            !store.advance_mfa_step(ACCT, "phone", 100).await.unwrap(),
            "replay"
        );
        assert!(!store.advance_mfa_step(ACCT, "phone", 99).await.unwrap());
        assert!(!store.advance_mfa_step(OTHER, "phone", 200).await.unwrap());
        assert!(store.advance_mfa_step(ACCT, "phone", 101).await.unwrap());

        store.set_account_alias(ACCT, "corp").await.unwrap();
        assert_eq!(
            store
                .find_account_by_alias("corp")
                .await
                .unwrap()
                .as_deref(),
            Some(ACCT)
        );
        assert!(store.find_account_by_alias("nope").await.unwrap().is_none());
    }
}
