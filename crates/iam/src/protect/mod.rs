//! Credential protection (Cloudward extensions in RAM's RPC style, version `2015-05-01`,
//! RAM action namespace `ram:`): AccessKey leak quarantine, idle-credential disabling and
//! the security contacts that are told about both. See `docs/credential-protection.md`.

#![allow(clippy::result_large_err)]

pub mod contacts;
pub mod idle;
pub mod quarantine;

use cloudward_protocol::ApiError;
use cloudward_service::{Access, ActionSpec, Params, Principal, ReadWrite};

use crate::ram::{EVENT_SOURCE, PRODUCT, VERSION};
use crate::util;

/// Secret fields of these actions (redacted in audit events).
const SECRETS: &[&str] = &["WebhookSecret"];

macro_rules! action {
    ($name:literal, $rw:ident, $handler:path) => {
        ActionSpec {
            product: PRODUCT,
            event_source: EVENT_SOURCE,
            version: VERSION,
            name: $name,
            ram_action: concat!("ram:", $name),
            rw: ReadWrite::$rw,
            access: Access::Policy {
                resource: res_account,
            },
            secret_fields: SECRETS,
            handler: $handler,
        }
    };
}

/// `acs:ram::<account>:*`: these actions act on the account's credentials as a whole.
fn res_account(_: &Params, p: &Principal) -> Result<String, ApiError> {
    Ok(util::ram_arn(p, "*"))
}

/// The credential-protection actions.
pub const ACTIONS: &[ActionSpec] = &[
    action!(
        "QuarantineAccessKey",
        Write,
        quarantine::quarantine_access_key
    ),
    action!(
        "LiftAccessKeyQuarantine",
        Write,
        quarantine::lift_access_key_quarantine
    ),
    action!(
        "ListQuarantinedAccessKeys",
        Read,
        quarantine::list_quarantined_access_keys
    ),
    action!(
        "GetAccessKeyQuarantinePolicy",
        Read,
        quarantine::get_access_key_quarantine_policy
    ),
    action!(
        "SetAccessKeyQuarantinePolicy",
        Write,
        quarantine::set_access_key_quarantine_policy
    ),
    action!(
        "GetIdleCredentialReport",
        Read,
        idle::get_idle_credential_report
    ),
    action!(
        "DisableIdleCredentials",
        Write,
        idle::disable_idle_credentials
    ),
    action!(
        "SetSecurityContacts",
        Write,
        contacts::set_security_contacts
    ),
    action!("GetSecurityContacts", Read, contacts::get_security_contacts),
    action!(
        "ListSecurityNotifications",
        Read,
        contacts::list_security_notifications
    ),
];
