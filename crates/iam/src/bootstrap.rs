//! First start: create the organization's management account and its root AccessKey.

use cloudward_protocol::{
    AccessKeyKind, classify_access_key_id, new_access_key_id, new_access_key_secret,
};
use cloudward_service::{SecretBox, SecretBoxError, random_bytes};
use cloudward_store::{
    AccessKeyOwner, AccessKeyRecord, AccessKeyStatus, AccountKind, AccountRecord, Store, StoreError,
};
use thiserror::Error;
use zeroize::Zeroizing;

const MANAGEMENT_ACCOUNT_KEY: &str = "management_account_id";

/// Why bootstrap failed. Start-up stops on any of these (no silent fallback).
#[derive(Debug, Error)]
pub enum BootstrapError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Encryption or randomness failed.
    #[error(transparent)]
    Crypto(#[from] SecretBoxError),
    /// A supplied root AccessKey does not have a usable format.
    #[error(
        "CLOUDWARD_ROOT_ACCESS_KEY_ID must look like an AccessKeyId (LTAI followed by 12 or 20 letters or digits) and CLOUDWARD_ROOT_ACCESS_KEY_SECRET must be 16 to 64 printable characters"
    )]
    InvalidSuppliedKey,
    /// Only one of the id and the secret was supplied.
    #[error(
        "CLOUDWARD_ROOT_ACCESS_KEY_ID and CLOUDWARD_ROOT_ACCESS_KEY_SECRET must be given together"
    )]
    HalfSuppliedKey,
    /// The stored secrets do not decrypt under the configured root key.
    #[error(
        "the root key does not match this data directory: stored secrets do not decrypt (was the root key file or CLOUDWARD_ROOT_KEY changed?)"
    )]
    RootKeyMismatch,
    /// The management account id is recorded but its row is missing.
    #[error("the store names management account {0} but it does not exist")]
    MissingManagementAccount(String),
}

/// A root AccessKey supplied by the operator (for automation).
pub struct SuppliedRootKey {
    /// AccessKeyId.
    pub access_key_id: String,
    /// Secret.
    pub access_key_secret: Zeroizing<String>,
}

/// Result of [`ensure_management_account`].
pub struct Bootstrap {
    /// The management account id.
    pub account_id: String,
    /// A root key created now and not supplied by the operator: the secret is shown once
    /// by the caller and never again.
    pub generated_root_key: Option<(String, Zeroizing<String>)>,
}

/// Creates the management account and its root AccessKey if this is the first start.
/// Idempotent: on later starts it returns the existing account id. A supplied key that is
/// not yet stored is added to the existing root identity (rotation by restart).
pub async fn ensure_management_account(
    store: &Store,
    secrets: &SecretBox,
    supplied: Option<SuppliedRootKey>,
    now_ms: i64,
) -> Result<Bootstrap, BootstrapError> {
    if let Some(key) = &supplied {
        let secret_ok = (16..=64).contains(&key.access_key_secret.len())
            && key.access_key_secret.bytes().all(|b| b.is_ascii_graphic());
        if classify_access_key_id(&key.access_key_id) != AccessKeyKind::Permanent || !secret_ok {
            return Err(BootstrapError::InvalidSuppliedKey);
        }
    }
    let account_id = match store.meta_get(MANAGEMENT_ACCOUNT_KEY).await? {
        Some(id) => {
            if store.get_account(&id).await?.is_none() {
                return Err(BootstrapError::MissingManagementAccount(id));
            }
            id
        }
        None => {
            let candidate = new_account_id()?;
            store
                .insert_account(&AccountRecord {
                    account_id: candidate.clone(),
                    display_name: "management".to_owned(),
                    kind: AccountKind::Management,
                    created_at_ms: now_ms,
                })
                .await?;
            if store
                .meta_set_if_absent(MANAGEMENT_ACCOUNT_KEY, &candidate)
                .await?
            {
                tracing::info!(account_id = %candidate, "created the management account");
                candidate
            } else {
                // Another node bootstrapped concurrently; use its account.
                store
                    .meta_get(MANAGEMENT_ACCOUNT_KEY)
                    .await?
                    .ok_or_else(|| BootstrapError::MissingManagementAccount(candidate))?
            }
        }
    };

    let existing = store
        .list_access_keys(&account_id, &AccessKeyOwner::Root)
        .await?;
    // A wrong root key must stop start-up, not turn every later call into a 500.
    if let Some(first) = existing.first()
        && secrets
            .open(&first.secret_ciphertext, first.access_key_id.as_bytes())
            .is_err()
    {
        return Err(BootstrapError::RootKeyMismatch);
    }
    let mut generated_root_key = None;
    match supplied {
        Some(key)
            if !existing
                .iter()
                .any(|k| k.access_key_id == key.access_key_id) =>
        {
            store_root_key(
                store,
                secrets,
                &account_id,
                &key.access_key_id,
                &key.access_key_secret,
                now_ms,
            )
            .await?;
        }
        Some(_) => {}
        None if existing.is_empty() => {
            let id = new_access_key_id(&random_bytes::<16>()?);
            let secret = Zeroizing::new(new_access_key_secret(&random_bytes::<24>()?));
            store_root_key(store, secrets, &account_id, &id, &secret, now_ms).await?;
            generated_root_key = Some((id, secret));
        }
        None => {}
    }
    Ok(Bootstrap {
        account_id,
        generated_root_key,
    })
}

async fn store_root_key(
    store: &Store,
    secrets: &SecretBox,
    account_id: &str,
    access_key_id: &str,
    secret: &str,
    now_ms: i64,
) -> Result<(), BootstrapError> {
    let secret_ciphertext = secrets.seal(secret.as_bytes(), access_key_id.as_bytes())?;
    store
        .insert_access_key(&AccessKeyRecord {
            access_key_id: access_key_id.to_owned(),
            account_id: account_id.to_owned(),
            owner: AccessKeyOwner::Root,
            secret_ciphertext,
            status: AccessKeyStatus::Active,
            created_at_ms: now_ms,
            last_used_at_ms: None,
        })
        .await?;
    Ok(())
}

/// A new 16-digit account id (Alibaba Cloud's format), never starting with 0.
pub fn new_account_id() -> Result<String, SecretBoxError> {
    let bytes = random_bytes::<16>()?;
    let mut id = String::with_capacity(16);
    for (i, b) in bytes.iter().enumerate() {
        // 256 % 10 = 6: the slight bias toward 0-5 is irrelevant for an identifier.
        let digit = if i == 0 { 1 + b % 9 } else { b % 10 };
        id.push(char::from(b'0' + digit));
    }
    Ok(id)
}
