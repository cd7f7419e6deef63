//! STS `2015-04-01`.

use cloudward_service::{
    Access, ActionSpec, Call, HandlerFuture, PrincipalKind, ReadWrite,
};
use serde_json::json;

/// STS API version.
pub const VERSION: &str = "2015-04-01";

/// The STS actions.
pub const ACTIONS: &[ActionSpec] = &[ActionSpec {
    product: "Sts",
    event_source: "sts.aliyuncs.com",
    version: VERSION,
    name: "GetCallerIdentity",
    ram_action: "sts:GetCallerIdentity",
    rw: ReadWrite::Read,
    // Alibaba Cloud answers GetCallerIdentity for every valid credential, with no policy.
    access: Access::AnyAuthenticatedCaller,
    secret_fields: &[],
    handler: get_caller_identity,
}];

fn get_caller_identity(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let principal = call.auth.principal();
        let mut body = json!({
            "AccountId": principal.account_id,
            "Arn": principal.arn(),
            "PrincipalId": principal.principal_id(),
        });
        let identity_type = match &principal.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User { user_id, .. } => {
                body["UserId"] = json!(user_id);
                "RAMUser"
            }
            PrincipalKind::AssumedRole { role_id, .. } => {
                body["RoleId"] = json!(role_id);
                "AssumedRoleUser"
            }
        };
        body["IdentityType"] = json!(identity_type);
        Ok(body)
    })
}
