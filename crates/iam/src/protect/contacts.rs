//! Security contacts and notifications.
//!
//! Notifications go through an outbox in the store: a handler queues one in the same call
//! that changed something (a quarantine, an automatic disabling), and a background
//! deliverer POSTs it to the account's webhook with retries, so a contact that is down
//! for a while loses nothing. Each delivery is signed with the account's webhook secret
//! (HMAC-SHA256 over `<unix seconds>.<body>`) so the receiver can check origin and
//! freshness.

use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use cloudward_protocol::ApiError;
use cloudward_service::{Call, HandlerFuture, SecretBox, random_bytes};
use cloudward_store::{NotificationRecord, NotificationStatus, Store};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::util::{self, invalid, optional, optional_int};

/// RAM setting that holds the contacts.
const SECURITY_CONTACTS: &str = "security_contacts";

/// Delivery attempts before a notification is marked `Failed`.
pub const MAX_ATTEMPTS: i64 = 8;

/// The account's contacts.
#[derive(Clone, Default)]
pub struct SecurityContacts {
    /// `http(s)://…` endpoint that receives notifications as JSON POSTs.
    pub webhook_url: Option<String>,
    /// Signing secret, sealed under the root key (base64 of the sealed bytes).
    sealed_secret: Option<String>,
}

impl std::fmt::Debug for SecurityContacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityContacts")
            .field("webhook_url", &self.webhook_url)
            .field("has_secret", &self.sealed_secret.is_some())
            .finish()
    }
}

fn secret_context(account_id: &str) -> String {
    format!("security_contacts:{account_id}")
}

fn corrupt() -> ApiError {
    util::store_error(cloudward_store::StoreError::Corrupt {
        what: "ram_account_settings.security_contacts",
    })
}

/// Reads the account's contacts.
pub async fn load_contacts(store: &Store, account_id: &str) -> Result<SecurityContacts, ApiError> {
    let Some(text) = store
        .get_ram_setting(account_id, SECURITY_CONTACTS)
        .await
        .map_err(util::store_error)?
    else {
        return Ok(SecurityContacts::default());
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| corrupt())?;
    Ok(SecurityContacts {
        webhook_url: value
            .get("WebhookUrl")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        sealed_secret: value
            .get("SealedWebhookSecret")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

impl SecurityContacts {
    /// The webhook signing secret in clear, if one is set.
    pub fn webhook_secret(
        &self,
        secrets: &SecretBox,
        account_id: &str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, ApiError> {
        let Some(sealed) = &self.sealed_secret else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| corrupt())?;
        secrets
            .open(&bytes, secret_context(account_id).as_bytes())
            .map(Some)
            .map_err(|_| corrupt())
    }
}

fn check_webhook_url(url: &str) -> Result<(), ApiError> {
    let ok = url.len() <= 2048
        && (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "http://".len()
        && !url
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "InvalidParameter.WebhookUrl",
            "WebhookUrl must be an http:// or https:// URL of at most 2048 characters.",
        ))
    }
}

/// `SetSecurityContacts`: `WebhookUrl` (empty to remove) and optional `WebhookSecret`
/// (16–256 characters; kept encrypted, never returned). Without a secret, one is generated
/// and returned once.
pub(super) fn set_security_contacts(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let account_id = call.auth.principal().account_id.as_str();
        let url = optional(call.params, "WebhookUrl").unwrap_or("");
        if url.is_empty() {
            call.state
                .store
                .put_ram_setting(
                    account_id,
                    SECURITY_CONTACTS,
                    "{}",
                    util::now_ms(call.state),
                )
                .await
                .map_err(util::store_error)?;
            return Ok(json!({ "SecurityContacts": { "WebhookUrl": "" } }));
        }
        check_webhook_url(url)?;
        let (secret, generated) = match optional(call.params, "WebhookSecret") {
            Some(given) => {
                if !(16..=256).contains(&given.len()) {
                    return Err(invalid(
                        "InvalidParameter.WebhookSecret",
                        "WebhookSecret must be 16 to 256 characters.",
                    ));
                }
                (Zeroizing::new(given.to_owned()), false)
            }
            None => {
                let bytes = random_bytes::<32>().map_err(|_| ApiError::internal())?;
                (
                    Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)),
                    true,
                )
            }
        };
        let sealed = call
            .state
            .secrets
            .seal(secret.as_bytes(), secret_context(account_id).as_bytes())
            .map_err(|_| ApiError::internal())?;
        let stored = json!({
            "WebhookUrl": url,
            "SealedWebhookSecret": base64::engine::general_purpose::STANDARD.encode(sealed),
        })
        .to_string();
        call.state
            .store
            .put_ram_setting(
                account_id,
                SECURITY_CONTACTS,
                &stored,
                util::now_ms(call.state),
            )
            .await
            .map_err(util::store_error)?;
        let mut contacts = json!({ "WebhookUrl": url, "WebhookSecretSet": true });
        if generated && let Some(obj) = contacts.as_object_mut() {
            obj.insert("WebhookSecret".to_owned(), json!(secret.as_str()));
        }
        Ok(json!({ "SecurityContacts": contacts }))
    })
}

/// `GetSecurityContacts` (never returns the secret).
pub(super) fn get_security_contacts(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let contacts = load_contacts(&call.state.store, &call.auth.principal().account_id).await?;
        Ok(json!({
            "SecurityContacts": {
                "WebhookUrl": contacts.webhook_url.unwrap_or_default(),
                "WebhookSecretSet": contacts.sealed_secret.is_some(),
            }
        }))
    })
}

fn notification_json(n: &NotificationRecord) -> Value {
    let mut item = json!({
        "NotificationId": n.notification_id,
        "Event": n.kind,
        "Status": n.status.as_str(),
        "Attempts": n.attempts,
        "CreateDate": util::iso8601(n.created_at_ms),
        "Payload": serde_json::from_str::<Value>(&n.payload).unwrap_or(Value::Null),
    });
    if let Some(obj) = item.as_object_mut() {
        if let Some(at) = n.delivered_at_ms {
            obj.insert("DeliveredDate".to_owned(), json!(util::iso8601(at)));
        }
        if let Some(err) = &n.last_error {
            obj.insert("LastError".to_owned(), json!(err));
        }
    }
    item
}

/// `ListSecurityNotifications`: the most recent notifications (`MaxItems`, 1–1000, default
/// 100) with their delivery state.
pub(super) fn list_security_notifications(call: Call<'_>) -> HandlerFuture<'_> {
    Box::pin(async move {
        let limit = optional_int(
            call.params,
            "MaxItems",
            1,
            1000,
            "InvalidParameter.MaxItems",
        )?
        .unwrap_or(100);
        let list = call
            .state
            .store
            .list_notifications(&call.auth.principal().account_id, limit)
            .await
            .map_err(util::store_error)?;
        let items: Vec<Value> = list.iter().map(notification_json).collect();
        Ok(json!({ "Notifications": { "Notification": items } }))
    })
}

/// Queues a notification about something the current call did.
pub(super) async fn queue_notification(
    call: &Call<'_>,
    kind: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let principal = call.auth.principal();
    enqueue(
        &call.state.store,
        &principal.account_id,
        kind,
        detail,
        Some(&call.auth.context().request_id),
        util::now_ms(call.state),
    )
    .await
}

/// Queues a notification for `account_id`'s contacts.
pub async fn enqueue(
    store: &Store,
    account_id: &str,
    kind: &str,
    detail: Value,
    request_id: Option<&str>,
    now_ms: i64,
) -> Result<(), ApiError> {
    let id = uuid_like()?;
    let payload = json!({
        "NotificationId": id,
        "Event": kind,
        "AccountId": account_id,
        "Time": util::iso8601(now_ms),
        "RequestId": request_id.unwrap_or(""),
        "Detail": detail,
    });
    store
        .enqueue_notification(&NotificationRecord {
            notification_id: id,
            account_id: account_id.to_owned(),
            kind: kind.to_owned(),
            payload: payload.to_string(),
            created_at_ms: now_ms,
            status: NotificationStatus::Pending,
            attempts: 0,
            next_attempt_at_ms: now_ms,
            delivered_at_ms: None,
            last_error: None,
        })
        .await
        .map_err(util::store_error)
}

fn uuid_like() -> Result<String, ApiError> {
    let b = random_bytes::<16>().map_err(|_| ApiError::internal())?;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(hex)
}

/// `X-Cloudward-Signature` value for `body` sent at `unix_seconds`:
/// `t=<seconds>,v1=<hex HMAC-SHA256(secret, "<seconds>.<body>")>`.
pub fn signature_header(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|x| format!("{x:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// One webhook POST. Implemented by the server with a real HTTP client.
pub trait WebhookSender: Send + Sync {
    /// POSTs `body` with the given headers; `Ok` for a 2xx answer, otherwise a short
    /// description (status line or error kind; never the body or the secret).
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Delay before attempt `attempts + 1`: 5 s doubling, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    5_000_i64.saturating_mul(1_i64 << exponent).min(3_600_000)
}

/// Delivers every due notification once; returns how many were delivered.
pub async fn deliver_due(
    store: &Store,
    secrets: &SecretBox,
    sender: &dyn WebhookSender,
    now_ms: i64,
) -> Result<usize, ApiError> {
    let due = store
        .due_notifications(now_ms, 100)
        .await
        .map_err(util::store_error)?;
    let mut delivered = 0;
    for mut notification in due {
        let contacts = load_contacts(store, &notification.account_id).await?;
        let Some(url) = contacts.webhook_url.clone() else {
            notification.status = NotificationStatus::NoContact;
            notification.last_error = Some("no webhook configured".to_owned());
            store
                .update_notification(&notification)
                .await
                .map_err(util::store_error)?;
            continue;
        };
        let secret = contacts.webhook_secret(secrets, &notification.account_id)?;
        let body = notification.payload.clone().into_bytes();
        let mut headers = vec![
            ("content-type", "application/json".to_owned()),
            ("x-cloudward-event", notification.kind.clone()),
            ("x-cloudward-delivery", notification.notification_id.clone()),
        ];
        if let Some(secret) = &secret {
            headers.push((
                "x-cloudward-signature",
                signature_header(secret, now_ms.div_euclid(1000), &body),
            ));
        }
        notification.attempts += 1;
        match sender.post(&url, headers, body).await {
            Ok(()) => {
                notification.status = NotificationStatus::Delivered;
                notification.delivered_at_ms = Some(now_ms);
                notification.last_error = None;
                delivered += 1;
            }
            Err(why) => {
                notification.last_error = Some(why.chars().take(200).collect());
                if notification.attempts >= MAX_ATTEMPTS {
                    notification.status = NotificationStatus::Failed;
                } else {
                    notification.next_attempt_at_ms =
                        now_ms.saturating_add(backoff_ms(notification.attempts));
                }
            }
        }
        store
            .update_notification(&notification)
            .await
            .map_err(util::store_error)?;
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_time_and_body() {
        // HMAC-SHA256("key", "1700000000.{}") computed independently with Python's hmac.
        let header = signature_header(b"key", 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(header, signature_header(b"key", 1_700_000_001, b"{}"));
        assert_ne!(header, signature_header(b"kez", 1_700_000_000, b"{}"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(0), 5_000);
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(30), 3_600_000);
        assert_eq!(backoff_ms(-3), 5_000);
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert!(check_webhook_url("https://hooks.example.com/x").is_ok());
        assert!(check_webhook_url("ftp://x").is_err());
        assert!(check_webhook_url("https://a b").is_err());
        assert!(check_webhook_url("http://").is_err());
    }
}
