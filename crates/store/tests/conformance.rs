//! Backend conformance: the same assertions on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use cloudward_store::{
    AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, AccountKind, AccountRecord, StoreError,
};

#[tokio::test]
async fn accounts_and_access_keys() {
    for (backend, store) in common::stores("accounts_keys").await {
        let account = AccountRecord {
            account_id: "1234567890123456".into(),
            display_name: "mgmt".into(),
            kind: AccountKind::Management,
            created_at_ms: 1,
        };
        store.insert_account(&account).await.unwrap();
        assert!(
            matches!(
                store.insert_account(&account).await,
                Err(StoreError::AlreadyExists { .. })
            ),
            "{backend}: duplicate account must conflict"
        );
        assert_eq!(
            store.get_account(&account.account_id).await.unwrap(),
            Some(account.clone()),
            "{backend}"
        );
        assert_eq!(store.get_account("0").await.unwrap(), None, "{backend}");

        let key = AccessKeyRecord {
            access_key_id: "LTAIabcdefghijklmnopqrst".into(),
            account_id: account.account_id.clone(),
            owner: AccessKeyOwner::Root,
            secret_ciphertext: vec![1, 2, 3, 0, 255],
            status: AccessKeyStatus::Active,
            created_at_ms: 5,
            last_used_at_ms: None,
        };
        store.insert_access_key(&key).await.unwrap();
        assert_eq!(
            store.find_access_key(&key.access_key_id).await.unwrap(),
            Some(key.clone()),
            "{backend}"
        );
        // Status changes are scoped by account: another account cannot touch the key.
        assert!(
            !store
                .set_access_key_status("999", &key.access_key_id, AccessKeyStatus::Inactive)
                .await
                .unwrap(),
            "{backend}"
        );
        assert!(
            store
                .set_access_key_status(
                    &account.account_id,
                    &key.access_key_id,
                    AccessKeyStatus::Inactive
                )
                .await
                .unwrap(),
            "{backend}"
        );
        let listed = store
            .list_access_keys(&account.account_id, &AccessKeyOwner::Root)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{backend}");
        assert_eq!(listed[0].status, AccessKeyStatus::Inactive, "{backend}");
        store
            .record_access_key_use(&key.access_key_id, 100)
            .await
            .unwrap();
        store
            .record_access_key_use(&key.access_key_id, 50)
            .await
            .unwrap();
        let found = store
            .find_access_key(&key.access_key_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            found.last_used_at_ms,
            Some(100),
            "{backend}: last use never moves backwards"
        );
        assert!(store.meta_set_if_absent("k", "v1").await.unwrap());
        assert!(!store.meta_set_if_absent("k", "v2").await.unwrap());
        assert_eq!(store.meta_get("k").await.unwrap().as_deref(), Some("v1"));
        store.close().await;
    }
}
