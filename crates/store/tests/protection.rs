//! Credential-protection storage (last use, quarantine, notification outbox) on SQLite and
//! PostgreSQL, including the account scoping of every account-facing query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cloudward_store::{
    AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, AccountKind, AccountRecord, KeyUse,
    NotificationRecord, NotificationStatus, QuarantineRecord, Store,
};

async fn account(store: &Store, id: &str) {
    store
        .insert_account(&AccountRecord {
            account_id: id.into(),
            display_name: id.into(),
            kind: AccountKind::Member,
            created_at_ms: 1,
        })
        .await
        .unwrap();
}

fn key(id: &str, account_id: &str, owner: AccessKeyOwner) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.into(),
        account_id: account_id.into(),
        owner,
        secret_ciphertext: vec![9; 8],
        status: AccessKeyStatus::Active,
        created_at_ms: 10,
        last_used_at_ms: None,
    }
}

fn user(id: &str, name: &str) -> AccessKeyOwner {
    AccessKeyOwner::User {
        user_id: id.into(),
        user_name: name.into(),
    }
}

#[tokio::test]
async fn last_use_details_keep_the_newest() {
    for (backend, store) in common::stores("protect_last_use").await {
        account(&store, "100").await;
        store
            .insert_access_key(&key("LTAIkey1", "100", user("u1", "alice")))
            .await
            .unwrap();
        assert_eq!(
            store.access_key_last_use("100", "LTAIkey1").await.unwrap(),
            None
        );
        let newer = KeyUse {
            at_ms: 2_000,
            service: "Ram".into(),
            action: "ListUsers".into(),
            source_ip: "10.0.0.2".into(),
        };
        let older = KeyUse {
            at_ms: 1_000,
            service: "Sts".into(),
            action: "GetCallerIdentity".into(),
            source_ip: "10.0.0.1".into(),
        };
        store
            .record_access_key_use_detail("LTAIkey1", &newer)
            .await
            .unwrap();
        // A late background write of an older use must not overwrite the newer one.
        store
            .record_access_key_use_detail("LTAIkey1", &older)
            .await
            .unwrap();
        assert_eq!(
            store.access_key_last_use("100", "LTAIkey1").await.unwrap(),
            Some(newer.clone()),
            "{backend}"
        );
        assert_eq!(
            store
                .find_access_key("LTAIkey1")
                .await
                .unwrap()
                .unwrap()
                .last_used_at_ms,
            Some(2_000),
            "{backend}"
        );
        // Scoped by account.
        assert_eq!(
            store.access_key_last_use("999", "LTAIkey1").await.unwrap(),
            None,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn quarantine_is_scoped_and_replaceable() {
    for (backend, store) in common::stores("protect_quarantine").await {
        account(&store, "100").await;
        account(&store, "200").await;
        store
            .insert_access_key(&key("LTAIa", "100", user("u1", "alice")))
            .await
            .unwrap();
        let mut record = QuarantineRecord {
            access_key_id: "LTAIa".into(),
            account_id: "100".into(),
            reason: "found in repo".into(),
            source: "scanner".into(),
            quarantined_by: "acs:ram::100:root".into(),
            quarantined_at_ms: 5,
        };
        store.put_quarantine(&record).await.unwrap();
        record.reason = "found again".into();
        store.put_quarantine(&record).await.unwrap();
        assert_eq!(
            store.find_quarantine("LTAIa").await.unwrap(),
            Some(record.clone()),
            "{backend}"
        );
        assert_eq!(
            store.list_quarantines("100").await.unwrap(),
            vec![record.clone()]
        );
        assert!(store.list_quarantines("200").await.unwrap().is_empty());
        // Another account cannot lift it.
        assert!(
            !store.delete_quarantine("200", "LTAIa").await.unwrap(),
            "{backend}"
        );
        assert!(
            store.delete_quarantine("100", "LTAIa").await.unwrap(),
            "{backend}"
        );
        assert!(
            !store.delete_quarantine("100", "LTAIa").await.unwrap(),
            "{backend}"
        );
        assert_eq!(store.find_quarantine("LTAIa").await.unwrap(), None);
    }
}

#[tokio::test]
async fn notification_outbox_delivers_due_rows_only() {
    for (backend, store) in common::stores("protect_outbox").await {
        account(&store, "100").await;
        account(&store, "200").await;
        let mut first = NotificationRecord {
            notification_id: "n1".into(),
            account_id: "100".into(),
            kind: "AccessKeyQuarantined".into(),
            payload: "{}".into(),
            created_at_ms: 10,
            status: NotificationStatus::Pending,
            attempts: 0,
            next_attempt_at_ms: 10,
            delivered_at_ms: None,
            last_error: None,
        };
        let later = NotificationRecord {
            notification_id: "n2".into(),
            account_id: "200".into(),
            next_attempt_at_ms: 1_000,
            ..first.clone()
        };
        store.enqueue_notification(&first).await.unwrap();
        store.enqueue_notification(&later).await.unwrap();
        assert_eq!(
            store.due_notifications(500, 10).await.unwrap(),
            vec![first.clone()],
            "{backend}"
        );
        first.attempts = 1;
        first.status = NotificationStatus::Delivered;
        first.delivered_at_ms = Some(600);
        store.update_notification(&first).await.unwrap();
        assert_eq!(
            store.due_notifications(2_000, 10).await.unwrap(),
            vec![later.clone()],
            "{backend}"
        );
        assert_eq!(
            store.list_notifications("100", 10).await.unwrap(),
            vec![first]
        );
        assert_eq!(
            store.list_notifications("200", 10).await.unwrap(),
            vec![later]
        );
        assert_eq!(
            store.list_account_ids().await.unwrap(),
            vec!["100".to_owned(), "200".to_owned()]
        );
    }
}

#[tokio::test]
async fn user_keys_for_the_idle_sweep_exclude_root() {
    for (backend, store) in common::stores("protect_user_keys").await {
        account(&store, "100").await;
        account(&store, "200").await;
        for k in [
            key("LTAIroot", "100", AccessKeyOwner::Root),
            key("LTAIu1", "100", user("u1", "alice")),
            key("LTAIu2", "100", user("u2", "bob")),
            key("LTAIother", "200", user("u9", "zed")),
        ] {
            store.insert_access_key(&k).await.unwrap();
        }
        let mut ids: Vec<String> = store
            .list_user_access_keys_in_account("100")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.access_key_id)
            .collect();
        ids.sort();
        assert_eq!(ids, vec!["LTAIu1", "LTAIu2"], "{backend}");
    }
}
