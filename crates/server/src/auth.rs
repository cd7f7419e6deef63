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
use cloudward_store::{AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, Store};

use crate::nonce::{NonceCache, NonceCheck};

/// Caches AccessKey rows (secret still encrypted) for a short time: authentication is the
/// hottest path and the rows change rarely.
#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Option<Arc<AccessKeyRecord>>)>>,
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
    ) -> Result<Option<Arc<AccessKeyRecord>>, ApiError> {
        if let Ok(map) = self.entries.read()
            && let Some((at, record)) = map.get(access_key_id)
            && at.elapsed() < self.ttl
        {
            return Ok(record.clone());
        }
        let record = store
            .find_access_key(access_key_id)
            .await
            .map_err(|err| {
                tracing::error!(error = %err, "access key lookup failed");
                internal_error()
            })?
            .map(Arc::new);
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

    /// Forgets a key so the next request re-reads it (after a status change).
    pub fn invalidate(&self, access_key_id: &str) {
        if let Ok(mut map) = self.entries.write() {
            map.remove(access_key_id);
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
}

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
        if request.security_token.is_some()
            || request.access_key_id.starts_with("STS.")
        {
            // STS sessions are issued by AssumeRole (identity service); until a token store
            // exists every token is unknown.
            return Err((ProtocolError::SecurityTokenMalformed.into(), partial));
        }
        let record = match self.cache.get(&self.store, &request.access_key_id).await {
            Ok(Some(record)) => record,
            Ok(None) => return Err((ProtocolError::AccessKeyNotFound.into(), partial)),
            Err(err) => return Err((err, partial)),
        };
        partial.account_id = Some(record.account_id.clone());
        let secret = self
            .secrets
            .open(&record.secret_ciphertext, record.access_key_id.as_bytes())
            .map_err(|err| {
                tracing::error!(access_key_id = %record.access_key_id, error = %err, "stored AccessKey secret does not decrypt");
                (internal_error(), partial.clone())
            })?;
        request
            .verify(&secret)
            .map_err(|err| (ApiError::from(err), partial.clone()))?;
        // Status is checked after the signature so that probing with a wrong secret cannot
        // tell an inactive key from an active one.
        if record.status == AccessKeyStatus::Inactive {
            return Err((ProtocolError::AccessKeyInactive.into(), partial));
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
        let kind = match &record.owner {
            AccessKeyOwner::Root => PrincipalKind::Root,
            AccessKeyOwner::User { user_id, user_name } => PrincipalKind::User {
                user_id: user_id.clone(),
                user_name: user_name.clone(),
            },
        };
        Ok(Authenticated::after_signature_verified(
            Principal {
                account_id: record.account_id.clone(),
                kind,
                access_key_id: record.access_key_id.clone(),
            },
            context,
        ))
    }
}

/// The generic 500: internals go to the log, never to the client.
pub fn internal_error() -> ApiError {
    ApiError::new(
        "InternalError",
        500,
        "The request processing has failed due to some unknown error.",
    )
}
