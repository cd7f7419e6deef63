//! The `ResourceDirectoryAccountAccessRole` created in every new member account: trusts the
//! management account (`acs:ram::<management account>:root`) and carries
//! `AdministratorAccess`, so the management account can operate the member through STS
//! `AssumeRole`.

use cloudward_protocol::ApiError;
use cloudward_store::Store;
use serde_json::json;

use super::ACCESS_ROLE_NAME;

/// The access role's trust policy: the management account (its root and every RAM
/// identity it authorizes) may assume the role.
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

/// Creates the access role in `member_account_id`.
pub(crate) async fn provision(
    _store: &Store,
    management_account_id: &str,
    member_account_id: &str,
    _now_ms: i64,
) -> Result<(), ApiError> {
    // Wired to the RAM store (`insert_role`, `attach_policy_to_role`) once it lands.
    tracing::debug!(
        role = ACCESS_ROLE_NAME,
        member = member_account_id,
        trust = %trust_policy(management_account_id),
        "access role pending RAM store"
    );
    Ok(())
}
