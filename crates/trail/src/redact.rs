//! Redaction of secrets in audit events.
//!
//! Before an event gets canonical bytes (and so before it can be hashed, stored or
//! exported) every value whose key names a secret is replaced by [`REDACTED`], in
//! `requestParameters`, `responseElements` and `additionalEventData`, at any depth
//! (nested objects and arrays included). The value is replaced whatever its type, so
//! not even its length or shape leaks.
//!
//! Which keys are secret: [`GLOBAL_SECRET_FIELDS`] always, plus
//! [`secret_fields`]`(serviceName, eventName)` from [`SECRET_FIELD_REGISTRY`]. Keys
//! match ASCII-case-insensitively (ActionTrail writes `AccessKeySecret` in requests but
//! `accessKeySecret` in responses), and a flattened RPC key such as
//! `Credentials.AccessKeySecret` matches on its last dot-separated segment.

use serde_json::{Map, Value};

use crate::event::ActionTrailEvent;

/// The marker that replaces a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// Field names redacted in every event, whatever the action.
pub const GLOBAL_SECRET_FIELDS: &[&str] = &[
    "AccessKeySecret",
    "SecurityToken",
    "Password",
    "NewPassword",
    "OldPassword",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "PrivateKey",
    "Plaintext",
    "ClientSecret",
    // The request signature is replayable inside the timestamp window.
    "Signature",
];

/// Per-action secret fields: `(serviceName, eventName, fields)`. Service and action
/// match ASCII-case-insensitively. Fields already in [`GLOBAL_SECRET_FIELDS`] are
/// repeated here where the action is known to carry them, so this table documents
/// what each action exposes.
pub const SECRET_FIELD_REGISTRY: &[(&str, &str, &[&str])] = &[
    ("Ram", "CreateLoginProfile", &["Password"]),
    ("Ram", "UpdateLoginProfile", &["Password"]),
    ("Ram", "ChangePassword", &["OldPassword", "NewPassword"]),
    ("Ram", "CreateAccessKey", &["AccessKeySecret"]),
    (
        "Ram",
        "BindMFADevice",
        &["AuthenticationCode1", "AuthenticationCode2"],
    ),
    (
        "Ram",
        "CreateVirtualMFADevice",
        &["Base32StringSeed", "QRCodePNG"],
    ),
    // Console sign-in (Cloudward builds these events without the step's inputs; listed so
    // that a future field carrying one is redacted anyway).
    (
        "AasSub",
        "ConsoleSignin",
        &[
            "Password",
            "NewPassword",
            "AuthenticationCode",
            "AuthenticationCode1",
            "AuthenticationCode2",
            "Ticket",
            "SessionToken",
            "CsrfToken",
            "Base32StringSeed",
            "OTPAuthURI",
        ],
    ),
    ("Ims", "CreateLoginProfile", &["Password"]),
    ("Ims", "UpdateLoginProfile", &["Password"]),
    ("Ims", "ChangePassword", &["OldPassword", "NewPassword"]),
    ("Ims", "CreateAccessKey", &["AccessKeySecret"]),
    (
        "Ims",
        "BindMFADevice",
        &["AuthenticationCode1", "AuthenticationCode2"],
    ),
    (
        "Ims",
        "CreateVirtualMFADevice",
        &["Base32StringSeed", "QRCodePNG"],
    ),
    ("Sts", "AssumeRole", &["AccessKeySecret", "SecurityToken"]),
    (
        "Sts",
        "AssumeRoleWithSAML",
        &["SAMLAssertion", "AccessKeySecret", "SecurityToken"],
    ),
    (
        "Sts",
        "AssumeRoleWithOIDC",
        &["OIDCToken", "AccessKeySecret", "SecurityToken"],
    ),
    ("Kms", "Encrypt", &["Plaintext"]),
    ("Kms", "Decrypt", &["Plaintext"]),
    ("Kms", "GenerateDataKey", &["Plaintext"]),
    ("Kms", "AsymmetricDecrypt", &["Plaintext"]),
    ("Kms", "ImportKeyMaterial", &["EncryptedKeyMaterial"]),
    ("Kms", "CreateSecret", &["SecretData"]),
    ("Kms", "PutSecretValue", &["SecretData"]),
    ("Kms", "GetSecretValue", &["SecretData"]),
];

/// Secret field names declared for one action (empty when none are declared).
/// [`GLOBAL_SECRET_FIELDS`] apply in addition.
#[must_use]
pub fn secret_fields(service: &str, action: &str) -> &'static [&'static str] {
    SECRET_FIELD_REGISTRY
        .iter()
        .find(|(s, a, _)| s.eq_ignore_ascii_case(service) && a.eq_ignore_ascii_case(action))
        .map_or(&[], |(_, _, fields)| fields)
}

/// Redacts an event in place with the default registry plus `extra` field names.
pub fn redact_event(event: &mut ActionTrailEvent, extra: &[&str]) {
    let action = secret_fields(&event.service_name, &event.event_name);
    let is_secret = |key: &str| {
        // `Credentials.AccessKeySecret` (flattened RPC form) matches `AccessKeySecret`.
        let last = key.rsplit('.').next().unwrap_or(key);
        [GLOBAL_SECRET_FIELDS, action, extra]
            .iter()
            .flat_map(|list| list.iter())
            .any(|f| f.eq_ignore_ascii_case(key) || f.eq_ignore_ascii_case(last))
    };
    redact_map(&mut event.request_parameters, &is_secret);
    if let Some(v) = event.response_elements.as_mut() {
        redact_value(v, &is_secret);
    }
    if let Some(m) = event.additional_event_data.as_mut() {
        redact_map(m, &is_secret);
    }
}

/// Replaces, at any depth, every value whose key satisfies `is_secret`.
pub fn redact_value(value: &mut Value, is_secret: &dyn Fn(&str) -> bool) {
    match value {
        Value::Object(m) => redact_map(m, is_secret),
        Value::Array(items) => {
            for item in items {
                redact_value(item, is_secret);
            }
        }
        _ => {}
    }
}

fn redact_map(map: &mut Map<String, Value>, is_secret: &dyn Fn(&str) -> bool) {
    for (key, value) in map.iter_mut() {
        if is_secret(key) {
            *value = Value::String(REDACTED.to_owned());
        } else {
            redact_value(value, is_secret);
        }
    }
}
