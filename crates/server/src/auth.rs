//! Authentication: from a parsed, signed request to an [`Authenticated`] principal.
//!
//! Order matters: the AccessKey is looked up, the signature verified, and only then the
//! clock and nonce checked, so an unauthenticated caller can neither learn about clock
//! state nor fill the nonce cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use cloudward_protocol::{ApiError, ProtocolError, SignedRequest};
use cloudward_service::{Authenticated, Principal, PrincipalKind, RequestContext, SecretBox};
use cloudward_store::{
    AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, KeyUse, Store, StsSessionRecord,
};
use subtle::ConstantTimeEq;

use crate::nonce::{NonceCache, NonceCheck};

/// Caches AccessKey rows (secret still encrypted) for a short time: authentication is the
/// hottest path and the rows change rarely.
#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, CachedCredential>>,
}

/// When a lookup was made, and what it found (`None`: no such AccessKeyId).
type CachedCredential = (Instant, Option<Arc<Credential>>);

/// A stored credential: a permanent AccessKey or an STS session.
#[derive(Debug)]
pub enum Credential {
    /// Permanent AccessKey of a root or RAM user.
    Key(AccessKeyRecord),
    /// Temporary credentials from AssumeRole.
    Session(StsSessionRecord),
}

impl CredentialCache {
    /// A cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    async fn get(
        &self,
        store: &Store,
        access_key_id: &str,
    ) -> Result<Option<Arc<Credential>>, ApiError> {
        if let Ok(map) = self.entries.read()
            && let Some((at, record)) = map.get(access_key_id)
            && at.elapsed() < self.ttl
        {
            return Ok(record.clone());
        }
        let lookup_failed = |err: cloudward_store::StoreError| {
            tracing::error!(error = %err, "credential lookup failed");
            ApiError::internal()
        };
        let record = if access_key_id.starts_with("STS.") {
            store
                .find_sts_session(access_key_id)
                .await
                .map_err(lookup_failed)?
                .map(|s| Arc::new(Credential::Session(s)))
        } else {
            store
                .find_access_key(access_key_id)
                .await
                .map_err(lookup_failed)?
                .map(|k| Arc::new(Credential::Key(k)))
        };
        if let Ok(mut map) = self.entries.write() {
            if map.len() > 100_000 {
                map.clear();
            }
            // Unknown ids are cached too (briefly), so a flood of made-up ids costs one
            // lookup each per TTL rather than one per request.
            map.insert(access_key_id.to_owned(), (Instant::now(), record.clone()));
        }
        Ok(record)
    }

    /// Forgets every cached credential, so the next request re-reads it. Called after any
    /// successful write: key status, deletions and user renames all change what is cached,
    /// and writes are rare next to authentications.
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.write() {
            map.clear();
        }
    }
}

/// Everything authentication needs.
#[derive(Debug)]
pub struct Authenticator {
    /// Store for key lookups.
    pub store: Store,
    /// Root-key box to decrypt secrets.
    pub secrets: SecretBox,
    /// Key cache.
    pub cache: CredentialCache,
    /// Replay cache.
    pub nonces: NonceCache,
    /// Accepted clock skew.
    pub window: Duration,
    /// When each permanent key's last use was last written to the store.
    pub last_use_written: std::sync::Mutex<HashMap<String, i64>>,
}

/// A key's last use is written at most this often (ms): `GetAccessKeyLastUsed` is precise
/// to about a second without a store write on every request.
const LAST_USE_RESOLUTION_MS: i64 = 1000;

/// Identity facts known after a failed authentication, for the audit event.
#[derive(Debug, Default, Clone)]
pub struct PartialIdentity {
    /// Account of the claimed key, if the key exists.
    pub account_id: Option<String>,
    /// Claimed AccessKeyId.
    pub access_key_id: Option<String>,
}

impl Authenticator {
    /// Verifies `request` and returns the caller, or the error to answer with.
    pub async fn authenticate(
        &self,
        request: &SignedRequest,
        context: RequestContext,
    ) -> Result<Authenticated, (ApiError, PartialIdentity)> {
        let mut partial = PartialIdentity {
            account_id: None,
            access_key_id: Some(request.access_key_id.clone()),
        };
        let credential = match self.cache.get(&self.store, &request.access_key_id).await {
            Ok(Some(credential)) => credential,
            // An expired session may already be purged: Alibaba answers NotFound then too.
            Ok(None) => return Err((ProtocolError::AccessKeyNotFound.into(), partial)),
            Err(err) => return Err((err, partial)),
        };
        let (account_id, sealed, aad) = match credential.as_ref() {
            Credential::Key(key) => (&key.account_id, &key.secret_ciphertext, &key.access_key_id),
            Credential::Session(s) => (&s.account_id, &s.secret_ciphertext, &s.access_key_id),
        };
        partial.account_id = Some(account_id.clone());
        // The token proves possession of the whole credential set; a permanent key must
        // not come with one (a client mixing credentials is misconfigured).
        match (credential.as_ref(), &request.security_token) {
            (Credential::Session(_), None) => {
                return Err((ProtocolError::SecurityTokenMalformed.into(), partial));
            }
            (Credential::Session(s), Some(token)) => {
                let digest = cloudward_iam::sts::token_digest(token);
                if !bool::from(digest.ct_eq(&s.token_digest)) {
                    return Err((ProtocolError::SecurityTokenMismatch.into(), partial));
                }
            }
            (Credential::Key(_), Some(_)) => {
                return Err((ProtocolError::SecurityTokenMismatch.into(), partial));
            }
            (Credential::Key(_), None) => {}
        }
        let secret = self.secrets.open(sealed, aad.as_bytes()).map_err(|err| {
            tracing::error!(access_key_id = %aad, error = %err, "stored secret does not decrypt");
            (ApiError::internal(), partial.clone())
        })?;
        request
            .verify(&secret)
            .map_err(|err| (ApiError::from(err), partial.clone()))?;
        // Status and expiry are checked after the signature so that probing with a wrong
        // secret cannot tell an inactive or expired credential from a good one.
        let received_ms = i64::try_from(
            (context.received_at - time::OffsetDateTime::UNIX_EPOCH).whole_milliseconds(),
        )
        .unwrap_or(i64::MAX);
        match credential.as_ref() {
            Credential::Key(key) if key.status == AccessKeyStatus::Inactive => {
                return Err((ProtocolError::AccessKeyInactive.into(), partial));
            }
            Credential::Session(s) if s.expires_at_ms <= received_ms => {
                return Err((ProtocolError::SecurityTokenExpired.into(), partial));
            }
            _ => {}
        }
        let window = time::Duration::try_from(self.window).unwrap_or(time::Duration::minutes(15));
        request
            .check_clock(context.received_at, window)
            .map_err(|err| (ApiError::from(err), partial.clone()))?;
        match self.nonces.check_and_insert(
            &request.access_key_id,
            &request.nonce,
            request.timestamp,
            window,
            context.received_at,
        ) {
            NonceCheck::Fresh => {}
            NonceCheck::Replayed => {
                return Err((ProtocolError::SignatureNonceUsed.into(), partial));
            }
            NonceCheck::Full => {
                return Err((
                    ApiError::new(
                        "Throttling",
                        503,
                        "Request was denied due to request throttling: too many recent requests to check for replay.",
                    ),
                    partial,
                ));
            }
        }
        if matches!(credential.as_ref(), Credential::Key(_)) {
            self.note_key_use(&request.access_key_id, received_ms, || KeyUse {
                at_ms: received_ms,
                service: cloudward_protocol::product_for_version(&request.version)
                    .unwrap_or("")
                    .to_owned(),
                action: request.action.chars().take(128).collect(),
                source_ip: context.source_ip.to_string(),
            });
        }
        let mut context = context;
        let kind = match credential.as_ref() {
            Credential::Key(key) => match &key.owner {
                AccessKeyOwner::Root => PrincipalKind::Root,
                AccessKeyOwner::User { user_id, user_name } => PrincipalKind::User {
                    user_id: user_id.clone(),
                    user_name: user_name.clone(),
                },
            },
            Credential::Session(s) => {
                context.mfa_present = s.mfa_present;
                PrincipalKind::AssumedRole {
                    role_id: s.role_id.clone(),
                    role_name: s.role_name.clone(),
                    session_name: s.session_name.clone(),
                }
            }
        };
        Ok(Authenticated::after_signature_verified(
            Principal {
                account_id: account_id.clone(),
                kind,
                access_key_id: request.access_key_id.clone(),
            },
            context,
        ))
    }
}

impl Authenticator {
    /// Records that a permanent key authenticated a request at `at_ms`, writing to the
    /// store in the background at most once per key per [`LAST_USE_RESOLUTION_MS`].
    /// `used` builds the record only when it is due (it allocates; most requests skip it).
    fn note_key_use(&self, access_key_id: &str, at_ms: i64, used: impl FnOnce() -> KeyUse) {
        let due = match self.last_use_written.lock() {
            Ok(mut map) => {
                let last = map.get(access_key_id).copied().unwrap_or(i64::MIN);
                if at_ms.saturating_sub(last) >= LAST_USE_RESOLUTION_MS {
                    if map.len() > 100_000 {
                        map.clear();
                    }
                    map.insert(access_key_id.to_owned(), at_ms);
                    true
                } else {
                    false
                }
            }
            Err(_) => false,
        };
        if due {
            let used = used();
            let store = self.store.clone();
            let id = access_key_id.to_owned();
            tokio::spawn(async move {
                if let Err(err) = store.record_access_key_use_detail(&id, &used).await {
                    tracing::warn!(error = %err, "could not record AccessKey last use");
                }
            });
        }
    }
}
