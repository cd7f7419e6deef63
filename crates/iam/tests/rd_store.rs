//! Resource Directory storage conformance: the same assertions on SQLite and PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use cloudward_store::{
    AccountKind, AccountRecord, AttachOutcome, ControlPolicyAttachmentRecord, ControlPolicyRecord,
    DirectoryRecord, FolderRecord, MemberRecord, Store, StoreError,
};

const DOC: &str = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

async fn account(store: &Store, id: &str, kind: AccountKind) {
    store
        .insert_account(&AccountRecord {
            account_id: id.into(),
            display_name: id.into(),
            kind,
            created_at_ms: 1,
        })
        .await
        .unwrap();
}

fn policy(id: &str, name: &str, kind: &str) -> ControlPolicyRecord {
    ControlPolicyRecord {
        policy_id: id.into(),
        policy_name: name.into(),
        policy_type: kind.into(),
        description: String::new(),
        effect_scope: "RAM".into(),
        document: DOC.into(),
        created_at_ms: 1,
        updated_at_ms: 1,
    }
}

async fn directory(store: &Store, mgmt: &str, suffix: &str) -> String {
    let root = format!("r-{suffix}");
    store
        .rd_create_directory(
            &DirectoryRecord {
                management_account_id: mgmt.into(),
                directory_id: format!("rd-{suffix}"),
                root_folder_id: root.clone(),
                control_policy_enabled: false,
                created_at_ms: 1,
            },
            &FolderRecord {
                folder_id: root.clone(),
                parent_folder_id: None,
                folder_name: "Root".into(),
                depth: 0,
                created_at_ms: 1,
            },
            &[policy("cp-FullAliyunAccess", "FullAliyunAccess", "System")],
        )
        .await
        .unwrap();
    root
}

fn member(id: &str, folder: &str, name: &str) -> MemberRecord {
    MemberRecord {
        account_id: id.into(),
        folder_id: folder.into(),
        display_name: name.into(),
        account_name: format!("{name}@rd.aliyunid.com"),
        account_type: "ResourceAccount".into(),
        join_method: "created".into(),
        status: "CreateSuccess".into(),
        joined_at_ms: 2,
        modified_at_ms: 2,
    }
}

#[tokio::test]
async fn rd_store_conformance() {
    for (backend, store) in common::stores("rd_store").await {
        account(&store, "1000000000000001", AccountKind::Management).await;
        account(&store, "2000000000000002", AccountKind::Management).await;
        account(&store, "1000000000000011", AccountKind::Member).await;
        let root_a = directory(&store, "1000000000000001", "aaaaaa").await;
        let root_b = directory(&store, "2000000000000002", "bbbbbb").await;
        // One directory per management account.
        let again = store
            .rd_create_directory(
                &DirectoryRecord {
                    management_account_id: "1000000000000001".into(),
                    directory_id: "rd-other".into(),
                    root_folder_id: "r-other".into(),
                    control_policy_enabled: false,
                    created_at_ms: 1,
                },
                &FolderRecord {
                    folder_id: "r-other".into(),
                    parent_folder_id: None,
                    folder_name: "Root".into(),
                    depth: 0,
                    created_at_ms: 1,
                },
                &[],
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::AlreadyExists { .. })),
            "{backend}: {again:?}"
        );

        let a = "1000000000000001";
        let b = "2000000000000002";
        let fd = FolderRecord {
            folder_id: "fd-0000000001".into(),
            parent_folder_id: Some(root_a.clone()),
            folder_name: "apps".into(),
            depth: 1,
            created_at_ms: 3,
        };
        store.rd_insert_folder(a, &fd, None).await.unwrap();
        assert_eq!(
            store.rd_get_folder(a, &fd.folder_id).await.unwrap(),
            Some(fd.clone()),
            "{backend}"
        );
        // Scoped: directory B cannot see or change A's folder.
        assert_eq!(
            store.rd_get_folder(b, &fd.folder_id).await.unwrap(),
            None,
            "{backend}"
        );
        assert!(
            !store.rd_rename_folder(b, &fd.folder_id, "x").await.unwrap(),
            "{backend}"
        );
        assert!(
            !store.rd_delete_folder(b, &fd.folder_id).await.unwrap(),
            "{backend}"
        );
        assert_eq!(store.rd_count_folders(a).await.unwrap(), 1, "{backend}");
        assert_eq!(store.rd_count_folders(b).await.unwrap(), 0, "{backend}");
        assert_eq!(
            store.rd_list_child_folders(a, &root_a).await.unwrap().len(),
            1
        );
        assert!(
            store
                .rd_list_child_folders(b, &root_b)
                .await
                .unwrap()
                .is_empty()
        );
        // The Root folder cannot be deleted through the store either.
        assert!(
            !store.rd_delete_folder(a, &root_a).await.unwrap(),
            "{backend}"
        );

        let m = member("1000000000000011", &fd.folder_id, "m1");
        store.rd_insert_member(a, &m, None).await.unwrap();
        assert_eq!(
            store.rd_get_member(a, &m.account_id).await.unwrap(),
            Some(m.clone())
        );
        assert_eq!(
            store.rd_get_member(b, &m.account_id).await.unwrap(),
            None,
            "{backend}"
        );
        assert!(
            matches!(
                store.rd_insert_member(b, &m, None).await,
                Err(StoreError::AlreadyExists { .. })
            ),
            "{backend}: an account is in at most one directory"
        );
        assert_eq!(
            store
                .rd_list_members(a, Some(&fd.folder_id))
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(
            store
                .rd_list_members(a, Some(&root_a))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !store
                .rd_move_member(b, &m.account_id, &root_b, 5)
                .await
                .unwrap(),
            "{backend}"
        );
        assert!(
            store
                .rd_move_member(a, &m.account_id, &root_a, 5)
                .await
                .unwrap()
        );
        assert_eq!(
            store
                .rd_get_member(a, &m.account_id)
                .await
                .unwrap()
                .unwrap()
                .folder_id,
            root_a
        );

        // Policies and attachments.
        let p = policy("cp-custom000000001", "custom", "Custom");
        store.rd_insert_control_policy(a, &p).await.unwrap();
        store.rd_insert_control_policy(b, &p).await.unwrap(); // same id/name in another directory is fine
        assert!(
            matches!(
                store
                    .rd_insert_control_policy(a, &policy("cp-custom000000002", "custom", "Custom"))
                    .await,
                Err(StoreError::AlreadyExists { .. })
            ),
            "{backend}: names are unique in a directory"
        );
        assert_eq!(
            store
                .rd_list_control_policies(a, Some("System"))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.rd_list_control_policies(a, None).await.unwrap().len(),
            2
        );
        let attach = |target: &str, kind: &str| ControlPolicyAttachmentRecord {
            policy_id: p.policy_id.clone(),
            target_id: target.into(),
            target_type: kind.into(),
            attached_at_ms: 7,
        };
        assert_eq!(
            store
                .rd_attach_control_policy(a, &attach(&fd.folder_id, "Folder"), 1)
                .await
                .unwrap(),
            AttachOutcome::Attached
        );
        assert_eq!(
            store
                .rd_attach_control_policy(a, &attach(&fd.folder_id, "Folder"), 1)
                .await
                .unwrap(),
            AttachOutcome::AlreadyAttached
        );
        let other = ControlPolicyAttachmentRecord {
            policy_id: "cp-FullAliyunAccess".into(),
            ..attach(&fd.folder_id, "Folder")
        };
        assert_eq!(
            store.rd_attach_control_policy(a, &other, 1).await.unwrap(),
            AttachOutcome::LimitExceeded
        );
        assert_eq!(
            store
                .rd_count_control_policy_attachments(a, &p.policy_id)
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store
                .rd_count_control_policy_attachments(b, &p.policy_id)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .rd_delete_control_policy(a, &p.policy_id)
                .await
                .unwrap(),
            Some(false),
            "{backend}: attached"
        );
        assert_eq!(
            store
                .rd_delete_control_policy(b, &p.policy_id)
                .await
                .unwrap(),
            Some(true),
            "{backend}"
        );
        assert_eq!(
            store
                .rd_delete_control_policy(b, &p.policy_id)
                .await
                .unwrap(),
            None,
            "{backend}"
        );
        // Deleting the folder removes its attachments.
        assert!(store.rd_delete_folder(a, &fd.folder_id).await.unwrap());
        assert_eq!(
            store
                .rd_count_control_policy_attachments(a, &p.policy_id)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .rd_delete_control_policy(a, &p.policy_id)
                .await
                .unwrap(),
            Some(true)
        );

        // Feature switch: enabling attaches the system policy everywhere, disabling detaches all.
        assert!(
            store
                .rd_set_control_policy_enabled(a, true, "cp-FullAliyunAccess", 9)
                .await
                .unwrap()
        );
        let at_root = store.rd_attachments_for_target(a, &root_a).await.unwrap();
        assert_eq!(at_root.len(), 1, "{backend}");
        assert_eq!(at_root[0].0.policy_id, "cp-FullAliyunAccess");
        let targets = store
            .rd_targets_for_control_policy(a, "cp-FullAliyunAccess")
            .await
            .unwrap();
        let kinds: Vec<&str> = targets.iter().map(|t| t.target_type.as_str()).collect();
        assert_eq!(kinds.len(), 2, "{backend}: Root and the member");
        assert!(
            kinds.contains(&"Root") && kinds.contains(&"Account"),
            "{backend}: {kinds:?}"
        );
        assert!(
            store
                .rd_targets_for_control_policy(b, "cp-FullAliyunAccess")
                .await
                .unwrap()
                .is_empty()
        );
        let path = store
            .control_policy_path(&m.account_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(path.levels.len(), 2, "{backend}: account, Root");
        assert!(
            store.control_policy_path(b).await.unwrap().is_none(),
            "{backend}: B disabled"
        );
        assert!(
            store
                .rd_set_control_policy_enabled(a, false, "cp-FullAliyunAccess", 10)
                .await
                .unwrap()
        );
        assert!(
            store
                .rd_attachments_for_target(a, &root_a)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .control_policy_path(&m.account_id)
                .await
                .unwrap()
                .is_none()
        );

        // Removing a member.
        assert!(
            !store.rd_delete_member(b, &m.account_id).await.unwrap(),
            "{backend}"
        );
        assert!(store.rd_delete_member(a, &m.account_id).await.unwrap());
        assert_eq!(
            store
                .directory_management_account(&m.account_id)
                .await
                .unwrap(),
            None
        );
        assert_eq!(store.rd_count_members(a).await.unwrap(), 0);
        store.close().await;
    }
}
