//! The `ResourceDirectoryAccountAccessRole` created in every new member account: trusts the
//! management account (`acs:ram::<management account>:root`) and carries
//! `AdministratorAccess`, so the management account can operate the member through STS
//! `AssumeRole` (see `docs/resource-directory.md`).

use cloudward_protocol::ApiError;
use cloudward_store::{RoleRecord, Store, StoreError};
use serde_json::json;

use super::{ACCESS_ROLE_NAME, store_err};
use crate::util;

/// The system policy attached to the access role.
pub const ACCESS_ROLE_POLICY: &str = "AdministratorAccess";

/// The access role's trust policy: the management account (its root, and the RAM
/// identities it authorizes to call `sts:AssumeRole`) may assume the role.
pub fn trust_policy(management_account_id: &str) -> String {
    json!({
        "Statement": [{
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": { "RAM": [format!("acs:ram::{management_account_id}:root")] },
        }],
        "Version": "1",
    })
    .to_string()
}

/// Creates the access role in `member_account_id` and attaches `AdministratorAccess`.
/// Idempotent: an existing role of that name is kept (its trust policy is not rewritten).
pub(crate) async fn provision(
    store: &Store,
    management_account_id: &str,
    member_account_id: &str,
    now_ms: i64,
) -> Result<(), ApiError> {
    let role = RoleRecord {
        account_id: member_account_id.to_owned(),
        role_id: util::new_numeric_id()?,
        role_name: ACCESS_ROLE_NAME.to_owned(),
        arn: format!(
            "acs:ram::{member_account_id}:role/{}",
            ACCESS_ROLE_NAME.to_lowercase()
        ),
        description: "Resource Directory access role: lets the management account operate this member account.".to_owned(),
        assume_role_policy_document: trust_policy(management_account_id),
        max_session_duration: 3600,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    match store.insert_role(&role).await {
        Ok(()) | Err(StoreError::AlreadyExists { .. }) => {}
        Err(e) => return Err(store_err(e)),
    }
    store
        .attach_policy_to_role(
            member_account_id,
            ACCESS_ROLE_NAME,
            "System",
            ACCESS_ROLE_POLICY,
            now_ms,
        )
        .await
        .map_err(store_err)
}
